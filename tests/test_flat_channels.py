"""The flat picture of a convolution with channels: rows per input map, the Σ line, the
output maps; its numbers against the trace, its refusals, its golden frames."""


import numpy as np
import pytest

import convanim as ca
from convanim.api import layout
from convanim.cli import main
from convanim.flat_channels import MAX_FILTERS, MAX_MAPS, ChannelFlatLayout
from convanim.scene import Text
from convanim.text import ELLIPSIS, MINUS, SIGMA, TIMES, NumberFormat, fmt_num

from golden import check_frame

SPEC = ca.conv2d(4, 3, in_channels=2, out_channels=2, bias=True)


def texts(t, step, **look):
    """The Text ops of frame ``step`` of the flat scene of ``t``."""
    sc = ca.scene(t, style="flat", **look)
    return [op for op in sc.frame(step).texts if isinstance(op, Text)]


def num(s: str) -> float:
    return float(s.replace(MINUS, "-"))


@pytest.mark.parametrize("n", [0, -1], ids=["first", "last"])
def test_golden_channel_frames(n, regen_golden):
    frames = ca.render(ca.trace_of(SPEC), style="flat")
    check_frame(f"flat_conv_i4_k3_cin2_cout2_bias_{'first' if n == 0 else 'last'}", frames[n],
                regen_golden)


@pytest.mark.parametrize("spec", [
    SPEC,
    ca.conv2d(5, 3, 1, 1, in_channels=3, out_channels=2, bias=True),
    ca.conv2d(6, 3, 2, 0, in_channels=4, out_channels=4, groups=2, bias=True),
    ca.conv2d(5, 3, 1, 0, in_channels=3, out_channels=3, groups=3),  # depthwise, no bias
], ids=lambda s: s.short_name())
def test_every_sum_drawn_is_the_trace(spec):
    t = ca.trace_of(spec, seed=3)
    lay = layout(t, style="flat")
    assert isinstance(lay, ChannelFlatLayout)
    maps = spec.in_channels // spec.groups
    bias_decimals = NumberFormat.decimals(t.bias) if spec.bias else 0
    for step in range(t.n_steps):
        co, r, c = (int(v) for v in t.anchor[step])
        got = texts(t, step)
        sums = sorted((op for op in got if op.cell and op.cell[0].startswith("sum")),
                      key=lambda op: op.cell[0])
        assert len(sums) == maps
        group = list(t.step_maps(step))
        sl = t.taps(step)
        partial = []
        for j, op in enumerate(sums):
            ci = group[j]
            on = t.tap_in[sl][:, 0] == ci
            want = float(t.tap_value[sl][on].sum())
            partial.append(want)
            assert op.value == pytest.approx(want) and op.cell == (f"sum{j}", co, ci)
            assert num(op.text.rsplit(" = ", 1)[1]) == pytest.approx(want)
            if ELLIPSIS not in op.text and not op.text.startswith(SIGMA):
                terms = op.text.rsplit(" = ", 1)[0].split(" + ")
                xs = [float(t.input[tuple(i)]) for i in t.tap_in[sl][on]]
                ws = [float(t.weight[tuple(i)]) for i in t.tap_w[sl][on]]
                assert [tuple(num(p.strip("()")) for p in term.split(TIMES)) for term in terms] \
                    == list(zip(xs, ws))
        total = [op for op in got if op.cell and op.cell[0] == "total"]
        assert len(total) == 1
        line = total[0].text
        assert line.startswith(f"{SIGMA} = ")
        assert num(line.rsplit(" = ", 1)[1]) == pytest.approx(float(t.output[co, r, c]))
        terms = line[len(f"{SIGMA} = "):].rsplit(" = ", 1)[0].split(" + ")
        if spec.bias:
            assert terms[-1] == f"b({fmt_num(float(t.bias[co]), bias_decimals)})"
            bias = float(t.bias[co])
            terms = terms[:-1]
        else:
            bias = 0.0
        if ELLIPSIS not in terms:
            assert [num(x) for x in terms] == pytest.approx(partial)
        assert sum(partial) + bias == pytest.approx(float(t.output[co, r, c]))
        # The output maps: the computed values so far, each where the trace puts it.
        outs = {op.cell: op.value for op in got if op.cell and op.cell[0].startswith("out")}
        assert len(outs) == step + 1
        for n in range(step + 1):
            o, a, b = (int(v) for v in t.anchor[n])
            assert outs[(f"out{o}", a, b)] == float(t.output[o, a, b])


def test_inputs_and_kernels_drawn_are_the_group_maps():
    spec = ca.conv2d(4, 3, 1, 1, in_channels=4, out_channels=2, groups=2, bias=True)
    t = ca.trace_of(spec, seed=1)
    last = t.n_steps - 1  # output map 1: the second group, maps 2 and 3
    got = texts(t, last)
    for j, ci in enumerate(t.step_maps(last)):
        assert ci == 2 + j
        ins = {op.cell[1:]: op.value for op in got if op.cell and op.cell[0] == f"in{j}"
               and op.kind == "input"}
        assert ins == {(r + 1, c + 1): float(t.input[ci, r, c]) for r in range(4) for c in range(4)}
        ks = {op.cell[1:]: op.value for op in got if op.cell and op.cell[0] == f"k{j}"}
        assert ks == {(r, c): float(t.weight[1, j, r, c]) for r in range(3) for c in range(3)}
    labels = {op.text for op in got if op.kind == "label"}
    assert f"x[2] 4{TIMES}4, padding 1" in labels and f"w[1,1] 3{TIMES}3" in labels


def test_negative_and_decimal_values_are_written_exactly():
    spec = ca.conv2d(3, 2, in_channels=2, out_channels=1, bias=True)
    x = np.array([[[1.5, -2, 0], [3, 1, -1], [0, 2, 1]], [[-1, 0, 2], [1, 1, 1], [0, -3, 2]]])
    w = np.array([[[[1, -1], [0.5, 2]], [[-2, 1], [1, 0]]]])
    t = ca.trace_of(spec, input=x, weight=w, bias=np.array([-0.5]))
    got = texts(t, 0)
    total = [op.text for op in got if op.cell and op.cell[0] == "total"][0]
    # map 0: 1.5×1 + (−2)×(−1) + 3×0.5 + 1×2 = 7; map 1: −1×(−2) + 0 + 1 + 0 = 3; the
    # partial sums share one format in the figure (another step's needs a decimal).
    assert total == f"{SIGMA} = 7.0 + 3.0 + b({MINUS}0.5) = 9.5"
    sums = sorted((op.cell[0], op.text) for op in got if op.cell and op.cell[0].startswith("sum"))
    # Inputs and weights have one decimal each (1.5, 0.5), as the one-channel flat style.
    assert sums == [("sum0", f"1.5{TIMES}1.0 + {MINUS}2.0{TIMES}({MINUS}1.0) + 3.0{TIMES}0.5"
                             f" + 1.0{TIMES}2.0 = 7.0"),
                    ("sum1", f"{MINUS}1.0{TIMES}({MINUS}2.0) + 0.0{TIMES}1.0 + 1.0{TIMES}1.0"
                             f" + 1.0{TIMES}0.0 = 3.0")]


def test_svg_and_pdf_draw_it(tmp_path):
    t = ca.trace_of(SPEC)
    svg = ca.save(t, tmp_path / "a.svg", style="flat")
    assert f"{SIGMA} = " in svg.read_text(encoding="utf-8")
    pdf = ca.save(t, tmp_path / "a.pdf", style="flat", frame=2)
    assert pdf.read_bytes().startswith(b"%PDF")


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code, *capsys.readouterr()


@pytest.mark.parametrize("args, head", [
    (["tconv", "--i", "3", "--k", "3", "--cin", "2", "--cout", "2", "--style", "flat",
      "--view", "scatter", "-o", "a.gif"],
     "view: got 'scatter' with channels or a bias; only the gather view"),
    (["pool", "--i", "4", "--k", "2", "--cin", str(MAX_FILTERS + 1), "--style", "flat",
      "-o", "a.gif"], f"the flat picture draws up to {MAX_FILTERS} maps when pooling (got "
     f"{MAX_FILTERS + 1}); write the trace with -o NAME.json"),
    (["tconv", "--i", "3", "--k", "3", "--cin", str(MAX_MAPS + 1), "--style", "flat",
      "-o", "a.gif"], f"(got {MAX_MAPS + 1} input maps per group and 1 output map)"),
    (["tconv", "--i", "3", "--k", "3", "--cin", "2", "--style", "flat", "--overlay", "overlap",
      "-o", "a.html"], "overlay: got 'overlap' with channels; the flat picture of channels has "
     "no overlay: drop --overlay"),
    (["conv", "--i", "5", "--k", "3", "--cin", str(MAX_MAPS + 1), "--style", "flat",
      "-o", "a.gif"], f"the flat picture draws up to {MAX_MAPS} input maps per group and "
     f"{MAX_FILTERS} output maps (got {MAX_MAPS + 1} input maps per group and 1 output map)"),
    (["conv", "--i", "5", "--k", "3", "--cin", "2", "--cout", str(MAX_FILTERS + 1),
      "--style", "flat", "-o", "a.gif"], f"and {MAX_FILTERS + 1} output maps)"),
])
def test_refusals_one_line_nothing_written(args, head, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(args, capsys)
    assert code == 2 and err.count("\n") == 1 and head in err, err
    assert list(tmp_path.iterdir()) == []


def test_the_limits_draw():
    """8 maps per group and 8 filters: drawn, within the canvas limit."""
    spec = ca.conv2d(7, 3, 1, 1, in_channels=MAX_MAPS, out_channels=MAX_FILTERS, bias=True)
    lay = layout(ca.trace_of(spec), style="flat")
    assert max(lay.size) <= ca.api.MAX_SIZE
    lay.overlay(lay.n_frames - 1)
    lay.frame(lay.n_frames - 1)


def test_a_layer_beyond_the_limits_is_refused_before_the_trace(monkeypatch):
    spec = ca.conv2d(5, 3, in_channels=MAX_MAPS + 1)
    with pytest.raises(ca.SpecError, match=f"up to {MAX_MAPS} input maps"):
        ca.api.check_drawable(spec, "flat")
    job = ca.api.Job(spec, outputs=("a.gif",), look=ca.Look(style="flat"))
    monkeypatch.setattr(ca.api, "trace_of", lambda *a, **k: pytest.fail("traced"))
    with pytest.raises(ca.SpecError, match=f"up to {MAX_MAPS} input maps"):
        ca.api.run_job(job)


@pytest.mark.parametrize("spec", [
    SPEC, ca.conv2d((5, 7), (3, 2), 1, (1, 2), in_channels=3, out_channels=5),
    ca.conv2d(9, 3, 2, 0, in_channels=4, out_channels=2, groups=2),
    ca.conv2d(3, 1, in_channels=2, out_channels=8)], ids=lambda s: s.short_name())
@pytest.mark.parametrize("cell, labels", [(32, True), (17, False)])
@pytest.mark.parametrize("numbers", [True, False])
def test_canvas_size_from_the_spec_is_the_layouts(spec, cell, labels, numbers):
    from convanim.flat_channels import canvas_size
    lay = layout(ca.trace_of(spec), cell, style="flat", labels=labels, numbers=numbers)
    assert canvas_size(spec, cell, labels, numbers) == lay.size


def test_a_canvas_too_large_is_refused_before_the_trace(monkeypatch):
    spec = ca.conv2d(30, 3, in_channels=4)
    monkeypatch.setattr(ca.api, "trace_of", lambda *a, **k: pytest.fail("traced"))
    with pytest.raises(ca.api.LimitError, match="more than the limit of 4,000 px a side"):
        ca.api.run_job(ca.api.Job(spec, outputs=("a.gif",), look=ca.Look(style="flat")))


# conv_transpose2d and pooling with channels ------------------------------------------------

TCONV = ca.conv_transpose2d(3, 3, 2, in_channels=2, out_channels=3)
POOL = ca.pool2d("max", 4, 2, in_channels=3)


@pytest.mark.parametrize("spec, name", [(TCONV, "flat_tconv_i3_k3_s2_cin2_cout3"),
                                        (POOL, "flat_maxpool_i4_k2_c3")])
@pytest.mark.parametrize("n", [0, -1], ids=["first", "last"])
def test_golden_tconv_and_pool_frames(spec, name, n, regen_golden):
    frames = ca.render(ca.trace_of(spec), style="flat")
    check_frame(f"{name}_{'first' if n == 0 else 'last'}", frames[n], regen_golden)


@pytest.mark.parametrize("spec, frames", [
    (TCONV, 3 * 7 * 7),
    (ca.conv_transpose2d(3, 2, 1, 1, in_channels=4, out_channels=2, groups=2, bias=True),
     2 * 2 * 2),
    (POOL, 3 * 2 * 2),
    (ca.pool2d("avg", 5, 3, 1, 1, in_channels=2), 2 * 5 * 5),
], ids=lambda s: s.short_name() if hasattr(s, "short_name") else str(s))
def test_frame_counts(spec, frames):
    t = ca.trace_of(spec)
    assert layout(t, style="flat").n_frames == frames == ca.scene(t, style="flat").n_frames


TCONVS = [
    TCONV,
    ca.conv_transpose2d(3, 3, 2, 1, in_channels=2, out_channels=2, bias=True),
    ca.conv_transpose2d(3, 2, 1, 0, in_channels=4, out_channels=4, groups=2, bias=True),
    ca.conv_transpose2d((2, 3), (3, 2), (2, 1), (2, 0), in_channels=2, out_channels=2),
    ca.conv_transpose2d(3, 3, 1, 0, in_channels=3, out_channels=3, groups=3, dilation=2),
    # padding beyond d(k-1): the stretched grid crops the input's border cells
    ca.conv_transpose2d(4, 2, 1, 2, in_channels=2, out_channels=1),
    ca.conv_transpose2d(3, 3, 2, 1, output_padding=1, in_channels=2, out_channels=2, bias=True),
]


@pytest.mark.parametrize("spec", TCONVS, ids=lambda s: s.short_name())
def test_tconv_every_number_drawn_is_the_trace(spec):
    """Inputs on the stretched grid, the flipped kernel slices w[ci, co - first co], each
    row's products and partial sum, the Σ line, the outputs so far: the trace's."""
    t = ca.trace_of(spec, seed=5)
    lay = layout(t, style="flat")
    g = t.grid
    per_out = spec.out_channels // spec.groups
    kh, kw = spec.kernel_size
    for step in range(t.n_steps):
        co, r, c = (int(v) for v in t.anchor[step])
        got = texts(t, step)
        group = list(t.step_maps(step))
        sl = t.taps(step)
        for j, ci in enumerate(group):
            ins = {op.cell[1:]: op.value for op in got if op.cell and op.cell[0] == f"in{j}"
                   and op.kind == "input"}
            h, w = spec.input_size
            assert ins == {(g.origin[0] + a * g.spacing[0], g.origin[1] + b * g.spacing[1]):
                           float(t.input[ci, a, b]) for a in range(h) for b in range(w)}
            ks = {op.cell[1:]: op.value for op in got if op.cell and op.cell[0] == f"k{j}"}
            assert ks == {(a, b): float(t.weight[ci, co % per_out, kh - 1 - a, kw - 1 - b])
                          for a in range(kh) for b in range(kw)}
            # Each product of the row: the input under a footprint cell times the kernel
            # cell drawn there.
            on = t.tap_in[sl][:, 0] == ci
            foot = t.footprint(step)
            for (ti, tw) in zip(t.tap_in[sl][on], t.tap_w[sl][on]):
                cell = (g.origin[0] + ti[1] * g.spacing[0], g.origin[1] + ti[2] * g.spacing[1])
                off = [n for n, f in enumerate(foot.tolist()) if tuple(f) == cell]
                assert len(off) == 1
                a, b = divmod(off[0], kw)
                assert ks[(a, b)] == float(t.weight[tuple(tw)])
            op = [op for op in got if op.cell == (f"sum{j}", co, ci)]
            assert len(op) == 1
            assert op[0].value == pytest.approx(float(t.tap_value[sl][on].sum()))
            if ELLIPSIS not in op[0].text and not op[0].text.startswith(SIGMA):
                terms = op[0].text.rsplit(" = ", 1)[0].split(" + ")
                xs = [float(t.input[tuple(i)]) for i in t.tap_in[sl][on]]
                ws = [float(t.weight[tuple(i)]) for i in t.tap_w[sl][on]]
                if xs:
                    assert [tuple(num(p.strip("()")) for p in term.split(TIMES))
                            for term in terms] == list(zip(xs, ws))
        total = [op for op in got if op.cell and op.cell[0] == "total"]
        assert len(total) == 1 and total[0].value == float(t.output[co, r, c])
        assert num(total[0].text.rsplit(" = ", 1)[1]) == pytest.approx(float(t.output[co, r, c]))
        labels = {op.text for op in got if op.kind == "label"}
        assert f"w[{group[0]},{co % per_out}] {kh}{TIMES}{kw}, flipped" in labels
        outs = {op.cell: op.value for op in got if op.cell and op.cell[0].startswith("out")}
        assert len(outs) == step + 1


def test_tconv_drawn_outputs_are_torchs():
    torch = pytest.importorskip("torch")
    spec = ca.conv_transpose2d(3, 3, 2, 1, in_channels=4, out_channels=2, groups=2, bias=True)
    t = ca.trace_of(spec, seed=2)
    want = torch.nn.functional.conv_transpose2d(
        torch.tensor(t.input[None]), torch.tensor(t.weight), torch.tensor(t.bias), stride=2,
        padding=1, groups=2)[0].numpy()
    got = texts(t, t.n_steps - 1)
    outs = {op.cell: op.value for op in got if op.cell and op.cell[0].startswith("out")}
    assert len(outs) == want.size
    for (name, r, c), v in outs.items():
        assert v == pytest.approx(float(want[int(name[3:]), r, c]))


POOLS = [POOL, ca.pool2d("avg", 5, 3, 1, 1, in_channels=2), ca.pool2d("max", 5, 3, 2, 1, in_channels=4),
         ca.pool2d("avg", (4, 5), (2, 3), in_channels=3)]


@pytest.mark.parametrize("spec", POOLS, ids=lambda s: s.short_name())
def test_pool_one_row_the_current_map(spec):
    """One row, the map being pooled; its window's values and max or mean; no kernel and
    no Σ line; the winner of max pooling outlined; the outputs so far."""
    t = ca.trace_of(spec, seed=4)
    lay = layout(t, style="flat")
    assert not any(name.startswith("k") for name in lay.grids)
    assert [n for n in lay.grids if n.startswith("in")] == ["in0"]
    g = t.grid
    kh, kw = spec.kernel_size
    for step in range(t.n_steps):
        co, r, c = (int(v) for v in t.anchor[step])
        assert list(t.step_maps(step)) == [co]
        got = texts(t, step)
        ins = {op.cell[1:]: op.value for op in got if op.cell and op.cell[0] == "in0"
               and op.kind == "input"}
        h, w = spec.input_size
        assert ins == {(g.origin[0] + a, g.origin[1] + b): float(t.input[co, a, b])
                       for a in range(h) for b in range(w)}
        assert not [op for op in got if op.cell and op.cell[0] == "total"]
        sums = [op for op in got if op.cell and op.cell[0].startswith("sum")]
        assert len(sums) == 1 and sums[0].cell == ("sum0", co, co)
        assert sums[0].value == float(t.output[co, r, c])
        xs = [float(t.input[tuple(i)]) for i in t.tap_in[t.taps(step)]]
        text = sums[0].text
        assert text.rsplit(" = ", 1)[1] == fmt_num(float(t.output[co, r, c]), lay._fmt.output)
        if ELLIPSIS not in text:
            if spec.op == "max_pool2d":
                assert text.startswith("max(")
                assert [num(v) for v in text[4:].rsplit(") = ", 1)[0].split(", ")] == xs
                assert max(xs) == float(t.output[co, r, c])
            else:
                assert text.startswith("(") and f")/{kh * kw} = " in text
                assert [num(v) for v in text[1:].rsplit(")/", 1)[0].split(" + ")] == (xs or [0])
        labels = {op.text for op in got if op.kind == "label"}
        assert any(s.startswith(f"x[{co}] ") for s in labels), labels
        outs = {op.cell: op.value for op in got if op.cell and op.cell[0].startswith("out")}
        assert len(outs) == step + 1
        marks = lay.overlay(step).marks
        if spec.op == "max_pool2d" and t.winner[step][0] >= 0:
            wc, wr, wcol = (int(v) for v in t.winner[step])
            assert wc == co and len(marks) == 1
            assert float(t.input[wc, wr, wcol]) == float(t.output[co, r, c])
            plane = lay.grids["in0"]
            x0, y0 = plane.corner(g.origin[0] + wr, g.origin[1] + wcol)
            x1, y1 = plane.corner(g.origin[0] + wr + 1, g.origin[1] + wcol + 1)
            xs_m = [p[0] for p in marks[0].quad]
            ys_m = [p[1] for p in marks[0].quad]
            assert x0 < min(xs_m) and max(xs_m) < x1 and y0 < min(ys_m) and max(ys_m) < y1
        else:
            assert marks == ()


@pytest.mark.parametrize("spec", TCONVS[1:] + POOLS[1:], ids=lambda s: s.short_name())
@pytest.mark.parametrize("cell, labels", [(32, True), (17, False)])
@pytest.mark.parametrize("numbers", [True, False])
def test_canvas_size_of_tconv_and_pool(spec, cell, labels, numbers):
    from convanim.flat_channels import canvas_size
    lay = layout(ca.trace_of(spec), cell, style="flat", labels=labels, numbers=numbers)
    assert canvas_size(spec, cell, labels, numbers) == lay.size


# Review item 9: without numbers no sum is written, so a row must not end in "=" (or
# pooling's arrow) and no room is kept for the sums or the Σ line.
@pytest.mark.parametrize("spec", [SPEC, TCONVS[1], POOLS[1]], ids=lambda s: s.short_name())
def test_without_numbers_rows_end_at_their_kernel(spec):
    t = ca.trace_of(spec)
    on = layout(t, 32, style="flat", numbers=True)
    off = layout(t, 32, style="flat", numbers=False)
    symbols = [i.texts[0] for i in off.static if i.kind == "symbol"]
    assert "=" not in symbols and "\u2192" not in symbols
    assert symbols == ([] if spec.pooling else ["\u00d7"] * len(off.sums))
    assert off.total is None
    assert off.size[0] < on.size[0] and off.size[1] <= on.size[1]
    if not spec.pooling:
        assert off.size[1] < on.size[1]  # no Σ line
    for j in range(len(off.sums)):  # each row's (empty) sum slot starts where it ends
        last = off.grids[f"k{j}" if not spec.pooling else f"in{j}"]
        (r0, c0), (h, w) = last.first, last.shape
        x_end = max(last.corner(r, c)[0] for r in (r0, r0 + h) for c in (c0, c0 + w))
        assert off.sums[j][0] == pytest.approx(x_end) and off.sums[j][2] == off.sums[j][0]
    items = off.overlay(0).texts
    assert not [i for i in items if i.kind == "sum"]


def test_tconv_and_pool_svg(tmp_path):
    for spec in (TCONV, POOL):
        svg = ca.save(ca.trace_of(spec), tmp_path / f"{spec.short_name()}.svg", style="flat")
        assert "flipped" in svg.read_text(encoding="utf-8") or spec.pooling


def test_a_rows_line_keeps_one_size_from_frame_to_frame():
    # A window over the padding has fewer products: its line had been drawn larger than
    # the next frame's (14.3 px against 11 and 12 in this figure). Every partial-sum line
    # is now drawn at the size of its row's widest line, in the longest form that fits.
    from convanim.api import scene
    from convanim.scene import Text

    t = ca.trace_of(ca.conv2d(5, 3, 1, 1, in_channels=3, out_channels=2, bias=True))
    sc = scene(t, style="flat")
    sizes, texts = set(), set()
    for step in range(sc.n_frames):
        for e in sc.frame(step).texts:
            if isinstance(e, Text) and e.kind == "sum" and not e.text.startswith("\u03a3"):
                sizes.add(round(e.size, 3))
                texts.add(e.text)
    assert len(sizes) == 1, sizes
    assert any("\u2026" in x for x in texts) and any("\u2026" not in x for x in texts)


def test_the_rows_of_a_frame_share_the_widest_lines_size():
    # One map's large values made its row's line smaller than the others' in the same
    # frame: every row is drawn at the size the figure's widest row line is drawn at.
    from convanim.api import scene
    from convanim.scene import Text

    x = np.ones((3, 5, 5))
    x[0, 2, 2] = -987654.25
    t = ca.trace_of(ca.conv2d(5, 3, 1, 1, in_channels=3, out_channels=2), input=x)
    sc = scene(t, style="flat")
    sizes = set()
    for step in range(sc.n_frames):
        rows = [e for e in sc.frame(step).texts
                if isinstance(e, Text) and e.kind == "sum" and not e.text.startswith("\u03a3")]
        assert len(rows) == 3
        sizes |= {round(e.size, 3) for e in rows}
    assert len(sizes) == 1, sizes

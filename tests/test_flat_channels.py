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
    (["tconv", "--i", "3", "--k", "3", "--cin", "3", "--cout", "2", "--bias", "--style", "flat",
      "-o", "a.gif"],
     "channels: of several channels, groups or a bias the flat picture is drawn for conv2d "
     "only (the iso picture for every op); got conv_transpose2d with style flat"),
    (["tconv", "--i", "3", "--k", "3", "--cin", "2", "--cout", "2", "--style", "flat",
      "-o", "a.gif"], "got conv_transpose2d with style flat"),
    (["pool", "--i", "4", "--k", "2", "--cin", "2", "--style", "flat", "-o", "a.gif"],
     "the flat picture is drawn for conv2d only"),
    (["conv", "--i", "5", "--k", "3", "--cin", "2", "--style", "flat", "-o", "a.html"],
     "output: the .html page does not show channels yet"),
    (["conv", "--i", "5", "--k", "3", "--cin", str(MAX_MAPS + 1), "--style", "flat",
      "-o", "a.gif"], f"the flat picture draws up to {MAX_MAPS} input maps per group and "
     f"{MAX_FILTERS} output maps (got {MAX_MAPS + 1} maps per group and 1 output maps)"),
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
def test_canvas_size_from_the_spec_is_the_layouts(spec, cell, labels):
    from convanim.flat_channels import canvas_size
    lay = layout(ca.trace_of(spec), cell, style="flat", labels=labels)
    assert canvas_size(spec, cell, labels) == lay.size


def test_a_canvas_too_large_is_refused_before_the_trace(monkeypatch):
    spec = ca.conv2d(30, 3, in_channels=4)
    monkeypatch.setattr(ca.api, "trace_of", lambda *a, **k: pytest.fail("traced"))
    with pytest.raises(ca.api.LimitError, match="more than the limit of 4,000 px a side"):
        ca.api.run_job(ca.api.Job(spec, outputs=("a.gif",), look=ca.Look(style="flat")))

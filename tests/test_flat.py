"""The flat style and pooling: frames, sizes, the step's arithmetic, labels, captions, files."""

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

import convanim as ca
import reference as ref
from convanim.api import layout
from convanim.cli import main
from convanim.flat import FlatLayout, step_text
from convanim.info import caption_auto, grid_labels
from convanim.iso import IsoLayout, iso_layout
from convanim.layout import REAL
from convanim.text import fmt_num

from golden import check_frame
from strategies import conv_specs, tconv_specs

SPECS = [ca.conv2d(5, 3, 2, 1), ca.conv2d(7, 3, 1, 0, 2), ca.transpose_of(ca.conv2d(6, 3, 2, 1)),
         ca.conv_transpose2d(3, 3, 2, 1, view="scatter"), ca.pool2d("max", 5, 3, 1),
         ca.pool2d("avg", 5, 3, 1, 1)]


@pytest.mark.parametrize("style", ["iso", "flat"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.short_name())
def test_every_style_renders_every_op(spec, style, tmp_path):
    t = ca.trace_of(spec)
    path = ca.save(t, tmp_path / "a.gif", style=style, numbers=True, caption="auto")
    L = layout(t, style=style, numbers=True, caption="auto")
    assert isinstance(L, FlatLayout if style == "flat" else IsoLayout)
    with Image.open(path) as im:
        assert im.n_frames == spec.n_steps
        assert im.size == L.size


def test_flat_grids_side_by_side_and_sized_by_the_cell():
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    L = layout(t, 32, style="flat")
    assert list(L.grids) == ["input", "kernel", "output"]
    assert [p.shape for p in L.grids.values()] == [(7, 7), (3, 3), (3, 3)]
    boxes = [p.extent() for p in L.grids.values()]
    assert all(b[2] < a[0] for b, a in zip(boxes, boxes[1:]))  # left to right, apart
    assert boxes[0][2] - boxes[0][0] == pytest.approx(7 * 32)
    assert all(0 <= b[0] and b[2] <= L.size[0] and 0 <= b[1] and b[3] <= L.size[1] for b in boxes)
    bigger = layout(t, 64, style="flat")
    assert bigger.size[0] > L.size[0] and bigger.size[1] > L.size[1]
    assert list(layout(ca.trace_of(ca.pool2d("max", 5, 3)), style="flat").grids) == ["input", "output"]


def test_flat_frame_fills_outputs_as_computed_and_outlines_the_footprint():
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    L = layout(t, style="flat")
    for step in range(t.n_steps):
        shapes = L.frame(step)
        out = [(r, c, role) for g, r, c, role, _ in L.filled(step) + shapes.cells if g == "output"]
        assert out[-1] == (*map(int, t.anchor[step]), "output_hl")
        assert [(r, c) for r, c, _ in out[:-1]] == [tuple(map(int, a)) for a in t.anchor[:step]]
        inp = {(r, c) for g, r, c, _, _ in shapes.cells if g == "input"}
        assert inp == {tuple(map(int, p)) for p in t.footprint(step)}
        (poly, role, width), = shapes.outlines
        r0, c0 = map(int, t.corner[step])
        assert poly[0] == L.grids["input"].corner(r0, c0)
        assert poly[2] == L.grids["input"].corner(r0 + 3, c0 + 3)


def _sum_item(L, step):
    (item,) = [i for i in L.overlay(step).texts if i.kind == "sum"]
    return item


def test_sum_line_is_the_products_of_the_step():
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1), seed=4)
    L = layout(t, style="flat")
    for step in range(t.n_steps):
        full = _sum_item(L, step).texts[0]
        sl = t.taps(step)
        terms = [f"{fmt_num(t.input[tuple(a)])}\u00d7{fmt_num(t.weight[tuple(b)])}"
                 for a, b in zip(t.tap_in[sl], t.tap_w[sl])]
        assert full == " + ".join(terms) + f" = {fmt_num(t.output[tuple(t.anchor[step])])}"
        lhs = sum(float(a) * float(b) for a, b in (term.split("\u00d7") for term in terms))
        assert lhs == pytest.approx(t.output[tuple(t.anchor[step])])


def _plate(L, step):
    plates = L.frame(step).plates
    return plates[0][0] if plates else None


def test_sum_line_follows_the_output_row_when_it_fits():
    # Under the row being written, next to its value, on a plate over the empty cells
    # below (no output below the step's row is filled yet), within the output grid.
    t = ca.trace_of(ca.conv2d(16, 3, 1, 1), seed=3)
    L = layout(t, 24, style="flat")
    out = L.grids["output"]
    (gx0, gy0), (gx1, gy1) = out.corner(0, 0), out.corner(16, 16)
    for step in (0, 1, 15, 16, 100, 239, 240, t.n_steps - 1):
        r, c = map(int, t.anchor[step])
        quad = _plate(L, step)
        assert quad is not None, step
        (x0, y0), _, (x1, y1), _ = quad
        assert gx0 - 1e-9 <= x0 < x1 <= gx1 + 1e-9
        assert out.corner(r + 1, c)[1] < y0 < y1 <= L.size[1]
        cx = (out.corner(r, c)[0] + out.corner(r, c + 1)[0]) / 2
        # Centred on the cell, unless held by an edge of the grid.
        assert x0 <= cx <= x1 and (abs((x0 + x1) / 2 - cx) < 1e-9 or min(x0 - gx0, gx1 - x1) < 1e-9)
        item = _sum_item(L, step)
        assert item.on == "output_empty" and item.texts == step_text(t, step)
        (sx0, sy0), _, (sx1, sy1), _ = item.slot
        assert x0 <= sx0 < sx1 <= x1 and y0 <= sy0 < sy1 <= y1
    assert _plate(L, t.n_steps - 1)[0][1] > gy1  # the last row's line: under the grid


def test_a_plate_on_a_transparent_background_is_opaque_text_and_all(tmp_path):
    # The text's edges over the plate are blends with the plate's fill, not the text at
    # partial opacity (which a light fill's blends are near): no page shows through.
    t = ca.trace_of(ca.conv2d(16, 3, 1, 1))
    L = layout(t, 24, style="flat")
    (x0, y0), _, (x1, y1), _ = _plate(L, 30)
    path = ca.save(t, tmp_path / "p.png", cell=24, style="flat", transparent=True, frame=30)
    with Image.open(path) as im:
        alpha = np.asarray(im.convert("RGBA"))[..., 3]
    inside = alpha[math.ceil(y0) + 2:math.floor(y1) - 1, math.ceil(x0) + 2:math.floor(x1) - 1]
    assert inside.size and (inside == 255).all(), int((inside < 255).sum())


@pytest.mark.parametrize("style", ["flat", "iso"])
def test_numbers_on_filled_cells_of_a_transparent_picture_are_opaque(style, tmp_path):
    # White numbers on the dark window and output cells: their full-coverage pixels are
    # near the matte's colour, and their edges near the matte's blends (partial opacity),
    # but over a cell they are opaque: a dark page must not show through a number.
    t = ca.trace_of(ca.conv2d(6, 3, 1, 1))
    step = 9
    path = ca.save(t, tmp_path / "n.png", style=style, numbers=True, transparent=True,
                   frame=step)
    L = layout(t, style=style, numbers=True)
    with Image.open(path) as im:
        alpha = np.asarray(im.convert("RGBA"))[..., 3]
    grids = L.grids if style == "flat" else {"input": L.lower, "output": L.upper}
    r, c = map(int, t.anchor[step])
    cells = [("output", r, c)] + [("input", int(a), int(b)) for a, b in t.footprint(step)
                                  if grids["input"].kind(int(a), int(b)) == REAL]
    for name, a, b in cells:
        quad = grids[name].quad(a, b)
        cx = sum(p[0] for p in quad) / 4
        cy = sum(p[1] for p in quad) / 4
        inner = alpha[int(cy) - 3:int(cy) + 4, int(cx) - 3:int(cx) + 4]
        assert (inner == 255).all(), (name, a, b, int((inner < 255).sum()))


@pytest.mark.parametrize("spec,opts", [
    (ca.conv2d(5, 3, 2, 1), {}),  # the line is wider than the 3 x 3 output
    (ca.conv_transpose2d(12, 3, 1, 0, view="scatter"), {}),  # outputs fill anywhere
    (ca.conv_transpose2d(8, 3, 2, 1), {"overlay": "overlap"}),  # every output shaded from the start
], ids=["narrow", "scatter", "overlap"])
def test_sum_line_stays_in_the_band_otherwise(spec, opts):
    t = ca.trace_of(spec)
    L = layout(t, 24, style="flat", **opts)
    for step in (0, t.n_steps // 2, t.n_steps - 1):
        assert _plate(L, step) is None
        (x0, y0), _, (x1, y1), _ = _sum_item(L, step).slot
        assert (x0, y0, x1, y1) == L.sum_box


def test_a_following_sum_line_keeps_each_frame_s_changes_together():
    # The GIF stores a frame as one box around what changed: with the line under the
    # output row, the box spans the window's and the output's rows, not the figure down
    # to the band (a fifth of the pixels for conv --i 32 --k 3 --p 1 --style flat).
    from convanim.backends import raster
    from convanim.changed import CHANGED

    sc = ca.scene(ca.trace_of(ca.conv2d(16, 3, 1, 1)), cell=24, style="flat")
    heights = [f.info[CHANGED].box for f in raster.frames(sc, changed=True)][1:]
    heights = [b[3] - b[1] for b in heights]
    assert max(heights[20:200]) < sc.size[1] / 3


def test_sum_line_elides_the_middle_when_narrow():
    t = ca.trace_of(ca.conv2d(9, 5, 1, 2), seed=1)
    L = layout(t, 8, style="flat")
    from convanim.textfit import fit
    item = _sum_item(L, 12)
    placed = fit(item)
    assert placed is not None and "\u2026" in placed.text
    assert placed.text.endswith(f"= {fmt_num(t.value(12))}")


def test_pool_sum_lines():
    t = ca.trace_of(ca.pool2d("max", 5, 3, 1), seed=2)
    text = step_text(t, 4)[0]
    sl = t.taps(4)
    assert text == "max(" + ", ".join(fmt_num(v) for v in t.tap_value[sl]) + f") = {fmt_num(t.value(4))}"
    t = ca.trace_of(ca.pool2d("avg", 5, 3, 1, 1), seed=2)
    text = step_text(t, 0)[0]
    assert text.endswith(f")/9 = {fmt_num(t.value(0))}") and len(t.tap_value[t.taps(0)]) == 4


def test_scatter_sum_line():
    t = ca.trace_of(ca.conv_transpose2d(2, 2, 1, view="scatter"), seed=1)
    text = step_text(t, 3)[0]
    x = fmt_num(t.input[1, 1])
    assert text.startswith(f"{x}\u00d7") and text.endswith("added to the output")
    assert text.count("=") == 4


@pytest.mark.parametrize("style", ["iso", "flat"])
def test_max_pool_marks_the_winner(style):
    t = ca.trace_of(ca.pool2d("max", 5, 3, 1), seed=7)
    L = layout(t, style=style, numbers=True)
    plane = L.grids["input"] if style == "flat" else L.lower
    for step in range(t.n_steps):
        (mark,) = L.overlay(step).marks
        y, x = map(int, t.winner[step])
        quad = plane.quad(y, x)
        cx, cy = sum(p[0] for p in mark.quad) / 4, sum(p[1] for p in mark.quad) / 4
        assert cx == pytest.approx(sum(p[0] for p in quad) / 4)
        assert cy == pytest.approx(sum(p[1] for p in quad) / 4)
        assert t.input[y, x] == t.value(step)


@settings(max_examples=40, deadline=None)
@given(st.data(), st.sampled_from(["max", "avg"]))
def test_pool_against_torch(data, mode):
    torch = pytest.importorskip("torch")
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    d = (1, 1) if mode == "avg" else (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    # PyTorch (and convanim) allow padding up to half the kernel size.
    p = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    i = tuple(data.draw(st.integers(max(1, dd * (kk - 1) + 1 - 2 * pp), 7))
              for kk, dd, pp in zip(k, d, p))
    try:
        spec = ca.pool2d(mode, i, k, s, p, d)
    except ca.SpecError:
        assume(False)  # a spec convanim refuses (and says why) is not compared
    x = np.array(data.draw(st.lists(st.integers(-4, 4), min_size=i[0] * i[1], max_size=i[0] * i[1]))
                 , dtype=float).reshape(i)
    t = ca.trace(spec, x)
    np.testing.assert_allclose(t.output, np.array(ref.pool(x.tolist(), *k, s, p, d, mode)))
    tx = torch.tensor(x)[None, None]
    if mode == "max":
        y = torch.nn.functional.max_pool2d(tx, k, s, p, d)
    else:
        y = torch.nn.functional.avg_pool2d(tx, k, s, p, count_include_pad=True)
    np.testing.assert_allclose(t.output, y[0, 0].numpy(), rtol=1e-12, atol=1e-12)


def _eval_formula(formula):
    lhs, o = formula.rsplit("=", 1)
    return eval(lhs, {"floor": math.floor}), int(o)


@settings(max_examples=40, deadline=None)
@given(st.one_of(conv_specs(), tconv_specs()))
def test_caption_formula_computes_the_output_size(spec):
    full, short = caption_auto(spec)
    assert short.endswith(f"o={spec.output_size[0]}" if spec.output_size[0] == spec.output_size[1]
                          else f"o={spec.output_size[0]}\u00d7{spec.output_size[1]}")
    formula = full.split("\u2192 o=", 1)[1].replace("\u00d7", "*").replace("\u2212", "-")
    parts = formula.split(": rows ", 1)[1].split(", cols ") if ": rows " in formula else [formula] * 2
    for axis, f in enumerate(parts):
        value, o = _eval_formula(f)
        assert value == o == spec.output_size[axis]


def test_caption_example_from_the_brief():
    assert (caption_auto(ca.conv2d(5, 3, 2, 1))[0]
            == "i=5, k=3, s=2, p=1 \u2192 o=floor((5+2\u00d71\u22123)/2)+1=3")


def test_labels_name_the_grids():
    assert grid_labels(ca.conv2d(5, 3, 2, 1)) == {
        "input": ("input 5\u00d75, padding 1", "input 5\u00d75"), "kernel": ("kernel 3\u00d73",),
        "output": ("output 3\u00d73",)}
    t = ca.trace_of(ca.transpose_of(ca.conv2d(6, 3, 2, 1)))
    labels = [i for i in layout(t, style="flat").static if i.kind == "label"]
    assert [i.texts[-1] for i in labels] == ["input 3\u00d73", "kernel 3\u00d73", "output 6\u00d76"]
    iso = iso_layout(t, labels=True)
    assert [i.texts[-1] for i in iso.static] == ["output 6\u00d76", "input 3\u00d73"]
    assert iso.size[1] > iso_layout(t).size[1]
    assert [i for i in layout(t, style="flat", labels=False).static if i.kind == "label"] == []


def test_title_and_caption_bands():
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    plain = iso_layout(t)
    L = iso_layout(t, title="Strided", caption="auto")
    kinds = [i.kind for i in L.static]
    assert kinds == ["title", "caption"]
    title, caption = L.static
    assert title.centre[1] < L.upper.extent()[1] and caption.centre[1] > L.lower.extent()[3]
    assert L.size[1] > plain.size[1]
    assert caption.texts == caption_auto(t.spec)
    assert iso_layout(t, caption="my words").static[0].texts == ("my words",)


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code, *capsys.readouterr()


def test_cli_flat_numbers_caption(capsys, tmp_path):
    out = tmp_path / "a.gif"
    code, _, err = run(["conv", "--i", "5", "--k", "3", "--style", "flat", "--caption", "auto",
                        "--title", "T", "-o", str(out)], capsys)
    assert code == 0, err
    t = ca.trace_of(ca.conv2d(5, 3))
    with Image.open(out) as im:
        assert im.n_frames == 9 and im.size == layout(t, style="flat", caption="auto", title="T").size
    code, _, err = run(["pool", "--i", "5", "--k", "3", "--s", "1", "--numbers", "--labels",
                        "-o", str(tmp_path / "p.gif")], capsys)
    assert code == 0, err


def test_png_input(capsys, tmp_path):
    img = np.zeros((4, 5), dtype=np.uint8)
    img[1, :] = 255
    img[2, 2] = 128
    Image.fromarray(img, "L").save(tmp_path / "x.png")
    code, _, err = run(["conv", "--i", "4,5", "--k", "2", "--input", str(tmp_path / "x.png"),
                        "-o", str(tmp_path / "t.json")], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["input"][1] == [3] * 5 and doc["input"][2][2] == 2 and doc["input"][0] == [0] * 5
    code, _, err = run(["conv", "--i", "5", "--k", "2", "--input", str(tmp_path / "x.png"),
                        "-o", str(tmp_path / "u.json")], capsys)
    assert code == 2 and "4x5" in err and "5x5" in err and not (tmp_path / "u.json").exists()
    (tmp_path / "bad.png").write_text("not an image")
    code, _, err = run(["conv", "--i", "5", "--k", "2", "--input", str(tmp_path / "bad.png"),
                        "-o", str(tmp_path / "u.json")], capsys)
    assert code == 2 and "bad.png" in err and "PNG" in err


FLAT_GOLDEN = {
    "flat_conv_i5_k3_s2_p1_numbers": (ca.conv2d(5, 3, 2, 1), dict(style="flat", caption="auto"), 4,
                                      "classic"),
    "iso_conv_i5_k3_s2_p1_numbers": (ca.conv2d(5, 3, 2, 1), dict(numbers=True, labels=True), 4,
                                     "classic"),
    "flat_maxpool_i5_k3_s1": (ca.pool2d("max", 5, 3, 1), dict(style="flat"), 4, "classic"),
    "flat_tconv_i3_k3_s2_p1_scatter_dark": (ca.conv_transpose2d(3, 3, 2, 1, view="scatter"),
                                            dict(style="flat"), 4, "dark"),
    # The step's arithmetic under the output row (frame 36: row 2, column 4).
    "flat_conv_i16_k3_p1_follows": (ca.conv2d(16, 3, 1, 1), dict(style="flat", cell=24), 36,
                                    "classic"),
}


@pytest.mark.parametrize("name", list(FLAT_GOLDEN))
def test_golden_text_frames(name, regen_golden):
    spec, opts, n, theme = FLAT_GOLDEN[name]
    frames = ca.render(ca.trace_of(spec), theme=theme, **opts)
    check_frame(name, frames[n], regen_golden)

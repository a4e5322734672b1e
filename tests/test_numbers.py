"""Numbers on the picture: one format, every drawn number from the trace, text inside its cell."""

import importlib
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings

import convanim as ca
from convanim.api import layout
from convanim.iso import iso_layout
from convanim.backends.raster import SS, palette_colours
from convanim.scene import GRID_W
from convanim.textfit import contrast, fit, text_colour
from convanim.textfit import font as _font
from convanim.flat import step_text
from convanim.text import NumberFormat, elided, fmt_num, product_sum
from convanim.theme import CLASSIC, THEMES

from strategies import conv_specs, tconv_specs


@pytest.mark.parametrize("value, text", [
    (3.0, "3"), (-2.0, "\u22122"), (0.5, "0.5"), (0.25, "0.25"), (13 / 9, "1.44"), (-0.0, "0"),
    (1e-12, "0"), (-1e-5, "0"), (10.0, "10"), (2.1, "2.1"), (-0.75, "\u22120.75"), (100.0, "100"),
])
def test_fmt_num(value, text):
    assert fmt_num(value) == text


def test_fmt_num_is_the_same_whichever_equal_key_came_first():
    # fmt_num remembers its texts by (value, decimals): equal keys must have one text.
    for first, second, decimals, text in [(0.0, -0.0, None, "0"), (-0.0, 0.0, 1, "0.0"),
                                          (3, 3.0, None, "3"), (np.float64(2.5), 2.5, 1, "2.5"),
                                          (True, 1.0, 2, "1.00")]:
        assert fmt_num(first, decimals) == fmt_num(second, decimals) == text
    assert fmt_num(np.array(-2.0)) == "\u22122"  # a 0-d array is no key: taken as its float


def test_elided_forms_shrink_and_keep_the_end():
    forms = elided(["1*2", "3*4", "5*6", "7*8"], " + ", "", " = 100")
    assert forms[0] == "1*2 + 3*4 + 5*6 + 7*8 = 100"
    assert all(f.endswith(" = 100") for f in forms)
    assert [len(f) for f in forms] == sorted((len(f) for f in forms), reverse=True)
    assert "1*2 + \u2026 + 7*8 = 100" in forms
    assert forms[-1] == "\u2026 = 100"
    assert elided(["1", "2"], " + ", "", " = 3", short="\u03a3 = 3")[-1] == "\u03a3 = 3"


def test_one_number_format_per_grid():
    """Every number of a grid has the decimals its most exact value needs."""
    x = np.array([[1.0, 0.5], [2.0, -1.25]])
    w = np.array([[1.0, 2.0], [0.0, 1.0]])
    t = ca.trace(ca.conv2d(2, 2), x, w)
    fmt = NumberFormat.of(t)
    assert (fmt.input, fmt.weight, fmt.output) == (2, 0, 2)
    L = layout(t, style="flat")
    texts = {i.where: i.text for i in L.overlay(0).texts if i.kind == "input"}
    assert sorted(texts.values()) == sorted(["1.00", "0.50", "2.00", "\u22121.25"])
    assert step_text(t, 0)[0] == "1.00\u00d71 + 0.50\u00d72 + 2.00\u00d70 + \u22121.25\u00d71 = 0.75"


def test_negative_factors_in_parentheses():
    assert product_sum([2.0], [-1.0], -2.0)[0] == "2\u00d7(\u22121) = \u22122"
    assert product_sum([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], 6.0)[-1] == "\u03a3 = 6"


def _items(L, step, kind):
    return [i for i in L.overlay(step).texts if i.kind == kind]


def _lower_values(t):
    """Lower-grid cell -> input value, straight from the grid map (independent of the layout)."""
    g = t.grid
    return {(g.origin[0] + y * g.spacing[0], g.origin[1] + x * g.spacing[1]): t.input[y, x]
            for y in range(t.spec.input_size[0]) for x in range(t.spec.input_size[1])}


def check_gather_texts(t, L, step):
    values = _lower_values(t)
    got = {i.where[1:]: i for i in _items(L, step, "input")}
    assert {k: i.value for k, i in got.items()} == {k: float(v) for k, v in values.items()}
    assert all(i.text == fmt_num(i.value) for i in got.values())
    pads = _items(L, step, "padding")
    assert all(i.value == 0 and i.text == "0" and i.colour == "text_light" for i in pads)
    assert not set(i.where[1:] for i in pads) & set(values)
    # Weights: at the lower-grid cell of every product, the weight the product used.
    weights = {i.where[1:]: i.value for i in _items(L, step, "weight")}
    sl = t.taps(step)
    g = t.grid
    for (y, x), (a, b) in zip(t.tap_in[sl], t.tap_w[sl]):
        pos = (g.origin[0] + y * g.spacing[0], g.origin[1] + x * g.spacing[1])
        assert weights[pos] == t.weight[a, b]
    # Outputs: exactly the cells of steps 0..step, with the trace's values.
    outs = {i.where[1:]: i.value for i in _items(L, step, "output")}
    want = {tuple(int(v) for v in t.anchor[n]): float(t.output[tuple(t.anchor[n])])
            for n in range(step + 1)}
    assert outs == want


def check_scatter_texts(t, L, step):
    ins = {i.where[1:]: i.value for i in _items(L, step, "input")}
    assert ins == {(y, x): t.input[y, x] for y in range(t.input.shape[0]) for x in range(t.input.shape[1])}
    # Running sums by plain loops over the definition, input cells in row-major order.
    s = t.spec
    sums, seen = defaultdict(float), set()
    for n in range(step + 1):
        y, x = divmod(n, s.input_size[1])
        for ky in range(s.kernel_size[0]):
            for kx in range(s.kernel_size[1]):
                oy = y * s.stride[0] + ky * s.dilation[0] - s.padding[0]
                ox = x * s.stride[1] + kx * s.dilation[1] - s.padding[1]
                if 0 <= oy < s.output_size[0] and 0 <= ox < s.output_size[1]:
                    sums[(oy, ox)] += t.input[y, x] * t.weight[ky, kx]
                    seen.add((oy, ox))
    outs = {i.where[1:]: i.value for i in _items(L, step, "output")}
    assert set(outs) == seen
    for cell in seen:
        assert outs[cell] == pytest.approx(sums[cell])


@pytest.mark.parametrize("style", ["iso", "flat"])
@pytest.mark.parametrize("spec", [
    ca.conv2d(5, 3, 2, 1), ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0)), ca.conv2d(7, 3, 1, 0, 2),
    ca.transpose_of(ca.conv2d(6, 3, 2, 1)), ca.conv_transpose2d(3, 3, 2, 1, view="scatter"),
    ca.conv_transpose2d(2, 3, 2, 0, 1, 1, view="scatter"),
], ids=lambda s: s.short_name())
def test_text_items_equal_trace_values(spec, style):
    t = ca.trace_of(spec, seed=3)
    L = layout(t, 40, style=style, numbers=True)
    for step in range(t.n_steps):
        (check_scatter_texts if spec.view == "scatter" else check_gather_texts)(t, L, step)


@settings(max_examples=25, deadline=None)
@given(conv_specs())
def test_text_items_equal_trace_values_random_conv(spec):
    t = ca.trace_of(spec, seed=1)
    L = iso_layout(t, 40, numbers=True)
    for step in {0, t.n_steps // 2, t.n_steps - 1}:
        check_gather_texts(t, L, step)


@settings(max_examples=25, deadline=None)
@given(tconv_specs())
def test_text_items_equal_trace_values_random_tconv(spec):
    t = ca.trace_of(spec, seed=2)
    L = layout(t, 40, style="flat")
    for step in {0, t.n_steps // 2, t.n_steps - 1}:
        (check_scatter_texts if spec.view == "scatter" else check_gather_texts)(t, L, step)


def test_kernel_grid_shows_the_weights_flipped_in_gather_tconv():
    for spec, flip in [(ca.conv2d(5, 3), False), (ca.conv_transpose2d(3, 3, 2), True),
                       (ca.conv_transpose2d(3, 3, 2, view="scatter"), False)]:
        t = ca.trace_of(spec, seed=5)
        L = layout(t, 32, style="flat")
        w = t.weight[::-1, ::-1] if flip else t.weight
        got = {i.where[1:]: i.value for i in _items(L, 0, "kernel")}
        assert got == {(a, b): w[a, b] for a in range(3) for b in range(3)}


def test_iso_numbers_off_by_default_and_values_change_the_frame():
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    assert layout(t).overlay(0).texts == ()
    plain = ca.render(t)[4]
    with_numbers = ca.render(t, numbers=True)[4]
    assert plain.size == with_numbers.size
    assert np.any(np.asarray(plain.convert("RGB")) != np.asarray(with_numbers.convert("RGB")))


def _edges(quad):
    return [(quad[i], quad[(i + 1) % 4]) for i in range(4)]


def _distance_inside(p, quad):
    """Signed distance of p from each edge line of a convex quad, positive inside."""
    cx = sum(q[0] for q in quad) / 4
    cy = sum(q[1] for q in quad) / 4
    out = []
    for (ax, ay), (bx, by) in _edges(quad):
        nx, ny = by - ay, -(bx - ax)
        n = (nx * nx + ny * ny) ** 0.5
        d = ((p[0] - ax) * nx + (p[1] - ay) * ny) / n
        dc = ((cx - ax) * nx + (cy - ay) * ny) / n
        out.append(d if dc > 0 else -d)
    return out


def _cell_plane(L, grid):
    if hasattr(L, "grids"):
        return L.grids[grid]
    return {"input": L.lower, "output": L.upper}[grid]


CLEAR = GRID_W / 2 + 0.5  # half a grid line plus half a pixel of anti-aliasing


@pytest.mark.parametrize("style", ["iso", "flat"])
@pytest.mark.parametrize("cell", [8, 12, 24, 32, 200])
@pytest.mark.parametrize("spec", [ca.conv2d(4, 3, 1, 1), ca.pool2d("avg", 4, 3, 1, 1),
                                  ca.conv_transpose2d(2, 3, 1, 1, view="scatter")],
                         ids=lambda s: s.short_name())
def test_text_stays_inside_its_cell(spec, style, cell):
    t = ca.trace_of(spec, input=np.array([[1.25, -12, 3, 0.5]] * spec.input_size[0])[:, :spec.input_size[1]])
    L = layout(t, cell, style=style, numbers=True)
    drawn = 0
    for step in (0, t.n_steps - 1):
        for item in L.overlay(step).texts:
            placed = fit(item)
            if item.where is None or placed is None:
                continue
            drawn += 1
            grid, r, c = item.where
            quad = _cell_plane(L, grid).quad(r, c)
            x0, y0, x1, y1 = placed.rect
            for p in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
                assert min(_distance_inside(p, quad)) >= CLEAR, (item, placed)
            assert placed.size >= 6
    if cell >= 24:
        assert drawn > 0
    if cell == 8:
        assert drawn == 0  # no room: numbers are left out, not squeezed over the lines


@pytest.mark.parametrize("text", ["0", "18", "-1.25", "3*2 + 1*1 = 7"])
def test_ink_stays_inside_the_placed_box(text):
    """The box :func:`fit` reports is where Pillow puts the ink (drawn alone, supersampled)."""
    from PIL import Image, ImageDraw
    from convanim.layout import band_item
    item = band_item("label", (text,), 10, 200, 10, 60, 20)
    placed = fit(item)
    img = Image.new("L", (220 * SS, 80 * SS), 0)
    ImageDraw.Draw(img).text(placed.xy, placed.text, font=_font(round(placed.size * SS)), fill=255)
    ys, xs = np.nonzero(np.asarray(img))
    x0, y0, x1, y1 = placed.rect
    assert xs.min() / SS >= x0 - 0.5 and (xs.max() + 1) / SS <= x1 + 0.5
    assert ys.min() / SS >= y0 - 0.5 and (ys.max() + 1) / SS <= y1 + 0.5


@pytest.mark.parametrize("name", list(THEMES))
def test_text_colours_are_in_the_palette_and_read_on_every_fill(name):
    theme = THEMES[name]
    pal = {tuple(c) for c in palette_colours(theme, text=True)}
    for c in (theme.text, theme.text_light, theme.text_inverse):
        assert tuple(c) in pal
    from convanim.layout import TextItem
    for on in ("background", "input", "input_hl", "padding_hl", "output", "output_hl",
               "output_empty"):
        item = TextItem("input", ("1",), (0, 0), ((0, 0),) * 4, 10, "text", on)
        assert contrast(text_colour(theme, item), getattr(theme, on)) >= 3.0, on


def test_numbers_frames_use_only_the_text_palette():
    t = ca.trace_of(ca.conv2d(4, 3, 1, 1))
    allowed = {tuple(c) for c in palette_colours(CLASSIC, text=True)}
    for style in ("iso", "flat"):
        for f in ca.render(t, style=style, numbers=True, caption="auto"):
            colours = {c for _, c in f.convert("RGB").getcolors(1 << 16)}
            assert colours <= allowed
            assert tuple(CLASSIC.text) in colours or tuple(CLASSIC.text_inverse) in colours


def test_classic_palette_without_text_is_the_shape_palette():
    # Golden frames of the plain picture depend on it staying as it was.
    assert len(CLASSIC.colours()) == 10
    pal = palette_colours(CLASSIC)
    assert [tuple(c) for c in pal[:10]] == CLASSIC.colours()
    assert tuple(CLASSIC.text) not in {tuple(c) for c in pal}


def test_numbers_of_a_grid_share_one_size():
    """A longer number (a minus, more digits) does not shrink alone: each grid's numbers
    are drawn at the size its widest number fits at."""
    w = np.array([[1.0, -2.0, 0.5], [-1.0, 2.0, 0.0], [0.0, 1.0, -0.25]])
    t = ca.trace(ca.conv2d(5, 3), np.arange(25.0).reshape(5, 5) % 4, w)
    sc = ca.scene(t, style="flat")
    ops = [op for op in sc.frame(4).texts if getattr(op, "kind", "") in ("kernel", "output")]
    for kind in ("kernel", "output"):
        sizes = {op.size for op in ops if op.kind == kind}
        assert len(sizes) == 1, (kind, sizes)
    assert {op.text for op in ops if op.kind == "kernel"} >= {"1.00", "\u22122.00", "\u22120.25"}
    # Without the shared size the widest would be smaller than the rest: the check can fail.
    from dataclasses import replace
    items = [i for i in ca.layout(t, style="flat").overlay(4).texts if i.kind == "kernel"]
    alone = {fit(replace(i, like=None)).size for i in items}
    assert len(alone) > 1


def test_running_sums_are_every_partial_sum():
    from convanim.numbers import running_sums
    t = ca.trace_of(ca.conv_transpose2d(2, 2, 1, view="scatter"), seed=1)
    want = []
    for cell in {tuple(c) for c in t.tap_out.tolist()}:
        total = 0.0
        for (r, c), v in zip(t.tap_out.tolist(), t.tap_value.tolist()):
            if (r, c) == cell:
                total += v
                want.append(total)
    assert sorted(running_sums(t).tolist()) == sorted(want)


# A frame's numbers as parts (Numbers.parts, _Overlay.parts): the static work done once ----

def _counting_overlays(monkeypatch):
    """Every scene._Overlay made from now on, to read its counter."""
    scene_mod = importlib.import_module("convanim.scene")  # ca.scene is the function

    made = []

    class Counting(scene_mod._Overlay):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(scene_mod, "_Overlay", Counting)
    return made


def test_a_flat_frame_looks_up_only_the_numbers_that_changed(monkeypatch):
    made = _counting_overlays(monkeypatch)
    sc = ca.scene(ca.trace_of(ca.conv2d(32, 3, 1, 1)), style="flat")
    lay = layout(ca.trace_of(ca.conv2d(32, 3, 1, 1)), style="flat")
    sc.frame(0)
    (overlay,) = made
    looked, parts = [], []
    for step in range(1, 61):
        before = overlay.looked
        f = sc.frame(step)
        looked.append(overlay.looked - before)
        parts.append(len(lay.overlay_parts(step)[0]))
    # ~1,200 numbers of the input grid and the outputs so far, all handed to the scene in
    # each frame, in a few parts; it looks up the elements of the window's blocks (3 rows,
    # each maybe across two blocks), of the newest outputs, and of a run of blocks when it
    # is new (the window moved on to the next block), not every one.
    assert len(f.texts) > 1200
    assert max(parts) <= 2 * 6 + 1 + 6
    assert sum(looked) / len(looked) < len(f.texts) / 5


def test_a_flat_frame_fits_only_its_new_texts(monkeypatch):
    from convanim import textfit

    scene_mod = importlib.import_module("convanim.scene")
    calls = defaultdict(int)

    def counted(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    sc = ca.scene(ca.trace_of(ca.conv2d(32, 3, 1, 1)), style="flat")
    monkeypatch.setattr(scene_mod, "fit", counted("fit", scene_mod.fit))
    sc.frame(0)
    first = calls["fit"]
    monkeypatch.setattr(textfit, "_fit_rel", counted("measured", textfit._fit_rel))
    numbers_mod = importlib.import_module("convanim.numbers")
    slots, cell_slot = [], numbers_mod.cell_slot

    def slot_once(plane, r, c, box=None, **more):
        slots.append((id(plane), r, c, box))
        return cell_slot(plane, r, c, box, **more)

    monkeypatch.setattr(numbers_mod, "cell_slot", slot_once)
    for step in range(1, 61):
        sc.frame(step)
    # Frame 0 fits every number; each later one its window's new texts (values, weights),
    # the output, the sum line: ~15, each string fitted once per slot shape (a weight's
    # text recurs in every cell), so that only the sum lines are new to the fitting; and
    # a cell's slot is found once, not again for each weight that passes over it.
    assert first > 1100
    assert calls["fit"] - first <= 60 * 16
    assert calls["measured"] <= 60 * 2
    assert slots and len(slots) == len(set(slots))


@pytest.mark.parametrize("make, look", [
    (lambda: ca.conv2d(9, 3, 1, 1), {"style": "flat"}),
    (lambda: ca.conv2d(9, 3, 2, 1), {"style": "flat", "theme": "dark"}),
    (lambda: ca.conv2d(9, 3, 1, 1), {"style": "flat", "cell": 9}),  # numbers left out
    (lambda: ca.conv_transpose2d(4, 3, 2), {"style": "flat"}),
    (lambda: ca.conv2d(8, 3, 1, 1), {"style": "iso", "numbers": True}),
    (lambda: ca.pool2d("max", 6, 2, 2), {"style": "flat"}),
    (lambda: ca.pool2d_grad(ca.pool2d("max", 6, 3, 2, 1)), {"style": "flat"}),
    (lambda: ca.conv2d_grad(ca.conv2d(5, 3, 2, 1), "input", "scatter"),
     {"style": "flat", "overlay": "overlap"}),
])
def test_frame_texts_by_parts_equal_the_texts_converted_one_by_one(make, look):
    from convanim.scene import _Overlay
    from convanim.theme import THEMES

    t = ca.trace_of(make())
    sc, lay = ca.scene(t, **look), layout(t, **{k: v for k, v in look.items() if k != "theme"})
    plain = _Overlay(THEMES[look.get("theme", "classic")], sc.face)
    # In order, then out of order (the outputs' runs made in any order are the same).
    steps = list(range(t.n_steps)) + [t.n_steps - 1, 0, t.n_steps // 2, 3]
    for step in steps:
        o = lay.overlay(step)
        assert sc.frame(step).texts == plain(o.marks + o.texts), step

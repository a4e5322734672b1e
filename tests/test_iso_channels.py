"""The iso picture of channels: stacks of maps, the filter block, the output stack; what
each frame shades against the trace, the hidden parts, its refusals, its canvas from the
spec, every backend, its golden frames."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import convanim as ca
from convanim.api import layout
from convanim.backends.raster.palette import palette_alpha, palette_colours
from convanim.cli import main
from convanim.iso_channels import (
    MAX_FILTERS, MAX_MAPS, ChannelIsoLayout, canvas_size, hull, inset, split, unhidden,
    visible,
)
from convanim.layout import PAD, REAL, Plane
from convanim.scene import Shape, filter_colours
from convanim.theme import CLASSIC, DARK, THEMES

from golden import check_frame, diff_fraction

CONV = ca.conv2d(5, 3, in_channels=3, out_channels=2)
DEPTHWISE = ca.conv2d(5, 3, in_channels=3, out_channels=3, groups=3)
GROUPS = ca.conv2d(6, 3, 1, 1, in_channels=4, out_channels=4, groups=2, bias=True)
TCONV = ca.conv_transpose2d(3, 3, 2, in_channels=2, out_channels=3)
POOL = ca.pool2d("max", 5, 3, 2, 0, 1, 3)
SPECS = [CONV, DEPTHWISE, GROUPS, TCONV, POOL,
         ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0), 2, in_channels=2, out_channels=3, bias=True),
         ca.conv2d(5, 1, in_channels=3, out_channels=4)]  # pointwise
IDS = [s.short_name() for s in SPECS]


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    return exc.value.code, *capsys.readouterr()


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_one_frame_per_output_value(spec):
    t = ca.trace_of(spec)
    lay = layout(t)
    assert isinstance(lay, ChannelIsoLayout)
    oh, ow = spec.output_size
    assert lay.n_frames == spec.out_channels * oh * ow == t.n_steps
    assert len(ca.render(t)) == t.n_steps


def _cell_at(plane: Plane, p) -> tuple[int, int]:
    """The logical cell (r, c) of ``plane`` under canvas point ``p``."""
    x, y = p[0] - plane.origin[0], p[1] - plane.origin[1]
    (ux, uy), (vx, vy) = plane.u, plane.v
    det = (ux * vy - uy * vx) * plane.cell
    c = (x * vy - y * vx) / det
    r = (y * ux - x * uy) / det
    return int(np.floor(r)) + plane.first[0], int(np.floor(c)) + plane.first[1]


def _convex_holds(poly, p) -> bool:
    signs = {np.sign((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))
             for a, b in zip(poly, poly[1:] + poly[:1])}
    return not (1 in signs and -1 in signs)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_each_frame_shades_the_footprint_on_the_group_maps(spec):
    t = ca.trace_of(spec, seed=2)
    lay = layout(t)
    sc = ca.scene(t)
    per_out = spec.out_channels // spec.groups
    for step in range(t.n_steps):
        co, r, c = (int(v) for v in t.anchor[step])
        maps = list(t.step_maps(step))
        assert maps == list(range(co // per_out * (spec.in_channels // spec.groups),
                                  (co // per_out + 1) * (spec.in_channels // spec.groups)))
        foot = {(int(a), int(b)) for a, b in t.footprint(step)}
        want = {(ci, a, b) for ci in maps for a, b in foot
                if lay.maps[ci].kind(a, b) in (REAL, PAD)}
        s = lay.frame(step)
        assert {(ci, a, b) for ci, a, b, _ in s.lower} == want
        # What the scene shades: those cells, on those maps, where they are seen; every
        # cell of a group's top map when no map above it is outside the group.
        # A footprint is shaded in rectangles of cells of one kind (a shape names its
        # cell when it shades one): each fill lies in a footprint cell of its kind on a
        # map of the group, and covers every cell of the top map when nothing hides it.
        f = sc.frame(step)
        fills = [op for op in f.over if isinstance(op, Shape) and op.fill is not None]
        names = {(f"in{ci}", a, b) for ci, a, b in want}
        assert {op.cell for op in fills if op.cell is not None} <= names
        kinds = {(ci, a, b): k for ci, a, b, k in s.lower}
        for op in fills:
            role = op.role
            assert role in ("input_hl", "padding_hl")
            centre = tuple(np.mean(op.points, axis=0))
            assert any(kinds.get((ci, *_cell_at(lay.maps[ci], centre)))
                       == (REAL if role == "input_hl" else PAD) for ci in maps), (step, op)
        if maps[0] == 0:
            top = lay.maps[0]
            for ci, a, b in want:
                if ci == 0:
                    centre = top.corner(a + 0.5, b + 0.5)
                    assert any(_convex_holds(op.points, centre) for op in fills), (step, a, b)
        # The output cell, filled from this step on, on its own map.
        filled = {op.cell for op in f.fresh if op.fill is not None}
        assert filled == {(f"out{co}", r, c)}  # output maps are apart: each cell seen whole
        assert {op.stroke for op in f.fresh if op.fill is None} == {CLASSIC.line}
        # The lines run from the footprint's corners on the group's top map to the cell's.
        top, out = lay.maps[maps[0]], lay.outs[co]
        r0, c0 = (int(v) for v in t.corner[step])
        kh, kw = spec.kernel_size
        dh, dw = spec.dilation
        r1, c1 = r0 + dh * (kh - 1) + 1, c0 + dw * (kw - 1) + 1
        # Each is drawn where it is seen: a line rises evenly from the top map's height to
        # the output map's (a map's height: how far up it is moved on the canvas), and a
        # map hides the part of it that runs beneath that map's height inside its outline:
        # the output map it ends on hides all of it, the maps between the two heights (the
        # input maps above the group's top map, the output maps below its own) its first
        # part. The pieces lie on the corner-to-corner line.
        want = [(top.corner((r0, r1)[i], (c0, c1)[j]), out.corner(r + i, c + j))
                for i, j in ((0, 0), (0, 1), (1, 0), (1, 1))]
        z0, z1 = -top.origin[1], -out.origin[1]
        between = (out,) + lay.maps[:maps[0]] + lay.outs[co + 1:]
        covers = [(hull(tuple(pl.corner(a, b) for a in (pl.first[0], pl.first[0] + pl.shape[0])
                              for b in (pl.first[1], pl.first[1] + pl.shape[1]))),
                   1.0 if pl is out else (-pl.origin[1] - z0) / (z1 - z0)) for pl in between]

        def hidden(p, u):
            return any(u <= until and (max(_edge_distances(cv, p)) < -1e-6
                                       or min(_edge_distances(cv, p)) > 1e-6)
                       for cv, until in covers)

        for a0, a1 in want:
            mine = [(a, b) for a, b in f.lines if _on_line(a0, a1, a) and _on_line(a0, a1, b)]
            assert mine, "every line shows somewhere (its last part runs onto the output map's front)"
            norm = (a1[0] - a0[0]) ** 2 + (a1[1] - a0[1]) ** 2

            def u_of(q):
                return ((q[0] - a0[0]) * (a1[0] - a0[0]) + (q[1] - a0[1]) * (a1[1] - a0[1])) / norm

            for a, b in mine:
                m = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                assert not hidden(m, u_of(m))
            for u in np.linspace(0.01, 0.99, 41):  # a point of the line in sight is drawn
                p = (a0[0] + (a1[0] - a0[0]) * u, a0[1] + (a1[1] - a0[1]) * u)
                if not hidden(p, u) and not any(abs(u - until) < 1e-6 for _, until in covers):
                    assert any(_between(a, b, p) for a, b in mine)
        assert len(f.lines) == sum(1 for a, b in f.lines
                                   if any(_on_line(a0, a1, a) for a0, a1 in want))
        if maps[0] == 0:  # nothing above the group: each line from its footprint corner
            starts = [a for a, _ in f.lines]
            assert all(a0 in starts for a0, _ in want)


def _on_line(a0, a1, p):
    u = (a1[0] - a0[0]) * (p[1] - a0[1]) - (a1[1] - a0[1]) * (p[0] - a0[0])
    return abs(u) < 1e-6 * max(1.0, np.hypot(a1[0] - a0[0], a1[1] - a0[1]) ** 2)


def _between(a, b, p, tol=1e-6):
    return (min(a[0], b[0]) - tol <= p[0] <= max(a[0], b[0]) + tol
            and min(a[1], b[1]) - tol <= p[1] <= max(a[1], b[1]) + tol)


def _edge_distances(poly, p):
    """Distances of ``p`` from the lines of the edges of ``poly``."""
    out = []
    for i in range(len(poly)):
        (ax, ay), (bx, by) = poly[i], poly[(i + 1) % len(poly)]
        out.append(((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)) / np.hypot(bx - ax, by - ay))
    return out


def test_depthwise_each_step_shades_exactly_its_own_map():
    t = ca.trace_of(DEPTHWISE)
    lay = layout(t)
    for step in range(t.n_steps):
        co = int(t.anchor[step][0])
        assert {ci for ci, *_ in lay.frame(step).lower} == {co}
        # One map: the block is its footprint's box, no upright edges (the box's edges run
        # along the grid, never straight up the screen).
        edges = lay.frame(step).block
        assert edges and all(abs(a[0] - b[0]) > 1e-6 for a, b, _ in edges)


def test_pooling_pools_each_map_alone():
    t = ca.trace_of(POOL)
    lay = layout(t)
    for step in range(t.n_steps):
        assert {ci for ci, *_ in lay.frame(step).lower} == {int(t.anchor[step][0])}


def test_filter_colours_are_distinct_and_the_themes_own():
    for theme in THEMES.values():
        cs = filter_colours(theme, MAX_FILTERS)
        assert len(set(cs)) == MAX_FILTERS
        assert not set(cs) & set(theme.colours())
        assert filter_colours(theme, 3) == cs[:3]  # a filter keeps its colour


def test_print_filter_greys_are_far_apart_and_off_the_lines_and_maps():
    """--theme print: 8 greys told apart (neighbouring maps by 4 steps or more), each far
    from the grid line's grey (the lines show on a filled cell) and darker than the maps
    (a filled cell shows on its map, the block's edges on the input maps)."""
    theme = THEMES["print"]
    vs = [sum(c) / 3 for c in filter_colours(theme, MAX_FILTERS)]
    line, maps = sum(theme.line) / 3, min(sum(theme.input), sum(theme.output_empty)) / 3
    assert min(abs(a - b) for i, a in enumerate(vs) for b in vs[i + 1:]) >= 14
    assert min(abs(a - b) for a, b in zip(vs, vs[1:])) >= 55
    assert min(vs) - line >= 45 and maps - max(vs) >= 24


def test_each_output_map_fills_in_its_filters_colour():
    t = ca.trace_of(CONV)
    sc = ca.scene(t)
    colours = filter_colours(CLASSIC, 2)
    assert sc.colours == colours
    for step in range(t.n_steps):
        co = int(t.anchor[step][0])
        assert {op.fill for op in sc.fresh_of(step) if op.fill is not None} == {colours[co]}
        blocks = [op for op in sc.frame(step).over if op.role == f"filter{co}"]
        assert blocks and all(op.stroke == colours[co] for op in blocks)


def test_the_raster_palette_holds_the_filter_colours_exactly():
    theme = CLASSIC
    assert np.array_equal(palette_colours(theme, True), palette_colours(theme, True, ()))
    extra = filter_colours(theme, 8)
    pal = [tuple(c) for c in palette_colours(theme, True, extra)]
    assert all(c in pal for c in extra) and len(pal) == 256
    assert palette_alpha(theme.with_transparent(), True, extra).shape == (256, 4)
    # In a frame, the output cell just computed is painted in its filter's own colour.
    t = ca.trace_of(CONV)
    frame = ca.render(t)[10].convert("RGB")
    co = int(t.anchor[10][0])
    got = {c for _, c in frame.getcolors(1 << 20)}
    assert extra[0] in got and extra[co] in got


# The hidden parts ------------------------------------------------------------------

def _plane(origin, shape=(4, 5), cell=30.0):
    return Plane(np.full(shape, REAL, dtype=np.uint8), (0, 0), origin, cell)


def _inside(poly, x, y) -> bool:
    """Is (x, y) inside convex ``poly`` (either orientation)?"""
    sign = 0
    for i in range(len(poly)):
        (ax, ay), (bx, by) = poly[i], poly[(i + 1) % len(poly)]
        cr = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
        if cr != 0:
            if sign and (cr > 0) != (sign > 0):
                return False
            sign = cr
    return True


@pytest.mark.parametrize("lift", [12.0, 40.0, 75.0])
def test_visible_is_the_cell_less_the_plane_above(lift):
    """Sampled points: a cell's pieces hold exactly its points outside the map above."""
    below, above = _plane((50.0, 200.0)), _plane((50.0, 200.0 - lift))
    outline = hull(tuple(above.corner(r, c) for r in (0, 4) for c in (0, 5)))
    rng = np.random.default_rng(0)
    for r in range(4):
        for c in range(5):
            quad = below.quad(r, c)
            pieces = visible(quad, above)
            xs, ys = zip(*quad)
            for x, y in zip(rng.uniform(min(xs), max(xs), 200), rng.uniform(min(ys), max(ys), 200)):
                if not _inside(quad, x, y):
                    continue
                seen = any(_inside(p, x, y) for p in pieces)
                hidden = _inside(outline, x, y)
                assert seen != hidden or min(abs(x - px) + abs(y - py)
                                             for px, py in outline) < 1e-6


def test_a_top_map_is_seen_whole_and_a_covered_cell_not_at_all():
    top = _plane((50.0, 100.0))
    quad = top.quad(1, 1)
    assert visible(quad, None) == (quad,)
    below = _plane((50.0, 110.0))
    assert visible(below.quad(0, 4), top) == ()  # the back corner, under the map above
    assert visible(below.quad(3, 0), top) != ()  # the front corner shows
    small = inset(quad, 0.8)
    assert all(_inside(quad, x, y) for x, y in small)


def test_split_marks_the_part_inside_as_hidden():
    square = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
    assert split((-5.0, 5.0), (15.0, 5.0), square) == [
        ((-5.0, 5.0), (0.0, 5.0), False), ((0.0, 5.0), (10.0, 5.0), True),
        ((10.0, 5.0), (15.0, 5.0), False)]
    assert split((2.0, 2.0), (3.0, 3.0), square) == [((2.0, 2.0), (3.0, 3.0), True)]
    assert split((-5.0, -5.0), (-1.0, 20.0), square) == [((-5.0, -5.0), (-1.0, 20.0), False)]
    assert split((-5.0, 5.0), (15.0, 5.0), None) == [((-5.0, 5.0), (15.0, 5.0), False)]


# Refusals, before any work -----------------------------------------------------------

@pytest.mark.parametrize("args, head", [
    (["conv", "--i", "5", "--k", "3", "--cin", str(MAX_MAPS + 1), "-o", "a.gif"],
     f"channels: the iso picture stacks up to {MAX_MAPS} input maps and {MAX_FILTERS} output "
     f"maps (got {MAX_MAPS + 1} input maps and 1 output map); write the trace with -o "
     "NAME.json, or see the shapes with convanim info"),  # flat refuses them too: not offered
    (["conv", "--i", "5", "--k", "3", "--cin", str(MAX_MAPS + 1), "--cout", "3", "--groups",
      "3", "-o", "a.gif"], f"(got {MAX_MAPS + 1} input maps and 3 output maps); use --style "
     "flat, write the trace"),  # 3 maps a group: the flat picture draws them
    (["conv", "--i", "5", "--k", "3", "--cin", "2", "--cout", str(MAX_FILTERS + 1), "-o",
      "a.gif"], f"(got 2 input maps and {MAX_FILTERS + 1} output maps)"),
    (["pool", "--i", "5", "--k", "3", "--cin", str(MAX_MAPS + 1), "-o", "a.svg"],
     f"channels: the iso picture stacks up to {MAX_MAPS} maps when pooling (got "
     f"{MAX_MAPS + 1}); write the trace"),
    (["conv", "--i", "5", "--k", "3", "--cin", "2", "--numbers", "-o", "a.gif"],
     "numbers: the iso picture of channels has no numbers in its cells"),
    (["tconv", "--i", "3", "--k", "3", "--cin", "2", "--overlay", "overlap", "-o", "a.gif"],
     "overlay"),
    # The page draws the iso picture, and refuses what that picture cannot draw.
    (["conv", "--i", "5", "--k", "3", "--cin", "2", "--numbers", "-o", "a.html"],
     "numbers: the iso picture of channels has no numbers in its cells; use --style flat"),
])
def test_refusals_one_line_nothing_written(args, head, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(args, capsys)
    assert code == 2 and err.count("\n") == 1 and head in err, err
    assert list(tmp_path.iterdir()) == []


def test_beyond_the_limits_is_refused_before_the_trace(monkeypatch):
    spec = ca.conv2d(5, 3, in_channels=2, out_channels=MAX_FILTERS + 1)
    with pytest.raises(ca.SpecError, match=f"up to {MAX_MAPS} input maps and {MAX_FILTERS}"):
        ca.api.check_drawable(spec, "iso")
    monkeypatch.setattr(ca.api, "trace_of", lambda *a, **k: pytest.fail("traced"))
    with pytest.raises(ca.SpecError, match=f"up to {MAX_MAPS} input maps"):
        ca.api.run_job(ca.api.Job(spec, outputs=("a.gif",)))
    # The stacks' canvas, from the spec: 8 maps of 40x40 are over 4,000 px tall (the one-map
    # iso canvas of the same spec is not).
    big = ca.conv2d(40, 3, in_channels=8, out_channels=8)
    assert max(ca.iso.canvas_size(big)) < ca.api.MAX_SIZE < max(canvas_size(big))
    free = ca.api.Limits(max_frames=None, max_products=None)
    with pytest.raises(ca.api.LimitError, match="more than the limit of 4,000 px a side"):
        ca.api.run_job(ca.api.Job(big, outputs=("a.gif",), limits=free))


def test_the_limits_draw():
    spec = ca.conv2d(7, 3, 1, 1, in_channels=MAX_MAPS, out_channels=MAX_FILTERS, bias=True)
    t = ca.trace_of(spec)
    lay = layout(t, labels=True)
    assert max(lay.size) <= ca.api.MAX_SIZE
    sc = ca.scene(t, labels=True)
    sc.frame(t.n_steps - 1)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@pytest.mark.parametrize("cell, labels", [(32, False), (17, True)])
def test_canvas_size_from_the_spec_is_the_layouts(spec, cell, labels):
    lay = layout(ca.trace_of(spec), cell, labels=labels)
    assert canvas_size(spec, cell, labels) == lay.size


# Every backend -------------------------------------------------------------------------

def test_gif_svg_pdf_png_are_written(tmp_path):
    t = ca.trace_of(GROUPS)
    gif = ca.save(t, tmp_path / "a.gif", labels=True, caption="auto")
    with Image.open(gif) as im:
        assert im.n_frames == t.n_steps
    svg = ca.save(t, tmp_path / "a.svg", labels=True)
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<svg") or "<svg" in text[:500]
    for c in filter_colours(CLASSIC, 4):
        assert "#{:02x}{:02x}{:02x}".format(*c) in text.lower()
    assert "y[1,0,0]" in text  # the frame's formula
    pdf = ca.save(t, tmp_path / "a.pdf", frame=7)
    assert pdf.read_bytes().startswith(b"%PDF")
    png = ca.save(t, tmp_path / "a.png", frame=7)
    with Image.open(png) as im:
        assert im.size == layout(t).size


def test_a_still_frame_is_the_animations():
    t = ca.trace_of(CONV)
    frames = ca.render(t)
    sc = ca.scene(t)
    from convanim.backends.raster import frame_image
    for step in (0, 9, t.n_steps - 1):
        assert diff_fraction(frame_image(sc, step), frames[step]) <= 0.002


def test_scaled_and_themed():
    t = ca.trace_of(DEPTHWISE)
    one = ca.render(t)[4]
    two = ca.render(t, scale=2)[4]
    assert two.size == (one.size[0] * 2, one.size[1] * 2)
    dark = ca.render(t, theme="dark")[13].convert("RGB")  # map 1's fifth value
    assert int(t.anchor[13][0]) == 1
    assert filter_colours(DARK, 3)[1] in {c for _, c in dark.getcolors(1 << 20)}


# Work per frame (issue 12: a frame of 3 maps and 4 filters within 2x of one map's) ------

def test_footprint_is_shaded_in_rectangles():
    # The footprint on each map: a rectangle of cells of one kind is one fill in sight
    # and its grid lines, not a fill and four edges per cell; a hidden edge is dashed
    # one piece per half cell of length.
    t = ca.trace_of(ca.conv2d(8, 3, 1, 1, in_channels=3, out_channels=4))
    lay = layout(t)
    sc = ca.scene(t)
    cell = lay.maps[0].cell
    for step in (0, 9, 30):
        f = sc.frame(step)
        fills = [op for op in f.over if op.fill is not None]
        kinds = {(ci, k) for ci, _, _, k in lay.frame(step).lower}
        # each map's footprint in at most 3 rectangles (padding along two sides), each
        # seen in at most 2 pieces (below either lower edge of the map above)
        assert len(fills) <= 2 * 3 * len({ci for ci, _ in kinds})
        if step == 9:  # no padding in the footprint: one rectangle per map
            assert len({(op.points[0], op.role) for op in fills}) <= 2 * 3
        shapes = lay.frame(step)
        hidden = [np.hypot(b[0] - a[0], b[1] - a[1])
                  for a, b, h in shapes.block + shapes.cell_edges if h]
        # (one dashed polyline per hidden edge, a piece per half cell)
        assert sum(1 for op in f.over if op.dashed) == len(hidden)
        assert sum(len(op.points) - 1 for op in f.over if op.dashed) == sum(
            max(1, round(n / (cell / 2))) for n in hidden)


def test_covers_are_made_once_not_per_frame(monkeypatch):
    # What hides a map's cells (the outline of the map above, moved out half a grid line)
    # is the same plane for every frame: made once per map, then each frame only looks
    # it up (it was made again for every cell and grid line a frame looked at, 388
    # times over frames 1..60 of this figure).
    import convanim.iso_channels as iso_channels

    made = [0]
    inset = iso_channels.inset

    def counting(poly, d):
        made[0] += 1
        return inset(poly, d)

    monkeypatch.setattr(iso_channels, "inset", counting)
    t = ca.trace_of(ca.conv2d(8, 3, 1, 1, in_channels=3, out_channels=4))
    sc = ca.scene(t)
    sc.frame(0)
    assert 0 < made[0] <= t.spec.in_channels + t.spec.out_channels
    made[0] = 0
    for step in range(1, 61):
        sc.frame(step)
    assert made[0] == 0


def test_painter_draws_a_few_times_one_maps_operations(monkeypatch):
    # Counted, not timed: the operations the raster draws for a frame after the first
    # (medians of frames 1..60, as the benchmark times). The block spans three maps, so
    # it draws more than one map's window: 4.4 times as many (321 against 73), 5.4 times
    # (394) when its footprint was shaded a fill and four edges per cell.
    from itertools import islice

    from convanim.backends.raster import canvas as canvas_mod

    count = [0]
    draw_ops = canvas_mod._draw_ops

    def counting(draw, layer, idx, ox, oy):
        count[0] += len(idx)
        return draw_ops(draw, layer, idx, ox, oy)

    monkeypatch.setattr(canvas_mod, "_draw_ops", counting)

    def median_ops(**channels):
        t = ca.trace_of(ca.conv2d(8, 3, 1, 1, **channels))
        per_frame = []
        for _ in islice(ca.iter_frames(t, 32), 61):
            per_frame.append(count[0])
            count[0] = 0
        return float(np.median(per_frame[1:]))

    one, many = median_ops(), median_ops(in_channels=3, out_channels=4)
    assert many <= 4.8 * one, (one, many)


# Golden frames -------------------------------------------------------------------------

@pytest.mark.parametrize("name, spec, step, look", [
    ("iso_conv_i5_k3_cin3_cout2_9", CONV, 9, {}),
    ("iso_conv_i5_k3_cin3_depthwise_13", DEPTHWISE, 13, {}),
    ("iso_conv_i6_k3_p1_cin4_cout4_g2_bias_labels_40", GROUPS, 40, {"labels": True}),
    ("iso_tconv_i3_k3_s2_cin2_cout3_73", TCONV, 73, {}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_golden_channel_frames(name, spec, step, look, regen_golden):
    frames = ca.render(ca.trace_of(spec), **look)
    check_frame(name, frames[step], regen_golden)


@pytest.mark.parametrize("spec", [CONV, GROUPS, TCONV, POOL], ids=lambda s: s.short_name())
def test_no_line_crosses_a_map_name(spec):
    """The names x[i] / y[i] sit left of every plane, where no connecting line passes."""
    t = ca.trace_of(spec)
    lay = layout(t, labels=True)
    names = [i for i in lay.static if i.texts[0][:2] in ("x[", "y[")]
    assert len(names) == spec.in_channels + spec.out_channels
    for step in range(t.n_steps):
        for a, b in lay.frame(step).lines:
            for item in names:
                x0 = min(x for x, _ in item.slot)
                x1 = max(x for x, _ in item.slot)
                assert min(a[0], b[0]) > x1 or max(a[0], b[0]) < x0, (step, item.texts)


def test_the_block_outline_thins_with_the_cell():
    """The block's and the output cell's seen edges: 2.5 px at the default cell, thinner
    with small cells (a fixed width covered the bands between maps), never below a grid line."""
    from convanim.scene import GRID_W
    widths = {}
    for cell in (32, 24, 12):
        t = ca.trace_of(CONV)
        sc = ca.scene(t, cell=cell)
        f = sc.frame(5)
        widths[cell] = {op.width for op in f.over if op.role == "filter0" and not op.dashed}
    assert widths[32] == {2.5}
    assert len(widths[24]) == 1 and GRID_W < widths[24].pop() < 2.5
    assert widths[12] == {GRID_W}


def test_the_frames_limit_counts_output_values_with_channels():
    with pytest.raises(ca.api.LimitError, match=r"has 18 frames \(one per output value\)"):
        ca.api.check_limits(CONV, max_frames=10)
    with pytest.raises(ca.api.LimitError, match=r"has 9 frames \(one per kernel placement\)"):
        ca.api.check_limits(ca.conv2d(5, 3), max_frames=5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=2, max_size=2),
       st.lists(st.tuples(st.floats(-40, 40), st.floats(-40, 40), st.floats(2, 30),
                          st.floats(0, 1)), max_size=4))
def test_unhidden_keeps_exactly_the_points_no_cover_hides(ends, boxes):
    """unhidden against the definition, point by point: a point at fraction u of the
    segment is hidden when it lies inside a cover whose reach (its t) is at least u."""
    p0, p1 = ends
    covers = tuple((((x, y), (x + s, y), (x + s, y + s), (x, y + s)), t) for x, y, s, t in boxes)
    pieces = unhidden(p0, p1, covers)
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    if dx * dx + dy * dy < 1e-6:
        return
    for a, b in zip(pieces, pieces[1:]):  # in order from p0, apart
        ua = ((a[1][0] - p0[0]) * dx + (a[1][1] - p0[1]) * dy) / (dx * dx + dy * dy)
        ub = ((b[0][0] - p0[0]) * dx + (b[0][1] - p0[1]) * dy) / (dx * dx + dy * dy)
        assert ua < ub + 1e-9

    def hidden(u):
        x, y = p0[0] + dx * u, p0[1] + dy * u
        return any(u <= t and (q[0][0] + 1e-6 < x < q[1][0] - 1e-6)
                   and (q[0][1] + 1e-6 < y < q[2][1] - 1e-6) for q, t in covers)

    def near_edge(u):  # where rounding may go either way: a cover's side or reach
        x, y = p0[0] + dx * u, p0[1] + dy * u
        return any(abs(u - t) < 1e-6 or min(abs(x - q[0][0]), abs(x - q[1][0]),
                                            abs(y - q[0][1]), abs(y - q[2][1])) < 1e-4
                   for q, t in covers)

    def drawn(u):
        x, y = p0[0] + dx * u, p0[1] + dy * u
        for a, b in pieces:
            ua = ((a[0] - p0[0]) * dx + (a[1] - p0[1]) * dy) / (dx * dx + dy * dy)
            ub = ((b[0] - p0[0]) * dx + (b[1] - p0[1]) * dy) / (dx * dx + dy * dy)
            if ua - 1e-9 <= u <= ub + 1e-9:
                return True
        return False

    for u in np.linspace(0.0, 1.0, 101):
        if not near_edge(u):
            assert drawn(u) == (not hidden(u)), u

"""Lines at 1x (backends/raster/wu.py) and a frame's edge strokes (backends/raster/edges.py),
against plain loops of their definitions and against the supersampled strokes."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convanim as ca
from convanim import api
from convanim.backends import raster
from convanim.backends.raster import animate as animate_mod
from convanim.backends.raster import canvas as canvas_mod
from convanim.backends.raster.canvas import Canvas
from convanim.backends.raster.edges import stroke_rows
from convanim.backends.raster.ops import SS, Ops
from convanim.backends.raster.wu import coverage_many
from convanim.scene import Shape
from convanim.theme import CLASSIC


def plain_coverage(p0, p1, span):
    """One segment's coverage, pixel by pixel: sampled at the pixel centres along its
    major axis, each pixel across it getting its overlap with the span centred there."""
    (x0, y0), (x1, y1) = p0, p1
    steep = abs(y1 - y0) > abs(x1 - x0)
    if steep:
        x0, y0, x1, y1 = y0, x0, y1, x1
    if x1 < x0:
        x0, y0, x1, y1 = x1, y1, x0, y0
    slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
    got: Counter = Counter()
    m = int(np.floor(x0 - 0.5)) + 1
    while m + 0.5 <= x1:
        centre = y0 + (m + 0.5 - x0) * slope  # the line's minor coordinate there
        lo, hi = centre - span / 2, centre + span / 2
        for n in range(int(np.floor(lo)) - 1, int(np.floor(hi)) + 2):
            w = max(0.0, min(n + 1, hi) - max(n, lo))
            if w > 0:
                got[(m, n) if steep else (n, m)] += w
        m += 1
    return got


coord = st.floats(-8, 60, allow_nan=False).map(lambda v: round(v, 3))
segment = st.tuples(coord, coord, coord, coord)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(segment, st.sampled_from([1.0, 1.7, 2.0, 3.07, 4.4])), min_size=1,
                max_size=6), st.booleans())
def test_coverage_of_many_segments_is_the_plain_loop_of_each(segs, all_one):
    spans = [1.0 if all_one else s for _, s in segs]
    ys, xs, w, seg = coverage_many(np.array([s for s, _ in segs], dtype=np.float64),
                                   1.0 if all_one else np.array(spans))
    for k, ((x0, y0, x1, y1), _) in enumerate(segs):
        mine = seg == k
        got: Counter = Counter()
        for y, x, v in zip(ys[mine].tolist(), xs[mine].tolist(), w[mine].tolist()):
            if v > 0:
                got[(y, x)] += v
        want = plain_coverage((x0, y0), (x1, y1), spans[k])
        assert got.keys() == want.keys(), k
        assert all(abs(got[p] - want[p]) < 1e-9 for p in want), k


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=2, max_size=5), st.booleans(),
       st.sampled_from([1.6, 2.5, 0.9, 4.0]))
def test_edge_strokes_are_the_segments_ops_draws(points, dashed, width):
    # The strokes an edge is blended as are those Ops draws of the same shape: the same
    # pieces and ends (a dash that touches an end of its piece extended at both of its
    # ends), the same width in whole supersampled px, which a slanted stroke spans more
    # of across its minor axis.
    shape = Shape(tuple(points), stroke=(0, 0, 0), width=width, dashed=dashed, closed=False)
    ops = Ops()
    ops.add(shape)
    pieces = np.array([(*a, *b) for a, b in zip(points, points[1:])], dtype=np.float64)
    segs, spans, which = stroke_rows(pieces, np.full(len(pieces), width),
                                     np.full(len(pieces), dashed))
    drawn = [op for op in ops.ops if op[0] == "l"]
    kept = [(pts, w) for _, pts, _, w in drawn if pts[0] != pts[1]]
    assert len(segs) == len(kept)
    for row, span, (((ax, ay), (bx, by)), w) in zip(segs, spans, kept):
        assert np.allclose(row, [ax / SS, ay / SS, bx / SS, by / SS], atol=1e-9)
        dx, dy = row[2] - row[0], row[3] - row[1]
        assert span == pytest.approx(w / SS * np.hypot(dx, dy) / max(abs(dx), abs(dy)))
    assert np.all(np.diff(which) >= 0)  # in the order of the shape's pieces


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 11), st.floats(0.01, 1.0)), min_size=1, max_size=40),
       st.sampled_from([3, 9]))
def test_blended_coverages_combine_as_one_line_laid_over_another(entries, levels):
    canvas = Canvas((4, 3), CLASSIC)
    out = np.asarray(np.arange(12) % 5, dtype=np.uint8).reshape(3, 4).copy()
    before = out.copy()
    where = np.array([p for p, _ in entries], dtype=np.int64)
    alpha = np.array([a for _, a in entries])
    box = canvas.blend_cover(out, where, alpha, CLASSIC.connector, levels)
    clear: dict = {}
    for p, a in entries:  # in the order given
        clear[p] = clear.get(p, 1.0) * (1.0 - a)
    want = before.copy().reshape(-1)
    for p, c in clear.items():
        k = round((1.0 - c) * levels)
        if k:
            want[p] = canvas.to_palette.blend(before.reshape(-1)[[p]], CLASSIC.connector,
                                              np.array([k / levels]))[0]
    assert np.array_equal(out.reshape(-1), want)
    written = [p for p, c in clear.items() if round((1.0 - c) * levels)]
    if written:
        rows, cols = [p // 4 for p in written], [p % 4 for p in written]
        assert box == (min(cols), min(rows), max(cols) + 1, max(rows) + 1)
    else:
        assert box is None
    # Entries of a blend before do not carry over into the next.
    again = before.copy()
    canvas.blend_cover(again, where, alpha, CLASSIC.connector, levels)
    assert np.array_equal(again, out)


def test_channel_frames_mark_their_edges_last():
    # Frame.edges: the block's and the output cell's edges, open strokes, at the end of over.
    t = ca.trace_of(ca.conv2d(5, 3, 1, 1, in_channels=2, out_channels=2))
    scene = api.scene(t)
    for step in range(t.n_steps):
        f = scene.frame(step)
        assert f.edges > 0
        for op in f.over[len(f.over) - f.edges:]:
            assert not op.closed and op.fill is None and op.stroke is not None
        assert all(op.fill is not None or op.role == "line"
                   for op in f.over[:len(f.over) - f.edges])
    one = api.scene(ca.trace_of(ca.conv2d(5, 3, 1, 1)))
    assert all(one.frame(k).edges == 0 for k in range(one.n_frames))


@pytest.mark.parametrize("look", [
    {}, {"style": "flat"}, {"labels": True, "caption": "auto"},
    {"style": "flat", "caption": "auto", "transparent": True},
    {"labels": True, "transparent": True, "scale": 1.5}])
def test_kept_rectangles_are_the_rectangles_painted_again(monkeypatch, look):
    # With channels each filter meets the footprints again: their rectangles are copied
    # from the first filter's, and the frames are those painted anew, from any start and
    # in one reused buffer too.
    t = ca.trace_of(ca.conv2d(5, 3, 1, 1, in_channels=2, out_channels=3))
    scene = api.scene(t, ca.Look(**look))
    painted = Counter()
    plain = canvas_mod.Canvas.paint

    def counted(self, out, rects, layers, whole=False):
        painted["whole" if whole else "rects"] += len(rects)
        return plain(self, out, rects, layers, whole)

    monkeypatch.setattr(canvas_mod.Canvas, "paint", counted)
    kept = [np.array(f) for f in raster.frames(scene)]
    with_kept = painted["rects"]
    later = [np.array(f) for f in raster.frames(scene, start=11)]
    reused = [np.array(f) for f in raster.frames(scene, reuse=True)]
    painted.clear()
    monkeypatch.setattr(animate_mod, "PAINTED_BYTES", 0)
    anew = [np.array(f) for f in raster.frames(scene)]
    assert painted["rects"] > with_kept  # rectangles copied, not painted
    assert all(np.array_equal(a, b) for a, b in zip(kept, anew))
    assert all(np.array_equal(a, b) for a, b in zip(reused, anew))
    # (from a later start, against the same start: drawn from one, a frame can differ
    # from the one-pass drawing by a shade, with or without kept rectangles)
    later_anew = [np.array(f) for f in raster.frames(scene, start=11)]
    assert all(np.array_equal(a, b) for a, b in zip(later, later_anew))


def test_frames_recur_only_with_more_than_one_filter_a_group():
    t = ca.trace_of(ca.conv2d(5, 3, 1, 1, in_channels=2, out_channels=3))
    assert api.scene(t).recurs and api.scene(t, ca.Look(style="flat")).recurs
    for kw in ({"in_channels": 3, "out_channels": 3, "groups": 3}, {}):
        assert not api.scene(ca.trace_of(ca.conv2d(5, 3, 1, 1, **kw))).recurs


def test_text_an_edge_reaches_stays_on_top():
    # An edge stroke far wider than the 2 px the connecting lines are tested within: the
    # text it reaches is stamped again over it, so its ink stays dark.
    from convanim.scene import Frame, Scene, Text

    text = Text("8", 14.0, 36.0, 20.0, (0, 0, 0), (36.0, 20.0, 44.0, 34.0), 32.0, 40.0)
    edge = Shape(((30.0, 0.0), (30.0, 60.0)), stroke=(200, 30, 90), width=24.0, closed=False)
    scene = Scene((80, 60), CLASSIC, (), (), 2,
                  lambda step: Frame(over=(edge,), texts=(text,), edges=1), has_text=True,
                  colours=((200, 30, 90),))
    got = [np.array(f.convert("RGB"), dtype=int) for f in raster.frames(scene)]
    alone = np.array(raster.frame_image(scene, 1).convert("RGB"), dtype=int)
    plain = Scene((80, 60), CLASSIC, (), (), 1, lambda step: Frame(texts=(text,)),
                  has_text=True)
    bare = np.array(raster.frame_image(plain, 0).convert("RGB"), dtype=int)
    ink = bare.sum(axis=2) < 100  # the text's darkest pixels
    ink[:, 43:] = False  # where the stroke (x 18..42) lies under them
    assert ink.any()
    for picture in (got[0], got[1], alone):
        assert (picture[ink].sum(axis=1) < 200).all()

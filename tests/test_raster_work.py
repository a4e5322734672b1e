"""How much the raster draws per frame (issue 15): drawing operations counted, not timed.

A frame repaints only where it changes: static text (titles, the kernel's weights,
the numbers of cells the window is not on) is drawn once, into the still picture,
and the work of a frame does not grow with the grid.
"""

from collections import Counter

import numpy as np
import pytest

import convanim as ca
from convanim.backends import raster
from convanim.backends.raster import animate as animate_mod
from convanim.backends.raster import canvas as canvas_mod
from convanim.backends.raster import ops as ops_mod
from convanim.flat import flat_layout
from convanim.iso import iso_layout
from convanim.layout import REAL
from convanim.scene import plane_ops
from convanim.theme import CLASSIC


class Tally:
    """Per frame: the operations drawn (shapes, lines, texts) and each text drawn, by
    (string, place), counted by wrapping the painter's drawing call."""

    def __init__(self, monkeypatch):
        self.ops = 0
        self.texts: Counter = Counter()
        draw_ops = canvas_mod._draw_ops

        def counting_draw_ops(draw, layer, idx, ox, oy):
            self.ops += len(idx)
            for i in idx:
                op = layer.ops[i]
                if op[0] == "t":  # ("t", [(x, y)], text, ...): its place, supersampled
                    self.texts[(op[2], op[1][0])] += 1
            return draw_ops(draw, layer, idx, ox, oy)

        monkeypatch.setattr(canvas_mod, "_draw_ops", counting_draw_ops)

    def frames(self, frames):
        """(ops drawn, texts drawn Counter) for each frame of the iterator ``frames``."""
        out = []
        for _ in frames:
            out.append((self.ops, self.texts))
            self.ops, self.texts = 0, Counter()
        return out


def work(monkeypatch, spec, **look):
    tally = Tally(monkeypatch)
    return tally.frames(ca.iter_frames(ca.trace_of(spec), 32, **look))


def after_first(per_frame):
    return per_frame[1:]


def test_static_text_of_the_flat_picture_is_drawn_once(monkeypatch):
    # The kernel's title and weights and the * and = between the grids never change and
    # nothing moves over them: painted with the still picture, never again (the old
    # painter redrew them with every 64-px tile that a moving shape touched).
    spec = ca.conv2d(6, 3, 1, 1)
    per_frame = work(monkeypatch, spec, style="flat")
    total = sum((texts for _, texts in per_frame), Counter())
    later = sum((texts for _, texts in after_first(per_frame)), Counter())
    fixed = [k for k in total if k[0] in ("kernel 3×3", "*", "=")]
    assert len(fixed) == 3
    kernel = {str(int(v)) for v in ca.trace_of(spec).weight.ravel()}
    lay = flat_layout(ca.trace_of(spec), 32)
    x0, y0, x1, y1 = (v * ops_mod.SS for v in lay.grids["kernel"].extent())
    weights = [k for k in total if k[0] in kernel and x0 <= k[1][0] <= x1 and y0 <= k[1][1] <= y1]
    assert len(weights) == 9
    for key in fixed + weights:
        assert total[key] == 1 and later[key] == 0, (key, total[key])
    # Titles next to a grid are drawn again only while a moving shape is beside them.
    for title in ("input 6×6, padding 1", "output 6×6"):
        (key,) = [k for k in total if k[0] == title]
        assert total[key] <= 1 + 6, (title, total[key])  # the still + the first row's steps
    # The step's sum line is the only long text: blended at 1x once a frame, not drawn.
    assert not [k for k in total if len(k[0]) > ops_mod.MASK_CACHE_CHARS]


def test_long_texts_are_blended_at_1x_once_a_rectangle(monkeypatch):
    # A step's line, a caption, a title: by coverage over the reduced pixels (a mask of
    # nine times the pixels cost a tenth of a flat frame), each once where a rectangle
    # meets it; the pixels are the supersampled drawing's but for a few edge shades.
    blended = Counter()
    late = canvas_mod.Canvas._blend_late
    monkeypatch.setattr(canvas_mod.Canvas, "_blend_late",
                        lambda self, out, op, rect: blended.update([op[2]])
                        or late(self, out, op, rect))
    t = ca.trace_of(ca.conv2d(6, 3, 1, 1))
    look = dict(style="flat", caption="auto", title="a title long enough to be blended late")
    frames = [np.asarray(f.convert("RGB"), dtype=np.int16) for f in ca.iter_frames(t, 32, **look)]
    sums = [k for k in blended if k.endswith(f"= {int(t.output[0, 0])}") or "\u00d7" in k]
    assert len(sums) >= t.n_steps - 1 and all(blended[k] <= 2 for k in sums)
    assert any(k.startswith("a title") for k in blended)
    monkeypatch.setattr(canvas_mod, "MASK_CACHE_CHARS", 10 ** 6)  # every text drawn
    drawn = [np.asarray(f.convert("RGB"), dtype=np.int16) for f in ca.iter_frames(t, 32, **look)]
    for a, b in zip(frames, drawn):
        d = np.abs(a - b).max(axis=2)
        assert (d > 0).mean() < 0.002 and d.max() <= 24  # a palette step on some edge pixels


@pytest.mark.parametrize("look", [{"style": "flat"}, {"numbers": True}],
                         ids=["flat", "numbers"])
def test_text_drawn_per_frame_is_what_changes(monkeypatch, look):
    # A frame draws the window's texts, the output cell's, the sum line and what
    # touches them: a few dozen, whatever the grid (a text both in the still picture's
    # repaint and in the frame's, or in two overlapping rectangles, is drawn twice).
    for i in (6, 16):
        per_frame = after_first(work(monkeypatch, ca.conv2d(i, 3, 1, 1), **look))
        for ops, texts in per_frame:
            assert sum(texts.values()) <= 45
            assert max(texts.values(), default=0) <= 2


@pytest.mark.parametrize("look", [{"style": "flat"}, {"numbers": True}, {}],
                         ids=["flat", "numbers", "iso"])
def test_work_per_frame_does_not_grow_with_the_grid(monkeypatch, look):
    # The same window moving over a 4x4 or a 16x16 input (a canvas past the size whose
    # bottom layer is kept whole): each frame draws about as many operations (medians
    # over the frames after the first).
    def median_ops(i):
        per_frame = after_first(work(monkeypatch, ca.conv2d(i, 3, 1, 1), **look))
        return float(np.median([ops for ops, _ in per_frame]))

    small, large = median_ops(4), median_ops(16)
    assert large <= 1.3 * small, (small, large)


def test_scatter_work_per_frame_does_not_grow_with_the_grid(monkeypatch):
    def median_ops(i):
        spec = ca.conv_transpose2d(i, 3, view="scatter")
        return float(np.median([ops for ops, _ in after_first(work(monkeypatch, spec))]))

    small, large = median_ops(4), median_ops(16)
    assert large <= 1.3 * small, (small, large)


def _layers(lay, theme):
    lower, upper = raster.Ops(), raster.Ops()
    for op in plane_ops(lay.lower, {REAL: (theme.input, "input")}, theme, "input"):
        lower.add(op)
    for op in plane_ops(lay.upper, {REAL: (theme.output, "output")}, theme, "output"):
        upper.add(op)
    return lower, upper


@pytest.mark.parametrize("spec", [ca.conv2d(5, 3, 1, 2), ca.transpose_of(ca.conv2d(6, 3, 2, 1))],
                         ids=lambda s: s.short_name())
def test_any_rectangle_draws_what_the_bands_draw(spec):
    # Frames repaint rectangles of any size and place (the boxes of what moves), not
    # tiles: each must draw the same pixels as the still picture's bands.
    lay = iso_layout(ca.trace_of(spec), cell=32)
    canvas = raster.Canvas(lay.size, CLASSIC)
    layers = list(_layers(lay, CLASSIC))
    bands = np.zeros((canvas.h, canvas.w), np.uint8)
    canvas.paint(bands, canvas.bands(), layers)
    rng = np.random.default_rng(15)
    for _ in range(40):
        x0, y0 = int(rng.integers(0, canvas.w - 1)), int(rng.integers(0, canvas.h - 1))
        x1 = int(rng.integers(x0 + 1, min(canvas.w, x0 + 150) + 1))
        y1 = int(rng.integers(y0 + 1, min(canvas.h, y0 + 150) + 1))
        rect = np.zeros_like(bands)
        canvas.paint(rect, [(x0, y0, x1, y1)], layers)
        assert np.array_equal(rect[y0:y1, x0:x1], bands[y0:y1, x0:x1]), (x0, y0, x1, y1)


def test_merged_rectangles_cover_the_boxes():
    from convanim.backends.raster.animate import merge_rects

    rng = np.random.default_rng(3)
    boxes = []
    for _ in range(60):
        x0, y0 = int(rng.integers(0, 500)), int(rng.integers(0, 500))
        boxes.append((x0, y0, x0 + int(rng.integers(1, 40)), y0 + int(rng.integers(1, 40))))
    merged = merge_rects(boxes + [None])
    assert len(merged) < len(boxes)
    for b in boxes:
        assert any(m[0] <= b[0] and m[1] <= b[1] and b[2] <= m[2] and b[3] <= m[3]
                   for m in merged), b


def test_text_over_the_lines_is_restamped_in_few_palette_lookups(monkeypatch):
    # The iso view with numbers: a frame's connecting lines cross a dozen numbers, each
    # blended back over them; blended together while their boxes are disjoint, not one
    # palette lookup each (the old painter made ~15 a frame).
    from convanim.backends.raster import palette as palette_mod

    calls = []
    for name in ("blend", "blend_each"):
        real = getattr(palette_mod.PaletteMap, name, None)
        if real is None:
            continue

        def counting(self, *a, _real=real, _name=name):
            calls.append(_name)
            return _real(self, *a)

        monkeypatch.setattr(palette_mod.PaletteMap, name, counting)
    crossed = []
    real_crossing = animate_mod.crossing

    def counting_crossing(rects, lines, margin=2.0):
        hit = real_crossing(rects, lines, margin)
        crossed.extend(hit.tolist())
        return hit

    monkeypatch.setattr(animate_mod, "crossing", counting_crossing)
    per_frame = []
    for _ in ca.iter_frames(ca.trace_of(ca.conv2d(8, 3, 1, 1)), 32, numbers=True):
        per_frame.append(len(calls))
        calls.clear()
    later = per_frame[1:]
    assert sum(crossed) >= 5 * len(per_frame)  # texts are crossed, several a frame
    # One lookup for the lines themselves, then the texts' passes.
    assert max(later) <= 4 and float(np.median(later)) <= 2, later


def test_iso_view_without_text_walks_no_line_tiles(monkeypatch):
    from convanim.backends.raster import animate

    walked = []
    real = animate.line_tiles
    monkeypatch.setattr(animate, "line_tiles", lambda *a: walked.append(1) or real(*a))
    frames = list(ca.iter_frames(ca.trace_of(ca.conv2d(5, 3, 1, 1)), 32))
    assert len(frames) == 25 and not walked
    list(ca.iter_frames(ca.trace_of(ca.conv2d(5, 3, 1, 1)), 32, numbers=True))
    assert walked  # with numbers, the lines' tiles find the text they cross


def test_the_crossing_test_of_many_boxes_is_the_segment_clipping_of_each():
    # crossing() clips every segment to every box at once; against a plain loop of
    # Liang-Barsky clipping of one segment to one box (margin 2 px), on random boxes
    # and segments, some parallel to an axis, some of length zero.
    from convanim.backends.raster.animate import crossing

    def one(rect, p0, p1, margin=2.0):
        x0, y0 = rect[0] - margin, rect[1] - margin
        x1, y1 = rect[2] + margin, rect[3] + margin
        (ax, ay), (bx, by) = p0, p1
        t0, t1 = 0.0, 1.0
        for p, q in ((ax - bx, ax - x0), (bx - ax, x1 - ax), (ay - by, ay - y0), (by - ay, y1 - ay)):
            if p == 0:
                if q < 0:
                    return False
            elif p < 0:
                t0 = max(t0, q / p)
            else:
                t1 = min(t1, q / p)
        return t0 <= t1

    rng = np.random.default_rng(5)
    for _ in range(40):
        xy = rng.integers(0, 60, (50, 2)).astype(float)
        rects = np.concatenate([xy, xy + rng.integers(1, 15, (50, 2))], axis=1)
        lines = [tuple(map(tuple, rng.integers(0, 80, (2, 2)).astype(float))) for _ in range(3)]
        lines.append(((10.0, 5.0), (10.0, 70.0)))  # vertical
        lines.append(((33.0, 33.0), (33.0, 33.0)))  # a point
        for k in range(len(lines)):
            got = crossing(rects, lines[:k + 1])
            want = [any(one(r, p0, p1) for p0, p1 in lines[:k + 1]) for r in rects]
            assert got.tolist() == want


@pytest.mark.parametrize("spec, picture", [
    (lambda: ca.conv2d(6, 3, 1, 1), {"style": "flat"}),
    (lambda: ca.conv2d(7, 3, 2, 1), {"numbers": True}),
    (lambda: ca.conv_transpose2d(3, 3, 2, view="scatter"), {"numbers": True}),
    (lambda: ca.conv2d(5, 3, 1, 1, in_channels=2, out_channels=2), {}),
    (lambda: ca.pool2d("max", 6, 2), {"style": "flat", "transparent": True}),
])
def test_frames_in_one_buffer_are_the_frames_copied(spec, picture):
    # With reuse, each frame is the one buffer brought back to the still picture where
    # the frame before differed, then drawn: the pixels of a fresh copy every frame.
    from convanim import api

    scene = api.scene(ca.trace_of(spec()), **picture)
    copied = [np.array(f) for f in raster.frames(scene, changed=True)]
    shared = [np.array(f) for f in raster.frames(scene, changed=True, reuse=True)]
    assert len(shared) == len(copied) == scene.n_frames
    for k, (a, b) in enumerate(zip(shared, copied)):
        assert np.array_equal(a, b), f"frame {k}"


def test_edges_met_again_in_another_colour_are_made_once(monkeypatch):
    # Each filter's block over a footprint is the same strokes in its own colour: the
    # raster makes a stroke's coverage once, by geometry, and the frames are those drawn
    # alone.
    from convanim import api
    from convanim.backends.raster import edges

    made = Counter()
    plain = edges.Edges._make

    def counted(self, keys):
        made.update(keys)
        return plain(self, keys)

    monkeypatch.setattr(edges.Edges, "_make", counted)
    t = ca.trace_of(ca.conv2d(4, 3, 1, 1, in_channels=2, out_channels=3))
    scene = api.scene(t)
    frames = [np.array(f) for f in raster.frames(scene, changed=True)]
    shown = Counter((s.points, s.width, s.dashed, s.closed) for step in range(t.n_steps)
                    for f in [scene.frame(step)] for s in f.over[len(f.over) - f.edges:])
    assert made and max(made.values()) == 1  # each stroke made once
    assert any(n > 1 for n in shown.values()) and set(made) == set(shown)
    for step in range(t.n_steps - 6, t.n_steps):  # the last filter's, against drawn alone
        alone = np.array(raster.frame_image(scene, step))
        assert np.array_equal(frames[step], alone), f"frame {step}"

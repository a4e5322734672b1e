"""A frame's edge strokes (:attr:`convanim.scene.Frame.edges`), blended onto its indices.

The iso channel picture outlines its filter block over every map of the group: the
block's box spans those maps, and repainting that box supersampled, with every shape
under it, was most of a frame's drawing. Edges lie over every shape, so they are drawn
apart instead, as the connecting lines are: each stroke's coverage at 1x (Wu's method,
:mod:`convanim.backends.raster.wu`) blended over the frame. A stroke has the width,
dashes and ends :meth:`convanim.backends.raster.ops.Ops.add` gives it. A frame's new
strokes are made at once, and kept by geometry: the block meets each footprint again
with every filter, in another colour.

Tried: drawing one colour's strokes supersampled into a mask of their box (the
supersampled drawing's very pixels) took a fifth longer a frame than this.
"""

from __future__ import annotations

import numpy as np

from ...scene import DASHES, Shape
from .kept import Kept
from .ops import SS, Box
from .wu import coverage_many

# Coverage of an edge stroke in ninths: the shades a supersampled pixel can take.
EDGE_LEVELS = SS * SS
# Kept, in bytes (see Kept: the first ones): each stroke's coverage by its geometry, and
# runs of strokes combined (a filter's blocks, one a footprint, and the output cells'
# outlines). conv --i 8 --k 3 --p 1 --cin 3 --cout 4: 6.9 MB of strokes, 8.7 MB of runs.
KEPT_STROKE_BYTES = 32 << 20
KEPT_RUN_BYTES = 32 << 20


def pieces_of(points, closed: bool) -> list:
    """A polyline's straight pieces (p0, p1), the closing one too when ``closed``."""
    ends = list(points) + [points[0]] if closed and len(points) > 2 else points
    return [(ends[i], ends[i + 1]) for i in range(len(ends) - 1)]


def stroke_rows(pieces: np.ndarray, widths: np.ndarray, dashed: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strokes as :func:`coverage_many` takes them: (segments, spans, the piece of each).

    ``pieces`` (n, 4) segments x0, y0, x1, y1 in canvas px, ``widths`` their widths
    measured square to them, ``dashed`` which are dashed. As Ops.seg and Ops.dashed
    make them: the width in whole supersampled px, dashes at :data:`DASHES`, a dash
    that touches an end of its piece extended by half a width at both its ends (so that
    corners close), a dash between them not."""
    per = np.where(dashed, len(DASHES), 1)
    which = np.repeat(np.arange(len(pieces)), per)
    within = np.arange(len(which)) - np.repeat(np.cumsum(per) - per, per)
    dash = np.asarray(DASHES, dtype=np.float64)[np.minimum(within, len(DASHES) - 1)]
    a = np.where(dashed[which], dash[:, 0], 0.0)
    b = np.where(dashed[which], dash[:, 1], 1.0)
    ax, ay, bx, by = pieces[which].T
    x0, y0 = ax + (bx - ax) * a, ay + (by - ay) * a
    x1, y1 = ax + (bx - ax) * b, ay + (by - ay) * b
    dx, dy = x1 - x0, y1 - y0
    length = np.hypot(dx, dy)
    keep = length > 0
    length = np.where(keep, length, 1.0)
    width = np.maximum(1, np.round(widths[which] * SS)) / SS
    e = np.where((a == 0.0) | (b == 1.0), width / 2 / length, 0.0)
    segs = np.stack([x0 - dx * e, y0 - dy * e, x1 + dx * e, y1 + dy * e], axis=1)
    # Across its minor axis a slanted stroke is wider than square to it.
    major = np.maximum(np.abs(dx), np.abs(dy))
    spans = width * length / np.where(keep, major, 1.0)
    return segs[keep], spans[keep], which[keep]


class Edges:
    """The edge strokes of one canvas's frames, each stroke's coverage made once."""

    def __init__(self, canvas) -> None:
        self.canvas = canvas
        # (points, width, dashed, closed) -> (flat positions, coverage)
        self._made = Kept(KEPT_STROKE_BYTES)
        # A run of strokes met before (the block at a footprint, filter after filter):
        # its pixels and their levels, combined once (Canvas.blend_cover's first half).
        self._runs = Kept(KEPT_RUN_BYTES)

    def _make(self, keys: list) -> dict:
        """The coverage of the strokes ``keys`` (not made yet), in one pass, by key."""
        pieces, widths, dashed, owner = [], [], [], []
        for n, (points, width, dash, closed) in enumerate(keys):
            for p0, p1 in pieces_of(points, closed):
                pieces.append((*p0, *p1))
                widths.append(width)
                dashed.append(dash)
                owner.append(n)
        w, h = self.canvas.w, self.canvas.h
        segs, spans, which = stroke_rows(np.array(pieces, dtype=np.float64).reshape(-1, 4),
                                         np.array(widths, dtype=np.float64),
                                         np.array(dashed, dtype=bool))
        ys, xs, weight, seg = coverage_many(segs, spans)
        keep = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h) & (weight > 0)
        of = np.asarray(owner, dtype=np.intp)[which[seg[keep]]]
        flat, weight = ys[keep] * w + xs[keep], weight[keep]
        order = np.argsort(of, kind="stable")
        of, flat, weight = of[order], flat[order], weight[order]
        bounds = np.searchsorted(of, np.arange(len(keys) + 1))
        made = {}
        for n, key in enumerate(keys):
            made[key] = got = (flat[bounds[n]:bounds[n + 1]], weight[bounds[n]:bounds[n + 1]])
            self._made.put(key, got)
        return made

    def draw(self, out: np.ndarray, shapes: tuple[Shape, ...]) -> list[Box]:
        """Blend ``shapes`` (strokes) over ``out`` in order, each run of one colour
        at once (where strokes of a run cross, as one laid over the other); the boxes of
        the pixels written."""
        keys = [(s.points, s.width, s.dashed, s.closed) for s in shapes]
        boxes = []
        start = 0
        for k, shape in enumerate(shapes):
            if k + 1 < len(shapes) and shapes[k + 1].stroke == shape.stroke:
                continue
            run = tuple(keys[start:k + 1])
            start = k + 1
            got = self._runs.get(run)
            if got is None:
                got = self._combined(run)
                self._runs.put(run, got)
            at, level, box = got
            if box is not None:
                self.canvas.blend_levels(out, at, level, shape.stroke, EDGE_LEVELS)
                boxes.append(box)
        return boxes

    def _combined(self, run: tuple) -> tuple:
        """A run's pixels, their levels, and its box (Canvas.combine_cover)."""
        got = {k: self._made.get(k) for k in dict.fromkeys(run)}
        new = [k for k, v in got.items() if v is None]
        if new:
            got.update(self._make(new))
        where = np.concatenate([got[k][0] for k in run])
        alpha = np.concatenate([got[k][1] for k in run])
        return self.canvas.combine_cover(where, alpha, EDGE_LEVELS)

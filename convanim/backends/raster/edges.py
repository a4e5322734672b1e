"""A frame's edge strokes (:attr:`convanim.scene.Frame.edges`), blended onto its indices.

The iso channel picture outlines its filter block over every map of the group: the
block's box spans three maps, and repainting that box supersampled, with every shape
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
from .ops import SS, Box
from .wu import coverage_many

# Coverage of an edge stroke in ninths: the shades a supersampled pixel can take.
EDGE_LEVELS = SS * SS


def stroke_rows(pieces: np.ndarray, widths: np.ndarray, dashed: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strokes as :func:`coverage_many` takes them: (segments, spans, the piece of each).

    ``pieces`` (n, 4) segments x0, y0, x1, y1 in canvas px, ``widths`` their widths
    measured square to them, ``dashed`` which are dashed. As Ops.seg and Ops.dashed
    make them: the width in whole supersampled px, half a width past a piece's own ends
    (not a dash's inner ends) so that corners close, dashes at :data:`DASHES`."""
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
        self._made: dict = {}  # (points, width, dashed) -> (flat positions, coverage)

    def _make(self, keys: list) -> None:
        """The coverage of the strokes ``keys`` (not made yet), in one pass."""
        pieces, widths, dashed, owner = [], [], [], []
        for n, (points, width, dash) in enumerate(keys):
            for i in range(len(points) - 1):
                pieces.append((*points[i], *points[i + 1]))
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
        for n, key in enumerate(keys):
            self._made[key] = (flat[bounds[n]:bounds[n + 1]], weight[bounds[n]:bounds[n + 1]])

    def draw(self, out: np.ndarray, shapes: tuple[Shape, ...]) -> list[Box]:
        """Blend ``shapes`` (open strokes) over ``out`` in order, each run of one colour
        at once (where strokes of a run cross, as one laid over the other); the boxes of
        the pixels written."""
        keys = [(s.points, s.width, s.dashed) for s in shapes]
        new = [k for k in dict.fromkeys(keys) if k not in self._made]
        if new:
            self._make(new)
        boxes = []
        run: list = []
        for k, shape in enumerate(shapes):
            run.append(self._made[keys[k]])
            if k + 1 == len(shapes) or shapes[k + 1].stroke != shape.stroke:
                where = np.concatenate([r[0] for r in run])
                if len(where):
                    box = self.canvas.blend_cover(out, where, np.concatenate([r[1] for r in run]),
                                                  shape.stroke, EDGE_LEVELS)
                    if box is not None:
                        boxes.append(box)
                run = []
        return boxes

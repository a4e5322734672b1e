"""Scene operations as Pillow drawing calls, in supersampled pixels, with boxes for tiling."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import ImageDraw

from ...layout import Point
from ...scene import DASHES, Op, Text
from ...textfit import METRIC_SCALE
from ...textfit import font as _font
from ...theme import RGB

# Supersampling factor: 10 coverage levels per edge, finer than the palette's ramps.
# Text is fitted at this scale, so its sizes are whole supersampled pixels.
SS = METRIC_SCALE
TILE = 64  # tile side, canvas pixels
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in canvas px, ends excluded


class Ops:
    """Drawing operations in z-order, in supersampled pixels, with their boxes (canvas px)."""

    def __init__(self) -> None:
        self.ops: list[tuple] = []
        self.boxes: list[tuple[float, float, float, float]] = []
        self._arr: np.ndarray | None = None
        self._padded: tuple = ()
        self._starts: np.ndarray | None = None
        self._start_list: list[tuple[float, float]] = []
        self._tiles: tuple[tuple[int, int], set] | None = None  # ((ncols, nrows), tiles)
        self._bbox: tuple | None = None  # the boxes' union, once asked for (see bbox)

    def poly(self, points, fill: RGB) -> None:
        self._tiles = self._bbox = None
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        # With the least x and y, supersampled (the test for clipping, see _draw_ops).
        self.ops.append(("p", [(x * SS, y * SS) for x, y in points], fill,
                         (min(xs) * SS, min(ys) * SS)))
        self._start_list.append((np.inf, np.inf))
        self.boxes.append((min(xs), min(ys), max(xs), max(ys)))

    def seg(self, p0: Point, p1: Point, colour: RGB, width: float, extend: bool = True) -> None:
        """A line of ``width`` canvas px; extended by half a width so corners close cleanly."""
        self._tiles = self._bbox = None
        (x0, y0), (x1, y1) = p0, p1
        w = max(1, round(width * SS))
        if extend:
            dx, dy = x1 - x0, y1 - y0
            n = (dx * dx + dy * dy) ** 0.5 or 1.0
            e = w / 2 / SS / n
            x0, y0, x1, y1 = x0 - dx * e, y0 - dy * e, x1 + dx * e, y1 + dy * e
        self.ops.append(("l", [(x0 * SS, y0 * SS), (x1 * SS, y1 * SS)], colour, w))
        self._start_list.append((min(x0, x1), min(y0, y1)))
        r = width / 2
        self.boxes.append((min(x0, x1) - r, min(y0, y1) - r, max(x0, x1) + r, max(y0, y1) + r))

    def text(self, t: Text) -> None:
        self._tiles = self._bbox = None
        # The last field: a step's line, blended at 1x over what it lies on (Canvas._late).
        self.ops.append(("t", [(t.x * SS, t.y * SS)], t.text, round(t.size * SS), t.colour, t.face,
                         t.kind == "sum"))
        self._start_list.append((t.x, t.y))
        x0, y0, x1, y1 = t.rect
        self.boxes.append((x0 - 1, y0 - 1, x1 + 1, y1 + 1))

    def add(self, op: Op) -> None:
        """One scene operation: a text, or a shape's fill and then each edge's stroke."""
        if isinstance(op, Text):
            self.text(op)
            return
        pts = op.points
        if op.fill is not None:
            self.poly(pts, op.fill)
        if op.stroke is not None:
            edges = len(pts) if op.closed else len(pts) - 1
            for i in range(edges):
                p0, p1 = pts[i], pts[(i + 1) % len(pts)]
                if op.dashed:
                    self.dashed(p0, p1, op.stroke, op.width)
                else:
                    self.seg(p0, p1, op.stroke, op.width)

    def extend(self, other: "Ops") -> None:
        # Tiles known on both sides stay known: frames are assembled from cached shapes.
        if not self.ops:
            self._tiles = other._tiles
        elif other.ops:
            known = (self._tiles is not None and other._tiles is not None
                     and self._tiles[0] == other._tiles[0])
            self._tiles = (self._tiles[0], self._tiles[1] | other._tiles[1]) if known else None
        if other.boxes:
            # A frame's layers are its cached shapes joined: their unions, joined.
            a, b = self._bbox, other.bbox()
            if not self.boxes:
                self._bbox = b
            elif a is not None:  # (conditionals: a frame joins a hundred shapes this way)
                self._bbox = (a[0] if a[0] < b[0] else b[0], a[1] if a[1] < b[1] else b[1],
                              a[2] if a[2] > b[2] else b[2], a[3] if a[3] > b[3] else b[3])
        self.ops.extend(other.ops)
        self.boxes.extend(other.boxes)
        self._start_list.extend(other._start_list)

    def bbox(self) -> tuple[float, float, float, float] | None:
        """The union of the operations' boxes (None when there are none), kept."""
        if self._bbox is None and self.boxes:
            boxes = self.boxes
            self._bbox = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                          max(b[2] for b in boxes), max(b[3] for b in boxes))
        return self._bbox

    def dashed(self, p0: Point, p1: Point, colour: RGB, width: float) -> None:
        for a, b in DASHES:
            q0 = (p0[0] + (p1[0] - p0[0]) * a, p0[1] + (p1[1] - p0[1]) * a)
            q1 = (p0[0] + (p1[0] - p0[0]) * b, p0[1] + (p1[1] - p0[1]) * b)
            self.seg(q0, q1, colour, width, extend=(a == 0.0 or b == 1.0))

    def starts(self) -> np.ndarray:
        """(n, 2) leftmost x and topmost y of each line or text op's points, canvas px.

        Polygons are clipped where they leave the image, so they get +inf here.
        """
        self._starts = _grown(self._starts, self._start_list, 2)
        return self._starts

    def overlapping(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        """Indices of the operations whose box, a pixel wider, overlaps (x0, y0, x1, y1)."""
        pad = 1.0  # anti-aliasing reaches one pixel past a shape
        boxes = self.boxes
        if not boxes:  # a frame's empty layers: a third of the calls
            return _NO_OPS
        if len(boxes) <= SMALL_LAYER:
            u = self._bbox  # known for a frame's layers (see extend): one test, not a loop
            if u is not None and not (u[0] - pad < x1 and u[2] + pad > x0
                                      and u[1] - pad < y1 and u[3] + pad > y0):
                return _NO_OPS
            # A frame's own few shapes: a loop costs less than the array passes below.
            return np.array([i for i, (a0, a1, a2, a3) in enumerate(boxes)
                             if a0 - pad < x1 and a2 + pad > x0 and a1 - pad < y1
                             and a3 + pad > y0], dtype=np.intp)
        if self._arr is None or len(self._arr) != len(boxes):
            b = self._arr = _grown(self._arr, boxes, 4)
            # Each bound a pixel out, as contiguous columns: four comparisons a call.
            self._padded = (b[:, 0] - pad, b[:, 2] + pad, b[:, 1] - pad, b[:, 3] + pad)
        lx, hx, ly, hy = self._padded
        return np.flatnonzero((lx < x1) & (hx > x0) & (ly < y1) & (hy > y0))

    def tiles(self, ncols: int, nrows: int) -> set[tuple[int, int]]:
        """Tiles that the operations touch; lines walk their length, polygons take their box."""
        if self._tiles is not None and self._tiles[0] == (ncols, nrows):
            return self._tiles[1]
        out: set[tuple[int, int]] = set()
        for op, (x0, y0, x1, y1) in zip(self.ops, self.boxes):
            if op[0] == "l":
                (ax, ay), (bx, by) = op[1]
                ax, ay, bx, by = ax / SS, ay / SS, bx / SS, by / SS
                n = int(max(abs(bx - ax), abs(by - ay)) // (TILE / 4)) + 2
                if n > 8:  # a long line (the connecting lines): the same walk, in numpy
                    t = np.arange(n) / (n - 1)
                    x, y = ax + (bx - ax) * t, ay + (by - ay) * t
                    for dx in (-2.0, 2.0):
                        for dy in (-2.0, 2.0):
                            out.update(zip(((x + dx) // TILE).astype(int).tolist(),
                                           ((y + dy) // TILE).astype(int).tolist()))
                    continue
                for k in range(n):
                    t = k / (n - 1)
                    x, y = ax + (bx - ax) * t, ay + (by - ay) * t
                    for dx in (-2.0, 2.0):
                        for dy in (-2.0, 2.0):
                            out.add((int((x + dx) // TILE), int((y + dy) // TILE)))
            else:
                for ty in range(int((y0 - 2) // TILE), int((y1 + 2) // TILE) + 1):
                    for tx in range(int((x0 - 2) // TILE), int((x1 + 2) // TILE) + 1):
                        out.add((tx, ty))
        tiles = {(tx, ty) for tx, ty in out if 0 <= tx < ncols and 0 <= ty < nrows}
        self._tiles = ((ncols, nrows), tiles)
        return tiles


_NO_OPS = np.zeros(0, dtype=np.intp)
_NO_OPS.flags.writeable = False
SMALL_LAYER = 96  # layers of at most this many operations are searched in a loop


def _grown(arr: np.ndarray | None, rows: list, width: int) -> np.ndarray:
    """``rows`` as an (n, width) array, given ``arr`` made from the first of them: Ops only
    grow (the persistent layer by a cell a frame), so only the new rows are converted,
    not the whole list again each frame."""
    if arr is not None and len(arr) == len(rows):
        return arr
    if arr is None or len(arr) > len(rows):
        return np.array(rows, dtype=np.float64).reshape(-1, width)
    return np.concatenate([arr, np.array(rows[len(arr):], dtype=np.float64).reshape(-1, width)])


def _clip_poly(pts: list, axis: int) -> list:
    """The part of a polygon with coordinate ``axis`` >= 0 (one Sutherland-Hodgman pass)."""
    out = []
    for i, p in enumerate(pts):
        q = pts[(i + 1) % len(pts)]
        if p[axis] >= 0:
            out.append(p)
        if (p[axis] >= 0) != (q[axis] >= 0):
            t = p[axis] / (p[axis] - q[axis])
            out.append((p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t))
    return out


def _draw_ops(draw: ImageDraw.ImageDraw, layer: Ops, idx: np.ndarray, ox: float, oy: float) -> None:
    """Draw operations ``idx`` of ``layer`` with the image's origin at (ox, oy), supersampled
    (see _draw)."""
    _draw(draw, layer, idx, ox, oy, None)


def _draw_solid(draw: ImageDraw.ImageDraw, layer: Ops, idx: np.ndarray, ox: float,
                oy: float) -> None:
    """The shapes among operations ``idx`` in ink 255, their text left out, into an "L" image:
    where something opaque lies under the text (see Canvas.paint)."""
    _draw(draw, layer, idx, ox, oy, 255)


def _draw(draw: ImageDraw.ImageDraw, layer: Ops, idx, ox: float, oy: float,
          solid: int | None) -> None:
    """Draw operations ``idx`` of ``layer`` with the image's origin at (ox, oy), supersampled;
    with ``solid``, every shape in that ink and no text.

    Pillow rounds negative coordinates differently from positive ones, so a
    polygon reaching past the image's left or top edge is clipped there first;
    lines and text are not (a wide line's pixels depend on its whole length), the
    caller leaves room for them. Every rectangle then draws a shape's pixels the
    same, wherever its origin lies.
    """
    # The C drawing calls ImageDraw.polygon/line make, with each colour's ink looked up
    # once: Pillow parses the colour on every call, a tenth of a flat frame's time.
    core, mode = draw.draw, draw.mode
    inks = _INKS.setdefault(mode, {})
    ops = layer.ops
    for i in (idx.tolist() if isinstance(idx, np.ndarray) else idx):
        op = ops[i]
        kind = op[0]
        if kind == "l":
            if op[3]:
                ink = inks.get(op[2]) if solid is None else solid
                if ink is None:
                    ink = _ink(core, mode, op[2])
                (ax, ay), (bx, by) = op[1]
                core.draw_lines([(ax - ox, ay - oy), (bx - ox, by - oy)], ink, op[3])
        elif kind == "p":
            pts = [(x - ox, y - oy) for x, y in op[1]]
            # A point left of or above the origin (x - ox < 0 exactly when x < ox).
            if op[3][0] < ox or op[3][1] < oy:
                pts = _clip_poly(_clip_poly(pts, 0), 1)
                if len(pts) < 3:
                    continue
            ink = inks.get(op[2]) if solid is None else solid
            if ink is None:
                ink = _ink(core, mode, op[2])
            core.draw_polygon(pts, ink, 1)
        elif solid is None:
            x, y = op[1][0]
            _text(draw, (x - ox, y - oy), op[2], op[3], op[5], op[4])


_INKS: dict[str, dict[RGB, int]] = {}  # image mode -> colour -> Pillow's ink


def _ink(core, mode: str, fill: RGB) -> int:
    inks = _INKS.setdefault(mode, {})
    ink = inks.get(fill)
    if ink is None:
        ink = inks[fill] = core.draw_ink(fill)
    return ink


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, face,
          fill: RGB) -> None:
    """``draw.text(xy, text, fill, font)`` for one line at the "la" anchor, its glyph mask
    rendered once per (text, size, face, sub-pixel start) and reused: a number's cell is
    repainted in frame after frame, and rendering the glyphs was a fifth of a flat frame.
    The same calls as Pillow's own ImageDraw.text makes, so the same pixels."""
    x, y = xy
    ink = _ink(draw.draw, draw.mode, fill)
    # Only short texts (numbers, labels) recur; a step's sum line is drawn once or twice,
    # and caching its large masks would only hold memory.
    render = _mask if len(text) <= MASK_CACHE_CHARS else _mask.__wrapped__
    mask, (dx, dy) = render(text, size, face, draw.fontmode, math.modf(x)[0], math.modf(y)[0])
    draw.draw.draw_bitmap((int(x) + dx, int(y) + dy), mask, ink)


MASK_CACHE_CHARS = 24


@lru_cache(maxsize=1 << 13)
def _mask(text: str, size: int, face, mode: str, fx: float, fy: float):
    return _font(size, face).getmask2(text, mode, anchor="la", ink=0, start=(fx, fy),
                                      stroke_filled=True)

"""The raster backend: a scene in, PIL images out.

Shapes are drawn at SS times the canvas size and box-filtered down, which gives
smooth edges; the result is mapped without dithering onto one fixed palette per
theme (its colours and the blends between them), the same for every frame, so
flat colours stay flat and a GIF needs no per-frame palette.

The canvas is cut into square tiles. The still picture (grids, padding, output
plane) is drawn once; a frame redraws only the tiles that its moving shapes
(shaded cells, the four lines) touch, so a frame costs about the same whatever
the size of the grids, and no supersampled copy of the whole canvas is ever
held. Shapes are kept as drawing operations with bounding boxes, in z-order,
and each tile draws just the operations that overlap it; tiles start at whole
pixels, so a tile's pixels equal those of a whole-canvas drawing.
"""

from __future__ import annotations

from itertools import combinations, count
from typing import Iterator

import numpy as np
from PIL import Image, ImageDraw

from ..changed import CHANGED, Changed
from ..layout import Point
from ..scene import DASHES, Frame, Op, Scene, Shape, Text
from ..textfit import METRIC_SCALE
from ..textfit import font as _font
from ..theme import RGB, Theme

# Supersampling factor: 10 coverage levels per edge, finer than the palette's ramps.
# Text is fitted at this scale, so its sizes are whole supersampled pixels.
SS = METRIC_SCALE


def palette_colours(theme: Theme, text: bool = False) -> np.ndarray:
    """(256, 3) palette: the theme's colours, then evenly spaced blends of each pair.

    ``text`` adds the text colours (for pictures with numbers or captions), so
    text and its anti-aliased edges against every fill are in the palette.
    At most 255 entries are distinct: the last repeats the first, so no pixel maps
    to it and a GIF can use it as its transparent index (writer.write_gif).
    """
    base = theme.colours() + (theme.text_colours() if text else [])
    pairs = list(combinations(base, 2))
    steps = max(1, (255 - len(base)) // max(1, len(pairs)))
    colours = [tuple(c) for c in base]
    for a, b in pairs:
        for n in range(1, steps + 1):
            t = n / (steps + 1)
            colours.append(tuple(round(x + (y - x) * t) for x, y in zip(a, b)))
    colours = colours[:255]
    colours += [colours[0]] * (256 - len(colours))
    return np.array(colours, dtype=np.int32)


class PaletteMap:
    """Exact nearest-colour mapping onto a fixed palette, no dithering.

    Pillow's own palette conversion looks colours up in a coarse cache and can
    shift an exact theme colour to a neighbouring blend; this maps every
    colour to its true nearest entry, remembering each answer in a table
    indexed by the 24-bit colour (index + 1; 0 = not yet known). The table is
    allocated zeroed, so only the pages of colours that occur use memory.
    """

    def __init__(self, colours: np.ndarray):
        self.colours = colours
        self.flat = [int(v) for v in colours.ravel()]
        # index + 1 fits a byte: the last index is never an answer (palette_colours).
        self._known = np.zeros(1 << 24, dtype=np.uint8)
        self._colours_t = colours.astype(np.float64).T.copy()
        self._norms = (self._colours_t ** 2).sum(axis=0)

    def __call__(self, img: Image.Image) -> Image.Image:
        out = Image.frombytes("P", img.size, self.indices(img).tobytes())
        out.putpalette(self.flat)
        return out

    def indices(self, img: Image.Image) -> np.ndarray:
        """(H, W) uint8 palette index of each pixel of an RGB image."""
        # One C call packs each pixel into a little-endian word: R | G << 8 | B << 16.
        packed = np.frombuffer(img.tobytes("raw", "RGBX"), dtype="<u4") & 0xFFFFFF
        return self._lookup(packed).reshape(img.size[1], img.size[0])

    def indices_rgb(self, a: np.ndarray) -> np.ndarray:
        """Palette index of each colour of an (..., 3) array of 0..255 values."""
        a = a.astype(np.uint32)
        return self._lookup(a[..., 0] | (a[..., 1] << 8) | (a[..., 2] << 16))

    def blend(self, index: np.ndarray, colour: RGB, alpha: np.ndarray) -> np.ndarray:
        """Palette indices of ``colour`` laid over the colours of ``index`` with ``alpha`` (0..1)."""
        under = self.colours[index].astype(np.float64)
        mixed = under + (np.array(colour, dtype=np.float64) - under) * alpha[..., None]
        return self.indices_rgb(np.rint(mixed).astype(np.int32))

    def _lookup(self, packed: np.ndarray) -> np.ndarray:
        found = self._known[packed]
        missing = found == 0
        if missing.any():
            new = np.unique(packed[missing])
            rgb = np.stack([new & 255, (new >> 8) & 255, new >> 16], axis=1).astype(np.float64)
            # |rgb - c|^2 less |rgb|^2, which is the same for every c: one matrix product.
            # Every term is a whole number far below 2^53, so ties break as exactly as in integers.
            dist = self._norms - 2.0 * (rgb @ self._colours_t)
            self._known[new] = dist.argmin(axis=1) + 1
            found = self._known[packed]
        return found - 1


TILE = 64  # tile side, canvas pixels
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in canvas px, ends excluded
# Connecting-line coverage in thirds. The lines move every frame and are most of a
# GIF's bytes; fewer shades repeat more, so LZW packs them tighter (classic set:
# 1.85 MB -> 1.63 MB). A third is two steps of the palette's ramps (palette_colours),
# and at 4x zoom the lines look as smooth as with every shade; halves show banding.
LINE_LEVELS = 3
MARGIN = 16  # canvas px drawn left of and above each rectangle, then cut away
BAND_PIXELS = 1 << 22  # supersampled pixels drawn at once for the still picture
# The bottom layer (the lower grid) is kept drawn, supersampled, for canvases up to
# this many supersampled pixels (24 MB): a rectangle then copies it instead of
# drawing its shapes again, which was half the drawing time of a frame.
STILL_PIXELS = 6 << 20


def _parallelogram_cover(a: Point, b: Point, c: Point, d: Point):
    """cover(x, y) -> 0..1: how much of each pixel the parallelogram a-b-c-d (in order) covers.

    Signed distance to the nearest edge, in pixels, clipped to a one-pixel ramp:
    the same anti-aliasing as a box-filtered edge, without drawing anything.
    """
    pts = np.array([a, b, c, d], dtype=np.float64)
    centre = pts.mean(axis=0)
    edges = []
    for i in range(4):
        p, q = pts[i], pts[(i + 1) % 4]
        n = np.array([q[1] - p[1], p[0] - q[0]])
        n /= np.hypot(*n) or 1.0
        if np.dot(centre - p, n) < 0:
            n = -n  # inward normal
        edges.append((p, n))

    def cover(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        inside = np.full(xs.shape, np.inf)
        for p, n in edges:
            inside = np.minimum(inside, (xs - p[0]) * n[0] + (ys - p[1]) * n[1])
        return np.clip(inside + 0.5, 0.0, 1.0)

    return cover


class _Ops:
    """Drawing operations in z-order, in supersampled pixels, with their boxes (canvas px)."""

    def __init__(self) -> None:
        self.ops: list[tuple] = []
        self.boxes: list[tuple[float, float, float, float]] = []
        self._arr: np.ndarray | None = None
        self._starts: np.ndarray | None = None
        self._start_list: list[tuple[float, float]] = []
        self._tiles: tuple[tuple[int, int], set] | None = None  # ((ncols, nrows), tiles)

    def poly(self, points, fill: RGB) -> None:
        self._tiles = None
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        self.ops.append(("p", [(x * SS, y * SS) for x, y in points], fill))
        self._start_list.append((np.inf, np.inf))
        self.boxes.append((min(xs), min(ys), max(xs), max(ys)))

    def seg(self, p0: Point, p1: Point, colour: RGB, width: float, extend: bool = True) -> None:
        """A line of ``width`` canvas px; extended by half a width so corners close cleanly."""
        self._tiles = None
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
        self._tiles = None
        self.ops.append(("t", [(t.x * SS, t.y * SS)], t.text, round(t.size * SS), t.colour))
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

    def extend(self, other: "_Ops") -> None:
        # Tiles known on both sides stay known: frames are assembled from cached shapes.
        if not self.ops:
            self._tiles = other._tiles
        elif other.ops:
            known = (self._tiles is not None and other._tiles is not None
                     and self._tiles[0] == other._tiles[0])
            self._tiles = (self._tiles[0], self._tiles[1] | other._tiles[1]) if known else None
        self.ops.extend(other.ops)
        self.boxes.extend(other.boxes)
        self._start_list.extend(other._start_list)

    def dashed(self, p0: Point, p1: Point, colour: RGB, width: float) -> None:
        for a, b in DASHES:
            q0 = (p0[0] + (p1[0] - p0[0]) * a, p0[1] + (p1[1] - p0[1]) * a)
            q1 = (p0[0] + (p1[0] - p0[0]) * b, p0[1] + (p1[1] - p0[1]) * b)
            self.seg(q0, q1, colour, width, extend=(a == 0.0 or b == 1.0))

    def starts(self) -> np.ndarray:
        """(n, 2) leftmost x and topmost y of each line or text op's points, canvas px.

        Polygons are clipped where they leave the image, so they get +inf here.
        """
        if self._starts is None or len(self._starts) != len(self.ops):
            self._starts = np.array(self._start_list, dtype=np.float64).reshape(-1, 2)
        return self._starts

    def overlapping(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        if self._arr is None or len(self._arr) != len(self.boxes):
            self._arr = np.array(self.boxes, dtype=np.float64).reshape(-1, 4)
        b = self._arr
        pad = 1.0  # anti-aliasing reaches one pixel past a shape
        return np.flatnonzero((b[:, 0] - pad < x1) & (b[:, 2] + pad > x0)
                              & (b[:, 1] - pad < y1) & (b[:, 3] + pad > y0))

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


def _draw_ops(draw: ImageDraw.ImageDraw, layer: _Ops, idx: np.ndarray, ox: float, oy: float) -> None:
    """Draw operations ``idx`` of ``layer`` with the image's origin at (ox, oy), supersampled.

    Pillow rounds negative coordinates differently from positive ones, so a
    polygon reaching past the image's left or top edge is clipped there first;
    lines and text are not (a wide line's pixels depend on its whole length), the
    caller leaves room for them. Every rectangle then draws a shape's pixels the
    same, wherever its origin lies.
    """
    for i in idx:
        op = layer.ops[i]
        pts = [(x - ox, y - oy) for x, y in op[1]]
        if op[0] == "p":
            if min(min(x, y) for x, y in pts) < 0:
                pts = _clip_poly(_clip_poly(pts, 0), 1)
                if len(pts) < 3:
                    continue
            draw.polygon(pts, fill=op[2])
        elif op[0] == "l":
            draw.line(pts, fill=op[2], width=op[3])
        else:
            draw.text(pts[0], op[2], font=_font(op[3]), fill=op[4])


class _Canvas:
    """The tiled picture: palette indices of the still image, and a tile painter."""

    def __init__(self, size: tuple[int, int], theme: Theme, text: bool = False):
        self.w, self.h = size
        self.ncols = -(-self.w // TILE)
        self.nrows = -(-self.h // TILE)
        self.theme = theme
        self.to_palette = PaletteMap(palette_colours(theme, text))
        self.base = np.zeros((self.h, self.w), dtype=np.uint8)
        self._kept: tuple[_Ops, Image.Image] | None = None

    def keep(self, layer: _Ops) -> None:
        """Draw ``layer`` once over the whole canvas, when it fits STILL_PIXELS; rectangles
        whose first layer it is start from a copy of it."""
        if self.w * self.h * SS * SS <= STILL_PIXELS:
            img = Image.new("RGB", (self.w * SS, self.h * SS), self.theme.background)
            _draw_ops(ImageDraw.Draw(img), layer, range(len(layer.ops)), 0, 0)
            self._kept = (layer, img)

    def paint(self, out: np.ndarray, rects, layers: list[_Ops]) -> None:
        """Draw ``layers`` in order into each rectangle (x0, y0, x1, y1) and store palette indices."""
        kept = self._kept is not None and bool(layers) and layers[0] is self._kept[0]
        for x0, y0, x1, y1 in rects:
            picks = [(layer, idx) for layer in (layers[1:] if kept else layers)
                     if len(idx := layer.overlapping(x0, y0, x1, y1))]
            # Room left of and above the rectangle, in whole canvas pixels, so that
            # lines and text start inside the image (polygons are clipped at its edge).
            mx = my = MARGIN
            for layer, idx in picks:
                sx, sy = layer.starts()[idx].min(axis=0)  # lines and text; inf for polygons
                if sx < x0:
                    mx = max(mx, int(np.ceil(x0 - sx)) + 1)
                if sy < y0:
                    my = max(my, int(np.ceil(y0 - sy)) + 1)
            if kept:
                # Past the canvas's left or top edge the copy is black: margin, cut away below.
                img = self._kept[1].crop(((x0 - mx) * SS, (y0 - my) * SS, x1 * SS, y1 * SS))
            else:
                img = Image.new("RGB", ((x1 - x0 + mx) * SS, (y1 - y0 + my) * SS),
                                self.theme.background)
            draw = ImageDraw.Draw(img)
            for layer, idx in picks:
                _draw_ops(draw, layer, idx, (x0 - mx) * SS, (y0 - my) * SS)
            small = img.reduce(SS, box=(mx * SS, my * SS, img.width, img.height))
            out[y0:y1, x0:x1] = self.to_palette.indices(small)

    def tile_rects(self, tiles) -> list[tuple[int, int, int, int]]:
        """The tiles as rectangles, each run of neighbours along a row merged into one.

        A rectangle costs a margin and redraws every shape crossing it, so fewer,
        wider rectangles draw less than one per tile.
        """
        rects = []
        for tx, ty in sorted(tiles, key=lambda t: (t[1], t[0])):
            x0, y0, x1, y1 = tx * TILE, ty * TILE, min(tx * TILE + TILE, self.w), min(ty * TILE + TILE, self.h)
            if rects and rects[-1][1] == y0 and rects[-1][2] == x0:
                rects[-1] = (rects[-1][0], y0, x1, y1)
            else:
                rects.append((x0, y0, x1, y1))
        # Rows of equal extent one above the other: one rectangle.
        merged = []
        for r in rects:
            if merged and merged[-1][0] == r[0] and merged[-1][2] == r[2] and merged[-1][3] == r[1]:
                merged[-1] = (r[0], merged[-1][1], r[2], r[3])
            else:
                merged.append(r)
        return merged

    def bands(self) -> list[tuple[int, int, int, int]]:
        """The whole canvas in full-width bands of about BAND_PIXELS supersampled pixels."""
        rows = max(1, min(self.h, BAND_PIXELS // (self.w * SS * SS)))
        return [(0, y, self.w, min(y + rows, self.h)) for y in range(0, self.h, rows)]

    def stamp(self, out: np.ndarray, t: Text) -> Box | None:
        """Blend one text over ``out`` by its anti-aliased coverage (text over the lines); its box."""
        x0, y0 = max(0, int(t.rect[0]) - 1), max(0, int(t.rect[1]) - 1)
        x1 = min(self.w, int(np.ceil(t.rect[2])) + 2)
        y1 = min(self.h, int(np.ceil(t.rect[3])) + 2)
        if x1 <= x0 or y1 <= y0:
            return None
        mask = Image.new("L", ((x1 - x0) * SS, (y1 - y0) * SS), 0)
        ImageDraw.Draw(mask).text((t.x * SS - x0 * SS, t.y * SS - y0 * SS), t.text,
                                  font=_font(round(t.size * SS)), fill=255)
        alpha = np.asarray(mask.reduce(SS), dtype=np.float64) / 255.0
        out[y0:y1, x0:x1] = self.to_palette.blend(out[y0:y1, x0:x1], t.colour, alpha)
        return (x0, y0, x1, y1)

    def lines(self, out: np.ndarray, segments, colour: RGB, cover) -> Box | None:
        """Anti-aliased lines one pixel wide, blended into ``out`` under ``cover(x, y)`` (0..1).

        Xiaolin Wu's method, vectorised: each step along the major axis splits
        a line between the two nearest pixels across it. The long, thin
        connecting lines are drawn this way straight onto the frame, so they
        cost no supersampled tiles. All lines are blended at once; where they
        cross, their coverages combine as one line laid over the other would.
        Returns the box of the pixels written.
        """
        ys, xs, weights = [], [], []
        for p0, p1 in segments:
            (x0, y0), (x1, y1) = p0, p1
            steep = abs(y1 - y0) > abs(x1 - x0)
            if steep:
                x0, y0, x1, y1 = y0, x0, y1, x1
            if x1 < x0:
                x0, y0, x1, y1 = x1, y1, x0, y0
            # Pixel centres sit at +0.5: sample the line at the centres along the major axis.
            major = np.arange(int(np.floor(x0 - 0.5)) + 1, int(np.floor(x1 - 0.5)) + 1)
            if len(major) == 0:
                continue
            slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
            minor = y0 + (major + 0.5 - x0) * slope - 0.5
            base = np.floor(minor).astype(np.int64)
            frac = minor - base
            ms = np.concatenate([major, major])
            ns = np.concatenate([base, base + 1])
            ys.append(ms if steep else ns)
            xs.append(ns if steep else ms)
            weights.append(np.concatenate([1 - frac, frac]))
        if not ys:
            return None
        ys, xs, weight = np.concatenate(ys), np.concatenate(xs), np.concatenate(weights)
        keep = (xs >= 0) & (xs < self.w) & (ys >= 0) & (ys < self.h) & (weight > 0)
        ys, xs, weight = ys[keep], xs[keep], weight[keep]
        alpha = weight * (1.0 - cover(xs + 0.5, ys + 0.5))
        flat, inverse = np.unique(ys * self.w + xs, return_inverse=True)
        clear = np.ones(len(flat))
        np.multiply.at(clear, inverse, 1.0 - alpha)
        alpha = np.round((1.0 - clear) * LINE_LEVELS) / LINE_LEVELS
        shown = alpha > 0
        if not shown.any():
            return None
        ys, xs = np.divmod(flat[shown], self.w)
        out[ys, xs] = self.to_palette.blend(out[ys, xs], colour, alpha[shown])
        return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)

    def image(self, indices: np.ndarray, changed: Changed | None = None) -> Image.Image:
        """``indices`` as a P-mode image sharing their memory (so they must not change after).

        ``changed`` goes into ``info`` under writer.CHANGED: where this frame can
        differ from the one before, so the GIF writer compares that box only.
        """
        out = Image.frombuffer("P", (self.w, self.h), indices, "raw", "P", 0, 1)
        out.putpalette(self.to_palette.flat)
        if changed is not None:
            out.info[CHANGED] = changed
        return out


def _crosses(rect, p0: Point, p1: Point, margin: float = 2.0) -> bool:
    """Does segment p0-p1 pass within ``margin`` px of the box ``rect``?"""
    x0, y0, x1, y1 = rect[0] - margin, rect[1] - margin, rect[2] + margin, rect[3] + margin
    (ax, ay), (bx, by) = p0, p1
    t0, t1 = 0.0, 1.0
    for p, q in ((-(bx - ax), ax - x0), (bx - ax, x1 - ax), (-(by - ay), ay - y0), (by - ay, y1 - ay)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def _union(boxes: list[Box]) -> Box:
    """The smallest box holding ``boxes``; an empty box when there are none."""
    if not boxes:
        return (0, 0, 0, 0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


_RUNS = count()  # tells one _animate's frames from another's


def _animate(canvas: _Canvas, scene: Scene) -> Iterator[Image.Image]:
    """Frames as the still picture plus the tiles that each frame's operations touch.

    Z-order as in :mod:`convanim.scene`. Text that stays put for two frames is
    painted into the still picture, and painted out again when it goes, so a
    frame redraws only what changes.
    """
    run = next(_RUNS)
    low, high = _Ops(), _Ops()
    for op in scene.low:
        low.add(op)
    for op in scene.high:
        high.add(op)
    cover = _parallelogram_cover(*scene.cover) if scene.cover else (lambda x, y: 0.0)
    persist = _Ops()
    in_base: dict = {}  # text and marks painted into canvas.base, in order
    op_cache: dict = {}  # each operation's drawing, made once: cells and text recur

    def ops_of(elements) -> _Ops:
        out = _Ops()
        for e in elements:
            if e not in op_cache:
                op_cache[e] = _Ops()
                op_cache[e].add(e)
                op_cache[e].tiles(canvas.ncols, canvas.nrows)
            out.extend(op_cache[e])
        return out

    def repaint_base(changed: _Ops) -> list[Box]:
        rects = canvas.tile_rects(changed.tiles(canvas.ncols, canvas.nrows))
        if rects:
            canvas.paint(canvas.base, rects, [low, persist, high, ops_of(in_base)])
        return rects

    canvas.keep(low)
    canvas.paint(canvas.base, canvas.bands(), [low, persist, high])
    previous: set = set()
    touched: list[Box] = []  # where the last frame differs from the still picture
    for step in range(scene.n_frames):
        f: Frame = scene.frame(step)
        under, over, fresh = ops_of(f.under), ops_of(f.over), ops_of(f.fresh)
        # This frame differs from the last only where either differs from the still
        # picture, or where the still picture itself changes.
        changed_boxes = list(touched)
        touched = []
        current = dict.fromkeys(f.texts)
        gone = [e for e in in_base if e not in current]
        settled = [e for e in current if e in previous and e not in in_base]
        if fresh.ops or gone or settled:
            persist.extend(fresh)
            for e in gone:
                del in_base[e]
            in_base.update(dict.fromkeys(settled))
            changed = _Ops()
            changed.extend(fresh)
            changed.extend(ops_of(gone + settled))
            changed_boxes += repaint_base(changed)
        moving = ops_of(e for e in current if e not in in_base)
        dirty = set()
        for layer in (under, over, moving):
            dirty |= layer.tiles(canvas.ncols, canvas.nrows)
        frame = canvas.base.copy()
        touched = canvas.tile_rects(dirty)
        canvas.paint(frame, touched, [low, under, persist, high, over, ops_of(current)])
        touched.append(canvas.lines(frame, f.lines, scene.line_colour, cover))
        if f.lines:
            # Text stays on top: restamp the items a connecting line crosses.
            for e in current:
                if isinstance(e, Text) and any(_crosses(e.rect, p0, p1) for p0, p1 in f.lines):
                    touched.append(canvas.stamp(frame, e))
        touched = [b for b in touched if b is not None]
        previous = set(current)
        box = _union(changed_boxes + touched) if step else None
        yield canvas.image(frame, Changed(run, step, (canvas.w, canvas.h), box))


def frames(scene: Scene, changed: bool = False) -> Iterator[Image.Image]:
    """One P-mode image per frame of ``scene``, all sharing :func:`palette_colours`.

    ``changed`` keeps in each frame's ``info`` where it differs from the one before
    (:class:`convanim.changed.Changed`), for the GIF writer; frames handed to users
    go without it.
    """
    if scene.crisp:
        yield picture(scene)
        return
    canvas = _Canvas(scene.size, scene.theme, text=scene.has_text)
    for image in _animate(canvas, scene):
        if not changed:
            del image.info[CHANGED]
        yield image


def frame_image(scene: Scene, step: int) -> Image.Image:
    """Frame ``step`` (from 0) alone: the frames before it are drawn too, since output
    cells fill in as the animation goes, but only this one is kept."""
    scene.frame(step)  # IndexError naming the range when there is no such frame
    for n, image in enumerate(frames(scene)):
        if n == step:
            return image
    raise AssertionError("unreachable")


# Crisp scenes (the matrix figure): flat boxes and text, drawn at 1x. -------------

def picture(scene: Scene) -> Image.Image:
    """RGB image of a crisp scene's still picture: rectangles, polylines, baseline text."""
    img = Image.new("RGB", scene.size, scene.background)
    draw = ImageDraw.Draw(img)
    for op in scene.low + scene.high:
        if isinstance(op, Text):
            draw.text((op.x, op.y), op.text, font=_font(round(op.size)), fill=op.colour,
                      anchor=op.anchor)
        elif op.closed:
            xs = [p[0] for p in op.points]
            ys = [p[1] for p in op.points]
            box = [min(xs), min(ys), max(xs), max(ys)]
            if op.fill is not None:
                draw.rectangle(box, fill=op.fill)
            if op.stroke is not None:
                draw.rectangle(box, outline=op.stroke, width=round(op.width))
        else:
            draw.line(list(op.points), fill=op.stroke, width=round(op.width),
                      joint="curve" if op.round else None)
    return img

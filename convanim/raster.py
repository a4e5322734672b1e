"""Pixels: the only module that draws. Layout geometry in, PIL images out.

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

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, count
from typing import Iterator, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .flat import FlatLayout
from .layout import CROP, PAD, REAL, IsoLayout, Mark, Plane, Point, TextItem
from .theme import CLASSIC, RGB, Theme
from .writer import CHANGED, Changed

SS = 3  # supersampling factor: 10 coverage levels per edge, finer than the palette's ramps
GRID_W = 1.6  # grid line width, canvas pixels
DASHES = ((0.0, 0.2), (0.35, 0.65), (0.8, 1.0))  # dash pattern along one cell edge


MIN_FONT = 6.0  # canvas px: text that only fits smaller is left out
SHRINK_FLOOR = 0.75  # a longer form may shrink to this share of its size before a shorter one is tried
MIN_CONTRAST_LIGHT = 1.8  # text_light is kept while it reads at least this well


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

    def text(self, placed: "Placed", colour: RGB) -> None:
        self._tiles = None
        self.ops.append(("t", [placed.xy], placed.text, round(placed.size * SS), colour))
        self._start_list.append((placed.xy[0] / SS, placed.xy[1] / SS))
        x0, y0, x1, y1 = placed.rect
        self.boxes.append((x0 - 1, y0 - 1, x1 + 1, y1 + 1))

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

    def cell(self, quad, fill: RGB | None, edge: RGB, faint: bool = False) -> None:
        """Fill one cell and stroke its four edges solid (or dashed when ``faint``)."""
        if fill is not None:
            self.poly(quad, fill)
        for i in range(4):
            (self.dashed if faint else self.seg)(quad[i], quad[(i + 1) % 4], edge, GRID_W)

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


def _plane_ops(ops: _Ops, plane: Plane, fills: dict[int, RGB | None], theme: Theme) -> None:
    for kind, fill in fills.items():
        if fill is None:
            continue
        for r, c in plane.cells(kind):
            ops.poly(plane.quad(r, c), fill)
    solid, dashed, faint = plane.edges()
    for p0, p1 in dashed:
        ops.dashed(p0, p1, theme.line, GRID_W)
    for p0, p1 in faint:
        ops.dashed(p0, p1, theme.crop, GRID_W)
    for p0, p1 in solid:
        ops.seg(p0, p1, theme.line, GRID_W)


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

    def stamp(self, out: np.ndarray, placed: "Placed", colour: RGB) -> Box | None:
        """Blend one text over ``out`` by its anti-aliased coverage (text over the lines); its box."""
        x0, y0 = max(0, int(placed.rect[0]) - 1), max(0, int(placed.rect[1]) - 1)
        x1 = min(self.w, int(np.ceil(placed.rect[2])) + 2)
        y1 = min(self.h, int(np.ceil(placed.rect[3])) + 2)
        if x1 <= x0 or y1 <= y0:
            return None
        mask = Image.new("L", ((x1 - x0) * SS, (y1 - y0) * SS), 0)
        ImageDraw.Draw(mask).text((placed.xy[0] - x0 * SS, placed.xy[1] - y0 * SS), placed.text,
                                  font=_font(round(placed.size * SS)), fill=255)
        alpha = np.asarray(mask.reduce(SS), dtype=np.float64) / 255.0
        out[y0:y1, x0:x1] = self.to_palette.blend(out[y0:y1, x0:x1], colour, alpha)
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


# Text ------------------------------------------------------------------------

@dataclass(frozen=True)
class Placed:
    """A text item as drawn: the form chosen, its font size (canvas px) and ink box."""

    text: str
    size: float
    rect: tuple[float, float, float, float]  # ink box, canvas px (x0, y0, x1, y1)
    xy: tuple[float, float]  # where Pillow draws it, supersampled px


@lru_cache(maxsize=None)
def _font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's own scalable font (Aileron, Pillow >= 10.1): no system font needed."""
    return ImageFont.load_default(size=max(1, size))


@lru_cache(maxsize=1 << 16)
def _ink(text: str, size: int) -> tuple[int, int, int, int]:
    return _font(size).getbbox(text)


def _inside(points, slot) -> bool:
    """All ``points`` inside the convex polygon ``slot`` (either winding)."""
    n = len(slot)
    signs = set()
    for i in range(n):
        (ax, ay), (bx, by) = slot[i], slot[(i + 1) % n]
        for px, py in points:
            cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
            if abs(cross) > 1e-9:
                signs.add(cross > 0)
    return len(signs) <= 1


@lru_cache(maxsize=1 << 16)
def _fit_rel(texts: tuple[str, ...], size: float, slot: tuple[Point, ...]):
    """(form, font px, ink box) fitting ``slot`` (relative to the centre), or None."""
    nominal = int(size * SS)
    for n, text in enumerate(texts):
        last = n == len(texts) - 1
        floor = MIN_FONT * SS if last else max(MIN_FONT * SS, SHRINK_FLOOR * nominal)
        px = nominal
        while px >= floor:
            l, t, r, b = _ink(text, px)
            w, h = (r - l) / SS, (b - t) / SS
            rect = (-w / 2, -h / 2, w / 2, h / 2)
            corners = ((rect[0], rect[1]), (rect[2], rect[1]), (rect[2], rect[3]), (rect[0], rect[3]))
            if _inside(corners, slot):
                return text, px, rect, (l, t, r, b)
            px = min(px - 1, int(px * 0.93))
    return None


def fit(item: TextItem) -> Placed | None:
    """The first form of ``item`` that fits its slot at the largest size, centred; None: left out."""
    cx, cy = item.centre
    rel = tuple((round(x - cx, 3), round(y - cy, 3)) for x, y in item.slot)
    got = _fit_rel(item.texts, item.size, rel)
    if got is None:
        return None
    text, px, (x0, y0, x1, y1), (l, t, r, b) = got
    return Placed(text, px / SS, (cx + x0, cy + y0, cx + x1, cy + y1),
                  (cx * SS - (l + r) / 2, cy * SS - (t + b) / 2))


def _luminance(c: RGB) -> float:
    def lin(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two colours, 1..21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(theme: Theme, item: TextItem) -> RGB:
    """The item's colour, or ``text_inverse`` where that reads better on the fill beneath."""
    under = getattr(theme, item.on)
    if item.colour == "text_light" and contrast(theme.text_light, under) >= MIN_CONTRAST_LIGHT:
        return theme.text_light
    return max((theme.text, theme.text_inverse), key=lambda c: contrast(c, under))


Layout = Union[IsoLayout, FlatLayout]


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


def _text_ops(ops: _Ops, element: TextItem | Mark, theme: Theme) -> None:
    """One overlay element as drawing operations (nothing when text does not fit)."""
    if isinstance(element, Mark):
        colour = getattr(theme, element.role)
        quad = element.quad
        for i in range(len(quad)):
            ops.seg(quad[i], quad[(i + 1) % len(quad)], colour, element.width)
        return
    placed = fit(element)
    if placed is not None:
        ops.text(placed, text_colour(theme, element))


@dataclass(frozen=True)
class _Parts:
    """What one frame adds to the still picture (see :func:`_animate`)."""

    under: _Ops  # moving shapes below the persistent and upper layers
    over: _Ops  # moving shapes above them
    fresh: _Ops  # shapes that stay from this frame on (output cells filling in)
    lines: tuple[tuple[Point, Point], ...]  # connecting lines, drawn last
    overlay: tuple  # TextItem and Mark elements, drawn over the shapes


def _animate(canvas: _Canvas, low: _Ops, high: _Ops, n: int, parts_of, cover,
             theme: Theme) -> Iterator[Image.Image]:
    """Frames as the still picture plus the tiles that each frame's parts touch.

    Z-order: ``low``, the frame's ``under`` shapes, the persistent shapes, ``high``,
    the frame's ``over`` shapes, its text and marks, then the connecting lines.
    Text that stays put for two frames is painted into the still picture, and
    painted out again when it goes, so a frame redraws only what changes.
    """
    run = next(_RUNS)
    persist = _Ops()
    in_base: dict = {}  # overlay elements painted into canvas.base, in order
    op_cache: dict = {}

    def ops_of(elements) -> _Ops:
        out = _Ops()
        for e in elements:
            if e not in op_cache:
                op_cache[e] = _Ops()
                _text_ops(op_cache[e], e, theme)
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
    for step in range(n):
        parts = parts_of(step)
        # This frame differs from the last only where either differs from the still
        # picture, or where the still picture itself changes.
        changed_boxes = list(touched)
        touched = []
        current = dict.fromkeys(parts.overlay)
        gone = [e for e in in_base if e not in current]
        settled = [e for e in current if e in previous and e not in in_base]
        if parts.fresh.ops or gone or settled:
            persist.extend(parts.fresh)
            for e in gone:
                del in_base[e]
            in_base.update(dict.fromkeys(settled))
            changed = _Ops()
            changed.extend(parts.fresh)
            changed.extend(ops_of(gone + settled))
            changed_boxes += repaint_base(changed)
        moving = ops_of(e for e in current if e not in in_base)
        dirty = set()
        for layer in (parts.under, parts.over, moving):
            dirty |= layer.tiles(canvas.ncols, canvas.nrows)
        frame = canvas.base.copy()
        touched = canvas.tile_rects(dirty)
        canvas.paint(frame, touched,
                     [low, parts.under, persist, high, parts.over, ops_of(current)])
        touched.append(canvas.lines(frame, parts.lines, theme.connector, cover))
        if parts.lines:
            # Text stays on top: restamp the items a connecting line crosses.
            for e in current:
                if isinstance(e, TextItem):
                    placed = fit(e)
                    if placed is not None and any(_crosses(placed.rect, p0, p1)
                                                  for p0, p1 in parts.lines):
                        touched.append(canvas.stamp(frame, placed, text_colour(theme, e)))
        touched = [b for b in touched if b is not None]
        previous = set(current)
        box = _union(changed_boxes + touched) if step else None
        yield canvas.image(frame, Changed(run, step, (canvas.w, canvas.h), box))


def _union(boxes: list[Box]) -> Box:
    """The smallest box holding ``boxes``; an empty box when there are none."""
    if not boxes:
        return (0, 0, 0, 0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


_RUNS = count()  # tells one _animate's frames from another's


def frames(layout: Layout, theme: Theme = CLASSIC, changed: bool = False) -> Iterator[Image.Image]:
    """One P-mode image per step of ``layout``, all sharing :func:`palette_colours`.

    ``changed`` keeps in each frame's ``info`` where it differs from the one before
    (writer.Changed), for the GIF writer; frames handed to users go without it.
    """
    for image in _frames(layout, theme):
        if not changed:
            del image.info[CHANGED]
        yield image


def _frames(layout: Layout, theme: Theme) -> Iterator[Image.Image]:
    canvas = _Canvas(layout.size, theme, text=layout.has_text)
    if isinstance(layout, FlatLayout):
        yield from _flat_frames(canvas, layout, theme)
        return
    scatter = layout.trace.spec.view == "scatter"
    lower = _Ops()
    _plane_ops(lower, layout.lower, {REAL: theme.input}, theme)
    # The output plane: in scatter view its cells fill as products arrive, so
    # they start empty and the filled ones are persistent shapes.
    upper = _Ops()
    if scatter:
        for r, c in layout.upper.cells(REAL):
            lower.poly(layout.upper.quad(r, c), theme.output_empty)
    _plane_ops(upper, layout.upper, {REAL: None if scatter else theme.output}, theme)
    # The connecting lines run below the output plane, which hides them.
    oh, ow = layout.trace.spec.output_size
    up = layout.upper
    cover = _parallelogram_cover(up.corner(0, 0), up.corner(0, ow), up.corner(oh, ow),
                                 up.corner(oh, 0))

    cells: dict = {}  # a highlighted cell's shapes, made once: cells recur from frame to frame

    def cell(upper: bool, r: int, c: int, kind: int) -> _Ops:
        key = (upper, r, c, kind)
        if key not in cells:
            ops = cells[key] = _Ops()
            if not upper:
                fill = theme.input_hl if kind == REAL else theme.padding_hl
                ops.cell(layout.lower.quad(r, c), fill, theme.line)
            elif kind == REAL:
                ops.cell(up.quad(r, c), theme.output_hl, theme.line)
            elif kind in (CROP, PAD):
                ops.cell(up.quad(r, c), theme.crop, theme.crop, faint=True)
            ops.tiles(canvas.ncols, canvas.nrows)
        return cells[key]

    def parts_of(step: int) -> _Parts:
        shapes = layout.frame(step)
        fresh = _Ops()
        for r, c in shapes.fresh:
            fresh.poly(up.quad(r, c), theme.output)
        under = _Ops()  # on the lower plane, under the lines
        for r, c, kind in shapes.lower:
            under.extend(cell(False, r, c, kind))
        over = _Ops()  # on the upper plane
        for r, c, kind in shapes.upper:
            over.extend(cell(True, r, c, kind))
        overlay = layout.overlay(step) if layout.has_text else None
        elements = (overlay.marks + overlay.texts) if overlay else ()
        return _Parts(under, over, fresh, shapes.lines, elements)

    yield from _animate(canvas, lower, upper, layout.n_frames, parts_of, cover, theme)


def _flat_frames(canvas: _Canvas, layout: FlatLayout, theme: Theme) -> Iterator[Image.Image]:
    grids = _Ops()
    for name, plane in layout.grids.items():
        _plane_ops(grids, plane, {REAL: getattr(theme, layout.fills[name])}, theme)

    def parts_of(step: int) -> _Parts:
        shapes = layout.frame(step)
        over = _Ops()
        for name, r, c, role, faint in shapes.cells:
            over.cell(layout.grids[name].quad(r, c), getattr(theme, role),
                      theme.crop if faint else theme.line, faint)
        for poly, role, width in shapes.outlines:
            for i in range(len(poly)):
                over.seg(poly[i], poly[(i + 1) % len(poly)], getattr(theme, role), width)
        overlay = layout.overlay(step) if layout.has_text else None
        elements = (overlay.marks + overlay.texts) if overlay else ()
        return _Parts(_Ops(), over, _Ops(), (), elements)

    yield from _animate(canvas, grids, _Ops(), layout.n_frames, parts_of, lambda x, y: 0.0, theme)


# --- The matrix figure (convanim.matrix): flat boxes and text, drawn at 1x. ---

from .matrix import SUP_T, Label, MatrixFigure  # noqa: E402

# Font size per label role, as a fraction of the row height; shrunk to fit its box.
MATRIX_FONT = {"tap": 0.42, "zero": 0.42, "in": 0.42, "out": 0.42, "row_head": 0.34,
               "col_head": 0.34, "name": 0.5, "caption": 0.44}


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def _matrix_colours(theme: Theme) -> dict[str, RGB]:
    """Colours of the matrix figure, derived from the theme's roles (no new roles needed):
    dark text on the background, zeros in the crop grey, taps and X in tints of the
    input colour, Y in a tint of the output colour."""
    bg, line = theme.background, theme.line
    return {
        "tap": _mix(bg, theme.input, 0.2), "in": _mix(bg, theme.input, 0.4),
        "out": _mix(bg, theme.output, 0.4), "grid": _mix(bg, line, 0.2),
        "text": line, "zero": theme.crop, "head": _mix(bg, line, 0.7), "bracket": line,
    }


def _runs(text: str) -> list[tuple[str, bool]]:
    """Split at the superscript T: [(text, is_superscript), ...]."""
    parts: list[tuple[str, bool]] = []
    for n, chunk in enumerate(text.split(SUP_T)):
        if n:
            parts.append(("T", True))
        if chunk:
            parts.append((chunk, False))
    return parts


def _text_width(text: str, size: int) -> float:
    font, small = _font(size), _font(round(size * 0.65))
    return sum((small if sup else font).getlength(s) for s, sup in _runs(text))


def _fit_size(texts: list[str], target: int, box_w: int, box_h: int, pad: int) -> int:
    """The largest size <= target at which every text fits inside box minus ``pad``."""
    size = max(1, target)
    widest = max(set(texts), key=lambda s: _text_width(s, size))
    while size > 6 and (_text_width(widest, size) > box_w - 2 * pad or size > box_h - 2 * pad):
        size -= 1
    return size


def _draw_text(draw: ImageDraw.ImageDraw, label: Label, size: int, fill: RGB, pad: int) -> None:
    box = label.box
    font, small = _font(size), _font(round(size * 0.65))
    width = _text_width(label.text, size)
    if label.align == "left":
        x = box.x0 + pad
    elif label.align == "right":
        x = box.x1 - pad - width
    else:
        x = (box.x0 + box.x1 - width) / 2
    # Centre the capital height on the box's middle, on a common baseline.
    cap = -font.getbbox("X", anchor="ls")[1]
    base = (box.y0 + box.y1) / 2 + cap / 2
    for s, sup in _runs(label.text):
        f = small if sup else font
        draw.text((x, base - (cap * 0.45 if sup else 0)), s, font=f, fill=fill, anchor="ls")
        x += f.getlength(s)


def matrix_picture(fig: MatrixFigure, theme: Theme = CLASSIC) -> Image.Image:
    """RGB image of a :class:`convanim.matrix.MatrixFigure`: filled cells, grid, brackets, text."""
    col = _matrix_colours(theme)
    img = Image.new("RGB", fig.size, theme.background)
    draw = ImageDraw.Draw(img)
    for box, role in fig.cells:
        draw.rectangle([box.x0, box.y0, box.x1, box.y1], fill=col[role])
    for box in fig.grid:
        draw.rectangle([box.x0, box.y0, box.x1, box.y1], outline=col["grid"], width=1)
    tick = max(3, fig.cell // 6)
    lw = max(1, round(fig.cell / 20))
    for box in fig.brackets:
        for x, d in ((box.x0, 1), (box.x1, -1)):
            draw.line([(x + d * tick, box.y0), (x, box.y0), (x, box.y1), (x + d * tick, box.y1)],
                      fill=col["bracket"], width=lw, joint="curve")
    pad = max(2, fig.cell // 10)
    by_role: dict[str, list] = {}
    for label in fig.labels:
        by_role.setdefault(label.role, []).append(label)
    for role, labels in by_role.items():
        # One size per role, so equal things look equal; fitted to the smallest box.
        box_w = min(lb.box.width for lb in labels)
        box_h = min(lb.box.height for lb in labels)
        size = _fit_size([lb.text for lb in labels], round(MATRIX_FONT[role] * fig.cell),
                         box_w, box_h, pad)
        fill = {"zero": col["zero"], "row_head": col["head"], "col_head": col["head"]}.get(
            role, col["text"])
        for label in labels:
            _draw_text(draw, label, size, fill, pad)
    return img

"""The tiled canvas: palette indices of the still picture, a tile painter, text stamps, Wu lines."""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw

from ...changed import ALPHA, CHANGED, Changed
from ...layout import Point
from ...scene import Text
from ...theme import RGB, Theme
from .ops import MASK_CACHE_CHARS, SS, TILE, Box, Ops, _draw_ops, _draw_solid, _mask, _text
from .palette import LINE_LEVELS, palette_alpha, palette_map
from .wu import coverage_many

# Connecting-line coverage in thirds. The lines move every frame and are most of a
# GIF's bytes; fewer shades repeat more, so LZW packs them tighter (classic set:
# 1.85 MB -> 1.63 MB). A third is two steps of the palette's ramps (palette_colours),
# and at 4x zoom the lines look as smooth as with every shade; halves show banding.
# (LINE_LEVELS is defined with the palette, whose ramps must hold these opacities.)
MARGIN = 16  # canvas px drawn left of and above each rectangle, then cut away
BAND_PIXELS = 1 << 22  # supersampled pixels drawn at once for the still picture
# The bottom layer (the lower grid) is kept drawn, supersampled, for canvases up to
# this many supersampled pixels (134 MB: Pillow holds RGB in 4 bytes): a rectangle then
# copies it instead of drawing its shapes again, which was half the drawing time of a
# frame. Up to 2,000 x 1,860 canvas px: `conv --i 32 --k 3 --p 1 --style flat` (2,330 x
# 1,184) took 10% less CPU so than tile by tile, for 77 MB more.
STILL_PIXELS = 32 << 20
# Past that, the bottom layer is kept tile by tile as frames need them: a tile is
# (TILE * SS)^2 px, 150 KB; a window sweeps along rows, so the last 160 (24 MB) suffice.
KEPT_TILES = 160
# Coverage of the long texts blended at 1x (see Canvas._late), the last ones kept: a
# step's line is new every frame, a caption or title recurs in every rectangle it meets.
LATE_KEPT = 64

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


class Canvas:
    """The tiled picture: palette indices of the still image, and a tile painter."""

    def __init__(self, size: tuple[int, int], theme: Theme, text: bool = False,
                 extra: tuple[RGB, ...] = ()):
        self.w, self.h = size
        self.ncols = -(-self.w // TILE)
        self.nrows = -(-self.h // TILE)
        self.theme = theme
        self.to_palette = palette_map(theme, text, extra)
        # A transparent background: palette index 0 (the matte) is clear.
        self.alpha = palette_alpha(theme, text, extra) if theme.transparent else None
        self.base = np.zeros((self.h, self.w), dtype=np.uint8)
        self._kept: tuple[Ops, Image.Image] | None = None
        self._stamps: dict[int, tuple[Text, np.ndarray]] = {}  # see stamp
        self._late_cover: OrderedDict = OrderedDict()  # see _late
        self._clear: np.ndarray | None = None  # w * h scratch: see combine_cover

    def keep(self, layer: Ops) -> None:
        """Keep ``layer`` drawn, supersampled: rectangles whose first layer it is start
        from a copy of it instead of drawing its shapes again. Drawn once over the whole
        canvas when that fits STILL_PIXELS; on a larger canvas tile by tile, as the
        rectangles need them, the last KEPT_TILES tiles kept."""
        if self.w * self.h * SS * SS <= STILL_PIXELS:
            img = Image.new("RGB", (self.w * SS, self.h * SS), self.theme.background)
            _draw_ops(ImageDraw.Draw(img), layer, range(len(layer.ops)), 0, 0)
            self._kept = (layer, img)
        else:
            self._kept = (layer, None)
            self._kept_tiles = OrderedDict()

    def _kept_tile(self, tx: int, ty: int) -> Image.Image:
        """Tile (tx, ty) of the kept layer, supersampled: drawn as a rectangle is (with
        room left of and above it, cut away), so its pixels are those of the whole."""
        tiles = self._kept_tiles
        img = tiles.get((tx, ty))
        if img is not None:
            tiles.move_to_end((tx, ty))
            return img
        layer = self._kept[0]
        x0, y0 = tx * TILE, ty * TILE
        x1, y1 = min(x0 + TILE, self.w), min(y0 + TILE, self.h)
        idx = layer.overlapping(x0, y0, x1, y1)
        mx, my = self._margins([(layer, idx)], x0, y0)
        img = Image.new("RGB", ((x1 - x0 + mx) * SS, (y1 - y0 + my) * SS), self.theme.background)
        _draw_ops(ImageDraw.Draw(img), layer, idx, (x0 - mx) * SS, (y0 - my) * SS)
        img = tiles[(tx, ty)] = img.crop((mx * SS, my * SS, img.width, img.height))
        if len(tiles) > KEPT_TILES:
            tiles.popitem(last=False)
        return img

    def _kept_crop(self, box) -> Image.Image:
        """The kept layer's supersampled pixels in ``box``; black past the canvas's edge."""
        if self._kept[1] is not None:
            return self._kept[1].crop(box)
        sx0, sy0, sx1, sy1 = box
        out = Image.new("RGB", (sx1 - sx0, sy1 - sy0), (0, 0, 0))
        core = out.im  # Image.paste's own call, without its checks: a crop takes ~10 tiles
        t = TILE * SS
        for ty in range(max(sy0, 0) // t, (min(sy1, self.h * SS) - 1) // t + 1):
            for tx in range(max(sx0, 0) // t, (min(sx1, self.w * SS) - 1) // t + 1):
                tile = self._kept_tile(tx, ty)
                x, y = tx * t - sx0, ty * t - sy0
                core.paste(tile.im, (x, y, x + tile.width, y + tile.height))
        return out

    @staticmethod
    def _margins(picks, x0: int, y0: int) -> tuple[int, int]:
        # Room left of and above a rectangle, in whole canvas pixels, so that lines and
        # text start inside the image (polygons are clipped at its edge).
        mx = my = MARGIN
        for layer, idx in picks:
            if len(idx):
                sx, sy = layer.starts()[idx].min(axis=0)  # lines and text; inf for polygons
                if sx < x0:
                    mx = max(mx, int(np.ceil(x0 - sx)) + 1)
                if sy < y0:
                    my = max(my, int(np.ceil(y0 - sy)) + 1)
        return mx, my

    def kept(self, layers: list[Ops]) -> bool:
        """Does painting ``layers`` start from the kept drawing of the first (see keep)?"""
        return self._kept is not None and bool(layers) and layers[0] is self._kept[0]

    def paint(self, out: np.ndarray, rects, layers: list[Ops], whole: bool = False) -> None:
        """Draw ``layers`` in order into each rectangle (x0, y0, x1, y1) and store palette
        indices. ``whole``: the rectangles cover the canvas (the still picture's bands),
        drawn without the kept tiles, which would all be drawn for it at once."""
        kept = self.kept(layers) and not (whole and self._kept[1] is None)
        for x0, y0, x1, y1 in rects:
            picks = [(layer, idx) for layer in (layers[1:] if kept else layers)
                     if len(idx := layer.overlapping(x0, y0, x1, y1))]
            late = self._late(picks) if picks and picks[-1][0] is layers[-1] else ()
            if late:
                layer, idx = picks[-1]
                idx = idx[~np.isin(idx, [i for i, _ in late])]
                picks[-1:] = [(layer, idx)] if len(idx) else []
            mx, my = self._margins(picks, x0, y0)
            if kept:
                # Past the canvas's left or top edge the copy is black: margin, cut away below.
                img = self._kept_crop(((x0 - mx) * SS, (y0 - my) * SS, x1 * SS, y1 * SS))
            else:
                img = Image.new("RGB", ((x1 - x0 + mx) * SS, (y1 - y0 + my) * SS),
                                self.theme.background)
            draw = ImageDraw.Draw(img)
            for layer, idx in picks:
                _draw_ops(draw, layer, idx, (x0 - mx) * SS, (y0 - my) * SS)
            small = img.reduce(SS, box=(mx * SS, my * SS, img.width, img.height))
            out[y0:y1, x0:x1] = self.to_palette.indices(small)
            if self.alpha is not None:
                self._keep_opaque(out, small, layers[0] if kept else None, picks,
                                  (x0, y0, x1, y1), (mx, my))
            for _, op in late:
                self._blend_late(out, op, (x0, y0, x1, y1))

    def _keep_opaque(self, out: np.ndarray, small: Image.Image, low: Ops | None, picks,
                     rect: Box, margins: tuple[int, int]) -> None:
        """On a transparent background: where shapes cover a pixel whole, its colour is an
        opaque entry. A pixel's colour alone cannot tell text's edge over a light fill
        from the text at partial opacity over the background (the matte's blends with it):
        white numbers on a dark cell let the page show through. So the shapes are drawn
        again as coverage, and the pixels they cover whole that mapped to an entry with
        partial opacity are looked up among the opaque entries."""
        (x0, y0, x1, y1), (mx, my) = rect, margins
        got = out[y0:y1, x0:x1]
        wrong = ~self.to_palette.opaque[got]
        if not wrong.any():
            return
        cover = Image.new("L", ((x1 - x0 + mx) * SS, (y1 - y0 + my) * SS), 0)
        draw = ImageDraw.Draw(cover)
        if low is not None:  # the kept bottom layer, which the picks leave out
            _draw_solid(draw, low, low.overlapping(x0, y0, x1, y1), (x0 - mx) * SS, (y0 - my) * SS)
        for layer, idx in picks:
            _draw_solid(draw, layer, idx, (x0 - mx) * SS, (y0 - my) * SS)
        whole = np.asarray(cover.reduce(SS, box=(mx * SS, my * SS, cover.width, cover.height))) == 255
        fix = wrong & whole
        if fix.any():
            rgb = np.asarray(small)[fix]
            got[fix] = self.to_palette.opaque_indices(rgb)

    def _late(self, picks) -> list[tuple[int, tuple]]:
        """The step's line and the long texts of the top layer (captions, titles) that no later
        operation in it overlaps: (index, op). These are blended over the reduced pixels by
        their coverage at 1x, as :meth:`stamp` blends a text, rather than drawn through a
        mask of 9 times their pixels: drawing a step's line that way was about a tenth of a
        flat frame. Over an even fill (the plate, the band) the pixels are those of the
        supersampled drawing but for rounding (a palette step on a few edge pixels); on a
        transparent background, text over an opaque fill stays opaque (PaletteMap.blend)."""
        layer, idx = picks[-1]
        ops, boxes = layer.ops, layer.boxes
        out = []
        for n, i in enumerate(idx.tolist()):
            op = ops[i]
            if op[0] != "t" or not (op[6] or len(op[2]) > MASK_CACHE_CHARS):
                continue
            a0, a1, a2, a3 = boxes[i]
            if any(b[0] < a2 and a0 < b[2] and b[1] < a3 and a1 < b[3]
                   for b in (boxes[j] for j in idx[n + 1:].tolist())):
                continue  # something drawn after it covers part of it: drawn in turn
            out.append((i, op))
        return out

    def _blend_late(self, out: np.ndarray, op: tuple, rect: Box) -> None:
        """Blend text ``op`` (an Ops text) over ``out`` within ``rect`` by its coverage."""
        hit = self._late_cover.get(id(op))
        if hit is None:
            # The glyphs' bitmap where ops._text would draw it, supersampled, in whole canvas
            # pixels around it (its ink can reach past the fitted text's box).
            _, ((sx, sy),), text, size, _, face, _ = op
            glyphs, (dx, dy) = _mask.__wrapped__(text, size, face, "L", math.modf(sx)[0],
                                                 math.modf(sy)[0])
            px, py = int(sx) + dx, int(sy) + dy
            gw, gh = glyphs.size
            bx0, by0 = px // SS, py // SS
            bx1, by1 = -(-(px + gw) // SS), -(-(py + gh) // SS)
            mask = Image.new("L", ((bx1 - bx0) * SS, (by1 - by0) * SS), 0)
            ox, oy = px - bx0 * SS, py - by0 * SS
            mask.im.paste(glyphs, (ox, oy, ox + gw, oy + gh))
            cover = np.asarray(mask.reduce(SS), dtype=np.float64) / 255.0
            hit = self._late_cover[id(op)] = (op, (bx0, by0), cover)
            if len(self._late_cover) > LATE_KEPT:
                self._late_cover.popitem(last=False)
        _, (bx0, by0), cover = hit
        x0, y0 = max(rect[0], bx0), max(rect[1], by0)
        x1, y1 = min(rect[2], bx0 + cover.shape[1]), min(rect[3], by0 + cover.shape[0])
        if x0 < x1 and y0 < y1:
            alpha = cover[y0 - by0:y1 - by0, x0 - bx0:x1 - bx0]
            out[y0:y1, x0:x1] = self.to_palette.blend(out[y0:y1, x0:x1], op[4], alpha)

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
        box = self._stamp_box(t)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        alpha = self._coverage(t, box)
        out[y0:y1, x0:x1] = self.to_palette.blend(out[y0:y1, x0:x1], t.colour, alpha)
        return box

    def _stamp_box(self, t: Text) -> Box | None:
        """The canvas pixels a stamped text's coverage spans, or None (off the canvas)."""
        x0, y0 = max(0, int(t.rect[0]) - 1), max(0, int(t.rect[1]) - 1)
        x1 = min(self.w, int(np.ceil(t.rect[2])) + 2)
        y1 = min(self.h, int(np.ceil(t.rect[3])) + 2)
        return None if x1 <= x0 or y1 <= y0 else (x0, y0, x1, y1)

    def stamps(self, out: np.ndarray, texts) -> list[Box]:
        """:meth:`stamp` each of ``texts`` in order; their boxes. Texts whose boxes do not
        overlap are blended in one pass: each pixel meets one text, so the order among
        them does not matter (a text overlapping one before it waits for the next pass)."""
        boxes: list[Box] = []
        group: list = []  # (box, coverage, colour) of pairwise disjoint boxes
        for t in texts:
            box = self._stamp_box(t)
            if box is None:
                continue
            x0, y0, x1, y1 = box
            if any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b, _, _ in group):
                self._blend_all(out, group)
                group = []
            group.append((box, self._coverage(t, box), t.colour))
            boxes.append(box)
        self._blend_all(out, group)
        return boxes

    def _blend_all(self, out: np.ndarray, group: list) -> None:
        """Blend each (box, coverage, colour) of ``group`` (disjoint boxes) over ``out``
        in one palette lookup, with :meth:`PaletteMap.blend`'s arithmetic per pixel."""
        if not group:
            return
        if len(group) == 1:
            (x0, y0, x1, y1), alpha, colour = group[0]
            out[y0:y1, x0:x1] = self.to_palette.blend(out[y0:y1, x0:x1], colour, alpha)
            return
        under = np.concatenate([out[y0:y1, x0:x1].ravel() for (x0, y0, x1, y1), _, _ in group])
        alpha = np.concatenate([a.ravel() for _, a, _ in group])
        sizes = [a.size for _, a, _ in group]
        colours = np.repeat(np.array([c for _, _, c in group], dtype=np.float64), sizes, axis=0)
        got = self.to_palette.blend_each(under, colours, alpha)
        at = 0
        for ((x0, y0, x1, y1), _, _), n in zip(group, sizes):
            out[y0:y1, x0:x1] = got[at:at + n].reshape(y1 - y0, x1 - x0)
            at += n

    def _coverage(self, t: Text, box: Box) -> np.ndarray:
        # A text is restamped in frame after frame as the lines sweep over it: its
        # coverage is made once (keyed by the object, kept alive so its id stays its).
        hit = self._stamps.get(id(t))
        if hit is None:
            x0, y0, x1, y1 = box
            mask = Image.new("L", ((x1 - x0) * SS, (y1 - y0) * SS), 0)
            # ImageDraw.text's own calls, the glyphs rendered once per string and place
            # within a pixel (ops._text): a number recurs in many cells.
            _text(ImageDraw.Draw(mask), (t.x * SS - x0 * SS, t.y * SS - y0 * SS), t.text,
                  round(t.size * SS), t.face, 255)
            hit = self._stamps[id(t)] = (t, np.asarray(mask.reduce(SS), dtype=np.float64) / 255.0)
        return hit[1]

    def lines(self, out: np.ndarray, segments, colour: RGB, cover,
              width: float = 1.0) -> Box | None:
        """Anti-aliased lines ``width`` pixels wide across their major axis (1: one pixel),
        blended into ``out`` under ``cover(x, y)`` (0..1).

        Xiaolin Wu's method, vectorised: each step along the major axis splits
        a line between the two nearest pixels across it. The long, thin
        connecting lines are drawn this way straight onto the frame, so they
        cost no supersampled tiles. All lines are blended at once; where they
        cross, their coverages combine as one line laid over the other would.
        Returns the box of the pixels written.
        """
        if not len(segments):
            return None
        ys, xs, weight, _ = coverage_many(np.array(segments, dtype=np.float64).reshape(-1, 4),
                                          width)
        keep = (xs >= 0) & (xs < self.w) & (ys >= 0) & (ys < self.h) & (weight > 0)
        ys, xs, weight = ys[keep], xs[keep], weight[keep]
        alpha = weight * (1.0 - cover(xs + 0.5, ys + 0.5))
        if not len(alpha):
            return None
        return self.blend_cover(out, ys * self.w + xs, alpha, colour, LINE_LEVELS)

    def blend_cover(self, out: np.ndarray, where: np.ndarray, alpha: np.ndarray, colour: RGB,
                    levels: int) -> Box | None:
        """Blend ``colour`` over ``out`` at flat pixel positions ``where`` by coverages
        ``alpha`` (several per pixel combine as one line laid over another), rounded to
        ``levels`` steps; the box of the pixels written."""
        at, level, box = self.combine_cover(where, alpha, levels)
        if box is not None:
            self.blend_levels(out, at, level, colour, levels)
        return box

    def combine_cover(self, where: np.ndarray, alpha: np.ndarray, levels: int) -> tuple:
        """The pixels of :meth:`blend_cover` (flat positions, a pixel met twice twice), their
        levels 1..``levels``, and their box (None when no pixel reaches a level)."""
        # Each pixel's coverages combined, 1 - prod(1 - a), the product taken in the
        # order the lines gave them (np.multiply.at multiplies in turn), in a canvas-sized
        # scratch array set to one where they fall: no sort to bring a pixel's entries
        # together. Zeros, not ones: only the pages lines touch are ever allocated.
        if self._clear is None:
            self._clear = np.zeros(self.w * self.h)
        clear = self._clear
        clear.put(where, 1.0)
        np.multiply.at(clear, where, 1.0 - alpha)
        level = np.round((1.0 - clear.take(where)) * levels).astype(np.intp)
        shown = level > 0
        if not shown.any():
            return where[:0], level[:0], None
        at = where[shown]
        rows, cols = np.divmod(at, self.w)
        box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
        return at, level[shown], box

    def blend_levels(self, out: np.ndarray, at: np.ndarray, level: np.ndarray, colour: RGB,
                     levels: int) -> None:
        """Blend ``colour`` over ``out`` at flat positions ``at``, at opacities level / levels:
        looked up (palette.PaletteMap.levels); a position met twice gets the same value."""
        table = self.to_palette.levels(colour, levels)
        shift = level << 8
        if out.flags.c_contiguous:  # the frame's buffer: flat positions, no 2-D indexing
            pixels = out.reshape(-1)
            pixels.put(at, table.take(shift + pixels.take(at)))
        else:
            ys, xs = np.divmod(at, self.w)
            out[ys, xs] = table.take(shift + out[ys, xs])

    def image(self, indices: np.ndarray, changed: Changed | None = None) -> Image.Image:
        """``indices`` as a P-mode image sharing their memory (so they must not change after).

        ``changed`` goes into ``info`` under writer.CHANGED: where this frame can
        differ from the one before, so the GIF writer compares that box only; with
        ``indices`` and this image in it (Changed.pixels), for the writer to slice.
        """
        out = Image.frombuffer("P", (self.w, self.h), indices, "raw", "P", 0, 1)
        out.putpalette(self.to_palette.flat)
        if self.alpha is not None:
            out.info["transparency"] = 0
            out.info[ALPHA] = self.alpha
        if changed is not None:
            out.info[CHANGED] = replace(changed, pixels=indices, image=weakref.ref(out))
        return out

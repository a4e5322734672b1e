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

from itertools import combinations
from typing import Iterator

import numpy as np
from PIL import Image, ImageDraw

from .layout import CROP, PAD, REAL, IsoLayout, Plane, Point
from .theme import CLASSIC, RGB, Theme

SS = 4  # supersampling factor
GRID_W = 1.6  # grid line width, canvas pixels
DASHES = ((0.0, 0.2), (0.35, 0.65), (0.8, 1.0))  # dash pattern along one cell edge


def palette_colours(theme: Theme) -> np.ndarray:
    """(256, 3) palette: the theme's colours, then evenly spaced blends of each pair."""
    base = theme.colours()
    pairs = list(combinations(base, 2))
    steps = max(1, (256 - len(base)) // max(1, len(pairs)))
    colours = [tuple(c) for c in base]
    for a, b in pairs:
        for n in range(1, steps + 1):
            t = n / (steps + 1)
            colours.append(tuple(round(x + (y - x) * t) for x, y in zip(a, b)))
    colours = colours[:256]
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
        self._known = np.zeros(1 << 24, dtype=np.uint16)

    def __call__(self, img: Image.Image) -> Image.Image:
        out = Image.frombytes("P", img.size, self.indices(img).tobytes())
        out.putpalette(self.flat)
        return out

    def indices(self, img: Image.Image) -> np.ndarray:
        """(H, W) uint8 palette index of each pixel of an RGB image."""
        return self.indices_rgb(np.asarray(img, dtype=np.uint8))

    def indices_rgb(self, a: np.ndarray) -> np.ndarray:
        """Palette index of each colour of an (..., 3) array of 0..255 values."""
        a = a.astype(np.int32)
        packed = (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]
        found = self._known[packed]
        missing = found == 0
        if missing.any():
            new = np.unique(packed[missing])
            rgb = np.stack([new >> 16, (new >> 8) & 255, new & 255], axis=1)
            dist = ((rgb[:, None, :] - self.colours[None, :, :]) ** 2).sum(axis=2)
            self._known[new] = dist.argmin(axis=1) + 1
            found = self._known[packed]
        return (found - 1).astype(np.uint8)


TILE = 64  # tile side, canvas pixels
BAND_PIXELS = 1 << 22  # supersampled pixels drawn at once for the still picture


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

    def poly(self, points, fill: RGB) -> None:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        self.ops.append(("p", [(x * SS, y * SS) for x, y in points], fill))
        self.boxes.append((min(xs), min(ys), max(xs), max(ys)))

    def seg(self, p0: Point, p1: Point, colour: RGB, width: float, extend: bool = True) -> None:
        """A line of ``width`` canvas px; extended by half a width so corners close cleanly."""
        (x0, y0), (x1, y1) = p0, p1
        w = max(1, round(width * SS))
        if extend:
            dx, dy = x1 - x0, y1 - y0
            n = (dx * dx + dy * dy) ** 0.5 or 1.0
            e = w / 2 / SS / n
            x0, y0, x1, y1 = x0 - dx * e, y0 - dy * e, x1 + dx * e, y1 + dy * e
        self.ops.append(("l", [(x0 * SS, y0 * SS), (x1 * SS, y1 * SS)], colour, w))
        r = width / 2
        self.boxes.append((min(x0, x1) - r, min(y0, y1) - r, max(x0, x1) + r, max(y0, y1) + r))

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

    def overlapping(self, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        if self._arr is None or len(self._arr) != len(self.boxes):
            self._arr = np.array(self.boxes, dtype=np.float64).reshape(-1, 4)
        b = self._arr
        pad = 1.0  # anti-aliasing reaches one pixel past a shape
        return np.flatnonzero((b[:, 0] - pad < x1) & (b[:, 2] + pad > x0)
                              & (b[:, 1] - pad < y1) & (b[:, 3] + pad > y0))

    def tiles(self, ncols: int, nrows: int) -> set[tuple[int, int]]:
        """Tiles that the operations touch; lines walk their length, polygons take their box."""
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
        return {(tx, ty) for tx, ty in out if 0 <= tx < ncols and 0 <= ty < nrows}


def _draw_ops(draw: ImageDraw.ImageDraw, layer: _Ops, idx: np.ndarray, ox: float, oy: float) -> None:
    for i in idx:
        op = layer.ops[i]
        pts = [(x - ox, y - oy) for x, y in op[1]]
        if op[0] == "p":
            draw.polygon(pts, fill=op[2])
        else:
            draw.line(pts, fill=op[2], width=op[3])


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

    def __init__(self, size: tuple[int, int], theme: Theme):
        self.w, self.h = size
        self.ncols = -(-self.w // TILE)
        self.nrows = -(-self.h // TILE)
        self.theme = theme
        self.to_palette = PaletteMap(palette_colours(theme))
        self.base = np.zeros((self.h, self.w), dtype=np.uint8)

    def paint(self, out: np.ndarray, rects, layers: list[_Ops]) -> None:
        """Draw ``layers`` in order into each rectangle (x0, y0, x1, y1) and store palette indices."""
        for x0, y0, x1, y1 in rects:
            img = Image.new("RGB", ((x1 - x0) * SS, (y1 - y0) * SS), self.theme.background)
            draw = ImageDraw.Draw(img)
            for layer in layers:
                idx = layer.overlapping(x0, y0, x1, y1)
                if len(idx):
                    _draw_ops(draw, layer, idx, x0 * SS, y0 * SS)
            out[y0:y1, x0:x1] = self.to_palette.indices(img.reduce(SS))

    def tile_rects(self, tiles) -> list[tuple[int, int, int, int]]:
        return [(tx * TILE, ty * TILE, min(tx * TILE + TILE, self.w), min(ty * TILE + TILE, self.h))
                for tx, ty in sorted(tiles, key=lambda t: (t[1], t[0]))]

    def bands(self) -> list[tuple[int, int, int, int]]:
        """The whole canvas in full-width bands of about BAND_PIXELS supersampled pixels."""
        rows = max(1, min(self.h, BAND_PIXELS // (self.w * SS * SS)))
        return [(0, y, self.w, min(y + rows, self.h)) for y in range(0, self.h, rows)]

    def line(self, out: np.ndarray, p0: Point, p1: Point, colour: RGB, cover) -> None:
        """An anti-aliased line one pixel wide, blended into ``out`` under ``cover(x, y)`` (0..1).

        Xiaolin Wu's method, vectorised: each step along the major axis splits
        the line between the two nearest pixels across it. The long, thin
        connecting lines are drawn this way straight onto the frame, so they
        cost no supersampled tiles.
        """
        (x0, y0), (x1, y1) = p0, p1
        steep = abs(y1 - y0) > abs(x1 - x0)
        if steep:
            x0, y0, x1, y1 = y0, x0, y1, x1
        if x1 < x0:
            x0, y0, x1, y1 = x1, y1, x0, y0
        # Pixel centres sit at +0.5: sample the line at the centres along the major axis.
        major = np.arange(int(np.floor(x0 - 0.5)) + 1, int(np.floor(x1 - 0.5)) + 1)
        if len(major) == 0:
            return
        slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
        minor = y0 + (major + 0.5 - x0) * slope - 0.5
        base = np.floor(minor).astype(np.int64)
        frac = minor - base
        ms = np.concatenate([major, major])
        ns = np.concatenate([base, base + 1])
        weight = np.concatenate([1 - frac, frac])
        ys, xs = (ms, ns) if steep else (ns, ms)
        keep = (xs >= 0) & (xs < self.w) & (ys >= 0) & (ys < self.h) & (weight > 0)
        ys, xs, weight = ys[keep], xs[keep], weight[keep]
        alpha = weight * (1.0 - cover(xs + 0.5, ys + 0.5))
        pal = self.to_palette.colours
        under = pal[out[ys, xs]].astype(np.float64)
        mixed = under + (np.array(colour, dtype=np.float64) - under) * alpha[:, None]
        out[ys, xs] = self.to_palette.indices_rgb(np.rint(mixed).astype(np.int32))

    def image(self, indices: np.ndarray) -> Image.Image:
        out = Image.frombytes("P", (self.w, self.h), indices.tobytes())
        out.putpalette(self.to_palette.flat)
        return out


def frames(layout: IsoLayout, theme: Theme = CLASSIC) -> Iterator[Image.Image]:
    """One P-mode image per step of ``layout``, all sharing :func:`palette_colours`."""
    canvas = _Canvas(layout.size, theme)
    scatter = layout.trace.spec.view == "scatter"

    lower = _Ops()
    _plane_ops(lower, layout.lower, {REAL: theme.input}, theme)
    # The output plane: in scatter view its cells fill as products arrive, so
    # their fills are a layer of their own that grows frame by frame.
    upper_fill = _Ops()
    upper = _Ops()
    _plane_ops(upper, layout.upper, {REAL: None if scatter else theme.output}, theme)
    if scatter:
        for r, c in layout.upper.cells(REAL):
            upper_fill.poly(layout.upper.quad(r, c), theme.output_empty)
    canvas.paint(canvas.base, canvas.bands(), [lower, upper_fill, upper])
    # The connecting lines run below the output plane, which hides them.
    cover = _parallelogram_cover(layout.upper.quad(0, 0)[0], layout.upper.corner(0, layout.trace.spec.output_size[1]),
                                 layout.upper.corner(*layout.trace.spec.output_size),
                                 layout.upper.corner(layout.trace.spec.output_size[0], 0))

    for step in range(layout.n_frames):
        shapes = layout.frame(step)
        if shapes.fresh:
            # Newly filled output cells change the still image from here on.
            fresh = _Ops()
            for r, c in shapes.fresh:
                q = layout.upper.quad(r, c)
                upper_fill.poly(q, theme.output)
                fresh.poly(q, theme.output)
            canvas.paint(canvas.base, canvas.tile_rects(fresh.tiles(canvas.ncols, canvas.nrows)),
                         [lower, upper_fill, upper])
        below = _Ops()  # on the lower plane, under the lines
        for r, c, kind in shapes.lower:
            fill = theme.input_hl if kind == REAL else theme.padding_hl
            below.cell(layout.lower.quad(r, c), fill, theme.line)
        above = _Ops()  # on the upper plane
        for r, c, kind in shapes.upper:
            if kind == REAL:
                above.cell(layout.upper.quad(r, c), theme.output_hl, theme.line)
            elif kind in (CROP, PAD):
                above.cell(layout.upper.quad(r, c), theme.crop, theme.crop, faint=True)
        dirty = below.tiles(canvas.ncols, canvas.nrows) | above.tiles(canvas.ncols, canvas.nrows)
        frame = canvas.base.copy()
        canvas.paint(frame, canvas.tile_rects(dirty),
                     [lower, below, upper_fill, upper, above])
        for p0, p1 in shapes.lines:
            canvas.line(frame, p0, p1, theme.connector, cover)
        yield canvas.image(frame)


# --- The matrix figure (convanim.matrix): flat boxes and text, drawn at 1x. ---

from functools import lru_cache  # noqa: E402  (kept with the section that needs them)

from PIL import ImageFont  # noqa: E402

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


@lru_cache(maxsize=64)
def _font(size: int):
    # Pillow's own scalable font (Pillow >= 10.1): no system fonts, same glyphs everywhere.
    return ImageFont.load_default(size=max(1, size))


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

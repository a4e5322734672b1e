"""Pixels: the only module that draws. Layout geometry in, PIL images out.

Shapes are drawn at SS times the canvas size and box-filtered down, which gives
smooth edges; the result is mapped without dithering onto one fixed palette per
theme (its colours and the blends between them), the same for every frame, so
flat colours stay flat and a GIF needs no per-frame palette.
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
LINK_W = 1.0  # the four lines joining footprint and output cell
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
    distinct colour of a frame to its true nearest entry.
    """

    def __init__(self, colours: np.ndarray):
        self.colours = colours
        self.flat = [int(v) for v in colours.ravel()]

    def __call__(self, img: Image.Image) -> Image.Image:
        a = np.asarray(img, dtype=np.uint8)
        packed = (a[..., 0].astype(np.int32) << 16) | (a[..., 1].astype(np.int32) << 8) | a[..., 2]
        uniq, inverse = np.unique(packed.ravel(), return_inverse=True)
        rgb = np.stack([uniq >> 16, (uniq >> 8) & 255, uniq & 255], axis=1)
        dist = ((rgb[:, None, :] - self.colours[None, :, :]) ** 2).sum(axis=2)
        index = dist.argmin(axis=1).astype(np.uint8)[inverse].reshape(packed.shape)
        out = Image.frombytes("P", img.size, index.tobytes())
        out.putpalette(self.flat)
        return out


def _scaled(points, k: float = SS) -> list[tuple[float, float]]:
    return [(x * k, y * k) for x, y in points]


def _segment(draw: ImageDraw.ImageDraw, p0: Point, p1: Point, colour: RGB, width: float,
             extend: bool = True) -> None:
    """A line of ``width`` canvas px; extended by half a width so corners close cleanly."""
    (x0, y0), (x1, y1) = _scaled((p0, p1))
    w = max(1, round(width * SS))
    if extend:
        dx, dy = x1 - x0, y1 - y0
        n = (dx * dx + dy * dy) ** 0.5 or 1.0
        e = w / 2 / n
        x0, y0, x1, y1 = x0 - dx * e, y0 - dy * e, x1 + dx * e, y1 + dy * e
    draw.line([(x0, y0), (x1, y1)], fill=colour, width=w)


def _dashed(draw: ImageDraw.ImageDraw, p0: Point, p1: Point, colour: RGB, width: float) -> None:
    for a, b in DASHES:
        q0 = (p0[0] + (p1[0] - p0[0]) * a, p0[1] + (p1[1] - p0[1]) * a)
        q1 = (p0[0] + (p1[0] - p0[0]) * b, p0[1] + (p1[1] - p0[1]) * b)
        _segment(draw, q0, q1, colour, width, extend=(a == 0.0 or b == 1.0))


def _cell(draw: ImageDraw.ImageDraw, plane: Plane, r: int, c: int, fill: RGB | None,
          edge: RGB, faint: bool = False) -> None:
    """Fill one cell and stroke its four edges solid (or dashed when ``faint``)."""
    quad = plane.quad(r, c)
    if fill is not None:
        draw.polygon(_scaled(quad), fill=fill)
    for i in range(4):
        p0, p1 = quad[i], quad[(i + 1) % 4]
        (_dashed if faint else _segment)(draw, p0, p1, edge, GRID_W)


def _plane_base(draw: ImageDraw.ImageDraw, plane: Plane, fills: dict[int, RGB | None],
                theme: Theme) -> None:
    for kind, fill in fills.items():
        if fill is None:
            continue
        for r, c in plane.cells(kind):
            draw.polygon(_scaled(plane.quad(r, c)), fill=fill)
    solid, dashed, faint = plane.edges()
    for p0, p1 in dashed:
        _dashed(draw, p0, p1, theme.line, GRID_W)
    for p0, p1 in faint:
        _dashed(draw, p0, p1, theme.crop, GRID_W)
    for p0, p1 in solid:
        _segment(draw, p0, p1, theme.line, GRID_W)


def frames(layout: IsoLayout, theme: Theme = CLASSIC) -> Iterator[Image.Image]:
    """One P-mode image per step of ``layout``, all sharing :func:`palette_colours`."""
    w, h = layout.size
    big = (w * SS, h * SS)
    scatter = layout.trace.spec.view == "scatter"
    to_palette = PaletteMap(palette_colours(theme))

    lower = Image.new("RGB", big, theme.background)
    _plane_base(ImageDraw.Draw(lower), layout.lower, {REAL: theme.input}, theme)
    upper = Image.new("RGBA", big, (0, 0, 0, 0))
    up_fill = theme.output_empty if scatter else theme.output
    _plane_base(ImageDraw.Draw(upper), layout.upper, {REAL: up_fill}, theme)

    for step in range(layout.n_frames):
        shapes = layout.frame(step)
        img = lower.copy()
        draw = ImageDraw.Draw(img)
        for r, c, kind in shapes.lower:
            fill = theme.input_hl if kind == REAL else theme.padding_hl
            _cell(draw, layout.lower, r, c, fill, theme.line)
        for p0, p1 in shapes.lines:
            _segment(draw, p0, p1, theme.connector, LINK_W, extend=False)
        img.paste(upper, (0, 0), upper)
        draw = ImageDraw.Draw(img)
        if shapes.filled is not None:
            for r, c in shapes.filled:
                _cell(draw, layout.upper, r, c, theme.output, theme.line)
        for r, c, kind in shapes.upper:
            if kind == REAL:
                _cell(draw, layout.upper, r, c, theme.output_hl, theme.line)
            elif kind in (CROP, PAD):
                _cell(draw, layout.upper, r, c, theme.crop, theme.crop, faint=True)
        small = img.reduce(SS)
        yield to_palette(small)


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

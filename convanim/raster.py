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

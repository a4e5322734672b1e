"""Pixels: the only module that draws. Layout geometry in, PIL images out.

Shapes are drawn at SS times the canvas size and box-filtered down, which gives
smooth edges; the result is mapped without dithering onto one fixed palette per
theme (its colours and the blends between them), the same for every frame, so
flat colours stay flat and a GIF needs no per-frame palette.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Iterator, Union

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .flat import FlatLayout
from .layout import CROP, PAD, REAL, IsoLayout, Overlay, Plane, Point, TextItem
from .theme import CLASSIC, RGB, Theme

SS = 4  # supersampling factor
GRID_W = 1.6  # grid line width, canvas pixels
LINK_W = 1.0  # the four lines joining footprint and output cell
DASHES = ((0.0, 0.2), (0.35, 0.65), (0.8, 1.0))  # dash pattern along one cell edge


MIN_FONT = 6.0  # canvas px: text that only fits smaller is left out
SHRINK_FLOOR = 0.75  # a longer form may shrink to this share of its size before a shorter one is tried
MIN_CONTRAST_LIGHT = 1.8  # text_light is kept while it reads at least this well


def palette_colours(theme: Theme, text: bool = False) -> np.ndarray:
    """(256, 3) palette: the theme's colours, then evenly spaced blends of each pair.

    ``text`` adds the text colours (for pictures with numbers or captions), so
    text and its anti-aliased edges against every fill are in the palette.
    """
    base = theme.colours() + (theme.text_colours() if text else [])
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
    """Pillow's own scalable font (Aileron), no system font needed; ``size`` in supersampled px."""
    return ImageFont.load_default(size=size)


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


def _draw_overlay(draw: ImageDraw.ImageDraw, overlay: Overlay, theme: Theme) -> None:
    for mark in overlay.marks:
        colour = getattr(theme, mark.role)
        for i in range(len(mark.quad)):
            _segment(draw, mark.quad[i], mark.quad[(i + 1) % len(mark.quad)], colour, mark.width)
    for item in overlay.texts:
        placed = fit(item)
        if placed is not None:
            draw.text(placed.xy, placed.text, font=_font(round(placed.size * SS)),
                      fill=text_colour(theme, item))


Layout = Union[IsoLayout, FlatLayout]


def frames(layout: Layout, theme: Theme = CLASSIC) -> Iterator[Image.Image]:
    """One P-mode image per step of ``layout``, all sharing :func:`palette_colours`."""
    if isinstance(layout, FlatLayout):
        yield from _flat_frames(layout, theme)
        return
    w, h = layout.size
    big = (w * SS, h * SS)
    scatter = layout.trace.spec.view == "scatter"
    to_palette = PaletteMap(palette_colours(theme, layout.has_text))

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
        if layout.has_text:
            _draw_overlay(draw, layout.overlay(step), theme)
        small = img.reduce(SS)
        yield to_palette(small)


def _flat_frames(layout: FlatLayout, theme: Theme) -> Iterator[Image.Image]:
    w, h = layout.size
    to_palette = PaletteMap(palette_colours(theme, layout.has_text))
    base = Image.new("RGB", (w * SS, h * SS), theme.background)
    draw = ImageDraw.Draw(base)
    for name, plane in layout.grids.items():
        _plane_base(draw, plane, {REAL: getattr(theme, layout.fills[name])}, theme)
    for step in range(layout.n_frames):
        shapes = layout.frame(step)
        img = base.copy()
        draw = ImageDraw.Draw(img)
        for name, r, c, role, faint in shapes.cells:
            fill = getattr(theme, role)
            _cell(draw, layout.grids[name], r, c, fill, theme.crop if faint else theme.line, faint)
        for poly, role, width in shapes.outlines:
            for i in range(len(poly)):
                _segment(draw, poly[i], poly[(i + 1) % len(poly)], getattr(theme, role), width)
        if layout.has_text:
            _draw_overlay(draw, layout.overlay(step), theme)
        yield to_palette(img.reduce(SS))

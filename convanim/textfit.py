"""Text fitting and contrast: which form of a text fits its slot, at what size, in which colour.

Font metrics only, of the figure's :class:`convanim.fonts.Face` (the bundled
font unless the figure's text needs another); nothing is drawn here. Sizes are measured at METRIC_SCALE times the canvas size, the raster's
supersampling, so the size chosen is one the raster can draw exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from PIL import ImageFont

from .fonts import Face, bundled
from .layout import Point, TextItem
from .theme import RGB, Theme

METRIC_SCALE = 3  # font sizes are whole pixels at this scale (the raster's SS)
MIN_FONT = 6.0  # canvas px: text that only fits smaller is left out
SHRINK_FLOOR = 0.75  # a longer form may shrink to this share of its size before a shorter one is tried
MIN_CONTRAST_LIGHT = 1.8  # text_light is kept while it reads at least this well


@dataclass(frozen=True)
class Placed:
    """A text item as it will be drawn: the form chosen, its font size (canvas px) and ink box."""

    text: str
    size: float
    rect: tuple[float, float, float, float]  # ink box, canvas px (x0, y0, x1, y1)
    xy: tuple[float, float]  # top-left origin of the text (Pillow's "la" anchor), METRIC_SCALE px


@lru_cache(maxsize=1024)
def font(size: int, face: Face | None = None) -> ImageFont.FreeTypeFont:
    """``face`` (default: the bundled font) at ``size`` px, loaded once per size."""
    face = face or bundled()
    return ImageFont.truetype(face.path, max(1, size), index=face.index)


@lru_cache(maxsize=1 << 16)
def ink(text: str, size: int, face: Face | None = None) -> tuple[int, int, int, int]:
    return font(size, face).getbbox(text)


@lru_cache(maxsize=1 << 12)
def ascent(size: int, face: Face | None = None) -> int:
    """Distance from the "la" origin down to the baseline, at font size ``size``."""
    return font(size, face).getmetrics()[0]


def advance(text: str, size: int, face: Face | None = None) -> float:
    return font(size, face).getlength(text)


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
def _fit_rel(texts: tuple[str, ...], size: float, slot: tuple[Point, ...], face: Face | None,
             shrink: float = SHRINK_FLOOR):
    """(form, font px, ink box) fitting ``slot`` (relative to the centre), or None. A form
    before the last shrinks to ``shrink`` of ``size`` before the next is tried."""
    ss = METRIC_SCALE
    nominal = int(size * ss)
    # The slot's extent: a box wider or taller than it cannot fit, whatever its place.
    span_w = max(x for x, _ in slot) - min(x for x, _ in slot)
    span_h = max(y for _, y in slot) - min(y for _, y in slot)
    per_char = None  # ink width per character and font px, from the first form measured
    for n, text in enumerate(texts):
        last = n == len(texts) - 1
        floor = MIN_FONT * ss if last else max(MIN_FONT * ss, shrink * nominal)
        if per_char is not None and not last and text and \
                len(text) * per_char * floor * 0.5 - 3 / ss > span_w:
            # The forms of a long sum are the same characters, fewer of them: one at least
            # twice too wide even at its smallest size (by the first form's mean character
            # width) is skipped unmeasured (k=20: 40 forms).
            continue
        px = nominal
        first = None  # (px, width, height) of the first size measured
        while px >= floor:
            if first is not None and first[0] > 0:
                # Ink grows in proportion to the font size, up to hinting's pixel or two: a
                # size whose proportional box is clearly wider (or taller) than the slot is
                # skipped unmeasured. A long sum line shrinks ~20 sizes; each getbbox of it
                # costs about a millisecond.
                ratio = px / first[0]
                if (first[1] * ratio * 0.95 - 3 / ss > span_w
                        or first[2] * ratio * 0.95 - 3 / ss > span_h):
                    px = min(px - 1, int(px * 0.93))
                    continue
            l, t, r, b = ink(text, px, face)
            w, h = (r - l) / ss, (b - t) / ss
            if first is None:
                first = (px, w, h)
                if per_char is None and text and px > 0:
                    per_char = w / len(text) / px
            rect = (-w / 2, -h / 2, w / 2, h / 2)
            corners = ((rect[0], rect[1]), (rect[2], rect[1]), (rect[2], rect[3]), (rect[0], rect[3]))
            if _inside(corners, slot):
                return text, px, rect, (l, t, r, b)
            px = min(px - 1, int(px * 0.93))
    return None


@lru_cache(maxsize=1 << 16)
def _relative(centre: Point, slot: tuple[Point, ...]) -> tuple[Point, ...]:
    """``slot`` relative to ``centre``, rounded: the key the fitting is cached by. Found
    once per slot (a cell's slot holds each weight that passes over it)."""
    cx, cy = centre
    return tuple((round(x - cx, 3), round(y - cy, 3)) for x, y in slot)


@lru_cache(maxsize=1 << 16)
def _fit_like(texts: tuple[str, ...], size: float, slot: tuple[Point, ...],
              like: str | tuple[str, ...] | None, face: Face | None):
    """:func:`_fit_rel` of ``texts`` no larger than ``like`` (a text, or the forms of one)
    could be in ``slot``: one lookup for what recurs from frame to frame (a weight's text
    in a cell, a value's)."""
    if isinstance(like, tuple):
        # The forms of the widest line of the group (a row's arithmetic from frame to
        # frame): every line at the size that one is drawn, in its longest form that fits
        # there; only the last form shrinks further. So the line keeps its size.
        widest = _fit_rel(like, size, slot, face)
        if widest is not None:
            return _fit_rel(texts, min(size, widest[1] / METRIC_SCALE), slot, face, 1.0)
    elif like is not None:
        # No larger than the widest text of the group in this slot: one size for the group.
        widest = _fit_rel((like,), size, slot, face)
        if widest is not None:
            size = min(size, widest[1] / METRIC_SCALE)
    return _fit_rel(texts, size, slot, face)


def fit(item: TextItem, face: Face | None = None) -> Placed | None:
    """The first form of ``item`` that fits its slot at the largest size in ``face``, centred;
    None: left out."""
    cx, cy = item.centre
    got = _fit_like(item.texts, item.size, _relative(item.centre, item.slot), item.like, face)
    if got is None:
        return None
    text, px, (x0, y0, x1, y1), (l, t, r, b) = got
    ss = METRIC_SCALE
    return Placed(text, px / ss, (cx + x0, cy + y0, cx + x1, cy + y1),
                  (cx * ss - (l + r) / 2, cy * ss - (t + b) / 2))


def luminance(c: RGB) -> float:
    """WCAG relative luminance of a colour, 0..1."""
    def lin(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio of two colours, 1..21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(theme: Theme, item: TextItem) -> RGB:
    """The item's colour, or ``text_inverse`` where that reads better on the fill beneath."""
    under = getattr(theme, item.on)
    if item.colour == "text_light" and contrast(theme.text_light, under) >= MIN_CONTRAST_LIGHT:
        return theme.text_light
    return max((theme.text, theme.text_inverse), key=lambda c: contrast(c, under))

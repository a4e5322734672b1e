"""Numbers, colours and path data of the SVG backend: short, exact text."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable, Sequence

from ...escape import xml_text as escape  # noqa: F401 - the SVG backend's escaping
from ...scene import DASHES

def tenths(v: float) -> int:
    return math.floor(v * 10 + 0.5)


@lru_cache(maxsize=1 << 16)  # the same coordinates recur in every frame of a figure
def fmt_tenths(v: int) -> str:
    """A number held in tenths, as short text: 727 -> "72.7", 1230 -> "123", -5 -> "-.5"."""
    sign = "-" if v < 0 else ""
    whole, frac = divmod(abs(v), 10)
    if not frac:
        return f"{sign}{whole}" if whole else "0"
    return f"{sign}{whole if whole else ''}.{frac}"


def num(x: float, nd: int = 2) -> str:
    """``x`` with at most ``nd`` decimals, no trailing zeros, no leading zero."""
    s = f"{x:.{nd}f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", ""):
        s = "0"
    if s.startswith("0."):
        s = s[1:]
    elif s.startswith("-0."):
        s = "-" + s[2:]
    return s


def hex_colour(rgb) -> str:
    r, g, b = (int(v) for v in rgb[:3])
    s = f"{r:02x}{g:02x}{b:02x}"
    if s[0] == s[1] and s[2] == s[3] and s[4] == s[5]:
        s = s[0] + s[2] + s[4]
    return "#" + s


# Path data ----------------------------------------------------------------------

Pt = tuple[int, int]  # a point in tenths of a pixel


def pt(p) -> Pt:
    return (math.floor(p[0] * 10 + 0.5), math.floor(p[1] * 10 + 0.5))  # tenths(), inlined


def path_data(subpaths: Iterable[tuple[Sequence[Pt], bool]]) -> str:
    """SVG path data for subpaths of points in tenths: (points, closed) each.

    Each step takes the shortest of the absolute and relative forms (and H/V for
    horizontal and vertical moves), and a command letter repeated is left out.
    """
    out: list[str] = []
    cur: Pt | None = None
    implicit = ""  # the command a bare pair of numbers would repeat

    def emit(cmd: str, nums: Sequence[int], nxt: str) -> None:
        nonlocal implicit
        body = ""
        for n in nums:
            s = fmt_tenths(n)
            if body and not s.startswith("-"):
                body += " "
            body += s
        if cmd == implicit:  # bare numbers repeat the last command
            if not body.startswith("-"):
                out.append(" ")
        else:
            out.append(cmd)
        out.append(body)
        implicit = nxt

    for pts, closed in subpaths:
        if not pts:
            continue
        start = pts[0]
        if cur is None:
            emit("M", start, "L")
        else:
            a = fmt_tenths(start[0]) + fmt_tenths(start[1])
            r = fmt_tenths(start[0] - cur[0]) + fmt_tenths(start[1] - cur[1])
            if len(r) < len(a):
                emit("m", (start[0] - cur[0], start[1] - cur[1]), "l")
            else:
                emit("M", start, "L")
        cur = start
        for p in pts[1:]:
            dx, dy = p[0] - cur[0], p[1] - cur[1]
            if dx == 0 and dy == 0:
                continue
            # The shortest form (a repeated command costs no letter), "l" among equals;
            # in the order h H / v V, l L, the first of equal keys, as min() takes it.
            if dy == 0:
                options = (("h", (dx,)), ("H", (p[0],)), ("l", (dx, dy)), ("L", p))
            elif dx == 0:
                options = (("v", (dy,)), ("V", (p[1],)), ("l", (dx, dy)), ("L", p))
            else:
                options = (("l", (dx, dy)), ("L", p))
            best = None
            for cmd_, nums_ in options:
                k = (sum(len(fmt_tenths(n)) for n in nums_) + (cmd_ != implicit), cmd_ != "l")
                if best is None or k < best[0]:
                    best = (k, cmd_, nums_)
            _, cmd, nums = best
            emit(cmd, nums, cmd if cmd in "lLhHvV" else implicit)
            cur = p
        if closed:
            out.append("z")
            implicit = ""
            cur = start
    return "".join(out)


def seg_key(p0, p1) -> tuple[Pt, Pt]:
    a, b = pt(p0), pt(p1)
    return (a, b) if a <= b else (b, a)


def merge_collinear(segs, exact: bool = False) -> list[tuple]:
    """Segments joined where they lie on one line and touch (or, unless ``exact``, overlap).

    The runs keep the order in which their lines first appear.
    """
    lines: dict[tuple, list] = {}
    for p0, p1 in segs:
        (x0, y0), (x1, y1) = p0, p1
        if (x1, y1) < (x0, y0):
            (x0, y0), (x1, y1) = (x1, y1), (x0, y0)
        dx, dy = x1 - x0, y1 - y0
        n = math.hypot(dx, dy)
        if n == 0:
            continue
        ux, uy = dx / n, dy / n
        key = (round(ux, 6), round(uy, 6), round(x0 * uy - y0 * ux, 3))
        t0, t1 = x0 * ux + y0 * uy, x1 * ux + y1 * uy
        lines.setdefault(key, []).append((t0, t1, (x0, y0), (x1, y1)))
    out = []
    for items in lines.values():
        items.sort(key=lambda it: it[0])
        cur = list(items[0])
        for t0, t1, a, b in items[1:]:
            touch = abs(t0 - cur[1]) < 1e-3 if exact else t0 <= cur[1] + 1e-3
            if touch:
                if t1 > cur[1]:
                    cur[1], cur[3] = t1, b
            else:
                out.append((cur[2], cur[3]))
                cur = [t0, t1, a, b]
        out.append((cur[2], cur[3]))
    return out


# Dash patterns ------------------------------------------------------------------

def dash_segment(length: float, width: float) -> tuple[list[float], float]:
    """Dash array and offset of a run of edges, each ``length`` long, drawn as one path
    from half a width before its first corner to half a width past its last: the
    raster's :data:`DASHES`, whose end dashes grow half a width past each corner."""
    (_, a1), (b0, b1), (c0, _) = DASHES
    h = width / 2
    gap1 = (b0 - a1) * length - h  # first dash ends half a width past a1
    gap2 = (c0 - b1) * length - h
    middle = (b1 - b0) * length
    corner = ((1 - c0) + a1) * length + width  # the last dash of an edge and the first of the next
    # The path starts inside a corner dash, with a1 * length + width of it left.
    return [corner, max(gap1, 0.0), middle, max(gap2, 0.0)], corner - (a1 * length + width)


def dash_closed(lengths: Sequence[float], width: float) -> tuple[list[float], float, float]:
    """Dash array and offset of a closed polygon with edges ``lengths`` drawn from a
    point inside the first gap of its first edge; returns also where that point is
    along the first edge."""
    (_, a1), (b0, b1), (c0, _) = DASHES
    h = width / 2
    n = len(lengths)
    start = ((a1 * lengths[0] + h) + b0 * lengths[0]) / 2  # the middle of the first gap
    arr: list[float] = []
    for i, ln in enumerate(lengths):
        nxt = lengths[(i + 1) % n]
        arr += [(b1 - b0) * ln, max((c0 - b1) * ln - h, 0.0),
                (1 - c0) * ln + a1 * nxt + width, max((b0 - a1) * nxt - h, 0.0)]
    # The pattern starts at the middle dash of edge 0; the path starts before it, in the gap.
    offset = sum(arr) - (b0 * lengths[0] - start)
    # A shorter period when the polygon repeats itself (parallelograms, squares).
    for k in (4, 8):
        if len(arr) % k == 0 and all(abs(arr[i] - arr[i % k]) < 1e-6 for i in range(len(arr))):
            arr = arr[:k]
            break
    return arr, offset % sum(arr), start

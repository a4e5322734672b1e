"""Scene operations as SVG elements, styled by short shared classes."""

from __future__ import annotations

import math
import re
from typing import Sequence

from ...scene import Op, Shape, Text
from ...textfit import advance
from .paths import (dash_closed, dash_segment, escape, fmt_tenths, hex_colour, merge_collinear, num,
                    path_data, pt, tenths)

# Short CSS class of each role (theme fields, matrix roles). Roles not listed use
# their own name, prefixed "r-". A role drawn in a second style gets a digit.
ROLE_CLASS = {
    "input": "i", "input_hl": "ih", "padding_hl": "ph", "output": "o", "output_hl": "oh",
    "output_empty": "oe", "line": "l", "crop": "c", "connector": "k", "background": "bg",
    "text": "tx", "text_light": "tl", "text_inverse": "ti",
    "tap": "mt", "zero": "mz", "in": "mi", "out": "mo", "grid": "mg", "bracket": "mb",
    "head": "mh",
}
LINES_CLASS = "k"  # the connecting lines
_NO_ROLE = "s"  # shapes without a role


class Styles:
    """The classes of one SVG: shape styles by role, text styles, dash patterns."""

    def __init__(self) -> None:
        self.shape: dict[tuple, str] = {}
        self.shape_css: list[str] = []
        self.codes: dict[str, int] = {}
        self.text: dict[tuple, str] = {}
        self.text_css: list[str] = []
        self.dash: dict[tuple, str] = {}
        self.dash_css: list[str] = []

    def of_shape(self, op: Shape) -> str:
        width = num(op.width, 2) if op.stroke is not None else None
        key = (op.role, op.fill, op.stroke, width, op.round)
        if key not in self.shape:
            code = ROLE_CLASS.get(op.role) if op.role is not None else _NO_ROLE
            if code is None:
                code = "r-" + re.sub(r"[^A-Za-z0-9_-]", "-", op.role)
            k = self.codes.get(code, 0) + 1
            self.codes[code] = k
            name = code if k == 1 else f"{code}{k}"
            css = [f"fill:{hex_colour(op.fill) if op.fill is not None else 'none'}"]
            if op.stroke is not None:
                css.append(f"stroke:{hex_colour(op.stroke)}")
                css.append(f"stroke-width:{width}")
            if op.round:
                css.append("stroke-linejoin:round")
            self.shape[key] = name
            self.shape_css.append(f".{name}{{{';'.join(css)}}}")
        return self.shape[key]

    def of_text(self, op: Text) -> str:
        align = op.align if op.align in ("start", "middle", "end") else "start"
        key = (op.colour, num(op.size, 2), align)
        if key not in self.text:
            name = f"t{len(self.text)}"
            css = [f"fill:{hex_colour(op.colour)}", f"font-size:{key[1]}px"]
            if align != "start":
                css.append(f"text-anchor:{align}")
            self.text[key] = name
            self.text_css.append(f".{name}{{{';'.join(css)}}}")
        return self.text[key]

    def of_dash(self, key: tuple, array: Sequence[float], offset: float) -> str:
        if key not in self.dash:
            name = f"d{len(self.dash)}"
            arr = " ".join(num(v, 2) for v in array)
            self.dash[key] = name
            self.dash_css.append(f".{name}{{stroke-dasharray:{arr};stroke-dashoffset:{num(offset, 2)};"
                                 "stroke-linecap:butt}")
        return self.dash[key]

    def css(self) -> list[str]:
        return self.shape_css + self.text_css + self.dash_css


# Operations as elements ----------------------------------------------------------------

def _cell_attr(op) -> str:
    if op.cell is None:
        return ""
    grid, r, c = op.cell
    return f' data-cell="{escape(grid)} {int(r)} {int(c)}"'


def _is_segment(op) -> bool:
    return (isinstance(op, Shape) and not op.closed and op.fill is None and op.stroke is not None
            and len(op.points) == 2 and op.cell is None)


El = tuple[str, str, str]  # an element: tag, class ("" for none), the rest ("... d=\"...\"/>")


def render(els: Sequence[El], around: str = "") -> str:
    """Elements as text; a run of two or more of one class is wrapped in a ``<g>`` of that
    class, which they inherit (``around``: a class the caller's group already gives)."""
    out: list[str] = []
    i = 0
    while i < len(els):
        cls = els[i][1]
        j = i + 1
        while j < len(els) and els[j][1] == cls:
            j += 1
        if cls and (cls == around or j - i >= 2):
            if cls != around:
                out.append(f'<g class="{cls}">')
            out.extend(f"<{t}{r}" for t, _, r in els[i:j])
            if cls != around:
                out.append("</g>")
        else:
            out.extend((f'<{t} class="{c}"{r}' if c else f"<{t}{r}") for t, c, r in els[i:j])
        i = j
    return "".join(out)


def common_class(els: Sequence[El]) -> str:
    classes = {cls for _, cls, _ in els}
    return classes.pop() if len(classes) == 1 else ""


def _name(k: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": short names for the shapes shared with ``<use>``."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = letters[k % 26]
    while k >= 26:
        k //= 26
        out = letters[k % 26] + out
    return out


class Writer:
    """Turns operations into SVG elements, sharing one :class:`Styles`.

    A cell outline that recurs (every cell of an iso or flat grid has the same
    shape) is written once in ``<defs>`` and each cell is a ``<use>`` of it, placed
    at its first corner: within a tenth of a pixel of its own corners.
    """

    def __init__(self, styles: Styles, crisp: bool = False) -> None:
        self.styles = styles
        self.crisp = crisp
        self.defs: dict[str, str] = {}  # path data from (0, 0) -> id
        # A grid's cells are congruent: their outline's points (tenths, from the first
        # corner) -> id, so its path data is made once, not once a cell.
        self._outlines: dict[tuple, str] = {}

    def defs_svg(self) -> str:
        if not self.defs:
            return ""
        return "<defs>" + "".join(f'<path id="{i}" d="{d}"/>' for d, i in self.defs.items()) + "</defs>"

    # -- texts
    def text(self, op: Text) -> El:
        cls = self.styles.of_text(op)
        fit = ""
        if self.crisp and len(op.text) > 1 and op.align == "start":
            # The matrix figure sets labels in runs (a superscript T between two): each
            # run keeps its font's advance, so the next one starts where it ends.
            fit = f' textLength="{num(advance(op.text, round(op.size), op.face), 1)}"'
        where = f' x="{fmt_tenths(tenths(op.ax))}" y="{fmt_tenths(tenths(op.baseline))}"'
        return ("text", cls, f"{where}{fit}>{escape(op.text)}</text>")

    # -- shapes
    def _poly(self, cls: str, cell: str, points: Sequence, closed: bool) -> El:
        """A polygon; a closed cell as a ``<use>`` of a shared outline, placed at its
        first corner (the outline from the exact offsets of the corners, so that the
        congruent cells of a grid share one)."""
        if closed and cell and len(points) >= 3:
            x0, y0 = pt(points[0])
            (fx, fy) = points[0]
            rel = tuple([pt((x - fx, y - fy)) for x, y in points])
            name = self._outlines.get(rel)
            if name is None:
                d = path_data([(rel, True)])
                if d not in self.defs:
                    self.defs[d] = _name(len(self.defs))
                name = self._outlines[rel] = self.defs[d]
            return ("use", cls, f'{cell} href="#{name}" x="{fmt_tenths(x0)}" y="{fmt_tenths(y0)}"/>')
        return ("path", cls, f'{cell} d="{path_data([([pt(p) for p in points], closed)])}"/>')

    def shape(self, op: Shape) -> list[El]:
        cls = self.styles.of_shape(op)
        if self.crisp:
            return [self._crisp_shape(op, cls)]
        cell = _cell_attr(op)
        if op.dashed and op.stroke is not None:
            if op.closed and len(op.points) >= 3:
                return [self._dashed_closed(op, cls, cell)]
            # An open dashed polyline: its edges dashed each as the raster dashes them,
            # edges of one length in one path (collinear touching ones joined).
            parts = []
            if op.fill is not None:
                d = path_data([([pt(p) for p in op.points], True)])
                parts.append(("path", cls, f' style="stroke:none"{cell} d="{d}"/>'))
            by_length: dict[float, list] = {}
            for seg in zip(op.points, op.points[1:]):
                by_length.setdefault(round(math.dist(*seg), 2), []).append(seg)
            parts += [self._dashed_runs(cls, op.width, segs) for segs in by_length.values()]
            return parts
        return [self._poly(cls, cell, op.points, op.closed)]

    def _dashed_closed(self, op: Shape, cls: str, cell: str) -> El:
        p = op.points
        lengths = [math.dist(p[i], p[(i + 1) % len(p)]) for i in range(len(p))]
        arr, offset, start = dash_closed(lengths, op.width)
        key = ("closed", tuple(round(v, 2) for v in lengths), num(op.width, 2))
        dash = self.styles.of_dash(key, arr, offset)
        f = start / lengths[0] if lengths[0] else 0.0
        s = (p[0][0] + (p[1][0] - p[0][0]) * f, p[0][1] + (p[1][1] - p[0][1]) * f)
        return self._poly(f"{cls} {dash}", cell, [s, *p[1:], p[0]], True)

    def _dashed_runs(self, cls: str, width: float, segs) -> El:
        """Collinear touching dashed segments of one length as one dashed path."""
        length = math.dist(*segs[0])
        arr, offset = dash_segment(length, width)
        dash = self.styles.of_dash(("seg", round(length, 2), num(width, 2)), arr, offset)
        subs = []
        for run in merge_collinear(segs, exact=True):
            (x0, y0), (x1, y1) = run
            n = math.dist(run[0], run[1]) or 1.0
            e = width / 2 / n
            dx, dy = (x1 - x0) * e, (y1 - y0) * e
            subs.append(([pt((x0 - dx, y0 - dy)), pt((x1 + dx, y1 + dy))], False))
        return ("path", f"{cls} {dash}", f' d="{path_data(subs)}"/>')

    def _crisp_shape(self, op: Shape, cls: str) -> El:
        """Shapes of a crisp scene where the raster (Pillow) puts their pixels: a box's
        fill covers [x0, x1] x [y0, y1], pixels included; its outline lies inside it."""
        xs = [p[0] for p in op.points]
        ys = [p[1] for p in op.points]
        cell = _cell_attr(op)
        rect = op.closed and len(op.points) == 4 and len(set(xs)) == 2 and len(set(ys)) == 2
        if rect:
            x0, x1, y0, y1 = min(xs), max(xs) + 1, min(ys), max(ys) + 1
            if op.stroke is not None:
                h = round(op.width) / 2
                x0, y0, x1, y1 = x0 + h, y0 + h, x1 - h, y1 - h
            pts = [pt((x0, y0)), pt((x1, y0)), pt((x1, y1)), pt((x0, y1))]
            return ("path", cls, f'{cell} d="{path_data([(pts, True)])}"/>')
        w = round(op.width) if op.stroke is not None else 0
        off = 0.5 if w % 2 else (1.0 if w else 0.0)
        pts = [pt((x + off, y + off)) for x, y in op.points]
        return ("path", cls, f'{cell} d="{path_data([(pts, op.closed)])}"/>')

    def ops(self, ops: Sequence[Op]) -> list[El]:
        """Elements of ``ops`` in order; consecutive grid edges are merged into one path
        per style (dashed edges per style and length)."""
        out: list[El] = []
        i = 0
        while i < len(ops):
            op = ops[i]
            if not self.crisp and _is_segment(op):
                j = i
                while j < len(ops) and _is_segment(ops[j]):
                    j += 1
                out += self._segments(ops[i:j])
                i = j
                continue
            if isinstance(op, Text):
                out.append(self.text(op))
            else:
                out += self.shape(op)
            i += 1
        return out

    def _segments(self, segs: Sequence[Shape]) -> list[El]:
        groups: dict[tuple, list] = {}
        for op in segs:
            cls = self.styles.of_shape(op)
            if op.dashed:
                key = (cls, True, round(math.dist(*op.points), 2), op.width)
            else:
                key = (cls, False, None, op.width)
            groups.setdefault(key, []).append(op.points)
        out: list[El] = []
        for (cls, dashed, _, width), pts in groups.items():
            if dashed:
                out.append(self._dashed_runs(cls, width, pts))
            else:
                subs = [([pt(a), pt(b)], False) for a, b in merge_collinear(pts)]
                out.append(("path", cls, f' d="{path_data(subs)}"/>'))
        return out

    def lines(self, segs) -> list[El]:
        subs = [([a, b], False) for a, b in segs if a != b]
        return [("path", LINES_CLASS, f' d="{path_data(subs)}"/>')]

"""The SVG backend: a scene in, SVG text out (animated, or one frame).

:func:`animated_svg` writes an SVG that plays by itself wherever SVG is shown as
an image (``<img>``, GitHub READMEs): no script, only CSS ``@keyframes`` on
``visibility`` with step timing, one keyframe rule per frame interval.
:func:`still_svg` writes one frame with the same vocabulary and no animation.
Both are pure functions returning text.

Structure of an animated SVG::

    <svg ... data-frames-total="N" data-frame-ms="D">
      <title>the scene's title</title>
      <style> role, text and dash classes; the animation rules </style>
      <defs> the outline shared by the cells of a grid </defs>
      <path .../>                                   the background
      <g class="i"><use data-cell="input 0 0" .../>...</g>   shown in every frame
      <g data-frames="A-B" class="ih"> ops shown in frames A..B only </g>
      <use data-frames="A-B" class="oh" data-cell="output 0 1" .../>
      ...

The layers keep the scene's z-order: low | frame.under | persistent (every
``frame.fresh`` from its frame to the last) | high | frame.over | connecting
lines | frame.texts. Every operation is collected across all frames by value;
an operation shown in a run of consecutive frames A..B (both included) is
written once inside a ``<g data-frames="A-B">`` (consecutive operations of one
layer that share the run share the group; a group of one is the element itself,
carrying ``data-frames``); one shown in every frame is written once with no
range. Ranges never nest. Within a layer the operations are ordered so that
every frame's own order is kept wherever it changes the picture (a topological
merge of the frames' sequences). A shape of an engine cell carries
``data-cell="GRID R C"`` (e.g. ``"input 2 3"``, indices in the trace's
coordinates of that grid). So the cells shaded in frame N are the elements with
``data-cell`` whose own or enclosing range holds N (or that have none).

Shapes are ``<path>`` elements (cells: ``<use>`` of their grid's outline)
styled by short classes named after their role (:data:`ROLE_CLASS`; a role
drawn in a second style gets a digit: ``l2``), so colours are not repeated per
element; consecutive elements of one class get it from a ``<g>`` around them
(an element's role class is its own or its nearest group's). ``t0``, ``t1``...
are text styles, ``d0``, ``d1``... dash patterns. Still grid edges of one style are merged
into one path, collinear edges joined; dashed edges get a ``stroke-dasharray``
class per edge length that reproduces the raster's dashes (:data:`DASHES`, with
the half-width extension at each edge's ends). Text stays ``<text>``, placed at
``op.ax`` on ``op.baseline`` with ``text-anchor`` from ``op.align``. All text
(the title, captions) is XML-escaped.

Timing: each frame lasts ``duration`` ms; a group's animation has the whole
cycle (N x ``duration``) as its duration and the keyframes switch its
visibility at the frame boundaries (``step-end``). The base style shows frame 0,
so a viewer without CSS animation sees the first frame.

Meant to be shown alone (a file, ``<img>``, ``<object>``): inlined into an HTML
page, its class names, ids and keyframes are global and would clash with those of
another convanim SVG inlined in the same page.

Loop: ``loop`` follows a GIF's NETSCAPE loop count as browsers play it: 0 loops
forever; N > 0 repeats the animation N times after the first play, N + 1 plays
in all (Chromium reports ``repetitionCount`` N for such a GIF; Firefox plays it
N + 1 times too); None plays it once, like a GIF without the extension. A finite
animation then stops on its last frame (``animation-fill-mode: forwards`` and
explicit 100% keyframes).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from heapq import heappop, heappush

from ..scene import DASHES, Op, Scene, Shape, Text
from ..textfit import advance

FONT_FAMILY = ('"Aileron","Helvetica Neue",Helvetica,Arial,"Noto Sans","Noto Sans CJK SC",'
               '"Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif')

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

SVG_NS = "http://www.w3.org/2000/svg"


# Text and numbers ------------------------------------------------------------------

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: str) -> str:
    """``text`` safe as XML character data and inside double-quoted attributes.

    Characters XML 1.0 cannot carry at all (most control characters, lone
    surrogates) become U+FFFD.
    """
    text = _BAD_XML.sub("\ufffd", str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _tenths(v: float) -> int:
    return math.floor(v * 10 + 0.5)


def _t(v: int) -> str:
    """A number held in tenths, as short text: 727 -> "72.7", 1230 -> "123", -5 -> "-.5"."""
    sign = "-" if v < 0 else ""
    whole, frac = divmod(abs(v), 10)
    if not frac:
        return f"{sign}{whole}" if whole else "0"
    return f"{sign}{whole if whole else ''}.{frac}"


def _num(x: float, nd: int = 2) -> str:
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


def _hex(rgb) -> str:
    r, g, b = (int(v) for v in rgb[:3])
    s = f"{r:02x}{g:02x}{b:02x}"
    if s[0] == s[1] and s[2] == s[3] and s[4] == s[5]:
        s = s[0] + s[2] + s[4]
    return "#" + s


# Path data ----------------------------------------------------------------------

Pt = tuple[int, int]  # a point in tenths of a pixel


def _pt(p) -> Pt:
    return (_tenths(p[0]), _tenths(p[1]))


def _path_data(subpaths: Iterable[tuple[Sequence[Pt], bool]]) -> str:
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
            s = _t(n)
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
            a = _t(start[0]) + _t(start[1])
            r = _t(start[0] - cur[0]) + _t(start[1] - cur[1])
            if len(r) < len(a):
                emit("m", (start[0] - cur[0], start[1] - cur[1]), "l")
            else:
                emit("M", start, "L")
        cur = start
        for p in pts[1:]:
            dx, dy = p[0] - cur[0], p[1] - cur[1]
            if dx == 0 and dy == 0:
                continue
            options = []
            if dy == 0:
                options += [("h", (dx,)), ("H", (p[0],))]
            elif dx == 0:
                options += [("v", (dy,)), ("V", (p[1],))]
            options += [("l", (dx, dy)), ("L", p)]
            cmd, nums = min(options, key=lambda o: (len("".join(_t(n) for n in o[1]))
                                                    + (o[0] != implicit), o[0] != "l"))
            emit(cmd, nums, cmd if cmd in "lLhHvV" else implicit)
            cur = p
        if closed:
            out.append("z")
            implicit = ""
            cur = start
    return "".join(out)


# Styles ----------------------------------------------------------------------------

def _dash_segment(length: float, width: float) -> tuple[list[float], float]:
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


def _dash_closed(lengths: Sequence[float], width: float) -> tuple[list[float], float, float]:
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


class _Styles:
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
        width = _num(op.width, 2) if op.stroke is not None else None
        key = (op.role, op.fill, op.stroke, width, op.round)
        if key not in self.shape:
            code = ROLE_CLASS.get(op.role) if op.role is not None else _NO_ROLE
            if code is None:
                code = "r-" + re.sub(r"[^A-Za-z0-9_-]", "-", op.role)
            k = self.codes.get(code, 0) + 1
            self.codes[code] = k
            name = code if k == 1 else f"{code}{k}"
            css = [f"fill:{_hex(op.fill) if op.fill is not None else 'none'}"]
            if op.stroke is not None:
                css.append(f"stroke:{_hex(op.stroke)}")
                css.append(f"stroke-width:{width}")
            if op.round:
                css.append("stroke-linejoin:round")
            self.shape[key] = name
            self.shape_css.append(f".{name}{{{';'.join(css)}}}")
        return self.shape[key]

    def of_text(self, op: Text) -> str:
        align = op.align if op.align in ("start", "middle", "end") else "start"
        key = (op.colour, _num(op.size, 2), align)
        if key not in self.text:
            name = f"t{len(self.text)}"
            css = [f"fill:{_hex(op.colour)}", f"font-size:{key[1]}px"]
            if align != "start":
                css.append(f"text-anchor:{align}")
            self.text[key] = name
            self.text_css.append(f".{name}{{{';'.join(css)}}}")
        return self.text[key]

    def of_dash(self, key: tuple, array: Sequence[float], offset: float) -> str:
        if key not in self.dash:
            name = f"d{len(self.dash)}"
            arr = " ".join(_num(v, 2) for v in array)
            self.dash[key] = name
            self.dash_css.append(f".{name}{{stroke-dasharray:{arr};stroke-dashoffset:{_num(offset, 2)};"
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


def _render(els: Sequence[El], around: str = "") -> str:
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


def _common_class(els: Sequence[El]) -> str:
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


class _Writer:
    """Turns operations into SVG elements, sharing one :class:`_Styles`.

    A cell outline that recurs (every cell of an iso or flat grid has the same
    shape) is written once in ``<defs>`` and each cell is a ``<use>`` of it, placed
    at its first corner: within a tenth of a pixel of its own corners.
    """

    def __init__(self, styles: _Styles, crisp: bool = False) -> None:
        self.styles = styles
        self.crisp = crisp
        self.defs: dict[str, str] = {}  # path data from (0, 0) -> id

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
            # run keeps the bundled font's advance, so the next one starts where it ends.
            fit = f' textLength="{_num(advance(op.text, round(op.size)), 1)}"'
        where = f' x="{_t(_tenths(op.ax))}" y="{_t(_tenths(op.baseline))}"'
        return ("text", cls, f"{where}{fit}>{escape(op.text)}</text>")

    # -- shapes
    def _poly(self, cls: str, cell: str, points: Sequence, closed: bool) -> El:
        """A polygon; a closed cell as a ``<use>`` of a shared outline, placed at its
        first corner (the outline from the exact offsets of the corners, so that the
        congruent cells of a grid share one)."""
        pts = [_pt(p) for p in points]
        if closed and cell and len(pts) >= 3:
            x0, y0 = pts[0]
            (fx, fy) = points[0]
            d = _path_data([([_pt((x - fx, y - fy)) for x, y in points], True)])
            if d not in self.defs:
                self.defs[d] = _name(len(self.defs))
            return ("use", cls, f'{cell} href="#{self.defs[d]}" x="{_t(x0)}" y="{_t(y0)}"/>')
        return ("path", cls, f'{cell} d="{_path_data([(pts, closed)])}"/>')

    def shape(self, op: Shape) -> list[El]:
        cls = self.styles.of_shape(op)
        if self.crisp:
            return [self._crisp_shape(op, cls)]
        pts = [_pt(p) for p in op.points]
        cell = _cell_attr(op)
        if op.dashed and op.stroke is not None:
            if op.closed and len(pts) >= 3:
                return [self._dashed_closed(op, cls, cell)]
            # An open dashed polyline: each edge its own dashed run.
            parts = []
            if op.fill is not None:
                d = _path_data([(pts, True)])
                parts.append(("path", cls, f' style="stroke:none"{cell} d="{d}"/>'))
            for p0, p1 in zip(op.points, op.points[1:]):
                parts.append(self._dashed_runs(cls, op.width, [(p0, p1)]))
            return parts
        return [self._poly(cls, cell, op.points, op.closed)]

    def _dashed_closed(self, op: Shape, cls: str, cell: str) -> El:
        p = op.points
        lengths = [math.dist(p[i], p[(i + 1) % len(p)]) for i in range(len(p))]
        arr, offset, start = _dash_closed(lengths, op.width)
        key = ("closed", tuple(round(v, 2) for v in lengths), _num(op.width, 2))
        dash = self.styles.of_dash(key, arr, offset)
        f = start / lengths[0] if lengths[0] else 0.0
        s = (p[0][0] + (p[1][0] - p[0][0]) * f, p[0][1] + (p[1][1] - p[0][1]) * f)
        return self._poly(f"{cls} {dash}", cell, [s, *p[1:], p[0]], True)

    def _dashed_runs(self, cls: str, width: float, segs) -> El:
        """Collinear touching dashed segments of one length as one dashed path."""
        length = math.dist(*segs[0])
        arr, offset = _dash_segment(length, width)
        dash = self.styles.of_dash(("seg", round(length, 2), _num(width, 2)), arr, offset)
        subs = []
        for run in _merge_collinear(segs, exact=True):
            (x0, y0), (x1, y1) = run
            n = math.dist(run[0], run[1]) or 1.0
            e = width / 2 / n
            dx, dy = (x1 - x0) * e, (y1 - y0) * e
            subs.append(([_pt((x0 - dx, y0 - dy)), _pt((x1 + dx, y1 + dy))], False))
        return ("path", f"{cls} {dash}", f' d="{_path_data(subs)}"/>')

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
            pts = [_pt((x0, y0)), _pt((x1, y0)), _pt((x1, y1)), _pt((x0, y1))]
            return ("path", cls, f'{cell} d="{_path_data([(pts, True)])}"/>')
        w = round(op.width) if op.stroke is not None else 0
        off = 0.5 if w % 2 else (1.0 if w else 0.0)
        pts = [_pt((x + off, y + off)) for x, y in op.points]
        return ("path", cls, f'{cell} d="{_path_data([(pts, op.closed)])}"/>')

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
                subs = [([_pt(a), _pt(b)], False) for a, b in _merge_collinear(pts)]
                out.append(("path", cls, f' d="{_path_data(subs)}"/>'))
        return out

    def lines(self, segs) -> list[El]:
        subs = [([a, b], False) for a, b in segs if a != b]
        return [("path", LINES_CLASS, f' d="{_path_data(subs)}"/>')]


def _merge_collinear(segs, exact: bool = False) -> list[tuple]:
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


# Frames as intervals ------------------------------------------------------------------

def _box(op) -> tuple[float, float, float, float]:
    """What ``op`` may paint, with a pixel of anti-aliasing around it."""
    if isinstance(op, Text):
        x0, y0, x1, y1 = op.rect
        return (x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    xs = [p[0] for p in op.points]
    ys = [p[1] for p in op.points]
    r = (op.width if op.stroke is not None else 0.0) + 1.0  # half a width, caps, miters
    return (min(xs) - r, min(ys) - r, max(xs) + r, max(ys) + r)


def _conflict(a, b) -> bool:
    """Does the order of ``a`` and ``b`` change the picture?

    Not when they are apart, nor for two cells of one grid stroked alike: each
    draws the edge they share in the same way, whichever comes last.
    """
    ba, bb = _box(a), _box(b)
    if ba[0] >= bb[2] or bb[0] >= ba[2] or ba[1] >= bb[3] or bb[1] >= ba[3]:
        return False
    if (isinstance(a, Shape) and isinstance(b, Shape) and a.cell is not None
            and b.cell is not None and a.cell[0] == b.cell[0] and a.cell != b.cell
            and (a.stroke, a.width, a.dashed) == (b.stroke, b.width, b.dashed)):
        return False
    return True


TILE = 64  # px, the buckets in which a frame's operations look for overlapping ones


def _runs(seqs: Sequence[Sequence], ordered: bool = True) -> list[tuple[object, int, int]]:
    """One layer's items over the frames, as (item, first, end) runs, ``end`` excluded,
    in a z-order that keeps every frame's order wherever it matters (:func:`_conflict`;
    ``ordered`` False: nowhere, for the connecting lines, all of one colour): a
    topological merge of the frames' sequences that keeps runs of one interval
    together, so they share a group.

    When two frames order two runs differently (no common order exists), the run
    that appears first wins and that frame's order is broken; the scenes built by
    convanim do not do this.
    """
    nodes: list[list] = []  # [item, first, end]
    key: list[tuple[int, int]] = []
    open_run: dict = {}  # item -> node index of its latest run
    succ: list[set] = []
    indeg: list[int] = []
    known: dict[tuple[int, int], bool] = {}  # (earlier node, later node) -> conflict
    for s, seq in enumerate(seqs):
        seen = set()
        buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        for pos, item in enumerate(seq):
            if item in seen:
                continue
            seen.add(item)
            nid = open_run.get(item)
            if nid is None or nodes[nid][2] != s:
                nid = len(nodes)
                nodes.append([item, s, s + 1])
                key.append((s, pos))
                succ.append(set())
                indeg.append(0)
                open_run[item] = nid
            else:
                nodes[nid][2] = s + 1
            if not ordered:
                continue
            x0, y0, x1, y1 = _box(item)
            cells = [(tx, ty) for tx in range(int(x0 // TILE), int(x1 // TILE) + 1)
                     for ty in range(int(y0 // TILE), int(y1 // TILE) + 1)]
            earlier = {u for c in cells for u in buckets[c]}
            for u in earlier:
                pair = (u, nid)
                if pair not in known:
                    known[pair] = _conflict(nodes[u][0], item)
                if known[pair] and nid not in succ[u]:
                    succ[u].add(nid)
                    indeg[nid] += 1
            for c in cells:
                buckets[c].append(nid)
    interval = [(nd[1], nd[2]) for nd in nodes]
    by_iv: dict[tuple, list] = defaultdict(list)
    avail: list = []
    for i in range(len(nodes)):
        if indeg[i] == 0:
            heappush(avail, (key[i], i))
            heappush(by_iv[interval[i]], (key[i], i))
    done = [False] * len(nodes)
    order: list[int] = []
    current = None
    rest = sorted(range(len(nodes)), key=lambda i: key[i])
    rest_at = 0
    while len(order) < len(nodes):
        pick = None
        heap = by_iv.get(current)
        while heap:
            _, i = heappop(heap)
            if not done[i]:
                pick = i
                break
        while pick is None and avail:
            _, i = heappop(avail)
            if not done[i]:
                pick = i
        if pick is None:  # a cycle: break it at the earliest remaining run
            while done[rest[rest_at]]:
                rest_at += 1
            pick = rest[rest_at]
        done[pick] = True
        order.append(pick)
        current = interval[pick]
        for v in succ[pick]:
            indeg[v] -= 1
            if indeg[v] == 0 and not done[v]:
                heappush(avail, (key[v], v))
                heappush(by_iv[interval[v]], (key[v], v))
    return [(nodes[i][0], nodes[i][1], nodes[i][2]) for i in order]


def _grouped(runs) -> list[tuple[tuple[int, int], list]]:
    """Consecutive runs of one interval as (interval, items)."""
    out: list = []
    for item, a, b in runs:
        if out and out[-1][0] == (a, b):
            out[-1][1].append(item)
        else:
            out.append(((a, b), [item]))
    return out


def _seg_key(p0, p1) -> tuple[Pt, Pt]:
    a, b = _pt(p0), _pt(p1)
    return (a, b) if a <= b else (b, a)


# The documents ----------------------------------------------------------------------

def _percent(k: int, n: int) -> str:
    nd = 2 + max(0, math.ceil(math.log10(n / 100))) if n > 100 else 2
    return _num(100 * k / n, nd) + "%"


def _head(scene: Scene, extra: str = "") -> str:
    w, h = scene.size
    crisp = ' shape-rendering="crispEdges"' if scene.crisp else ""
    return (f'<svg xmlns="{SVG_NS}" width="{w}" height="{h}" viewBox="0 0 {w} {h}"'
            f' xml:space="preserve"{crisp}{extra}>'
            f"<title>{escape(scene.title)}</title>")


def _style(rules: list[str]) -> str:
    # Nothing user-given goes into the style sheet; escape anyway, as XML text.
    return "<style>" + escape("\n".join(rules)).replace("&quot;", '"').replace("&#39;", "'") + "</style>"


def _base_rules(scene: Scene) -> list[str]:
    lines = f"fill:none;stroke:{_hex(scene.line_colour)};stroke-width:1;stroke-linecap:butt"
    return ["svg{stroke-linecap:square}",
            f"text{{font-family:{FONT_FAMILY};white-space:pre}}",
            f".{LINES_CLASS}{{{lines}}}"]


def _background(scene: Scene) -> str:
    w, h = scene.size
    return f'<path fill="{_hex(scene.background)}" d="M0 0H{w}V{h}H0z"/>'


def still_svg(scene: Scene, step: int = 0) -> str:
    """Frame ``step`` of ``scene`` as a still SVG (no animation), from :meth:`Scene.still`:
    its shapes in z-order, the visible parts of the connecting lines, then its text
    and marks. Crisp scenes (the matrix figure) are drawn unsmoothed where the raster
    puts their pixels."""
    still = scene.still(step)
    styles = _Styles()
    writer = _Writer(styles, scene.crisp)
    els = writer.ops(still.shapes)
    if still.lines:
        els += writer.lines([_seg_key(a, b) for a, b in still.lines])
    els += writer.ops(still.texts)
    body = _render(els)
    style = _style(_base_rules(scene) + styles.css())
    return (_head(scene) + style + writer.defs_svg() + _background(scene) + body + "</svg>\n")


def animated_svg(scene: Scene, duration: int = 1000, loop: int | None = 0) -> str:
    """``scene`` as an SVG that animates itself with CSS (no script): each frame shows
    for ``duration`` ms; ``loop`` as a GIF's NETSCAPE loop count (0: forever; N: N + 1
    plays; None: one play), a finite animation stopping on its last frame.

    See the module docstring for the structure (``data-frames``, ``data-cell``).
    """
    if duration <= 0:
        raise ValueError(f"duration: got {duration}; expected a positive number of ms")
    if loop is not None and loop < 0:
        raise ValueError(f"loop: got {loop}; expected 0 (forever), a count of repeats, or None")
    n = scene.n_frames
    styles = _Styles()
    writer = _Writer(styles, scene.crisp)
    frames = list(scene.frames())

    body: list[str] = [_render(writer.ops(scene.low))]
    intervals: set[tuple[int, int]] = set()

    def layer(runs, draw) -> None:
        for (a, b), items in _grouped(runs):
            els = draw(items)
            if (a, b) == (0, n):
                body.append(_render(els))
                continue
            intervals.add((a, b))
            frames_attr = f' data-frames="{a}-{b - 1}"'
            if len(els) == 1:  # the element itself carries the range
                tag, cls, rest = els[0]
                attr = f' class="{cls}"' if cls else ""
                body.append(f"<{tag}{frames_attr}{attr}{rest}")
                continue
            cls = _common_class(els)
            attr = f' class="{cls}"' if cls else ""
            body.append(f"<g{frames_attr}{attr}>" + _render(els, cls) + "</g>")

    ops_of = writer.ops
    layer(_runs([f.under for f in frames]), ops_of)
    # Persistent shapes: each from the first frame that brings it to the last frame.
    persist: dict = {}
    for s, f in enumerate(frames):
        for op in f.fresh:
            persist.setdefault(op, s)
    layer([(op, s, n) for op, s in persist.items()], ops_of)
    body.append(_render(writer.ops(scene.high)))
    layer(_runs([f.over for f in frames]), ops_of)
    layer(_runs([[_seg_key(a, b) for a, b in scene.visible(f.lines)] for f in frames], False),
          writer.lines)
    layer(_runs([f.texts for f in frames]), ops_of)

    rules = _base_rules(scene) + styles.css()
    if intervals:
        total = n * duration
        dur = f"{total // 1000}s" if total % 1000 == 0 else f"{_num(total, 3)}ms"
        # Longhands: a shorthand would also reset animation-name, which the rules of
        # the intervals set.
        timing = [f"animation-duration:{dur}", "animation-timing-function:step-end"]
        if loop == 0:
            timing.append("animation-iteration-count:infinite")
        else:
            timing += [f"animation-iteration-count:{1 if loop is None else loop + 1}",
                       "animation-fill-mode:forwards"]
        rules.append(f"[data-frames]{{{';'.join(timing)}}}")
        rules.append('[data-frames]:not([data-frames^="0-"]){visibility:hidden}')
        for a, b in sorted(intervals):
            name = f"f{a}-{b - 1}"
            if a == 0:
                frames_css = f"{_percent(b, n)},to{{visibility:hidden}}"
            elif b == n:
                frames_css = f"{_percent(a, n)},to{{visibility:visible}}"
            else:
                frames_css = (f"{_percent(a, n)}{{visibility:visible}}"
                              f"{_percent(b, n)}{{visibility:hidden}}")
            rules.append(f'[data-frames="{a}-{b - 1}"]{{animation-name:{name}}}'
                         f"@keyframes {name}{{{frames_css}}}")
    extra = f' data-frames-total="{n}" data-frame-ms="{_num(duration, 3)}"'
    return (_head(scene, extra) + _style(rules) + writer.defs_svg() + _background(scene)
            + "".join(body) + "</svg>\n")

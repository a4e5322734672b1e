"""The scene: what every backend draws, decided once.

From a layout (geometry) and a theme, a :class:`Scene` holds the still picture
and, for each frame, the drawing operations that move, in z-order, with their
colours resolved, their text fitted (font metrics only) and its colour chosen
for contrast. Backends (raster, SVG, PDF) only turn these operations into their
own vocabulary; none of them chooses a colour, an order or a text form.

Z-order of one frame, bottom to top::

    low (still) | frame.under | persistent (every frame.fresh so far) | high (still)
    | frame.over | frame.texts | frame.lines (hidden where they pass under ``cover``)

Operations are frozen values: the same cell drawn in two frames is an equal
:class:`Shape`, so a backend may reuse what it made of it, and an operation
present in many frames can be written once.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field, replace
from itertools import chain, compress, repeat
from operator import is_
from typing import Callable, Iterator, Union

from .flat import FlatLayout
from .fonts import Face
from .iso import IsoLayout
from .iso_channels import ChannelIsoLayout, block_width, blocks
from .layout import CROP, PAD, REAL, Mark, Plane, Point, TextItem, split
from .matrix import SUP_T, Label, MatrixFigure
from .overlap import shade as overlap_shade
from .overlap import step_counts
from .textfit import METRIC_SCALE, Placed, advance, ascent, fit, font, text_colour
from .theme import CLASSIC, RGB, Theme
from .values import cached_hash

GRID_W = 1.6  # grid line width, canvas pixels
OUTLINE_HL = 2.5  # px, the outline of a highlighted cell in the overlap view
DASHES = ((0.0, 0.2), (0.35, 0.65), (0.8, 1.0))  # dash pattern along one cell edge, fractions

Cell = tuple[str, int, int]  # grid name, row, column, in the trace's coordinates of that grid


@cached_hash
@dataclass(frozen=True)
class Shape:
    """A polygon (``closed``) or polyline: filled, stroked, or both.

    A stroke is ``width`` px wide and extends half a width past open ends, so
    edges meet cleanly; ``dashed`` strokes each edge with :data:`DASHES`.
    ``round`` joins a polyline's segments with round joints. ``role`` is the
    theme field the fill (or, unfilled, the stroke) comes from; ``cell`` names
    the engine cell a shading shows.
    """

    points: tuple[Point, ...]
    fill: RGB | None = None
    stroke: RGB | None = None
    width: float = 0.0
    dashed: bool = False
    closed: bool = True
    role: str | None = None
    cell: Cell | None = None
    round: bool = False


@cached_hash
@dataclass(frozen=True)
class Text:
    """One line of text as fitted.

    ``(x, y)`` is where Pillow's anchor ``anchor`` ("la": top-left of the line,
    "ls": left end of the baseline) sits, for ``face`` (None: the bundled font)
    at ``size`` px; ``rect`` is its ink box; ``forms`` the alternatives tried,
    ``text`` the one that fit. Backends drawing with other fonts place the text
    at ``ax`` on ``baseline`` with the alignment ``align`` (start, middle, end).
    """

    text: str
    size: float
    x: float
    y: float
    colour: RGB
    rect: tuple[float, float, float, float]
    baseline: float
    ax: float
    align: str = "middle"
    anchor: str = "la"
    kind: str = ""
    cell: Cell | None = None
    value: float | None = None
    forms: tuple[str, ...] = ()  # every form the layout offered, longest first; ``text`` fitted
    face: Face | None = None  # the font it was fitted with and is drawn in


Op = Union[Shape, Text]


@dataclass(frozen=True)
class Frame:
    """What one frame adds to the still picture."""

    under: tuple[Op, ...] = ()
    fresh: tuple[Op, ...] = ()  # stays from this frame on (output cells filling in)
    over: tuple[Op, ...] = ()
    texts: tuple[Op, ...] = ()  # text and marks of the frame, over every shape
    lines: tuple[tuple[Point, Point], ...] = ()  # connecting lines, drawn last
    # The last ``edges`` shapes of ``over`` are straight strokes (open, unfilled) that no
    # shape of the frame covers: a backend may draw them as it draws the connecting lines,
    # straight onto the frame and under the text (the raster does: a channel frame's
    # filter block spans its maps, and supersampling its box was half the frame's time).
    edges: int = 0


@dataclass(frozen=True, eq=False)
class Scene:
    """A picture of ``n_frames`` frames: the still layers and a frame function.

    ``crisp`` scenes (the matrix figure) are drawn at one pixel per unit with
    no anti-aliasing of fills; the others are anti-aliased. ``cover`` is the
    polygon that hides the connecting lines (the output plane), ``has_text``
    whether any frame carries text. ``face`` is the font of every text (None:
    the bundled font), which the vector backends name or embed.
    """

    size: tuple[int, int]
    theme: Theme
    low: tuple[Op, ...]
    high: tuple[Op, ...]
    n_frames: int
    frame_of: Callable[[int], Frame] = field(repr=False)
    line_colour: RGB = (0, 0, 0)
    cover: tuple[Point, ...] | None = None
    has_text: bool = False
    crisp: bool = False
    title: str = ""
    face: Face | None = None
    # The fresh shapes of one frame alone, without the rest of it (see still()).
    fresh_of: Callable[[int], tuple[Op, ...]] = field(default=lambda step: (), repr=False)
    line_width: float = 1.0  # of the connecting lines (a scaled scene's are wider)
    colours: tuple[RGB, ...] = ()  # shape colours beyond the theme's (the filters' of channels)
    # Frames come back to shapes met before: each filter of a group meets the footprints
    # of the one before it (a backend may keep what it drew of them).
    recurs: bool = False

    @property
    def background(self) -> RGB:
        return self.theme.background

    def frame(self, step: int) -> Frame:
        if not 0 <= step < self.n_frames:
            raise IndexError(f"frame: got {step}; this scene has frames 0..{self.n_frames - 1}")
        return self.frame_of(step)

    def frames(self) -> Iterator[Frame]:
        for step in range(self.n_frames):
            yield self.frame_of(step)

    def visible(self, lines) -> tuple[tuple[Point, Point], ...]:
        """The parts of connecting ``lines`` that do not pass under :attr:`cover`."""
        if self.cover is None:
            return tuple(lines)
        return tuple(piece for p0, p1 in lines for piece in outside(p0, p1, self.cover))

    def still(self, step: int) -> "Still":
        """Frame ``step`` as one z-ordered list, for backends that draw a single picture.

        Shapes (low, the frame's under, every fresh shape of frames 0..step, high,
        the frame's over), then the visible parts of the connecting lines, then the
        frame's text and marks, which stay readable over the lines.
        """
        f = self.frame(step)
        persist = tuple(op for n in range(step) for op in self.fresh_of(n)) + f.fresh
        shapes = self.low + f.under + persist + self.high + f.over
        return Still(shapes, self.visible(f.lines), f.texts, f.lines, f.edges)


@dataclass(frozen=True)
class Still:
    """One frame, whole: ``shapes`` in z-order, then ``lines`` (1 px, the scene's
    line colour), then ``texts`` (text and marks) on top. ``connectors`` are the
    lines whole, for a backend that hides them under the scene's cover itself;
    the last ``edges`` of ``shapes`` are the frame's edge strokes (Frame.edges)."""

    shapes: tuple[Op, ...]
    lines: tuple[tuple[Point, Point], ...]
    texts: tuple[Op, ...]
    connectors: tuple[tuple[Point, Point], ...] = ()
    edges: int = 0


def outside(p0: Point, p1: Point, poly: tuple[Point, ...]) -> list[tuple[Point, Point]]:
    """The parts of segment p0-p1 outside the convex polygon ``poly`` (:func:`split`)."""
    return [(a, b) for a, b, hidden in split(p0, p1, poly) if not hidden]


Layout = Union[IsoLayout, FlatLayout, ChannelIsoLayout]


def scene_of(picture: Layout | MatrixFigure, theme: Theme = CLASSIC,
             face: Face | None = None) -> Scene:
    """The scene of an iso, flat or matrix layout in ``theme``, its text in ``face``
    (None: the bundled font)."""
    if isinstance(picture, MatrixFigure):
        return matrix_scene(picture, theme, face)
    if isinstance(picture, FlatLayout):
        return flat_scene(picture, theme, face)
    if isinstance(picture, ChannelIsoLayout):
        return channel_iso_scene(picture, theme, face)
    return iso_scene(picture, theme, face)


def _title(layout: Layout) -> str:
    """The document title (SVG <title>, PDF /Title): the picture's title, else its parameters."""
    given = [item.text for item in layout.static if item.kind == "title"]
    return given[0] if given else layout.trace.spec.short_name()


# Shapes -------------------------------------------------------------------------

def plane_ops(plane: Plane, fills: dict[int, tuple[RGB, str]], theme: Theme, grid: str) -> list[Shape]:
    """A grid: its cells' fills (kind -> (colour, role)), then dashed, faint and solid edges."""
    ops: list[Shape] = []
    for kind, (fill, role) in fills.items():
        for r, c in plane.cells(kind):
            ops.append(Shape(plane.quad(r, c), fill=fill, role=role, cell=(grid, r, c)))
    solid, dashed, faint = plane.edges()
    for segs, role, dash in ((dashed, "line", True), (faint, "crop", True), (solid, "line", False)):
        colour = getattr(theme, role)
        for p0, p1 in segs:
            ops.append(Shape((p0, p1), stroke=colour, width=GRID_W, dashed=dash, closed=False,
                             role=role))
    return ops


def cell_shape(plane: Plane, r: int, c: int, fill: RGB | None, edge: RGB, role: str,
               grid: str, dashed: bool = False) -> Shape:
    """A shaded cell with its four edges (dashed when ``dashed``)."""
    return Shape(plane.quad(r, c), fill=fill, stroke=edge, width=GRID_W, dashed=dashed,
                 role=role, cell=(grid, int(r), int(c)))


def text_op(item: TextItem, theme: Theme, face: Face | None = None,
            colours: dict | None = None) -> Text | None:
    """The fitted text of ``item`` in ``face``, or None when no form fits its slot.
    ``colours``: text colours found so far, by (colour role, fill role beneath), for a
    caller converting many texts (the colour depends on those two roles only)."""
    placed = fit(item, face)
    if placed is None:
        return None
    if colours is None:
        return _placed_text(placed, text_colour(theme, item), item, face)
    key = (item.colour, item.on)
    colour = colours.get(key)
    if colour is None:
        colour = colours[key] = text_colour(theme, item)
    return _placed_text(placed, colour, item, face)


def _placed_text(placed: Placed, colour: RGB, item: TextItem, face: Face | None) -> Text:
    ss = METRIC_SCALE
    x, y = placed.xy[0] / ss, placed.xy[1] / ss
    base = y + ascent(round(placed.size * ss), face) / ss
    return Text(placed.text, placed.size, x, y, colour, placed.rect, base,
                (placed.rect[0] + placed.rect[2]) / 2, "middle", "la", item.kind, item.where,
                item.value, item.texts, face)


def mark_op(mark: Mark, theme: Theme) -> Shape:
    return Shape(mark.quad, stroke=getattr(theme, mark.role), width=mark.width, role=mark.role)


_UNSEEN = object()


class _Overlay:
    """Text items and marks as operations, each converted once (they recur from frame to frame)."""

    def __init__(self, theme: Theme, face: Face | None = None):
        self.theme = theme
        self.face = face
        self.known: dict = {}  # by value: one operation object per value
        self.by_id: dict = {}  # id -> operation (_DROPPED: a text that fits nowhere)
        self.alive: list = []  # the elements of by_id, kept so that their ids stay theirs
        self.dropped = False  # has any text been dropped (then the output is filtered)
        self.colours: dict = {}  # (colour role, fill role beneath) -> text_colour
        # Parts (tuples of elements) of the last frame by id -> (part, its operations): a
        # part that recurs is converted when it first comes, or comes back, not element
        # by element in every frame (see parts()).
        self.before: dict = {}
        self.looked = 0  # elements looked up one by one (a test counts them)

    def __call__(self, elements) -> tuple[Op, ...]:
        # A frame hands every number of the picture, nearly all seen before: one lookup
        # pass in C (map), and only the new elements in Python.
        elements = elements if isinstance(elements, (list, tuple)) else list(elements)
        self.looked += len(elements)
        ops = list(map(self.by_id.get, map(id, elements)))
        if not all(ops):  # a miss is None; every operation is true (all() runs in C, `in` calls __eq__)
            for k in compress(range(len(ops)), map(is_, ops, repeat(None))):  # the misses
                ops[k] = self._convert(elements[k])
        if self.dropped and any(map(is_, ops, repeat(_DROPPED))):
            return tuple(op for op in ops if op is not _DROPPED)
        return tuple(ops)

    def parts(self, parts) -> tuple[Op, ...]:
        """The operations of the elements of ``parts`` (tuples), in order: those of a part
        that was in the last frame or is again in this one, by the part's id."""
        now, before = {}, self.before
        ops = []
        for part in parts:
            k = id(part)
            hit = now.get(k) or before.get(k)  # (part, operations): never empty, so true
            if hit is None:
                hit = (part, self(part))  # the part kept, so that its id stays its own
            now[k] = hit
            ops.append(hit[1])
        self.before = now
        return tuple(chain.from_iterable(ops))

    def _convert(self, e) -> Op:
        op = self.known.get(e, _UNSEEN)
        if op is _UNSEEN:
            op = (mark_op(e, self.theme) if isinstance(e, Mark)
                  else text_op(e, self.theme, self.face, self.colours))
            op = self.known[e] = _DROPPED if op is None else op
        if op is _DROPPED:
            self.dropped = True
        self.by_id[id(e)] = op
        self.alive.append(e)
        return op


_DROPPED = object()  # a text that fits nowhere: left out of the frame


# The overlap view ------------------------------------------------------------------

def outline_shape(plane: Plane, r: int, c: int, theme: Theme, grid: str) -> Shape:
    """A highlighted cell drawn as an outline only, so its fill (a count) stays visible."""
    return Shape(plane.quad(r, c), stroke=theme.output_hl, width=OUTLINE_HL, role="output_hl",
                 cell=(grid, int(r), int(c)))


def overlap_ops(t, ov, plane: Plane, step: int, theme: Theme) -> tuple[Shape, ...]:
    """The output cells that change at ``step``, shaded by their products so far."""
    return tuple(Shape(plane.quad(r, c), fill=overlap_shade(theme, n, ov.top), stroke=theme.line,
                       width=GRID_W, role="overlap", cell=("output", r, c))
                 for r, c, n in step_counts(t, step))


def legend_ops(legend: Plane, ov, theme: Theme) -> list[Shape]:
    """The legend's swatches, one per count, with their edges."""
    return [Shape(legend.quad(0, j), fill=overlap_shade(theme, n, ov.top), stroke=theme.line,
                  width=GRID_W, role="overlap", cell=("legend", 0, j))
            for j, n in enumerate(ov.levels)]


# The iso picture ------------------------------------------------------------------

def iso_scene(layout: IsoLayout, theme: Theme = CLASSIC, face: Face | None = None) -> Scene:
    scatter = layout.trace.spec.view == "scatter"
    ov = layout.overlap
    low, up = layout.lower, layout.upper
    still_low = plane_ops(low, {REAL: (theme.input, "input")}, theme, "input")
    # The output plane: in scatter view (and in the overlap view) its cells fill as
    # products arrive, so they start empty and the filled ones are persistent shapes.
    filling = scatter or ov is not None
    if filling:
        still_low += [Shape(up.quad(r, c), fill=theme.output_empty, role="output_empty",
                            cell=("output", r, c)) for r, c in up.cells(REAL)]
    if ov is not None:
        still_low += legend_ops(layout.legend, ov, theme)
    still_high = plane_ops(up, {} if filling else {REAL: (theme.output, "output")}, theme, "output")
    oh, ow = layout.trace.spec.output_size
    cover = (up.corner(0, 0), up.corner(0, ow), up.corner(oh, ow), up.corner(oh, 0))

    cells: dict = {}  # a highlighted cell's shape, made once: cells recur from frame to frame

    def cell(upper: bool, r: int, c: int, kind: int) -> Shape:
        key = (upper, r, c, kind)
        if key not in cells:
            if not upper:
                role = "input_hl" if kind == REAL else "padding_hl"
                cells[key] = cell_shape(low, r, c, getattr(theme, role), theme.line, role, "input")
            elif kind == REAL and ov is not None:  # outlined: the shade shows the count
                cells[key] = outline_shape(up, r, c, theme, "output")
            elif kind == REAL:
                cells[key] = cell_shape(up, r, c, theme.output_hl, theme.line, "output_hl", "output")
            else:  # CROP or PAD: a product that falls outside the output
                cells[key] = cell_shape(up, r, c, theme.crop, theme.crop, "crop", "output", True)
        return cells[key]

    overlay = _Overlay(theme, face)

    def fresh_of(step: int) -> tuple[Shape, ...]:
        if ov is not None:
            return overlap_ops(layout.trace, ov, up, step, theme)
        if not scatter:
            return ()
        rr, cc = (layout.first_fill == step).nonzero()
        return tuple(Shape(up.quad(r, c), fill=theme.output, role="output", cell=("output", r, c))
                     for r, c in zip(rr.tolist(), cc.tolist()))

    def frame_of(step: int) -> Frame:
        shapes = layout.frame(step)
        fresh = fresh_of(step)
        under = tuple(cell(False, r, c, kind) for r, c, kind in shapes.lower)
        over = tuple(cell(True, r, c, kind) for r, c, kind in shapes.upper
                     if kind in (REAL, CROP, PAD))
        texts = ()
        if layout.has_text:
            parts, marks = layout.overlay_parts(step)
            texts = overlay.parts([marks, *parts])
        return Frame(under, fresh, over, texts, shapes.lines)

    return Scene(layout.size, theme, tuple(still_low), tuple(still_high), layout.n_frames,
                 frame_of, theme.connector, cover, layout.has_text, title=_title(layout),
                 face=face, fresh_of=fresh_of)


# The iso picture of channels ------------------------------------------------------
#
# The iso picture of channels (:mod:`convanim.iso_channels`): colours and z-order.
#
# Still: the input maps from the lowest to the top one (map 0), each opaque (its
# padding filled with the background), then the output maps the same way, empty.
# Persistent: each output value's cell, filled in its filter's colour from its step
# on. A frame: the footprint's cells seen on the group's maps, then over every map the
# filter block's edges in the filter's colour and the output cell's outline, solid
# where seen, dashed where a map above hides them; the connecting lines pass under the
# maps between their ends' heights (cut in the layout: the scene has no cover).
#
# Each filter has its own colour, derived from the theme (:func:`filter_colours`):
# the theme's kernel colour turned round the colour wheel, so it keeps the theme's
# lightness and saturation (a grey theme gets greys of its own lightness range).
# The colours go to the backends as :attr:`Scene.colours`, for the raster palette.

# Turns of the colour wheel from the theme's kernel colour, filter by filter: the first
# half a turn away (the most distinct from the input's blue family), then between.
HUES = (0.5, 0.17, 0.83, 0.33, 0.67, 0.08, 0.58, 0.92)


# A grey theme's filters: steps from its lightest grey (0) to its darkest (7), filter by
# filter, so that neighbouring maps differ by 4 or 5 steps (and any two by one at least).
GREY_STEPS = (3, 7, 2, 6, 1, 5, 0, 4)
GREY_CLEAR = (0.2, 0.1)  # lightness kept off the line colour and off the maps' colours


def _lightness(c: RGB) -> float:
    return sum(c) / 765


def filter_colours(theme: Theme, n: int) -> tuple[RGB, ...]:
    """``n`` distinct colours, one per filter, from ``theme``'s kernel colour (input_hl)."""
    r, g, b = (v / 255 for v in theme.input_hl)
    h, l, s = colorsys.rgb_to_hls(r, g, b)
    l = min(max(l, 0.45), 0.65)  # a dark kernel colour turned to orange is brown: lighter
    # Greys as far apart as the picture allows: dark enough to show as filled on the
    # empty output maps and for the block's edges to show on the input maps, light enough
    # for the grid lines to show on them.
    lo = _lightness(theme.line) + GREY_CLEAR[0]
    hi = min(_lightness(theme.input), _lightness(theme.output_empty)) - GREY_CLEAR[1]
    out: list[RGB] = []
    for k in range(n):
        if s < 0.15:  # a grey theme: greys spread between its line's and its maps' lightness
            v = hi - (hi - lo) * GREY_STEPS[k % len(GREY_STEPS)] / (len(GREY_STEPS) - 1)
            rgb = (v, v, v)
        else:
            rgb = colorsys.hls_to_rgb((h + HUES[k % len(HUES)]) % 1.0, l, max(s, 0.55))
        c = tuple(round(x * 255) for x in rgb)
        while c in out or c in theme.colours():  # keep every colour its own palette entry
            c = (c[0], c[1], min(255, c[2] + 1) if c[2] < 255 else c[2] - 1)
        out.append(c)  # type: ignore[arg-type]
    return tuple(out)


def channel_iso_scene(layout: ChannelIsoLayout, theme: Theme = CLASSIC,
                      face: Face | None = None) -> Scene:
    t = layout.trace
    colours = filter_colours(theme, t.spec.out_channels)
    low: list = []
    for ci in reversed(range(len(layout.maps))):  # back to front: the top map last
        low += plane_ops(layout.maps[ci], {REAL: (theme.input, "input"),
                                           PAD: (theme.background, "background")},
                         theme, f"in{ci}")
    for co in reversed(range(len(layout.outs))):
        low += plane_ops(layout.outs[co], {REAL: (theme.output_empty, "output_empty")}, theme,
                         f"out{co}")

    made: dict = {}  # a shape, made once: cells recur from frame to frame

    def shaded(stack: str, k: int, r: int, c: int, fill: RGB, role: str) -> tuple[Shape, ...]:
        """A cell filled where it is seen, then its edges in sight stroked over the fill."""
        key = (stack, k, r, c, role)
        if key not in made:
            name = (f"{stack}{k}", r, c)
            made[key] = tuple(
                [Shape(p, fill=fill, role=role, cell=name) for p in layout.seen(stack, k, r, c)]
                + [Shape((a, b), stroke=theme.line, width=GRID_W, closed=False, role="line")
                   for a, b in layout.seen_edges(stack, k, r, c)])
        return made[key]

    def footprint(ci: int, cells) -> tuple[Shape, ...]:
        """The footprint's cells on input map ``ci``, a rectangle of cells of one kind
        shaded as one (fill in sight, then the grid lines in sight over it): a few
        shapes for the whole footprint, not a fill and four edges for each cell."""
        out: list = []
        for r0, c0, r1, c1, kind in blocks(cells):
            role = "input_hl" if kind == REAL else "padding_hl"
            key = ("in", ci, r0, c0, r1, c1, role)
            if key not in made:
                pieces, lines = layout.seen_block(ci, r0, c0, r1, c1)
                one = (f"in{ci}", r0, c0) if (r1 - r0, c1 - c0) == (1, 1) else None
                made[key] = tuple(
                    [Shape(p, fill=getattr(theme, role), role=role, cell=one) for p in pieces]
                    + [op for a, b in lines for op in grid_line(ci, a, b)])
            out += made[key]
        return tuple(out)

    def grid_line(ci: int, a, b) -> tuple[Shape, ...]:
        """A grid line over the footprint's shading, in sight: the same shapes wherever
        the footprint that crosses it is (a line recurs as the footprint moves along)."""
        key = ("line", ci, a, b)
        if key not in made:
            made[key] = tuple(Shape(seg, stroke=theme.line, width=GRID_W, closed=False,
                                    role="line") for seg in layout.seen_line(ci, a, b))
        return made[key]

    dash = layout.maps[0].cell / 2  # a dashed piece's length: the grid's dashes, about
    block_w = block_width(layout.maps[0].cell)

    def edge(e, colour: RGB, role: str) -> tuple[Shape, ...]:
        """A seen edge solid and wide; a hidden one dashed, as thin as the grid's lines."""
        key = (e, role)  # the same edge in another filter's block has another colour
        if key not in made:
            a, b, hidden = e
            if not hidden:
                made[key] = (Shape((a, b), stroke=colour, width=block_w, closed=False,
                                   role=role),)
            else:
                n = max(1, round(((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 / dash))
                pts = [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n)
                       for k in range(n + 1)]
                # One polyline, each of its pieces dashed: the raster draws a frame's edges
                # apart from its other shapes (Frame.edges), so an edge's box costs nothing.
                made[key] = (Shape(tuple(pts), stroke=colour, width=GRID_W, dashed=True,
                                   closed=False, role=role),)
        return made[key]

    def fresh_of(step: int) -> tuple[Shape, ...]:
        co, r, c = (int(v) for v in t.anchor[step])
        return shaded("out", co, r, c, colours[co], f"filter{co}")

    overlay = _Overlay(theme, face)

    def frame_of(step: int) -> Frame:
        s = layout.frame(step)
        co = s.cell[0]
        over: list = []
        by_map: dict[int, list] = {}
        for ci, r, c, kind in s.lower:
            by_map.setdefault(ci, []).append((r, c, kind))
        for ci, cells in by_map.items():
            over += footprint(ci, cells)
        shaded = len(over)
        # Hidden edges first: a seen edge is drawn over a hidden one where they meet. The
        # block (on the input maps) and the output cell's outline never meet: one colour
        # after the other, so that a backend drawing edges by colour has two runs.
        for edges, colour, role in ((s.block, colours[co], f"filter{co}"),
                                    (s.cell_edges, theme.line, "line")):
            for hidden in (True, False):
                for e in edges:
                    if e[2] == hidden:
                        over += edge(e, colour, role)
        texts = overlay(layout.text(step)) if layout.has_text else ()
        return Frame(fresh=fresh_of(step), over=tuple(over), texts=texts, lines=s.lines,
                     edges=len(over) - shaded)

    # No cover: each frame's lines come cut where they pass under a map.
    return Scene(layout.size, theme, tuple(low), (), layout.n_frames, frame_of, theme.connector,
                 None, layout.has_text, title=_title(layout), face=face,
                 fresh_of=fresh_of, colours=colours, recurs=filters_meet_again(t.spec))


# The flat picture ----------------------------------------------------------------

def flat_scene(layout: FlatLayout, theme: Theme = CLASSIC, face: Face | None = None) -> Scene:
    grids: list[Shape] = []
    ov = layout.overlap
    for name, plane in layout.grids.items():
        role = layout.fills[name]
        grids += plane_ops(plane, {REAL: (getattr(theme, role), role)}, theme, name)
    if ov is not None:
        grids += legend_ops(layout.legend, ov, theme)
    overlay = _Overlay(theme, face)
    cells: dict = {}  # a shaded cell's shape, made once: cells recur from frame to frame

    def cell(name: str, r: int, c: int, role: str, faint: bool) -> Shape:
        key = (name, r, c, role, faint)
        if key not in cells and ov is not None and name == "output" and role == "output_hl":
            cells[key] = outline_shape(layout.grids[name], r, c, theme, name)
        if key not in cells:
            cells[key] = cell_shape(layout.grids[name], r, c, getattr(theme, role),
                                    theme.crop if faint else theme.line, role, name, faint)
        return cells[key]

    def fresh_of(step: int) -> tuple[Shape, ...]:
        if ov is not None:
            return overlap_ops(layout.trace, ov, layout.grids["output"], step, theme)
        return tuple(cell(*c) for c in layout.fresh(step))

    def frame_of(step: int) -> Frame:
        shapes = layout.frame(step)
        if ov is not None:
            shapes = replace(shapes, fresh=())
        over = [cell(*c) for c in shapes.cells]
        for poly, role, width in shapes.outlines:
            over.append(Shape(tuple(poly), stroke=getattr(theme, role), width=width, role=role))
        for poly, fill, stroke, width in shapes.plates:
            over.append(Shape(tuple(poly), fill=getattr(theme, fill), stroke=getattr(theme, stroke),
                              width=width, role=fill))
        texts = ()
        if layout.has_text:
            parts, marks = layout.overlay_parts(step)
            texts = overlay.parts([marks, *parts])
        fresh = fresh_of(step) if ov is not None else tuple(cell(*c) for c in shapes.fresh)
        return Frame(fresh=fresh, over=tuple(over), texts=texts)

    spec = layout.trace.spec
    return Scene(layout.size, theme, tuple(grids), (), layout.n_frames, frame_of,
                 theme.connector, None, layout.has_text, title=_title(layout), face=face,
                 fresh_of=fresh_of, recurs=filters_meet_again(spec))


def filters_meet_again(spec) -> bool:
    """Does a later filter meet the footprints of one before it (more than one filter in
    a group: the group's filters sweep the same maps in turn)?"""
    return not spec.pooling and spec.out_channels > spec.groups


# The matrix figure --------------------------------------------------------------

# Font size per label role, as a fraction of the row height; shrunk to fit its box.
MATRIX_FONT = {"tap": 0.42, "zero": 0.42, "in": 0.42, "out": 0.42, "row_head": 0.34,
               "col_head": 0.34, "name": 0.5, "caption": 0.44}


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def matrix_colours(theme: Theme) -> dict[str, RGB]:
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


def _text_width(text: str, size: int, face: Face | None) -> float:
    small = round(size * 0.65)
    return sum(advance(s, small if sup else size, face) for s, sup in _runs(text))


def _fit_size(texts: list[str], target: int, box_w: int, box_h: int, pad: int,
              face: Face | None) -> int:
    """The largest size <= target at which every text fits inside box minus ``pad``."""
    size = max(1, target)
    widest = max(set(texts), key=lambda s: _text_width(s, size, face))
    while size > 6 and (_text_width(widest, size, face) > box_w - 2 * pad
                        or size > box_h - 2 * pad):
        size -= 1
    return size


def _label_texts(label: Label, size: int, colour: RGB, pad: int, face: Face | None) -> list[Text]:
    """One label as baseline-anchored runs (the superscript T small and raised)."""
    box = label.box
    width = _text_width(label.text, size, face)
    if label.align == "left":
        x = box.x0 + pad
    elif label.align == "right":
        x = box.x1 - pad - width
    else:
        x = (box.x0 + box.x1 - width) / 2
    # Centre the capital height on the box's middle, on a common baseline.
    cap = -font(size, face).getbbox("X", anchor="ls")[1]
    base = (box.y0 + box.y1) / 2 + cap / 2
    out = []
    align = {"left": "start", "right": "end"}.get(label.align, "middle")
    for s, sup in _runs(label.text):
        px = round(size * 0.65) if sup else size
        y = base - (cap * 0.45 if sup else 0)
        l, t, r, b = font(px, face).getbbox(s, anchor="ls")
        adv = advance(s, px, face)
        ax = {"start": x, "middle": x + adv / 2, "end": x + adv}[align]
        out.append(Text(s, float(px), x, y, colour, (x + l, y + t, x + r, y + b), y, ax, align,
                        "ls", label.role, face=face))
        x += adv
    return out


def matrix_scene(fig: MatrixFigure, theme: Theme = CLASSIC, face: Face | None = None) -> Scene:
    """One still frame: filled cells, the grid, brackets, the labels."""
    col = matrix_colours(theme)
    ops: list[Op] = []

    def rect(box) -> tuple[Point, ...]:
        return ((box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1))

    for box, role in fig.cells:
        ops.append(Shape(rect(box), fill=col[role], role=role))
    for box in fig.grid:
        ops.append(Shape(rect(box), stroke=col["grid"], width=1, role="grid"))
    tick = max(3, fig.cell // 6)
    lw = max(1, round(fig.cell / 20))
    for box in fig.brackets:
        for x, d in ((box.x0, 1), (box.x1, -1)):
            ops.append(Shape(((x + d * tick, box.y0), (x, box.y0), (x, box.y1), (x + d * tick, box.y1)),
                             stroke=col["bracket"], width=lw, closed=False, role="bracket",
                             round=True))
    pad = max(2, fig.cell // 10)
    by_role: dict[str, list] = {}
    for label in fig.labels:
        by_role.setdefault(label.role, []).append(label)
    for role, labels in by_role.items():
        # One size per role, so equal things look equal; fitted to the smallest box.
        box_w = min(lb.box.width for lb in labels)
        box_h = min(lb.box.height for lb in labels)
        size = _fit_size([lb.text for lb in labels], round(MATRIX_FONT[role] * fig.cell),
                         box_w, box_h, pad, face)
        colour = {"zero": col["zero"], "row_head": col["head"], "col_head": col["head"]}.get(
            role, col["text"])
        for label in labels:
            ops.extend(_label_texts(label, size, colour, pad, face))
    title = "the transposed convolution as the matrix C^T" if fig.transpose else \
        "the convolution as a matrix C"
    return Scene(fig.size, theme, tuple(ops), (), 1, lambda step: Frame(), has_text=True,
                 crisp=True, title=title, face=face)

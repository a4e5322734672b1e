"""Geometry shared by the pictures: planes of cells, text slots, bands of text.

No Pillow here: a layout is plain numbers (canvas pixels at scale 1) and role
names; :mod:`convanim.scene` turns roles into colours and drawing operations.
The iso picture is :mod:`convanim.iso`, the flat one :mod:`convanim.flat`, their
numbers :mod:`convanim.numbers`.

Two planes, as in the classic guide: the *lower* plane (what the kernel slides
over) lies at the bottom, the *upper* plane floats above it. A cell (r, c) of a
plane has corners ``origin + c*U + r*V`` ... ``origin + (c+1)*U + (r+1)*V``: columns
run up and to the right, rows down and to the right, an oblique view close to the
reference's.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

import numpy as np

from .engine import Trace
from .info import caption_bands, grid_labels
from .params import SpecError
from .text import fmt_num
from .values import cached_hash

# Screen vectors of one cell step along a column (U) and a row (V), per pixel of
# cell size; measured off the reference GIFs (about 33 and 28 px at their size).
U = np.array([0.925, -0.46])
V = np.array([0.647, 0.603])

# Cell kinds on a plane.
EMPTY, REAL, PAD, CROP = 0, 1, 2, 3

Point = tuple[float, float]


@dataclass(frozen=True, eq=False)
class Plane:
    """A grid of cells; ``first`` is the logical (row, col) of grid cell (0, 0).

    ``u`` and ``v`` are the screen steps of one column and one row per pixel of
    cell size: the oblique U, V by default, (1, 0) and (0, 1) for a front view.
    """

    kinds: np.ndarray  # (rows, cols) of EMPTY/REAL/PAD/CROP
    first: tuple[int, int]
    origin: tuple[float, float]  # canvas position of the grid's (0, 0) corner
    cell: float
    u: tuple[float, float] = (float(U[0]), float(U[1]))
    v: tuple[float, float] = (float(V[0]), float(V[1]))

    @property
    def shape(self) -> tuple[int, int]:
        return self.kinds.shape  # type: ignore[return-value]

    def corner(self, r: float, c: float) -> Point:
        """Canvas point of logical grid corner (r, c)."""
        r, c = r - self.first[0], c - self.first[1]
        x = self.origin[0] + self.cell * (c * self.u[0] + r * self.v[0])
        y = self.origin[1] + self.cell * (c * self.u[1] + r * self.v[1])
        return (float(x), float(y))

    def quad(self, r: int, c: int) -> tuple[Point, Point, Point, Point]:
        """The four corners of logical cell (r, c), clockwise on screen from top-left."""
        return (self.corner(r, c), self.corner(r, c + 1), self.corner(r + 1, c + 1),
                self.corner(r + 1, c))

    def kind(self, r: int, c: int) -> int:
        gr, gc = r - self.first[0], c - self.first[1]
        if 0 <= gr < self.shape[0] and 0 <= gc < self.shape[1]:
            return self._kind_rows[gr][gc]
        return EMPTY

    @cached_property
    def _kind_rows(self) -> list[list[int]]:
        """:attr:`kinds` as lists of ints: a frame asks for a few cells' kinds, one by one."""
        return self.kinds.tolist()

    def cells(self, kind: int) -> list[tuple[int, int]]:
        """Logical cells of one kind, row-major."""
        rr, cc = np.nonzero(self.kinds == kind)
        return [(int(r) + self.first[0], int(c) + self.first[1]) for r, c in zip(rr, cc)]

    def edges(self) -> tuple[list[tuple[Point, Point]], list[tuple[Point, Point]], list[tuple[Point, Point]]]:
        """Grid edges as (solid, dashed, faint) segments, each edge once.

        An edge is solid when a real cell touches it, dashed when only padding
        does, faint when only cropped cells do.
        """
        k = np.pad(self.kinds, 1)  # EMPTY border
        solid, dashed, faint = [], [], []
        rows, cols = self.shape
        fr, fc = self.first

        def put(a: int, b: int, p0: Point, p1: Point) -> None:
            kinds = {a, b}
            if REAL in kinds:
                solid.append((p0, p1))
            elif PAD in kinds:
                dashed.append((p0, p1))
            elif CROP in kinds:
                faint.append((p0, p1))

        for r in range(rows + 1):  # horizontal edges: between grid rows r-1 and r
            for c in range(cols):
                put(int(k[r, c + 1]), int(k[r + 1, c + 1]),
                    self.corner(fr + r, fc + c), self.corner(fr + r, fc + c + 1))
        for c in range(cols + 1):  # vertical edges: between grid cols c-1 and c
            for r in range(rows):
                put(int(k[r + 1, c]), int(k[r + 1, c + 1]),
                    self.corner(fr + r, fc + c), self.corner(fr + r + 1, fc + c))
        return solid, dashed, faint

    def extent(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the drawn grid."""
        rows, cols = self.shape
        pts = np.array([self.corner(self.first[0] + r, self.first[1] + c)
                        for r in (0, rows) for c in (0, cols)])
        return (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())


# Text on the picture. Layouts say what to write and the slot (a convex
# quadrilateral, canvas px) its ink must stay inside; the renderer picks the
# largest font size that fits, or leaves the text out.
TEXT_CLEAR = 2.0  # px from a grid line's centre to text ink: half the 1.6 px line, plus anti-aliasing
TEXT_PAD = 0.06  # of the cell, kept free on top of TEXT_CLEAR
CHAR_W = 0.62  # width of a character per px of font size (digits are ~0.6), to reserve room
VALUE_SIZE, FOOT_VALUE_SIZE, WEIGHT_SIZE = 0.42, 0.34, 0.25  # font px per px of cell
FULL = ((0.0, 1.0), (0.0, 1.0))  # (rows, cols) fractions of a cell
VALUE_TOP = ((0.0, 0.58), (0.0, 1.0))  # the value, when a weight shares the cell
WEIGHT_BOX = ((0.62, 1.0), (0.3, 1.0))  # the weight, small, bottom right
MARK_W = 2.5  # px, outline of the winning cell of max pooling
WEIGHT_MIN_CELL = 24  # below this cell size a footprint cell shows its value only (no room)


@cached_hash
@dataclass(frozen=True)
class TextItem:
    """One string to draw: ``texts`` longest form first, the first that fits is drawn.

    ``colour`` and ``on`` are Theme fields: the text colour and the fill beneath
    it (the renderer swaps to ``text_inverse`` where that reads better).
    ``where`` = (grid, row, col) and ``value`` tie a number to the trace. ``like``,
    when given, is the widest text of the item's group (the numbers of one grid): the
    item is drawn no larger than ``like`` could be in the same slot, so the numbers of
    a grid share one size instead of the longer ones shrinking alone. It may be a tuple
    of forms, longest first (a step's arithmetic): no larger than the first of them that
    fits.
    """

    kind: str  # input, padding, weight, output, kernel, sum, label, title, caption
    texts: tuple[str, ...]
    centre: Point
    slot: tuple[Point, ...]
    size: float  # largest font size, canvas px
    colour: str = "text"
    on: str = "background"
    where: tuple[str, int, int] | None = None
    value: float | None = None
    like: str | tuple[str, ...] | None = None

    @property
    def text(self) -> str:
        return self.texts[0]


@cached_hash
@dataclass(frozen=True)
class Mark:
    """An outline drawn inside a cell (the winner of a max-pooling step)."""

    quad: tuple[Point, ...]
    role: str
    width: float


@dataclass(frozen=True)
class Overlay:
    """Text and marks of one frame, drawn over its shapes."""

    texts: tuple[TextItem, ...] = ()
    marks: tuple[Mark, ...] = ()


def cell_slot(plane: Plane, r: int, c: int, box=FULL, clear: float = TEXT_CLEAR,
              pad: float = TEXT_PAD) -> tuple[Point, tuple[Point, ...]] | None:
    """Centre and quad of the text slot ``box`` = (rows, cols) fractions of cell (r, c).

    Kept ``clear`` px plus ``pad`` of the cell off the cell's edges; None when
    nothing is left.
    """
    (r0, r1), (c0, c1) = box
    cross = abs(plane.u[0] * plane.v[1] - plane.u[1] * plane.v[0])
    across_cols = cross * plane.cell / float(np.hypot(*plane.v))  # left edge to right edge
    across_rows = cross * plane.cell / float(np.hypot(*plane.u))  # top edge to bottom edge
    dc = clear / across_cols + pad
    dr = clear / across_rows + pad
    r0, r1, c0, c1 = max(r0, dr), min(r1, 1 - dr), max(c0, dc), min(c1, 1 - dc)
    if r1 <= r0 or c1 <= c0:
        return None
    quad = (plane.corner(r + r0, c + c0), plane.corner(r + r0, c + c1),
            plane.corner(r + r1, c + c1), plane.corner(r + r1, c + c0))
    return plane.corner(r + (r0 + r1) / 2, c + (c0 + c1) / 2), quad


def cell_text(kind: str, plane: Plane, grid: str, r: int, c: int, value: float, size: float,
              colour: str = "text", on: str = "background", box=FULL,
              decimals: int | None = None, like: str | None = None) -> list[TextItem]:
    """The number ``value`` in cell (r, c) of ``plane`` with ``decimals`` decimals (None:
    as few as it needs), sized as ``like`` (see :class:`TextItem`); an empty list when
    there is no room."""
    return slot_text(kind, cell_slot(plane, r, c, box), size * plane.cell, grid, r, c, value,
                     colour, on, decimals, like)


def slot_text(kind: str, slot: tuple[Point, tuple[Point, ...]] | None, size: float, grid: str,
              r: int, c: int, value: float, colour: str = "text", on: str = "background",
              decimals: int | None = None, like: str | None = None) -> list[TextItem]:
    """:func:`cell_text` in a slot found before (:func:`cell_slot`, None: no room), at
    ``size`` canvas px: for callers that put many numbers in one slot."""
    if slot is None:
        return []
    return [TextItem(kind, (fmt_num(value, decimals),), slot[0], slot[1], size, colour, on,
                     (grid, int(r), int(c)), float(value), like)]


TITLE_SCALE = 1.3  # the title's font, times the labels' and caption's
TITLE_BAND = 2.3  # the title's band height per px of its font: its line and the space below


def band_font(cell: float) -> float:
    """Font size of labels, titles and captions: readable at any cell size, never huge."""
    return float(min(48.0, max(11.0, 0.45 * cell)))


def band_item(kind: str, texts: tuple[str, ...], x0: float, x1: float, y0: float, y1: float,
              size: float) -> TextItem:
    slot = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    return TextItem(kind, texts, ((x0 + x1) / 2, (y0 + y1) / 2), slot, size)


def text_width(texts: tuple[str, ...], size: float) -> float:
    """A generous estimate of the drawn width of the shortest form (layouts cannot measure):
    a wide character (CJK) is one em, any other :data:`CHAR_W`."""
    def width(t: str) -> float:
        return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else CHAR_W for c in t)
    return min(width(t) for t in texts) * size


# Advances of the bundled face (DejaVu Sans Condensed), per px of font size, for the
# characters of a step's arithmetic: a box made to hold such a line need not reserve
# CHAR_W for each (a product sum is 15% narrower). Another face may differ a little: the
# renderer still fits the text to its slot.
ARITH_W = {**dict.fromkeys("0123456789", 0.572), **dict.fromkeys(" .,", 0.286),
           **dict.fromkeys("+\u00d7=\u2212<>", 0.754), "-": 0.325, "\u2026": 0.9, "(": 0.35,
           ")": 0.35}


def arith_width(text: str, size: float) -> float:
    """The drawn width of ``text`` (a step's arithmetic) at ``size`` px, 5% over the
    bundled face's advances (:data:`ARITH_W`; other characters as :func:`text_width`)."""
    get = ARITH_W.get
    return 1.05 * size * sum(1.0 if unicodedata.east_asian_width(c) in "WF" else get(c, CHAR_W)
                             for c in text)


def add_bands(size: tuple[float, float], cell: float, top: list[tuple[str, tuple[str, ...]]],
              bottom: list[tuple[str, tuple[str, ...]]]):
    """Bands of text above and below a picture of ``size``: (kind, texts) each, in order.

    Returns the new canvas size, the shift (dx, dy) of the picture and the text
    items. The canvas widens to the estimated width of each band's first form.
    """
    base = band_font(cell)
    margin = max(4.0, 0.25 * cell)

    def font(kind: str) -> float:
        return base * (TITLE_SCALE if kind == "title" else 1.0)

    def height(kind: str) -> float:
        # The title's band also leaves room below it, setting it apart from the picture.
        return font(kind) * (TITLE_BAND if kind == "title" else 1.8)

    w, h = size
    width = max([w] + [text_width(texts[:1], font(kind)) + 2 * margin
                       for kind, texts in top + bottom])
    dx, dy = (width - w) / 2, sum(height(kind) for kind, _ in top)
    items = []
    y = 0.0
    for kind, texts in top:
        # The title sits in the upper part of its band: the rest is the space below it.
        text_h = font(kind) * 1.8
        items.append(band_item(kind, texts, margin, width - margin, y, y + text_h, font(kind)))
        y += height(kind)
    y = dy + h
    for kind, texts in bottom:
        items.append(band_item(kind, texts, margin, width - margin, y, y + height(kind),
                               font(kind)))
        y += height(kind)
    new = (int(np.ceil(width)), int(np.ceil(y)))
    return new, (dx, dy), items


def first_fill(t: Trace) -> np.ndarray:
    """(OH, OW) step at which each output cell receives its first product; -1 never."""
    first = np.full(t.spec.output_size, np.iinfo(np.int64).max, dtype=np.int64)
    step_of_tap = np.repeat(np.arange(t.n_steps), np.diff(t.step_start))
    np.minimum.at(first, (t.tap_out[:, 0], t.tap_out[:, 1]), step_of_tap)
    first[first == np.iinfo(np.int64).max] = -1
    return first


def moved(plane: Plane, dx: float, dy: float) -> Plane:
    return Plane(plane.kinds, plane.first, (plane.origin[0] + dx, plane.origin[1] + dy),
                 plane.cell, plane.u, plane.v)


class Picture:
    """What every layout offers the renderer: a frame per step, and whether it has text.

    Subclasses are frozen dataclasses with ``trace``, ``numbers`` and ``static`` fields.
    """

    @property
    def n_frames(self) -> int:
        return self.trace.n_steps  # type: ignore[attr-defined]

    @property
    def has_text(self) -> bool:
        return self.numbers or bool(self.static)  # type: ignore[attr-defined]

    def overlay(self, step: int) -> "Overlay":
        """Text and marks of one frame: the concatenation of the layout's
        ``overlay_parts(step)`` (the flat and iso layouts give it: the parts a frame leaves
        as they were are the same tuple from frame to frame, so the scene converts them once)."""
        parts, marks = self.overlay_parts(step)  # type: ignore[attr-defined]
        return Overlay(tuple(chain.from_iterable(parts)), marks)


def _plane_kinds(shape, first, real_cells, pad_kind) -> np.ndarray:
    kinds = np.full(shape, pad_kind, dtype=np.uint8)
    rr = real_cells[:, 0] - first[0]
    cc = real_cells[:, 1] - first[1]
    kinds[rr, cc] = REAL
    return kinds


def _cells_of(shape, origin=(0, 0), spacing=(1, 1)) -> np.ndarray:
    y, x = np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), indexing="ij")
    return np.stack([origin[0] + y.ravel() * spacing[0], origin[1] + x.ravel() * spacing[1]], axis=1)


def _box(points: np.ndarray, lo: tuple[int, int], hi: tuple[int, int]):
    first = (min(lo[0], int(points[:, 0].min())), min(lo[1], int(points[:, 1].min())))
    last = (max(hi[0], int(points[:, 0].max()) + 1), max(hi[1], int(points[:, 1].max()) + 1))
    return first, (last[0] - first[0], last[1] - first[1])


def grid_planes(trace: Trace, cell: float) -> tuple[Plane, Plane]:
    """The grid the kernel covers and the output grid, both at the origin, oblique basis.

    Gather: the lower grid (padded, or zero-stretched for conv_transpose2d) and
    the output. Scatter: the input and the output widened by the cropped cells.
    """
    spec = trace.spec
    kh, kw = spec.kernel_size
    dh, dw = spec.dilation
    if spec.view == "scatter":
        # Lower: the input. Upper: the output, widened to show cropped products.
        inp = _cells_of(spec.input_size)
        low = Plane(_plane_kinds(spec.input_size, (0, 0), inp, PAD), (0, 0), (0.0, 0.0), cell)
        reach = np.concatenate([trace.corner, trace.corner + [dh * (kh - 1), dw * (kw - 1)]])
        first, shape = _box(reach, (0, 0), spec.output_size)
        up_kinds = _plane_kinds(shape, first, _cells_of(spec.output_size), CROP)
    else:
        gm = trace.grid
        real = _cells_of(spec.input_size, gm.origin, gm.spacing)
        first, shape = _box(real, (0, 0), gm.size)
        low = Plane(_plane_kinds(shape, first, real, PAD), first, (0.0, 0.0), cell)
        # Cells outside the swept grid that are not input stay undrawn.
        if first != (0, 0) or shape != gm.size:
            k = low.kinds.copy()
            rr, cc = np.nonzero(k == PAD)
            outside = ((rr + first[0] < 0) | (rr + first[0] >= gm.size[0])
                       | (cc + first[1] < 0) | (cc + first[1] >= gm.size[1]))
            k[rr[outside], cc[outside]] = EMPTY
            low = Plane(k, first, (0.0, 0.0), cell)
        first = (0, 0)
        up_kinds = np.full(spec.output_size, REAL, dtype=np.uint8)
    up = Plane(up_kinds, first, (0.0, 0.0), cell)
    return low, up


def bands_of(trace: Trace, labels: bool, title: str | None, caption, above: tuple[str, ...],
             below: tuple[str, ...]):
    """(kind, texts) of the bands above and below: title, labels of the grids named, caption."""
    names = grid_labels(trace.spec)
    top = [("title", (title,))] if title else []
    bottom = []
    if labels:
        top += [("label", names[g]) for g in above]
        bottom += [("label", names[g]) for g in below]
    if caption == "auto":
        bottom += caption_bands(trace.spec)
    elif caption:
        bottom.append(("caption", (caption,) if isinstance(caption, str) else tuple(caption)))
    return top, bottom


LEGEND_LABEL = ("products per output cell:", "products:")


def with_legend(size: tuple[int, int], cell: float, overlap, planes: dict[str, Plane],
                items: list[TextItem]):
    """A row below the picture: the overlap view's legend (one swatch per count, the
    count written in it) and its caption. Returns the new size, the planes and items
    moved to the new canvas, and the legend as a front-view plane of swatches."""
    font = band_font(cell)
    sw = max(18.0, min(cell, 40.0))
    margin = max(4.0, 0.25 * cell)
    label_w = text_width(LEGEND_LABEL[:1], font) + font
    n = len(overlap.levels)
    row_w = label_w + n * sw
    width = max(float(size[0]), row_w + 2 * margin)
    dx = (width - size[0]) / 2
    planes = {k: moved(p, dx, 0.0) for k, p in planes.items()}
    items = [shifted(i, dx, 0.0) for i in items]
    x0 = (width - row_w) / 2
    y0 = size[1] + margin
    items.append(band_item("label", LEGEND_LABEL, x0, x0 + label_w - font / 2, y0, y0 + sw, font))
    legend = Plane(np.full((1, n), REAL, dtype=np.uint8), (0, 0), (x0 + label_w, y0), sw,
                   (1.0, 0.0), (0.0, 1.0))
    size = (int(np.ceil(width)), int(np.ceil(y0 + sw + margin)))
    size, (bx, by), more = add_bands(size, cell, [], [("caption", overlap.caption)])
    planes = {k: moved(p, bx, by) for k, p in planes.items()}
    legend = moved(legend, bx, by)
    items = [shifted(i, bx, by) for i in items] + more
    return size, planes, items, legend


def legend_texts(legend: Plane, overlap) -> list[TextItem]:
    """The count in each swatch of the legend."""
    from .overlap import on_role  # overlap imports the engine and the theme, not layouts

    like = str(overlap.top)
    out = []
    for j, count in enumerate(overlap.levels):
        out += cell_text("legend", legend, "legend", 0, j, count, VALUE_SIZE, "text",
                         on_role(count, overlap.top), decimals=0, like=like)
    return out


def overlap_numbers(t: Trace, overlap, plane: Plane, items, step: int) -> list[TextItem]:
    """``items`` with the output grid's numbers replaced by the products counted so far."""
    from .overlap import on_role, step_counts

    kept = [i for i in items if not (i.where is not None and i.where[0] == "output")]
    seen: dict[tuple[int, int], int] = {}
    for n in range(step + 1):
        for r, c, count in step_counts(t, n):
            seen[(r, c)] = count
    like = str(overlap.top)
    for (r, c), count in seen.items():
        kept += cell_text("output", plane, "output", r, c, count, VALUE_SIZE, "text",
                          on_role(count, overlap.top), decimals=0, like=like)
    return kept


def shifted(item: TextItem, dx: float, dy: float) -> TextItem:
    """``item`` moved by (dx, dy) px."""
    return replace(item, centre=(item.centre[0] + dx, item.centre[1] + dy),
                   slot=tuple((x + dx, y + dy) for x, y in item.slot))


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def maps_fit(spec, max_in: int, max_out: int, per_group: bool) -> bool:
    """At most ``max_in`` input maps (``per_group``: in a group) and ``max_out`` output maps."""
    maps = spec.in_channels // spec.groups if per_group else spec.in_channels
    return maps <= max_in and spec.out_channels <= max_out


def check_maps(spec, picture: str, max_in: int, max_out: int, per_group: bool,
               fix: str = "") -> None:
    """Refuse, before any work, a layer with more maps than ``picture`` ("the iso
    picture stacks") shows legibly: ``max_in`` input maps (``per_group``: in a group)
    and ``max_out`` output maps. ``fix``: an option that draws it instead, or ''."""
    if maps_fit(spec, max_in, max_out, per_group):
        return
    per = " per group" if per_group else ""
    maps = spec.in_channels // spec.groups if per_group else spec.in_channels
    filters = spec.out_channels
    if spec.pooling:  # each map pooled on its own: output map k from input map k
        top = max_out if per_group else min(max_in, max_out)
        head = f"{picture} up to {top} maps when pooling (got {filters})"
    else:
        head = (f"{picture} up to {max_in} input maps{per} and {max_out} output maps (got "
                f"{_count(maps, 'input map')}{per} and {_count(filters, 'output map')})")
    how = f"use {fix}, write" if fix else "write"
    raise SpecError(f"channels: {head}; {how} the trace with -o NAME.json, or see the "
                    "shapes with convanim info")


def split(p0: Point, p1: Point, poly: tuple[Point, ...] | None
          ) -> list[tuple[Point, Point, bool]]:
    """Segment p0-p1 in pieces, each marked hidden when inside convex ``poly`` (None:
    nothing hides it); the pieces in order from p0 (Cyrus-Beck). The one clipping of
    the pictures: lines under a cover (convanim.scene.outside), the iso channel
    picture's hidden edges and lines."""
    if poly is None:
        return [(p0, p1, False)]
    n = len(poly)
    cx, cy = sum(p[0] for p in poly) / n, sum(p[1] for p in poly) / n
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    t0, t1 = 0.0, 1.0
    for i in range(n):
        (ax, ay), (bx, by) = poly[i], poly[(i + 1) % n]
        nx, ny = by - ay, ax - bx
        if (cx - ax) * nx + (cy - ay) * ny > 0:
            nx, ny = -nx, -ny  # outwards
        num = (p0[0] - ax) * nx + (p0[1] - ay) * ny
        den = dx * nx + dy * ny
        if den == 0:
            if num > 0:
                return [(p0, p1, False)]
            continue
        t = -num / den
        if den < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
    if t1 - t0 <= 1e-9:
        return [(p0, p1, False)]

    def at(t):
        return (p0[0] + dx * t, p0[1] + dy * t)

    out = []
    if t0 > 1e-9:
        out.append((p0, at(t0), False))
    out.append((at(t0), at(t1), True))
    if t1 < 1 - 1e-9:
        out.append((at(t1), p1, False))
    return out

"""Geometry of the isometric picture: where every cell, line and dash goes.

No Pillow here: a layout is plain numbers (canvas pixels at scale 1) and role
names; :mod:`convanim.raster` turns roles into colours and pixels.

Two planes, as in the classic guide: the *lower* plane (what the kernel slides
over) lies at the bottom, the *upper* plane floats above it. A cell (r, c) of a
plane has corners ``origin + c*U + r*V`` ... ``origin + (c+1)*U + (r+1)*V``: columns
run up and to the right, rows down and to the right, an oblique view close to the
reference's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .engine import Trace
from .info import caption_auto, grid_labels
from .text import fmt_num

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
            return int(self.kinds[gr, gc])
        return EMPTY

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


@dataclass(frozen=True)
class FrameShapes:
    """What changes in one frame: shaded cells on each plane, newly filled upper cells, the four lines."""

    lower: tuple[tuple[int, int, int], ...]  # (r, c, kind) shaded on the lower plane
    upper: tuple[tuple[int, int, int], ...]  # (r, c, kind) shaded on the upper plane
    lines: tuple[tuple[Point, Point], ...]
    fresh: tuple[tuple[int, int], ...] = ()  # upper cells filled first at this step


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


@dataclass(frozen=True)
class TextItem:
    """One string to draw: ``texts`` longest form first, the first that fits is drawn.

    ``colour`` and ``on`` are Theme fields: the text colour and the fill beneath
    it (the renderer swaps to ``text_inverse`` where that reads better).
    ``where`` = (grid, row, col) and ``value`` tie a number to the trace.
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

    @property
    def text(self) -> str:
        return self.texts[0]


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
              colour: str = "text", on: str = "background", box=FULL) -> list[TextItem]:
    """The number ``value`` in cell (r, c) of ``plane`` (empty list when no room)."""
    slot = cell_slot(plane, r, c, box)
    if slot is None:
        return []
    return [TextItem(kind, (fmt_num(value),), slot[0], slot[1], size * plane.cell, colour, on,
                     (grid, int(r), int(c)), float(value))]


def band_font(cell: float) -> float:
    """Font size of labels, titles and captions: readable at any cell size, never huge."""
    return float(min(48.0, max(11.0, 0.45 * cell)))


def band_item(kind: str, texts: tuple[str, ...], x0: float, x1: float, y0: float, y1: float,
              size: float) -> TextItem:
    slot = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    return TextItem(kind, texts, ((x0 + x1) / 2, (y0 + y1) / 2), slot, size)


def text_width(texts: tuple[str, ...], size: float) -> float:
    """A generous estimate of the drawn width of the shortest form (layouts cannot measure)."""
    return min(len(t) for t in texts) * CHAR_W * size


def kernel_weights(t: Trace, step: int) -> dict[tuple[int, int], float]:
    """Footprint cell -> the weight it is multiplied by (flipped kernel in gather tconv)."""
    if t.weight is None:
        return {}
    kh, kw = t.spec.kernel_size
    a, b = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
    a, b = a.ravel(), b.ravel()
    if t.spec.view == "gather" and t.grid.flip:
        a, b = kh - 1 - a, kw - 1 - b
    return {(int(r), int(c)): float(t.weight[i, j])
            for (r, c), i, j in zip(t.footprint(step), a, b)}


def running_sums(t: Trace, step: int) -> dict[tuple[int, int], float]:
    """Output cell -> sum of the products it received in steps 0..step (scatter view)."""
    end = int(t.step_start[step + 1])
    sums = np.zeros(t.spec.output_size)
    np.add.at(sums, (t.tap_out[:end, 0], t.tap_out[:end, 1]), t.tap_value[:end])
    got = {(int(r), int(c)) for r, c in t.tap_out[:end]}
    return {cell: float(sums[cell]) for cell in sorted(got)}


def number_items(t: Trace, step: int, inp: Plane, out: Plane) -> tuple[list[TextItem], list[Mark]]:
    """Numbers of one frame on the grid the kernel covers (``inp``) and the output (``out``).

    Gather: every input value (padding zeros light), the weights small in the
    footprint, the outputs of steps 0..step. Scatter: every input value, the
    running sums of the output cells received so far, the weights small in the
    stamped block (also where it is cropped). Max pooling marks the winner.
    """
    items: list[TextItem] = []
    marks: list[Mark] = []
    weights = kernel_weights(t, step) if inp.cell >= WEIGHT_MIN_CELL else {}
    foot = {(int(r), int(c)) for r, c in t.footprint(step)}

    def put(kind, plane, grid, r, c, value, colour, on, weight=None):
        if weight is None:
            items.extend(cell_text(kind, plane, grid, r, c, value, VALUE_SIZE, colour, on))
        else:
            items.extend(cell_text(kind, plane, grid, r, c, value, FOOT_VALUE_SIZE, colour, on,
                                   VALUE_TOP))
            items.extend(cell_text("weight", plane, grid, r, c, weight, WEIGHT_SIZE, "text", on,
                                   WEIGHT_BOX))

    if t.spec.view == "scatter":
        current = (int(t.anchor[step][0]), int(t.anchor[step][1]))
        for r, c in inp.cells(REAL):
            put("input", inp, "input", r, c, t.input[r, c], "text",
                "input_hl" if (r, c) == current else "input")
        sums = running_sums(t, step)
        for (r, c), value in sums.items():
            hit = (r, c) in foot
            put("output", out, "output", r, c, value, "text", "output_hl" if hit else "output",
                weights.get((r, c)) if hit else None)
        for r, c in sorted(foot):
            if out.kind(r, c) == CROP and weights:
                items.extend(cell_text("weight", out, "output", r, c, weights[(r, c)], WEIGHT_SIZE,
                                       "text_light", "crop"))
        return items, marks

    g = t.grid
    for kind in (REAL, PAD):
        for r, c in inp.cells(kind):
            hit = (r, c) in foot
            if kind == REAL:
                iy, ix = (r - g.origin[0]) // g.spacing[0], (c - g.origin[1]) // g.spacing[1]
                put("input", inp, "input", r, c, t.input[iy, ix], "text",
                    "input_hl" if hit else "input", weights.get((r, c)) if hit else None)
            else:
                put("padding", inp, "input", r, c, 0.0, "text_light",
                    "padding_hl" if hit else "background", weights.get((r, c)) if hit else None)
    for n in range(step + 1):
        r, c = int(t.anchor[n][0]), int(t.anchor[n][1])
        put("output", out, "output", r, c, t.value(n), "text",
            "output_hl" if n == step else "output")
    if t.winner is not None and t.winner[step][0] >= 0:
        wr = g.origin[0] + int(t.winner[step][0]) * g.spacing[0]
        wc = g.origin[1] + int(t.winner[step][1]) * g.spacing[1]
        width = min(MARK_W, 0.06 * inp.cell)
        # The stroke's centre line, so the whole stroke lies inside the cell's grid lines.
        slot = cell_slot(inp, wr, wc, clear=0.8 + width / 2, pad=0.0)
        if slot is not None:
            marks.append(Mark(slot[1], "output", width))
    return items, marks


def add_bands(size: tuple[float, float], cell: float, top: list[tuple[str, tuple[str, ...]]],
              bottom: list[tuple[str, tuple[str, ...]]]):
    """Bands of text above and below a picture of ``size``: (kind, texts) each, in order.

    Returns the new canvas size, the shift (dx, dy) of the picture and the text
    items. The canvas widens to the estimated width of each band's first form.
    """
    font = band_font(cell)
    height = font * 1.8
    margin = max(4.0, 0.25 * cell)
    w, h = size
    width = max([w] + [text_width(texts[:1], font) + 2 * margin for _, texts in top + bottom])
    dx, dy = (width - w) / 2, len(top) * height
    items = []
    for n, (kind, texts) in enumerate(top):
        items.append(band_item(kind, texts, margin, width - margin, n * height,
                               (n + 1) * height, font))
    for n, (kind, texts) in enumerate(bottom):
        y = dy + h + n * height
        items.append(band_item(kind, texts, margin, width - margin, y, y + height, font))
    new = (int(np.ceil(width)), int(np.ceil(h + (len(top) + len(bottom)) * height)))
    return new, (dx, dy), items


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


@dataclass(frozen=True, eq=False)
class IsoLayout(Picture):
    """The whole picture of one trace, at scale 1, in canvas pixels."""

    trace: Trace
    lower: Plane
    upper: Plane
    size: tuple[int, int]  # canvas width, height
    numbers: bool = False
    static: tuple[TextItem, ...] = ()  # labels, title, caption: the same in every frame

    def overlay(self, step: int) -> Overlay:
        """Text and marks of one frame: numbers (with ``numbers``) and the static bands."""
        items, marks = number_items(self.trace, step, self.lower, self.upper) if self.numbers \
            else ([], [])
        return Overlay(tuple(items) + self.static, tuple(marks))

    @cached_property
    def _scatter(self) -> bool:
        return self.trace.spec.view == "scatter"

    @cached_property
    def first_fill(self) -> np.ndarray:
        """(OH, OW) step at which each output cell receives its first product; -1 never."""
        t = self.trace
        first = np.full(t.spec.output_size, np.iinfo(np.int64).max, dtype=np.int64)
        step_of_tap = np.repeat(np.arange(t.n_steps), np.diff(t.step_start))
        np.minimum.at(first, (t.tap_out[:, 0], t.tap_out[:, 1]), step_of_tap)
        first[first == np.iinfo(np.int64).max] = -1
        return first

    def frame(self, step: int) -> FrameShapes:
        t = self.trace
        kh, kw = t.spec.kernel_size
        dh, dw = t.spec.dilation
        foot = [(int(r), int(c)) for r, c in t.footprint(step)]
        anchor = (int(t.anchor[step][0]), int(t.anchor[step][1]))
        c0 = (int(t.corner[step][0]), int(t.corner[step][1]))
        c1 = (c0[0] + dh * (kh - 1) + 1, c0[1] + dw * (kw - 1) + 1)
        cell_box = (anchor, (anchor[0] + 1, anchor[1] + 1))
        if self._scatter:
            lower = ((anchor[0], anchor[1], REAL),)
            upper = tuple((r, c, self.upper.kind(r, c)) for r, c in foot)
            rr, cc = np.nonzero(self.first_fill == step)
            fresh = tuple(zip(rr.tolist(), cc.tolist()))
            low_box, up_box = cell_box, (c0, c1)
        else:
            lower = tuple((r, c, self.lower.kind(r, c)) for r, c in foot)
            upper = ((anchor[0], anchor[1], REAL),)
            fresh = ()
            low_box, up_box = (c0, c1), cell_box
        lines = tuple(
            (self.lower.corner(low_box[i][0], low_box[j][1]),
             self.upper.corner(up_box[i][0], up_box[j][1]))
            for i, j in ((0, 0), (0, 1), (1, 0), (1, 1))
        )
        return FrameShapes(lower, upper, lines, fresh)


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


def iso_layout(trace: Trace, cell: float = 32.0, margin: float | None = None, *,
               numbers: bool = False, labels: bool = False, title: str | None = None,
               caption: tuple[str, ...] | str | None = None) -> IsoLayout:
    """Place the two planes of ``trace`` on a canvas; ``cell`` is the cell size in pixels.

    ``numbers`` writes the values in the cells; ``labels`` names the grids in
    bands above (output) and below (input); ``title`` / ``caption`` add a band
    at the very top / bottom. Without them the picture is the plain one.
    """
    low, up, size = _place(*grid_planes(trace, cell), cell, margin)
    top, bottom = bands_of(trace, labels, title, caption, ("output",), ("input",))
    if not (top or bottom):
        return IsoLayout(trace, low, up, size, numbers)
    size, (bx, by), items = add_bands(size, cell, top, bottom)
    return IsoLayout(trace, moved(low, bx, by), moved(up, bx, by), size, numbers, tuple(items))


def _place(low: Plane, up: Plane, cell: float, margin: float | None):
    """Both planes moved onto one canvas, and its size: the upper plane lifted above
    the lower one, centred over it, a small gap apart, ``margin`` px all round."""
    margin = cell * 0.7 if margin is None else margin
    lx0, ly0, lx1, ly1 = low.extent()
    ux0, uy0, ux1, uy1 = up.extent()
    dx = (lx0 + lx1) / 2 - (ux0 + ux1) / 2
    dy = ly0 - cell * 0.35 - uy1
    ux0, uy0, ux1, uy1 = ux0 + dx, uy0 + dy, ux1 + dx, uy1 + dy
    x0, y0 = min(lx0, ux0) - margin, min(ly0, uy0) - margin
    x1, y1 = max(lx1, ux1) + margin, max(ly1, uy1) + margin
    size = (int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))
    return (replace(low, origin=(low.origin[0] - x0, low.origin[1] - y0)),
            replace(up, origin=(up.origin[0] + dx - x0, up.origin[1] + dy - y0)), size)


def bands_of(trace: Trace, labels: bool, title: str | None, caption, above: tuple[str, ...],
             below: tuple[str, ...]):
    """(kind, texts) of the bands above and below: title, labels of the grids named, caption."""
    names = grid_labels(trace.spec)
    top = [("title", (title,))] if title else []
    bottom = []
    if labels:
        top += [("label", names[g]) for g in above]
        bottom += [("label", names[g]) for g in below]
    if caption:
        forms = caption_auto(trace.spec) if caption == "auto" else (
            (caption,) if isinstance(caption, str) else tuple(caption))
        bottom.append(("caption", forms))
    return top, bottom


def canvas_size(spec, cell: float = 32.0, margin: float | None = None) -> tuple[int, int]:
    """(width, height) that :func:`iso_layout` gives ``spec``, from the spec alone.

    O(1): no trace and no per-cell arrays, so a huge request can be refused
    before anything is allocated. Mirrors the plane boxes of :func:`grid_planes`
    (a test checks that the two agree) and shares the placement, :func:`_place`.
    """
    from .engine import grid_map  # the GridMap is a function of the spec only

    def box(lo_first, lo_last, first, last):
        f = (min(lo_first[0], first[0]), min(lo_first[1], first[1]))
        la = (max(lo_last[0], last[0]), max(lo_last[1], last[1]))
        return f, (la[0] - f[0], la[1] - f[1])

    i, s, p = spec.input_size, spec.stride, spec.padding
    span = spec.effective_kernel
    if spec.view == "scatter":
        low_first, low_shape = (0, 0), i
        up_first, up_shape = box((0, 0), spec.output_size,
                                 (-p[0], -p[1]),
                                 tuple((ii - 1) * ss - pp + ee for ii, ss, pp, ee in zip(i, s, p, span)))
    else:
        gm = grid_map(spec)
        last_real = tuple(o + (ii - 1) * sp + 1 for o, ii, sp in zip(gm.origin, i, gm.spacing))
        low_first, low_shape = box((0, 0), gm.size, gm.origin, last_real)
        up_first, up_shape = (0, 0), spec.output_size

    def plane(shape, first):
        # A read-only zero-stride array: the right shape at no memory cost.
        return Plane(np.broadcast_to(np.uint8(EMPTY), tuple(shape)), tuple(first), (0.0, 0.0), cell)

    return _place(plane(low_shape, low_first), plane(up_shape, up_first), cell, margin)[2]

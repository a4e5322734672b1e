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

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .engine import Trace

# Screen vectors of one cell step along a column (U) and a row (V), per pixel of
# cell size; measured off the reference GIFs (about 33 and 28 px at their size).
U = np.array([0.925, -0.46])
V = np.array([0.647, 0.603])

# Cell kinds on a plane.
EMPTY, REAL, PAD, CROP = 0, 1, 2, 3

Point = tuple[float, float]


@dataclass(frozen=True, eq=False)
class Plane:
    """A grid of cells; ``first`` is the logical (row, col) of grid cell (0, 0)."""

    kinds: np.ndarray  # (rows, cols) of EMPTY/REAL/PAD/CROP
    first: tuple[int, int]
    origin: tuple[float, float]  # canvas position of the grid's (0, 0) corner
    cell: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.kinds.shape  # type: ignore[return-value]

    def corner(self, r: float, c: float) -> Point:
        """Canvas point of logical grid corner (r, c)."""
        r, c = r - self.first[0], c - self.first[1]
        x = self.origin[0] + self.cell * (c * U[0] + r * V[0])
        y = self.origin[1] + self.cell * (c * U[1] + r * V[1])
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
    """What changes in one frame: shaded cells on each plane, filled upper cells, and the four lines."""

    lower: tuple[tuple[int, int, int], ...]  # (r, c, kind) shaded on the lower plane
    upper: tuple[tuple[int, int, int], ...]  # (r, c, kind) shaded on the upper plane
    filled: tuple[tuple[int, int], ...] | None  # upper cells drawn as filled; None: all
    lines: tuple[tuple[Point, Point], ...]


@dataclass(frozen=True, eq=False)
class IsoLayout:
    """The whole picture of one trace, at scale 1, in canvas pixels."""

    trace: Trace
    lower: Plane
    upper: Plane
    size: tuple[int, int]  # canvas width, height

    @property
    def n_frames(self) -> int:
        return self.trace.n_steps

    @cached_property
    def _scatter(self) -> bool:
        return self.trace.spec.view == "scatter"

    def frame(self, step: int) -> FrameShapes:
        t = self.trace
        kh, kw = t.spec.kernel_size
        dh, dw = t.spec.dilation
        foot = [(int(r), int(c)) for r, c in t.footprint(step)]
        anchor = (int(t.anchor[step][0]), int(t.anchor[step][1]))
        c0 = (int(t.corner[step][0]), int(t.corner[step][1]))
        c1 = (c0[0] + dh * (kh - 1) + 1, c0[1] + dw * (kw - 1) + 1)
        if self._scatter:
            low_plane, up_plane = self.lower, self.upper
            lower = ((anchor[0], anchor[1], REAL),)
            upper = tuple((r, c, up_plane.kind(r, c)) for r, c in foot)
            done = t.tap_out[: t.step_start[step + 1]]
            filled = tuple(sorted({(int(r), int(c)) for r, c in done}))
            low_box = (anchor, (anchor[0] + 1, anchor[1] + 1))
            up_box = (c0, c1)
        else:
            low_plane, up_plane = self.lower, self.upper
            lower = tuple((r, c, low_plane.kind(r, c)) for r, c in foot)
            upper = ((anchor[0], anchor[1], REAL),)
            filled = None
            low_box = (c0, c1)
            up_box = (anchor, (anchor[0] + 1, anchor[1] + 1))
        lines = tuple(
            (low_plane.corner(low_box[i][0], low_box[j][1]), up_plane.corner(up_box[i][0], up_box[j][1]))
            for i, j in ((0, 0), (0, 1), (1, 0), (1, 1))
        )
        return FrameShapes(lower, upper, filled, lines)


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


def iso_layout(trace: Trace, cell: float = 32.0, margin: float | None = None) -> IsoLayout:
    """Place the two planes of ``trace`` on a canvas; ``cell`` is the cell size in pixels."""
    spec = trace.spec
    margin = cell * 0.7 if margin is None else margin
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

    # Lift the upper plane above the lower one, centred over it, a small gap apart.
    lx0, ly0, lx1, ly1 = low.extent()
    ux0, uy0, ux1, uy1 = up.extent()
    gap = cell * 0.35
    dx = (lx0 + lx1) / 2 - (ux0 + ux1) / 2
    dy = ly0 - gap - uy1
    up = Plane(up.kinds, up.first, (dx, dy), cell)
    ux0, uy0, ux1, uy1 = up.extent()
    x0, y0 = min(lx0, ux0) - margin, min(ly0, uy0) - margin
    x1, y1 = max(lx1, ux1) + margin, max(ly1, uy1) + margin
    low = Plane(low.kinds, low.first, (-x0, -y0), cell)
    up = Plane(up.kinds, up.first, (dx - x0, dy - y0), cell)
    size = (int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))
    return IsoLayout(trace, low, up, size)


def canvas_size(spec, cell: float = 32.0, margin: float | None = None) -> tuple[int, int]:
    """(width, height) that :func:`iso_layout` gives ``spec``, from the spec alone.

    O(1): no trace and no per-cell arrays, so a huge request can be refused
    before anything is allocated. Mirrors the plane boxes and placement of
    :func:`iso_layout` (a test checks that the two agree).
    """
    from .engine import grid_map  # the GridMap is a function of the spec only

    margin = cell * 0.7 if margin is None else margin

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

    def plane(shape, first, origin=(0.0, 0.0)):
        # A read-only zero-stride array: the right shape at no memory cost.
        return Plane(np.broadcast_to(np.uint8(EMPTY), tuple(shape)), tuple(first), origin, cell)

    low, up = plane(low_shape, low_first), plane(up_shape, up_first)
    lx0, ly0, lx1, ly1 = low.extent()
    ux0, uy0, ux1, uy1 = up.extent()
    gap = cell * 0.35
    dx = (lx0 + lx1) / 2 - (ux0 + ux1) / 2
    dy = ly0 - gap - uy1
    ux0, uy0, ux1, uy1 = plane(up_shape, up_first, (dx, dy)).extent()
    x0, y0 = min(lx0, ux0) - margin, min(ly0, uy0) - margin
    x1, y1 = max(lx1, ux1) + margin, max(ly1, uy1) + margin
    return (int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))

"""The isometric picture, the guide's: two planes, one above the other, and the four lines.

The *lower* plane (what the kernel slides over) lies at the bottom, the *upper*
plane floats above it. A cell (r, c) of a plane has corners ``origin + c*U + r*V``
... ``origin + (c+1)*U + (r+1)*V``: columns run up and to the right, rows down
and to the right, an oblique view close to the reference's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

import numpy as np

from .engine import Trace
from .layout import (
    EMPTY, REAL, Mark, Picture, Plane, Point, TextItem, add_bands, bands_of,
    first_fill, grid_planes, legend_texts, moved, overlap_numbers, with_legend,
)
from .overlap import Overlap, overlap_of
from .numbers import Numbers


@dataclass(frozen=True)
class FrameShapes:
    """What changes in one frame: shaded cells on each plane, newly filled upper cells, the four lines."""

    lower: tuple[tuple[int, int, int], ...]  # (r, c, kind) shaded on the lower plane
    upper: tuple[tuple[int, int, int], ...]  # (r, c, kind) shaded on the upper plane
    lines: tuple[tuple[Point, Point], ...]
    fresh: tuple[tuple[int, int], ...] = ()  # upper cells filled first at this step


@dataclass(frozen=True, eq=False)
class IsoLayout(Picture):
    """The whole picture of one trace, at scale 1, in canvas pixels."""

    trace: Trace
    lower: Plane
    upper: Plane
    size: tuple[int, int]  # canvas width, height
    numbers: bool = False
    static: tuple[TextItem, ...] = ()  # labels, title, caption: the same in every frame
    overlap: Overlap | None = None  # the overlap view (convanim.overlap)
    legend: Plane | None = None  # its swatches, one per count

    def overlay_parts(self, step: int) -> tuple[list[tuple[TextItem, ...]], tuple[Mark, ...]]:
        """Text and marks of one frame, the text in parts: numbers (with ``numbers``, see
        :meth:`convanim.numbers.Numbers.parts`) and the static bands."""
        parts, marks = self._numbers.parts(step) if self.numbers else ([], [])
        if self.overlap is not None and self.numbers:
            parts = [tuple(overlap_numbers(self.trace, self.overlap, self.upper,
                                           list(chain.from_iterable(parts)), step))]
        return parts + [self.static], tuple(marks)

    @cached_property
    def _numbers(self) -> Numbers:
        return Numbers(self.trace, self.lower, self.upper)

    @cached_property
    def _scatter(self) -> bool:
        return self.trace.spec.view == "scatter"

    @cached_property
    def first_fill(self) -> np.ndarray:
        """(OH, OW) step at which each output cell receives its first product; -1 never."""
        return first_fill(self.trace)

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
            # Output cells of the block that receive a product (all of them for a
            # convolution; the winner alone in max pooling's backward pass), and the cropped.
            got = receiving(t, step)
            upper = tuple((r, c, k) for r, c in foot
                          for k in (self.upper.kind(r, c),) if k != REAL or (r, c) in got)
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


def receiving(t: Trace, step: int) -> set[tuple[int, int]]:
    """The output cells that step ``step``'s products land in."""
    return set(map(tuple, t.tap_out[t.taps(step)].tolist()))


def iso_layout(trace: Trace, cell: float = 32.0, margin: float | None = None, *,
               numbers: bool = False, labels: bool = False, title: str | None = None,
               caption: tuple[str, ...] | str | None = None,
               overlay: str | None = None) -> IsoLayout:
    """Place the two planes of ``trace`` on a canvas; ``cell`` is the cell size in pixels.

    ``numbers`` writes the values in the cells; ``labels`` names the grids in
    bands above (output) and below (input); ``title`` / ``caption`` add a band
    at the very top / bottom. Without them the picture is the plain one. ``overlay``
    "overlap" shades the output by products per cell, with a legend and its caption.
    """
    low, up, size = _place(*grid_planes(trace, cell), cell, margin)
    top, bottom = bands_of(trace, labels, title, caption, ("output",), ("input",))
    if not (top or bottom or overlay):
        return IsoLayout(trace, low, up, size, numbers)
    items: list[TextItem] = []
    if top or bottom:
        size, (bx, by), items = add_bands(size, cell, top, bottom)
        low, up = moved(low, bx, by), moved(up, bx, by)
    if overlay is None:
        return IsoLayout(trace, low, up, size, numbers, tuple(items))
    ov = overlap_of(trace)
    size, planes, items, legend = with_legend(size, cell, ov, {"low": low, "up": up}, items)
    items += legend_texts(legend, ov)
    return IsoLayout(trace, planes["low"], planes["up"], size, numbers, tuple(items), ov, legend)


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

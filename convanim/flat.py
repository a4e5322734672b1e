"""Geometry of the flat picture: a front view, grids side by side (no Pillow).

Gather view (conv2d, pooling, conv_transpose2d gather): the grid the kernel
covers (padded input, or zero-stretched input) | the kernel | the output; the
footprint is shaded and outlined, the output cells fill as they are computed.
Scatter view: input | kernel | output (widened by the cropped cells); the
stamped block is outlined on the output, cells fill as they receive products.
Pooling has no kernel grid. Every number comes from the trace via
:class:`convanim.numbers.Numbers`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

import numpy as np

from .engine import Trace
from .info import grid_labels
from .layout import (
    CROP, EMPTY, MARK_W, PAD, REAL, VALUE_SIZE, Mark, Picture, Plane, Point, TextItem,
    add_bands, band_font, band_item, cell_slot, cell_text, bands_of, first_fill, grid_planes,
    arith_width, legend_texts, moved, overlap_numbers, shifted, with_legend,
)
from .overlap import Overlap, overlap_of
from .numbers import Numbers, footprint_cells
from .text import (
    ARROW, NumberFormat, max_of, mean_of, product_sum, routed, scatter_products, spread,
)

FRONT_U, FRONT_V = (1.0, 0.0), (0.0, 1.0)
OUTLINE_W = 2.5  # px, the footprint's outline


FlatCell = tuple[str, int, int, str, bool]  # (grid, r, c, fill role, faint edges)
# A filled, outlined box: (closed polygon, fill role, stroke role, stroke width).
Plate = tuple[tuple[Point, ...], str, str, float]


@dataclass(frozen=True)
class FlatShapes:
    """What one frame shows beside the grids: shaded cells and outlines, by Theme role.

    ``cells`` move (the footprint, the output being computed); ``fresh`` are the
    filled output cells that appear at this frame and stay (:meth:`FlatLayout.filled`
    gives all of them up to a frame); ``plates`` are drawn over both (the box the
    step's arithmetic sits on when it follows the output row).
    """

    cells: tuple[FlatCell, ...]
    outlines: tuple[tuple[tuple[Point, ...], str, float], ...]  # (closed polygon, role, width)
    fresh: tuple[FlatCell, ...] = ()
    plates: tuple[Plate, ...] = ()


@dataclass(frozen=True, eq=False)
class FlatLayout(Picture):
    """The whole flat picture of one trace, canvas pixels.

    ``grids`` maps "input" / "kernel" / "output" to planes; ``fills`` gives the
    base fill role of each grid's REAL cells.
    """

    trace: Trace
    grids: dict[str, Plane]
    fills: dict[str, str]
    size: tuple[int, int]
    numbers: bool
    static: tuple[TextItem, ...]
    sum_box: tuple[float, float, float, float] | None  # band of the step's arithmetic
    overlap: Overlap | None = None  # the overlap view (convanim.overlap)
    legend: Plane | None = None  # its swatches, one per count

    @property
    def scatter(self) -> bool:
        return self.trace.spec.view == "scatter"

    @cached_property
    def _numbers(self) -> Numbers:
        return Numbers(self.trace, self.grids["input"], self.grids["output"])

    @cached_property
    def _first_fill(self) -> np.ndarray:
        return first_fill(self.trace)

    def _forward_input(self, step: int) -> tuple[list[TextItem], list[Mark]]:
        return _forward_input_texts(self.trace, self.grids["x"], step)

    def fresh(self, step: int) -> tuple[FlatCell, ...]:
        """Output cells filled from this frame on: in scatter view those that receive
        their first product now, in gather view the output computed one step before."""
        if self.scatter:
            rr, cc = np.nonzero(self._first_fill == step)
            return tuple(("output", int(a), int(b), "output", False) for a, b in zip(rr, cc))
        if step == 0:
            return ()
        a, b = self.trace.anchor[step - 1]
        return (("output", int(a), int(b), "output", False),)

    def filled(self, step: int) -> tuple[FlatCell, ...]:
        """Every filled output cell shown in frame ``step``, in the order they came."""
        return tuple(cell for n in range(step + 1) for cell in self.fresh(n))

    def frame(self, step: int) -> FlatShapes:
        t = self.trace
        inp, out = self.grids["input"], self.grids["output"]
        foot = footprint_cells(t, step)
        cells: list[FlatCell] = []
        if self.scatter:
            r, c = int(t.anchor[step][0]), int(t.anchor[step][1])
            cells.append(("input", r, c, "input_hl", False))
            got = set(map(tuple, t.tap_out[t.taps(step)].tolist()))
            for a, b in foot:
                kind = out.kind(a, b)
                if kind == REAL and (a, b) in got:
                    cells.append(("output", a, b, "output_hl", False))
                elif kind in (CROP, PAD):
                    cells.append(("output", a, b, "crop", True))
            box_plane, box = out, _extent(foot)
        else:
            for a, b in foot:
                kind = inp.kind(a, b)
                if kind != EMPTY:
                    cells.append(("input", a, b, "input_hl" if kind == REAL else "padding_hl", False))
            r, c = int(t.anchor[step][0]), int(t.anchor[step][1])
            cells.append(("output", r, c, "output_hl", False))
            box_plane, box = inp, _extent(foot)
        (r0, c0), (r1, c1) = box
        outline = (box_plane.corner(r0, c0), box_plane.corner(r0, c1), box_plane.corner(r1, c1),
                   box_plane.corner(r1, c0))
        outlines = [(outline, "line", OUTLINE_W)]
        x = self.grids.get("x")
        if x is not None:  # pooling's backward pass: the window on the forward's input too
            for a, b in foot:
                if x.kind(a, b) == REAL:
                    cells.append(("x", a, b, "input_hl", False))
            # The window within x (the part on padding is shown on dL/dx, cropped).
            (h, w), (a0, b0) = x.shape, (max(r0, 0), max(c0, 0))
            a1, b1 = min(r1, h), min(c1, w)
            if a0 < a1 and b0 < b1:
                outlines.append(((x.corner(a0, b0), x.corner(a0, b1), x.corner(a1, b1),
                                  x.corner(a1, b0)), "line", OUTLINE_W))
        # Only a following line has a plate: the band's line is not worked out here.
        plates = (self._sum_at(step)[2],) if self._plate is not None else ()
        return FlatShapes(tuple(cells), tuple(outlines), self.fresh(step), plates)

    @cached_property
    def _sum_font(self) -> float:
        kernel = self.grids.get("kernel")
        return band_font(kernel.cell if kernel else self.grids["input"].cell)

    @cached_property
    def _plate(self) -> tuple[tuple[float, float], str] | None:
        """((width, height), the widest line) of the plate the step's arithmetic sits on
        under the output row being written, next to the value it makes; None when it stays
        in the band below the figure. It follows in the gather view when the outputs fill row by row (the rows
        below the step's are still empty, so the plate hides nothing), not in the overlap
        view (it shades every output), and when the widest step's line fits within the
        output grid and the last row's plate within the canvas: one choice and one width
        for the whole animation, so the line never jumps between the two places. With the
        widest line itself: every step's line is drawn no larger than it fits (another face
        than the bundled one may need a smaller size), so the size does not change either."""
        t = self.trace
        if (not self.numbers or self.sum_box is None or self.scatter or self.overlap is not None
                or t.spec.grad is not None and t.spec.pooling):
            return None
        h, w = t.output.shape
        order = t.anchor[:, 0].astype(np.int64) * w + t.anchor[:, 1]
        if not bool(np.all(np.diff(order) > 0)):
            return None
        out, font = self.grids["output"], self._sum_font
        (fr, fc), (nr, nc) = out.first, out.shape
        width, line = max((arith_width(forms[0], font), forms[0]) for forms in self._step_forms)
        gap, cell = self._plate_gap, out.cell
        # Within the row below when the text allows (its bottom edge clear of the grid line
        # there: a plate edge a fraction of a pixel from a grid line reads as a thick line).
        height = max(cell - 2 * gap, font * 1.5)
        rest = (gap + height) % cell
        if rest < 2.0 or rest > cell - 2.0:
            height += 3.0 - rest if rest < 2.0 else cell - 3.0 - rest
        size = (width + font, height)  # half a font of room at either end
        bottom = out.corner(fr + nr, fc)[1] + gap + size[1]
        fits = size[0] <= out.corner(fr, fc + nc)[0] - out.corner(fr, fc)[0]
        return (size, line) if fits and bottom <= self.size[1] else None

    @property
    def _plate_gap(self) -> float:
        # Clear of the row above by more than its lines' reach (and the painter's pixel
        # of margin): moving the plate then repaints none of that row's cells.
        return max(4.0, 0.2 * self.grids["output"].cell)

    @cached_property
    def _step_forms(self) -> tuple[tuple[str, ...], ...]:
        """Each step's arithmetic (step_text), made once: for its frame, and for the plate,
        which is as wide as the widest."""
        t, fmt = self.trace, self._numbers.fmt
        return tuple(step_text(t, s, fmt) for s in range(t.n_steps))

    @cached_property
    def _sum_memo(self) -> dict:
        return {}

    def _sum_at(self, step: int):
        """(forms, slot box, plate or None) of the step's arithmetic: in the band below the
        figure, or on a plate under the output row (see _plate). Following the row,
        the eye need not travel to the bottom of a large figure, and a frame's changes lie
        together: the GIF stores a frame as the one box around them, for `conv --i 32 --k 3
        --p 1 --style flat` a fifth of the pixels it took with the line in the band."""
        memo = self._sum_memo
        got = memo.get(step)
        if got is not None:
            return got
        t, forms = self.trace, self._step_forms[step]
        if self._plate is None:
            got = (forms, self.sum_box, None)
        else:
            size = self._plate[0]
            out = self.grids["output"]
            (fr, fc), nc = out.first, out.shape[1]
            gx0, gx1 = out.corner(fr, fc)[0], out.corner(fr, fc + nc)[0]
            r, c = int(t.anchor[step][0]), int(t.anchor[step][1])
            (w, h), pad = size, self._sum_font / 4
            cx = (out.corner(r, c)[0] + out.corner(r, c + 1)[0]) / 2
            x0 = min(max(cx - w / 2, gx0), gx1 - w)
            y0 = out.corner(r + 1, c)[1] + self._plate_gap
            x1, y1 = x0 + w, y0 + h
            plate = (((x0, y0), (x1, y0), (x1, y1), (x0, y1)), "output_empty", "line", 1.0)
            got = (forms, (x0 + pad, y0, x1 - pad, y1), plate)
        memo.clear()  # frames come in order: the last step's is all that is asked again
        memo[step] = got
        return got

    @cached_property
    def _kernel_items(self) -> tuple[TextItem, ...]:
        """The kernel's weights, the same in every frame."""
        t, kernel = self.trace, self.grids.get("kernel")
        if kernel is None or t.weight is None:
            return ()
        w = t.weight[::-1, ::-1] if (not self.scatter and t.grid.flip) else t.weight
        return tuple(item for r, c in kernel.cells(REAL)
                     for item in self._numbers.text("kernel", kernel, "kernel", r, c,
                                                    float(w[r, c]), VALUE_SIZE, "text",
                                                    "input_hl"))

    def overlay_parts(self, step: int) -> tuple[list[tuple[TextItem, ...]], tuple[Mark, ...]]:
        """Numbers (values, weights, outputs so far, the step's arithmetic) and static text,
        in parts: what a frame leaves as it was (most numbers of the grid, the outputs so
        far, the kernel, the labels) is the same tuple in every frame."""
        if not self.numbers:
            return [self.static], ()
        t = self.trace
        parts, marks = self._numbers.parts(step)
        parts.append(self._kernel_items)
        if self.overlap is not None:
            parts = [tuple(overlap_numbers(t, self.overlap, self.grids["output"],
                                           list(chain.from_iterable(parts)), step))]
        if "x" in self.grids:
            more, mark = self._forward_input(step)
            parts.append(tuple(more))
            marks = list(marks) + mark
        if self.sum_box is not None:
            forms, (x0, y0, x1, y1), plate = self._sum_at(step)
            item = band_item("sum", forms, x0, x1, y0, y1, self._sum_font)
            if plate is not None:
                item = replace(item, on=plate[1], like=self._plate[1])
            parts.append((item,))
        parts.append(self.static)
        return parts, tuple(marks)


def _forward_input_texts(t: Trace, plane: Plane, step: int) -> tuple[list[TextItem], list[Mark]]:
    """The forward's input x of a pooling's backward pass: its values (the window's
    highlighted) and, for max pooling, the winner outlined."""
    x = dict(t.arrays)["input"]
    decimals = NumberFormat.decimals(x)
    like = NumberFormat(decimals).widest("input", x)
    window = {(int(r), int(c)) for r, c in t.footprint(step)}
    items: list[TextItem] = []
    for (r, c), v in np.ndenumerate(x):
        on = "input_hl" if (r, c) in window else "input"
        items += cell_text("input", plane, "x", r, c, float(v), VALUE_SIZE, "text", on,
                           decimals=decimals, like=like)
    marks = []
    if t.winner is not None and t.winner[step][0] >= 0:
        wr, wc = int(t.winner[step][0]), int(t.winner[step][1])
        width = min(MARK_W, 0.06 * plane.cell)
        slot = cell_slot(plane, wr, wc, clear=0.8 + width / 2, pad=0.0)
        if slot is not None:
            marks.append(Mark(slot[1], "output", width))
    return items, marks


def _extent(cells: list[tuple[int, int]]) -> tuple[tuple[int, int], tuple[int, int]]:
    rows, cols = [r for r, _ in cells], [c for _, c in cells]  # a few: no array
    return (int(min(rows)), int(min(cols))), (int(max(rows)) + 1, int(max(cols)) + 1)


def step_text(t: Trace, step: int, fmt: NumberFormat | None = None) -> tuple[str, ...]:
    """The arithmetic of one step from its taps: products and sum, max, mean or scatter,
    its numbers in ``fmt`` (default: the figure's, :meth:`NumberFormat.of`)."""
    fmt = fmt or NumberFormat.of(t)
    sl = t.taps(step)
    ins = t.tap_in[sl]
    xs = _at(t.input, ins)
    if t.spec.grad is not None and t.spec.pooling:
        g = float(t.input[int(t.anchor[step][0]), int(t.anchor[step][1])])
        if t.winner is not None:
            got = t.winner[step]
            return routed(g, None if got[0] < 0 else (int(got[0]), int(got[1])), fmt)
        kh, kw = t.spec.kernel_size
        return spread(g, kh * kw, sl.stop - sl.start, fmt)
    if t.spec.view == "scatter":
        ws = _at(t.weight, t.tap_w[sl])
        r, c = int(t.anchor[step][0]), int(t.anchor[step][1])
        return scatter_products(float(t.input[r, c]), ws, [float(v) for v in t.tap_value[sl]], fmt)
    if t.spec.op == "max_pool2d":
        return max_of(xs, t.value(step), fmt)
    if t.spec.op == "avg_pool2d":
        kh, kw = t.spec.kernel_size
        return mean_of(xs, kh * kw, t.value(step), fmt)
    ws = _at(t.weight, t.tap_w[sl])
    return product_sum(xs, ws, t.value(step), fmt)


def _at(a: np.ndarray, cells: np.ndarray) -> list[float]:
    """``a`` at (row, column) ``cells``, as floats: one indexing, not one per cell."""
    return list(map(float, a[cells[:, 0], cells[:, 1]].tolist()))


def _front(plane: Plane) -> Plane:
    return Plane(plane.kinds, plane.first, (0.0, 0.0), plane.cell, FRONT_U, FRONT_V)


def flat_layout(trace: Trace, cell: float = 32.0, *, numbers: bool = True, labels: bool = True,
                title: str | None = None, caption: tuple[str, ...] | str | None = None,
                overlay: str | None = None) -> FlatLayout:
    """Grids side by side, front view; ``cell`` is the cell size in pixels; ``overlay``
    "overlap" shades the output by products per cell, with a legend and its caption."""
    spec = trace.spec
    low, up = grid_planes(trace, cell)
    grids: dict[str, Plane] = {"input": _front(low)}
    fills = {"input": "input", "output": "output_empty"}
    if spec.grad is not None and spec.pooling:
        # The forward's input, beside dL/dy: where each window is, and which cell won.
        shape = spec.grad.forward.input_size
        grids["x"] = Plane(np.full(shape, REAL, dtype=np.uint8), (0, 0), (0.0, 0.0), cell,
                           FRONT_U, FRONT_V)
        fills["x"] = "input"
    if not spec.pooling:
        kinds = np.full(spec.kernel_size, REAL, dtype=np.uint8)
        grids["kernel"] = Plane(kinds, (0, 0), (0.0, 0.0), cell, FRONT_U, FRONT_V)
        fills["kernel"] = "input_hl"
    grids["output"] = _front(up)

    margin = cell * 0.7
    gap = max(cell * 1.2, 16.0)
    font = band_font(cell)
    label_h = font * 1.8 if labels else 0.0
    heights = {k: p.shape[0] * cell for k, p in grids.items()}
    tallest = max(heights.values())
    x, top = margin, margin + label_h
    placed: dict[str, Plane] = {}
    static: list[TextItem] = []
    names = grid_labels(spec)
    order = list(grids)
    for n, key in enumerate(order):
        p = grids[key]
        y = top + (tallest - heights[key]) / 2
        placed[key] = moved(p, x - p.corner(p.first[0], p.first[1])[0],
                            y - p.corner(p.first[0], p.first[1])[1])
        width = p.shape[1] * cell
        if labels:
            # A label may reach halfway into the gaps beside its grid.
            static.append(band_item("label", names[key], x - gap / 2 + 2, x + width + gap / 2 - 2,
                                    top - label_h, top, font))
        if n + 1 < len(order):
            symbol = "*" if order[n + 1] == "kernel" else (ARROW if spec.pooling or
                                                           spec.view == "scatter" else "=")
            sym = max(font * 1.3, 0.5 * cell)
            static.append(band_item("symbol", (symbol,), x + width + 2, x + width + gap - 2,
                                    top + tallest / 2 - sym, top + tallest / 2 + sym, sym))
        x += width + gap
    width = x - gap + margin
    height = top + tallest + margin
    sum_box = None
    if numbers:
        sum_box = (margin / 2, top + tallest + cell * 0.3, width - margin / 2,
                   top + tallest + cell * 0.3 + font * 1.8)
        height = sum_box[3] + margin / 2
    size = (int(np.ceil(width)), int(np.ceil(height)))
    t_top, t_bottom = bands_of(trace, False, title, caption, (), ())
    if t_top or t_bottom:
        size, (bx, by), items = add_bands(size, cell, t_top, t_bottom)
        placed = {k: moved(p, bx, by) for k, p in placed.items()}
        static = [shifted(i, bx, by) for i in static] + items
        if sum_box is not None:
            sum_box = (sum_box[0] + bx, sum_box[1] + by, sum_box[2] + bx, sum_box[3] + by)
    if overlay is None:
        return FlatLayout(trace, placed, fills, size, numbers, tuple(static), sum_box)
    ov = overlap_of(trace)
    before = placed["output"].origin
    size, placed, static, legend = with_legend(size, cell, ov, placed, list(static))
    bx, by = placed["output"].origin[0] - before[0], placed["output"].origin[1] - before[1]
    if sum_box is not None:
        sum_box = (sum_box[0] + bx, sum_box[1] + by, sum_box[2] + bx, sum_box[3] + by)
    static += legend_texts(legend, ov)
    return FlatLayout(trace, placed, fills, size, numbers, tuple(static), sum_box, ov, legend)


"""Geometry of the flat picture of a convolution with channels (gather view, no Pillow).

One row per input map of the current step's group: the padded input map, the
kernel slice ``w[co, ci - first ci of the group]`` and that map's partial sum
written out; then the line ``Σ = 4 + 7 + 2 + b(1) = 14`` (the partial sums plus the
bias: the output value); then the output maps side by side, their cells filling
filter by filter. The rows' grids are the same planes from step to step (every
map of a layer has one shape); what a row shows (which map, which kernel slice)
is text of the frame. Every number comes from the :class:`ChannelTrace`.

conv_transpose2d is drawn in its gather form, as :mod:`convanim.flat` draws one
channel: each row's grid is the stretched input map, its kernel the slice
``w[ci, co - first co of the group]`` (weight (C_in, C_out/G, KH, KW)) flipped.
Pooling pools each map alone: one row (the map being pooled, window and its max or
mean, the winner of max pooling outlined), no kernel and no Σ line.

A :class:`ChannelFlatLayout` is a :class:`convanim.flat.FlatLayout` (the same
grids, fills, frame and overlay protocol), so :func:`convanim.scene.flat_scene`
draws it and every backend with it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from itertools import chain

import numpy as np

from .channels import ChannelTrace
from .engine import grid_map
from .flat import OUTLINE_W, FlatCell, FlatLayout, FlatShapes, _extent, _front
from .info import grid_labels
from .layout import (
    MARK_W, PAD, REAL, VALUE_SIZE, Mark, Overlay, Plane, TextItem, add_bands, arith_width,
    band_font, band_item, bands_of, cell_slot, cell_text, check_maps, grid_planes, maps_fit,
    shifted,
)
from .numbers import widest_texts
from .text import (
    ARROW, SIGMA, TIMES, NumberFormat, elided, fmt_num, max_of, mean_of, product_sum,
)

# Legible limits, measured: 8 rows of 7x7 maps (padding 1) and 8 output maps of 7x7 side
# by side at the default cell (32 px) make a canvas of 2,106x3,005 px; 10x10 maps
# 2,874x3,869, next to the 4,000 px canvas limit. More maps than these no longer fit a
# screen at a readable size (the canvas limit still refuses large maps).
MAX_MAPS = 8  # input maps per group (rows)
MAX_FILTERS = 8  # output maps (side by side)
SUM_CELLS = 10  # width of a row's partial-sum text, in cells


def check_channel_flat(spec) -> None:
    """Refuse, before any work, a layer with more maps than the picture shows legibly."""
    check_maps(spec, "the flat picture draws", MAX_MAPS, MAX_FILTERS, per_group=True)


def flat_draws(spec) -> bool:
    """Does the flat picture draw ``spec``'s maps?"""
    return maps_fit(spec, MAX_MAPS, MAX_FILTERS, per_group=True)


def canvas_size(spec, cell: float = 32.0, labels: bool = True,
                numbers: bool = True) -> tuple[int, int]:
    """(width, height) that :func:`channel_flat_layout` gives ``spec`` without title or
    caption, from the spec alone: checked before the trace is made (a test checks that
    the two agree)."""
    gh, gw = _lower_shape(spec)
    kh, kw = spec.kernel_size
    margin, gap, font = cell * 0.7, max(cell * 1.2, 16.0), band_font(cell)
    label_h = font * 1.8 if labels else 0.0
    # Without numbers no sums are written: no "=" (or arrow), no room for them, no Σ line.
    sum_w = (SUM_CELLS * cell + gap) if numbers else 0.0
    if spec.pooling:  # no kernel grid: input map -> its max or mean
        row_h = gh * cell
        rows_w = margin + gw * cell + sum_w + margin
    else:
        row_h = max(gh, kh) * cell
        rows_w = margin + (gw + kw) * cell + gap + sum_w + margin
    oh, ow = spec.output_size
    outs_w = margin + spec.out_channels * (ow * cell + gap) - gap + margin
    maps = spec.in_channels // spec.groups
    total_h = 0.0 if spec.pooling or not numbers else font * 1.8 + gap / 2
    height = (margin + maps * (label_h + row_h + gap / 2) + total_h + label_h
              + oh * cell + margin)
    return int(np.ceil(max(rows_w, outs_w))), int(np.ceil(height))


def _lower_shape(spec) -> tuple[int, int]:
    """Rows and columns of the drawn lower grid (:func:`convanim.layout.grid_planes`, gather
    view): the swept grid, widened to the input cells it crops (a transposed convolution's
    padding beyond d(k-1))."""
    g = grid_map(spec)
    out = []
    for a in range(2):
        first = min(0, g.origin[a])
        last = max(g.size[a], g.origin[a] + (spec.input_size[a] - 1) * g.spacing[a] + 1)
        out.append(last - first)
    return out[0], out[1]


def partial_sums(t: ChannelTrace) -> np.ndarray:
    """(steps, maps per group): each step's sum of the products of each map of its group
    (pooling: the step's max or mean, of its one map)."""
    if t.spec.pooling:
        return t.output[tuple(t.anchor.T)][:, None]
    maps = t.spec.in_channels // t.spec.groups
    step_of_tap = np.repeat(np.arange(t.n_steps), np.diff(t.step_start))
    j = t.tap_in[:, 0] - (t.anchor[step_of_tap, 0] // (t.spec.out_channels // t.spec.groups)) * maps
    out = np.zeros((t.n_steps, maps))
    np.add.at(out, (step_of_tap, j), t.tap_value)
    return out


def sum_format(t: ChannelTrace, fmt: NumberFormat, partials: np.ndarray) -> NumberFormat:
    """The rows' format: the figure's, the partial sums with the decimals they need."""
    if t.spec.pooling:
        return fmt
    return NumberFormat(fmt.input, fmt.weight, NumberFormat.decimals(partials))


def total_forms(t: ChannelTrace, step: int, part, fs: NumberFormat,
                fmt: NumberFormat) -> tuple[str, ...]:
    """The Σ line of a step, longest form first: 'Σ = 4 + 7 + 2 + b(1) = 14'."""
    co = int(t.anchor[step][0])
    terms = [fmt_num(v, fs.output) for v in part]
    if t.bias is not None:
        terms.append(f"b({fmt_num(float(t.bias[co]), NumberFormat.decimals(t.bias))})")
    return elided(terms, " + ", f"{SIGMA} = ", f" = {fmt_num(t.value(step), fmt.output)}")


def step_lines(t: ChannelTrace) -> list[str]:
    """Each step's arithmetic as one line, as the picture writes it (longest form): the Σ
    line, or for pooling the map's max or mean (the page's step line)."""
    fmt = NumberFormat.of(t)
    part = partial_sums(t)
    fs = sum_format(t, fmt, part)
    if not t.spec.pooling:
        return [total_forms(t, n, part[n], fs, fmt)[0] for n in range(t.n_steps)]
    kh, kw = t.spec.kernel_size
    lines = []
    for n in range(t.n_steps):
        xs = [float(t.input[tuple(i)]) for i in t.tap_in[t.taps(n)]]
        forms = (max_of(xs, t.value(n), fs) if t.spec.op == "max_pool2d"
                 else mean_of(xs, kh * kw, t.value(n), fs))
        lines.append(forms[0])
    return lines


def _row(j: int, what: str) -> str:
    return f"{what}{j}"


@dataclass(frozen=True, eq=False)
class ChannelFlatLayout(FlatLayout):
    """The flat picture of a :class:`ChannelTrace`: grids "in{j}", "k{j}" (row j) and
    "out{co}"; ``sums`` the slot of each row's partial sum, ``total`` the Σ line's,
    ``heads`` the label slots (row j's input and kernel) and ``labels`` whether to
    write them. Without ``numbers`` the sums' slots are empty (zero wide) and there is no
    Σ line: nothing is written there."""

    sums: tuple[tuple[float, float, float, float], ...] = ()
    total: tuple[float, float, float, float] | None = None
    # (input label, kernel label) slots of each row; no kernel label when pooling
    heads: tuple[tuple[tuple[float, float, float, float],
                       tuple[float, float, float, float] | None], ...] = ()
    labels: bool = True
    font: float = 14.0

    @property
    def scatter(self) -> bool:
        return False

    @property
    def has_text(self) -> bool:
        return self.numbers or self.labels or bool(self.static)

    @cached_property
    def _fmt(self) -> NumberFormat:
        return NumberFormat.of(self.trace)

    @cached_property
    def _like(self) -> dict[str, str]:
        return widest_texts(self.trace, self._fmt)

    @cached_property
    def partials(self) -> np.ndarray:
        return partial_sums(self.trace)

    @cached_property
    def _made(self) -> dict:
        """Text items made so far, by their arguments: a cell's text recurs from frame to frame."""
        return {}

    @cached_property
    def _sum_fmt(self) -> NumberFormat:
        return sum_format(self.trace, self._fmt, self.partials)

    def kernel_weight(self, step: int, j: int, r: int, c: int) -> tuple[int, int, int, int]:
        """The weight index drawn at cell (r, c) of row j's kernel slice in frame ``step``:
        conv2d w[co, j, r, c]; conv_transpose2d (weight (C_in, C_out/G, KH, KW)) the slice
        w[ci, co - first co of the group] flipped, as its gather form sweeps it."""
        t = self.trace
        co = int(t.anchor[step][0])
        if not t.spec.transposed:
            return co, j, r, c
        per_out = t.spec.out_channels // t.spec.groups
        kh, kw = t.spec.kernel_size
        ci = t.step_maps(step)[j]
        return ci, co % per_out, kh - 1 - r, kw - 1 - c

    def fresh(self, step: int) -> tuple[FlatCell, ...]:
        """The output cell computed one step before, filled from this frame on."""
        if step == 0:
            return ()
        co, r, c = (int(v) for v in self.trace.anchor[step - 1])
        return ((f"out{co}", r, c, "output", False),)

    def frame(self, step: int) -> FlatShapes:
        t = self.trace
        foot = [(int(r), int(c)) for r, c in t.footprint(step)]
        cells: list[FlatCell] = []
        outlines = []
        (r0, c0), (r1, c1) = _extent(foot)
        for j in range(len(self.sums)):
            p = self.grids[_row(j, "in")]
            for a, b in foot:
                kind = p.kind(a, b)
                if kind in (REAL, PAD):
                    cells.append((_row(j, "in"), a, b, "input_hl" if kind == REAL else "padding_hl",
                                  False))
            outlines.append(((p.corner(r0, c0), p.corner(r0, c1), p.corner(r1, c1),
                              p.corner(r1, c0)), "line", OUTLINE_W))
        co, r, c = (int(v) for v in t.anchor[step])
        cells.append((f"out{co}", r, c, "output_hl", False))
        return FlatShapes(tuple(cells), tuple(outlines), self.fresh(step))

    # Text -------------------------------------------------------------------------

    def _num(self, kind: str, grid: str, r: int, c: int, value: float, colour: str,
             on: str) -> tuple[TextItem, ...]:
        key = (kind, grid, r, c, value, colour, on)
        made = self._made
        got = made.get(key)
        if got is None:
            got = made[key] = tuple(cell_text(kind, self.grids[grid], grid, r, c, value,
                                              VALUE_SIZE, colour, on,
                                              decimals=self._fmt.of_kind(kind),
                                              like=self._like.get(kind)))
        return got

    def row_labels(self, step: int) -> tuple[TextItem, ...]:
        """Above row j: which input map it is and which kernel slice meets it (made once
        per filter: the same objects in each of its frames)."""
        t = self.trace
        co = int(t.anchor[step][0])
        got = self._made.get(("row labels", co))
        if got is None:
            got = self._made[("row labels", co)] = tuple(self._row_labels(co, t.step_maps(step)))
        return got

    def _row_labels(self, co: int, maps) -> list[TextItem]:
        t = self.trace
        h, w = t.spec.input_size
        kh, kw = t.spec.kernel_size
        p = t.spec.padding
        pad = f", padding {p[0]}" if p[0] == p[1] and p != (0, 0) else (
            f", padding {p[0]},{p[1]}" if p != (0, 0) else "")
        items = []
        transposed = t.spec.transposed
        if transposed:  # the stretched input's own words, with the map's name
            x_label = grid_labels(t.spec)["input"]
            x_name = t.spec.names.input_label
        for j, ci in enumerate(maps):
            (a, b) = self.heads[j]
            if transposed:
                forms = tuple(dict.fromkeys(f"x[{ci}]" + f[len(x_name):] for f in x_label))
                items.append(band_item("label", forms + (f"x[{ci}]",), *_xy(a), self.font))
            else:
                items.append(band_item("label", (f"x[{ci}] {h}{TIMES}{w}{pad}", f"x[{ci}]"),
                                       *_xy(a), self.font))
            if b is None:  # pooling: no kernel slice
                continue
            if transposed:
                lead = f"w[{ci},{co % (t.spec.out_channels // t.spec.groups)}]"
                items.append(band_item("label", (f"{lead} {kh}{TIMES}{kw}, flipped",
                                                 f"{lead} flipped", lead), *_xy(b), self.font))
            else:
                items.append(band_item("label", (f"w[{co},{j}] {kh}{TIMES}{kw}", f"w[{co},{j}]"),
                                       *_xy(b), self.font))
        return items

    def _row_forms(self, step: int) -> list[tuple[str, ...]]:
        """The forms of each row's products and partial sum in frame ``step``."""
        t = self.trace
        maps = list(t.step_maps(step))
        sl = t.taps(step)
        ins, ws = t.tap_in[sl], t.tap_w[sl]
        part = self.partials[step]
        fs = self._sum_fmt
        out = []
        for j, ci in enumerate(maps):
            on = ins[:, 0] == ci
            xs = [float(t.input[a, b, c]) for a, b, c in ins[on]]
            if t.spec.op == "max_pool2d":
                out.append(max_of(xs, float(part[j]), fs))
            elif t.spec.op == "avg_pool2d":
                kh, kw = t.spec.kernel_size
                out.append(mean_of(xs, kh * kw, float(part[j]), fs))
            else:
                wv = [float(t.weight[tuple(i)]) for i in ws[on]]
                out.append(product_sum(xs, wv, float(part[j]), fs))
        return out

    @cached_property
    def _step_rows(self) -> tuple[list[tuple[str, ...]], ...]:
        """Each frame's row forms (_row_forms), made once: for its frame, and for the widest."""
        return tuple(self._row_forms(step) for step in range(self.trace.n_steps))

    @cached_property
    def _widest_line(self) -> tuple[str, ...] | None:
        """The forms of the widest row line of all frames (by the bundled face's advances):
        every row's line is drawn no larger than that one fits, so the lines keep one size
        as the window moves (a window over the padding has fewer products, and its line
        had been drawn larger than the next one's) and the rows of a frame share it."""
        lines = [forms for rows in self._step_rows for forms in rows]
        return max(lines, key=lambda forms: arith_width(forms[0], self.font), default=None)

    def sum_texts(self, step: int) -> list[TextItem]:
        """Each row's products and partial sum, then the Σ line: partial sums plus bias."""
        t = self.trace
        co = int(t.anchor[step][0])
        maps = list(t.step_maps(step))
        part = self.partials[step]
        fs = self._sum_fmt
        widest = self._widest_line
        items = []
        for j, (ci, forms) in enumerate(zip(maps, self._step_rows[step])):
            x0, y0, x1, y1 = self.sums[j]
            items.append(replace(band_item("sum", forms, x0, x1, y0, y1, self.font),
                                 where=(f"sum{j}", co, ci), value=float(part[j]),
                                 like=widest))
        if self.total is None:  # pooling: each map alone, nothing to add up
            return items
        x0, y0, x1, y1 = self.total
        forms = total_forms(t, step, part, fs, self._fmt)
        items.append(replace(band_item("sum", forms, x0, x1, y0, y1, self.font),
                             where=("total", co, step), value=t.value(step)))
        return items

    def numbers_of(self, step: int) -> list[TextItem]:
        """Input values of the group's maps (the footprint's highlighted), the kernel
        slices' weights, the outputs computed so far and the current one.

        Each row's numbers are made once (plain, and highlighted) and each frame only
        picks the footprint's highlighted ones, as :class:`convanim.numbers.Numbers`
        does: a frame lists every number of the picture, nearly all of them the last
        frame's objects."""
        t = self.trace
        co = int(t.anchor[step][0])
        items: list[TextItem] = []
        for j, ci in enumerate(t.step_maps(step)):
            plain, lit, index = self._row_numbers(j, int(ci))
            parts = list(plain)
            for r, c in t.footprint(step):
                n = index.get((int(r), int(c)))
                if n is not None:
                    parts[n] = lit[n]
            items += chain.from_iterable(parts)
            items += self._kernel_numbers(step, co, j)
        outs = self._outs
        while len(outs) < step:  # the outputs computed so far, each made once
            n = len(outs)
            o, r, c = (int(v) for v in t.anchor[n])
            outs.append(self._num("output", f"out{o}", r, c, t.value(n), "text", "output"))
        items += chain.from_iterable(outs[:step])
        o, r, c = (int(v) for v in t.anchor[step])
        items += self._num("output", f"out{o}", r, c, t.value(step), "text", "output_hl")
        return items

    @cached_property
    def _outs(self) -> list:
        """The plain text of each step's output, as far as frames have asked."""
        return []

    def _row_numbers(self, j: int, ci: int):
        """Row j showing input map ``ci``: each cell's text plain and highlighted (real
        cells row-major, then the padding's), and each cell's place in that order."""
        key = ("row", j, ci)
        got = self._made.get(key)
        if got is None:
            t, g = self.trace, self.trace.grid
            name = _row(j, "in")
            p = self.grids[name]
            cells = [("input", r, c, float(t.input[ci, (r - g.origin[0]) // g.spacing[0],
                                                   (c - g.origin[1]) // g.spacing[1]]),
                      "text", "input", "input_hl") for r, c in p.cells(REAL)]
            cells += [("padding", r, c, 0.0, "text_light", "background", "padding_hl")
                      for r, c in p.cells(PAD)]
            plain = [self._num(k, name, r, c, v, colour, off) for k, r, c, v, colour, off, _ in cells]
            lit = [self._num(k, name, r, c, v, colour, on) for k, r, c, v, colour, _, on in cells]
            index = {(r, c): n for n, (_, r, c, *_) in enumerate(cells)}
            got = self._made[key] = (plain, lit, index)
        return got

    def _kernel_numbers(self, step: int, co: int, j: int) -> tuple[TextItem, ...]:
        """Row j's kernel slice's weights: the same for every frame of filter ``co``."""
        k = _row(j, "k")
        if k not in self.grids:  # pooling
            return ()
        key = ("kernel", co, j)
        got = self._made.get(key)
        if got is None:
            t = self.trace
            got = self._made[key] = tuple(chain.from_iterable(
                self._num("kernel", k, r, c, float(t.weight[self.kernel_weight(step, j, r, c)]),
                          "text", "input_hl") for r, c in self.grids[k].cells(REAL)))
        return got

    def winner_marks(self, step: int) -> list[Mark]:
        """Max pooling: the input cell that won, outlined on its row (as the one-channel
        picture marks it)."""
        t = self.trace
        if t.winner is None or t.winner[step][0] < 0:
            return []
        ci, wr, wc = (int(v) for v in t.winner[step])
        j = ci - t.step_maps(step)[0]
        g = t.grid
        plane = self.grids[_row(j, "in")]
        width = min(MARK_W, 0.06 * plane.cell)
        slot = cell_slot(plane, g.origin[0] + wr * g.spacing[0], g.origin[1] + wc * g.spacing[1],
                         clear=0.8 + width / 2, pad=0.0)
        return [Mark(slot[1], "output", width)] if slot is not None else []

    def overlay_parts(self, step: int) -> tuple[list[tuple[TextItem, ...]], tuple[Mark, ...]]:
        """:meth:`overlay` as one part: a channel frame's texts are not split."""
        o = self.overlay(step)
        return [o.texts], o.marks

    def overlay(self, step: int) -> Overlay:
        items: list[TextItem] = []
        if self.labels:
            items += self.row_labels(step)
        marks: list[Mark] = []
        if self.numbers:
            items += self.numbers_of(step) + self.sum_texts(step)
            marks = self.winner_marks(step)
        return Overlay(tuple(items) + self.static, tuple(marks))


def _xy(box):
    x0, y0, x1, y1 = box
    return x0, x1, y0, y1


def channel_flat_layout(trace: ChannelTrace, cell: float = 32.0, *, numbers: bool = True,
                        labels: bool = True, title: str | None = None,
                        caption: tuple[str, ...] | str | None = None) -> ChannelFlatLayout:
    """Rows of (input map, kernel slice, partial sum), the Σ line, the output maps."""
    spec = trace.spec
    check_channel_flat(spec)
    low, up = grid_planes(trace, cell)
    low = _front(low)
    kernel = Plane(np.full(spec.kernel_size, REAL, dtype=np.uint8), (0, 0), (0.0, 0.0), cell,
                   (1.0, 0.0), (0.0, 1.0))
    up = _front(up)
    maps, filters = spec.in_channels // spec.groups, spec.out_channels
    margin = cell * 0.7
    gap = max(cell * 1.2, 16.0)
    font = band_font(cell)
    label_h = font * 1.8 if labels else 0.0
    in_h, in_w = low.shape[0] * cell, low.shape[1] * cell
    pooling = spec.pooling
    k_h, k_w = kernel.shape[0] * cell, kernel.shape[1] * cell
    row_h = in_h if pooling else max(in_h, k_h)
    sum_w = SUM_CELLS * cell if numbers else 0.0
    sym = max(font * 1.3, 0.5 * cell)

    def at(p: Plane, x: float, y: float) -> Plane:
        c0 = p.corner(p.first[0], p.first[1])
        return Plane(p.kinds, p.first, (p.origin[0] + x - c0[0], p.origin[1] + y - c0[1]),
                     p.cell, p.u, p.v)

    grids: dict[str, Plane] = {}
    fills: dict[str, str] = {}
    static: list[TextItem] = []
    sums, heads = [], []
    y = margin
    for j in range(maps):
        top = y + label_h
        x = margin
        grids[_row(j, "in")] = at(low, x, top + (row_h - in_h) / 2)
        fills[_row(j, "in")] = "input"
        head_in = (x - gap / 2 + 2, y, x + in_w + gap / 2 - 2, top)
        if numbers or not pooling:  # pooling's arrow points at the max or mean written
            static.append(band_item("symbol", (ARROW if pooling else TIMES,), x + in_w + 2,
                                    x + in_w + gap - 2, top + row_h / 2 - sym,
                                    top + row_h / 2 + sym, sym))
        x += in_w + (gap if numbers or not pooling else 0.0)
        if pooling:
            heads.append((head_in, None))
        else:
            grids[_row(j, "k")] = at(kernel, x, top + (row_h - k_h) / 2)
            fills[_row(j, "k")] = "input_hl"
            heads.append((head_in, (x - gap / 2 + 2, y, x + k_w + gap / 2 - 2, top)))
            x += k_w
            if numbers:  # "=" and the sum after it; without numbers a row ends at its kernel
                static.append(band_item("symbol", ("=",), x + 2, x + gap - 2,
                                        top + row_h / 2 - sym, top + row_h / 2 + sym, sym))
                x += gap
        sums.append((x, top + row_h / 2 - font * 0.9, x + sum_w, top + row_h / 2 + font * 0.9))
        y = top + row_h + gap / 2
    rows_w = sums[0][2] + margin
    total_y = y
    if not pooling and numbers:  # the Σ line is numbers only
        y += font * 1.8 + gap / 2
    out_top = y + label_h
    x = margin
    out_h, out_w = up.shape[0] * cell, up.shape[1] * cell
    oh, ow = spec.output_size
    for co in range(filters):
        grids[f"out{co}"] = at(up, x, out_top)
        fills[f"out{co}"] = "output_empty"
        if labels:
            static.append(band_item("label", (f"y[{co}] {oh}{TIMES}{ow}", f"y[{co}]"),
                                    x - gap / 2 + 2, x + out_w + gap / 2 - 2, y, out_top, font))
        x += out_w + gap
    width = max(rows_w, x - gap + margin)
    total = (None if pooling or not numbers
             else (margin / 2, total_y, width - margin / 2, total_y + font * 1.8))
    height = out_top + out_h + margin
    size = (int(np.ceil(width)), int(np.ceil(height)))
    t_top, t_bottom = bands_of(trace, False, title, caption, (), ())
    if t_top or t_bottom:
        size, (bx, by), items = add_bands(size, cell, t_top, t_bottom)
        grids = {k: Plane(p.kinds, p.first, (p.origin[0] + bx, p.origin[1] + by), p.cell, p.u, p.v)
                 for k, p in grids.items()}
        static = [shifted(i, bx, by) for i in static] + items

        def box(b):
            return (b[0] + bx, b[1] + by, b[2] + bx, b[3] + by)
        sums = [box(b) for b in sums]
        heads = [(box(a), None if b is None else box(b)) for a, b in heads]
        total = None if total is None else box(total)
    return ChannelFlatLayout(trace, grids, fills, size, numbers, tuple(static), None,
                             sums=tuple(sums), total=total, heads=tuple(heads), labels=labels,
                             font=font)


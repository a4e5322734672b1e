"""The numbers of every frame, made once per cell and state (no Pillow).

A frame shows every input value and the outputs so far, but from one frame to
the next only the kernel's footprint and one output change. So each cell's text
is made once per state (plain, or in the footprint with its weight), a frame is
the plain list with the footprint's cells swapped in, and the scatter view's
running sums are carried from one frame to the next when frames are asked for in
order (any other order recomputes them, with the same result).

A gather frame comes as parts (:meth:`Numbers.parts`): the blocks of
:data:`BLOCK` cells the footprint touches, made anew, and between them the runs
of blocks it leaves alone, joined, the same tuple from frame to frame while the
footprint stays in the same blocks; the outputs so far likewise. So the scene
looks up a few parts of a frame, not each of its ~1,700 numbers (32x32).
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from .engine import Trace
from .layout import (
    CROP, FOOT_VALUE_SIZE, FULL, MARK_W, PAD, REAL, VALUE_SIZE, VALUE_TOP, WEIGHT_BOX,
    WEIGHT_MIN_CELL, WEIGHT_SIZE, Mark, Plane, TextItem, cell_slot, slot_text,
)
from .text import NumberFormat

Part = tuple[TextItem, ...]
# Cells per block of a gather frame's numbers, and steps whose outputs are joined at once
# (conv --i 32 --style flat, instructions per frame of the scene: blocks of 8, 16, 32
# within 2%; of 16 the least).
BLOCK, OUT_BLOCK = 16, 64
_NO_SLOT = object()


def footprint_cells(t: Trace, step: int) -> list[tuple[int, int]]:
    """The footprint of ``step`` as (row, column) pairs of ints, row-major offsets."""
    return list(map(tuple, t.footprint(step).tolist()))


def footprint_weights(t: Trace) -> list[float]:
    """The weight each footprint offset (row-major, as Trace.footprint) is multiplied by:
    the kernel, flipped in the gather view of a transposed convolution; none for pooling."""
    if t.weight is None:
        return []
    kh, kw = t.spec.kernel_size
    a, b = np.meshgrid(np.arange(kh), np.arange(kw), indexing="ij")
    a, b = a.ravel(), b.ravel()
    if t.spec.view == "gather" and t.grid.flip:
        a, b = kh - 1 - a, kw - 1 - b
    return [float(t.weight[i, j]) for i, j in zip(a, b)]


def running_sums(t: Trace) -> np.ndarray:
    """Every value an output cell shows in the scatter view: the sums of its products so
    far, after each product in step order."""
    keys = t.tap_out[:, 0].astype(np.int64) * t.spec.output_size[1] + t.tap_out[:, 1]
    order = np.argsort(keys, kind="stable")
    vals, keys = np.asarray(t.tap_value, dtype=np.float64)[order], keys[order]
    sums = np.cumsum(vals)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    before = np.repeat(np.r_[0.0, sums][starts], np.diff(np.r_[starts, len(keys)]))
    return sums - before


def widest_texts(t: Trace, fmt: NumberFormat) -> dict[str, str]:
    """Kind -> the widest number that kind shows in this figure (its cells share its size)."""
    out = running_sums(t) if t.spec.view == "scatter" else t.output
    got = {"input": fmt.widest("input", np.r_[np.ravel(t.input), 0.0]),
           "output": fmt.widest("output", out)}
    if t.weight is not None:
        got["weight"] = got["kernel"] = fmt.widest("weight", t.weight)
    got["padding"] = got["input"]
    return {k: v for k, v in got.items() if v is not None}


class Numbers:
    """Text items and marks of each frame on the grid the kernel covers (``inp``) and
    the output (``out``).

    Gather: every input value (padding zeros light), the weights small in the
    footprint, the outputs of steps 0..step. Scatter: every input value, the
    running sums of the output cells received so far, the weights small in the
    stamped block (also where it is cropped). Max pooling marks the winner.
    """

    def __init__(self, t: Trace, inp: Plane, out: Plane):
        self.t, self.inp, self.out = t, inp, out
        self.fmt = NumberFormat.of(t)  # one format per grid for the whole figure
        self.like = widest_texts(t, self.fmt)  # and one size: the widest number of each grid
        self.with_weights = inp.cell >= WEIGHT_MIN_CELL
        self._weights = footprint_weights(t) if self.with_weights else []
        self._made: dict = {}
        self._slots: dict = {}  # (plane id, r, c, box) -> cell_slot: a cell shows many weights
        self._scatter = t.spec.view == "scatter"
        # The running sums of the scatter view, as of frame self._step.
        self._step = -1
        self._sums = np.zeros(t.spec.output_size)
        self._got = np.zeros(t.spec.output_size, dtype=bool)
        ow = t.spec.output_size[1]
        self._ow = ow
        self._out_parts: list[Part] = [()] * (t.spec.output_size[0] * ow)
        self._hits: list[tuple[int, int]] = []
        self._outs: list[Part] = []  # gather: the plain text of each step's output
        if self._scatter:
            self._cells = [("input", r, c, float(t.input[r, c])) for r, c in inp.cells(REAL)]
        else:
            g = t.grid
            self._cells = [("input", r, c, float(t.input[(r - g.origin[0]) // g.spacing[0],
                                                         (c - g.origin[1]) // g.spacing[1]]))
                           for r, c in inp.cells(REAL)]
            self._cells += [("padding", r, c, 0.0) for r, c in inp.cells(PAD)]
        self._index = {(r, c): n for n, (_, r, c, _) in enumerate(self._cells)}
        self._plain = [self._cell(kind, r, c, value, False, None)
                       for kind, r, c, value in self._cells]
        # Gather: the plain cells by blocks of BLOCK, and runs of blocks between those a
        # frame's footprint touches joined (_joined), kept while frames use them; the
        # outputs computed so far joined once per OUT_BLOCK steps.
        self._plain_blocks = [tuple(chain.from_iterable(self._plain[k:k + BLOCK]))
                              for k in range(0, len(self._plain), BLOCK)]
        self._runs: dict[tuple[int, int], Part] = {}  # of this frame
        self._runs_before: dict[tuple[int, int], Part] = {}  # of the frame before
        self._outs_joined: tuple[int, Part] = (0, ())
        self._lit: dict[tuple[int, float | None], Part] = {}  # (cell, weight) -> its text lit

    def text(self, kind, plane, grid, r, c, value, size, colour, on, box=FULL) -> Part:
        """:func:`cell_text`, made once for each set of arguments (the same object after)."""
        key = (kind, id(plane), grid, r, c, value, size, colour, on, box)
        got = self._made.get(key)
        if got is None:
            where = (id(plane), r, c, box)
            slot = self._slots.get(where, _NO_SLOT)
            if slot is _NO_SLOT:
                slot = self._slots[where] = cell_slot(plane, r, c, box)
            got = self._made[key] = tuple(slot_text(kind, slot, size * plane.cell, grid, r, c,
                                                    value, colour, on, self.fmt.of_kind(kind),
                                                    self.like.get(kind)))
        return got

    def _joined(self, i: int, j: int) -> Part:
        """Plain blocks i..j-1 as one part: the same tuple while consecutive frames leave
        them alone (the footprint stays in the same blocks for a few steps)."""
        got = self._runs.get((i, j)) or self._runs_before.get((i, j))
        if got is None:
            got = tuple(chain.from_iterable(self._plain_blocks[i:j]))
        self._runs[(i, j)] = got
        return got

    def _put(self, kind, plane, grid, r, c, value, colour, on, weight=None) -> Part:
        if weight is None:
            return self.text(kind, plane, grid, r, c, value, VALUE_SIZE, colour, on)
        return (self.text(kind, plane, grid, r, c, value, FOOT_VALUE_SIZE, colour, on, VALUE_TOP)
                + self.text("weight", plane, grid, r, c, weight, WEIGHT_SIZE, "text", on,
                            WEIGHT_BOX))

    def _cell(self, kind: str, r: int, c: int, value: float, hit: bool, weight) -> Part:
        """An input grid cell's text: plain, or highlighted (with its weight in gather)."""
        if kind == "input":
            return self._put("input", self.inp, "input", r, c, value, "text",
                             "input_hl" if hit else "input", weight)
        return self._put("padding", self.inp, "input", r, c, 0.0, "text_light",
                         "padding_hl" if hit else "background", weight)

    def items(self, step: int) -> tuple[list[TextItem], list[Mark]]:
        """The text items of frame ``step`` (the concatenation of :meth:`parts`) and its marks."""
        parts, marks = self.parts(step)
        return list(chain.from_iterable(parts)), marks

    def parts(self, step: int) -> tuple[list[Part], list[Mark]]:
        """The text items of frame ``step`` in parts, and its marks. Gather: the parts the
        frame does not change are the same tuple as in the frame before; scatter: one."""
        t = self.t
        foot = footprint_cells(t, step)
        weights = dict(zip(foot, self._weights)) if self.with_weights else {}
        if self._scatter:
            parts = list(self._plain)
            r, c = int(t.anchor[step][0]), int(t.anchor[step][1])
            n = self._index[(r, c)]
            parts[n] = self._cell("input", r, c, self._cells[n][3], True, None)
            items = list(chain.from_iterable(parts))
            items += self._scatter_outputs(step, foot, weights)
            for r, c in sorted(set(foot)):
                if self.out.kind(r, c) == CROP and weights:
                    items += self.text("weight", self.out, "output", r, c, weights[(r, c)],
                                       WEIGHT_SIZE, "text_light", "crop")
            return [tuple(items)], self._marks(step)
        self._runs_before, self._runs = self._runs, {}
        touched: dict[int, list[Part]] = {}  # the blocks the footprint touches, made anew
        for r, c in foot:
            n = self._index.get((r, c))
            if n is None:
                continue
            weight = weights.get((r, c))
            got = self._lit.get((n, weight))
            if got is None:
                kind, _, _, value = self._cells[n]
                got = self._lit[(n, weight)] = self._cell(kind, r, c, value, True, weight)
            k, at = divmod(n, BLOCK)
            block = touched.get(k)
            if block is None:
                block = touched[k] = self._plain[k * BLOCK:(k + 1) * BLOCK]
            block[at] = got
        parts: list[Part] = []
        first = 0  # the first block not in parts yet
        for k in sorted(touched):
            if first < k:
                parts.append(self._joined(first, k))
            parts.append(tuple(chain.from_iterable(touched[k])))
            first = k + 1
        if first < len(self._plain_blocks):
            parts.append(self._joined(first, len(self._plain_blocks)))
        while len(self._outs) < step:  # the outputs computed so far, each made once
            n = len(self._outs)
            r, c = int(t.anchor[n][0]), int(t.anchor[n][1])
            self._outs.append(self._put("output", self.out, "output", r, c, t.value(n), "text",
                                        "output"))
        done = step - step % OUT_BLOCK  # the outputs of steps 0..done-1 joined, once per block
        if self._outs_joined[0] != done:
            self._outs_joined = (done, tuple(chain.from_iterable(self._outs[:done])))
        parts.append(self._outs_joined[1])
        parts.append(tuple(chain.from_iterable(self._outs[done:step])))
        r, c = int(t.anchor[step][0]), int(t.anchor[step][1])
        parts.append(self._put("output", self.out, "output", r, c, t.value(step), "text",
                               "output_hl"))
        return parts, self._marks(step)

    def _scatter_outputs(self, step: int, foot, weights) -> list[TextItem]:
        """The running sums of the output cells received in steps 0..step, row-major."""
        t = self.t
        if step != self._step + 1:  # not the next frame: start again from the first
            self._step = -1
            self._sums[:] = 0.0
            self._got[:] = False
            self._out_parts = [()] * len(self._out_parts)
            self._hits = []
        while self._step < step:
            self._step += 1
            s = self._step
            lo, hi = int(t.step_start[s]), int(t.step_start[s + 1])
            rr, cc = t.tap_out[lo:hi, 0], t.tap_out[lo:hi, 1]
            np.add.at(self._sums, (rr, cc), t.tap_value[lo:hi])
            self._got[rr, cc] = True
            # Last frame's hits go back to plain; this frame's are highlighted below.
            touched = set(self._hits) | {(int(r), int(c)) for r, c in zip(rr, cc)}
            for r, c in touched:
                self._out_parts[r * self._ow + c] = self._put(
                    "output", self.out, "output", r, c, float(self._sums[r, c]), "text", "output")
            self._hits = []
        hits = []
        # The cells this step's products land in (for a convolution: the stamped block
        # within the output; for pooling's backward pass: where the gradient goes).
        lo, hi = int(t.step_start[step]), int(t.step_start[step + 1])
        for r, c in dict.fromkeys(map(tuple, t.tap_out[lo:hi].tolist())):
            oh, ow = t.spec.output_size
            if 0 <= r < oh and 0 <= c < ow and self._got[r, c]:
                self._out_parts[r * self._ow + c] = self._put(
                    "output", self.out, "output", r, c, float(self._sums[r, c]), "text",
                    "output_hl", weights.get((r, c)))
                hits.append((r, c))
        self._hits = hits
        return list(chain.from_iterable(self._out_parts))

    def _marks(self, step: int) -> list[Mark]:
        t = self.t
        if t.winner is None or t.winner[step][0] < 0:
            return []
        if self._scatter:  # max pooling's backward pass: the winner is a dL/dx cell
            plane, wr, wc = self.out, int(t.winner[step][0]), int(t.winner[step][1])
        else:
            g = t.grid
            plane = self.inp
            wr = g.origin[0] + int(t.winner[step][0]) * g.spacing[0]
            wc = g.origin[1] + int(t.winner[step][1]) * g.spacing[1]
        width = min(MARK_W, 0.06 * plane.cell)
        # The stroke's centre line, so the whole stroke lies inside the cell's grid lines.
        slot = cell_slot(plane, wr, wc, clear=0.8 + width / 2, pad=0.0)
        return [Mark(slot[1], "output", width)] if slot is not None else []

"""The numeric engine: every product of the operation, grouped into kernel placements.

One computation makes both the numbers and the picture. :func:`trace` lists the
products of the definition once, as index arrays ("taps"), sums them into the
output, and groups them into steps (kernel placements) for the chosen view.

Gather view (one step per output cell, row-major). The kernel slides over the
*lower grid*: for conv2d/pooling the padded input; for conv_transpose2d the
input with stride-1 zeros between cells and d(k-1)-p cells of padding at the
top/left (d(k-1)-p+output_padding at the bottom/right), swept by the kernel
flipped 180 degrees with stride 1. Input cell (y, x) sits at lower-grid cell
``origin + (y, x) * spacing``; the placement for output (oy, ox) covers lower-grid
cells ``(oy, ox) * slide + (a, b) * dilation`` for kernel offsets (a, b).

Scatter view (conv_transpose2d only; one step per input cell, row-major): the
input cell adds ``x * w`` to the output block ``(y, x) * stride - padding +
(ky, kx) * dilation``; products landing outside the output are dropped (they are
in the step's footprint, not its taps).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .params import Pair
from .spec import Spec


@dataclass(frozen=True)
class GridMap:
    """Where the kernel slides, in gather view: the lower grid and how input maps onto it."""

    size: Pair  # lower-grid rows, columns
    origin: Pair  # lower-grid cell of input (0, 0); negative when the grid crops it
    spacing: Pair  # lower-grid distance between neighbouring input cells
    slide: Pair  # lower-grid distance between neighbouring placements
    flip: bool  # kernel offset (a, b) uses weight (k-1-a, k-1-b)


def grid_map(spec: Spec) -> GridMap:
    """The lower grid of the gather view (see module docstring)."""
    k, d, p = spec.kernel_size, spec.dilation, spec.padding
    if spec.transposed:
        s, a, i = spec.stride, spec.output_padding, spec.input_size
        border = tuple(dd * (kk - 1) - pp for kk, dd, pp in zip(k, d, p))
        size = tuple((ii - 1) * ss + 1 + 2 * bb + aa for ii, ss, bb, aa in zip(i, s, border, a))
        return GridMap(size, border, s, (1, 1), True)  # type: ignore[arg-type]
    size = tuple(ii + 2 * pp for ii, pp in zip(spec.input_size, p))
    return GridMap(size, p, (1, 1), spec.stride, False)  # type: ignore[arg-type]


class Steps:
    """What a trace has from its step arrays (``spec``, ``anchor``, ``corner``,
    ``step_start``), for one channel and for many (:class:`channels.ChannelTrace`)."""

    @property
    def n_steps(self) -> int:
        return len(self.anchor)

    @cached_property
    def grid(self) -> GridMap:
        return grid_map(self.spec)

    def taps(self, step: int) -> slice:
        return slice(int(self.step_start[step]), int(self.step_start[step + 1]))

    def footprint(self, step: int) -> np.ndarray:
        """(kh*kw, 2) lower-grid cells the placement covers (on each map of its group, with
        channels), padding included, row-major offsets."""
        return self.corner[step] + self._offsets

    @cached_property
    def _offsets(self) -> np.ndarray:
        """(kh*kw, 2) the footprint's offsets from its corner, made once: every frame
        asks for a footprint."""
        kh, kw = self.spec.kernel_size
        dh, dw = self.spec.dilation
        a, b = np.meshgrid(np.arange(kh) * dh, np.arange(kw) * dw, indexing="ij")
        offsets = np.stack([a.ravel(), b.ravel()], axis=1)
        offsets.flags.writeable = False
        return offsets


@dataclass(frozen=True, eq=False)
class Trace(Steps):
    """The recorded steps of one operation on concrete arrays.

    Taps are parallel int arrays, one entry per real product, sorted by step:
    ``tap_in`` (n, 2) input cell, ``tap_w`` (n, 2) weight index (kernel offset for
    pooling), ``tap_out`` (n, 2) output cell, ``tap_value`` (n,) the product
    x*w (x for pooling). ``step_start`` (steps+1,) slices the taps of each step.
    ``anchor`` (steps, 2) is the output cell (gather) or input cell (scatter) of
    each step; ``corner`` (steps, 2) the top-left of its footprint, on the lower
    grid (gather) or in output coordinates (scatter); every footprint covers
    ``kernel_size`` offsets spaced by ``dilation`` from its corner.
    """

    spec: Spec
    input: np.ndarray
    weight: np.ndarray | None
    output: np.ndarray
    tap_in: np.ndarray
    tap_w: np.ndarray
    tap_out: np.ndarray
    tap_value: np.ndarray
    step_start: np.ndarray
    anchor: np.ndarray
    corner: np.ndarray
    winner: np.ndarray | None  # max pooling: input cell chosen per step, (-1,-1) if padding
    # A backward pass (spec.grad): every array of it by trace-file name, the forward's
    # included ("input", "weight", "grad_output", and "grad_input" or "grad_weight").
    arrays: tuple[tuple[str, np.ndarray], ...] = ()

    def value(self, step: int) -> float:
        """The output value a gather step writes (its output cell's final value)."""
        oy, ox = self.anchor[step]
        return float(self.output[oy, ox])


def _all_products(spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input cell, weight index, output cell) of every real product, definition order.

    conv2d / pooling: out[oy, ox] += w[ky, kx] * x[oy*s + ky*d - p, ox*s + kx*d - p]
    conv_transpose2d: out[y*s + ky*d - p, x*s + kx*d - p] += x[y, x] * w[ky, kx]
    Products whose input (conv) or output (transpose) falls outside are not real.
    """
    kh, kw = spec.kernel_size
    s, p, d = np.array(spec.stride), np.array(spec.padding), np.array(spec.dilation)
    outer = spec.input_size if spec.transposed else spec.output_size
    inner = spec.output_size if spec.transposed else spec.input_size
    # Rows: outer cell (row-major) x kernel offset (row-major).
    oy, ox, ky, kx = np.meshgrid(
        np.arange(outer[0]), np.arange(outer[1]), np.arange(kh), np.arange(kw), indexing="ij"
    )
    a = np.stack([oy.ravel(), ox.ravel()], axis=1)
    w = np.stack([ky.ravel(), kx.ravel()], axis=1)
    b = a * s + w * d - p
    keep = np.all((b >= 0) & (b < np.array(inner)), axis=1)
    a, w, b = a[keep], w[keep], b[keep]
    return (a, w, b) if spec.transposed else (b, w, a)


def _group(spec: Spec, tap_in, tap_w, tap_out):
    """Sort taps into steps; return (order, step_of_tap, anchors, corners)."""
    if spec.view == "scatter":
        ih, iw = spec.input_size
        key_step = tap_in[:, 0] * iw + tap_in[:, 1]
        within = tap_w[:, 0] * spec.kernel_size[1] + tap_w[:, 1]
        y, x = np.divmod(np.arange(ih * iw), iw)
        anchors = np.stack([y, x], axis=1)
        corners = anchors * np.array(spec.stride) - np.array(spec.padding)
        n = ih * iw
    else:
        gm = grid_map(spec)
        oh, ow = spec.output_size
        key_step = tap_out[:, 0] * ow + tap_out[:, 1]
        # Within a placement, taps follow the lower grid row-major.
        pos = np.array(gm.origin) + tap_in * np.array(gm.spacing)
        within = pos[:, 0] * gm.size[1] + pos[:, 1]
        y, x = np.divmod(np.arange(oh * ow), ow)
        anchors = np.stack([y, x], axis=1)
        corners = anchors * np.array(gm.slide)
        n = oh * ow
    order = np.lexsort((within, key_step))
    return order, key_step[order], anchors, corners, n


def trace(spec: Spec, x: np.ndarray, w: np.ndarray | None = None) -> Trace:
    """Record every kernel placement of ``spec`` applied to input ``x`` (and weight ``w``).

    x has shape ``spec.input_size``; w has shape ``spec.kernel_size`` (None for pooling).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape != spec.input_size:
        raise ValueError(f"input: shape {x.shape} does not match input_size {spec.input_size}")
    if spec.pooling:
        if w is not None:
            raise ValueError("weight: pooling takes no weight")
    else:
        w = np.asarray(w, dtype=np.float64)
        if w.shape != spec.kernel_size:
            raise ValueError(f"weight: shape {w.shape} does not match kernel_size {spec.kernel_size}")

    tap_in, tap_w, tap_out = _all_products(spec)
    order, step_of_tap, anchors, corners, n = _group(spec, tap_in, tap_w, tap_out)
    tap_in, tap_w, tap_out = tap_in[order], tap_w[order], tap_out[order]
    step_start = np.searchsorted(step_of_tap, np.arange(n + 1))

    xv = x[tap_in[:, 0], tap_in[:, 1]]
    oh, ow = spec.output_size
    flat_out = tap_out[:, 0] * ow + tap_out[:, 1]
    winner = None
    if spec.op == "max_pool2d":
        value, winner = _max_pool(spec, xv, tap_in, step_start, anchors)
        products = xv
    else:
        products = xv if spec.pooling else xv * w[tap_w[:, 0], tap_w[:, 1]]
        value = np.zeros(oh * ow)
        np.add.at(value, flat_out, products)
        if spec.op == "avg_pool2d":
            value /= spec.kernel_size[0] * spec.kernel_size[1]
    output = value.reshape(oh, ow)

    arrays = [x, w, output, tap_in, tap_w, tap_out, products, step_start, anchors, corners, winner]
    for arr in arrays:
        if arr is not None:
            arr.setflags(write=False)
    return Trace(spec, *arrays)


def _max_pool(spec, xv, tap_in, step_start, anchors):
    """Max per placement over its real cells; padding counts as -inf, as in PyTorch.

    The winner is the first cell (row-major) holding the maximum.
    """
    n = len(anchors)
    value = np.full(n, -np.inf)
    winner = np.full((n, 2), -1)
    counts = np.diff(step_start)
    nonempty = counts > 0
    if len(xv):
        starts = step_start[:-1][nonempty]
        value[nonempty] = np.maximum.reduceat(xv, starts)
        step_of_tap = np.repeat(np.arange(n), counts)
        is_max = xv == value[step_of_tap]
        # first tap per step that equals the step's max
        first = np.full(n, -1)
        idx = np.flatnonzero(is_max)
        first_idx = np.unique(step_of_tap[idx], return_index=True)
        first[first_idx[0]] = idx[first_idx[1]]
        winner[first >= 0] = tap_in[first[first >= 0]]
    return value, winner

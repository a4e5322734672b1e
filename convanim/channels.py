"""The engine for channels, groups and bias: every product of the layer, one step per output value.

conv2d (``torch.nn.functional.conv2d`` with groups G)::

    y[co, oy, ox] = b[co] + sum over ci of co's group, ky, kx of
                    w[co, ci - first ci of the group, ky, kx] * x[ci, oy*s + ky*d - p, ox*s + kx*d - p]

conv_transpose2d (``conv_transpose2d`` with groups G; w is (C_in, C_out/G, KH, KW))::

    y[co, y*s + ky*d - p, x*s + kx*d - p] += x[ci, y, x] * w[ci, co - first co of the group, ky, kx]

for every ci of co's group, then + b[co]. Pooling pools each map on its own. The
per-map geometry (which input cell meets which kernel offset for which output cell)
is the one-channel engine's, :func:`convanim.engine._all_products`; this module pairs
it with the (co, ci) pairs of each group, so each product still appears once.

Steps: one per output value, filter by filter (every position of output map 0,
then 1, ...), row-major within a map; a step's taps span every input map of its
group, map by map, each map's taps in the order of the lower grid (as the
one-channel engine's). The one-channel engine and its Trace are untouched: a spec
without channels (``spec.channels`` False) never comes here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import Steps, _all_products, grid_map
from .spec import Spec


@dataclass(frozen=True, eq=False)
class ChannelTrace(Steps):
    """The recorded steps of a layer with channels, on concrete arrays.

    ``input`` (C_in, H, W), ``weight`` PyTorch's 4-D shape (None for pooling), ``bias``
    (C_out,) or None, ``output`` (C_out, OH, OW). Taps are parallel arrays sorted by
    step: ``tap_in`` (n, 3) input [c, r, c], ``tap_w`` (n, 4) weight index (pooling:
    (n, 2) kernel offsets), ``tap_out`` (n, 3), ``tap_value`` (n,) the product (x for
    pooling). ``anchor`` (steps, 3) the output value [co, r, c] of each step; ``corner``
    (steps, 2) the top-left of its footprint on the lower grid, the same on every map
    of the step's group (``step_maps``).
    """

    spec: Spec
    input: np.ndarray
    weight: np.ndarray | None
    bias: np.ndarray | None
    output: np.ndarray
    tap_in: np.ndarray
    tap_w: np.ndarray
    tap_out: np.ndarray
    tap_value: np.ndarray
    step_start: np.ndarray
    anchor: np.ndarray
    corner: np.ndarray
    winner: np.ndarray | None  # max pooling: input [c, r, c] chosen per step, -1s if padding

    def step_maps(self, step: int) -> range:
        """The input maps the step reads: its output map's group."""
        return group_inputs(self.spec, int(self.anchor[step][0]))

    def value(self, step: int) -> float:
        co, oy, ox = self.anchor[step]
        return float(self.output[co, oy, ox])


def shapes(spec: Spec) -> tuple[tuple[int, ...], tuple[int, ...] | None, tuple[int, ...] | None,
                                tuple[int, ...]]:
    """(input, weight, bias, output) shapes with every channel axis, one channel included:
    (C_in, H, W), PyTorch's 4-D weight (None for pooling), (C_out,) or None, (C_out, OH, OW)."""
    kh, kw = spec.kernel_size
    if spec.pooling:
        weight = None
    elif spec.transposed:
        weight = (spec.in_channels, spec.out_channels // spec.groups, kh, kw)
    else:
        weight = (spec.out_channels, spec.in_channels // spec.groups, kh, kw)
    return ((spec.in_channels, *spec.input_size), weight,
            (spec.out_channels,) if spec.bias else None, (spec.out_channels, *spec.output_size))


def group_inputs(spec: Spec, co: int) -> range:
    """Input maps of output map ``co``'s group."""
    per_in, per_out = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    g = co // per_out
    return range(g * per_in, (g + 1) * per_in)


def _pairs(spec: Spec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(co, ci, weight's first two indices) of every map pair that multiplies, co-major."""
    if spec.pooling:
        c = np.arange(spec.in_channels)
        return c, c, np.zeros((len(c), 0), dtype=int)
    per_in, per_out = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    co, j = np.divmod(np.arange(spec.out_channels * per_in), per_in)
    g = co // per_out
    ci = g * per_in + j
    if spec.transposed:
        lead = np.stack([ci, co - g * per_out], axis=1)
    else:
        lead = np.stack([co, j], axis=1)
    return co, ci, lead


def _check(name: str, a, shape) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.shape != tuple(shape):
        raise ValueError(f"{name}: shape {a.shape} does not match {tuple(shape)}")
    return a


def channel_trace(spec: Spec, x, w=None, b=None) -> ChannelTrace:
    """Record every product of ``spec`` (with channels) on input ``x``, weight ``w`` and bias ``b``.

    The shapes are :func:`shapes`' (a one-channel spec too: (1, H, W) and (1, 1, KH, KW)).
    """
    if spec.view != "gather":
        raise ValueError("view: channels have the gather view only")
    x_shape, w_shape, b_shape, y_shape = shapes(spec)
    x = _check("input", x, x_shape)
    if spec.pooling:
        if w is not None:
            raise ValueError("weight: pooling takes no weight")
    else:
        w = _check("weight", w, w_shape)
    if spec.bias:
        b = _check("bias", b, b_shape)
    elif b is not None:
        raise ValueError("bias: the spec has no bias (bias=False)")

    # The per-map geometry, ordered as the one-channel engine orders a placement's taps.
    cell_in, cell_w, cell_out = _all_products(spec)
    gm = grid_map(spec)
    oh, ow = spec.output_size
    pos = np.array(gm.origin) + cell_in * np.array(gm.spacing)
    within = pos[:, 0] * gm.size[1] + pos[:, 1]
    cell_step = cell_out[:, 0] * ow + cell_out[:, 1]
    order = np.lexsort((within, cell_step))
    cell_in, cell_w, cell_out, cell_step = (cell_in[order], cell_w[order], cell_out[order],
                                            cell_step[order])
    # Per placement (output cell), its taps on one map: [start, end) of the ordered cells.
    bounds = np.searchsorted(cell_step, np.arange(oh * ow + 1))

    co, ci, lead = _pairs(spec)
    per_map = np.diff(bounds)  # taps of one map at each output cell
    pairs_per_co = np.bincount(co, minlength=spec.out_channels)  # maps per output map
    # Taps: for each output map co, each cell (oy, ox), each map ci of the group, each
    # geometric tap of that cell: an index into the pairs and one into the cells.
    # Pair indices of co are contiguous (co-major), from first_pair[co].
    first_pair = np.concatenate([[0], np.cumsum(pairs_per_co)[:-1]])
    n_cells = oh * ow
    step_co = np.repeat(np.arange(spec.out_channels), n_cells)
    step_cell = np.tile(np.arange(n_cells), spec.out_channels)
    taps_per_step = per_map[step_cell] * pairs_per_co[step_co]
    step_start = np.concatenate([[0], np.cumsum(taps_per_step)])
    n = int(step_start[-1])
    step_of_tap = np.repeat(np.arange(len(step_co)), taps_per_step)
    k = np.arange(n) - step_start[step_of_tap]  # rank within the step
    width = per_map[step_cell][step_of_tap]  # taps per map in this step
    j, r = np.divmod(k, np.maximum(width, 1))
    pair = first_pair[step_co[step_of_tap]] + j
    cell = bounds[step_cell[step_of_tap]] + r

    tap_in = np.concatenate([ci[pair][:, None], cell_in[cell]], axis=1)
    tap_out = np.concatenate([co[pair][:, None], cell_out[cell]], axis=1)
    tap_w = cell_w[cell] if spec.pooling else np.concatenate([lead[pair], cell_w[cell]], axis=1)

    xv = x[tap_in[:, 0], tap_in[:, 1], tap_in[:, 2]]
    winner = None
    anchors = np.stack([step_co, *np.divmod(step_cell, ow)], axis=1)
    if spec.op == "max_pool2d":
        value, winner = _max_pool(xv, tap_in, step_start)
        products = xv
    else:
        products = xv if spec.pooling else xv * w[tuple(tap_w.T)]
        value = np.zeros(len(step_co))
        np.add.at(value, step_of_tap, products)
        if spec.op == "avg_pool2d":
            value /= spec.kernel_size[0] * spec.kernel_size[1]
    output = value.reshape(y_shape)
    if b is not None:
        output = output + b[:, None, None]
    corners = anchors[:, 1:] * np.array(gm.slide)

    arrays = [x, w, b, output, tap_in, tap_w, tap_out, products, step_start, anchors, corners,
              winner]
    for arr in arrays:
        if arr is not None:
            arr.setflags(write=False)
    return ChannelTrace(spec, *arrays)


def _max_pool(xv, tap_in, step_start):
    """Max per step over its real cells (padding is -inf); the winner the first maximum."""
    n = len(step_start) - 1
    value = np.full(n, -np.inf)
    winner = np.full((n, 3), -1)
    counts = np.diff(step_start)
    nonempty = counts > 0
    if len(xv):
        value[nonempty] = np.maximum.reduceat(xv, step_start[:-1][nonempty])
        step_of_tap = np.repeat(np.arange(n), counts)
        idx = np.flatnonzero(xv == value[step_of_tap])
        steps, first = np.unique(step_of_tap[idx], return_index=True)
        winner[steps] = tap_in[idx[first]]
    return value, winner

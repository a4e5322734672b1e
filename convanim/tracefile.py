"""The trace as a JSON document (``-o steps.json``); the format is described in the README."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np

from .channels import ChannelTrace
from .engine import Trace


def _num(v: float) -> int | float:
    v = float(v)
    return int(v) if v.is_integer() else v


def _matrix(a: np.ndarray | None) -> list[list[int | float]] | None:
    return None if a is None else [[_num(v) for v in row] for row in a]


def _nested(a: np.ndarray | None):
    """An array of any dimension as nested lists of numbers (whole numbers as ints)."""
    if a is None:
        return None
    return [_num(v) for v in a] if a.ndim == 1 else [_nested(row) for row in a]


def trace_dict(t: Trace | ChannelTrace) -> dict[str, Any]:
    """A plain-data view of ``t``: every step with its footprint, taps and value.

    A trace with channels (:class:`ChannelTrace`) has format 2 (:func:`_channel_dict`);
    the one-channel document is unchanged and carries no "format" field (format 1).
    """
    if isinstance(t, ChannelTrace):
        return _channel_dict(t)
    s = t.spec
    n = s.names
    scatter = s.view == "scatter"
    doc = _header(s) if s.grad is None else _grad_header(s)
    if not scatter:
        doc["grid"] = _grid(t.grid)
    if s.grad is None:
        doc["input"] = _matrix(t.input)
        doc["weight"] = _matrix(t.weight)
        doc["output"] = _matrix(t.output)
    else:
        for name, array in t.arrays:
            doc[name] = _matrix(array)

    oh, ow = s.output_size
    steps = []
    for i in range(t.n_steps):
        sl = t.taps(i)
        foot = t.footprint(i)
        if scatter:
            outside = ~((foot[:, 0] >= 0) & (foot[:, 0] < oh) & (foot[:, 1] >= 0) & (foot[:, 1] < ow))
            step: dict[str, Any] = {n.input: [int(v) for v in t.anchor[i]]}
            extra_key = "cropped"
        else:
            outside = ~_on_input(t, foot)
            step = {n.output: [int(v) for v in t.anchor[i]]}
            extra_key = "padding"
        step["footprint"] = foot.tolist()
        step[extra_key] = foot[outside].tolist()
        step["taps"] = _taps(t, sl, (n.input, n.weight, n.output))
        if not scatter:
            step["value"] = _num(t.value(i))
        if t.winner is not None:
            step["winner"] = [int(v) for v in t.winner[i]]
        steps.append(step)
    doc["steps"] = steps
    return doc


def _channel_dict(t: ChannelTrace) -> dict[str, Any]:
    """Format 2: arrays of PyTorch's shapes and [c, r, c] cells.

    "input" [C_in][H][W], "weight" the 4-D weight (null for pooling), "bias" [C_out] or
    null, "output" [C_out][OH][OW]; each step's "output" [co, r, c], its "in_channels"
    (the maps of its group), its "footprint" and "padding" as lower-grid cells [r, c]
    (the same on each of those maps) and its taps with "input" [c, r, c], "weight" the
    4-D index (pooling: the kernel offset [ky, kx]) and "output" [c, r, c].
    """
    s = t.spec
    doc: dict[str, Any] = {"format": 2, **_header(s)}
    doc["bias"] = _nested(t.bias)
    doc["grid"] = _grid(t.grid)
    doc["input"] = _nested(t.input)
    doc["weight"] = _nested(t.weight)
    doc["output"] = _nested(t.output)
    steps = []
    for i in range(t.n_steps):
        sl = t.taps(i)
        foot = t.footprint(i)
        on_input = _on_input(t, foot)
        maps = t.step_maps(i) if not s.pooling else range(int(t.anchor[i][0]),
                                                          int(t.anchor[i][0]) + 1)
        step: dict[str, Any] = {"output": [int(v) for v in t.anchor[i]],
                                "in_channels": list(maps),
                                "footprint": foot.tolist(), "padding": foot[~on_input].tolist()}
        step["taps"] = _taps(t, sl, ("input", "weight", "output"))
        step["value"] = _num(t.value(i))
        if t.winner is not None:
            step["winner"] = [int(v) for v in t.winner[i]]
        steps.append(step)
    doc["steps"] = steps
    return doc


def _taps(t, sl: slice, keys: tuple[str, str, str]) -> list[dict[str, Any]]:
    """The taps of one step: their input, weight and output cells under ``keys``, and
    the product (cells [r, c] for one channel, [c, r, c] and a 4-D weight index for many)."""
    k_in, k_w, k_out = keys
    return [{k_in: [int(v) for v in a], k_w: [int(v) for v in b], k_out: [int(v) for v in c],
             "product": _num(v)}
            for a, b, c, v in zip(t.tap_in[sl], t.tap_w[sl], t.tap_out[sl], t.tap_value[sl])]


def _grid(g) -> dict[str, Any]:
    """The gather view's lower grid (engine.GridMap), as both formats write it."""
    return {"size": list(g.size), "origin": list(g.origin), "spacing": list(g.spacing),
            "slide": list(g.slide), "flipped": g.flip}


def _on_input(t, foot: np.ndarray) -> np.ndarray:
    """Which lower-grid cells of a footprint are input cells (the rest: padding, zeros)."""
    g = t.grid
    rel = foot - np.array(g.origin)
    sp = np.array(g.spacing)
    return (np.all(rel % sp == 0, axis=1) & np.all(rel >= 0, axis=1)
            & np.all(rel // sp < np.array(t.spec.input_size), axis=1))


def _header(s) -> dict[str, Any]:
    return {
        "op": s.op,
        "view": s.view,
        "input_size": list(s.input_size),
        "kernel_size": list(s.kernel_size),
        "stride": list(s.stride),
        "padding": list(s.padding),
        "dilation": list(s.dilation),
        "output_padding": list(s.output_padding),
        "output_size": list(s.output_size),
        "in_channels": s.in_channels,
        "out_channels": s.out_channels,
        "groups": s.groups,
    }


def _grad_header(s) -> dict[str, Any]:
    """A backward pass: its op, the forward's sizes, and the op the engine ran for it."""
    doc = _header(s.grad.forward)
    doc["op"], doc["view"] = s.names.op, s.view
    run = _header(replace(s, grad=None))
    for key in ("in_channels", "out_channels", "groups"):
        del run[key]
    run["output_size"] = list(s.output_size)  # the weight's: the first k x k outputs
    run["arrays"] = {"input": s.names.input, "weight": s.names.weight, "output": s.names.output}
    doc["computed_as"] = run
    return doc


def trace_json(t: Trace | ChannelTrace) -> str:
    # allow_nan=False: the file is always valid JSON (no Infinity/NaN); api.check_finite
    # refuses such values before any work, so this only guards the rule.
    return json.dumps(trace_dict(t), separators=(",", ":"), allow_nan=False) + "\n"

"""The trace as a JSON document (``-o steps.json``); the format is described in the README."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np

from .engine import Trace


def _num(v: float) -> int | float:
    v = float(v)
    return int(v) if v.is_integer() else v


def _matrix(a: np.ndarray | None) -> list[list[int | float]] | None:
    return None if a is None else [[_num(v) for v in row] for row in a]


def trace_dict(t: Trace) -> dict[str, Any]:
    """A plain-data view of ``t``: every step with its footprint, taps and value."""
    s = t.spec
    n = s.names
    scatter = s.view == "scatter"
    doc = _header(s) if s.grad is None else _grad_header(s)
    if not scatter:
        g = t.grid
        doc["grid"] = {"size": list(g.size), "origin": list(g.origin),
                       "spacing": list(g.spacing), "slide": list(g.slide), "flipped": g.flip}
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
            g = t.grid
            rel = foot - np.array(g.origin)
            sp = np.array(g.spacing)
            on_input = (np.all(rel % sp == 0, axis=1) & np.all(rel >= 0, axis=1)
                        & np.all(rel // sp < np.array(s.input_size), axis=1))
            outside = ~on_input
            step = {n.output: [int(v) for v in t.anchor[i]]}
            extra_key = "padding"
        step["footprint"] = foot.tolist()
        step[extra_key] = foot[outside].tolist()
        step["taps"] = [
            {n.input: [int(a), int(b)], n.weight: [int(c), int(d)], n.output: [int(e), int(f)],
             "product": _num(v)}
            for (a, b), (c, d), (e, f), v in zip(t.tap_in[sl], t.tap_w[sl], t.tap_out[sl],
                                                 t.tap_value[sl])
        ]
        if not scatter:
            step["value"] = _num(t.value(i))
        if t.winner is not None:
            step["winner"] = [int(v) for v in t.winner[i]]
        steps.append(step)
    doc["steps"] = steps
    return doc


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


def trace_json(t: Trace) -> str:
    # allow_nan=False: the file is always valid JSON (no Infinity/NaN); api.check_finite
    # refuses such values before any work, so this only guards the rule.
    return json.dumps(trace_dict(t), separators=(",", ":"), allow_nan=False) + "\n"

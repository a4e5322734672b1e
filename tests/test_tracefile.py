"""The JSON trace's contract, as the README documents it."""

import json
from collections import Counter

import numpy as np
import pytest

import convanim as ca
from convanim.tracefile import trace_json

import reference as ref

SPECS = [
    ca.conv2d(5, 3, 2, 1), ca.conv2d(6, 3, 2, 1), ca.conv2d(7, 3, 1, 0, 2),
    ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0)),
    ca.conv_transpose2d(3, 3, 2, 1, output_padding=1),
    ca.conv_transpose2d(3, 3, 2, 1, output_padding=1, view="scatter"),
    ca.conv_transpose2d(2, 2, 2, view="scatter"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.short_name())
def test_trace_document(spec):
    t = ca.trace_of(spec, seed=3)
    doc = json.loads(trace_json(t))
    for key in ("op", "view", "input_size", "kernel_size", "stride", "padding", "dilation",
                "output_padding", "output_size", "input", "weight", "output", "steps"):
        assert key in doc
    assert doc["op"] == spec.op and doc["view"] == spec.view
    assert doc["output_size"] == list(spec.output_size)
    x, w = np.array(doc["input"]), np.array(doc["weight"])
    if spec.transposed:
        shape, prods = ref.tconv2d_products(*spec.input_size, *spec.kernel_size, spec.stride,
                                            spec.padding, spec.dilation, spec.output_padding)
    else:
        shape, prods = ref.conv2d_products(*spec.input_size, *spec.kernel_size, spec.stride,
                                           spec.padding, spec.dilation)
    assert doc["output"] == ref.apply(shape, prods, x.tolist(), w.tolist())
    taps = Counter()
    for step in doc["steps"]:
        kind = "input" if spec.view == "scatter" else "output"
        for tap in step["taps"]:
            taps[(tuple(tap["input"]), tuple(tap["weight"]), tuple(tap["output"]))] += 1
            assert tap[kind] == step[kind]  # all taps of a step share its anchor cell
            assert tap["product"] == x[tuple(tap["input"])] * w[tuple(tap["weight"])]
        assert len(step["footprint"]) == spec.kernel_size[0] * spec.kernel_size[1]
        extra = step["cropped" if spec.view == "scatter" else "padding"]
        assert len(extra) + len(step["taps"]) == len(step["footprint"])
        if spec.view == "gather":
            assert step["value"] == doc["output"][step["output"][0]][step["output"][1]]
            assert step["value"] == sum(tap["product"] for tap in step["taps"])
    assert taps == Counter(prods)  # every product of the definition exactly once
    expected_steps = (spec.input_size if spec.view == "scatter" else spec.output_size)
    assert len(doc["steps"]) == expected_steps[0] * expected_steps[1]


def test_integers_stay_integers_and_floats_keep_decimals():
    spec = ca.conv2d(3, 2)
    x = np.array([[0.5, 1, 2], [3, 4, 5], [6, 7, 8]])
    doc = json.loads(trace_json(ca.trace(spec, x, np.ones((2, 2)))))
    assert doc["input"][0] == [0.5, 1, 2]
    assert isinstance(doc["input"][1][0], int)
    assert doc["output"][0][0] == 8.5


def test_same_arguments_same_bytes():
    spec = ca.conv2d(5, 3, 2, 1)
    assert trace_json(ca.trace_of(spec)) == trace_json(ca.trace_of(spec))

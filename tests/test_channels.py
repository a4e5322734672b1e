"""Channels, groups and bias: the channel engine against plain loops (and torch), the
format-2 trace file, the CLI's rules and refusals, and one-channel files unchanged."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convanim as ca
from convanim.channels import ChannelTrace, channel_trace, shapes
from convanim.cli import main
from convanim.data import random_arrays, random_channel_arrays
from convanim.info import info_text, torch_call
from convanim.tracefile import trace_json

import reference as ref

GOLDEN_TRACES = Path(__file__).parent / "golden" / "traces"


@st.composite
def channel_counts(draw):
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    return cin, cout, groups, draw(st.booleans())


@st.composite
def conv_channel_specs(draw):
    cin, cout, groups, bias = draw(channel_counts())
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    lo = (max(1, eff[0] - 2 * p[0]), max(1, eff[1] - 2 * p[1]))
    i = (draw(st.integers(lo[0], lo[0] + 4)), draw(st.integers(lo[1], lo[1] + 4)))
    return ca.conv2d(i, k, s, p, d, cin, cout, groups, bias)


@st.composite
def tconv_channel_specs(draw):
    cin, cout, groups, bias = draw(channel_counts())
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    a = (draw(st.integers(0, max(s[0], d[0]) - 1)), draw(st.integers(0, max(s[1], d[1]) - 1)))
    i = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    o = [(ii - 1) * ss - 2 * pp + dd * (kk - 1) + aa + 1
         for ii, kk, ss, pp, dd, aa in zip(i, k, s, p, d, a)]
    if min(o) < 1:
        p = (0, 0)
    return ca.conv_transpose2d(i, k, s, p, d, a, "gather", cin, cout, groups, bias)


def _data(spec, seed):
    rng = np.random.default_rng(seed)
    x_shape, w_shape, b_shape, _ = shapes(spec)
    x = rng.integers(-5, 6, x_shape).astype(float)
    w = rng.integers(-5, 6, w_shape).astype(float)
    b = rng.integers(-5, 6, b_shape).astype(float) if spec.bias else None
    return x, w, b


def _reference(spec):
    args = (spec.in_channels, spec.out_channels, spec.groups, *spec.input_size,
            *spec.kernel_size, spec.stride, spec.padding, spec.dilation)
    if spec.transposed:
        return ref.tconv2d_channel_products(*args, spec.output_padding)
    return ref.conv2d_channel_products(*args)


def _check_against_reference(spec, seed):
    x, w, b = _data(spec, seed)
    t = channel_trace(spec, x, w, b)
    shape, prods = _reference(spec)
    assert shape == shapes(spec)[3] == t.output.shape
    assert t.output.tolist() == ref.apply_channels(shape, prods, x.tolist(), w.tolist(),
                                                   None if b is None else b.tolist())
    taps = list(zip(map(tuple, t.tap_in.tolist()), map(tuple, t.tap_w.tolist()),
                    map(tuple, t.tap_out.tolist())))
    assert len(set(taps)) == len(taps)  # no product twice
    assert Counter(taps) == Counter(prods)  # every product of the definition, exactly once
    assert np.array_equal(t.tap_value, x[tuple(t.tap_in.T)] * w[tuple(t.tap_w.T)])
    # One step per output value, filter by filter, row-major within a map.
    assert t.n_steps == spec.n_steps == spec.out_channels * spec.output_size[0] * spec.output_size[1]
    assert t.anchor.tolist() == [list(c) for c in np.ndindex(*shape)]
    for i in range(t.n_steps):
        sl = t.taps(i)
        assert (t.tap_out[sl] == t.anchor[i]).all()
        maps = t.step_maps(i)
        assert set(t.tap_in[sl, 0].tolist()) <= set(maps)
        extra = b[t.anchor[i][0]] if b is not None else 0.0
        assert t.value(i) == pytest.approx(t.tap_value[sl].sum() + extra)


@settings(max_examples=60, deadline=None)
@given(conv_channel_specs(), st.integers(0, 2**16))
def test_conv_channels_match_the_plain_loops(spec, seed):
    _check_against_reference(spec, seed)


@settings(max_examples=60, deadline=None)
@given(tconv_channel_specs(), st.integers(0, 2**16))
def test_tconv_channels_match_the_plain_loops(spec, seed):
    _check_against_reference(spec, seed)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["max", "avg"]), st.integers(1, 4), st.integers(2, 6), st.integers(1, 3),
       st.integers(1, 2), st.integers(0, 2**16))
def test_pooling_pools_each_map_on_its_own(mode, c, i, k, s, seed):
    k = min(k, i)
    spec = ca.pool2d(mode, i, k, s, in_channels=c)
    x = np.random.default_rng(seed).integers(-5, 6, (c, i, i)).astype(float)
    t = channel_trace(spec, x)
    assert t.n_steps == c * spec.output_size[0] * spec.output_size[1]
    for m in range(c):
        expected = ref.pool(x[m].tolist(), k, k, spec.stride, spec.padding, spec.dilation, mode)
        assert np.allclose(t.output[m], np.array(expected))
    assert (t.tap_in[:, 0] == t.tap_out[:, 0]).all()  # no map reads another


@pytest.mark.parametrize("spec", [
    ca.conv2d((5, 6), (3, 2), (2, 1), 1, (1, 2), 4, 6, 2, True),
    ca.conv2d(5, 3, 1, 1, 1, 3, 6, 3, False),  # depthwise, multiplier 2
    ca.conv2d(4, 1, 1, 0, 1, 3, 4, 1, True),  # pointwise
    ca.conv_transpose2d(3, 3, 2, 1, 1, 1, "gather", 4, 6, 2, True),
    ca.conv_transpose2d((2, 3), (2, 3), (2, 1), 0, (2, 1), 0, "gather", 3, 3, 3, False),
], ids=lambda s: s.short_name())
def test_torch_agrees_when_installed(spec):
    torch = pytest.importorskip("torch")
    x, w, b = _data(spec, 7)
    tx, tw = torch.tensor(x)[None], torch.tensor(w)
    tb = None if b is None else torch.tensor(b)
    if spec.transposed:
        y = torch.nn.functional.conv_transpose2d(
            tx, tw, tb, stride=spec.stride, padding=spec.padding,
            output_padding=spec.output_padding, groups=spec.groups, dilation=spec.dilation)
    else:
        y = torch.nn.functional.conv2d(tx, tw, tb, stride=spec.stride, padding=spec.padding,
                                       dilation=spec.dilation, groups=spec.groups)
    assert np.allclose(channel_trace(spec, x, w, b).output, y[0].numpy())


def _torch_output(torch, spec, x, w, b):
    f = torch.nn.functional
    tx, tw = torch.tensor(x)[None], torch.tensor(w)
    tb = None if b is None else torch.tensor(b)
    if spec.transposed:
        y = f.conv_transpose2d(tx, tw, tb, stride=spec.stride, padding=spec.padding,
                               output_padding=spec.output_padding, groups=spec.groups,
                               dilation=spec.dilation)
    else:
        y = f.conv2d(tx, tw, tb, stride=spec.stride, padding=spec.padding,
                     dilation=spec.dilation, groups=spec.groups)
    return y[0].numpy()


@settings(max_examples=80, deadline=None)
@given(st.one_of(conv_channel_specs(), tconv_channel_specs()), st.integers(0, 2**16))
def test_torch_agrees_on_random_channel_specs_when_installed(spec, seed):
    torch = pytest.importorskip("torch")
    x, w, b = _data(spec, seed)
    y = _torch_output(torch, spec, x, w, b)
    out = channel_trace(spec, x, w, b).output
    assert out.shape == y.shape
    assert np.array_equal(out, y)  # small integers: float64 sums are exact either way


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["max", "avg"]), st.integers(1, 3), st.integers(2, 7), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.integers(0, 2**16))
def test_torch_pooling_agrees_when_installed(mode, c, i, k, s, p, d, seed):
    torch = pytest.importorskip("torch")
    k, d = min(k, i), (1 if mode == "avg" else d)
    p = min(p, k // 2)
    try:
        spec = ca.pool2d(mode, i, k, s, p, d, in_channels=c)
    except ca.SpecError:  # no window fits, or a window on padding alone
        return
    x = np.random.default_rng(seed).integers(-5, 6, (c, i, i)).astype(float)
    tx = torch.tensor(x)[None]
    if mode == "max":
        y = torch.nn.functional.max_pool2d(tx, k, s, p, d)
    else:
        y = torch.nn.functional.avg_pool2d(tx, k, s, p, count_include_pad=True)
    assert np.allclose(channel_trace(spec, x).output, y[0].numpy())


@settings(max_examples=30, deadline=None)
@given(st.one_of(conv_channel_specs(), tconv_channel_specs()), st.integers(0, 2**16))
def test_one_channel_engine_agrees_on_one_channel(spec, seed):
    spec = ca.Spec(spec.op, spec.input_size, spec.kernel_size, spec.stride, spec.padding,
                   spec.dilation, spec.output_padding)
    x, w, _ = _data(spec, seed)
    one, many = ca.trace(spec, x[0], w[0, 0]), channel_trace(spec, x, w)
    assert np.array_equal(one.output, many.output[0])
    assert np.array_equal(one.step_start, many.step_start)
    assert np.array_equal(one.tap_in, many.tap_in[:, 1:])  # the same taps in the same order
    assert np.array_equal(one.tap_w, many.tap_w[:, 2:])


def test_random_data_shares_the_one_channel_generator():
    spec = ca.conv2d(5, 3, in_channels=2, out_channels=3, bias=True)
    x, w, b = random_channel_arrays(spec.input_shape, spec.weight_shape, spec.bias_shape, 4)
    rng = np.random.default_rng(4)
    assert np.array_equal(x, rng.integers(0, 4, (2, 5, 5)))
    assert np.array_equal(w, rng.integers(0, 3, (3, 2, 3, 3)))
    assert np.array_equal(b, rng.integers(0, 3, 3))  # drawn after the weights
    one_x, one_w = random_arrays((5, 5), (3, 3), 4)
    x1, w1, _ = random_channel_arrays((1, 5, 5), (1, 1, 3, 3), None, 4)
    assert np.array_equal(x1[0], one_x) and np.array_equal(w1[0, 0], one_w)


def test_trace_of_gives_a_channel_trace_and_one_channel_stays_the_engine_s():
    assert isinstance(ca.trace_of(ca.conv2d(5, 3, in_channels=2)), ChannelTrace)
    assert isinstance(ca.trace_of(ca.conv2d(5, 3, bias=True)), ChannelTrace)
    assert isinstance(ca.trace_of(ca.conv2d(5, 3)), ca.Trace)


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN_TRACES.glob("*.json")))
def test_one_channel_trace_files_unchanged_byte_for_byte(name):
    specs = {
        "conv_i5_k3_s2_p1": ca.conv2d(5, 3, 2, 1),
        "conv_i5x7_k3x2_s2x1_p1x0_d1x2": ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0), (1, 2)),
        "tconv_i3_k3_s2_p1_op1": ca.conv_transpose2d(3, 3, 2, 1, output_padding=1),
        "tconv_i2_k2_s2_scatter": ca.conv_transpose2d(2, 2, 2, view="scatter"),
        "maxpool_i5_k3_s1": ca.pool2d("max", 5, 3, 1),
        "avgpool_i6_k2": ca.pool2d("avg", 6, 2),
    }
    expected = (GOLDEN_TRACES / f"{name}.json").read_text(encoding="utf-8")
    assert trace_json(ca.trace_of(specs[name], seed=4)) == expected
    assert '"format"' not in expected  # one-channel files stay format 1, without the field


@pytest.mark.parametrize("spec", [
    ca.conv2d(5, 3, 2, 1, 1, 3, 2, 1, True),
    ca.conv_transpose2d(3, 3, 2, 1, 1, 0, "gather", 2, 4, 2, True),
    ca.pool2d("max", 5, 3, 1, in_channels=2),
], ids=lambda s: s.short_name())
def test_trace_document_format_2(spec):
    doc = json.loads(trace_json(ca.trace_of(spec, seed=3)))
    assert doc["format"] == 2
    assert (doc["in_channels"], doc["out_channels"], doc["groups"]) == (
        spec.in_channels, spec.out_channels, spec.groups)
    x, y = np.array(doc["input"]), np.array(doc["output"])
    assert x.shape == spec.input_shape and y.shape == spec.output_shape
    w = None if doc["weight"] is None else np.array(doc["weight"])
    assert (w is None) == spec.pooling and (w is None or w.shape == spec.weight_shape)
    assert (doc["bias"] is None) != spec.bias
    bias = doc["bias"] or [0] * spec.out_channels
    assert len(doc["steps"]) == spec.out_channels * spec.output_size[0] * spec.output_size[1]
    for step in doc["steps"]:
        co = step["output"][0]
        for tap in step["taps"]:
            assert tap["output"] == step["output"] and tap["input"][0] in step["in_channels"]
            xv = x[tuple(tap["input"])]
            assert tap["product"] == (xv if spec.pooling else xv * w[tuple(tap["weight"])])
        assert step["value"] == y[tuple(step["output"])]
        if not spec.pooling:
            assert step["value"] == sum(t["product"] for t in step["taps"]) + bias[co]
        assert len(step["padding"]) <= len(step["footprint"])


def test_info_states_shapes_parameters_and_the_torch_call():
    spec = ca.conv2d(5, 3, in_channels=3, out_channels=2, bias=True)
    text = info_text(spec)
    assert "shapes: x: 3x5x5, w: 2x3x3x3, b: 2, y: 2x3x3" in text
    assert "parameters: 56 (54 weights + 2 biases)" in text
    assert "frames: 18 " in text
    assert torch_call(spec) == "torch.nn.Conv2d(3, 2, kernel_size=3, groups=1, bias=True)"
    t = ca.conv_transpose2d(3, 3, 2, in_channels=4, out_channels=6, groups=2)
    assert t.weight_shape == (4, 3, 3, 3) and t.n_parameters == 108
    assert torch_call(t) == ("torch.nn.ConvTranspose2d(4, 6, kernel_size=3, stride=2, "
                             "groups=2, bias=False)")
    assert torch_call(ca.conv2d(5, 3, 2, 1)) == "torch.nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1)"


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x3.npy", np.ones((3, 5, 5)))
    np.save(tmp_path / "w2.npy", np.ones((2, 2, 3, 3)))
    np.save(tmp_path / "b3.npy", np.ones(3))
    (tmp_path / "map.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    from PIL import Image
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (5, 4, 3), dtype=np.uint8), "RGB").save(tmp_path / "rgb.png")
    Image.fromarray(rng.integers(0, 256, (5, 4), dtype=np.uint8), "L").save(tmp_path / "grey.png")
    return tmp_path


def test_info_command(capsys, in_tmp):
    code, out, _ = run(["info", "--i", "5", "--k", "3", "--cin", "3", "--cout", "2", "--bias"],
                       capsys)
    assert code == 0
    assert "x: 3x5x5, w: 2x3x3x3, b: 2, y: 2x3x3" in out
    assert "torch.nn.Conv2d(3, 2, kernel_size=3, groups=1, bias=True)" in out
    code, out, _ = run(["info", "--i", "5", "--cin", "3", "--depthwise", "--pointwise",
                        "--json"], capsys)
    doc = json.loads(out)
    assert code == 0 and doc["groups"] == 3 and doc["shapes"]["w"] == [3, 1, 1, 1]


@pytest.mark.parametrize("cmd, spec", [
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--cout", "2"],
     ca.conv2d(5, 3, in_channels=3, out_channels=2)),
    (["conv", "--i", "6", "--k", "3", "--cin", "4", "--cout", "4", "--groups", "2", "--bias"],
     ca.conv2d(6, 3, in_channels=4, out_channels=4, groups=2, bias=True)),
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--depthwise"],
     ca.conv2d(5, 3, in_channels=3, out_channels=3, groups=3)),
    (["conv", "--i", "5", "--cin", "3", "--cout", "4", "--pointwise"],
     ca.conv2d(5, 1, in_channels=3, out_channels=4)),
    (["tconv", "--i", "3", "--k", "3", "--s", "2", "--cin", "2", "--cout", "3"],
     ca.conv_transpose2d(3, 3, 2, in_channels=2, out_channels=3)),
    (["pool", "--i", "4", "--k", "2", "--cin", "3"], ca.pool2d("max", 4, 2, in_channels=3)),
], ids=lambda v: "_".join(v) if isinstance(v, list) else "")
def test_cli_writes_the_trace_with_every_frame(cmd, spec, capsys, in_tmp):
    code, out, err = run(cmd + ["-o", "t.json"], capsys)
    assert code == 0, err
    doc = json.loads((in_tmp / "t.json").read_text())
    assert doc == json.loads(trace_json(ca.trace_of(spec)))
    oh, ow = spec.output_size
    assert len(doc["steps"]) == spec.out_channels * oh * ow


def test_cli_reads_channel_files(capsys, in_tmp):
    code, _, err = run(["conv", "--cin", "3", "--cout", "3", "--input", "x3.npy", "--k", "3",
                        "--bias-file", "b3.npy", "-o", "t.json"], capsys)
    assert code == 0, err
    doc = json.loads((in_tmp / "t.json").read_text())
    assert doc["input_size"] == [5, 5] and doc["bias"] == [1, 1, 1]
    w = np.array(doc["weight"])
    # Every input value is 1: each output value is its filter's sum plus the bias.
    assert np.array_equal(np.array(doc["output"]),
                          np.broadcast_to((w.sum(axis=(1, 2, 3)) + 1)[:, None, None], (3, 3, 3)))
    code, _, err = run(["conv", "--i", "3", "--k", "1", "--input", "map.csv", "--cout", "2",
                        "-o", "u.json"], capsys)
    assert code == 0, err  # a CSV holds one map: the input of one channel
    assert json.loads((in_tmp / "u.json").read_text())["input"] == [[[1, 2, 3], [4, 5, 6],
                                                                     [7, 8, 9]]]
    np.save(in_tmp / "map.npy", np.arange(9.0).reshape(3, 3))  # a 2-D .npy: one map, likewise
    code, _, err = run(["conv", "--k", "1", "--input", "map.npy", "--bias", "-o", "v.json"], capsys)
    assert code == 0, err
    assert np.array(json.loads((in_tmp / "v.json").read_text())["input"]).shape == (1, 3, 3)


ERRORS = [
    (["conv", "--i", "5", "--k", "3", "--cin", "4", "--cout", "6", "--groups", "4"],
     "groups: got 4; out_channels must be divisible by groups", "groups may be 1, 2"),
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--cout", "6", "--groups", "2"],
     "groups: got 2; in_channels must be divisible by groups", "groups may be 1, 3"),
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--cout", "4", "--depthwise"],
     "out_channels: got 4 with --depthwise", "multiple of in_channels 3"),
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--groups", "1", "--depthwise"],
     "groups: got 1 with --depthwise", "drop --groups"),
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--pointwise"],
     "kernel_size: got '3' with --pointwise", "drop --k"),
    (["conv", "--i", "5", "--k", "3", "--bias-file", "b3.npy", "--no-bias"],
     "bias-file: given with --no-bias", ""),
    (["conv", "--i", "5", "--k", "3", "--cin", "2", "--input", "x3.npy", "-o", "t.json"],
     "input: 'x3.npy' is 3x5x5 but the input shape (in_channels, H, W) is 2x5x5", ""),
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--cout", "2", "--weight", "w2.npy",
      "-o", "t.json"],
     "weight: 'w2.npy' is 2x2x3x3 but Conv2d's weight shape (out_channels, "
     "in_channels/groups, K, K) is 2x3x3x3", ""),
    (["tconv", "--i", "3", "--k", "3", "--cin", "3", "--cout", "2", "--weight", "w2.npy",
      "-o", "t.json"],
     "weight: 'w2.npy' is 2x2x3x3 but ConvTranspose2d's weight shape (in_channels, "
     "out_channels/groups, K, K) is 3x2x3x3", ""),
    (["conv", "--i", "5", "--k", "3", "--cout", "2", "--bias-file", "b3.npy", "-o", "t.json"],
     "bias: 'b3.npy' is 3 values but the bias shape (out_channels) is 2 values", ""),
    (["conv", "--i", "5", "--k", "3", "--cin", "2", "--input", "map.csv", "-o", "t.json"],
     "input: 'map.csv' holds one map (3x3)", "several maps come as a .npy"),
    (["tconv", "--i", "3", "--k", "3", "--cin", "2", "--view", "scatter"],
     "view: got 'scatter' with channels", "use --view gather"),
    (["conv", "--i", "5", "--k", "3", "--cin", "3", "--cout", "2", "--numbers", "-o", "a.html"],
     "numbers: the iso picture of channels has no numbers in its cells",
     "use --style flat for the values"),
    (["conv", "--k", "3", "--cin", "3", "--input", "grey.png", "-o", "t.json"],
     "input: 'grey.png' is a greyscale PNG (1 map, 5x4), but the input shape (in_channels, H, W) "
     "is 3x5x4; a PNG gives 3 maps (R, G, B) when it has colour, 1 when it is grey",
     "use --cin 1, a colour PNG, or a .npy of shape 3x5x4"),
    (["conv", "--k", "3", "--cin", "2", "--input", "rgb.png", "-o", "t.json"],
     "input: 'rgb.png' is a colour PNG (3 maps: R, G, B, 5x4), but the input shape "
     "(in_channels, H, W) is 2x5x4", "use --cin 3, or a .npy of shape 2x5x4"),
    (["conv", "--i", "4", "--k", "3", "--cin", "3", "--input", "rgb.png", "-o", "t.json"],
     "input: 'rgb.png' is 3x5x4 but the input shape (in_channels, H, W) is 3x4x4", ""),
    (["conv", "--i", "5", "--k", "3", "--cin", "5000", "-o", "t.json"],
     "in_channels: got 5000; allowed: 1..4096", ""),
    (["info", "--i", "5", "--k", "3", "--cin", "2", "--grad"],
     "grad: the backward pass is described for one channel only", ""),
]


@pytest.mark.parametrize("args, head, rest", ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_channel_errors_are_one_line_exit_2_nothing_written(args, head, rest, capsys, in_tmp):
    before = sorted(p.name for p in in_tmp.iterdir())
    code, out, err = run(args, capsys)
    assert code == 2
    assert err.count("\n") == 1 and head in err and rest in err, err
    assert sorted(p.name for p in in_tmp.iterdir()) == before


def test_limits_count_every_map_of_a_filter():
    spec = ca.conv2d(5, 3, in_channels=4, out_channels=2)
    with pytest.raises(ca.SpecError, match="4x3x3 filter"):
        ca.api.check_limits(spec, max_products=spec.n_steps * 9 * 4 - 1)
    ca.api.check_limits(spec, max_products=spec.n_steps * 9 * 4)


def test_grad_refuses_channels():
    with pytest.raises(ca.SpecError, match="one channel only"):
        ca.grad_of(ca.conv2d(5, 3, in_channels=2))


def test_a_colour_png_is_three_maps_a_grey_png_one(capsys, in_tmp):
    """--cin 3: the R, G, B maps, each scaled as a grey image is (0..255 to 0..3, whole
    numbers); --cin 1 keeps taking a colour PNG as its grey; a (C, H, W) .npy is C maps."""
    from PIL import Image
    from convanim.data import IMAGE_RANGE
    rgb = np.asarray(Image.open("rgb.png"), dtype=np.float64)
    for cmd in (["conv", "--k", "3", "--cin", "3", "--cout", "2"], ["pool", "--k", "2", "--cin", "3"]):
        code, out, err = run([*cmd, "--input", "rgb.png", "-o", "t.json"], capsys)
        assert code == 0, err
        x = np.array(json.loads((in_tmp / "t.json").read_text())["input"])
        assert x.shape == (3, 5, 4)
        assert np.array_equal(x, np.round(np.moveaxis(rgb, 2, 0) / 255 * IMAGE_RANGE))
        assert len(np.unique(x)) > 1
    code, out, err = run(["conv", "--k", "3", "--input", "rgb.png", "-o", "g.json"], capsys)
    assert code == 0, err
    grey = np.asarray(Image.open("rgb.png").convert("L"), dtype=np.float64)
    assert np.array_equal(np.array(json.loads((in_tmp / "g.json").read_text())["input"]),
                          np.round(grey / 255 * IMAGE_RANGE))
    code, out, err = run(["conv", "--k", "3", "--cin", "3", "--input", "x3.npy", "-o", "n.json"],
                         capsys)
    assert code == 0, err
    assert np.array(json.loads((in_tmp / "n.json").read_text())["input"]).shape == (3, 5, 5)
    t = ca.trace_of(ca.conv2d((5, 4), 3, in_channels=3), input="rgb.png")
    assert np.array_equal(t.input, np.round(np.moveaxis(rgb, 2, 0) / 255 * IMAGE_RANGE))


def test_caption_auto_states_the_shapes_parameters_and_torch_call():
    from convanim.info import caption_auto, caption_bands
    spec = ca.conv2d(5, 3, in_channels=3, out_channels=2, bias=True)
    bands = caption_bands(spec)
    assert [k for k, _ in bands] == ["caption"] * 3
    assert bands[0][1][0] == "x: 3\u00d75\u00d75, w: 2\u00d73\u00d73\u00d73, b: 2, y: 2\u00d73\u00d73; 56 parameters"
    assert bands[1][1][0] == "torch.nn.Conv2d(3, 2, kernel_size=3, groups=1, bias=True)"
    assert bands[2][1] == caption_auto(spec)
    pool = caption_bands(ca.pool2d("max", 5, 3, 2, in_channels=3))
    assert pool[0][1][0] == "x: 3\u00d75\u00d75, y: 3\u00d72\u00d72; no parameters"
    assert caption_bands(ca.conv2d(5, 3)) == [("caption", caption_auto(ca.conv2d(5, 3)))]
    # The bands reach both pictures.
    t = ca.trace_of(spec)
    for style in ("iso", "flat"):
        texts = [f for item in ca.layout(t, style=style, caption="auto").static for f in item.texts]
        assert bands[0][1][0] in texts and bands[1][1][0] in texts, style

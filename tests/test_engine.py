"""The engine against the plain-loop reference of the definitions."""

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convanim as ca
from convanim.engine import grid_map

import reference as ref
from strategies import arrays_for, conv_specs, tconv_specs


def tap_set(t):
    return Counter(
        (tuple(map(int, a)), tuple(map(int, b)), tuple(map(int, c)))
        for a, b, c in zip(t.tap_in, t.tap_w, t.tap_out)
    )


@settings(max_examples=150, deadline=None)
@given(spec=conv_specs(), data=st.data())
def test_conv_matches_definition(spec, data):
    x = data.draw(arrays_for(spec.input_size))
    w = data.draw(arrays_for(spec.kernel_size))
    t = ca.trace(spec, np.array(x), np.array(w))
    shape, prods = ref.conv2d_products(*spec.input_size, *spec.kernel_size, spec.stride,
                                       spec.padding, spec.dilation)
    assert spec.output_size == shape
    # Every product exactly once, nothing else.
    assert tap_set(t) == Counter(prods)
    assert max(tap_set(t).values(), default=1) == 1
    np.testing.assert_array_equal(t.output, np.array(ref.apply(shape, prods, x, w)))


@settings(max_examples=150, deadline=None)
@given(spec=conv_specs(), data=st.data())
def test_conv_steps_are_placements(spec, data):
    x = np.array(data.draw(arrays_for(spec.input_size)))
    w = np.array(data.draw(arrays_for(spec.kernel_size)))
    t = ca.trace(spec, x, w)
    oh, ow = spec.output_size
    assert t.n_steps == oh * ow
    kh, kw = spec.kernel_size
    for n in range(t.n_steps):
        oy, ox = divmod(n, ow)
        assert tuple(t.anchor[n]) == (oy, ox)
        sl = t.taps(n)
        assert np.all(t.tap_out[sl] == (oy, ox))
        foot = t.footprint(n)
        assert len(foot) == kh * kw
        # The footprint, on the padded input, is where the definition reads.
        expect = [(oy * spec.stride[0] + a * spec.dilation[0], ox * spec.stride[1] + b * spec.dilation[1])
                  for a in range(kh) for b in range(kw)]
        assert [tuple(f) for f in foot] == expect
        # Taps are the footprint cells that fall on the real input.
        real = [(r - spec.padding[0], c - spec.padding[1]) for r, c in expect
                if 0 <= r - spec.padding[0] < spec.input_size[0] and 0 <= c - spec.padding[1] < spec.input_size[1]]
        assert [tuple(v) for v in t.tap_in[sl]] == real
        assert t.value(n) == pytest.approx(float(np.sum(t.tap_value[sl])))


@settings(max_examples=150, deadline=None)
@given(spec=tconv_specs(), data=st.data())
def test_tconv_matches_definition(spec, data):
    x = data.draw(arrays_for(spec.input_size))
    w = data.draw(arrays_for(spec.kernel_size))
    t = ca.trace(spec, np.array(x), np.array(w))
    shape, prods = ref.tconv2d_products(*spec.input_size, *spec.kernel_size, spec.stride,
                                        spec.padding, spec.dilation, spec.output_padding)
    assert spec.output_size == shape
    assert tap_set(t) == Counter(prods)
    np.testing.assert_array_equal(t.output, np.array(ref.apply(shape, prods, x, w)))


@settings(max_examples=100, deadline=None)
@given(spec=tconv_specs(view="gather"), data=st.data())
def test_gather_and_scatter_agree(spec, data):
    x = np.array(data.draw(arrays_for(spec.input_size)))
    w = np.array(data.draw(arrays_for(spec.kernel_size)))
    g = ca.trace(spec, x, w)
    s = ca.trace(replace(spec, view="scatter"), x, w)
    np.testing.assert_array_equal(g.output, s.output)
    assert tap_set(g) == tap_set(s)
    # Gather: each step's taps share its output cell; scatter: its input cell.
    for n in range(g.n_steps):
        assert np.all(g.tap_out[g.taps(n)] == g.anchor[n])
    assert s.n_steps == spec.input_size[0] * spec.input_size[1]
    for n in range(s.n_steps):
        assert np.all(s.tap_in[s.taps(n)] == s.anchor[n])


@settings(max_examples=100, deadline=None)
@given(spec=tconv_specs(view="gather"))
def test_tconv_gather_is_a_direct_conv_of_the_stretched_input(spec):
    """The lower grid is the input with s-1 zeros between cells, padded d(k-1)-p
    (+output_padding at the bottom/right), swept by the flipped kernel with stride 1."""
    g = grid_map(spec)
    x = np.arange(1, spec.input_size[0] * spec.input_size[1] + 1, dtype=float).reshape(spec.input_size)
    w = np.arange(1, spec.kernel_size[0] * spec.kernel_size[1] + 1, dtype=float).reshape(spec.kernel_size)
    t = ca.trace(spec, x, w)
    (kh, kw), (dh, dw) = spec.kernel_size, spec.dilation
    # Build the stretched, padded input explicitly (cropping where the border is negative).
    big = np.zeros((g.size[0] + 2 * 50, g.size[1] + 2 * 50))
    for iy in range(spec.input_size[0]):
        for ix in range(spec.input_size[1]):
            big[50 + g.origin[0] + iy * spec.stride[0], 50 + g.origin[1] + ix * spec.stride[1]] = x[iy, ix]
    flipped = w[::-1, ::-1]
    oh, ow = spec.output_size
    out = np.zeros((oh, ow))
    for oy in range(oh):
        for ox in range(ow):
            for a in range(kh):
                for b in range(kw):
                    out[oy, ox] += flipped[a, b] * big[50 + oy + a * dh, 50 + ox + b * dw]
    np.testing.assert_array_equal(t.output, out)
    assert g.size[0] - dh * (kh - 1) == oh and g.size[1] - dw * (kw - 1) == ow


@settings(max_examples=100, deadline=None)
@given(data=st.data(), mode=st.sampled_from(["max", "avg"]))
def test_pool_matches_definition(data, mode):
    k = (data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4)))
    d = (1, 1) if mode == "avg" else (data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)))
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    p = (data.draw(st.integers(0, k[0] // 2)), data.draw(st.integers(0, k[1] // 2)))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    i = (data.draw(st.integers(max(1, eff[0] - 2 * p[0]), 8)), data.draw(st.integers(max(1, eff[1] - 2 * p[1]), 8)))
    try:
        spec = ca.pool2d(mode, i, k, s, p, d)
    except ca.SpecError as err:
        # Only a max-pooling window that covers padding alone is refused.
        assert mode == "max" and "covers only padding" in str(err)
        assume(False)
    x = data.draw(arrays_for(spec.input_size))
    t = ca.trace(spec, np.array(x))
    np.testing.assert_allclose(t.output, np.array(ref.pool(x, *k, s, p, d, mode)))
    if mode == "max":
        for n in range(t.n_steps):
            wy, wx = t.winner[n]
            if (wy, wx) == (-1, -1):  # a window of padding only: no winner, -inf as in PyTorch
                assert t.output[tuple(t.anchor[n])] == -np.inf
                continue
            assert x[wy][wx] == t.output[tuple(t.anchor[n])]


def test_seed_is_reproducible_and_in_range():
    spec = ca.conv2d(6, 3)
    a, b = ca.trace_of(spec, seed=7), ca.trace_of(spec, seed=7)
    np.testing.assert_array_equal(a.input, b.input)
    np.testing.assert_array_equal(a.weight, b.weight)
    assert set(np.unique(a.input)) <= {0, 1, 2, 3}
    assert set(np.unique(a.weight)) <= {0, 1, 2}
    assert not np.array_equal(ca.trace_of(spec, seed=8).input, a.input)


def test_article_example_i4_k3():
    # The article: i=4, k=3, s=1, p=0 gives a 2x2 output, 4 placements of 9 products.
    t = ca.trace_of(ca.conv2d(4, 3))
    assert t.spec.output_size == (2, 2)
    assert np.diff(t.step_start).tolist() == [9, 9, 9, 9]


def test_trace_arrays_are_read_only():
    t = ca.trace_of(ca.conv2d(4, 3))
    with pytest.raises(ValueError):
        t.output[0, 0] = 1


def test_torch_agrees_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    for spec in [ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0), (1, 2)),
                 ca.conv_transpose2d((3, 4), (3, 2), (2, 3), (1, 0), (1, 2), (1, 2))]:
        x = rng.integers(-3, 4, spec.input_size).astype(float)
        w = rng.integers(-3, 4, spec.kernel_size).astype(float)
        t = ca.trace(spec, x, w)
        tx = torch.tensor(x)[None, None]
        tw = torch.tensor(w)[None, None]
        if spec.transposed:
            y = torch.nn.functional.conv_transpose2d(tx, tw, stride=spec.stride, padding=spec.padding,
                                                     output_padding=spec.output_padding, dilation=spec.dilation)
        else:
            y = torch.nn.functional.conv2d(tx, tw, stride=spec.stride, padding=spec.padding, dilation=spec.dilation)
        np.testing.assert_allclose(t.output, y[0, 0].numpy())

"""Hypothesis strategies for random, valid specs (non-square, strided, padded, dilated)."""

from hypothesis import assume
from hypothesis import strategies as st

import convanim as ca

small = st.integers(1, 4)


@st.composite
def conv_specs(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(small), draw(small))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    lo = (max(1, eff[0] - 2 * p[0]), max(1, eff[1] - 2 * p[1]))
    i = (draw(st.integers(lo[0], lo[0] + 6)), draw(st.integers(lo[1], lo[1] + 6)))
    return ca.conv2d(i, k, s, p, d)


@st.composite
def tconv_specs(draw, view=None):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(small), draw(small))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    a = (draw(st.integers(0, max(s[0], d[0]) - 1)), draw(st.integers(0, max(s[1], d[1]) - 1)))
    i = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    o = [(ii - 1) * ss - 2 * pp + dd * (kk - 1) + aa + 1
         for ii, kk, ss, pp, dd, aa in zip(i, k, s, p, d, a)]
    assume(min(o) >= 1)
    v = draw(st.sampled_from(["gather", "scatter"])) if view is None else view
    return ca.conv_transpose2d(i, k, s, p, d, a, v)


@st.composite
def arrays_for(draw, shape, lo=-5, hi=5):
    return [[draw(st.integers(lo, hi)) for _ in range(shape[1])] for _ in range(shape[0])]


@st.composite
def pool_specs(draw, mode=None):
    mode = draw(st.sampled_from(["max", "avg"])) if mode is None else mode
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (1, 1) if mode == "avg" else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    s = (draw(small), draw(small))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    eff = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    lo = (max(1, eff[0] - 2 * p[0]), max(1, eff[1] - 2 * p[1]))
    i = (draw(st.integers(lo[0], lo[0] + 5)), draw(st.integers(lo[1], lo[1] + 5)))
    try:
        return ca.pool2d(mode, i, k, s, p, d)
    except ca.SpecError:  # a window on padding alone (max with dilation)
        assume(False)

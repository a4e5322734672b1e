"""The overlap view: products per output cell, its legend, caption and every backend's input."""

from collections import Counter

import numpy as np
from hypothesis import given, settings

import convanim as ca
from convanim.overlap import overlap_caption, overlap_of, residue_counts, shade
from convanim.theme import CLASSIC

import reference as ref
from strategies import tconv_specs


@settings(max_examples=60, deadline=None)
@given(tconv_specs())
def test_counts_are_the_taps_per_output_cell(spec):
    t = ca.trace_of(spec)
    ov = overlap_of(t)
    taps = Counter(map(tuple, t.tap_out.tolist()))
    for (r, c), n in np.ndenumerate(ov.counts):
        assert n == taps.get((r, c), 0)
    # ... and the definition's products, counted by plain loops.
    shape, prods = ref.tconv2d_products(*spec.input_size, *spec.kernel_size, spec.stride,
                                        spec.padding, spec.dilation, spec.output_padding)
    want = Counter(o for _, _, o in prods)
    assert all(ov.counts[o] == n for o, n in want.items()) and ov.counts.sum() == len(prods)


def test_caption_says_whether_k_is_divisible_by_s():
    odd = overlap_caption(ca.conv_transpose2d(4, 3, 2))[0]
    assert "3 is not divisible by 2" in odd and "checkerboard" in odd and "1, 2 or 4" in odd
    even = overlap_caption(ca.conv_transpose2d(4, 4, 2))[0]
    assert "4 is divisible by 2" in even and "even pattern" in even and "gets 4 products" in even
    assert residue_counts(3, 2, 0, 1) == [2, 1] and residue_counts(4, 2, 0, 1) == [2, 2]


def test_interior_counts_match_the_caption():
    for k, s, levels in ((3, 2, {1, 2, 4}), (4, 2, {4})):
        t = ca.trace_of(ca.conv_transpose2d(6, k, s))
        inner = overlap_of(t).counts[k:-k, k:-k]
        assert set(np.unique(inner)) == levels


def _last_fills(sc, step):
    still = sc.still(step)
    fills = {}
    for op in still.shapes:
        if getattr(op, "role", None) == "overlap" and op.cell and op.cell[0] == "output":
            fills[op.cell[1:]] = op.fill
    return fills


def test_last_frame_shades_each_cell_by_its_count_in_every_view_and_style():
    for view in ("scatter", "gather"):
        t = ca.trace_of(ca.conv_transpose2d(3, 3, 2, view=view))
        ov = overlap_of(t)
        for style in ("iso", "flat"):
            sc = ca.scene(t, style=style, overlay="overlap", numbers=True)
            fills = _last_fills(sc, sc.n_frames - 1)
            assert len(fills) == ov.counts.size
            for (r, c), fill in fills.items():
                assert fill == shade(CLASSIC, int(ov.counts[r, c]), ov.top)
            texts = {op.cell[1:]: op.text for op in sc.frame(sc.n_frames - 1).texts
                     if getattr(op, "cell", None) and op.cell[0] == "output"}
            assert texts == {(r, c): str(int(n)) for (r, c), n in np.ndenumerate(ov.counts)}
            legend = [op.text for op in sc.frame(0).texts if op.kind == "legend"]
            assert legend == [str(v) for v in ov.levels]


def test_scatter_counts_grow_frame_by_frame():
    t = ca.trace_of(ca.conv_transpose2d(3, 3, 2, view="scatter"))
    sc = ca.scene(t, overlay="overlap")
    ov = overlap_of(t)
    first = _last_fills(sc, 0)
    assert set(first) == set(map(tuple, t.tap_out[t.taps(0)].tolist()))
    assert all(f == shade(CLASSIC, 1, ov.top) for f in first.values())


def test_grad_input_overlap_is_the_transposed_convolutions():
    f = ca.conv2d(5, 3, 2, 1)
    g = ca.trace_of(ca.conv2d_grad(f, "input", "scatter"))
    t = ca.trace_of(ca.transpose_of(f, "scatter"))
    np.testing.assert_array_equal(overlap_of(g).counts, overlap_of(t).counts)


def test_uneven_along_one_axis_is_stripes():
    text = overlap_caption(ca.conv_transpose2d(4, (3, 4), 2))[0]
    assert "rows k=3, s=2: 3 is not divisible by 2" in text and "columns k=4" in text
    assert text.endswith("2 or 4 products, stripes")
    t = ca.trace_of(ca.conv_transpose2d(6, (3, 4), 2))
    inner = overlap_of(t).counts[3:-3, 4:-4]
    assert (inner == inner[:, :1]).all() and len(np.unique(inner)) == 2  # constant along rows

"""textfit: the fitting shortcuts choose exactly what measuring every size would."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convanim import textfit
from convanim.text import product_sum


def plain_fit(texts, size, slot, face=None):
    """The definition: each form from the largest size down, measured every time."""
    ss = textfit.METRIC_SCALE
    nominal = int(size * ss)
    for n, text in enumerate(texts):
        last = n == len(texts) - 1
        floor = textfit.MIN_FONT * ss if last else max(textfit.MIN_FONT * ss,
                                                       textfit.SHRINK_FLOOR * nominal)
        px = nominal
        while px >= floor:
            l, t, r, b = textfit.ink(text, px, face)
            w, h = (r - l) / ss, (b - t) / ss
            rect = (-w / 2, -h / 2, w / 2, h / 2)
            corners = ((rect[0], rect[1]), (rect[2], rect[1]), (rect[2], rect[3]), (rect[0], rect[3]))
            if textfit._inside(corners, slot):
                return text, px, rect, (l, t, r, b)
            px = min(px - 1, int(px * 0.93))
    return None


def _forms(n: int) -> tuple[str, ...]:
    xs = [float(v % 4) for v in range(n)]
    ws = [float(v % 3 - 1) for v in range(n)]
    return tuple(product_sum(xs, ws, sum(x * w for x, w in zip(xs, ws))))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 120), width=st.floats(20, 900), height=st.floats(8, 60),
       size=st.floats(7, 24), skew=st.floats(0, 15))
def test_fit_with_shortcuts_equals_measuring_every_size(n, width, height, size, skew):
    forms = _forms(n)
    w, h = width / 2, height / 2
    slot = ((-w + skew, -h), (w + skew, -h), (w - skew, h), (-w - skew, h))  # iso slots lean
    textfit._fit_rel.cache_clear()
    assert textfit._fit_rel(forms, size, slot, None) == plain_fit(forms, size, slot)


def test_product_sum_has_many_forms_for_a_large_kernel():
    """The case the shortcuts are for (issue 17: a 20x20 kernel took seconds a frame)."""
    assert len(_forms(400)) > 10
    pytest.importorskip("PIL")


@pytest.mark.parametrize("n", [9, 49, 400])
def test_every_slot_width_picks_the_form_and_size_that_measuring_picks(n):
    """A sweep of slot widths walks through every form of the sum line, each at every
    size it shrinks through: the shortcuts must land where the plain scan lands."""
    forms = _forms(n)
    for width in range(20, 1600, 7):
        slot = ((-width / 2, -9), (width / 2, -9), (width / 2, 9), (-width / 2, 9))
        assert textfit._fit_rel(forms, 12.0, slot, None) == plain_fit(forms, 12.0, slot), width

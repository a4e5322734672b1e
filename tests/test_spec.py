import pytest

import convanim as ca
from convanim.params import SpecError, to_pair


@pytest.mark.parametrize("given, expect", [
    (5, (5, 5)), ("5", (5, 5)), ("5,7", (5, 7)), ("5x7", (5, 7)), ("5X7", (5, 7)),
    (" 5 , 7 ", (5, 7)), ((5, 7), (5, 7)), ([3], (3, 3)),
])
def test_to_pair_accepts(given, expect):
    assert to_pair(given, "input_size") == expect


@pytest.mark.parametrize("given, words", [
    ("0", ">= 1"), (-1, ">= 1"), ("a", "whole numbers"), ("1,2,3", "3 values"),
    ("", "0 values"), (2.5, "whole number"), ("2.5", "whole numbers"), (True, "whole number"),
])
def test_to_pair_rejects(given, words):
    with pytest.raises(SpecError) as err:
        to_pair(given, "stride")
    assert "stride" in str(err.value) and words in str(err.value)


@pytest.mark.parametrize("i, k, s, p, d, o", [
    (5, 3, 2, 1, 1, (3, 3)), (6, 3, 2, 1, 1, (3, 3)), (4, 3, 1, 0, 1, (2, 2)),
    (7, 3, 1, 0, 2, (3, 3)), ((5, 7), (3, 2), (2, 1), (1, 0), 1, (3, 6)),
    (5, 4, 1, 2, 1, (6, 6)), (5, 3, 1, "same", 1, (5, 5)), (5, 3, 1, "full", 1, (7, 7)),
    (5, 3, 1, "valid", 1, (3, 3)), (9, 3, 1, "same", 2, (9, 9)),
])
def test_conv_output_size(i, k, s, p, d, o):
    assert ca.conv2d(i, k, s, p, d).output_size == o


def test_padding_keywords_resolve():
    assert ca.conv2d(5, 3, padding="same").padding == (1, 1)
    assert ca.conv2d(5, 3, padding="full", dilation=2).padding == (4, 4)
    assert ca.conv2d(5, (3, 5), padding="same").padding == (1, 2)


@pytest.mark.parametrize("kwargs, words", [
    (dict(input_size=3, kernel_size=5), ["kernel_size", "5", "padded input", "range from 1 to 3"]),
    (dict(input_size=5, kernel_size=3, dilation=3), ["effective kernel", "7", "dilation 3"]),
    (dict(input_size=5, kernel_size=3, stride=2, padding="same"), ["same", "stride 1", "stride 2"]),
    (dict(input_size=5, kernel_size=2, padding="same"), ["same", "odd", "2"]),
    (dict(input_size=5, kernel_size=3, padding=-1), ["padding", "-1", ">= 0"]),
    (dict(input_size=5, kernel_size=3, padding="half"), ["padding", "half", "valid, same, full"]),
])
def test_conv_errors_name_parameter_and_allowed(kwargs, words):
    with pytest.raises(SpecError) as err:
        ca.conv2d(**kwargs)
    for w in words:
        assert w in str(err.value)


def test_tconv_sizes_and_errors():
    assert ca.conv_transpose2d(3, 3, 2, 1).output_size == (5, 5)
    assert ca.conv_transpose2d(3, 3, 2, 1, output_padding=1).output_size == (6, 6)
    assert ca.conv_transpose2d(2, 3).output_size == (4, 4)
    with pytest.raises(SpecError, match="output_padding.*smaller than the stride or the dilation"):
        ca.conv_transpose2d(3, 3, 2, 1, output_padding=2)
    # allowed by a larger dilation, as in PyTorch
    assert ca.conv_transpose2d(3, 3, 1, 0, 3, 2).output_size == (11, 11)
    with pytest.raises(SpecError, match="output of -?\\d+x"):
        ca.conv_transpose2d(1, 1, 1, 1)
    with pytest.raises(SpecError, match="view"):
        ca.conv_transpose2d(3, 3, view="sideways")


@pytest.mark.parametrize("i, k, s, p", [(4, 3, 1, 0), (5, 3, 2, 1), (6, 3, 2, 1), (5, 4, 1, 2),
                                        ((7, 5), (3, 2), (3, 2), (1, 0)), (8, 3, 3, 0)])
def test_transpose_of_round_trips_shape(i, k, s, p):
    conv = ca.conv2d(i, k, s, p)
    t = ca.transpose_of(conv)
    assert t.input_size == conv.output_size
    assert t.output_size == conv.input_size


def test_short_name():
    assert ca.conv2d(5, 3, 2, 1).short_name() == "conv_i5_k3_s2_p1"
    assert ca.conv2d((5, 7), 3).short_name() == "conv_i5x7_k3"
    assert ca.conv2d(7, 3, dilation=2).short_name() == "conv_i7_k3_d2"


def test_max_pool_window_on_padding_only_is_refused():
    # PyTorch returns -inf for such a window; a figure of it would show nothing real.
    with pytest.raises(SpecError, match="covers only padding"):
        ca.pool2d("max", 1, (2, 1), 1, (1, 0), (2, 1))
    assert ca.pool2d("avg", 1, (3, 1), 1, (1, 0)).output_size == (1, 1)

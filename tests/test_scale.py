"""--scale F: the picture F times as large, line widths and text included."""

import numpy as np
import pytest

import convanim as ca
from convanim.api import LimitError, check_limits
from convanim.scale import scaled

T = ca.trace_of(ca.conv2d(5, 3, 2, 1))


def rgb(im) -> np.ndarray:
    return np.asarray(im.convert("RGB")).astype(float)


def halved_difference(small, big) -> float:
    """Mean difference (0..255) between ``small`` and ``big`` box-filtered to half size."""
    a, b = rgb(small), rgb(big.convert("RGB").reduce(2))
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return float(np.abs(a[:h, :w] - b[:h, :w]).mean())


@pytest.mark.parametrize("style", ["iso", "flat"])
def test_scale_2_frames_are_the_scale_1_frames_twice_as_large(style):
    ones = ca.render(T, style=style, caption="auto")
    twos = ca.render(T, style=style, caption="auto", scale=2)
    assert len(ones) == len(twos)
    for one, two in zip(ones, twos):
        assert two.size == (2 * one.size[0], 2 * one.size[1])
        # Measured 1.1-1.3; a one-pixel shift of the same frame is 4.8-8.1.
        assert halved_difference(one, two) < 2.0
    # A bigger grid with the same thin lines and small text is not that picture.
    big = ca.render(T, style=style, cell=64)[4]
    assert halved_difference(ca.render(T, style=style)[4], big) > 2.5


def test_everything_scales_in_the_scene():
    one, two = ca.scene(T, caption="auto"), ca.scene(T, caption="auto", scale=2)
    assert two.line_width == 2 * one.line_width
    for a, b in zip(one.low + one.high, two.low + two.high):
        if hasattr(a, "points"):
            assert b.points == tuple((x * 2, y * 2) for x, y in a.points) and b.width == 2 * a.width
        else:
            assert b.size == 2 * a.size and (b.x, b.y) == (2 * a.x, 2 * a.y) and b.text == a.text
    # The same operation of two frames is one scaled object (the raster reuses by object).
    flat = ca.scene(T, style="flat", scale=2)
    ops0, ops1 = (lambda f: f.under + f.fresh + f.over + f.texts)(flat.frame(0)), \
        (lambda f: f.under + f.fresh + f.over + f.texts)(flat.frame(1))
    pairs = [(a, b) for a in ops0 for b in ops1 if a == b]
    assert pairs and all(a is b for a, b in pairs)
    assert scaled(one, 1) is one


def test_svg_and_pdf_scale_too(tmp_path):
    svg = ca.save(T, tmp_path / "a.svg", scale=2).read_text()
    w, h = ca.scene(T).size
    assert f'width="{2 * w}" height="{2 * h}"' in svg and "stroke-width:2;" in svg


def test_limits_are_on_the_scaled_size():
    w, h = ca.scene(T).size
    check_limits(T, max_size=max(w, h))
    with pytest.raises(LimitError, match="--scale 2"):
        check_limits(T, max_size=max(w, h), scale=2)
    with pytest.raises(ca.SpecError, match="scale"):
        ca.scene(T, scale=0)


def test_scale_on_the_command_line(tmp_path, monkeypatch, capsys):
    from convanim.cli import main
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["conv", "--i", "5", "--k", "3", "--scale", "2", "--max-size", "500"])
    assert e.value.code == 2 and "--scale 2" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())

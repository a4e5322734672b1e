"""Python use: saving into file objects, and the inline display of Jupyter."""

import base64
import io
import re

import pytest
from PIL import Image

import convanim as ca
from convanim import formats
from convanim.params import SpecError

T = ca.trace_of(ca.conv2d(4, 3, 1, 1))


@pytest.mark.parametrize("name", [f.name for f in formats.FORMATS.values() if f.animation or f.trace])
def test_save_into_bytesio_equals_the_file(name, tmp_path):
    buf = io.BytesIO()
    assert ca.save(T, buf, format=name) is buf
    suffix = formats.NAMES[name]
    assert buf.getvalue() == ca.save(T, tmp_path / f"a{suffix}").read_bytes()


@pytest.mark.parametrize("suffix", formats.STILLS)
def test_save_a_still_into_bytesio(suffix, tmp_path):
    buf = io.BytesIO()
    ca.save(T, buf, format=suffix, frame=3)
    assert buf.getvalue() == ca.save(T, tmp_path / f"a{suffix}", frame=3).read_bytes()


def test_save_into_an_open_file_takes_the_format_from_its_name(tmp_path):
    with open(tmp_path / "x.webp", "wb") as fp:
        ca.save(T, fp)
    with Image.open(tmp_path / "x.webp") as im:
        assert im.format == "WEBP" and im.n_frames == T.n_steps


def test_a_file_object_needs_a_format():
    with pytest.raises(SpecError, match="format"):
        ca.save(T, io.BytesIO())
    with pytest.raises(SpecError, match="'tiff'"):
        ca.save(T, io.BytesIO(), format="tiff")
    with pytest.raises(SpecError, match="suffix"):
        ca.save(T, "a.gif", format="svg")


def gif_of(html: str) -> Image.Image:
    data = re.fullmatch(r'<img src="data:image/gif;base64,([^"]+)" alt="[^"]*">', html).group(1)
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_a_trace_shows_itself_as_its_animation():
    with gif_of(T._repr_html_()) as im:
        assert im.n_frames == T.n_steps
        # Small for a notebook: drawn at 24 px cells.
        assert im.size == ca.layout(T, cell=24).size


def test_show_returns_a_displayable_animation():
    shown = ca.show(T, style="flat", loop=1)
    assert isinstance(shown, ca.Animation) and shown.format == "gif"
    with gif_of(shown._repr_html_()) as im:
        assert im.n_frames == T.n_steps and "loop" not in im.info  # plays once
    svg = ca.show(T, format="svg")._repr_html_()
    assert svg.startswith('<img src="data:image/svg+xml;base64,')
    with pytest.raises(SpecError):
        ca.show(T, format="pdf")


def test_a_trace_above_the_limits_says_why_instead():
    big = ca.trace_of(ca.conv2d(60, 3))
    html = big._repr_html_()
    assert html.startswith("<pre>") and "--max-frames" in html

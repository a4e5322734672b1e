"""The interactive page (-o fig.html): one self-contained file, its data from the trace,
user text escaped. Its behaviour in a browser is tested in test_browser.py."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convanim as ca
from convanim import formats
from convanim.backends.html import figure_page, script_json
from convanim.backends.html.data import page_data
from convanim.backends.html.page import asset, contrast, page_colours, theme_css
from convanim.cli import main
from convanim.flat import step_text
from convanim.theme import CLASSIC, DARK, PRINT

HOSTILE = "</script><img src=x onerror=alert(1)> \"q\" 'q' <!-- --> & \u2028"


class Tags(HTMLParser):
    """The start tags of a page, and the text of its JSON script."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.data: list[str] = []
        self._in_data = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_data = tag == "script" and dict(attrs).get("id") == "ca-data"

    def handle_endtag(self, tag):
        self._in_data = False

    def handle_data(self, data):
        if self._in_data:
            self.data.append(data)


def parsed(page: str) -> Tags:
    p = Tags()
    p.feed(page)
    return p


def page_of(spec, **look) -> tuple[str, ca.Trace]:
    t = ca.trace_of(spec, seed=0)
    return figure_page(t, ca.scene(t, **look)), t


def test_html_is_an_animation_format():
    fmt = formats.FORMATS[".html"]
    assert fmt.animation is not None and fmt.still is None and fmt.picture
    assert ".html" in formats.ANIMATIONS and ".html" not in formats.RASTER_ANIMATIONS


def test_cli_writes_a_page_and_refuses_a_single_frame(tmp_path, capsys):
    out = tmp_path / "p.html"
    with pytest.raises(SystemExit) as exc:
        main(["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "1", "-o", str(out)])
    assert exc.value.code == 0 and out.read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(SystemExit) as exc:
        main(["conv", "--i", "5", "--k", "3", "--frame", "2", "-o", str(tmp_path / "f.html")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("convanim: error: output:") and ".html is an animation" in err
    assert not (tmp_path / "f.html").exists()


def test_page_is_self_contained_and_light():
    page, t = page_of(ca.conv2d(5, 3, stride=2, padding=1))  # padding_strides
    assert len(page.encode()) <= 60_000
    tags = parsed(page).tags
    assert [a for tag, a in tags if tag == "script" and "src" in a] == []
    assert [a for tag, a in tags if tag == "link"] == []
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    assert asset("page.js") in page and asset("page.css") in page
    slider = next(a for tag, a in tags if tag == "input")
    assert slider["type"] == "range" and slider["min"] == "0" and slider["max"] == str(t.n_steps - 1)
    buttons = [a for tag, a in tags if tag == "button"]
    assert all(b.get("aria-label") for b in buttons) and len(buttons) == 4
    assert "torch.nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1)" in page
    # The SVG without its CSS clock: no keyframes, the script shows the frames.
    assert "@keyframes" not in page and 'data-frames="' in page


def test_page_data_comes_from_the_trace():
    spec = ca.conv_transpose2d(3, 3, stride=2, padding=1)
    t = ca.trace_of(spec, seed=3)
    scene = ca.scene(t, style="flat")
    d = page_data(t, scene, 500, 3)
    assert d["frames"] == t.n_steps and d["ms"] == 500 and d["plays"] == 3
    assert d["text"] == [step_text(t, n)[0] for n in range(t.n_steps)]
    assert d["taps"][:6] == [*map(int, t.tap_in[0]), *map(int, t.tap_w[0]), *map(int, t.tap_out[0])]
    assert d["start"][-1] == len(d["p"]) == len(t.tap_value) and d["flip"] is True
    # The grid map reproduces the scene's own cell quads.
    quads = {op.cell: op.points for op in scene.low if getattr(op, "cell", None)}
    for (grid, r, c), q in quads.items():
        g = d["grids"][grid]
        x = g["o"][0] + c * g["u"][0] + r * g["v"][0]
        y = g["o"][1] + c * g["u"][1] + r * g["v"][1]
        assert (x, y) == pytest.approx(q[0], abs=1e-3)
    assert set(d["hit"]) == {"input", "kernel", "output"}


def test_script_json_cannot_end_its_script():
    text = script_json({"t": HOSTILE})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"t": HOSTILE}


def test_hostile_title_and_caption_make_no_element():
    page, _ = page_of(ca.conv2d(4, 3), title=HOSTILE, caption=HOSTILE)
    p = parsed(page)
    assert [tag for tag, _ in p.tags if tag in ("img", "b", "iframe")] == []
    assert sum(tag == "script" for tag, _ in p.tags) == 2
    assert json.loads("".join(p.data))["frames"] == 4
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)
    assert "<" not in title and "&lt;/script&gt;" in title and "&quot;q&quot;" in title


@pytest.mark.parametrize("theme", [CLASSIC, DARK, PRINT])
def test_page_colours_follow_the_theme(theme):
    css = theme_css(theme.background)
    bg = "#{:02x}{:02x}{:02x}".format(*theme.background)
    assert f"--ca-bg:{bg}" in css
    fg, muted, accent = page_colours(theme.background)
    assert contrast(fg, theme.background) >= 7
    assert contrast(muted, theme.background) >= 4.5 and contrast(accent, theme.background) >= 3


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_page_colours_keep_contrast_on_any_background(background):
    fg, muted, accent = page_colours(background)
    assert contrast(fg, background) >= 4.5  # the best black-ish or white-ish text can do
    assert contrast(muted, background) >= 4.5 and contrast(accent, background) >= 3


def test_every_style_and_view_writes_a_page(tmp_path):
    for spec, look in ((ca.conv2d(4, 3), {"numbers": True}),
                       (ca.pool2d("avg", 4, 2), {"style": "flat"}),
                       (ca.conv_transpose2d(2, 2, stride=2, view="scatter"), {}),
                       (ca.conv_transpose2d(2, 3, view="scatter"), {"style": "flat"})):
        t = ca.trace_of(spec)
        path = ca.save(t, tmp_path / "x.html", **look)
        d = json.loads("".join(parsed(path.read_text()).data))
        assert d["frames"] == t.n_steps and d["view"] == spec.view


@pytest.mark.parametrize("spec", [
    ca.conv2d(4, 3, in_channels=2, out_channels=3, bias=True),
    ca.conv_transpose2d(3, 3, 2, in_channels=4, out_channels=2, groups=2),
    ca.pool2d("avg", 4, 2, in_channels=2),
], ids=lambda s: s.short_name())
def test_a_channel_page_has_the_trace_with_its_channel_axes(spec, tmp_path):
    """The flat picture of channels as a page: x, w, y with their channel axes, each tap's
    [ci, r, c, weight index, co, r, c], the rows' and output maps' grids, the Σ lines."""
    from convanim.flat_channels import step_lines
    t = ca.trace_of(spec, seed=2)
    path = ca.save(t, tmp_path / "c.html", style="flat")
    d = json.loads("".join(parsed(path.read_text()).data))
    assert d["frames"] == t.n_steps
    assert d["x"] == t.input.tolist()
    assert np.allclose(np.array(d["y"]), t.output) and np.array(d["y"]).shape == t.output.shape
    assert d["w"] == (None if t.weight is None else t.weight.tolist())
    width = 6 + t.tap_w.shape[1]
    assert d["ch"]["tw"] == t.tap_w.shape[1] and len(d["taps"]) == width * len(t.tap_value)
    for n in (0, len(t.tap_value) - 1):
        assert d["taps"][width * n:width * (n + 1)] == [
            *map(int, t.tap_in[n]), *map(int, t.tap_w[n]), *map(int, t.tap_out[n])]
    assert d["text"] == step_lines(t)
    maps = spec.in_channels // spec.groups
    want = ({f"in{j}" for j in range(maps)} | {f"out{co}" for co in range(spec.out_channels)}
            | (set() if spec.pooling else {f"k{j}" for j in range(maps)}))
    assert set(d["grids"]) == set(d["hit"]) == want
    assert d["ch"]["maps"] == maps and d["ch"]["perOut"] == spec.out_channels // spec.groups
    assert d["ch"]["bias"] == (None if t.bias is None else t.bias.tolist())
    assert d["flip"] is spec.transposed
    html = path.read_text()
    assert f'max="{t.n_steps - 1}"' in html and step_lines(t)[0].split(" = ")[0] in html


@pytest.mark.parametrize("spec", [
    ca.conv2d(5, 3, in_channels=3, out_channels=2, bias=True),
    ca.conv_transpose2d(3, 3, 2, in_channels=4, out_channels=2, groups=2, bias=True),
    ca.pool2d("max", 4, 2, in_channels=3),
], ids=lambda s: s.short_name())
def test_an_iso_channel_page_has_the_trace_and_its_stacked_maps(spec, tmp_path):
    """The iso picture of channels as a page (the command-line default style): x, w, y
    with their channel axes, each tap's [ci, r, c, weight index, co, r, c]; a grid per
    map, every input map (stacked, no kernel grid), tried by the pointer top-most first
    (the still picture's drawing order, reversed); each input map names the maps drawn
    over it; the step line names the value, its maps' partial sums and the bias."""
    from convanim.flat_channels import step_lines
    t = ca.trace_of(spec, seed=2)
    path = ca.save(t, tmp_path / "c.html")
    d = json.loads("".join(parsed(path.read_text()).data))
    assert d["frames"] == t.n_steps and d["ch"]["stacked"] is True
    assert d["x"] == t.input.tolist() and d["w"] == (None if t.weight is None else t.weight.tolist())
    assert np.allclose(np.array(d["y"]), t.output) and np.array(d["y"]).shape == t.output.shape
    width = 6 + t.tap_w.shape[1]
    assert len(d["taps"]) == width * len(t.tap_value)
    for n in (0, len(t.tap_value) - 1):
        assert d["taps"][width * n:width * (n + 1)] == [
            *map(int, t.tap_in[n]), *map(int, t.tap_w[n]), *map(int, t.tap_out[n])]
    ins = [f"in{ci}" for ci in range(spec.in_channels)]
    outs = [f"out{co}" for co in range(spec.out_channels)]
    assert d["hit"] == outs + ins and set(d["grids"]) == set(ins + outs)
    drawn = []
    for op in ca.scene(t).low:
        if getattr(op, "cell", None) and op.cell[0] not in drawn:
            drawn.append(op.cell[0])
    assert drawn[::-1] == d["hit"]  # the top map (drawn last) first
    # Every map drawn over an input map that meets it (by its extent in the layout) is in
    # its "under" list, the one just above it always: a highlight there is hidden by them.
    planes = ca.layout(t).maps
    for k, name in enumerate(ins):
        x0, y0, x1, y1 = planes[k].extent()
        meets = [ins[j] for j in range(k) if planes[j].extent()[1] < y1 and y0 < planes[j].extent()[3]
                 and planes[j].extent()[0] < x1 and x0 < planes[j].extent()[2]]
        assert d["grids"][name]["under"] == meets and (k == 0 or meets[-1] == ins[k - 1])
    assert all(d["grids"][name]["under"] == [] for name in outs)  # each output map seen whole
    sizes = {tuple(d["grids"][name]["box"]) for name in ins}
    assert sizes == {(0, 0, *t.grid.size)}
    for n in (0, t.n_steps - 1):
        co, r, c = map(int, t.anchor[n])
        assert d["text"][n] == f"y[{co},{r},{c}] = " + step_lines(t)[n].removeprefix("\u03a3 = ")
        assert d["text"][n].endswith(f" = {ca.text.fmt_num(t.value(n))}") or spec.pooling
    html = path.read_text()
    assert d["text"][0] in html


def test_an_iso_channel_page_refuses_numbers_saying_what_is_drawn(tmp_path, capsys):
    """What the iso picture of channels cannot draw is refused for the page as for any
    picture, before any file is written."""
    out = tmp_path / "a.html"
    with pytest.raises(SystemExit) as exc:
        main(["conv", "--i", "5", "--k", "3", "--cin", "2", "--numbers", "-o", str(out)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "numbers: the iso picture of channels has no numbers in its cells; use --style flat" in err
    assert not out.exists()

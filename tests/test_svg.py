"""The SVG backend: animated and still SVG text from a scene.

The structure is read back with ElementTree (which cells are shaded in each
frame, as the engine's footprints say); the timing is checked by evaluating the
style sheet's keyframes; when Chromium is on PATH, the SVGs are drawn and
compared with the raster's frames.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import convanim as ca
from convanim.api import layout
from convanim.backends import raster
from convanim.backends.svg import (
    FALLBACK_FAMILIES,
    ROLE_CLASS,
    animated_svg,
    font_family,
    still_svg,
)
from convanim.backends.html import figure_page
from convanim.matrix import matrix_figure
from convanim.scene import Shape, Text, scene_of
from convanim.theme import THEMES

NS = "{http://www.w3.org/2000/svg}"
ROLE_OF = {code: role for role, code in ROLE_CLASS.items()}

FIGURES = {
    "iso_conv": lambda: (ca.conv2d(5, 3, 2, 1), {}),
    "tconv_gather": lambda: (ca.transpose_of(ca.conv2d(6, 3, 2, 1)), {}),
    "tconv_scatter": lambda: (ca.conv_transpose2d(3, 3, 2, 1, view="scatter"), {}),
    "flat_numbers": lambda: (ca.conv2d(5, 3, 2, 1), {"style": "flat", "numbers": True}),
    "flat_maxpool": lambda: (ca.pool2d("max", 5, 3, 1), {"style": "flat"}),
}


def figure(name: str, theme: str = "classic"):
    spec, kw = FIGURES[name]()
    t = ca.trace_of(spec)
    return t, scene_of(layout(t, **kw), THEMES[theme])


def matrix_scene():
    return scene_of(matrix_figure(ca.trace_of(ca.conv2d(4, 3)), transpose=True))


# Reading an SVG back ----------------------------------------------------------------

def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == NS + "svg"
    return root


def walk(root: ET.Element):
    """(element, its classes and those of the groups around it, the frame ranges on it
    and around it) for every element."""
    def rec(el, classes, ranges):
        own = el.get("class", "").split()
        r = el.get("data-frames")
        ranges = ranges + [tuple(int(v) for v in r.split("-"))] if r else ranges
        yield el, classes + own, ranges
        for child in el:
            yield from rec(child, classes + own, ranges)
    yield from rec(root, [], [])


def role_of(classes: list[str]) -> str | None:
    """The role named by the innermost role class (``ih``, ``l2``); dash and text
    classes (``d0``, ``t1``) name none."""
    for cls in reversed(classes):
        if re.fullmatch(r"[dt]\d+", cls):
            continue
        code = cls.rstrip("0123456789")
        if code in ROLE_OF:
            return ROLE_OF[code]
    return None


def shown(ranges, step: int) -> bool:
    return all(a <= step <= b for a, b in ranges)


def cells_in_frame(root, step: int) -> dict[tuple[str, str], set]:
    """(grid, role) -> {(r, c)} of the cell shapes shown in frame ``step``."""
    out: dict = {}
    for el, classes, ranges in walk(root):
        cell = el.get("data-cell")
        if cell is None or not shown(ranges, step):
            continue
        grid, r, c = cell.split()
        out.setdefault((grid, role_of(classes)), set()).add((int(r), int(c)))
    return out


def style_text(root) -> str:
    return "".join(root.find(NS + "style").itertext())


def keyframe_visibility(css: str, rng: tuple[int, int], n: int, progress: float) -> bool:
    """Is a ``data-frames`` range visible at ``progress`` (0..1) of the cycle, as a browser
    evaluates its keyframes with step-end timing (the base style where none applies)?"""
    a, b = rng
    name = re.search(r'\[data-frames="%d-%d"\]\{animation-name:([\w-]+)\}' % (a, b), css).group(1)
    body = re.search(r"@keyframes %s\{(.*?\})\}" % re.escape(name), css).group(1)
    base = a == 0  # the hidden rule hides every range that does not start at frame 0
    frames = [(0.0, base), (1.0, base)]
    for sel, decl in re.findall(r"([^{}]+)\{visibility:(\w+)\}", body):
        for s in sel.split(","):
            s = s.strip()
            at = 0.0 if s == "from" else 1.0 if s == "to" else float(s.rstrip("%")) / 100
            frames = [f for f in frames if f[0] != at] + [(at, decl == "visible")]
    frames.sort()
    value = frames[0][1]
    for at, v in frames:
        if at <= progress + 1e-12:
            value = v
    return value


# Structure ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(FIGURES))
def test_frames_show_the_engines_footprints(name):
    t, sc = figure(name)
    root = parse(animated_svg(sc))
    n = sc.n_frames
    assert root.get("data-frames-total") == str(n)
    scatter = t.spec.view == "scatter"
    for step in range(n):
        cells = cells_in_frame(root, step)
        footprint = {tuple(int(v) for v in rc) for rc in t.footprint(step)}
        anchor = {tuple(int(v) for v in t.anchor[step])}
        if scatter:
            shaded = cells.get(("output", "output_hl"), set()) | cells.get(("output", "crop"), set())
            source = cells.get(("input", "input_hl"), set())
        else:
            shaded = cells.get(("input", "input_hl"), set()) | cells.get(("input", "padding_hl"), set())
            source = cells.get(("output", "output_hl"), set())
        assert shaded == footprint, f"frame {step}"
        assert source == anchor, f"frame {step}"


@pytest.mark.parametrize("name", list(FIGURES))
def test_one_interval_structure(name):
    _, sc = figure(name)
    svg = animated_svg(sc)
    root = parse(svg)
    n = sc.n_frames
    css = style_text(root)
    assert '[data-frames]:not([data-frames^="0-"]){visibility:hidden}' in css
    ranges = set()
    for el, _, rs in walk(root):
        if el.get("data-frames"):
            assert len(rs) == 1, "frame ranges do not nest"
            a, b = rs[0]
            assert 0 <= a <= b < n and (a, b) != (0, n - 1)
            ranges.add((a, b))
    assert ranges
    assert {a for a, _ in ranges} | {b for _, b in ranges} <= set(range(n))
    declared = set(re.findall(r'\[data-frames="(\d+)-(\d+)"\]\{animation-name', css))
    assert {(int(a), int(b)) for a, b in declared} == ranges
    for rng in ranges:
        for step in range(n):
            assert keyframe_visibility(css, rng, n, (step + 0.5) / n) == (rng[0] <= step <= rng[1])
        # A finite animation ends on its last frame (the 100% keyframe, filled forwards).
        assert keyframe_visibility(css, rng, n, 1.0) == (rng[1] == n - 1)


def test_each_op_written_once_per_run():
    # An operation shown in frames a..b is one element, whatever b - a; one shown in
    # every frame is one element with no range.
    _, sc = figure("iso_conv")
    root = parse(animated_svg(sc))
    runs = 0
    for layer in ("under", "over"):
        seen: dict = {}
        for step in range(sc.n_frames):
            for op in getattr(sc.frame(step), layer):
                if op.cell is not None:
                    if seen.get(op) != step - 1:
                        runs += 1
                    seen[op] = step
    fresh = {op for f in sc.frames() for op in f.fresh if op.cell is not None}
    still = [op for op in sc.low + sc.high if isinstance(op, Shape) and op.cell is not None]
    elements = [el for el, _, _ in walk(root) if el.get("data-cell")]
    assert len(elements) == runs + len(fresh) + len(still)
    unanimated = [el for el, _, rs in walk(root) if el.get("data-cell") and not rs]
    assert len(unanimated) >= len(still)


def test_each_frame_keeps_its_z_order():
    # X shows in frames 0-2; Y, which X overlaps, in frame 1 under X. Y starts later,
    # but its element must come first, or frame 1 would show Y over X.
    from convanim.scene import Frame, Scene
    from convanim.theme import CLASSIC

    square = lambda x, y, s: ((x, y), (x + s, y), (x + s, y + s), (x, y + s))  # noqa: E731
    x_op = Shape(square(10, 10, 40), fill=(255, 0, 0), role="output_hl")
    y_op = Shape(square(30, 30, 40), fill=(0, 0, 255), role="input_hl")
    apart = Shape(square(80, 80, 10), fill=(0, 255, 0), role="padding_hl")  # touches neither
    frames = {0: Frame(over=(x_op,)), 1: Frame(over=(y_op, x_op, apart)), 2: Frame(over=(x_op,))}
    sc = Scene((100, 100), CLASSIC, (), (), 3, frames.__getitem__)
    root = parse(animated_svg(sc))
    order = [role_of(classes) for el, classes, _ in walk(root) if el.tag == NS + "path"
             and role_of(classes) in ("output_hl", "input_hl")]
    assert order == ["input_hl", "output_hl"]


def test_ops_of_every_frame_have_no_range():
    _, sc = figure("flat_numbers")
    root = parse(animated_svg(sc))
    texts = {"".join(el.itertext()): rs for el, _, rs in walk(root) if el.tag == NS + "text"}
    assert texts["input 5\u00d75, padding 1"] == [] and texts["kernel 3\u00d73"] == []


def test_fresh_cells_stay_to_the_last_frame():
    t, sc = figure("tconv_scatter")
    root = parse(animated_svg(sc))
    n = sc.n_frames
    last = cells_in_frame(root, n - 1)[("output", "output")]
    assert last == {(r, c) for r in range(5) for c in range(5)}
    first = cells_in_frame(root, 0)[("output", "output")]
    assert first == {tuple(int(v) for v in rc) for rc in t.footprint(0)
                     if 0 <= rc[0] < 5 and 0 <= rc[1] < 5}


def test_text_is_text():
    _, sc = figure("flat_numbers")
    svg = animated_svg(sc)
    root = parse(svg)
    css = style_text(root)
    # The figure's own font first (the bundled one here), then fonts readers have.
    assert f'font-family:"DejaVu Sans Condensed","DejaVu Sans",{FALLBACK_FAMILIES}' in css
    assert font_family(None) == f'"DejaVu Sans Condensed","DejaVu Sans",{FALLBACK_FAMILIES}'
    for font in ('"Noto Sans CJK SC"', '"Source Han Sans SC"', '"PingFang SC"', '"Microsoft YaHei"'):
        assert font in FALLBACK_FAMILIES
    ops: dict[str, list[Text]] = {}
    for f in sc.frames():
        for op in f.texts:
            if isinstance(op, Text) and op not in ops.get(op.text, []):
                ops.setdefault(op.text, []).append(op)
    els = [(el, classes) for el, classes, _ in walk(root) if el.tag == NS + "text"]
    assert {"".join(el.itertext()) for el, _ in els} == set(ops)
    assert len(els) >= sum(map(len, ops.values()))
    for el, classes in els:
        x, y = float(el.get("x")), float(el.get("y"))
        cls = [c for c in classes if re.fullmatch(r"t\d+", c)][-1]  # on it or its group
        rule = re.search(r"\.%s\{([^}]*)\}" % cls, css).group(1)
        size = float(re.search(r"font-size:([\d.]+)px", rule).group(1))
        anchor = re.search(r"text-anchor:(\w+)", rule)
        align = anchor.group(1) if anchor else "start"
        assert any(abs(op.ax - x) < 0.06 and abs(op.baseline - y) < 0.06
                   and abs(op.size - size) < 0.006 and op.align == align
                   for op in ops["".join(el.itertext())]), "".join(el.itertext())


def test_title_background_and_size():
    _, sc = figure("iso_conv", "dark")
    root = parse(animated_svg(sc))
    w, h = sc.size
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (str(w), str(h), f"0 0 {w} {h}")
    assert root[0].tag == NS + "title" and root[0].text == sc.title
    bg = next(el for el in root if el.get("fill"))  # the first shape
    fill = bg.get("fill").lstrip("#")
    fill = "".join(ch * 2 for ch in fill) if len(fill) == 3 else fill
    assert tuple(int(fill[i:i + 2], 16) for i in (0, 2, 4)) == sc.background
    assert bg.get("d") == f"M0 0H{w}V{h}H0z"


def test_escaping():
    nasty = "<script>alert('x')</script> & \"q\" ]]> \x01 end"
    t = ca.trace_of(ca.conv2d(4, 3))
    sc = scene_of(layout(t, style="flat", title=nasty, caption="a < b & c > d ]]>"))
    sc = dataclasses.replace(sc, title=nasty)
    for svg in (animated_svg(sc), still_svg(sc, 1)):
        root = parse(svg)  # well-formed
        assert "<script" not in svg and "]]>" not in svg
        assert not any(el.tag.endswith("script") for el in root.iter())
        assert root[0].text == nasty.replace("\x01", "\ufffd")
        texts = {"".join(el.itertext()) for el in root.iter(NS + "text")}
        assert nasty.replace("\x01", " ") in texts  # drawn on one line: controls as spaces
        assert "a < b & c > d ]]>" in texts


def test_loop_counts_plays():
    _, sc = figure("iso_conv")

    def timing(svg):
        css = style_text(parse(svg))
        return re.search(r"\[data-frames\]\{([^}]*)\}", css).group(1)

    assert "animation-iteration-count:infinite" in timing(animated_svg(sc))
    assert "animation-duration:9s" in timing(animated_svg(sc))
    two = timing(animated_svg(sc, duration=250, loop=2))
    assert "animation-iteration-count:2" in two and "animation-fill-mode:forwards" in two
    assert "animation-duration:2250ms" in two
    assert "animation-iteration-count:1" in timing(animated_svg(sc, loop=None))
    with pytest.raises(ValueError):
        animated_svg(sc, loop=-1)
    with pytest.raises(ValueError):
        animated_svg(sc, duration=0)


def test_a_frame_costs_far_less_than_the_still_picture():
    t = ca.trace_of(ca.conv2d(5, 3, 1, 2))  # 49 frames
    sc = scene_of(layout(t))
    svg, still = animated_svg(sc), still_svg(sc, 0)
    per_frame = (len(svg) - len(still)) / (sc.n_frames - 1)
    assert per_frame < len(still) / 4


def test_classic_set_fits_its_budget():
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        from bench import CLASSIC
    finally:
        sys.path.pop(0)
    total = sum(len(animated_svg(scene_of(layout(ca.trace_of(b())))).encode())
                for b, *_ in CLASSIC.values())
    assert total <= 340_000


def test_still_matches_the_frame():
    t, sc = figure("flat_numbers")
    root = parse(still_svg(sc, 3))
    assert not any(el.get("data-frames") for el in root.iter())
    cells = cells_in_frame(root, 3)
    assert cells[("input", "input_hl")] | cells.get(("input", "padding_hl"), set()) == {
        tuple(int(v) for v in rc) for rc in t.footprint(3)}
    assert len(list(root.iter(NS + "text"))) == len(sc.still(3).texts)
    with pytest.raises(IndexError):
        still_svg(sc, sc.n_frames)


def test_matrix_still():
    sc = matrix_scene()
    for svg in (still_svg(sc), animated_svg(sc)):
        root = parse(svg)
        assert root.get("shape-rendering") == "crispEdges"
        assert not any(el.get("data-frames") for el in root.iter())
        texts = [op for op in sc.low if isinstance(op, Text)]
        assert len(list(root.iter(NS + "text"))) == len(texts)


# Drawn by Chromium -----------------------------------------------------------------

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH")


def screenshot(path: Path, size: tuple[int, int], tmp_path: Path) -> np.ndarray:
    out = tmp_path / (path.stem + ".png")
    subprocess.run([CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                    "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}",
                    f"--window-size={size[0]},{size[1]}", f"--screenshot={out}", path.as_uri()],
                   check=True, capture_output=True, timeout=120)
    with Image.open(out) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def frames_at(svg: str, size, times_ms: list[float | None], tmp_path: Path) -> list[np.ndarray]:
    """The animated ``svg`` as drawn at each time (None: with CSS animation off), one
    inline copy per time in one page, each paused there with a negative delay."""
    w, h = size
    rules = ["body{margin:0}", "svg{display:block}"]
    for k, ms in enumerate(times_ms):
        if ms is None:
            rules.append(f"#c{k} [data-frames]{{animation-name:none!important}}")
        else:
            rules.append(f"#c{k} [data-frames]{{animation-play-state:paused!important;"
                         f"animation-delay:-{ms}ms!important}}")
    page = ("<!doctype html><html><head><style>" + "\n".join(rules) + "</style></head><body>"
            + "".join(f'<div id="c{k}">{svg}</div>' for k in range(len(times_ms))) + "</body></html>")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    shot = screenshot(path, (w, h * len(times_ms)), tmp_path)
    return [shot[k * h:(k + 1) * h, :w] for k in range(len(times_ms))]


def raster_frames(sc) -> list[np.ndarray]:
    return [np.asarray(im.convert("RGB")).astype(int) for im in raster.frames(sc)]


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def cell_points(sc, step: int):
    """(x, y, colour) near the first corner of every shaded cell of frame ``step``, away
    from edges and from the number a flat cell may carry at its centre."""
    f = sc.frame(step)
    for op in f.under + f.over:
        if isinstance(op, Shape) and op.cell is not None and op.fill is not None and not op.dashed:
            p0, p1, _, p3 = op.points[:4]
            x = p0[0] + 0.22 * (p1[0] - p0[0]) + 0.22 * (p3[0] - p0[0])
            y = p0[1] + 0.22 * (p1[1] - p0[1]) + 0.22 * (p3[1] - p0[1])
            yield int(x), int(y), op.fill


@needs_chromium
@pytest.mark.parametrize("name,step,limit", [("iso_conv", 4, 2.0), ("tconv_scatter", 4, 2.0),
                                             ("flat_numbers", 4, 5.0)])
def test_still_svg_draws_like_the_raster(name, step, limit, tmp_path):
    _, sc = figure(name)
    path = tmp_path / f"{name}.svg"
    path.write_text(still_svg(sc, step), encoding="utf-8")
    got = screenshot(path, sc.size, tmp_path)
    want = np.asarray(raster.frame_image(sc, step).convert("RGB")).astype(int)
    assert got.shape == want.shape
    assert diff(got, want) < limit
    points = list(cell_points(sc, step))
    assert points
    for x, y, colour in points:
        assert np.abs(got[y, x] - colour).max() <= 3, (x, y)
        assert np.abs(want[y, x] - colour).max() <= 3, (x, y)


@needs_chromium
def test_matrix_svg_draws_like_the_raster(tmp_path):
    sc = matrix_scene()
    path = tmp_path / "matrix.svg"
    path.write_text(still_svg(sc), encoding="utf-8")
    got = screenshot(path, sc.size, tmp_path)
    want = np.asarray(raster.picture(sc)).astype(int)
    assert diff(got, want) < 7.0
    for op in sc.low:  # the fills of the cells, crisp
        if isinstance(op, Shape) and op.fill is not None:
            (x0, y0), (x1, _) = op.points[0], op.points[2]
            x, y = (x0 + x1) // 2, y0 + 2
            assert np.abs(got[y, x] - op.fill).max() <= 2


@needs_chromium
@pytest.mark.parametrize("name,limit", [("iso_conv", 2.0), ("tconv_scatter", 2.0),
                                        ("flat_numbers", 5.0)])
def test_animation_plays_the_frames(name, limit, tmp_path):
    _, sc = figure(name)
    n = sc.n_frames
    steps = [0, 1, n // 2, n - 1]
    shots = frames_at(animated_svg(sc), sc.size, [None] + [(s + 0.5) * 1000 for s in steps], tmp_path)
    want = raster_frames(sc)
    # Without CSS animation the picture is frame 0.
    for got, step in zip(shots, [0] + steps):
        d = [diff(got, w) for w in want]
        assert int(np.argmin(d)) == step and d[step] < limit, (step, d)


@needs_chromium
def test_a_finite_loop_stops_on_the_last_frame(tmp_path):
    _, sc = figure("iso_conv")
    n, ms = sc.n_frames, 100
    cycle = n * ms
    # loop=2: two plays; frame 0 again in the second, the last frame for good after it.
    shots = frames_at(animated_svg(sc, duration=ms, loop=2), sc.size,
                      [cycle + ms / 2, 2 * cycle - ms / 2, 2 * cycle + ms / 2, 10 * cycle], tmp_path)
    want = raster_frames(sc)
    picked = [int(np.argmin([diff(got, w) for w in want])) for got in shots]
    assert picked == [0, n - 1, n - 1, n - 1]


RSVG = shutil.which("rsvg-convert")


@pytest.mark.skipif(RSVG is None, reason="no rsvg-convert on PATH")
@pytest.mark.parametrize("name", ["iso_conv", "tconv_scatter"])
def test_a_renderer_without_animation_shows_frame_0(name, tmp_path):
    # librsvg reads the style sheet (classes, attribute selectors, :not) but runs no
    # animation: the base style must be frame 0; a still of frame N draws frame N.
    _, sc = figure(name)
    want = raster_frames(sc)
    for k, (svg, step) in enumerate([(animated_svg(sc), 0), (still_svg(sc, 3), 3)]):
        src, out = tmp_path / f"{k}.svg", tmp_path / f"{k}.png"
        src.write_text(svg, encoding="utf-8")
        subprocess.run([RSVG, str(src), "-o", str(out)], check=True, capture_output=True, timeout=60)
        with Image.open(out) as im:
            got = np.asarray(im.convert("RGB")).astype(int)
        d = [diff(got, w) for w in want]
        assert int(np.argmin(d)) == step and d[step] < 2.0, (step, d)


def test_a_transparent_background_draws_no_background():
    t = ca.trace_of(ca.conv2d(4, 3))
    w, h = ca.scene(t).size
    rect = f'd="M0 0H{w}V{h}H0z"'
    assert rect in animated_svg(ca.scene(t)) and rect in still_svg(ca.scene(t), 0)
    clear = ca.scene(t, transparent=True)
    assert rect not in animated_svg(clear) and rect not in still_svg(clear, 0)
    assert rect not in figure_page(t, clear)

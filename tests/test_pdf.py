"""The PDF backend: one vector page per still, the raster's picture in PDF operators.

The structure is checked by reading the file (pages, MediaBox, fonts, no image,
text as text). Where poppler's ``pdftoppm`` is installed the page is rasterised
at 72 dpi, one point to a pixel, and compared with the raster frame.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
import zlib
from functools import cache

import numpy as np
import pytest
from PIL import Image

import convanim as ca
from convanim.api import layout
from convanim.backends import raster
from convanim.backends.pdf import edge_segments, still_pdf
from convanim.matrix import matrix_figure
from convanim.scene import DASHES, Shape, Text, scene_of
from convanim.theme import THEMES

PDFTOPPM = shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) not installed")

# name -> (scene maker, frame)
FIGURES = {
    "iso_conv": (lambda: scene_of(layout(ca.trace_of(ca.conv2d(5, 3, stride=2, padding=1)))), 4),
    "tconv_gather": (lambda: scene_of(layout(ca.trace_of(ca.transpose_of(ca.conv2d(6, 3, 2, 1))))), 10),
    "tconv_scatter": (lambda: scene_of(layout(ca.trace_of(
        ca.conv_transpose2d(3, 3, 2, 1, view="scatter")))), 4),
    "flat_numbers": (lambda: scene_of(layout(ca.trace_of(ca.conv2d(5, 3, stride=2, padding=1)),
                                             style="flat", numbers=True, title="conv, flat",
                                             caption="auto")), 4),
    "matrix": (lambda: scene_of(matrix_figure(ca.trace_of(ca.conv2d(4, 3)))), 0),
}

# Mean absolute difference per channel (0..255) between pdftoppm's page and the
# raster frame, as measured here (poppler 22.12): the pictures agree, but two
# anti-aliasing methods differ along every edge, poppler snaps axis-aligned
# strokes to whole pixels and text baselines to whole pixels, and the raster's
# text is hinted; so text-heavy figures differ most. The bound is the measurement
# plus one level, which every broken page measured here exceeds: no text (flat
# 5.4, matrix 4.0), no grid lines (3.2 to 7.2) or everything one pixel off
# (3.6 to 7.6).
MEASURED = {"iso_conv": 1.43, "tconv_gather": 1.58, "tconv_scatter": 1.09,
            "flat_numbers": 3.75, "matrix": 2.52}
MAX_MEAN = {name: m + 1.0 for name, m in MEASURED.items()}
CELL_LEVELS = 3  # a flat shaded cell: the raster's palette colour, the PDF's exact fill


@cache
def figure(name: str):
    make, step = FIGURES[name]
    return make(), step


@cache
def pdf_of(name: str) -> bytes:
    scene, step = figure(name)
    return still_pdf(scene, step)


def stream(data: bytes, obj: int) -> bytes:
    """The stream of object ``obj``, inflated where it is Flate-compressed."""
    m = re.search(rb"(?<![0-9])%d 0 obj\s*<<(.*?)>>\s*stream\r?\n" % obj, data, re.DOTALL)
    assert m, f"no stream object {obj}"
    head = m.group(1)
    length = re.search(rb"/Length\s+(\d+)", head)
    body = data[m.end():m.end() + int(length.group(1))]
    return zlib.decompress(body) if b"FlateDecode" in head else body


def media_box(data: bytes) -> tuple[float, ...]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*([-\d.\s]+)\]", data)
    assert len(boxes) == 1, boxes
    return tuple(float(v) for v in boxes[0].split())


def n_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


def contents(data: bytes) -> bytes:
    """The page's content (its drawing operators), all of its streams joined."""
    m = re.search(rb"/Contents\s*(\[[^\]]*\]|\d+ 0 R)", data)
    assert m, "the page has no /Contents"
    objs = [int(n) for n in re.findall(rb"(\d+) 0 R", m.group(1))]
    return b"\n".join(stream(data, n) for n in objs)


# Structure --------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(FIGURES))
def test_one_page_of_the_scene_size(name):
    data = pdf_of(name)
    scene, _ = figure(name)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert n_pages(data) == 1
    assert re.search(rb"/Count\s+1\b", data)
    x0, y0, x1, y1 = media_box(data)
    assert (x0, y0) == (0, 0)
    assert (x1 - x0, y1 - y0) == scene.size  # one pixel, one point


@pytest.mark.parametrize("name", list(FIGURES))
def test_vector_only_with_an_embedded_font(name):
    data = pdf_of(name)
    assert b"/Subtype /Image" not in data and b"/Subtype/Image" not in data
    assert b"/XObject" not in data
    page = contents(data)
    assert not re.search(rb"\bDo\b", page), "an XObject is painted"
    assert b"/FontFile2" in data  # the TrueType font itself, not a reference to one
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+DejaVuSansCondensed\b", data)  # the bundled font


@pytest.mark.parametrize("name", list(FIGURES))
def test_every_text_is_pdf_text(name):
    scene, step = figure(name)
    still = scene.still(step)
    texts = [op for op in still.shapes + still.texts if isinstance(op, Text) and op.text]
    page = contents(pdf_of(name))
    assert len(re.findall(rb"\bTj\b", page)) == len(texts)
    if texts:
        sizes = {round(float(s), 2) for s in re.findall(rb"/F\d+\s+([\d.]+)\s+Tf", page)}
        want = {round(round(t.size) if scene.crisp else t.size, 2) for t in texts}
        assert sizes == want


def test_text_colour_and_shape_colours_come_from_the_ops():
    scene, step = figure("flat_numbers")
    still = scene.still(step)
    page = contents(pdf_of("flat_numbers")).decode("latin-1")
    # fpdf2 writes colours as fractions of 1 with a few decimals.
    said = {tuple(round(float(v) * 255) for v in m)
            for m in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (?:rg|RG)", page)}
    for op in still.shapes + still.texts:
        for colour in (getattr(op, "fill", None), getattr(op, "stroke", None),
                       op.colour if isinstance(op, Text) else None):
            if colour is not None:
                assert tuple(colour) in said, (op, colour)
    assert tuple(scene.background) in said


def test_deterministic():
    scene, step = figure("flat_numbers")
    a, b = still_pdf(scene, step), still_pdf(scene, step)
    assert a == b
    assert b"/CreationDate (D:20000101000000Z)" in a
    # A freshly built scene of the same picture: the same bytes too.
    make, _ = FIGURES["flat_numbers"]
    assert still_pdf(make(), step) == a


def test_frames_differ():
    scene, _ = figure("iso_conv")
    assert still_pdf(scene, 0) != still_pdf(scene, 1)


def _title(data: bytes) -> str:
    m = re.search(rb"/Title\s*(<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\))", data)
    assert m, "no /Title"
    raw = m.group(1)
    if raw.startswith(b"<"):
        b = bytes.fromhex(raw[1:-1].decode())
    else:
        b = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
    return b[2:].decode("utf-16-be") if b.startswith(b"\xfe\xff") else b.decode("latin-1")


def test_title_is_the_scene_title():
    scene, step = figure("iso_conv")
    assert scene.title == "conv_i5_k3_s2_p1"
    assert _title(pdf_of("iso_conv")) == scene.title
    assert _title(pdf_of("matrix")) == figure("matrix")[0].title
    other = dataclasses.replace(scene, title="转置卷积 ü ×")
    assert _title(still_pdf(other, step)) == "转置卷积 ü ×"


def test_characters_the_font_lacks_do_not_raise():
    t = ca.trace_of(ca.conv2d(5, 3, stride=2, padding=1))
    scene = scene_of(layout(t, style="flat", numbers=True, title="转置卷积 ü ×", caption="auto"))
    data = still_pdf(scene, 0)
    assert data.startswith(b"%PDF-") and n_pages(data) == 1
    texts = [op for op in scene.still(0).texts if isinstance(op, Text)]
    assert any("转" in op.text for op in texts)  # the scene did keep the title
    assert len(re.findall(rb"\bTj\b", contents(data))) == len(texts)


def test_missing_frame_is_an_index_error():
    scene, _ = figure("iso_conv")
    with pytest.raises(IndexError):
        still_pdf(scene, scene.n_frames)


def test_edges_are_cut_as_the_raster_cuts_them():
    sq = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
    solid = edge_segments(Shape(sq, stroke=(0, 0, 0), width=2.0))
    assert len(solid) == 4
    assert solid[0] == ((-1.0, 0.0), (11.0, 0.0))  # half a width past both ends
    dashed = edge_segments(Shape(sq, stroke=(0, 0, 0), width=2.0, dashed=True))
    assert len(dashed) == 4 * len(DASHES)
    (a0, a1), (b0, b1), (c0, c1) = dashed[:3]  # the top edge, left to right
    assert a0 == (-1.0, 0.0) and a1 == pytest.approx((3.0, 0.0))  # touches a corner: extended
    assert b0 == pytest.approx((3.5, 0.0)) and b1 == pytest.approx((6.5, 0.0))  # inner: not
    assert c0 == pytest.approx((7.0, 0.0)) and c1 == (11.0, 0.0)
    polyline = edge_segments(Shape(sq, stroke=(0, 0, 0), width=2.0, closed=False))
    assert len(polyline) == 3


# Against the raster (pdftoppm) ---------------------------------------------------------

@cache
def pages(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(pdftoppm's page at 72 dpi, the raster frame), RGB arrays."""
    scene, step = figure(name)
    ref = raster.picture(scene) if scene.crisp else raster.frame_image(scene, step)
    return rasterise(pdf_of(name)), np.asarray(ref.convert("RGB"), dtype=np.int16)


def rasterise(data: bytes) -> np.ndarray:
    """The page as pdftoppm draws it at 72 dpi (one point, one pixel): an RGB array."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "page.pdf")
        with open(src, "wb") as f:
            f.write(data)
        subprocess.run([PDFTOPPM, "-r", "72", "-png", "-singlefile", src,
                        os.path.join(tmp, "page")], check=True, timeout=60)
        with Image.open(os.path.join(tmp, "page.png")) as im:
            return np.asarray(im.convert("RGB"), dtype=np.int16)


def _near_segment(p, a, b, r: float) -> bool:
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    n = dx * dx + dy * dy
    t = 0.0 if n == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / n))
    return (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2 <= r * r


def sample_points(scene, step) -> list[tuple[tuple[int, int], tuple[int, int, int]]]:
    """((x, y), fill) at the centre of each shaded cell of the frame, the pixels in
    clear fill: moved towards a corner where text, a mark or a line is over the centre."""
    still = scene.still(step)
    ops = still.shapes + still.texts
    if scene.crisp:  # the matrix figure shades no engine cells: its filled boxes
        cells = [op for op in ops if isinstance(op, Shape) and op.fill is not None]
    else:
        cells = [op for op in ops if isinstance(op, Shape) and op.cell and op.fill is not None
                 and (op.role or "").endswith("_hl")]
    blockers = [op.rect for op in ops if isinstance(op, Text)]
    segments = list(still.lines)
    for op in still.texts:
        if isinstance(op, Shape):
            segments += edge_segments(op)
    out = []
    for n, op in enumerate(cells):
        pts = op.points
        cx = sum(p[0] for p in pts) / len(pts)
        cy = sum(p[1] for p in pts) / len(pts)
        for k in (0.0, 0.35, 0.5):
            for corner in (pts if k else pts[:1]):
                x, y = cx + (corner[0] - cx) * k, cy + (corner[1] - cy) * k
                px = (int(x) + 0.5, int(y) + 0.5)  # the pixel's centre
                if any(r[0] - 2 <= px[0] <= r[2] + 2 and r[1] - 2 <= px[1] <= r[3] + 2
                       for r in blockers):
                    continue
                if any(_near_segment(px, a, b, 2.5) for a, b in segments):
                    continue
                # Later shapes over it (a shaded cell's neighbour, an outline) hide it.
                if any(_near_segment(px, a, b, 3.0) for later in ops[ops.index(op) + 1:]
                       if isinstance(later, Shape) and later.stroke is not None
                       for a, b in edge_segments(later)):
                    continue
                out.append(((int(x), int(y)), op.fill))
                break
            else:
                continue
            break
    return out


@needs_poppler
@pytest.mark.parametrize("name", list(FIGURES))
def test_page_looks_like_the_raster_frame(name):
    got, ref = pages(name)
    assert abs(got.shape[0] - ref.shape[0]) <= 1 and abs(got.shape[1] - ref.shape[1]) <= 1
    h, w = min(got.shape[0], ref.shape[0]), min(got.shape[1], ref.shape[1])
    mean = np.abs(got[:h, :w] - ref[:h, :w]).mean()
    assert mean < MAX_MEAN[name], f"{name}: mean difference {mean:.2f} per channel"


@needs_poppler
@pytest.mark.parametrize("name", list(FIGURES))
def test_shaded_cells_have_the_raster_colour(name):
    scene, step = figure(name)
    got, ref = pages(name)
    points = sample_points(scene, step)
    assert len(points) >= 3, "too few cells to sample"
    for (x, y), fill in points:
        a, b = got[y, x], ref[y, x]
        assert np.abs(a - b).max() <= CELL_LEVELS, f"{name} at {(x, y)}: pdf {a} raster {b}"
        assert np.abs(a - np.array(fill)).max() <= CELL_LEVELS, f"{name} at {(x, y)}: {a} vs {fill}"


@needs_poppler
def test_crisp_figure_lands_on_the_raster_pixels():
    # The matrix figure is drawn on whole pixels: away from its text, pdftoppm's
    # page is the raster's picture nearly pixel for pixel (measured: 0.13 of 255).
    scene, _ = figure("matrix")
    got, ref = pages("matrix")
    clear = np.ones(got.shape[:2], bool)
    for op in scene.still(0).shapes:
        if isinstance(op, Text):
            x0, y0, x1, y1 = op.rect
            clear[max(0, int(y0) - 3):int(y1) + 4, max(0, int(x0) - 3):int(x1) + 4] = False
    assert clear.mean() > 0.5
    assert np.abs(got - ref)[clear].mean() < 0.5


@needs_poppler
def test_the_comparison_can_fail():
    # A PDF of another frame is a different picture: the bounds above would tell.
    scene, step = figure("iso_conv")
    got = rasterise(still_pdf(scene, step + 2))
    _, ref = pages("iso_conv")
    points = sample_points(scene, step)
    assert any(np.abs(got[y, x] - ref[y, x]).max() > CELL_LEVELS for (x, y), _ in points)


def test_a_transparent_background_is_not_painted():
    t = ca.trace_of(ca.conv2d(4, 3))

    def fills(scene) -> set:
        page = contents(still_pdf(scene, 0)).decode("latin-1")
        return {tuple(round(float(v) * 255) for v in m)
                for m in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) rg", page)}

    matte = (0x12, 0x34, 0x56)
    assert matte in fills(ca.scene(t, theme=THEMES["classic"].with_colours(background=matte)))
    assert matte not in fills(ca.scene(t, transparent=True, matte=matte))

"""The PDF backend: one frame of a scene as a one-page vector PDF (fpdf2).

Units: one canvas pixel is one PDF point, so the page is ``scene.size`` points
and a viewer at 100 % (72 dpi) shows the picture at the raster's size; every
coordinate of the scene is used as it is, in points from the top-left corner.

What is drawn, in the order of :meth:`convanim.scene.Scene.still`: the
background, every shape as a vector path (fill, then each edge stroked as the
raster strokes it: a segment ``width`` pt wide reaching half a width past both
ends, dashed edges as the dashes of :data:`convanim.scene.DASHES`), the
connecting lines (1 pt, the scene's line colour), then text and marks. Text is
real PDF text in the raster's own font (the scene's :class:`convanim.fonts.Face`:
the bundled font, a --font, or an installed font the text needed), embedded as
a subset, at the size and position the raster draws it, so it can be selected,
searched and copied;
each line gets the character spacing that makes it exactly as wide as the
raster's (Pillow hints the advances to whole pixels, the PDF does not), which
is the width the layout fitted it by. There is no image in the file.
The face was chosen to have every character of the text (convanim.fonts.resolve).

Crisp scenes (the matrix figure) follow the raster's pixel rules there, so the
page rasterised at 72 dpi lands on the same pixels: a box (x0, y0, x1, y1) fills
the pixels x0..x1 inclusive, and strokes run along pixel centres.

The output is deterministic: a fixed creation date, and fpdf2 otherwise derives
everything (the file identifier too) from the content.

fpdf2 is imported inside :func:`still_pdf`: the command line starts without it.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime, timezone
from functools import lru_cache

from ..fonts import Face, bundled
from ..layout import Point
from ..scene import DASHES, Op, Scene, Shape, Text
from ..textfit import METRIC_SCALE as SS
from ..textfit import font as _font

FONT = "text"  # the font's key inside fpdf2 (the PDF names it by its PostScript name)
# A fixed creation date keeps the bytes (and the /ID fpdf2 derives from them) the same run to run.
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
PRODUCER = "convanim (fpdf2)"

Segment = tuple[Point, Point]


def _extended(p0: Point, p1: Point, by: float) -> Segment:
    """Segment p0-p1 lengthened by ``by`` at both ends (a square cap, made explicit)."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    n = (dx * dx + dy * dy) ** 0.5
    if not n or not by:
        return p0, p1
    ex, ey = dx / n * by, dy / n * by
    return (p0[0] - ex, p0[1] - ey), (p1[0] + ex, p1[1] + ey)


def edge_segments(shape: Shape) -> list[Segment]:
    """The stroked pieces of ``shape``'s edges, as the raster draws them.

    Each edge (or each dash of a dashed edge) is a butt-ended segment; the pieces
    the raster extends (a solid edge, and the dashes that touch a corner) are
    lengthened here by half the stroke width at both ends, as the raster's
    square-ended lines are.
    """
    pts = shape.points
    half = shape.width / 2
    edges = len(pts) if shape.closed else len(pts) - 1
    out: list[Segment] = []
    for i in range(edges):
        p0, p1 = pts[i], pts[(i + 1) % len(pts)]
        if not shape.dashed:
            out.append(_extended(p0, p1, half))
            continue
        for a, b in DASHES:
            q0 = (p0[0] + (p1[0] - p0[0]) * a, p0[1] + (p1[1] - p0[1]) * a)
            q1 = (p0[0] + (p1[0] - p0[0]) * b, p0[1] + (p1[1] - p0[1]) * b)
            out.append(_extended(q0, q1, half) if (a == 0.0 or b == 1.0) else (q0, q1))
    return out


@lru_cache(maxsize=8)
def advances(face: Face) -> tuple[dict[int, int], int]:
    """The font's advance widths, font units by code point, and its units per em."""
    from fontTools.ttLib import TTFont  # fpdf2 depends on fontTools

    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    hmtx = font["hmtx"]
    cmap = {code: hmtx[glyph][0] for code, glyph in font.getBestCmap().items()}
    return cmap, font["head"].unitsPerEm


def widths(text: str, size: float, scale: int, face: Face | None = None) -> tuple[float, float, int]:
    """(PDF width, raster width, count) of the characters of ``text`` that the font
    has, at ``size`` pt.

    The PDF sets text at the font's own advances; the raster draws at ``scale``
    times the size with Pillow's hinted advances, whole pixels at that scale,
    which is what the layout fitted the text by. Characters the font lacks are
    left out of both (the PDF drops them).
    """
    cmap, upem = advances(face or bundled())
    shown = "".join(c for c in text if ord(c) in cmap)
    natural = sum(cmap[ord(c)] for c in shown) * size / upem
    raster = _font(round(size * scale), face).getlength(shown) / scale if shown else 0.0
    return natural, raster, len(shown)


def _width(op: Shape) -> float:
    """The stroke width the raster draws: at least one supersampled pixel."""
    return max(op.width, 1 / SS)


class _Page:
    """Scene operations as fpdf2 drawing on the one page of ``pdf``.

    Consecutive shapes that paint alike (a fill of one colour, or strokes of one
    colour and width) go into one path of many subpaths, painted once: where
    edges meet or overlap they are covered once, as in the raster (which draws
    opaque shapes supersampled), instead of their anti-aliased edges adding up
    into dark knots at every corner. Order is kept: a run ends at the first
    operation that paints differently. Text ends every run.
    """

    def __init__(self, pdf, crisp: bool, face: Face | None = None):
        self.pdf = pdf
        self.crisp = crisp
        self.face = face
        self.size: float | None = None
        self.runs: list[tuple[tuple, list[tuple[list[Point], bool]]]] = []
        self.cells: list[Shape] = []

    def _add(self, key: tuple, points: list[Point], closed: bool) -> None:
        if self.runs and self.runs[-1][0] == key:
            self.runs[-1][1].append((points, closed))
        else:
            self.runs.append((key, [(points, closed)]))

    def fill(self, points, colour) -> None:
        pts = list(points)
        if len(pts) < 3:
            return
        # One winding for all: subpaths of one path are filled by the nonzero
        # rule, and two overlapping polygons wound oppositely would cancel.
        area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]))
        if area < 0:
            pts.reverse()
        self._add(("fill", tuple(colour)), pts, True)

    def stroke(self, points, colour, width: float, closed: bool = False,
               round_joins: bool = False) -> None:
        self._add(("stroke", tuple(colour), float(width), round_joins), list(points), closed)

    def segments(self, segs: Iterable[Segment], colour, width: float) -> None:
        for p0, p1 in segs:
            self.stroke((p0, p1), colour, width)

    def shape(self, op: Shape) -> None:
        if self.crisp:
            self._crisp_shape(op)
            return
        edged = op.stroke is not None
        if op.fill is not None and edged:
            # A shaded cell: fills of a run of cells first, then their edges (see _cells).
            self.cells.append(op)
            return
        self._end_cells()
        if op.fill is not None:
            self.fill(op.points, op.fill)
        if edged:
            self.segments(edge_segments(op), op.stroke, _width(op))

    def _end_cells(self) -> None:
        """Paint a run of filled and edged shapes (shaded cells): every fill, then every edge.

        The raster paints cell by cell, and a cell's fill covers the inner half of
        the edge it shares with the cell before, which its own edge then paints
        again. Painting the fills first leaves the same picture where the later
        edge is solid (where it is dashed, the earlier edge shows whole in its
        gaps rather than half), and lets the run's edges join one path, so no
        shared edge is anti-aliased twice.
        """
        cells, self.cells = self.cells, []
        for op in cells:
            self.fill(op.points, op.fill)
        for op in cells:
            self.segments(edge_segments(op), op.stroke, _width(op))

    def _crisp_shape(self, op: Shape) -> None:
        """Pillow's rules at one pixel per point: a closed shape is a box whose corners
        are the first and last pixels it covers; lines run along pixel centres."""
        if op.closed:
            xs = [p[0] for p in op.points]
            ys = [p[1] for p in op.points]
            x0, y0, x1, y1 = min(xs), min(ys), max(xs) + 1, max(ys) + 1
            if op.fill is not None:
                self.fill(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), op.fill)
            w = round(op.width)  # Pillow's outline: w whole pixels inside the box, or none
            if op.stroke is not None and w > 0:
                a, b, c, d = x0 + w / 2, y0 + w / 2, x1 - w / 2, y1 - w / 2
                self.stroke(((a, b), (c, b), (c, d), (a, d)), op.stroke, w, closed=True)
            return
        if op.stroke is not None and round(op.width) > 0:
            self.stroke([(x + 0.5, y + 0.5) for x, y in op.points], op.stroke,
                        round(op.width), round_joins=op.round)

    def flush(self) -> None:
        """Paint the runs gathered so far, in order."""
        self._end_cells()
        if not self.runs:
            return
        from fpdf.drawing import DeviceRGB, PaintedPath
        from fpdf.enums import PathPaintRule, StrokeCapStyle, StrokeJoinStyle

        with self.pdf.drawing_context() as ctx:
            for key, subpaths in self.runs:
                path = PaintedPath()
                style = path.style
                colour = DeviceRGB(*(v / 255 for v in key[1]))
                style.auto_close = False
                if key[0] == "fill":
                    style.paint_rule = PathPaintRule.FILL_NONZERO
                    style.fill_color = colour
                    style.stroke_color = None
                else:
                    style.paint_rule = PathPaintRule.STROKE
                    style.fill_color = None
                    style.stroke_color = colour
                    style.stroke_width = key[2]
                    # Butt ends: the segments are already as long as the raster's.
                    style.stroke_cap_style = StrokeCapStyle.BUTT
                    style.stroke_join_style = StrokeJoinStyle.ROUND if key[3] else StrokeJoinStyle.MITER
                for points, closed in subpaths:
                    path.move_to(*points[0])
                    for p in points[1:]:
                        path.line_to(*p)
                    if closed:
                        path.close()
                ctx.add_item(path, False)
        self.runs = []

    def text(self, t: Text) -> None:
        self.flush()
        pdf = self.pdf
        # The raster's size: whole pixels (crisp) or whole supersampled pixels.
        size = round(t.size) if self.crisp else round(t.size * SS) / SS
        if size != self.size:
            pdf.set_font(FONT, size=size)
            self.size = size
        pdf.set_text_color(*t.colour)
        # As wide as the raster's text: spread the difference over the gaps.
        natural, raster, shown = widths(t.text, size, 1 if self.crisp else SS, self.face)
        pdf.set_char_spacing((raster - natural) / (shown - 1) if shown > 1 else 0)
        if t.anchor.startswith("l"):
            x = t.x
        else:  # other anchors: place by the alignment point, as fonts other than ours would
            x = {"start": t.ax, "end": t.ax - raster}.get(t.align, t.ax - raster / 2)
        y = t.y if t.anchor == "ls" else t.baseline
        pdf.text(x, y, t.text)

    def op(self, op: Op) -> None:
        if isinstance(op, Text):
            if op.text:
                self.text(op)
        else:
            self.shape(op)


def _add_font(pdf, face: Face, tmp: str) -> None:
    """Make ``face`` the document's font; fpdf2 embeds the subset the text uses.

    fpdf2 reads fonts from files (while writing the document, so a file made
    here lives in ``tmp`` until the bytes are out). A face of a collection is
    passed by its number where fpdf2 takes one (2.8 and later), else extracted
    into a file of its own.
    """
    from fpdf import FPDF

    if face.index == 0 and not face.path.lower().endswith((".ttc", ".otc")):
        pdf.add_font(FONT, "", face.path)
    elif "collection_font_number" in inspect.signature(FPDF.add_font).parameters:
        pdf.add_font(FONT, "", face.path, collection_font_number=face.index)
    else:
        from fontTools.ttLib import TTFont

        font = TTFont(face.path, fontNumber=face.index)
        path = os.path.join(tmp, "face.otf" if "CFF " in font else "face.ttf")
        font.save(path)
        font.close()
        pdf.add_font(FONT, "", path)


def still_pdf(scene: Scene, step: int = 0) -> bytes:
    """Frame ``step`` of ``scene`` as the bytes of a one-page vector PDF.

    The page is ``scene.size`` points, one point per canvas pixel (72 dpi: a
    viewer at 100 % shows it at the raster's size). Shapes are vector paths,
    text is real text in the scene's font, embedded, and there is no image.
    The same scene and step give the same bytes. The document's title is
    ``scene.title``.
    """
    from fpdf import FPDF  # here, not at the top: the CLI starts without fpdf2

    still = scene.still(step)  # IndexError naming the range for a frame that does not exist
    w, h = scene.size
    pdf = FPDF(orientation="portrait", unit="pt", format=(w, h))
    pdf.set_creation_date(EPOCH)
    pdf.set_producer(PRODUCER)
    pdf.set_creator("convanim")
    pdf.set_title(scene.title or "")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    with tempfile.TemporaryDirectory(prefix="convanim-pdf-") as tmp:
        _add_font(pdf, scene.face or bundled(), tmp)
        try:
            pdf.add_page()
            page = _Page(pdf, scene.crisp, scene.face)
            if not scene.theme.transparent:  # else the page (or what it is placed on) shows
                page.fill(((0, 0), (w, 0), (w, h), (0, h)), scene.background)
            for op in still.shapes:
                page.op(op)
            page.segments(still.lines, scene.line_colour, scene.line_width)
            for op in still.texts:
                page.op(op)
            page.flush()
            return bytes(pdf.output())
        finally:
            for font in pdf.fonts.values():  # release the file (Windows cannot delete an open one)
                ttfont = getattr(font, "ttfont", None)
                if ttfont is not None:
                    ttfont.close()

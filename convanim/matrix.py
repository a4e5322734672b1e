"""The convolution as a matrix product: geometry of the article's figure, no Pillow.

A convolution is linear in its input, so it is a matrix C of shape
(OH*OW) x (IH*IW) acting on the input flattened row-major: ``Y = C X``. Row
``oy*OW + ox`` of C holds, at column ``iy*IW + ix``, the weight ``w[ky, kx]`` of
the product ``out[oy, ox] += w[ky, kx] * x[iy, ix]``, and 0 where no product
joins the two cells. The transposed convolution is the product with C^T:
``X' = C^T Y`` (shape (IH*IW) x (OH*OW)), which is why it maps the output shape
back to the input shape.

C is filled from the taps of the engine's trace, never recomputed: each tap is
one nonzero entry. A figure is plain numbers (pixel boxes) and role names;
:func:`convanim.raster.matrix_picture` turns roles into colours and text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import Trace, trace
from .params import SpecError, fmt_pair
from .spec import transpose_of
from .text import TIMES, NumberFormat, fmt_num

# Past this many rows or columns the labels of C are too small to read in any
# picture that fits a screen: 64 is an 8x8 input (or output).
MAX_SIDE = 64
MAX_PIXELS = 40_000_000

# Roles of filled cells and of labels (raster maps them to colours and fonts).
TAP, ZERO, VEC_IN, VEC_OUT = "tap", "zero", "in", "out"
ROW_HEAD, COL_HEAD, NAME, CAPTION = "row_head", "col_head", "name", "caption"
SUP_T = "\u1d40"  # superscript T; raster draws it as a small raised T

# Rough advance of one character per pixel of cell height at the cell font size
# (Pillow's default font is about 0.47 em per character, the cell font 0.42 em).
# Only to size the boxes; raster shrinks any font that would not fit its box.
CHAR_W = 0.21
CHAR_W_HEAD = 0.17
CHAR_W_CAPTION = 0.23


@dataclass(frozen=True)
class Box:
    """Pixel rectangle [x0, x1) x [y0, y1)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Label:
    """Text centred vertically in ``box``; ``align`` is "center", "left" or "right"."""

    box: Box
    text: str
    role: str
    align: str = "center"


@dataclass(frozen=True, eq=False)
class MatrixFigure:
    """The drawn matrix (C, or C^T when ``transpose``) with headers and vectors.

    ``taps`` (rows, cols) holds the flat weight index ``ky*KW + kx`` of each entry
    as drawn, -1 for a zero; ``cells`` the filled boxes with their roles,
    ``grid`` the boxes whose edges are drawn, ``brackets`` the boxes to bracket.
    """

    size: tuple[int, int]
    transpose: bool
    taps: np.ndarray
    cells: tuple[tuple[Box, str], ...]
    grid: tuple[Box, ...]
    labels: tuple[Label, ...]
    brackets: tuple[Box, ...]
    cell: int


def _require_conv(t: Trace) -> None:
    if t.spec.op != "conv2d":
        raise SpecError(
            f"matrix: got a {t.spec.op} trace; the matrix figure is drawn from a conv2d trace "
            "(its transpose C^T is the transposed convolution: use transpose=True)"
        )


def tap_matrix(t: Trace) -> np.ndarray:
    """(OH*OW, IH*IW) int matrix: flat weight index ky*KW + kx of each tap, -1 elsewhere.

    Entry [oy*OW + ox, iy*IW + ix] comes from the tap with output (oy, ox) and
    input (iy, ix). A conv2d has at most one tap per such pair (for a fixed output
    cell, the input cell determines the kernel offset).
    """
    _require_conv(t)
    (ih, iw), (oh, ow) = t.spec.input_size, t.spec.output_size
    kw = t.spec.kernel_size[1]
    m = np.full((oh * ow, ih * iw), -1, dtype=np.int64)
    rows = t.tap_out[:, 0] * ow + t.tap_out[:, 1]
    cols = t.tap_in[:, 0] * iw + t.tap_in[:, 1]
    m[rows, cols] = t.tap_w[:, 0] * kw + t.tap_w[:, 1]
    return m


def conv_matrix(t: Trace) -> np.ndarray:
    """C as floats, (OH*OW, IH*IW): the weight of each tap, 0 elsewhere; C @ x.ravel() == output.ravel()."""
    taps = tap_matrix(t)
    flat_w = np.append(np.asarray(t.weight, dtype=np.float64).ravel(), 0.0)
    return flat_w[taps]  # index -1 picks the appended 0


def check_size(t: Trace) -> None:
    """SpecError when C has more than MAX_SIDE rows or columns."""
    _require_conv(t)
    (ih, iw), (oh, ow) = t.spec.input_size, t.spec.output_size
    rows, cols = oh * ow, ih * iw
    if rows > MAX_SIDE or cols > MAX_SIDE:
        raise SpecError(
            f"input_size: the matrix C would be {rows} x {cols} (output {oh}x{ow} = {rows} rows, "
            f"input {ih}x{iw} = {cols} columns); at most {MAX_SIDE} rows and {MAX_SIDE} columns "
            f"are drawn readably, e.g. an 8x8 input"
        )


def fmt_value(v: float, decimals: int | None = None) -> str:
    """A value of the figure, as the animations write it (:func:`convanim.text.fmt_num`)."""
    return fmt_num(v, decimals)


def fmt_values(values) -> list[str]:
    """Values of one vector (or the weights), all with the decimals the most exact needs."""
    d = NumberFormat.decimals(np.asarray(values, dtype=np.float64))
    return [fmt_num(v, d) for v in np.asarray(values, dtype=np.float64).ravel()]


def _cell_label(r: int, c: int) -> str:
    return f"({r},{c})"


def _flat_labels(prefix: str, shape: tuple[int, int]) -> list[str]:
    return [prefix + _cell_label(r, c) for r in range(shape[0]) for c in range(shape[1])]


def _text_w(chars: int, cell: int, per_char: float) -> int:
    return int(np.ceil(chars * per_char * cell + 0.4 * cell))


def _describe(spec) -> str:
    parts = [f"i={fmt_pair(spec.input_size)}", f"k={fmt_pair(spec.kernel_size)}",
             f"s={fmt_pair(spec.stride)}", f"p={fmt_pair(spec.padding)}"]
    if spec.dilation != (1, 1):
        parts.append(f"d={fmt_pair(spec.dilation)}")
    return "conv " + " ".join(parts)


def matrix_figure(t: Trace, transpose: bool = False, vectors: bool = True, values: bool = False,
                  cell: int = 32) -> MatrixFigure:
    """Geometry of C (or C^T) for the conv2d trace ``t``, headers, and optionally the vectors.

    C is (OH*OW) x (IH*IW); rows are labelled by output cells y(r,c), columns by
    input cells x(r,c). With ``vectors`` the flattened input X (values of
    ``t.input``) is drawn as a row above the columns it multiplies and Y = C X
    (``t.output``) as a column right of the rows it sums. With ``transpose``, C^T
    is drawn: rows x(r,c), columns y(r,c), Y above and X' = C^T Y at the right,
    X' being the output of the engine's transposed convolution
    (:func:`convanim.spec.transpose_of`) applied to Y. ``values`` writes the weights
    instead of w(r,c). ``cell`` is the row height in pixels.
    """
    check_size(t)
    spec = t.spec
    taps = tap_matrix(t)
    in_shape, out_shape = spec.input_size, spec.output_size
    kh, kw = spec.kernel_size
    row_names, col_names = _flat_labels("y", out_shape), _flat_labels("x", in_shape)
    vec_in, vec_out = np.asarray(t.input).ravel(), np.asarray(t.output).ravel()
    name_in, name_out = "X", "Y"
    caption = f"Y = C X      C: {taps.shape[0]} {TIMES} {taps.shape[1]}"
    if transpose:
        taps = taps.T
        row_names, col_names = col_names, row_names
        back = trace(transpose_of(spec), t.output, t.weight)
        vec_in, vec_out = vec_out, np.asarray(back.output).ravel()
        name_in, name_out = "Y", "X'"
        caption = f"X' = C{SUP_T} Y      C{SUP_T}: {taps.shape[0]} {TIMES} {taps.shape[1]}"
    if not vectors:
        caption = caption.split("      ", 1)[1]
    caption = f"{caption}      ({_describe(spec)})"
    rows, cols = taps.shape

    weight = np.asarray(t.weight, dtype=np.float64).ravel()
    if values:
        tap_text = fmt_values(weight)
    else:
        tap_text = [f"w({a},{b})" for a in range(kh) for b in range(kw)]

    # Box sizes from the longest text each column of boxes holds.
    ch = int(cell)
    col_chars = max([len(s) for s in tap_text] + [len(s) for s in col_names] + [1])
    if vectors:
        col_chars = max([col_chars, len(name_out)]
                        + [len(s) for s in fmt_values(vec_in) + fmt_values(vec_out)])
    cw = max(ch, _text_w(col_chars, ch, CHAR_W))
    hw = max(_text_w(max(len(s) for s in row_names), ch, CHAR_W_HEAD), ch // 2)
    m = max(4, ch // 2)  # outer margin
    gap = max(6, ch // 2)  # room for a bracket between blocks
    b = max(2, ch // 8)  # bracket offset from what it encloses

    x_mat = m + hw + gap
    x_end = x_mat + cols * cw
    x_out = x_end + gap
    width = (x_out + cw if vectors else x_end) + gap
    y_head = m + ch
    y_in = y_head + ch
    y_mat = (y_in + ch + gap) if vectors else (y_head + ch + 2 * b)
    height = y_mat + rows * ch + m
    width = max(width + m, 2 * m + _text_w(len(caption), ch, CHAR_W_CAPTION))
    if width * height > MAX_PIXELS:
        raise SpecError(
            f"cell: {cell} px makes the figure {width}x{height} pixels; at most {MAX_PIXELS} "
            "pixels; give a smaller cell"
        )

    cells: list[tuple[Box, str]] = []
    grid: list[Box] = []
    labels: list[Label] = [Label(Box(m, m, width - m, m + ch), caption, CAPTION, "left")]
    for j in range(cols):
        x0 = x_mat + j * cw
        labels.append(Label(Box(x0, y_head, x0 + cw, y_head + ch), col_names[j], COL_HEAD))
    for r in range(rows):
        y0 = y_mat + r * ch
        labels.append(Label(Box(m, y0, m + hw, y0 + ch), row_names[r], ROW_HEAD, "right"))
        for j in range(cols):
            x0 = x_mat + j * cw
            box = Box(x0, y0, x0 + cw, y0 + ch)
            grid.append(box)
            k = int(taps[r, j])
            if k >= 0:
                cells.append((box, TAP))
                labels.append(Label(box, tap_text[k], TAP))
            else:
                labels.append(Label(box, "0", ZERO))
    brackets = [Box(x_mat - b, y_mat - b, x_end + b, y_mat + rows * ch + b)]
    in_text, out_text = fmt_values(vec_in), fmt_values(vec_out)
    if vectors:
        for j in range(cols):
            box = Box(x_mat + j * cw, y_in, x_mat + (j + 1) * cw, y_in + ch)
            cells.append((box, VEC_IN))
            grid.append(box)
            labels.append(Label(box, in_text[j], VEC_IN))
        labels.append(Label(Box(m, y_in, m + hw, y_in + ch), name_in, NAME, "right"))
        brackets.append(Box(x_mat - b, y_in - b, x_end + b, y_in + ch + b))
        for r in range(rows):
            box = Box(x_out, y_mat + r * ch, x_out + cw, y_mat + (r + 1) * ch)
            cells.append((box, VEC_OUT))
            grid.append(box)
            labels.append(Label(box, out_text[r], VEC_OUT))
        labels.append(Label(Box(x_out, y_head, x_out + cw, y_head + ch), name_out, NAME))
        brackets.append(Box(x_out - b, y_mat - b, x_out + cw + b, y_mat + rows * ch + b))
    taps.setflags(write=False)
    return MatrixFigure((width, height), transpose, taps, tuple(cells), tuple(grid),
                        tuple(labels), tuple(brackets), ch)

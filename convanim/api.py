"""The public path in a few calls: spec -> trace -> frames -> file.

>>> import convanim as ca
>>> spec = ca.conv2d(5, 3, stride=2, padding=1)
>>> t = ca.trace_of(spec, seed=0)
>>> images = ca.render(t)            # list of PIL images, one per kernel placement
>>> ca.save(t, "conv.gif")           # or .webp, .png (APNG), .json (the trace)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from . import writer
from .data import load_matrix, random_arrays
from .engine import Trace, trace
from .layout import IsoLayout, iso_layout
from .matrix import matrix_figure
from .params import SpecError
from .raster import frames as raster_frames
from .raster import matrix_picture
from .spec import Spec
from .theme import CLASSIC, Theme
from .tracefile import trace_json
from .writer import check_output

DEFAULT_CELL = 32


def trace_of(spec: Spec, seed: int = 0, input: str | os.PathLike | np.ndarray | None = None,
             weight: str | os.PathLike | np.ndarray | None = None) -> Trace:
    """The trace of ``spec`` on given arrays (or files), or on seeded random integers."""
    x, w = random_arrays(spec.input_size, None if spec.pooling else spec.kernel_size, seed)
    if input is not None:
        x = load_matrix(input, "input", spec.input_size) if not isinstance(input, np.ndarray) else input
    if weight is not None:
        w = load_matrix(weight, "weight", spec.kernel_size) if not isinstance(weight, np.ndarray) else weight
    return trace(spec, x, w)


def layout(t: Trace, cell: float = DEFAULT_CELL) -> IsoLayout:
    return iso_layout(t, cell=cell)


def iter_frames(t: Trace, cell: float = DEFAULT_CELL, theme: Theme = CLASSIC):
    """Frames one at a time (P-mode images with one shared palette)."""
    return raster_frames(layout(t, cell), theme)


def render(t: Trace, cell: float = DEFAULT_CELL, theme: Theme = CLASSIC) -> list[Image.Image]:
    """Every frame of the animation, as PIL images."""
    return list(iter_frames(t, cell, theme))


def save(t: Trace, path: str | os.PathLike, cell: float = DEFAULT_CELL, duration: int = 1000,
         loop: int = 0, theme: Theme = CLASSIC, frames_dir: str | os.PathLike | None = None) -> Path:
    """Write ``t`` to ``path``: .gif/.webp/.png animation or .json trace, atomically.

    ``frames_dir`` also writes every frame as a numbered PNG there.
    """
    path = writer.check_output(path)
    if path.suffix.lower() == ".json":
        return writer.write_text(path, trace_json(t))
    images = render(t, cell, theme)
    if frames_dir is not None:
        writer.write_frames(frames_dir, images, path.stem)
    return writer.write_animation(path, images, duration=duration, loop=loop)


def matrix_image(t: Trace, transpose: bool = False, vectors: bool = True, values: bool = False,
                 cell: int = DEFAULT_CELL, theme: Theme = CLASSIC) -> Image.Image:
    """The conv2d trace ``t`` as its matrix C, (OH*OW) x (IH*IW), or C^T when ``transpose``.

    ``vectors`` draws X and Y = C X (or Y and X' = C^T Y) beside it; ``values`` writes
    the weights instead of w(r,c). Raises SpecError past 64 rows or columns.
    """
    return matrix_picture(matrix_figure(t, transpose, vectors, values, cell), theme)


def save_matrix(t: Trace, path: str | os.PathLike, transpose: bool = False, vectors: bool = True,
                values: bool = False, cell: int = DEFAULT_CELL, theme: Theme = CLASSIC) -> Path:
    """Write :func:`matrix_image` as a static PNG at ``path``, atomically."""
    path = matrix_output(path)
    image = matrix_image(t, transpose, vectors, values, cell, theme)
    with writer.atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=False)
    return path


def matrix_output(path: str | os.PathLike) -> Path:
    """check_output, and the suffix must be .png: the figure is one static image."""
    path = writer.check_output(path)
    if path.suffix.lower() != ".png":
        raise SpecError(
            f"output: got {str(path)!r}; the matrix figure is a static image, allowed: .png"
        )
    return path

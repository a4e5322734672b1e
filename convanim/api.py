"""The public path in a few calls: spec -> trace -> frames -> file.

>>> import convanim as ca
>>> spec = ca.conv2d(5, 3, stride=2, padding=1)
>>> t = ca.trace_of(spec, seed=0)
>>> images = ca.render(t)            # list of PIL images, one per kernel placement
>>> ca.save(t, "conv.gif")           # or .webp, .png (APNG), .json (the trace)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image

from . import writer
from .data import load_matrix, random_arrays
from .engine import Trace, trace
from .flat import FlatLayout, flat_layout
from .layout import IsoLayout, iso_layout
from .matrix import matrix_figure
from .params import SpecError
from .raster import frames as raster_frames
from .raster import matrix_picture
from .spec import Spec
from .theme import CLASSIC, Theme, theme_named
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


STYLES = ("iso", "flat")


def layout(t: Trace, cell: float = DEFAULT_CELL, style: str = "iso", numbers: bool | None = None,
           labels: bool | None = None, caption: str | None = None,
           title: str | None = None) -> IsoLayout | FlatLayout:
    """The geometry of the picture: ``style`` "iso" (oblique, the guide's) or "flat" (front view).

    ``numbers`` and ``labels`` default to off for iso, on for flat; ``caption``
    is a text or "auto" (parameters and the output-size formula).
    """
    if style not in STYLES:
        raise SpecError(f"style: got {style!r}; allowed: {', '.join(STYLES)}")
    flat = style == "flat"
    numbers = flat if numbers is None else numbers
    labels = flat if labels is None else labels
    if flat:
        return flat_layout(t, cell, numbers=numbers, labels=labels, title=title, caption=caption)
    return iso_layout(t, cell=cell, numbers=numbers, labels=labels, title=title, caption=caption)


def iter_frames(t: Trace, cell: float = DEFAULT_CELL, theme: Theme | str = CLASSIC, **picture):
    """Frames one at a time (P-mode images with one shared palette).

    ``picture``: style, numbers, labels, caption, title, as for :func:`layout`.
    """
    return raster_frames(layout(t, cell, **picture), theme_named(theme))


def render(t: Trace, cell: float = DEFAULT_CELL, theme: Theme | str = CLASSIC,
           **picture) -> list[Image.Image]:
    """Every frame of the animation, as PIL images (``picture`` as for :func:`layout`)."""
    return list(iter_frames(t, cell, theme, **picture))


def save(t: Trace, path: str | os.PathLike, cell: float = DEFAULT_CELL, duration: int = 1000,
         loop: int = 0, theme: Theme | str = CLASSIC, frames_dir: str | os.PathLike | None = None,
         style: str = "iso", numbers: bool | None = None, labels: bool | None = None,
         caption: str | None = None, title: str | None = None,
         strip: str | os.PathLike | None = None) -> Path:
    """Write ``t`` to ``path``: .gif/.webp/.png animation or .json trace, atomically.

    ``frames_dir`` also writes every frame as a numbered PNG there; ``strip``
    also writes every frame into one PNG (:func:`writer.write_strip`), from the
    same drawing; ``theme`` is a Theme or a preset name; style, numbers, labels,
    caption, title as for :func:`layout`.
    """
    path = writer.check_output(path)
    if path.suffix.lower() == ".json":
        return writer.write_text(path, trace_json(t))
    images = render(t, cell, theme, style=style, numbers=numbers, labels=labels,
                    caption=caption, title=title)
    if frames_dir is not None:
        writer.write_frames(frames_dir, images, path.stem)
    if strip is not None:
        writer.write_strip(strip, images)
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


@dataclass(frozen=True)
class Job:
    """One figure to write: a spec, its data, where to write it and how to draw it.

    ``outputs`` are files (.gif/.webp/.png/.json); ``frames_dir`` also gets every
    frame as a numbered PNG, ``strip`` (a .png path) every frame in one PNG;
    ``options`` are keyword arguments of :func:`save` (cell, duration, loop, ...),
    passed through by name.
    """

    spec: Spec
    seed: int = 0
    input: str | None = None
    weight: str | None = None
    outputs: tuple[str, ...] = ()
    frames_dir: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    strip: str | None = None            # last: Job is also built positionally


def run_job(job: Job) -> list[Path]:
    """Check every output, trace once, then write each output; the files written, in order.

    The frames and the strip go with the first animation output, so they are drawn once.
    """
    paths = [writer.check_output(p) for p in job.outputs]
    images = [p for p in paths if p.suffix.lower() in writer.IMAGE_SUFFIXES]
    if job.frames_dir is not None and not images:
        raise SpecError("frames: needs an animation output (.gif, .webp or .png) to draw")
    if job.strip is not None and not images:
        raise SpecError("strip: needs an animation output (.gif, .webp or .png) to draw")
    t = trace_of(job.spec, seed=job.seed, input=job.input, weight=job.weight)
    written = []
    for path in paths:
        first = bool(images) and path == images[0]
        written.append(save(t, path, frames_dir=job.frames_dir if first else None,
                            strip=job.strip if first else None, **job.options))
    return written

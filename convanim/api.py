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
from .layout import IsoLayout, canvas_size, iso_layout
from .params import SpecError
from .raster import frames as raster_frames
from .spec import Spec
from .theme import CLASSIC, Theme
from .tracefile import trace_json
from .writer import check_output

DEFAULT_CELL = 32
MAX_FRAMES = 2_500  # default limits: above them a request is refused unless raised
MAX_SIZE = 4_000  # canvas pixels a side
# Frames x kernel cells: what the engine records and the renderer draws. Without it
# a large kernel over many frames fits the two limits above and still runs for hours.
MAX_PRODUCTS = 250_000


class LimitError(SpecError):
    """A valid request above --max-frames / --max-size."""


def check_limits(what: Spec | Trace, cell: float = DEFAULT_CELL,
                 max_frames: int | None = MAX_FRAMES, max_size: int | None = MAX_SIZE,
                 max_products: int | None = MAX_PRODUCTS) -> None:
    """Refuse a request with more frames, a larger canvas or more kernel cells than allowed.

    None switches a limit off. Works from the spec alone (frames = kernel
    placements, canvas from :func:`layout.canvas_size`, products = frames x
    kernel cells), so it runs before the trace is allocated.
    """
    spec = what.spec if isinstance(what, Trace) else what
    n = spec.n_steps
    if max_frames is not None and n > max_frames:
        raise LimitError(
            f"frames: {spec.short_name()} has {n:,} frames (one per kernel placement), more "
            f"than the limit of {max_frames:,}; allow it with --max-frames {n}"
        )
    kh, kw = spec.kernel_size
    products = n * kh * kw
    if max_products is not None and products > max_products:
        raise LimitError(
            f"products: {spec.short_name()} places its {kh}x{kw} kernel {n:,} times, "
            f"{products:,} kernel cells to record and draw, more than the limit of "
            f"{max_products:,}; allow it with --max-products {products}"
        )
    if max_size is not None:
        w, h = canvas_size(spec, cell)
        if max(w, h) > max_size:
            raise LimitError(
                f"size: {spec.short_name()} at --cell {cell:g} needs a {w:,}x{h:,} px canvas, "
                f"more than the limit of {max_size:,} px a side; allow it with "
                f"--max-size {max(w, h)} or use a smaller --cell"
            )


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
         loop: int = 0, theme: Theme = CLASSIC, frames_dir: str | os.PathLike | None = None,
         max_frames: int | None = MAX_FRAMES, max_size: int | None = MAX_SIZE,
         max_products: int | None = MAX_PRODUCTS) -> Path:
    """Write ``t`` to ``path``: .gif/.webp/.png animation or .json trace, atomically.

    ``frames_dir`` also writes every frame as a numbered PNG there. Frames are
    rendered once and streamed to both; all files appear together when the last
    is complete, and none on an error or interrupt. Limits as in :func:`check_limits`.
    """
    path = writer.check_output(path)
    if frames_dir is not None:
        frames_dir = writer.check_frames_dir(frames_dir)
    json_only = path.suffix.lower() == ".json" and frames_dir is None
    check_limits(t, cell, max_frames, None if json_only else max_size, max_products)
    with writer.staged() as staging:
        frames = None
        if path.suffix.lower() != ".json" or frames_dir is not None:
            frames = iter_frames(t, cell, theme)
        if frames_dir is not None:
            frames = writer.tee_frames(frames, frames_dir, path.stem, staging)
        if path.suffix.lower() == ".json":
            writer.write_text(path, trace_json(t), staging)
            for _ in frames or ():
                pass  # the PNGs are written as the frames pass through
        else:
            writer.write_animation(path, frames, duration=duration, loop=loop, staging=staging)
    return path

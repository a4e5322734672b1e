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
from .layout import IsoLayout, canvas_size, iso_layout
from .matrix import matrix_figure
from .params import SpecError
from .backends import raster
from .scene import Scene, scene_of
from .spec import Spec
from .theme import CLASSIC, Theme, theme_named
from .tracefile import trace_json

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
    _check_canvas(spec, canvas_size(spec, cell), cell, max_size)


def _check_canvas(spec: Spec, size: tuple[int, int], cell: float, max_size: int | None) -> None:
    w, h = size
    if max_size is not None and max(w, h) > max_size:
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
    for name, text in (("caption", caption), ("title", title)):
        if text is not None and not text.strip():
            # An empty band would be drawn for it: most likely an unset shell variable.
            raise SpecError(f"{name}: got {text!r}; expected a text to show"
                            + (" or 'auto'" if name == "caption" else ""))
    flat = style == "flat"
    numbers = flat if numbers is None else numbers
    labels = flat if labels is None else labels
    if flat:
        return flat_layout(t, cell, numbers=numbers, labels=labels, title=title, caption=caption)
    return iso_layout(t, cell=cell, numbers=numbers, labels=labels, title=title, caption=caption)


def iter_frames(t: Trace, cell: float = DEFAULT_CELL, theme: Theme | str = CLASSIC, *,
                drawn: IsoLayout | FlatLayout | None = None, changed: bool = False, **picture):
    """Frames one at a time (P-mode images with one shared palette).

    ``picture``: style, numbers, labels, caption, title, as for :func:`layout`;
    or ``drawn``, a layout already made. ``changed`` keeps in each frame's ``info``
    where it differs from the one before (writer.Changed), which lets the GIF writer
    skip whole-frame comparisons; for frames passed straight to the writer.
    """
    return raster.frames(scene_of(drawn or layout(t, cell, **picture), theme_named(theme)), changed)


def render(t: Trace, cell: float = DEFAULT_CELL, theme: Theme | str = CLASSIC,
           **picture) -> list[Image.Image]:
    """Every frame of the animation, as PIL images (``picture`` as for :func:`layout`)."""
    return list(iter_frames(t, cell, theme, **picture))


def save(t: Trace, path: str | os.PathLike, cell: float = DEFAULT_CELL, duration: int = 1000,
         loop: int = 0, theme: Theme | str = CLASSIC, frames_dir: str | os.PathLike | None = None,
         style: str = "iso", numbers: bool | None = None, labels: bool | None = None,
         caption: str | None = None, title: str | None = None,
         strip: str | os.PathLike | None = None, max_frames: int | None = MAX_FRAMES,
         max_size: int | None = MAX_SIZE, max_products: int | None = MAX_PRODUCTS) -> Path:
    """Write ``t`` to ``path``: .gif/.webp/.png animation or .json trace, atomically.

    ``frames_dir`` also writes every frame as a numbered PNG there; ``strip``
    also writes every frame into one PNG (:func:`writer.write_strip`). Frames are
    rendered once and streamed to all of them; all files appear together when the
    last is complete, and none on an error or interrupt. ``theme`` is a Theme or a
    preset name; style, numbers, labels, caption, title as for :func:`layout`;
    limits as in :func:`check_limits`, and the canvas of the chosen style is
    checked against ``max_size`` before the first frame is drawn.
    """
    path = writer.check_output(path)
    if frames_dir is not None:
        frames_dir = writer.check_frames_dir(frames_dir)
    if strip is not None:
        Path(strip).parent.mkdir(parents=True, exist_ok=True)
        strip = writer.check_output(strip)
    drawn = path.suffix.lower() != ".json" or frames_dir is not None or strip is not None
    check_limits(t, cell, max_frames, max_size if drawn else None, max_products)
    with writer.staged() as staging:
        frames = None
        if drawn:
            picture = layout(t, cell, style=style, numbers=numbers, labels=labels,
                             caption=caption, title=title)
            _check_canvas(t.spec, picture.size, cell, max_size)
            frames = iter_frames(t, cell, theme, drawn=picture, changed=True)
        if frames_dir is not None:
            frames = writer.tee_frames(frames, frames_dir, path.stem, staging)
        if strip is not None:
            # A strip is one image of every frame: it holds them all, so it is for galleries.
            frames = writer.tee_strip(frames, strip, staging)
        if path.suffix.lower() == ".json":
            writer.write_text(path, trace_json(t), staging)
            for _ in frames or ():
                pass  # the PNGs are written as the frames pass through
        else:
            writer.write_animation(path, frames, duration=duration, loop=loop, staging=staging)
    return path


def matrix_image(t: Trace, transpose: bool = False, vectors: bool = True, values: bool = False,
                 cell: int = DEFAULT_CELL, theme: Theme = CLASSIC) -> Image.Image:
    """The conv2d trace ``t`` as its matrix C, (OH*OW) x (IH*IW), or C^T when ``transpose``.

    ``vectors`` draws X and Y = C X (or Y and X' = C^T Y) beside it; ``values`` writes
    the weights instead of w(r,c). Raises SpecError past 64 rows or columns.
    """
    return raster.picture(scene_of(matrix_figure(t, transpose, vectors, values, cell), theme))


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
    """Check every output and the limits, trace once, then write each output.

    Returns the files written, in order. The frames and the strip go with the
    first animation output, so they are drawn once.
    """
    paths = [writer.check_output(p) for p in job.outputs]
    images = [p for p in paths if p.suffix.lower() in writer.IMAGE_SUFFIXES]
    if job.frames_dir is not None:
        writer.check_frames_dir(job.frames_dir)
    if job.strip is not None and not images:
        raise SpecError("strip: needs an animation output (.gif, .webp or .png) to draw")
    # Everything that can be checked is checked before the trace is allocated.
    opts = dict(job.options)
    drawn = bool(images) or job.frames_dir is not None
    check_limits(job.spec, opts.get("cell", DEFAULT_CELL), opts.get("max_frames", MAX_FRAMES),
                 opts.get("max_size", MAX_SIZE) if drawn else None,
                 opts.get("max_products", MAX_PRODUCTS))
    t = trace_of(job.spec, seed=job.seed, input=job.input, weight=job.weight)
    written = []
    for n, path in enumerate(paths):
        # Frames and strip ride with the first animation (or, with none, the first output).
        first = path == images[0] if images else n == 0
        written.append(save(t, path, frames_dir=job.frames_dir if first else None,
                            strip=job.strip if first and images else None, **job.options))
    return written

"""The public path in a few calls: spec -> trace -> frames -> file.

>>> import convanim as ca
>>> spec = ca.conv2d(5, 3, stride=2, padding=1)
>>> t = ca.trace_of(spec, seed=0)
>>> images = ca.render(t)            # list of PIL images, one per kernel placement
>>> ca.save(t, "conv.gif")           # or .webp, .png (APNG), .svg, .html, .json (the trace)
>>> ca.save(t, "step5.pdf", frame=5)  # one frame as a still: .png, .svg or .pdf
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import numpy as np
from PIL import Image

from . import formats, writer
from .channels import ChannelTrace, channel_trace
from .data import load_array, load_matrix, random_arrays, random_channel_arrays
from .engine import Trace, trace
from .flat import FlatLayout, flat_layout
from .flat_channels import canvas_size as channel_canvas_size
from .flat_channels import channel_flat_layout, check_channel_flat
from .fonts import Face, resolve
from .iso import IsoLayout, canvas_size, iso_layout
from .iso_channels import canvas_size as channel_iso_canvas_size
from .iso_channels import channel_iso_layout, check_channel_iso
from .matrix import matrix_figure
from .overlap import check_overlay
from .params import SpecError
from .backends import raster
from .scale import scaled
from .scene import Scene, scene_of
from .spec import Spec
from .text import one_line
from .theme import CLASSIC, Theme, hex_rgb, theme_named

DEFAULT_CELL = 32
MAX_FRAMES = 2_500  # default limits: above them a request is refused unless raised
MAX_SIZE = 4_000  # canvas pixels a side
# Frames x kernel cells: what the engine records and the renderer draws. Without it
# a large kernel over many frames fits the two limits above and still runs for hours.
MAX_PRODUCTS = 250_000


# progress(done, total): frames written so far, of total.
Progress = Callable[[int, int], object]


class LimitError(SpecError):
    """A valid request above --max-frames / --max-size."""


def check_limits(what: Spec | Trace, cell: float = DEFAULT_CELL,
                 max_frames: int | None = MAX_FRAMES, max_size: int | None = MAX_SIZE,
                 max_products: int | None = MAX_PRODUCTS, scale: float = 1.0) -> None:
    """Refuse a request with more frames, a larger canvas or more kernel cells than allowed.

    None switches a limit off. Works from the spec alone (frames = kernel
    placements, canvas from :func:`layout.canvas_size`, products = frames x
    kernel cells), so it runs before the trace is allocated. ``scale`` multiplies the
    canvas (:class:`Look`): the limit is on the pixels written.
    """
    check_scale(scale)
    spec = what if isinstance(what, Spec) else what.spec
    n = spec.n_steps
    if max_frames is not None and n > max_frames:
        raise LimitError(
            f"frames: {spec.short_name()} has {n:,} frames (one per "
            f"{'output value' if spec.channels else 'kernel placement'}), more "
            f"than the limit of {max_frames:,}; allow it with --max-frames {n}"
        )
    kh, kw = spec.kernel_size
    maps = spec.maps_per_step
    products = n * kh * kw * maps
    if max_products is not None and products > max_products:
        kernel = f"{maps}x{kh}x{kw} filter" if maps > 1 else f"{kh}x{kw} kernel"
        raise LimitError(
            f"products: {spec.short_name()} places its {kernel} {n:,} times, "
            f"{products:,} kernel cells to record and draw, more than the limit of "
            f"{max_products:,}; allow it with --max-products {products}"
        )
    _check_canvas(spec, _times(canvas_size(spec, cell), scale), cell, max_size, scale)


MAX_SCALE = 8.0


def check_scale(scale: float) -> None:
    if not (isinstance(scale, (int, float)) and 0.25 <= scale <= MAX_SCALE):
        raise SpecError(f"scale: got {scale!r}; allowed: 0.25..{MAX_SCALE:g} (2: twice as large)")


def _times(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """A canvas size drawn ``scale`` times as large (as :func:`convanim.scale.scaled`)."""
    return (math.ceil(size[0] * scale - 1e-9), math.ceil(size[1] * scale - 1e-9))


def _check_canvas(spec: Spec, size: tuple[int, int], cell: float, max_size: int | None,
                  scale: float = 1.0) -> None:
    w, h = size
    if max_size is not None and max(w, h) > max_size:
        at = f"--cell {cell:g}" + (f" and --scale {scale:g}" if scale != 1 else "")
        raise LimitError(
            f"size: {spec.short_name()} at {at} needs a {w:,}x{h:,} px canvas, "
            f"more than the limit of {max_size:,} px a side; allow it with "
            f"--max-size {max(w, h)} or use a smaller --cell"
            + (" or --scale" if scale != 1 else "")
        )


def trace_of(spec: Spec, seed: int = 0, input: str | os.PathLike | np.ndarray | None = None,
             weight: str | os.PathLike | np.ndarray | None = None,
             grad_output: str | os.PathLike | np.ndarray | None = None,
             bias: str | os.PathLike | np.ndarray | None = None) -> Trace | ChannelTrace:
    """The trace of ``spec`` on given arrays (or files), or on seeded random integers.

    A spec with channels, groups or a bias (``spec.channels``) gives a
    :class:`convanim.channels.ChannelTrace`, its arrays of PyTorch's shapes (``bias``
    the bias, drawn after the weight when None). A backward pass (``spec.grad``, :mod:`convanim.grad`) takes the forward's input and
    weight and ``grad_output`` (dL/dy), seeded (:func:`grad.random_grad_output`) when None.
    """
    if spec.grad is not None:
        return _grad_trace_of(spec, seed, input, weight, grad_output)
    if spec.channels:
        return _channel_trace_of(spec, seed, input, weight, bias)
    if bias is not None:
        raise SpecError(f"bias: {spec.short_name()} has no bias; build the spec with "
                        "bias=True (--bias)")
    x, w = random_arrays(spec.input_size, None if spec.pooling else spec.kernel_size, seed)
    if input is not None:
        x = load_matrix(input, "input", spec.input_size) if not isinstance(input, np.ndarray) else input
    if weight is not None:
        w = load_matrix(weight, "weight", spec.kernel_size) if not isinstance(weight, np.ndarray) else weight
    with np.errstate(over="ignore", invalid="ignore"):  # reported by check_finite, as one line
        t = trace(spec, x, w)
    check_finite(t)
    return t


def channel_rules(spec: Spec) -> dict[str, tuple[tuple[int, ...] | None, str]]:
    """The shape each array of a channel spec must have, and the rule it comes from."""
    k = "KH, KW" if spec.kernel_size[0] != spec.kernel_size[1] else "K, K"
    weight = ("(in_channels, out_channels/groups, " if spec.transposed
              else "(out_channels, in_channels/groups, ") + k + ")"
    cls = "ConvTranspose2d" if spec.transposed else "Conv2d"
    return {"input": (spec.input_shape, "the input shape (in_channels, H, W)"),
            "weight": (spec.weight_shape, f"{cls}'s weight shape {weight}"),
            "bias": (spec.bias_shape, "the bias shape (out_channels)")}


def load_channel_array(spec: Spec, name: str, given) -> np.ndarray:
    """``given`` (a file or an array) as the ``name`` array of ``spec``, shape checked."""
    shape, rule = channel_rules(spec)[name]
    if shape is None:
        raise SpecError(f"{name}: {spec.short_name()} has no {name}"
                        + ("; drop --weight (pooling takes no weight)" if name == "weight"
                           else "; add --bias, or drop --bias-file"))
    if isinstance(given, np.ndarray):
        if given.shape != shape:
            raise SpecError(f"{name}: got an array of shape {'x'.join(map(str, given.shape))} "
                            f"but {rule} is {'x'.join(map(str, shape))}")
        return np.asarray(given, dtype=np.float64)
    return load_array(given, name, shape, f"{rule}")


def _channel_trace_of(spec: Spec, seed, input, weight, bias) -> ChannelTrace:
    x, w, b = random_channel_arrays(spec.input_shape, spec.weight_shape, spec.bias_shape, seed)
    if input is not None:
        x = load_channel_array(spec, "input", input)
    if weight is not None:
        w = load_channel_array(spec, "weight", weight)
    if bias is not None:
        b = load_channel_array(spec, "bias", bias)
    with np.errstate(over="ignore", invalid="ignore"):
        t = channel_trace(spec, x, w, b)
    check_finite(t)
    return t


def _grad_trace_of(spec: Spec, seed, input, weight, grad_output) -> Trace:
    from . import grad  # the backward pass builds on the engine; only its figures need it

    f = spec.grad.forward
    x, w = random_arrays(f.input_size, None if f.pooling else f.kernel_size, seed)
    g = grad.random_grad_output(f.output_size, seed)
    for name, given, shape in (("input", input, f.input_size), ("weight", weight, f.kernel_size),
                               ("grad_output", grad_output, f.output_size)):
        if given is None:
            continue
        value = given if isinstance(given, np.ndarray) else load_matrix(given, name, shape)
        if name == "input":
            x = value
        elif name == "weight":
            w = value
        else:
            g = value
    with np.errstate(over="ignore", invalid="ignore"):
        t = grad.grad_trace(spec, x, w, g)
    check_finite(t)
    return t


def check_finite(t: Trace) -> None:
    """Refuse values that overflowed: a product or a sum beyond the largest float (about
    1.8e308) is infinity, which no cell can show and JSON cannot hold."""
    for name, values in (("products", t.tap_value), ("output", t.output)):
        if not np.all(np.isfinite(values)):
            biggest = max(float(np.max(np.abs(t.input))),
                          float(np.max(np.abs(t.weight))) if t.weight is not None else 0.0,
                          float(np.max(np.abs(getattr(t, "bias", None))))
                          if getattr(t, "bias", None) is not None else 0.0)
            raise SpecError(f"input/weight: the {name} overflow to infinity (the largest value "
                            f"given is {biggest:.3g}); every product and sum must stay below "
                            "about 1.8e308: scale the data down")


STYLES = ("iso", "flat")


def layout(t: Trace, cell: float = DEFAULT_CELL, style: str = "iso", numbers: bool | None = None,
           labels: bool | None = None, caption: str | None = None,
           title: str | None = None, overlay: str | None = None) -> IsoLayout | FlatLayout:
    """The geometry of the picture: ``style`` "iso" (oblique, the guide's) or "flat" (front view).

    ``numbers`` and ``labels`` default to off for iso, on for flat; ``caption``
    is a text or "auto" (parameters and the output-size formula).
    """
    check_texts(style, caption, title)
    check_drawable(t.spec, style)
    title, caption = one_line(title), one_line(caption)
    flat = style == "flat"
    numbers = flat if numbers is None else numbers
    labels = flat if labels is None else labels
    if flat and t.spec.channels:
        if overlay is not None:
            raise SpecError(f"overlay: got {overlay!r} with channels; the flat picture of "
                            "channels has no overlay: drop --overlay")
        return channel_flat_layout(t, cell, numbers=numbers, labels=labels, title=title,
                                   caption=caption)
    if t.spec.channels:
        check_channel_iso_look(numbers, overlay)
        return channel_iso_layout(t, cell, labels=labels, title=title, caption=caption)
    if flat:
        return flat_layout(t, cell, numbers=numbers, labels=labels, title=title, caption=caption,
                           overlay=overlay)
    return iso_layout(t, cell=cell, numbers=numbers, labels=labels, title=title, caption=caption,
                      overlay=overlay)


def check_channel_iso_look(numbers: bool | None, overlay: str | None) -> None:
    """The iso picture of channels draws no numbers and no overlay: say so before any work."""
    if numbers:
        raise SpecError("numbers: the iso picture of channels has no numbers in its cells; "
                        "use --style flat for the values, or drop --numbers")
    if overlay is not None:
        raise SpecError(f"overlay: got {overlay!r} with channels; the iso picture of channels "
                        "has no overlay: drop --overlay")


def check_drawable(spec: Spec, style: str = "iso") -> None:
    """Pictures of channels: the iso and the flat picture of every op (conv2d,
    conv_transpose2d in the gather view, the only view of channels, pooling), in every
    picture format, the page included; refuse the others, saying what is drawn, and a
    layer beyond the limits."""
    if not spec.channels:
        return
    if spec.grad is not None:
        raise SpecError(
            f"channels: the backward pass is drawn for one channel only; got the gradient of "
            f"{spec.op} with in_channels "
            f"{spec.in_channels}, out_channels {spec.out_channels}, groups {spec.groups}, bias "
            f"{spec.bias}; write the trace with -o NAME.json, or see the shapes with "
            "convanim info")
    if style == "iso":
        check_channel_iso(spec)
    else:
        check_channel_flat(spec)


def check_texts(style: str, caption: str | None, title: str | None) -> None:
    """The style and texts of a picture, checked before any work."""
    if style not in STYLES:
        raise SpecError(f"style: got {style!r}; allowed: {', '.join(STYLES)}")
    for name, text in (("caption", caption), ("title", title)):
        if text is not None and not text.strip():
            # An empty band would be drawn for it: most likely an unset shell variable.
            raise SpecError(f"{name}: got {text!r}; expected a text to show"
                            + (" or 'auto'" if name == "caption" else ""))


@dataclass(frozen=True)
class Look:
    """What the picture looks like, read the same by every backend.

    ``style`` "iso" (the guide's oblique view) or "flat" (front view); ``numbers``
    and ``labels`` default to off for iso, on for flat; ``caption`` a text or "auto";
    ``theme`` a Theme or a preset name; ``font`` a font file (``PATH`` or ``PATH#N``
    for face N of a collection) or a :class:`convanim.fonts.Face`, None for the
    bundled font, or an installed one when the text needs characters it lacks
    (:func:`face_of`). ``transparent`` leaves the background clear (GIF: one
    transparent index; WebP, APNG, PNG: alpha; SVG, PDF: no background), its
    anti-aliased edges blended against ``matte`` (#hex or RGB, default white: the
    colour of the page it will sit on; GIF only needs it, the others fade edges).
    ``scale`` multiplies every length of the picture, line widths and text included
    (2: the same figure twice as large, for HiDPI screens).
    """

    cell: float = DEFAULT_CELL
    style: str = "iso"
    numbers: bool | None = None
    labels: bool | None = None
    caption: str | None = None
    title: str | None = None
    theme: Theme | str = CLASSIC
    font: str | os.PathLike | Face | None = None
    overlay: str | None = None  # "overlap": products per output cell (convanim.overlap)
    transparent: bool = False
    matte: str | tuple[int, int, int] | None = None
    scale: float = 1.0


def theme_of(look: Look) -> Theme:
    """The theme ``look`` draws with: its preset or Theme, made transparent on its matte
    when asked (or when the theme already is: ``--color background=none``)."""
    theme = theme_named(look.theme)
    if look.matte is not None and not (look.transparent or theme.transparent):
        raise SpecError(f"matte: got {look.matte!r}; a matte is the colour a transparent "
                        "background's edges are blended with: add --background transparent")
    if not (look.transparent or theme.transparent):
        return theme
    matte = (255, 255, 255)
    if isinstance(look.matte, str):
        try:
            matte = hex_rgb(look.matte)
        except ValueError:
            raise SpecError(f"matte: got {look.matte!r}; expected #rrggbb or #rgb") from None
    elif look.matte is not None:
        matte = tuple(int(v) for v in look.matte)
    return theme.with_transparent(matte)


def face_of(look: Look) -> Face:
    """The font ``look`` draws with, checked: FontError (a SpecError) naming what is wrong.

    The texts given (title, caption) decide it with ``look.font`` (see
    :func:`convanim.fonts.resolve`); convanim's own text is always covered.
    """
    caption = None if look.caption == "auto" else look.caption
    return resolve((look.title, caption), look.font)


@dataclass(frozen=True)
class Limits:
    """Requests above these are refused before any work (None switches one off)."""

    max_frames: int | None = MAX_FRAMES
    max_size: int | None = MAX_SIZE
    max_products: int | None = MAX_PRODUCTS


_LOOK = {f.name for f in fields(Look)}
_LIMITS = {f.name for f in fields(Limits)}


def _options(look: Look | None, limits: Limits | None, loose: dict) -> tuple[Look, Limits]:
    """``look`` and ``limits`` with loose keyword fields (``cell=16``, ``max_frames=None``) applied."""
    unknown = set(loose) - _LOOK - _LIMITS
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(sorted(unknown))}; allowed: "
                        f"{', '.join(sorted(_LOOK | _LIMITS))}")
    look = replace(look or Look(), **{k: v for k, v in loose.items() if k in _LOOK})
    limits = replace(limits or Limits(), **{k: v for k, v in loose.items() if k in _LIMITS})
    return look, limits


def iter_frames(t: Trace, cell: float = DEFAULT_CELL, theme: Theme | str = CLASSIC, *,
                drawn: IsoLayout | FlatLayout | None = None, changed: bool = False,
                font: str | os.PathLike | Face | None = None, scale: float = 1.0, **picture):
    """Frames one at a time (P-mode images with one shared palette).

    ``picture``: style, numbers, labels, caption, title, as for :func:`layout`;
    or ``drawn``, a layout already made. ``font`` and ``scale`` as in :class:`Look`. ``changed``
    keeps in each frame's ``info`` where it differs from the one before
    (convanim.changed.Changed), which lets the GIF writer skip whole-frame
    comparisons; for frames passed straight to the writer.
    """
    face = face_of(Look(caption=picture.get("caption"), title=picture.get("title"), font=font))
    check_scale(scale)
    return raster.frames(scaled(scene_of(drawn or layout(t, cell, **picture), theme_named(theme),
                                         face), scale), changed)


def scene(t: Trace, look: Look | None = None, **loose) -> Scene:
    """The backend-neutral scene of ``t`` (:mod:`convanim.scene`)."""
    look, _ = _options(look, None, loose)
    face = face_of(look)
    check_scale(look.scale)
    return scaled(scene_of(_layout_of(t, look), theme_of(look), face), look.scale)


def _layout_of(t: Trace, look: Look) -> IsoLayout | FlatLayout:
    return layout(t, look.cell, style=look.style, numbers=look.numbers, labels=look.labels,
                  caption=look.caption, title=look.title, overlay=look.overlay)


# The layout and the scene of the last figure saved: a figure written as gif, svg and html
# (one Job, or a gallery entry) builds them once, not once per file. Keyed by the trace
# (by identity) and the look, the scene by the layout (by identity), theme, font and
# scale; one entry each, so nothing piles up.
_last_picture: list = []
_last_scene: list = []


def _picture_of(t: Trace, look: Look) -> IsoLayout | FlatLayout:
    if _last_picture and _last_picture[0][0] is t and _last_picture[0][1] == look:
        return _last_picture[0][2]
    picture = _layout_of(t, look)
    _last_picture[:] = [(t, look, picture)]
    return picture


def _scene_of(picture, theme: Theme, face, scale: float) -> Scene:
    key = (theme, face, scale)  # the picture (by identity) holds the rest of the look
    if _last_scene and _last_scene[0][0] is picture and _last_scene[0][1] == key:
        return _last_scene[0][2]
    scene = scaled(scene_of(picture, theme, face), scale)
    _last_scene[:] = [(picture, key, scene)]
    return scene


def render(t: Trace, cell: float = DEFAULT_CELL, theme: Theme | str = CLASSIC,
           **picture) -> list[Image.Image]:
    """Every frame of the animation, as PIL images (``picture`` as for :func:`layout`,
    and ``font`` as in :class:`Look`)."""
    return list(iter_frames(t, cell, theme, **picture))


def check_frame(spec: Spec, frame: int | None) -> None:
    """``frame`` (1-based, as the --frames file names) must be one of the spec's frames."""
    if frame is not None and not 1 <= frame <= spec.n_steps:
        raise SpecError(f"frame: got {frame}; {spec.short_name()} has {spec.n_steps} frames, "
                        f"allowed: 1..{spec.n_steps}")


def save(t: Trace, path: str | os.PathLike | BinaryIO, look: Look | None = None,
         limits: Limits | None = None, *, duration: int = 1000, loop: int = 0,
         frame: int | None = None, frames_dir: str | os.PathLike | None = None,
         strip: str | os.PathLike | None = None, progress: Progress | None = None,
         on_strip: Callable[[writer.StripGrid], object] | None = None,
         format: str | None = None, jobs: int | None = 1, **loose) -> Path | BinaryIO:
    """Write ``t`` to ``path`` atomically, the format from the suffix (:data:`formats.FORMATS`).

    ``path`` may also be a binary file object (``io.BytesIO``, an open file, a
    socket's file): then ``format`` names the format (``"gif"``, ``"svg"``,
    ``".png"``, ...; default: the suffix of the object's ``name``), the file is
    written whole into a temporary folder first, its bytes then go to the object,
    which is returned. ``loop`` is how many times an animation plays (0: forever).

    An animation (.gif .webp .png .svg, or .html: the interactive page), the trace
    (.json), or with ``frame`` N
    (1-based) that one frame as a still (.png .svg .pdf). ``frames_dir`` also
    writes every frame as a numbered PNG there; ``strip`` every frame into one PNG
    (:func:`writer.write_strip`). Raster frames are rendered once and streamed to
    all of them; all files appear together when the last is complete, and none on
    an error or interrupt. ``look`` and ``limits`` (or their fields as keywords:
    ``style="flat"``, ``max_frames=None``) as in :class:`Look` and :class:`Limits`;
    the canvas of the chosen style is checked against ``max_size`` before the first
    frame is drawn.

    ``progress(done, total)``, if given, is called as each raster frame is written
    (a raster animation, ``frames_dir``, ``strip``): ``done`` from 1 up to
    ``total``, the number of frames. ``on_strip`` gets the strip's
    :class:`writer.StripGrid` (its path and grid) once the strip is written.

    ``jobs``: a GIF alone (no ``frames_dir``, no ``strip``, an opaque background) of
    :data:`convanim.parallel.SPLIT` frames or more is drawn on up to that many processes
    (:mod:`convanim.parallel`), the same bytes as on one; None: as many as the cores
    this process may use.
    """
    if hasattr(path, "write"):
        return _save_to_object(t, path, format, look, limits, duration=duration, loop=loop,
                               frame=frame, frames_dir=frames_dir, strip=strip,
                               progress=progress, on_strip=on_strip, jobs=jobs, **loose)
    look, limits = _options(look, limits, loose)
    check_jobs(jobs)
    path = formats.check_output(path, still=frame is not None, trace=frame is None)
    if format is not None and formats.NAMES.get(format.lower().lstrip(".")) != path.suffix.lower():
        raise SpecError(f"format: got {format!r} for {str(path)!r}; the suffix names the "
                        "format of a path: drop format, or change the suffix")
    fmt = formats.format_of(path)
    check_frame(t.spec, frame)
    if frames_dir is not None:
        frames_dir = writer.check_frames_dir(frames_dir)
    if strip is not None:
        Path(strip).parent.mkdir(parents=True, exist_ok=True)
        strip = writer.check_output(strip, (".png",))
    drawn = fmt.picture or frames_dir is not None or strip is not None
    if drawn:
        check_drawable(t.spec, look.style)
    check_limits(t, look.cell, limits.max_frames, limits.max_size if drawn else None,
                 limits.max_products, scale=look.scale)
    face = face_of(look) if drawn else None
    theme = theme_of(look)
    with writer.staged() as staging:
        picture = None
        if drawn:
            picture = _picture_of(t, look)
            _check_canvas(t.spec, _times(picture.size, look.scale), look.cell, limits.max_size,
                          look.scale)
            if strip is not None:  # refused now, not after every frame is drawn
                writer.check_strip(t.spec.n_steps, *_times(picture.size, look.scale))
        src = formats.Source(t, lambda: _scene_of(picture, theme, face, look.scale),
                             duration=duration, loop=loop, step=(frame or 1) - 1)
        write = fmt.trace or (fmt.still if frame is not None else fmt.animation)
        raster_out = write is fmt.animation and fmt.raster
        alone = raster_out and fmt.name == "gif" and frames_dir is None and strip is None
        workers = 1 if jobs == 1 or not alone else jobs or _parallel().cores()
        if workers > 1 and _parallel().can_split(src.scene, workers):
            src.jobs, src.progress = workers, progress  # the GIF writer draws the frames
        elif raster_out or frames_dir is not None or strip is not None:
            # A GIF alone takes each frame before the next is drawn: one buffer serves all.
            frames = raster.frames(src.scene, changed=True, reuse=alone)
            if frames_dir is not None:
                frames = writer.tee_frames(frames, frames_dir, path.stem, staging)
            if strip is not None:
                # A strip is one image of every frame: it holds them all, so it is for galleries.
                frames = writer.tee_strip(frames, strip, staging, on_written=on_strip)
            if progress is not None:
                frames = _counted(frames, src.scene.n_frames, progress)
            src.frames = frames
        try:
            write(staging.temp_for(path), src)
            if src.frames is not None and not raster_out:
                for _ in src.frames:
                    pass  # the PNGs and the strip are written as the frames pass through
        except OSError as err:
            if not err.filename and err.errno is not None:  # a failed write() names no file
                err.filename = str(path)
            raise
    return path


def check_jobs(jobs: int | None) -> None:
    if jobs is not None and not (isinstance(jobs, int) and not isinstance(jobs, bool) and jobs >= 1):
        raise SpecError(f"jobs: got {jobs!r}; expected a whole number of processes, 1 or more "
                        "(1: this process only), or None for every core")


def _parallel():
    from . import parallel  # its pool only for long renders: not imported before
    return parallel


def _save_to_object(t: Trace, fp: BinaryIO, format: str | None, look, limits, **options):
    """:func:`save` into a binary file object: written to a temporary file, then copied."""
    name = format if format is not None else Path(str(getattr(fp, "name", ""))).suffix
    suffix = formats.NAMES.get(str(name).lower().lstrip("."))
    if suffix is None:
        raise SpecError(f"format: got {name!r}; a file object needs format= one of "
                        f"{', '.join(formats.NAMES)}")
    with tempfile.TemporaryDirectory(prefix="convanim-") as tmp:
        stem = Path(str(getattr(fp, "name", "") or "figure")).stem or "figure"  # --frames names
        path = save(t, Path(tmp) / (stem + suffix), look, limits, **options)
        with open(path, "rb") as src:
            shutil.copyfileobj(src, fp)
    return fp


def _counted(frames: Iterable[Image.Image], total: int,
             progress: Progress) -> Iterator[Image.Image]:
    """Pass ``frames`` through, calling ``progress(n, total)`` once frame n has been used."""
    n = 0
    for frame in frames:
        yield frame
        n += 1
        progress(n, total)


def matrix_image(t: Trace, transpose: bool = False, vectors: bool = True, values: bool = False,
                 cell: int = DEFAULT_CELL, theme: Theme = CLASSIC,
                 font: str | os.PathLike | Face | None = None) -> Image.Image:
    """The conv2d trace ``t`` as its matrix C, (OH*OW) x (IH*IW), or C^T when ``transpose``.

    ``vectors`` draws X and Y = C X (or Y and X' = C^T Y) beside it; ``values`` writes
    the weights instead of w(r,c); ``font`` as in :class:`Look`. Raises SpecError past
    64 rows or columns.
    """
    face = face_of(Look(font=font))
    return raster.picture(scene_of(matrix_figure(t, transpose, vectors, values, cell), theme, face))


def save_matrix(t: Trace, path: str | os.PathLike, transpose: bool = False, vectors: bool = True,
                values: bool = False, cell: int = DEFAULT_CELL, theme: Theme = CLASSIC,
                font: str | os.PathLike | Face | None = None) -> Path:
    """Write the matrix figure as a still (.png, .svg or .pdf) at ``path``, atomically."""
    path = matrix_output(path)
    face = face_of(Look(font=font))
    fig = matrix_figure(t, transpose, vectors, values, cell)
    src = formats.Source(t, lambda: scene_of(fig, theme, face))
    with writer.staged() as staging:
        formats.format_of(path).still(staging.temp_for(path), src)
    return path


def matrix_output(path: str | os.PathLike) -> Path:
    """check_output for the matrix figure: one picture (.png, .svg or .pdf)."""
    return formats.check_output(path, still=True, trace=False)


@dataclass(frozen=True)
class Job:
    """One figure to write: a spec, its data, where to write it and how to draw it.

    ``outputs`` are files (any suffix of :data:`formats.FORMATS`); ``frame`` makes
    them stills of that frame (1-based); ``frames_dir`` also gets every frame as a
    numbered PNG, ``strip`` (a .png path) every frame in one PNG.
    """

    spec: Spec
    seed: int = 0
    input: str | None = None
    weight: str | None = None
    outputs: tuple[str, ...] = ()
    frames_dir: str | None = None
    look: Look = field(default_factory=Look)
    limits: Limits = field(default_factory=Limits)
    duration: int = 1000
    loop: int = 0
    frame: int | None = None
    strip: str | None = None
    grad_output: str | None = None  # dL/dy of a backward pass (spec.grad); None: seeded
    bias: str | None = None  # the bias file of a spec with bias; None: seeded


# Pillow's WebP and APNG encoders hold every frame (see writer): more pixels than this at
# once is gigabytes (measured: 1,296 frames of 935x630 px, 763 M px, took 1.8 GB as
# WebP and 2.8 GB as APNG), so such a request is refused before any work.
MAX_HELD_PIXELS = 400_000_000


def check_job(job: Job, *, outputs: bool = True, data: bool = False) -> tuple[list[Path], list[Path]]:
    """Everything about ``job`` that can be checked before its trace exists.

    The outputs (suffix, directory; skipped when not ``outputs``: the gallery names
    them later), the frame, the frames folder, the texts, the limits, the memory the
    chosen formats hold, and with ``data`` the input and weight files (read and
    checked against the shapes). Returns (output paths, those that are pictures).
    """
    still = job.frame is not None
    paths = ([formats.check_output(p, still=still, trace=not still) for p in job.outputs]
             if outputs else [Path(p) for p in job.outputs])
    pictures = [p for p in paths if formats.format_of(p).picture]
    check_frame(job.spec, job.frame)
    look = job.look
    check_texts(look.style, look.caption, look.title)
    check_overlay(job.spec, look.overlay)
    theme_of(look)
    if job.frames_dir is not None and outputs:
        writer.check_frames_dir(job.frames_dir)
    if job.strip is not None and not pictures:
        raise SpecError(f"strip: needs a picture output ({', '.join(formats.PICTURES)}) to draw")
    drawn = bool(pictures) or job.frames_dir is not None
    if drawn:
        check_drawable(job.spec, look.style)
        face_of(look)  # the font: given and readable, or found for every character
    lim = job.limits
    check_limits(job.spec, look.cell, lim.max_frames, lim.max_size if drawn else None,
                 lim.max_products, scale=look.scale)
    if job.strip is not None and look.style == "iso" and not job.spec.channels:
        # the iso canvas is known from the spec
        writer.check_strip(job.spec.n_steps, *canvas_size(job.spec, look.cell * look.scale))
    # A picture of channels is larger than the iso picture of one map: its canvas, known
    # from the spec in both styles.
    if drawn and job.spec.channels:
        if look.style == "iso":
            check_channel_iso_look(look.numbers, look.overlay)
            size = channel_iso_canvas_size(job.spec, look.cell, look.labels is True)
        else:
            size = channel_canvas_size(job.spec, look.cell, look.labels is not False,
                                       look.numbers is not False)
        if job.strip is not None:
            writer.check_strip(job.spec.n_steps, *_times(size, look.scale))
        _check_canvas(job.spec, _times(size, look.scale), look.cell, lim.max_size, look.scale)
    else:
        size = canvas_size(job.spec, look.cell)
    held = [p for p in paths if formats.format_of(p).holds_frames and not still]
    if held:
        w, h = _times(size, look.scale)
        pixels = job.spec.n_steps * w * h
        if pixels > MAX_HELD_PIXELS:
            gb = pixels * (3.7 if held[0].suffix.lower() == ".png" else 2.4) / 1e9  # measured
            raise LimitError(
                f"output: {held[0].name} needs all {job.spec.n_steps:,} frames of {w}x{h} px in "
                f"memory at once ({pixels / 1e6:,.0f} M pixels, about {gb:.1f} GB: Pillow's "
                f"{held[0].suffix.lower()} encoder takes them as a list), more than "
                f"{MAX_HELD_PIXELS / 1e6:,.0f} M; write {' or '.join(formats.STREAMED)} or "
                "--frames DIR (streamed, one frame at a time), or use a smaller --cell")
    if job.bias is not None and not job.spec.bias:
        raise SpecError("bias-file: the layer has no bias; add --bias or drop --bias-file")
    for name, value in (("input", job.input), ("weight", job.weight),
                        ("grad-output", job.grad_output), ("bias-file", job.bias)):
        for path in paths:
            if value is not None and _same_file(path, value):
                raise SpecError(f"output: {str(path)!r} is the --{name} file; writing it would "
                                "replace the data it is drawn from; give another name")
    if data and job.spec.channels:
        for name, value in (("input", job.input), ("weight", job.weight), ("bias", job.bias)):
            if value is not None:
                load_channel_array(job.spec, name, value)
    elif data:
        f = job.spec.grad.forward if job.spec.grad is not None else job.spec
        for name, value, shape in (("input", job.input, f.input_size),
                                   ("weight", job.weight, f.kernel_size),
                                   ("grad_output", job.grad_output, f.output_size)):
            if value is not None:
                load_matrix(value, name, shape)
    return paths, pictures


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet): then they are not the same file
        return False


def run_job(job: Job, *, progress: Progress | None = None,
            on_strip: Callable[[writer.StripGrid], object] | None = None,
            jobs: int | None = 1) -> list[Path]:
    """Check every output and the limits, trace once, then write each output.

    Returns the files written, in order. The frames and the strip go with the
    first picture output, so they are drawn once. ``progress``, ``on_strip`` and
    ``jobs`` as in :func:`save`; ``progress`` gets the frames of each output in turn.
    """
    paths, pictures = check_job(job)
    if pictures or job.frames_dir is not None:
        job = replace(job, look=replace(job.look, font=face_of(job.look)))
    lim = job.limits
    t = trace_of(job.spec, seed=job.seed, input=job.input, weight=job.weight,
                 grad_output=job.grad_output, bias=job.bias)
    written = []
    for n, path in enumerate(paths):
        # Frames and strip ride with the first picture (or, with none, the first output).
        first = path == pictures[0] if pictures else n == 0
        written.append(save(t, path, job.look, lim, duration=job.duration, loop=job.loop,
                            frame=job.frame, frames_dir=job.frames_dir if first else None,
                            strip=job.strip if first and pictures else None,
                            progress=progress, on_strip=on_strip, jobs=jobs))
    return written

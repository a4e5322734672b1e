"""The one table of output formats: each suffix, what it can hold, and its writer.

An *animation* writer gets every frame; a *still* writer gets one frame (``--frame
N``, and the matrix figure, which has one). ``.png`` is both: an animated PNG
(APNG) for an animation, a plain PNG for a still. ``.json`` holds the trace, not
a picture. Writers receive a :class:`Source` and a temporary path (staged by
:mod:`convanim.writer`), and import their backend only when called, so the
command line starts without fpdf2 or the SVG writer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterable

from PIL import Image

from . import writer
from .engine import Trace
from .params import SpecError
from .scene import Scene


@dataclass
class Source:
    """What a writer draws from: the trace, its scene, the raster frames (streamed, once)."""

    trace: Trace | None
    make_scene: Callable[[], Scene]
    frames: Iterable[Image.Image] | None = None  # raster frames, for raster animations
    duration: int = 1000
    loop: int = 0
    step: int = 0  # the frame of a still, from 0
    # A GIF without ``frames`` is drawn by its writer from the scene, on up to ``jobs``
    # processes (convanim.parallel), calling ``progress(done, total)``.
    jobs: int = 1
    progress: Callable[[int, int], object] | None = None

    @cached_property
    def scene(self) -> Scene:
        return self.make_scene()


Writer = Callable[[Path, Source], None]


def _gif(tmp: Path, src: Source) -> None:
    with open(tmp, "wb") as fp:
        if src.frames is None:
            from . import parallel
            parallel.write_gif(fp, src.scene, src.duration, src.loop, src.jobs, src.progress)
        else:
            writer.write_gif(fp, src.frames, duration=src.duration, loop=src.loop)


def _webp(tmp: Path, src: Source) -> None:
    writer.write_pillow_animation(tmp, src.frames, "WEBP", src.duration, src.loop)


def _apng(tmp: Path, src: Source) -> None:
    writer.write_pillow_animation(tmp, src.frames, "PNG", src.duration, src.loop)


def _svg(tmp: Path, src: Source) -> None:
    from .backends.svg import animated_svg
    tmp.write_text(animated_svg(src.scene, src.duration, src.loop), encoding="utf-8")


def _html(tmp: Path, src: Source) -> None:
    from .backends.html import figure_page
    tmp.write_text(figure_page(src.trace, src.scene, src.duration, src.loop), encoding="utf-8")


def _png_still(tmp: Path, src: Source) -> None:
    from .backends import raster
    from .changed import with_alpha
    with_alpha(raster.frame_image(src.scene, src.step)).save(tmp, format="PNG", optimize=False)


def _svg_still(tmp: Path, src: Source) -> None:
    from .backends.svg import still_svg
    tmp.write_text(still_svg(src.scene, src.step), encoding="utf-8")


def _pdf_still(tmp: Path, src: Source) -> None:
    from .backends.pdf import still_pdf
    tmp.write_bytes(still_pdf(src.scene, src.step))


def _json(tmp: Path, src: Source) -> None:
    from .tracefile import trace_json
    tmp.write_text(trace_json(src.trace), encoding="utf-8")


@dataclass(frozen=True)
class Format:
    """One output format. ``raster``: its animation writer takes the raster frames."""

    name: str  # as in a gallery spec's formats list
    animation: Writer | None = None
    still: Writer | None = None
    trace: Writer | None = None
    raster: bool = False
    what: str = ""
    holds_frames: bool = False  # its animation writer takes every frame at once (memory)

    @property
    def picture(self) -> bool:
        return self.trace is None


FORMATS: dict[str, Format] = {
    ".gif": Format("gif", animation=_gif, raster=True, what="animated GIF"),
    ".webp": Format("webp", animation=_webp, raster=True, what="animated WebP",
                    holds_frames=True),
    ".png": Format("png", animation=_apng, still=_png_still, raster=True,
                   what="animated PNG (APNG); a plain PNG for a still", holds_frames=True),
    ".svg": Format("svg", animation=_svg, still=_svg_still,
                   what="animated SVG (plays in an <img>, no script); an SVG still"),
    ".pdf": Format("pdf", still=_pdf_still, what="vector PDF, a still"),
    ".json": Format("json", trace=_json, what="the recorded steps (trace)"),
    ".html": Format("html", animation=_html,
                    what="interactive page: the SVG with a slider, play/pause, speed, and the "
                         "taps of the cell under the pointer (one file, no network)"),
}
DEFAULT_ANIMATION, DEFAULT_STILL = ".gif", ".png"  # when no -o is given
# Raster animations written one frame at a time: their memory does not grow with frames.
STREAMED = tuple(s for s, f in FORMATS.items() if f.animation and f.raster and not f.holds_frames)
SUFFIXES = tuple(FORMATS)
NAMES = {f.name: s for s, f in FORMATS.items()}
ANIMATIONS = tuple(s for s, f in FORMATS.items() if f.animation)
STILLS = tuple(s for s, f in FORMATS.items() if f.still)
RASTER_ANIMATIONS = tuple(s for s, f in FORMATS.items() if f.animation and f.raster)


# The modules each gallery format's writer imports when first called. numpy.ma comes with
# np.unique's first call (numpy 2): the engine's max pooling, the overlap view; the raster
# palette no longer calls it, but a gallery's figures mostly include such traces. See preload.
_RASTER = ("numpy.ma",)
BACKENDS = {
    "gif": _RASTER, "webp": _RASTER + ("PIL.WebPImagePlugin",), "png": _RASTER,
    "strip": _RASTER, "frames": _RASTER,
    "svg": ("convanim.backends.svg",),
    "html": ("convanim.backends.svg", "convanim.backends.html", "convanim.backends.html.data"),
    "pdf": ("convanim.backends.pdf",), "json": ("convanim.tracefile",),
}


def preload(names: Iterable[str]) -> None:
    """Import the writers of the formats ``names`` (gallery names: "gif", "svg", ...) now.

    For a process about to fork workers (the gallery): imported once here, the forked
    workers share them instead of each importing them on its first figure.
    """
    import importlib

    for module in dict.fromkeys(m for n in names for m in BACKENDS.get(n, ())):
        importlib.import_module(module)


def format_of(path: str | os.PathLike) -> Format:
    return FORMATS[Path(path).suffix.lower()]


PICTURES = tuple(s for s, f in FORMATS.items() if f.picture)
TRACES = tuple(s for s, f in FORMATS.items() if not f.picture)


def cannot_hold(suffix: str, still: bool | None, trace: bool = True) -> str | None:
    """Why a ``suffix`` file cannot hold what is asked, or None when it can.

    ``still`` True: one picture (``--frame N``, the matrix figure); False: an
    animation; None: either. ``trace``: whether the trace (.json) is a fit answer.
    """
    fmt = FORMATS[suffix]
    if not fmt.picture:
        return None if trace else (f"{suffix} holds the trace; a single frame or the matrix "
                                   f"figure is one picture, written as {', '.join(STILLS)}")
    if still and fmt.still is None:
        return (f"{suffix} is an animation; a single frame or the matrix figure is one picture, "
                f"written as {', '.join(STILLS)}")
    if still is False and fmt.animation is None:
        return (f"{suffix} holds one frame: add --frame N (1-based), or write the animation "
                f"as {', '.join(ANIMATIONS)}")
    return None


def check_output(path: str | os.PathLike, still: bool | None = None, trace: bool = True) -> Path:
    """The output path, checked before any work (see :func:`writer.check_output`) and
    against what it must hold (:func:`cannot_hold`)."""
    path = writer.check_output(path, SUFFIXES)
    problem = cannot_hold(path.suffix.lower(), still, trace)
    if problem:
        raise SpecError(f"output: got {str(path)!r}; {problem}")
    return path


def write_animation(path: str | os.PathLike, frames: Iterable[Image.Image], duration: int = 1000,
                    loop: int = 0, staging: writer.Staging | None = None) -> Path:
    """Write raster ``frames`` as an animated .gif, .webp or .png (APNG), by suffix, atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in RASTER_ANIMATIONS:
        raise SpecError(f"output: cannot write frames as {suffix!r}; allowed: "
                        f"{', '.join(RASTER_ANIMATIONS)}")
    src = Source(None, _no_scene, frames, duration, loop)
    with writer.staged_in(staging) as st:
        FORMATS[suffix].animation(st.temp_for(path), src)  # type: ignore[misc]
    return path


def _no_scene() -> Scene:
    raise AssertionError("raster animation writers take frames, not a scene")

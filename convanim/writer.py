"""Files: the format comes from the suffix; every write is atomic.

A file is written to a temporary name in its target directory and renamed into
place only when complete, so an error or Ctrl-C in the middle leaves neither a
partial file nor a damaged previous version.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
from PIL import Image, PngImagePlugin

from .params import SpecError

IMAGE_SUFFIXES = (".gif", ".webp", ".png")
SUFFIXES = IMAGE_SUFFIXES + (".json",)


def check_output(path: str | os.PathLike) -> Path:
    """The output path, checked before any work: known suffix, writable existing directory."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SpecError(
            f"output: got {str(path)!r} with suffix {suffix or '(none)'!r}; "
            f"allowed: {', '.join(SUFFIXES)}"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise SpecError(f"output: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SpecError(f"output: directory {str(parent)!r} is not writable")
    if path.is_dir():
        raise SpecError(f"output: {str(path)!r} is a directory; give a file name")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success only."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix,
                               dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_animation(path: str | os.PathLike, frames: Iterable[Image.Image], duration: int = 1000,
                    loop: int = 0) -> Path:
    """Write ``frames`` as an animated .gif, .webp or .png (APNG), by suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    it = iter(frames)
    first = next(it)
    rest = list(it)
    with atomic_path(path) as tmp:
        if suffix == ".gif":
            first.save(tmp, format="GIF", save_all=True, append_images=rest,
                       duration=duration, loop=loop, disposal=1, optimize=False)
        elif suffix == ".webp":
            first.convert("RGB").save(
                tmp, format="WEBP", save_all=True,
                append_images=[f.convert("RGB") for f in rest],
                duration=duration, loop=loop, lossless=True, method=4)
        elif suffix == ".png":
            first.save(tmp, format="PNG", save_all=True, append_images=rest,
                       duration=duration, loop=loop, disposal=0, blend=0)
        else:
            raise SpecError(f"output: cannot write images as {suffix!r}; allowed: {', '.join(IMAGE_SUFFIXES)}")
    return path


def write_frames(directory: str | os.PathLike, frames: Iterable[Image.Image], stem: str,
                 on_frame: Callable[[Path], None] | None = None) -> list[Path]:
    """Every frame as ``stem_0001.png`` ... in ``directory`` (created if missing)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for n, frame in enumerate(frames, 1):
        target = directory / f"{stem}_{n:04d}.png"
        with atomic_path(target) as tmp:
            frame.save(tmp, format="PNG", optimize=False)
        written.append(target)
        if on_frame:
            on_frame(target)
    return written


STRIP_MAX = 16384  # px: the widest strip; browsers refuse or downscale larger images


def strip_grid(n: int, width: int, max_width: int = STRIP_MAX) -> tuple[int, int]:
    """(columns, rows) for ``n`` frames ``width`` px wide: one row up to ``max_width``.

    Past it, the fewest rows of at most ``max_width`` px, filled evenly, so only the
    last row may be shorter: 49 frames of 599 px -> 25 columns, 2 rows.
    """
    if n < 1 or width < 1:
        raise ValueError(f"strip: needs at least one frame of positive width; got {n} x {width} px")
    per_row = max(1, max_width // width)
    rows = -(-n // per_row)
    cols = -(-n // rows)
    return cols, -(-n // cols)


def write_strip(path: str | os.PathLike, frames: Iterable[Image.Image],
                max_width: int = STRIP_MAX) -> Path:
    """Every frame in one palette PNG, left to right, top to bottom (:func:`strip_grid`).

    Frame n (from 0) is the rectangle at column n % columns, row n // columns. The
    grid is also stored in the PNG as text chunks (frames, columns, rows,
    frame_width, frame_height), so a page can step through it without convanim.
    The frames must share one size and, when P-mode, one palette (the first's is kept).
    The directory is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Index arrays, not PIL images: the strip is only sized once the last frame is in.
    arrays, first = [], None
    for frame in frames:
        if first is None:
            first = frame
        elif frame.size != first.size or frame.mode != first.mode:
            raise ValueError(f"strip: frame {len(arrays) + 1} is {frame.mode} {frame.size}; "
                             f"the first is {first.mode} {first.size}")
        arrays.append(np.asarray(frame))
    if first is None:
        raise ValueError("strip: no frames")
    w, h = first.size
    cols, rows = strip_grid(len(arrays), w, max_width)
    sheet = np.zeros((rows * h, cols * w) + arrays[0].shape[2:], dtype=arrays[0].dtype)
    for n, a in enumerate(arrays):
        r, c = divmod(n, cols)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = a
    image = Image.fromarray(sheet)
    if first.mode == "P":
        image.putpalette(first.getpalette())  # L + palette -> P, the indices unchanged
    info = PngImagePlugin.PngInfo()
    for key, value in (("frames", len(arrays)), ("columns", cols), ("rows", rows),
                       ("frame_width", w), ("frame_height", h)):
        info.add_text(key, str(value))
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=True, pnginfo=info)
    return path

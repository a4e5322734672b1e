"""Files: the format comes from the suffix; every write is atomic.

A file is written to a temporary name in its target directory and renamed into
place only when complete, so an error or Ctrl-C in the middle leaves neither a
partial file nor a damaged previous version. :class:`Staging` does this for
several files at once (an animation and its ``--frames`` PNGs): all are renamed
into place together after the last one is complete.

GIF and PNG frames are written as the frames arrive (one frame in memory at a
time); Pillow's WebP and APNG encoders take a list, so those hold every frame.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import stat
import struct
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import numpy as np
from PIL import GifImagePlugin, Image, PngImagePlugin

from .changed import CHANGED, Changed, with_alpha
from .params import SpecError
from .signals import deferred

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: commits are not serialised
    fcntl = None  # type: ignore[assignment]


NAME_MAX = 255  # bytes in one file name, on the common file systems


def _temp_name(directory: Path, name: str, suffix: str) -> Path:
    return directory / f".{name}.{secrets.token_hex(4)}.part{suffix}"


_TEMP_RE = re.compile(r"\.(.+)\.[0-9a-f]{8}\.part(?:\.[^.]*)?")


def target_of(path: str | os.PathLike) -> Path:
    """The file a temporary name (``.NAME.xxxxxxxx.part.EXT``) stands for; ``path`` itself
    for any other name. Error messages name the file the user asked for."""
    path = Path(path)
    m = _TEMP_RE.fullmatch(path.name)
    return path.with_name(m.group(1)) if m else path


def check_name_length(name: str, what: str = "output") -> None:
    """Refuse a file name whose temporary name (``.NAME.xxxxxxxx.part.EXT``) is too long."""
    suffix = Path(name).suffix
    longest = len(_temp_name(Path("."), name, suffix).name.encode("utf-8", "surrogateescape"))
    if longest > NAME_MAX:
        raise SpecError(f"{what}: the file name {name[:40]!r}... is {len(name.encode('utf-8', 'surrogateescape'))} "
                        f"bytes; with its temporary name while it is written that is {longest}, "
                        f"more than the {NAME_MAX} a file system allows; use a shorter name")


def _create(path: Path) -> None:
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _probe_writable(directory: Path) -> bool:
    """Create and remove a file in ``directory``: os.access says yes to root even on
    read-only or virtual file systems, so try what the writer will do."""
    probe = _temp_name(directory, "convanim-probe", "")
    try:
        _create(probe)
    except OSError:
        return False
    finally:  # even on Ctrl-C between creating and removing it
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return True


def check_output(path: str | os.PathLike, suffixes: tuple[str, ...]) -> Path:
    """The output path, checked before any work: one of ``suffixes``, writable existing
    directory. (The suffixes come from :data:`convanim.formats.FORMATS`.)"""
    if str(path) == "":
        raise SpecError(f"output: got ''; expected a file name ending in {', '.join(suffixes)}")
    path = Path(path)
    suffix = path.suffix.lower()
    if not suffix and path.name.lower() in suffixes:
        raise SpecError(f"output: got {str(path)!r}, a suffix with no name before it; "
                        f"give a name such as 'a{path.name.lower()}'")
    if suffix not in suffixes:
        raise SpecError(
            f"output: got {str(path)!r} with suffix {suffix or '(none)'!r}; "
            f"allowed: {', '.join(suffixes)}"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise SpecError(f"output: directory {str(parent)!r} does not exist")
    if path.is_dir():
        raise SpecError(f"output: {str(path)!r} is a directory; give a file name")
    check_name_length(path.name)
    if not _probe_writable(parent):
        raise SpecError(f"output: directory {str(parent)!r} is not writable")
    return path


def check_frames_dir(directory: str | os.PathLike) -> Path:
    """The --frames directory, checked before any work: a directory, or one that can be made."""
    return check_dir(directory, "frames")


def check_dir(directory: str | os.PathLike, what: str) -> Path:
    """An output directory, checked before any work: a writable directory, or one that can
    be made; ``what`` names the option in the messages."""
    if str(directory) == "":
        raise SpecError(f"{what}: got ''; expected a directory name")
    directory = Path(directory)
    if directory.exists():
        if not directory.is_dir():
            raise SpecError(f"{what}: {str(directory)!r} exists and is not a directory")
        if not _probe_writable(directory):
            raise SpecError(f"{what}: directory {str(directory)!r} is not writable")
        return directory
    ancestor = directory.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise SpecError(f"{what}: cannot make {str(directory)!r}: {str(ancestor)!r} is not a directory")
    if not _probe_writable(ancestor):
        raise SpecError(f"{what}: cannot make {str(directory)!r}: {str(ancestor)!r} is not writable")
    return directory


class Staging:
    """Temporary files beside their targets, renamed into place together on :meth:`commit`.

    Use it through :func:`staged`, which commits on success and discards on any
    exception (KeyboardInterrupt included).
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)
        self._made_dirs: list[Path] = []
        self._stale: list[Path] = []  # removed on commit, after the renames

    def make_dir(self, directory: Path) -> None:
        """mkdir -p, remembering what was made so a failed run can remove it again."""
        missing = []
        d = directory
        while not d.exists():
            missing.append(d)
            d = d.parent
        for d in reversed(missing):
            try:
                with deferred():  # made and recorded together, whatever signal comes
                    d.mkdir()
                    self._made_dirs.append(d)
            except FileExistsError:
                # Another gallery worker made it between our check and mkdir: it is
                # theirs, not ours to remove on discard.
                if not d.is_dir():
                    raise
                continue

    def temp_for(self, target: str | os.PathLike) -> Path:
        """A new empty temporary file in ``target``'s directory, to be renamed onto ``target``."""
        target = Path(target)
        tmp = _temp_name(target.parent if str(target.parent) else Path("."), target.name,
                         target.suffix)
        # Registered before it exists, so an interrupt at any point leaves nothing behind.
        self._pending.append((tmp, target))
        _create(tmp)
        return tmp

    def commit(self) -> None:
        """Rename every file into place, all or nothing.

        Every target is checked before the first rename; a file that is replaced is kept
        as a hard link until the last rename is done, so when one rename fails midway the
        earlier ones are undone and the previous files come back byte-identical. Stopping
        signals wait until the commit is over, and commits into one directory from two
        processes take turns (a lock on the directory), so a folder never holds a mix.
        """
        # The lock is taken before signals are held back: waiting for another run's
        # commit must stay interruptible.
        with _locked({t.parent for _, t in self._pending}), deferred():
            for _, target in self._pending:
                if target.is_dir():
                    raise IsADirectoryError(21, "a directory is in the way", str(target))
                if not target.parent.is_dir():
                    raise NotADirectoryError(20, "its directory is gone", str(target))
            done: list[tuple[Path, Path | None]] = []  # (target, backup of what it replaced)
            try:
                for tmp, target in self._pending:
                    os.chmod(tmp, 0o644)
                    backup = _backup(target)
                    done.append((target, backup))
                    os.replace(tmp, target)
            except BaseException:
                for target, backup in reversed(done):
                    with contextlib.suppress(OSError):
                        if backup is not None:
                            os.replace(backup, target)
                        else:
                            target.unlink()
                raise
            finally:
                for _, backup in done:
                    if backup is not None:
                        with contextlib.suppress(OSError):
                            backup.unlink()
            self._pending.clear()
            for find in self._stale:  # found now, under the lock: what another run left
                for old in find():
                    with contextlib.suppress(OSError):
                        old.unlink()
            self._stale.clear()
            self._made_dirs.clear()

    def remove_on_commit(self, find: Callable[[], Iterable[Path]]) -> None:
        """``find()`` names files to delete once the new ones are in place (never on
        discard); it runs during the commit, so it sees what is there by then."""
        self._stale.append(find)

    def discard(self) -> None:
        """Remove every temporary file and every folder made; signals wait until done."""
        with deferred():
            for tmp, _ in self._pending:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            self._pending.clear()
            for d in reversed(self._made_dirs):
                with contextlib.suppress(OSError):
                    d.rmdir()  # only if still empty
            self._made_dirs.clear()


def _backup(target: Path) -> Path | None:
    """A second name for ``target``'s current file (None when there is none), to restore."""
    if not target.exists():
        return None
    backup = _temp_name(target.parent, target.name, ".old")
    try:
        os.link(target, backup)
    except OSError:  # a file system without hard links: a copy keeps the guarantee
        import shutil
        shutil.copy2(target, backup)
    return backup


@contextlib.contextmanager
def _locked(directories: Iterable[Path]) -> Iterator[None]:
    """Exclusive flock on each directory (sorted, so two commits cannot deadlock)."""
    fds = []
    try:
        if fcntl is not None:
            opened = []
            for d in set(directories):
                try:
                    fd = os.open(d, os.O_RDONLY)
                except OSError:
                    continue  # checked (and reported) by the commit itself
                fds.append(fd)
                info = os.fstat(fd)
                opened.append(((info.st_dev, info.st_ino), fd))
            # By device and inode: the same folder spelled two ways sorts the same.
            for _, fd in sorted(opened):
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in fds:
            os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def staged() -> Iterator[Staging]:
    """A :class:`Staging` committed when the block ends normally, discarded otherwise."""
    staging = Staging()
    try:
        yield staging
        staging.commit()
    except BaseException:
        staging.discard()
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success only."""
    with staged() as staging:
        yield staging.temp_for(path)


def write_text(path: str | os.PathLike, text: str, staging: Staging | None = None) -> Path:
    with staged_in(staging) as st:
        st.temp_for(path).write_text(text, encoding="utf-8")
    return Path(path)


def _changed_box(prev: np.ndarray, cur: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) bounding the pixels that differ, or None when none do."""
    return _diff_box(prev, cur)[0]


def _diff_box(prev: np.ndarray, cur: np.ndarray):
    """(:func:`_changed_box`, the mask of the pixels that differ): the caller then reads
    the unchanged pixels off the mask instead of comparing the box again."""
    diff = prev != cur
    rows = np.flatnonzero(diff.any(axis=1))
    if rows.size == 0:
        return None, diff
    cols = np.flatnonzero(diff.any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1), diff


def _clip_box(box, w: int, h: int) -> tuple[int, int, int, int]:
    """``box`` clipped to the canvas; the whole canvas when there is none."""
    if box is None:
        return (0, 0, w, h)
    x0, y0, x1, y1 = (int(v) for v in box)
    x0, y0 = min(max(x0, 0), w), min(max(y0, 0), h)
    return (x0, y0, max(x0, min(x1, w)), max(y0, min(y1, h)))


def _trusted(frame: Image.Image, last) -> tuple[int, int, int, int] | None:
    """The frame's Changed box, if it is known to follow the frame written before it."""
    mark = frame.info.get(CHANGED)
    if (isinstance(mark, Changed) and isinstance(last, Changed) and mark.box is not None
            and mark.run == last.run and mark.step == last.step + 1
            and mark.size == last.size == frame.size):
        return mark.box
    return None


FEW_RECTS = 12  # see _outermost
SPARE = 255  # the palette index no pixel uses (raster.palette_colours): "unchanged"
assert SPARE == 0xFF  # every bit set: see _unchanged_as_spare


def _trusted_rects(frame: Image.Image, last, w: int, h: int) -> list | None:
    """The frame's Changed rectangles, clipped to the canvas, when its box is trusted."""
    if _trusted(frame, last) is None:
        return None
    rects = frame.info[CHANGED].rects
    if rects is None:
        return None
    out = [r for r in (_clip_box(r, w, h) for r in rects) if r[0] < r[2] and r[1] < r[3]]
    if not out:
        return None
    out = _outermost(out)
    # Worth it when the rectangles hold fewer pixels than their union's box (frames of
    # a few small places far apart); overlapping large ones are read once as the box.
    x0, y0, x1, y1 = reduce(_union_box, out)
    if sum((r[2] - r[0]) * (r[3] - r[1]) for r in out) > (x1 - x0) * (y1 - y0):
        return None
    return out


def _outermost(rects: list) -> list:
    """``rects`` without those inside another (one of equal ones kept), in their order:
    text restamped over the connecting lines brings a box per text, most of them
    within the lines' box (conv --i 40 --numbers: 64 of a frame's 75)."""
    if len(rects) < 2:
        return rects
    if len(rects) <= FEW_RECTS:
        # A frame's usual handful (an iso frame: 6): pairs in a loop, the same answer as
        # the arrays below at a tenth of their cost.
        return [r for i, r in enumerate(rects)
                if not any(r[0] >= q[0] and r[1] >= q[1] and r[2] <= q[2] and r[3] <= q[3]
                           and (r != q or j < i) for j, q in enumerate(rects) if j != i)]
    r = np.array(rects)
    x0, y0, x1, y1 = (r[:, k] for k in range(4))
    inside = ((x0[:, None] >= x0[None, :]) & (y0[:, None] >= y0[None, :])
              & (x1[:, None] <= x1[None, :]) & (y1[:, None] <= y1[None, :]))  # [i, j]: i in j
    np.fill_diagonal(inside, False)
    same = inside & inside.T  # equal rectangles: the first one stays
    inside &= ~(same & np.tri(len(rects), k=-1, dtype=bool).T)
    return [rects[i] for i in np.flatnonzero(~inside.any(axis=1))]


def _unchanged_as_spare(pixels: np.ndarray, same: np.ndarray) -> np.ndarray:
    """``pixels`` with SPARE where ``same``, as a new array: SPARE is every bit set, so
    OR-ing a byte that is 255 where ``same`` (0 - True) and 0 elsewhere does it, in a
    twentieth of np.where's time with a scalar (measured: 12 against 240 us, 65 k px)."""
    # uint8 whatever the indices came as (a Changed record's pixels are the caller's): the
    # frame is written as one byte a pixel.
    return pixels.astype(np.uint8, copy=False) | np.negative(same.view(np.uint8))


def _from_rects(frame: Image.Image, prev: np.ndarray, rects: list, spare: int):
    """(box, written, transparency) of a frame that equals the one before (``prev``,
    updated here) outside ``rects``, as the whole-box comparison of write_gif finds them;
    None when that takes the whole box (the frame uses the spare index, or nothing
    changed), and then nothing is updated."""
    parts = []
    pixels = _pixels_of(frame)
    for r in rects:
        x0, y0, x1, y1 = r
        cur = _region(frame, pixels, r)
        sub = _changed_box(prev[y0:y1, x0:x1], cur)
        if sub is not None:
            if (cur == spare).any():
                return None
            parts.append((r, cur, (sub[0] + x0, sub[1] + y0, sub[2] + x0, sub[3] + y0)))
    if not parts:
        return None  # nothing changed: the long way writes its one-pixel frame
    box = reduce(_union_box, [b for _, _, b in parts])
    bx0, by0, bx1, by1 = box
    written = np.full((by1 - by0, bx1 - bx0), spare, dtype=np.uint8)
    area = 0
    same_seen = False
    cuts = []
    for (x0, y0, x1, y1), cur, _ in parts:
        # The rectangle within the box; outside the box it has no changed pixel.
        ix0, iy0, ix1, iy1 = max(x0, bx0), max(y0, by0), min(x1, bx1), min(y1, by1)
        if ix0 >= ix1 or iy0 >= iy1:
            continue
        c = cur[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0]
        same = c == prev[iy0:iy1, ix0:ix1]
        same_seen = same_seen or bool(same.any())
        area += (ix1 - ix0) * (iy1 - iy0)
        # Overlapping rectangles write the same values: both compare with prev before
        # it is updated below.
        written[iy0 - by0:iy1 - by0, ix0 - bx0:ix1 - bx0] = _unchanged_as_spare(c, same)
        cuts.append((ix0, iy0, ix1, iy1, c))
    transparency = spare
    if not same_seen and area >= (bx1 - bx0) * (by1 - by0):
        # Perhaps every pixel of the box changed: then none is written as unchanged.
        covered = np.zeros(written.shape, dtype=bool)
        for ix0, iy0, ix1, iy1, _ in cuts:
            covered[iy0 - by0:iy1 - by0, ix0 - bx0:ix1 - bx0] = True
        if covered.all():
            written, transparency = np.array(frame.crop(box), dtype=np.uint8), None
    for ix0, iy0, ix1, iy1, c in cuts:
        prev[iy0:iy1, ix0:ix1] = c
    return box, written, transparency


def _region(frame: Image.Image, pixels: np.ndarray | None, box) -> np.ndarray:
    """``frame``'s indices in ``box``: a view of ``pixels`` (see _pixels_of) when given."""
    if pixels is None:
        return np.asarray(frame.crop(box))
    x0, y0, x1, y1 = box
    return pixels[y0:y1, x0:x1]


def _pixels_of(frame: Image.Image) -> np.ndarray | None:
    """The palette indices ``frame`` is made over (Changed.pixels), or None: only for the
    image the renderer made over them, itself (not a copy, nor another image given its info)."""
    mark = frame.info.get(CHANGED)
    ref = getattr(mark, "image", None)
    if ref is None or ref() is not frame or mark.pixels is None:
        return None
    return mark.pixels


def _palette_bytes(img: Image.Image) -> bytes | None:
    """``img.getpalette()`` as the bytes Pillow holds, without making a list of 768 ints
    (each frame's palette is checked against the first frame's)."""
    img.load()
    try:
        mode = img.im.getpalettemode()
    except ValueError:
        return None  # no palette
    return img.im.getpalette(mode, "RGB")


def _union_box(a, b) -> tuple[int, int, int, int]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _widened(pending: list, box, spare: int) -> list:
    """A frame not yet written, grown to ``box`` with unchanged (``spare``) pixels, and
    disposed to background after it shows."""
    (x0, y0, x1, y1), part, transparency, _ = pending
    if (x0, y0, x1, y1) == tuple(box):
        return [box, part, transparency, 2]
    grown = np.full((box[3] - box[1], box[2] - box[0]), spare, dtype=np.uint8)
    grown[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]] = part
    return [tuple(box), grown, spare, 2]


def _write_gif_frame(fp: BinaryIO, pending: list, palette, duration: int) -> None:
    box, part, transparency, disposal = pending
    img = Image.frombytes("P", (part.shape[1], part.shape[0]), part.tobytes())
    img.putpalette(palette)
    extra = {} if transparency is None else {"transparency": transparency}
    for chunk in GifImagePlugin.getdata(img, offset=box[:2], duration=duration,
                                        disposal=disposal, **extra):
        fp.write(chunk)


def netscape_loop(plays: int) -> bytes:
    """The GIF's NETSCAPE2.0 extension for an animation that plays ``plays`` times (0: forever).

    Its count is the number of repeats after the first play (browsers play a GIF
    with count N N + 1 times), so one play is no extension at all.
    """
    if plays < 0 or plays > 65535:
        raise ValueError(f"loop: got {plays}; expected 0 (forever) or 1..65535 plays")
    if plays == 1:
        return b""
    return (b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", max(plays - 1, 0))
            + b"\x00")


def write_gif(fp: BinaryIO, frames: Iterable[Image.Image], duration: int = 1000,
              loop: int = 0) -> int:
    """Stream P-mode ``frames`` sharing one palette into ``fp`` as an animated GIF.

    ``loop``: how many times it plays, 0 = forever (:func:`netscape_loop`).
    The bytes are :class:`GifEncoder`'s, then the trailer. Returns the number of
    frames written.
    """
    enc = GifEncoder(duration, loop)
    it = iter(frames)
    frame = next(it, None)
    while frame is not None:
        fp.write(enc.add(frame))
        frame = None  # hold one frame at a time: this one goes before the next is made
        frame = next(it, None)
    fp.write(enc.finish() + b";")
    return enc.written


class GifEncoder:
    """An animated GIF's bytes, frame by frame (:func:`write_gif` writes them to a file).

    The header and the global palette come with the first frame; then per frame a
    graphic control extension (delay, disposal 1 = keep) and only the rectangle that
    differs from the previous frame, so each composited frame equals its source
    frame while only one frame is held (a frame's ``info[CHANGED]``, a
    :class:`Changed` from the renderer, may bound where to look). Inside that
    rectangle the pixels that did not change are written as the last palette
    index, marked transparent, when the frame itself does not use that index: the
    previous frame shows through, and long runs of one index compress to almost
    nothing (the renderer leaves that index free; see raster.palette_colours).

    Frames of a transparent background carry its index as ``info["transparency"]``:
    the first frame names it in its control extension; later frames name the
    unchanged index, and where pixels turn back to background the frame before is
    disposed "to background" (cleared: browsers show the page) over a box holding
    them, and redrawn in that box; so each frame is written when the next is known.

    A frame's bytes depend on its pixels and the previous frame's only, so a part
    of an animation can be encoded apart (:meth:`prime` with the frame before it,
    opaque frames only) and the parts joined: the same bytes as in one pass.
    """

    def __init__(self, duration: int = 1000, loop: int = 0) -> None:
        self.duration, self.loop = duration, loop
        self.count = 0  # the frames seen, and the number of the next one
        self.written = 0  # the frames encoded (a primed frame is not)
        self._prev: np.ndarray | None = None  # the last frame's indices, updated in place
        self._last = None  # the Changed record of the frame seen last
        self._pending: list | None = None  # [box, indices, transparency, disposal] not yet out
        # No pixel of the last frame has the spare index (frames that use it go the long way).
        self._clean = False

    def _begin(self, first: Image.Image) -> bytes:
        """Take the palette, size and background of ``first``; the GIF's header."""
        if first.mode != "P":
            raise ValueError(f"write_gif: frames must be P-mode images, got {first.mode}")
        self._palette = _palette_bytes(first)  # each frame's is checked against it
        palette = (self._palette or b"")[:768]
        palette += bytes(768 - len(palette))
        self.size = w, h = first.size
        # A transparent background (raster frames of a transparent theme): its index is
        # clear in the first frame; after it, pixels that turn to background need the
        # frame before cleared ("restore to background", which browsers clear to
        # transparent), so each frame is written once the next one is known.
        bg = first.info.get("transparency")
        self._bg = bg if isinstance(bg, int) and bg != SPARE else None
        return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF7, 0, 0) + palette
                + netscape_loop(self.loop))

    def prime(self, frame: Image.Image, number: int) -> None:
        """Start after ``frame``, frame ``number`` (from 0) of the animation, written
        elsewhere: the frames added next are encoded as if it were written here."""
        if self.count:
            raise ValueError("write_gif: prime comes before the first frame")
        self._begin(frame)
        if self._bg is not None:
            # Its frames are disposed with look-ahead into the frame before: one pass only.
            raise ValueError("write_gif: frames of a transparent background are encoded in one pass")
        self._prev = np.array(frame)  # our own copy
        self._clean = not (self._prev == SPARE).any()
        self._last = frame.info.get(CHANGED)
        self.count = number + 1

    def add(self, frame: Image.Image) -> bytes:
        """Take the next frame; returns the bytes ready (the frame before, once this one
        is known; the header with the first)."""
        out = b"" if self._prev is not None else self._begin(frame)
        w, h = self.size
        count, prev, bg, spare = self.count, self._prev, self._bg, SPARE
        if frame.mode != "P" or frame.size != (w, h):
            raise ValueError(f"write_gif: frame {count}: expected a {w}x{h} P-mode image, "
                             f"got {frame.size[0]}x{frame.size[1]} {frame.mode}")
        if prev is not None and _palette_bytes(frame) != self._palette:
            raise ValueError(f"write_gif: frame {count} has a palette other than the first frame's")
        rects = (_trusted_rects(frame, self._last, w, h)
                 if prev is not None and bg is None and self._clean else None)
        quick = _from_rects(frame, prev, rects, spare) if rects is not None else None
        if quick is not None:
            # Only the renderer's rectangles were read: the same frame as the full
            # comparison below writes, without whole-box passes.
            box, written, transparency = quick
            out += self._flush()
            self._pending = [box, written, transparency, 1]
            self._last = frame.info.get(CHANGED)
            self.count += 1
            return out
        fresh = False  # written is an array of its own
        if prev is None:
            prev = self._prev = np.array(frame)  # our own copy, updated in place from here on
            self._clean = not (prev == spare).any()
            box = (0, 0, w, h)
            written, transparency = prev, bg
        else:
            # Outside the CHANGED box (the whole canvas without one) nothing differs.
            lx0, ly0, lx1, ly1 = _clip_box(_trusted(frame, self._last), w, h)
            pixels = _pixels_of(frame)
            region = _region(frame, pixels, (lx0, ly0, lx1, ly1))
            sub, diff = (_diff_box(prev[ly0:ly1, lx0:lx1], region) if region.size
                         else (None, None))
            if sub is None:
                box = (0, 0, 1, 1)  # nothing changed: a frame is still needed for its delay
                new = _region(frame, pixels, box)
                changed = new != prev[0:1, 0:1]
            else:
                box = (sub[0] + lx0, sub[1] + ly0, sub[2] + lx0, sub[3] + ly0)
                new = region[sub[1]:sub[3], sub[0]:sub[2]]
                changed = diff[sub[1]:sub[3], sub[0]:sub[2]]
            x0, y0, x1, y1 = box
            old = prev[y0:y1, x0:x1]
            if bg is not None:
                cleared = _changed_box(np.zeros_like(new, dtype=bool), (new == bg) & (old != bg))
                if cleared is not None:
                    # Dispose of the frame before over a box holding them (widened with
                    # unchanged pixels), and redraw that box now.
                    pbox = _union_box(self._pending[0], (cleared[0] + x0, cleared[1] + y0,
                                                         cleared[2] + x0, cleared[3] + y0))
                    self._pending = _widened(self._pending, pbox, spare)
                    prev[pbox[1]:pbox[3], pbox[0]:pbox[2]] = bg
                    box = _union_box(box, pbox)
                    x0, y0, x1, y1 = box
                    new = _region(frame, pixels, box)
                    old = prev[y0:y1, x0:x1]
                    changed = new != old
            written, transparency = new, None
            if not (new == spare).any():
                if not changed.all():
                    # The unchanged pixels as the spare index, in one pass into a new array.
                    written, transparency = _unchanged_as_spare(new, ~changed), spare
                    fresh = True
            elif bg is not None:
                # Frames that use the spare index (not the renderer's): their background
                # pixels show the cleared canvas (disposed to background, or never drawn).
                transparency = bg
            prev[y0:y1, x0:x1] = new
            self._clean = self._clean and transparency == spare
        out += self._flush()
        if not fresh:
            # A view of the frame's pixels (not ours to keep) or of this encoder's own
            # copy (updated in place); _unchanged_as_spare's answer above is new already.
            written = np.array(written, dtype=np.uint8)
        self._pending = [box, written, transparency, 1]
        self._last = frame.info.get(CHANGED)
        self.count += 1
        return out

    def _flush(self) -> bytes:
        if self._pending is None:
            return b""
        fp = io.BytesIO()
        _write_gif_frame(fp, self._pending, self._palette, self.duration)
        self._pending = None
        self.written += 1
        return fp.getvalue()

    def finish(self) -> bytes:
        """The last frame's bytes (the caller writes the trailer, ``;``, after all parts)."""
        if self._prev is None:
            raise ValueError("write_gif: no frames")
        return self._flush()


def write_pillow_animation(path: Path, frames: Iterable[Image.Image], format: str,
                           duration: int = 1000, loop: int = 0) -> None:
    """Animated WebP or APNG through Pillow, whose encoders take every frame as a list.

    ``loop`` plays in all, 0 = forever: Pillow writes it as WebP's ANIM loop count and
    APNG's acTL num_plays, both the number of plays (browsers play them so).
    """
    it = iter(frames)
    first = with_alpha(next(it))
    # P-mode frames held as they come (1 byte a pixel); Pillow converts one at a time.
    # A transparent background: each with its RGBA palette, real alpha on the edges.
    rest = [with_alpha(f) for f in it]
    if format == "WEBP":
        first.save(path, format="WEBP", save_all=True, append_images=rest,
                   duration=duration, loop=loop, lossless=True, method=4)
    else:
        first.save(path, format="PNG", save_all=True, append_images=rest,
                   duration=duration, loop=loop, disposal=0, blend=0)


@contextlib.contextmanager
def staged_in(staging: Staging | None) -> Iterator[Staging]:
    """``staging`` itself, or a new one committed when the block ends (see :func:`staged`)."""
    if staging is not None:
        yield staging
    else:
        with staged() as own:
            yield own


def tee_frames(frames: Iterable[Image.Image], directory: str | os.PathLike, stem: str,
               staging: Staging) -> Iterator[Image.Image]:
    """Pass ``frames`` through, writing each as ``directory/stem_0001.png`` ... on the way.

    The PNGs are staged in ``staging`` and appear when it commits; frames of an
    earlier, longer run with the same stem are removed then, so the folder holds
    one animation's frames, never a mix.
    """
    directory = Path(directory)
    staging.make_dir(directory)
    n = 0
    mark = PngImagePlugin.PngInfo()
    mark.add_text(FRAME_MARK[0], FRAME_MARK[1])
    for n, frame in enumerate(frames, 1):
        with_alpha(frame).save(staging.temp_for(directory / f"{stem}_{n:04d}.png"),
                               format="PNG", optimize=False, pnginfo=mark)
        yield frame
    numbered = re.compile(re.escape(stem) + r"_(\d{4,})\.png")
    staging.remove_on_commit(lambda: [
        p for p in directory.iterdir()
        if (m := numbered.fullmatch(p.name)) and int(m.group(1)) > n and _ours(p)])


# The text chunk every --frames PNG carries: only files with it are ever removed as stale.
FRAME_MARK = ("Software", "convanim frames")


def _ours(path: Path) -> bool:
    """Whether ``path`` is a frame PNG this tool wrote (its chunks, read without decoding)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):  # a FIFO would block, a link is not ours
            return False
        with Image.open(path, formats=["PNG"]) as im:
            return im.info.get(FRAME_MARK[0]) == FRAME_MARK[1]
    except (OSError, SyntaxError, ValueError):
        return False


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


def check_strip(n: int, width: int, height: int, max_side: int = STRIP_MAX) -> None:
    """Refuse a strip a browser cannot show: taller than ``max_side`` once its frames are
    laid out in rows of at most ``max_side`` px (browsers refuse or downscale larger)."""
    cols, rows = strip_grid(n, width, max_side)
    if rows * height > max_side or width > max_side:
        raise SpecError(
            f"strip: {n:,} frames of {width}x{height} px make a {cols * width:,}x{rows * height:,} "
            f"px image, more than the {max_side:,} px a side that browsers show; use a smaller "
            "--cell or fewer frames, or step through the figure in its html page instead")


# zlib level of the strips. A strip is every frame side by side (the classic 15: 76 MB of
# pixels), so its compression is most of its cost. CPU and bytes for those 15 with Pillow's
# zlib-ng, 2026-12-02: level 6 0.57 s, 1.75 MB; 4 0.45 s, 1.94 MB; 3 0.29 s, 2.40 MB (+37%);
# 1 0.27 s, 2.77 MB. Levels 1-3 are zlib-ng's quick strategies and cost the same; 3 is the
# smallest of them. Level 6 made strips 31% of a gallery -j 1 of the classic set (gif + strip)
# once the GIFs got faster; 3 makes them 19% (issue 15: at most a fifth).
STRIP_LEVEL = 3


@dataclass(frozen=True)
class StripGrid:
    """Where a strip's frames are: frame n (from 0) at column n % columns, row n // columns."""

    path: Path
    frames: int
    columns: int
    rows: int
    frame_width: int
    frame_height: int

    def text(self) -> dict[str, int]:
        """The PNG text chunks the strip carries (every field but the path)."""
        return {"frames": self.frames, "columns": self.columns, "rows": self.rows,
                "frame_width": self.frame_width, "frame_height": self.frame_height}


def write_strip(path: str | os.PathLike, frames: Iterable[Image.Image],
                max_width: int = STRIP_MAX, staging: Staging | None = None,
                level: int = STRIP_LEVEL) -> StripGrid:
    """Every frame in one palette PNG, left to right, top to bottom (:func:`strip_grid`).

    Frame n (from 0) is the rectangle at column n % columns, row n // columns. The
    grid is also stored in the PNG as text chunks (frames, columns, rows,
    frame_width, frame_height), so a page can step through it without convanim;
    it is returned too, so the caller need not read the file back. The frames
    must share one size and, when P-mode, one palette (the first's is kept).
    ``level`` is the zlib level. The directory is created if missing.
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
    count = len(arrays)
    check_strip(count, w, h, max_width)
    cols, rows = strip_grid(count, w, max_width)
    sheet = np.zeros((rows * h, cols * w) + arrays[0].shape[2:], dtype=arrays[0].dtype)
    for n, a in enumerate(arrays):
        r, c = divmod(n, cols)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = a
    arrays.clear()
    image = Image.fromarray(sheet)
    if first.mode == "P":
        image.putpalette(first.getpalette())  # L + palette -> P, the indices unchanged
    grid = StripGrid(path, count, cols, rows, w, h)
    info = PngImagePlugin.PngInfo()
    for key, value in grid.text().items():
        info.add_text(key, str(value))
    with staged_in(staging) as st:
        image.save(st.temp_for(path), format="PNG", compress_level=level, pnginfo=info)
    return grid


def read_strip_grid(path: str | os.PathLike) -> StripGrid:
    """The grid a strip records in its text chunks, read without decoding its pixels."""
    with Image.open(path) as im:
        # The chunks come before the image data: Image.open has read them into info
        # (im.text would decode the whole image first).
        return StripGrid(Path(path), *(int(im.info[k]) for k in
                                       ("frames", "columns", "rows", "frame_width", "frame_height")))


def tee_strip(frames: Iterable[Image.Image], path: str | os.PathLike, staging: Staging,
              on_written: Callable[[StripGrid], object] | None = None) -> Iterator[Image.Image]:
    """Pass ``frames`` through and, after the last, write them all as a strip (staged).

    ``on_written`` gets the strip's :class:`StripGrid` once it is written.
    """
    kept: list[Image.Image] = []
    for frame in frames:
        kept.append(frame)
        yield frame
    grid = write_strip(path, kept, staging=staging)
    kept.clear()
    if on_written is not None:
        on_written(grid)

"""Input and weight arrays: reproducible random integers, or a matrix from a file."""

from __future__ import annotations

import contextlib
import os
import stat
import struct
from pathlib import Path
from typing import Iterator

import numpy as np

from .escape import terminal
from .params import Pair, SpecError

# What an --input/--weight file may be, checked before its data is read: far above any
# matrix that can be drawn (a 4,000 px canvas holds at most 500 cells a side), far below
# what would exhaust memory. A .npy's header or a PNG's size is checked before decoding.
MAX_FILE_BYTES = 64 * 2**20
MAX_ELEMENTS = 4096 * 4096
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TOKEN_CHARS = 16  # an error quotes at most this much of a file's text


def random_arrays(spec_input: Pair, spec_kernel: Pair | None, seed: int = 0):
    """Input of integers 0..3 and weight of integers 0..2 from ``numpy.random.default_rng(seed)``.

    The input is drawn first, so the same seed gives the same input whatever the kernel.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=spec_input).astype(np.float64)
    w = None if spec_kernel is None else rng.integers(0, 3, size=spec_kernel).astype(np.float64)
    return x, w


def random_channel_arrays(input_shape: tuple[int, ...], weight_shape: tuple[int, ...] | None,
                          bias_shape: tuple[int, ...] | None, seed: int = 0):
    """:func:`random_arrays` for channels: input 0..3, weight 0..2, then bias 0..2, drawn
    in that order from one ``numpy.random.default_rng(seed)``; each of C_in maps of a
    (1, H, W) input has the one-channel values of the same seed."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=input_shape).astype(np.float64)
    w = None if weight_shape is None else rng.integers(0, 3, size=weight_shape).astype(np.float64)
    b = None if bias_shape is None else rng.integers(0, 3, size=bias_shape).astype(np.float64)
    return x, w, b


IMAGE_RANGE = 3  # a .png becomes values 0..IMAGE_RANGE, the range of the random input


def image_matrix(path: Path, name: str) -> np.ndarray:
    """A .png as a matrix: greyscale 0..255 scaled to 0..IMAGE_RANGE, rounded to whole numbers.

    Whole numbers keep the drawn values short; white is IMAGE_RANGE, black 0. A colour
    image is taken as its grey (Pillow's luminance).
    """
    grey, _ = _png(path, name, lambda im: (np.asarray(im.convert("L"), dtype=np.float64), None))
    return np.round(grey / 255.0 * IMAGE_RANGE)


# Pillow's modes of a PNG with colour: truecolour (with alpha) and palette images.
COLOUR_MODES = ("RGB", "RGBA", "P", "PA")


def image_maps(path: Path, name: str) -> tuple[np.ndarray, bool]:
    """A .png as maps, each scaled as :func:`image_matrix` scales a grey image, and whether
    it has colour: (3, H, W) R, G, B of a colour image (alpha dropped, a palette looked
    up), (1, H, W) of a greyscale one."""
    def read(im):
        colour = im.mode in COLOUR_MODES
        a = np.asarray(im.convert("RGB" if colour else "L"), dtype=np.float64)
        return (np.moveaxis(a, 2, 0) if colour else a[None]), colour
    maps, colour = _png(path, name, read)
    return np.round(maps / 255.0 * IMAGE_RANGE), colour


def _png(path: Path, name: str, read):
    """``read`` of the opened image of a .png whose signature and IHDR size are checked
    before any decoder sees it; a file Pillow cannot read as PNG is a SpecError."""
    from PIL import Image, UnidentifiedImageError

    what = f"{name}: {str(path)!r}"
    with open(path, "rb") as fp:
        head = fp.read(24)
        # The signature first: Pillow would otherwise pick a decoder from the content
        # (an EPS file named .png starts Ghostscript).
        if head[:8] != PNG_SIGNATURE:
            raise SpecError(f"{what} is not a PNG file (its first bytes are not the PNG "
                            "signature); expected a .png image")
        # The size from the IHDR chunk, before any decoder sees the file.
        if len(head) < 24 or head[12:16] != b"IHDR":
            raise SpecError(f"{what} is not a readable PNG image")
        w, h = struct.unpack(">II", head[16:24])
        if w * h > MAX_ELEMENTS:
            raise SpecError(f"{what} is {w}x{h} px; at most {MAX_ELEMENTS:,} pixels")
        fp.seek(0)
        try:
            with Image.open(fp, formats=["PNG"]) as im:
                return read(im)
        except (UnidentifiedImageError, SyntaxError, EOFError, ValueError, OSError):
            raise SpecError(f"{what} is not a readable PNG image") from None


def check_file(path: Path, what: str, limit: int = MAX_FILE_BYTES) -> int:
    """The size of ``path`` when it is a regular file within ``limit`` bytes; else SpecError.

    Devices, FIFOs and sockets (``/dev/zero``, a pipe) are refused: they can be read
    forever. Returns the size, so a reader can check a header against it.
    """
    info = os.stat(path)  # follows symlinks: the file that will be read
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(info.st_mode):
        raise SpecError(f"{what} is not a regular file (a device, pipe or socket); "
                        "expected a .npy, .csv, text or .png file")
    if info.st_size > limit:
        raise SpecError(f"{what} is {info.st_size:,} bytes; at most {limit:,} bytes")
    return info.st_size


def _load_npy(path: Path, what: str, size: int, ndims: tuple[int, ...] = (2,)) -> np.ndarray:
    """A .npy whose header is checked (shape, type, the bytes it claims) before its data."""
    fmt = np.lib.format
    with open(path, "rb") as fp:
        try:
            version = fmt.read_magic(fp)
            header = (fmt.read_array_header_1_0 if version == (1, 0)
                      else fmt.read_array_header_2_0)(fp)
            shape, _, dtype = header
        except (ValueError, OSError, SyntaxError):
            raise SpecError(f"{what} is not a numeric .npy array (numpy.save of a "
                            "2-D array of numbers)") from None
        if dtype.hasobject or dtype.kind not in "biuf":
            raise SpecError(f"{what} holds {dtype} values; expected real numbers")
        count = int(np.prod(shape, dtype=object))
        if len(shape) not in ndims:
            raise SpecError(f"{what} holds an array of shape {tuple(shape)}; expected "
                            + ("a 2-D matrix" if ndims == (2,) else
                               "a " + " or ".join(f"{n}-D" for n in ndims) + " array"))
        if count > MAX_ELEMENTS:
            raise SpecError(f"{what} claims {count:,} numbers; at most {MAX_ELEMENTS:,}")
        if count * dtype.itemsize > size - fp.tell():
            raise SpecError(f"{what} is shorter than its header says (a "
                            f"{'x'.join(map(str, shape))} "
                            f"{dtype} array needs {count * dtype.itemsize:,} bytes of data)")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError:
        raise SpecError(f"{what} is not a numeric .npy array (numpy.save of a "
                        "2-D array of numbers)") from None


def load_matrix(path: str | Path, name: str, shape: Pair | None = None) -> np.ndarray:
    """A finite 2-D float matrix from .npy, .csv, whitespace-separated text or a .png image.

    ``name`` ("input" or "weight") and ``shape`` are for the error messages:
    a shape that disagrees raises SpecError saying both.
    """
    path = Path(path)
    what = f"{name}: {str(path)!r}"
    with _reading(path, name, "a .npy, .csv or text file"):
        size = check_file(path, what)
        if path.suffix.lower() == ".png":
            arr = image_matrix(path, name)
        elif path.suffix.lower() == ".npy":
            arr = _load_npy(path, what, size)
        else:
            text = path.read_bytes()[:size].decode("utf-8")
            arr = _parse_text(text, "," if path.suffix.lower() == ".csv" or "," in text else None,
                              what)
    arr = _real(arr, what, "a non-empty 2-D matrix")
    if arr.ndim != 2:
        raise SpecError(
            f"{name}: {str(path)!r} holds an array of shape {arr.shape}; expected a 2-D matrix"
        )
    _finite(arr, what)
    if shape is not None and arr.shape != tuple(shape):
        raise SpecError(
            f"{name}: {str(path)!r} is {arr.shape[0]}x{arr.shape[1]} but the "
            f"{'input_size' if name == 'input' else 'kernel_size'} is {shape[0]}x{shape[1]}"
        )
    return arr


def load_array(path: str | Path, name: str, shape: tuple[int, ...] | None = None,
                rule: str = "") -> np.ndarray:
    """A finite N-D float array for the channel engine: a .npy of ``len(shape)`` dimensions,
    or a .csv / text / .png (or 2-D .npy) holding one map, taken as the array when
    ``shape`` has one map, e.g. (1, H, W) or (1, 1, KH, KW); a bias (1-D) may be one row
    or one column of text. ``rule`` says where ``shape`` comes from, for the one error when they disagree.
    """
    path = Path(path)
    what = f"{name}: {str(path)!r}"
    one_map = shape is not None and len(shape) > 2 and int(np.prod(shape[:-2])) == 1
    ndims = (1, 2, 3, 4) if shape is None else (len(shape), 2) if one_map else (len(shape),)
    if path.suffix.lower() == ".npy":
        # Only the errors of opening a file: what else the OS says goes up as it did.
        with _reading(path, name, "a .npy file", other_errors=False):
            size = check_file(path, what)
            arr = _load_npy(path, what, size, ndims)
        arr = _real(arr, what, "a non-empty array")
        _finite(arr, what)
        if one_map and arr.ndim == 2:  # one map, as a CSV would give it
            arr = arr.reshape((1,) * (len(shape) - 2) + arr.shape)
    elif path.suffix.lower() == ".png" and shape is not None and len(shape) == 3 and shape[0] != 1:
        arr = _png_maps(path, name, shape, rule)
    else:
        arr = load_matrix(path, name)
        if shape is not None and len(shape) == 1 and 1 in arr.shape:
            arr = arr.ravel()  # a bias as one row or one column
        elif shape is not None and len(shape) > 2:
            if int(np.prod(shape[:-2])) != 1:
                raise SpecError(
                    f"{what} holds one map ({arr.shape[0]}x{arr.shape[1]}), but {rule or 'the shape'} "
                    f"is {_dims(shape)}; several maps come as a .npy of that shape")
            arr = arr.reshape((1,) * (len(shape) - 2) + arr.shape)
    if shape is not None and arr.shape != tuple(shape):
        raise SpecError(f"{what} is {_dims(arr.shape)} but {rule or 'the shape'} is "
                        f"{_dims(shape)}")
    return arr


def _png_maps(path: Path, name: str, shape: tuple[int, ...], rule: str) -> np.ndarray:
    """The maps of a .png for a (C, H, W) shape of several maps: a colour image gives 3
    (R, G, B), so C must be 3; a greyscale one gives 1 (C 1 only)."""
    what = f"{name}: {str(path)!r}"
    with _reading(path, name, "a .png image"):
        check_file(path, what)
        maps, colour = image_maps(path, name)
    if colour and shape[0] == 3:
        return maps
    h, w = maps.shape[1:]
    kind = ("a colour PNG (3 maps: R, G, B" if colour else "a greyscale PNG (1 map") + f", {h}x{w})"
    raise SpecError(
        f"{what} is {kind}, but {rule or 'the shape'} is {_dims(shape)}; a PNG gives 3 maps "
        "(R, G, B) when it has colour, 1 when it is grey (a colour PNG with one map is taken "
        f"as grey): use --cin {3 if colour else 1}, "
        + ("" if colour else "a colour PNG, ") + "or a .npy of shape " + _dims(shape))


@contextlib.contextmanager
def _reading(path: Path, name: str, expected: str, other_errors: bool = True) -> Iterator[None]:
    """Errors of reading a data file as one-line SpecErrors; ``expected`` says what it
    should be, ``other_errors`` maps the remaining OS and text-decoding errors too."""
    what = f"{name}: {str(path)!r}"
    try:
        yield
    except FileNotFoundError:
        raise SpecError(f"{name}: file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"{what} is a directory; expected {expected}") from None
    except PermissionError:
        raise SpecError(f"{what} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        if not other_errors:
            raise
        raise SpecError(f"{what} is not text; expected .npy, or .csv / text of numbers") from None
    except OSError as err:
        if not other_errors:
            raise
        raise SpecError(f"{what} cannot be read ({err.strerror or err.__class__.__name__})") from None


def _real(arr: np.ndarray, what: str, expected: str) -> np.ndarray:
    """``arr`` as floats, when it holds real numbers and at least one (``expected``: what)."""
    if arr.dtype.kind not in "biuf":  # bool, ints, floats; not complex, strings or objects
        raise SpecError(f"{what} holds {arr.dtype} values; expected real numbers")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == 0:
        raise SpecError(f"{what} holds no numbers; expected {expected}")
    return arr


def _finite(arr: np.ndarray, what: str) -> None:
    if not np.all(np.isfinite(arr)):
        raise SpecError(f"{what} holds NaN or infinite values; all must be finite")


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) if len(shape) > 1 else f"{shape[0]} values"


def _parse_text(text: str, delimiter: str | None, what: str) -> np.ndarray:
    """Rows of numbers, one per non-blank line ('#' starts a comment line)."""
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = line.split(delimiter) if delimiter else line.split()
        try:
            rows.append([float(v) for v in cells])
        except ValueError:
            raise SpecError(f"{what} line {n}: {_token(next(v for v in cells if not _is_float(v)))} "
                            "is not a number") from None
        if len(rows[-1]) != len(rows[0]):
            raise SpecError(f"{what} line {n} has {len(rows[-1])} values, the first row "
                            f"{len(rows[0])}; expected rows of equal length")
    return np.array(rows, dtype=np.float64) if rows else np.zeros((0,))


def file_digest(path: str | os.PathLike, extra: bytes = b"") -> str:
    """SHA-256 of a file's bytes (then ``extra``), read in chunks: fonts can be large."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fp:
        for chunk in iter(lambda: fp.read(1 << 20), b""):
            h.update(chunk)
    h.update(extra)
    return h.hexdigest()


def _token(text: str) -> str:
    """A short, escaped quote of a file's text: an error must not print a file's contents."""
    text = text.strip()
    return repr(terminal(text[:TOKEN_CHARS]) + ("..." if len(text) > TOKEN_CHARS else ""))


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True

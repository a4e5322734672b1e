"""Input and weight arrays: reproducible random integers, or a matrix from a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .params import Pair, SpecError


def random_arrays(spec_input: Pair, spec_kernel: Pair | None, seed: int = 0):
    """Input of integers 0..3 and weight of integers 0..2 from ``numpy.random.default_rng(seed)``.

    The input is drawn first, so the same seed gives the same input whatever the kernel.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=spec_input).astype(np.float64)
    w = None if spec_kernel is None else rng.integers(0, 3, size=spec_kernel).astype(np.float64)
    return x, w


IMAGE_RANGE = 3  # a .png becomes values 0..IMAGE_RANGE, the range of the random input


def image_matrix(path: Path, name: str) -> np.ndarray:
    """A .png as a matrix: greyscale 0..255 scaled to 0..IMAGE_RANGE, rounded to whole numbers.

    Whole numbers keep the drawn values short; white is IMAGE_RANGE, black 0.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            grey = np.asarray(im.convert("L"), dtype=np.float64)
    except UnidentifiedImageError:
        raise SpecError(f"{name}: {str(path)!r} is not a readable PNG image") from None
    return np.round(grey / 255.0 * IMAGE_RANGE)


def load_matrix(path: str | Path, name: str, shape: Pair | None = None) -> np.ndarray:
    """A finite 2-D float matrix from .npy, .csv, whitespace-separated text or a .png image.

    ``name`` ("input" or "weight") and ``shape`` are for the error messages:
    a shape that disagrees raises SpecError saying both.
    """
    path = Path(path)
    what = f"{name}: {str(path)!r}"
    try:
        if path.suffix.lower() == ".png":
            arr = image_matrix(path, name)
        elif path.suffix.lower() == ".npy":
            try:
                arr = np.load(path, allow_pickle=False)
            except ValueError:
                raise SpecError(f"{what} is not a numeric .npy array (numpy.save of a "
                                "2-D array of numbers)") from None
        else:
            text = path.read_text(encoding="utf-8")
            arr = _parse_text(text, "," if path.suffix.lower() == ".csv" or "," in text else None,
                              what)
    except FileNotFoundError:
        raise SpecError(f"{name}: file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise SpecError(f"{what} is a directory; expected a .npy, .csv or text file") from None
    except PermissionError:
        raise SpecError(f"{what} cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise SpecError(f"{what} is not text; expected .npy, or .csv / text of numbers") from None
    except OSError as err:
        raise SpecError(f"{what} cannot be read ({err.strerror or err.__class__.__name__})") from None
    if arr.dtype.kind not in "biuf":  # bool, ints, floats; not complex, strings or objects
        raise SpecError(f"{what} holds {arr.dtype} values; expected real numbers")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size == 0:
        raise SpecError(f"{what} holds no numbers; expected a non-empty 2-D matrix")
    if arr.ndim != 2:
        raise SpecError(
            f"{name}: {str(path)!r} holds an array of shape {arr.shape}; expected a 2-D matrix"
        )
    if not np.all(np.isfinite(arr)):
        raise SpecError(f"{name}: {str(path)!r} holds NaN or infinite values; all must be finite")
    if shape is not None and arr.shape != tuple(shape):
        raise SpecError(
            f"{name}: {str(path)!r} is {arr.shape[0]}x{arr.shape[1]} but the "
            f"{'input_size' if name == 'input' else 'kernel_size'} is {shape[0]}x{shape[1]}"
        )
    return arr


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
            bad = next(v for v in cells if not _is_float(v))
            raise SpecError(f"{what} line {n}: {bad.strip()!r} is not a number") from None
        if len(rows[-1]) != len(rows[0]):
            raise SpecError(f"{what} line {n} has {len(rows[-1])} values, the first row "
                            f"{len(rows[0])}; expected rows of equal length")
    return np.array(rows, dtype=np.float64) if rows else np.zeros((0,))


def _is_float(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True

"""Golden-image comparison, in the manner of manim's frames_comparison.

Expected frames live in tests/golden/NAME.png. ``pytest --regen-golden`` rewrites
them from the current renderer (look at them before committing). A frame passes
when its size matches and no more than 0.2% of pixels differ by more than 24 in
any channel: room for a Pillow version's anti-aliasing, none for a moved cell.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

GOLDEN = Path(__file__).parent / "golden"
CHANNEL_TOLERANCE = 24
PIXEL_FRACTION = 0.002


def diff_fraction(a: Image.Image, b: Image.Image) -> float:
    x = np.asarray(a.convert("RGB"), dtype=np.int16)
    y = np.asarray(b.convert("RGB"), dtype=np.int16)
    return float(np.mean(np.abs(x - y).max(axis=2) > CHANNEL_TOLERANCE))


def check_frame(name: str, frame: Image.Image, regen: bool) -> None:
    path = GOLDEN / f"{name}.png"
    if regen or not path.exists():
        GOLDEN.mkdir(exist_ok=True)
        frame.convert("RGB").save(path)
        if not regen:
            raise AssertionError(f"no golden frame {path.name}; wrote it, look at it and re-run")
        return
    expected = Image.open(path)
    assert frame.size == expected.size, f"{name}: size {frame.size} != golden {expected.size}"
    frac = diff_fraction(frame, expected)
    assert frac <= PIXEL_FRACTION, f"{name}: {frac:.2%} of pixels differ from {path.name}"

"""The agreement between the raster renderer and the GIF writer: where a frame changed.

Both sides import this module; neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

# Image.info key of a Changed record. The renderer knows where it drew; with it, the
# GIF writer reads and compares one box only, so a frame of a large canvas costs no
# whole-canvas passes.
CHANGED = "convanim_changed"


@dataclass(frozen=True)
class Changed:
    """Frame ``step`` of render ``run`` equals frame ``step - 1`` outside ``box``.

    The writer trusts ``box`` only for the frame that follows, in the same run, the
    frame it wrote last, at the ``size`` it was drawn (a resized copy keeps ``info``),
    so frames written out of order, skipped or transformed get a full comparison.
    """

    run: int
    step: int
    size: tuple[int, int]
    box: tuple[int, int, int, int] | None  # None on a run's first frame

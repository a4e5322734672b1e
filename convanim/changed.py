"""The agreement between the raster renderer and the writers: where a frame changed, and
the opacity of a transparent frame's palette.

Both sides import this module; neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image

# Image.info key of a Changed record. The renderer knows where it drew; with it, the
# GIF writer reads and compares one box only, so a frame of a large canvas costs no
# whole-canvas passes.
CHANGED = "convanim_changed"


@dataclass(frozen=True)
class Changed:
    """Frame ``step`` of render ``run`` equals frame ``step - 1`` outside ``box``
    (and outside ``rects``, when given).

    The writer trusts ``box`` only for the frame that follows, in the same run, the
    frame it wrote last, at the ``size`` it was drawn (a resized copy keeps ``info``),
    so frames written out of order, skipped or transformed get a full comparison.
    """

    run: int
    step: int
    size: tuple[int, int]
    box: tuple[int, int, int, int] | None  # None on a run's first frame
    # Boxes within ``box`` outside which the frame equals the one before (their union
    # is ``box``): the writer compares and copies only these, not the whole box.
    rects: tuple[tuple[int, int, int, int], ...] | None = None
    # The (H, W) palette indices the frame's image is made over, and a weak reference to
    # that image: the writer slices its rectangles from them instead of cropping and
    # converting the image, five times a frame, when the image it is given is that one
    # (a copy keeps the record in its info, not the reference's target). Read, never written.
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)
    image: Callable[[], Image.Image | None] | None = field(default=None, compare=False,
                                                          repr=False)


# Image.info key of a transparent frame's (256, 4) RGBA table, one row per palette index
# (raster.palette_alpha): the formats with an alpha channel (WebP, APNG, PNG) draw
# anti-aliased edges with partial opacity from it, where a GIF has the palette blended
# against the matte and one transparent index (the frame's info["transparency"]).
ALPHA = "convanim_alpha"


def with_alpha(frame: Image.Image) -> Image.Image:
    """A transparent P-mode frame with its RGBA palette (the ALPHA table), for the formats
    with an alpha channel: a copy, since frames share their pixels; others as they are."""
    table = frame.info.get(ALPHA)
    if table is None:
        return frame
    out = Image.frombytes("P", frame.size, frame.tobytes())
    out.putpalette(np.asarray(table, dtype=np.uint8).tobytes(), "RGBA")
    return out

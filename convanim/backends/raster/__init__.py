"""The raster backend: a scene in, PIL images out.

Shapes are drawn at SS times the canvas size and box-filtered down, which gives
smooth edges; the result is mapped without dithering onto one fixed palette per
theme (its colours and the blends between them), the same for every frame, so
flat colours stay flat and a GIF needs no per-frame palette.

The canvas is cut into square tiles. The still picture (grids, padding, output
plane) is drawn once; a frame redraws only the tiles that its moving shapes
(shaded cells, the four lines) touch, so a frame costs about the same whatever
the size of the grids, and no supersampled copy of the whole canvas is ever
held. Shapes are kept as drawing operations with bounding boxes, in z-order,
and each tile draws just the operations that overlap it; tiles start at whole
pixels, so a tile's pixels equal those of a whole-canvas drawing.
"""

from .animate import frame_image, frames, picture
from .canvas import Canvas
from .ops import SS, TILE, Ops
from .palette import PaletteMap, palette_colours

__all__ = ["frames", "frame_image", "picture", "Canvas", "Ops", "SS", "TILE", "PaletteMap",
           "palette_colours"]

"""The tiled raster: a tile draws exactly what a whole-canvas drawing draws there."""

import numpy as np
import pytest

import convanim as ca
from convanim.backends import raster
from convanim.iso import iso_layout
from convanim.layout import REAL
from convanim.scene import plane_ops
from convanim.theme import CLASSIC


@pytest.mark.parametrize("spec", [ca.conv2d(5, 3, 1, 2), ca.conv2d(16, 3, 1, 1),
                                  ca.transpose_of(ca.conv2d(6, 3, 2, 1)),
                                  ca.conv_transpose2d(3, 3, 2, 1, view="scatter")],
                         ids=lambda s: s.short_name())
@pytest.mark.parametrize("cell", [8, 32, 90])
def test_tiles_equal_bands(spec, cell):
    # Frames repaint only some tiles over a still picture painted in bands; a seam
    # that drew differently would flicker from frame to frame.
    lay = iso_layout(ca.trace_of(spec), cell=cell)
    theme = CLASSIC
    canvas = raster.Canvas(lay.size, theme)
    lower, upper = raster.Ops(), raster.Ops()
    for op in plane_ops(lay.lower, {REAL: (theme.input, "input")}, theme, "input"):
        lower.add(op)
    for op in plane_ops(lay.upper, {REAL: (theme.output, "output")}, theme, "output"):
        upper.add(op)
    bands = np.zeros((canvas.h, canvas.w), np.uint8)
    tiles = bands.copy()
    canvas.paint(bands, canvas.bands(), [lower, upper])
    every = {(x, y) for x in range(canvas.ncols) for y in range(canvas.nrows)}
    canvas.paint(tiles, canvas.tile_rects(every), [lower, upper])
    assert np.count_nonzero(bands != tiles) == 0


def test_frames_change_only_where_the_kernel_moves():
    # Between two frames, pixels change near the old and new footprints, output
    # cells and lines only: no stray pixels anywhere else on the canvas.
    t = ca.trace_of(ca.conv2d(7, 3, 1, 1))
    frames = [np.asarray(f) for f in ca.render(t)[:2]]
    lay = iso_layout(t)
    changed = np.argwhere(frames[0] != frames[1])
    boxes = []
    for step in (0, 1):
        shapes = lay.frame(step)
        pts = [p for r, c, _ in shapes.lower for p in lay.lower.quad(r, c)]
        pts += [p for r, c, _ in shapes.upper for p in lay.upper.quad(r, c)]
        pts += [p for line in shapes.lines for p in line]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        boxes.append((min(xs) - 3, min(ys) - 3, max(xs) + 3, max(ys) + 3))
    inside = [any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in boxes)
              for y, x in changed]
    assert len(changed) and all(inside)

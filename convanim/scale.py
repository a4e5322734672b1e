"""A scene drawn F times as large: every length scales, line widths and text included.

``--scale 2`` (HiDPI screens, slides) must look like the ``--scale 1`` picture
twice as large, not like a bigger grid with thin lines, so the scaling is done on
the finished scene, after the text has been fitted: the same text forms, at F
times the size, in the same places. Operations are values (equal ops are one
object), and the raster reuses what it drew by object, so each distinct
operation is scaled once and handed out as the same object every time.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .scene import Frame, Op, Scene, Shape, Text


def scaled(scene: Scene, factor: float) -> Scene:
    """``scene`` with every coordinate, width and text size times ``factor`` (1: itself)."""
    if factor == 1:
        return scene
    f = float(factor)
    made: dict[Op, Op] = {}

    def pt(p):
        return (p[0] * f, p[1] * f)

    def op(o: Op) -> Op:
        hit = made.get(o)
        if hit is None:
            if isinstance(o, Text):
                hit = replace(o, size=o.size * f, x=o.x * f, y=o.y * f,
                              rect=tuple(v * f for v in o.rect), baseline=o.baseline * f,
                              ax=o.ax * f)
            else:
                assert isinstance(o, Shape)
                hit = replace(o, points=tuple(pt(p) for p in o.points), width=o.width * f)
            made[o] = hit
        return hit

    def ops(items):
        return tuple(op(o) for o in items)

    def frame_of(step: int) -> Frame:
        fr = scene.frame_of(step)
        return Frame(ops(fr.under), ops(fr.fresh), ops(fr.over), ops(fr.texts),
                     tuple((pt(a), pt(b)) for a, b in fr.lines), fr.edges)

    w, h = scene.size
    return replace(scene, size=(math.ceil(w * f - 1e-9), math.ceil(h * f - 1e-9)),
                   low=ops(scene.low), high=ops(scene.high), frame_of=frame_of,
                   fresh_of=lambda step: ops(scene.fresh_of(step)),
                   line_width=scene.line_width * f,
                   cover=None if scene.cover is None else tuple(pt(p) for p in scene.cover))

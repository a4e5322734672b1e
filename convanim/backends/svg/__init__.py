"""The SVG backend: a scene in, SVG text out (animated, or one frame).

:func:`animated_svg` writes an SVG that plays by itself wherever SVG is shown as
an image (``<img>``, GitHub READMEs): no script, only CSS ``@keyframes`` on
``visibility`` with step timing, one keyframe rule per frame interval.
:func:`still_svg` writes one frame with the same vocabulary and no animation.
Both are pure functions returning text.

Structure of an animated SVG::

    <svg ... data-frames-total="N" data-frame-ms="D">
      <title>the scene's title</title>
      <style> role, text and dash classes; the animation rules </style>
      <defs> the outline shared by the cells of a grid </defs>
      <path .../>                                   the background
      <g class="i"><use data-cell="input 0 0" .../>...</g>   shown in every frame
      <g data-frames="A-B" class="ih"> ops shown in frames A..B only </g>
      <use data-frames="A-B" class="oh" data-cell="output 0 1" .../>
      ...

The layers keep the scene's z-order: low | frame.under | persistent (every
``frame.fresh`` from its frame to the last) | high | frame.over | connecting
lines | frame.texts. Every operation is collected across all frames by value;
an operation shown in a run of consecutive frames A..B (both included) is
written once inside a ``<g data-frames="A-B">`` (consecutive operations of one
layer that share the run share the group; a group of one is the element itself,
carrying ``data-frames``); one shown in every frame is written once with no
range. Ranges never nest. Within a layer the operations are ordered so that
every frame's own order is kept wherever it changes the picture (a topological
merge of the frames' sequences). A shape of an engine cell carries
``data-cell="GRID R C"`` (e.g. ``"input 2 3"``, indices in the trace's
coordinates of that grid). So the cells shaded in frame N are the elements with
``data-cell`` whose own or enclosing range holds N (or that have none).

Shapes are ``<path>`` elements (cells: ``<use>`` of their grid's outline)
styled by short classes named after their role (:data:`ROLE_CLASS`; a role
drawn in a second style gets a digit: ``l2``), so colours are not repeated per
element; consecutive elements of one class get it from a ``<g>`` around them
(an element's role class is its own or its nearest group's). ``t0``, ``t1``...
are text styles, ``d0``, ``d1``... dash patterns. Still grid edges of one style are merged
into one path, collinear edges joined; dashed edges get a ``stroke-dasharray``
class per edge length that reproduces the raster's dashes (:data:`DASHES`, with
the half-width extension at each edge's ends). Text stays ``<text>``, placed at
``op.ax`` on ``op.baseline`` with ``text-anchor`` from ``op.align``. All text
(the title, captions) is XML-escaped.

Timing: each frame lasts ``duration`` ms; a group's animation has the whole
cycle (N x ``duration``) as its duration and the keyframes switch its
visibility at the frame boundaries (``step-end``). The base style shows frame 0,
so a viewer without CSS animation sees the first frame.

Meant to be shown alone (a file, ``<img>``, ``<object>``): inlined into an HTML
page, its class names, ids and keyframes are global and would clash with those of
another convanim SVG inlined in the same page.

Loop: ``loop`` is the number of plays, as for every animated format: 0 loops
forever, N > 0 plays it N times (the GIF writer stores N - 1 repeats, as browsers
count them); None plays it once. A finite
animation then stops on its last frame (``animation-fill-mode: forwards`` and
explicit 100% keyframes).
"""

from .document import FALLBACK_FAMILIES, animated_svg, font_family, still_svg
from .elements import LINES_CLASS, ROLE_CLASS
from .paths import escape

__all__ = ["animated_svg", "still_svg", "escape", "FALLBACK_FAMILIES", "font_family", "ROLE_CLASS", "LINES_CLASS"]

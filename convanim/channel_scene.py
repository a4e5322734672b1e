"""The scene of the iso picture of channels (:mod:`convanim.iso_channels`): colours and z-order.

Still: the input maps from the lowest to the top one (map 0), each opaque (its
padding filled with the background), then the output maps the same way, empty.
Persistent: each output value's cell, filled in its filter's colour from its step
on. A frame: the footprint's cells seen on the group's maps, the filter block's
outline in the filter's colour and the output cell's outline, over every map; the
connecting lines pass under the output map they end on (cut in the layout).

Each filter has its own colour, derived from the theme (:func:`filter_colours`):
the theme's kernel colour turned round the colour wheel, so it keeps the theme's
lightness and saturation (a grey theme gets greys of its own lightness range).
The colours go to the backends as :attr:`Scene.colours`, for the raster palette.
"""

from __future__ import annotations

import colorsys

from .fonts import Face
from .iso_channels import BLOCK_W, MAX_FILTERS, ChannelIsoLayout
from .layout import PAD, REAL
from .scene import GRID_W, Frame, Scene, Shape, _Overlay, _title, plane_ops
from .theme import CLASSIC, RGB, Theme

# Turns of the colour wheel from the theme's kernel colour, filter by filter: the first
# half a turn away (the most distinct from the input's blue family), then between.
HUES = (0.5, 0.17, 0.83, 0.33, 0.67, 0.08, 0.58, 0.92)


def filter_colours(theme: Theme, n: int) -> tuple[RGB, ...]:
    """``n`` distinct colours, one per filter, from ``theme``'s kernel colour (input_hl)."""
    r, g, b = (v / 255 for v in theme.input_hl)
    h, l, s = colorsys.rgb_to_hls(r, g, b)
    l = min(max(l, 0.45), 0.65)  # a dark kernel colour turned to orange is brown: lighter
    out: list[RGB] = []
    for k in range(n):
        if s < 0.15:  # a grey theme: greys between its kernel's and its line's lightness
            lo, hi = sorted((l, sum(theme.line) / 765))
            v = hi - (hi - lo) * (k + 1) / (MAX_FILTERS + 1)  # the same for any n
            rgb = (v, v, v)
        else:
            rgb = colorsys.hls_to_rgb((h + HUES[k % len(HUES)]) % 1.0, l, max(s, 0.55))
        c = tuple(round(x * 255) for x in rgb)
        while c in out or c in theme.colours():  # keep every colour its own palette entry
            c = (c[0], c[1], min(255, c[2] + 1) if c[2] < 255 else c[2] - 1)
        out.append(c)  # type: ignore[arg-type]
    return tuple(out)


def channel_iso_scene(layout: ChannelIsoLayout, theme: Theme = CLASSIC,
                      face: Face | None = None) -> Scene:
    t = layout.trace
    colours = filter_colours(theme, t.spec.out_channels)
    low: list = []
    for ci in reversed(range(len(layout.maps))):  # back to front: the top map last
        low += plane_ops(layout.maps[ci], {REAL: (theme.input, "input"),
                                           PAD: (theme.background, "background")},
                         theme, f"in{ci}")
    for co in reversed(range(len(layout.outs))):
        low += plane_ops(layout.outs[co], {REAL: (theme.output_empty, "output_empty")}, theme,
                         f"out{co}")

    made: dict = {}  # a shape, made once: cells recur from frame to frame

    def pieces(key, polys, fill: RGB, role: str, cell) -> tuple[Shape, ...]:
        if key not in made:
            made[key] = tuple(Shape(p, fill=fill, role=role, cell=cell) for p in polys)
        return made[key]

    dash = layout.maps[0].cell / 2  # a dashed piece's length: the grid's dashes, about

    def edge(e, colour: RGB, role: str) -> tuple[Shape, ...]:
        """A seen edge solid and wide; a hidden one dashed, as thin as the grid's lines."""
        key = (e, role)  # the same edge in another filter's block has another colour
        if key not in made:
            a, b, hidden = e
            if not hidden:
                made[key] = (Shape((a, b), stroke=colour, width=BLOCK_W, closed=False,
                                   role=role),)
            else:
                n = max(1, round(((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2) ** 0.5 / dash))
                pts = [(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n)
                       for k in range(n + 1)]
                made[key] = tuple(Shape((pts[k], pts[k + 1]), stroke=colour, width=GRID_W,
                                        dashed=True, closed=False, role=role) for k in range(n))
        return made[key]

    def fresh_of(step: int) -> tuple[Shape, ...]:
        co, r, c = (int(v) for v in t.anchor[step])
        return pieces(("out", co, r, c), layout.seen("out", co, r, c), colours[co],
                      f"filter{co}", (f"out{co}", r, c))

    overlay = _Overlay(theme, face)

    def frame_of(step: int) -> Frame:
        s = layout.frame(step)
        co = s.cell[0]
        over: list = []
        for ci, r, c, kind, polys in s.lower:
            role = "input_hl" if kind == REAL else "padding_hl"
            over += pieces(("in", ci, r, c, kind), polys, getattr(theme, role), role,
                           (f"in{ci}", r, c))
        # Hidden edges first: a seen edge is drawn over a hidden one where they meet.
        for hidden in (True, False):
            for e in s.block:
                if e[2] == hidden:
                    over += edge(e, colours[co], f"filter{co}")
            for e in s.cell_edges:
                if e[2] == hidden:
                    over += edge(e, theme.line, "line")
        texts = overlay(layout.text(step)) if layout.has_text else ()
        return Frame(fresh=fresh_of(step), over=tuple(over), texts=texts, lines=s.lines)

    # No cover: each frame's lines come cut where they pass under their output map.
    return Scene(layout.size, theme, tuple(low), (), layout.n_frames, frame_of, theme.connector,
                 None, layout.has_text, title=_title(layout), face=face,
                 fresh_of=fresh_of, colours=colours)

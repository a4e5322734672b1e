"""Whole SVG documents: a still frame, or the animation with its CSS timeline."""

from __future__ import annotations

import math

from ...fonts import Face, bundled
from ...scene import Scene
from .elements import LINES_CLASS, Styles, Writer, common_class, render
from .order import frame_runs, grouped
from .paths import escape, hex_colour, num, seg_key

# After the figure's own font, fonts most readers have, reaching CJK ones.
FALLBACK_FAMILIES = ('"Helvetica Neue",Helvetica,Arial,"Noto Sans","Noto Sans CJK SC",'
                     '"Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif')


def css_string(text: str) -> str:
    """``text`` as a CSS string: quoted, with quotes, backslashes and line breaks escaped."""
    out = "".join(f"\\{ord(c):x} " if c in '"\\' or ord(c) < 0x20 or c == "\x7f" else c
                  for c in text)
    return f'"{out}"'


def font_family(face: Face | None) -> str:
    """The font-family list: the figure's font (its family names), then the fallbacks."""
    face = face or bundled()
    return ",".join([css_string(f) for f in face.families] + [FALLBACK_FAMILIES])

SVG_NS = "http://www.w3.org/2000/svg"


def _percent(k: int, n: int) -> str:
    nd = 2 + max(0, math.ceil(math.log10(n / 100))) if n > 100 else 2
    return num(100 * k / n, nd) + "%"


def _head(scene: Scene, extra: str = "") -> str:
    w, h = scene.size
    crisp = ' shape-rendering="crispEdges"' if scene.crisp else ""
    return (f'<svg xmlns="{SVG_NS}" width="{w}" height="{h}" viewBox="0 0 {w} {h}"'
            f' xml:space="preserve"{crisp}{extra}>'
            f"<title>{escape(scene.title)}</title>")


def _style(rules: list[str]) -> str:
    # Nothing user-given goes into the style sheet; escape anyway, as XML text.
    return "<style>" + escape("\n".join(rules)).replace("&quot;", '"').replace("&#39;", "'") + "</style>"


def _base_rules(scene: Scene) -> list[str]:
    lines = (f"fill:none;stroke:{hex_colour(scene.line_colour)};"
             f"stroke-width:{num(scene.line_width, 3)};stroke-linecap:butt")
    return ["svg{stroke-linecap:square}",
            f"text{{font-family:{font_family(scene.face)};white-space:pre}}",
            f".{LINES_CLASS}{{{lines}}}"]


def _background(scene: Scene) -> str:
    if scene.theme.transparent:
        return ""  # the page shows through
    w, h = scene.size
    return f'<path fill="{hex_colour(scene.background)}" d="M0 0H{w}V{h}H0z"/>'


def still_svg(scene: Scene, step: int = 0) -> str:
    """Frame ``step`` of ``scene`` as a still SVG (no animation), from :meth:`Scene.still`:
    its shapes in z-order, the visible parts of the connecting lines, then its text
    and marks. Crisp scenes (the matrix figure) are drawn unsmoothed where the raster
    puts their pixels."""
    still = scene.still(step)
    styles = Styles()
    writer = Writer(styles, scene.crisp)
    els = writer.ops(still.shapes)
    if still.lines:
        els += writer.lines([seg_key(a, b) for a, b in still.lines])
    els += writer.ops(still.texts)
    body = render(els)
    style = _style(_base_rules(scene) + styles.css())
    return (_head(scene) + style + writer.defs_svg() + _background(scene) + body + "</svg>\n")


def animated_svg(scene: Scene, duration: int = 1000, loop: int | None = 0,
                 clock: bool = True) -> str:
    """``scene`` as an SVG that animates itself with CSS (no script): each frame shows
    for ``duration`` ms; ``loop`` the number of plays, as for every animated format
    (0: forever; None: one play), a finite animation stopping on its last frame.

    ``clock`` False leaves the animation rules out: the SVG shows frame 0 and a
    script (the HTML page) shows frame N by setting the ``visibility`` of the
    ``data-frames`` elements whose range holds N.

    See the module docstring for the structure (``data-frames``, ``data-cell``).
    """
    if duration <= 0:
        raise ValueError(f"duration: got {duration}; expected a positive number of ms")
    if loop is not None and loop < 0:
        raise ValueError(f"loop: got {loop}; expected 0 (forever), a number of plays, or None")
    n = scene.n_frames
    body, intervals, css, defs = _animated_body(scene)
    rules = _base_rules(scene) + css
    if intervals and not clock:
        rules.append('[data-frames]:not([data-frames^="0-"]){visibility:hidden}')
    elif intervals:
        total = n * duration
        dur = f"{total // 1000}s" if total % 1000 == 0 else f"{num(total, 3)}ms"
        # Longhands: a shorthand would also reset animation-name, which the rules of
        # the intervals set.
        timing = [f"animation-duration:{dur}", "animation-timing-function:step-end"]
        if loop == 0:
            timing.append("animation-iteration-count:infinite")
        else:
            timing += [f"animation-iteration-count:{1 if loop is None else loop}",
                       "animation-fill-mode:forwards"]
        rules.append(f"[data-frames]{{{';'.join(timing)}}}")
        rules.append('[data-frames]:not([data-frames^="0-"]){visibility:hidden}')
        for a, b in sorted(intervals):
            name = f"f{a}-{b - 1}"
            if a == 0:
                frames_css = f"{_percent(b, n)},to{{visibility:hidden}}"
            elif b == n:
                frames_css = f"{_percent(a, n)},to{{visibility:visible}}"
            else:
                frames_css = (f"{_percent(a, n)}{{visibility:visible}}"
                              f"{_percent(b, n)}{{visibility:hidden}}")
            rules.append(f'[data-frames="{a}-{b - 1}"]{{animation-name:{name}}}'
                         f"@keyframes {name}{{{frames_css}}}")
    extra = f' data-frames-total="{n}" data-frame-ms="{num(duration, 3)}"'
    return (_head(scene, extra) + _style(rules) + defs + _background(scene)
            + "".join(body) + "</svg>\n")


# The body of the last scene drawn: the .svg and the .html page of one figure share it
# (the page is the same drawing without the clock). One entry, held with its scene.
_last_body: list = []


def _animated_body(scene: Scene) -> tuple[list[str], set[tuple[int, int]], list[str], str]:
    """The elements of every frame, the frame ranges used, the style rules and defs."""
    if _last_body and _last_body[0][0] is scene:
        return _last_body[0][1]
    n = scene.n_frames
    styles = Styles()
    writer = Writer(styles, scene.crisp)
    frames = list(scene.frames())

    body: list[str] = [render(writer.ops(scene.low))]
    intervals: set[tuple[int, int]] = set()

    def layer(runs, draw) -> None:
        for (a, b), items in grouped(runs):
            els = draw(items)
            if (a, b) == (0, n):
                body.append(render(els))
                continue
            intervals.add((a, b))
            frames_attr = f' data-frames="{a}-{b - 1}"'
            if len(els) == 1:  # the element itself carries the range
                tag, cls, rest = els[0]
                attr = f' class="{cls}"' if cls else ""
                body.append(f"<{tag}{frames_attr}{attr}{rest}")
                continue
            cls = common_class(els)
            attr = f' class="{cls}"' if cls else ""
            body.append(f"<g{frames_attr}{attr}>" + render(els, cls) + "</g>")

    ops_of = writer.ops
    layer(frame_runs([f.under for f in frames]), ops_of)
    # Persistent shapes: each from the first frame that brings it to the last frame.
    persist: dict = {}
    for s, f in enumerate(frames):
        for op in f.fresh:
            persist.setdefault(op, s)
    layer([(op, s, n) for op, s in persist.items()], ops_of)
    body.append(render(writer.ops(scene.high)))
    layer(frame_runs([f.over for f in frames]), ops_of)
    layer(frame_runs([[seg_key(a, b) for a, b in scene.visible(f.lines)] for f in frames], False),
          writer.lines)
    layer(frame_runs([f.texts for f in frames]), ops_of)

    result = (body, intervals, styles.css(), writer.defs_svg())
    _last_body[:] = [(scene, result)]
    return result

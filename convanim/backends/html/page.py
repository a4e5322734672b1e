"""The interactive page: one self-contained HTML file around the figure's SVG.

Structure::

    <main class="ca-page">
      <h1> the title                      (HTML-escaped)
      <div class="ca-figure"> the SVG     (backends.svg, without its CSS clock)
      <div class="ca-controls"> previous | play/pause | next | frame slider | speed
      <p class="ca-step"> the arithmetic of the frame's step
      <p class="ca-detail"> what the pointed-at (or pinned) cell is made of
      <section class="ca-info"> parameters, output-size formula, the PyTorch call
    <script type="application/json" id="ca-data"> data.page_data(), escaped
    <script> page.js

No network, no framework: page.css and page.js ship with the package and are
inlined. The JSON has every ``<``, ``>`` and ``&`` written as a ``\\u`` escape, so no
text in it (a title holding ``</script>`` or ``<!--``) can end the script element.
Opened as ``page.html#embed`` (the gallery's cards) it shows only the figure, the
controls and the step, and tells its parent frame its height.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from ... import escape
from ...engine import Trace
from ...info import info_text
from ...scene import Scene
from ...textfit import contrast, luminance
from ...theme import RGB
from ..svg import animated_svg

SPEEDS = (0.25, 0.5, 1, 1.5, 2, 4)

# Button icons: drawn, not font glyphs, so they look alike in every browser and font.
_ICON = ('<svg class="ca-icon{cls}" viewBox="0 0 16 16" width="16" height="16" '
         'aria-hidden="true" focusable="false"><path fill="currentColor" d="{d}"/></svg>')
ICONS = {"prev": "M2 2h2.5v12H2zM14 2v12L5.5 8z", "next": "M11.5 2H14v12h-2.5zM2 2v12l8.5-6z",
         "play": "M4 2v12l10-6z", "pause": "M3 2h3.8v12H3zM9.2 2H13v12H9.2z"}


def _icon(name: str) -> str:
    return _ICON.format(cls=f" ca-i-{name}", d=ICONS[name])


@cache
def asset(name: str) -> str:
    """page.js or page.css, as shipped in the package."""
    text = files(__package__).joinpath(name).read_text(encoding="utf-8")
    if "</" in text or "<!--" in text:
        raise AssertionError(f"{name} must not contain '</': it is inlined into the page")
    return text


def script_json(doc: object) -> str:
    """``doc`` as JSON safe inside ``<script>`` (:func:`convanim.escape.script_json`)."""
    return escape.script_json(json.dumps(doc, separators=(",", ":"), ensure_ascii=False,
                                         allow_nan=False))


def _hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


# (text, muted text, highlight) for light and for dark backgrounds.
_ON_LIGHT = ((0x11, 0x11, 0x11), (0x4a, 0x4a, 0x4a), (0xc0, 0x00, 0x6a))
_ON_DARK = ((0xf2, 0xf2, 0xf2), (0xc4, 0xc9, 0xd0), (0xff, 0xc8, 0x3d))


def page_colours(background: RGB) -> tuple[RGB, RGB, RGB]:
    """Text, muted text and highlight colours for the figure's background: the text
    scheme (dark or light) that contrasts more with it, text at least 4.5:1 (7:1 on the
    presets); muted text that falls under 4.5:1 and a highlight under 3:1 (a mid-grey
    ``--color background=``) take the text colour instead."""
    dark_text = contrast(_ON_LIGHT[0], background) >= contrast(_ON_DARK[0], background)
    fg, muted, accent = _ON_LIGHT if dark_text else _ON_DARK
    if contrast(fg, background) < 4.5:  # near the crossover: black or white reach 4.58:1
        fg = (0, 0, 0) if dark_text else (255, 255, 255)
    if contrast(muted, background) < 4.5:
        muted = fg
    if contrast(accent, background) < 3:
        accent = fg
    return fg, muted, accent


def theme_css(background: RGB) -> str:
    """The page's colour variables for the figure's background (see :func:`page_colours`)."""
    fg, muted, accent = page_colours(background)
    panel = "rgba(0,0,0,.05)" if luminance(fg) < 0.5 else "rgba(255,255,255,.07)"
    return (f":root{{--ca-bg:{_hex(background)};--ca-fg:{_hex(fg)};--ca-muted:{_hex(muted)};"
            f"--ca-accent:{_hex(accent)};--ca-panel:{panel}}}")


def _speed_options() -> str:
    return "".join(f'<option value="{s:g}"{" selected" if s == 1 else ""}>{s:g}x</option>'
                   for s in SPEEDS)


def figure_page(t: Trace, scene: Scene, duration: int = 1000, loop: int | None = 0) -> str:
    """The interactive page of the trace ``t`` drawn as ``scene`` (see the module docstring)."""
    from .data import page_data

    n = scene.n_frames
    data = page_data(t, scene, duration, loop)
    svg = animated_svg(scene, duration, loop, clock=False).rstrip("\n")
    info = info_text(t.spec).splitlines()
    torch = info.pop()  # "PyTorch: torch.nn...."
    torch = torch.split(": ", 1)[1]
    title = escape.html_text(scene.title)
    esc = escape.html_text
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f"<style>{theme_css(scene.background)}\n{asset('page.css')}</style>\n</head>\n<body>\n"
        '<main class="ca-page">\n'
        f'<h1 class="ca-title">{title}</h1>\n'
        # Up to 1.5 times the drawn size where there is room: the SVG scales as vectors.
        f'<div class="ca-figure" style="--ca-w:{scene.size[0]}px">{svg}</div>\n'
        '<div class="ca-controls" role="group" aria-label="animation">'
        '<button type="button" class="ca-prev" aria-label="previous frame" '
        f'title="previous frame (left arrow)">{_icon("prev")}</button>'
        '<button type="button" class="ca-play" aria-label="pause" '
        f'title="play / pause (space)">{_icon("play")}{_icon("pause")}</button>'
        '<button type="button" class="ca-next" aria-label="next frame" '
        f'title="next frame (right arrow)">{_icon("next")}</button>'
        '<label class="ca-frame"><span class="ca-word">frame</span> '
        '<input type="range" class="ca-slider" min="0" '
        f'max="{n - 1}" value="0" step="1"></label>'
        f'<output class="ca-pos" aria-live="off">1 / {n}</output>'
        f'<label class="ca-speed-label">speed <select class="ca-speed">{_speed_options()}'
        "</select></label></div>\n"
        f'<p class="ca-step">{esc(data["text"][0])}</p>\n'
        '<p class="ca-detail" aria-live="polite">Point at (or tap) an output cell to see the '
        "input cells and weights that make it, or an input cell to see the outputs it feeds; "
        "click to pin, Escape to clear.</p>\n"
        '<section class="ca-info" aria-label="parameters">'
        f'<pre class="ca-params">{esc(chr(10).join(info))}</pre>'
        f'<div class="ca-torch"><code>{esc(torch)}</code>'
        '<button type="button" class="ca-copy" aria-label="copy the PyTorch call">copy</button>'
        "</div></section>\n</main>\n"
        f'<script type="application/json" id="ca-data">{script_json(data)}</script>\n'
        f"<script>{asset('page.js')}</script>\n</body>\n</html>\n"
    )

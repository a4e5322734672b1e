"""The gallery's index.html: one card per figure, built on the figures' own pages.

A figure with an interactive page (``NAME.html``, the "html" format) is shown by that
page in its embedded form (``NAME.html#embed``: the figure, its controls and the step),
so pause and step act on the very frame the reader sees, by the figure's own clock;
the card's title opens the full page. A figure without one shows its first picture
(the matrix figure, a still, spans the whole row and opens full size). Each embedded
page reports its height, and the index sizes its frame to it.

The heading says how many figures are rendered, whether the run that wrote the page
was interrupted, and the command that regenerates it (the run's own spec file and
output folder). Everything taken from the spec or the run is HTML-escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..escape import html_text

esc = html_text


@dataclass(frozen=True)
class Card:
    """One figure as the index shows it."""

    name: str
    command_line: str
    summary: str                 # "5x5 -> 3x3, 9 frames", plain text
    formula: tuple[str, ...]     # output-size formula lines
    files: tuple[str, ...]       # the figure's outputs (NAME.gif, NAME.html, ...)
    rendered: bool
    page: str | None = None      # NAME.html, when written
    image: str | None = None     # the picture shown when there is no page
    wide: bool = False           # spans the row (the matrix figure)
    animated: bool = False       # an animation (then a page would let the reader step it)


@dataclass(frozen=True)
class Run:
    """What the heading says about the run that wrote the page."""

    spec_name: str
    command: str                 # the command that regenerates this folder
    interrupted: bool = False


STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  margin: 1.2rem; color: #1b1b1b; background: #f6f6f6; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr));
  gap: 1rem; }
.card { margin: 0; padding: .6rem; background: #fff; border: 1px solid #d4d4d4; border-radius: 6px;
  min-width: 0; }
.card.wide { grid-column: 1 / -1; }
.card iframe { display: block; width: 100%; height: 340px; border: 0; }
.card img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: .85rem; margin-top: .4rem; overflow-wrap: anywhere; }
figcaption b { font-size: 1.05rem; }
code { font-size: .9em; background: #efefef; padding: 0 .2em; }
.formula { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: .78rem;
  color: #3d3d3d; }
.missing { color: #a00000; }
.hint { color: #4a4a4a; font-style: italic; }
.warning { background: #fff3cd; border: 1px solid #c9a227; padding: .4rem .6rem; border-radius: 4px; }
a { color: #0b57b0; }
"""

# Sizes each card's frame to the height its page reports (postMessage works from file://).
SCRIPT = """
window.addEventListener("message", function (e) {
  var d = e.data;
  if (!d || d.convanim !== "height" || !(d.height > 0)) return;
  document.querySelectorAll("iframe").forEach(function (f) {
    if (f.contentWindow === e.source) f.style.height = Math.ceil(d.height) + "px";
  });
});
"""


def _card(c: Card) -> str:
    if not c.rendered:
        picture = '<p class="missing">not rendered (see the errors of the last run)</p>'
    elif c.page:
        picture = (f'<iframe src="{esc(c.page)}#embed" title="{esc(c.name)}: the interactive '
                   'figure (space: play or pause, arrows: step)" loading="lazy"></iframe>')
    elif c.image:
        picture = (f'<a href="{esc(c.image)}" title="open full size"><img src="{esc(c.image)}" '
                   f'alt="{esc(c.name)}" loading="lazy"></a>')
    else:
        picture = ""
    title = f'<a href="{esc(c.page)}">{esc(c.name)}</a>' if c.rendered and c.page else esc(c.name)
    links = " ".join(f'<a href="{esc(f)}">{esc(f.rsplit(".", 1)[-1])}</a>' for f in c.files)
    lines = "".join(f'<div class="formula">{esc(f)}</div>' for f in c.formula)
    if c.rendered and c.animated and not c.page:
        lines += '<div class="hint">add "html" to its formats to pause and step it here</div>'
    cls = "card wide" if c.wide else "card"
    return (f'<figure class="{cls}" id="{esc(c.name)}">\n{picture}\n'
            f"<figcaption><b>{title}</b> {esc(c.summary)}<br>"
            f"<code>{esc(c.command_line)}</code>{lines}<div>{links}</div></figcaption>\n"
            "</figure>")


def index_html(cards: Sequence[Card], run: Run) -> str:
    """The whole page (see the module docstring)."""
    done = sum(c.rendered for c in cards)
    if run.interrupted:
        status = (f'<p class="warning" role="status">The run that wrote this page was interrupted: '
                  f"{done} of {len(cards)} figures are rendered. Run the command below again to "
                  "finish.</p>")
    elif done < len(cards):
        status = (f'<p class="warning" role="status">{done} of {len(cards)} figures are rendered; '
                  "the others failed (see the errors of the last run).</p>")
    else:
        status = ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # The listener before any card's frame: a page may report as soon as it loads.
        f"<title>convanim gallery</title>\n<style>{STYLE}</style>\n<script>{SCRIPT}</script>\n"
        "</head>\n<body>\n"
        "<h1>convanim gallery</h1>\n"
        f"<p>{done} figure{'s' if done != 1 else ''} from <code>{esc(run.spec_name)}</code>; "
        "every frame is one kernel placement. Each figure plays by itself: pause it and step it "
        "with the buttons under it (or space and the arrow keys once it has focus), point at "
        "a cell to see where its value comes from; its name opens the full page.</p>\n"
        f"{status}\n<p>Regenerate: <code>{esc(run.command)}</code></p>\n"
        '<div class="grid">\n' + "\n".join(_card(c) for c in cards) + "\n</div>\n"
        "</body>\n</html>\n"
    )

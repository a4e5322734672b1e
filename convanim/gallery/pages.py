"""README.md and index.html of a gallery, and the --list listing."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Sequence
from urllib.parse import quote


from .. import writer
from ..escape import md_code, md_text, terminal
from ..api import check_drawable
from ..info import dims, info_dict
from ..params import SpecError
from .entry import Entry, INDEX, PICTURES, README, REGENERATE


def formula(entry: Entry) -> list[str]:
    """The output-size formula with the numbers, one line per axis (one when both agree)."""
    if entry.spec is None:
        return []
    d = info_dict(entry.spec)
    h, w = (a["formula"] for a in d["axes"])
    return [h] if h == w else [f"height: {h}", f"width: {w}"]


def _shape(entry: Entry) -> str:
    if entry.spec is None:
        return ""
    s = entry.spec
    shape_in, shape_out = ((s.input_shape, s.output_shape) if s.channels  # 3x5x5 -> 2x3x3
                           else (s.input_size, s.output_size))
    return f"{dims(shape_in)} &rarr; {dims(shape_out)}, {s.n_steps} frames"


def _steppable(entry: Entry) -> bool:
    """An animation that a page could show (the index then hints at adding "html")."""
    if entry.spec is None or "--frame" in entry.args:
        return False
    args = entry.args
    style = args[args.index("--style") + 1] if "--style" in args[:-1] else "iso"
    try:  # the library's own rule of what a page shows
        check_drawable(entry.spec, style)
    except SpecError:
        return False
    return True


def _image(entry: Entry) -> str | None:
    return next((f"{entry.name}.{f}" for f in PICTURES if f in entry.formats), None)


def index_html(entries: Sequence[Entry], manifest: dict[str, dict], spec_name: str,
               command: str = REGENERATE, interrupted: bool = False) -> str:
    """The index page (convanim.gallery.index) of ``entries`` as the manifest has them."""
    from . import index as gp

    cards = []
    for e in entries:
        rec = manifest.get(e.name)
        files = set((rec or {}).get("files", []))
        pages = [f"{e.name}.{f}" for f in e.formats if f == "html" and f"{e.name}.{f}" in files]
        cards.append(gp.Card(
            e.name, e.command_line, html.unescape(_shape(e)), tuple(formula(e)), e.outputs,
            rec is not None, pages[0] if pages else None, _image(e),
            wide=e.command == "matrix", animated=_steppable(e)))
    return gp.index_html(cards, gp.Run(spec_name, command, interrupted))


def readme_md(entries: Sequence[Entry], manifest: dict[str, dict], spec_name: str,
              linked: bool = False) -> str:
    """The gallery's README.md; every value from the spec goes through :mod:`convanim.escape`."""
    rows = []
    for e in entries:
        image = _image(e)
        picture = (f"![{md_text(e.name)}]({quote(image)})" if image and e.name in manifest
                   else "(not rendered)")
        size = md_text(_shape(e).replace("&rarr;", "→"))
        rule = "<br>".join(md_code(f) for f in formula(e))
        rows.append(f"| {picture} | **{md_text(e.name)}**<br>{md_code(e.command_line)}<br>"
                    f"{size}<br>{rule} |")
    spec = md_code(spec_name)
    return (
        "# convanim gallery\n\n"
        "Rendered by `convanim gallery` from "
        + (f"[{spec}]({quote(spec_name)})" if linked else spec)
        + "; every frame is one "
        "kernel placement, every number comes from convanim's engine. Open "
        "[index.html](index.html) from disk to pause an animation and step through its frames.\n\n"
        f"Regenerate after changing the spec or the renderer:\n\n```\n{REGENERATE}\n```\n\n"
        "| figure | parameters |\n|---|---|\n" + "\n".join(rows) + "\n")


def write_index(entries: Sequence[Entry], out: Path, manifest: dict[str, dict],
                spec_name: str = "gallery.toml", command: str = REGENERATE,
                interrupted: bool = False) -> None:
    writer.write_text(out / INDEX, index_html(entries, manifest, spec_name, command, interrupted))
    writer.write_text(out / README, readme_md(entries, manifest, spec_name,
                                              linked=(out / spec_name).is_file()))


def listing(entries: Sequence[Entry]) -> str:
    """One line per figure: name, command line, files."""
    width = max((len(e.name) for e in entries), default=0)
    return "\n".join(f"{e.name:<{width}}  {terminal(e.command_line)}  [{', '.join(e.formats)}]"
                     for e in entries)

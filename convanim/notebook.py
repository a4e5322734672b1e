"""Jupyter: a trace shows itself as its animation, ``show`` returns one to display.

An :class:`Animation` holds the bytes of one rendered file; notebooks call its
``_repr_html_`` and show an ``<img>`` with the GIF (or SVG) inline as base64.
A notebook keeps what it shows in the .ipynb file, so :func:`show` draws small
(cell 24 px) unless told otherwise.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from . import api
from .engine import Trace
from .escape import html_text
from .params import SpecError

NOTEBOOK_CELL = 24  # px: a 5x5 convolution is about 190 px wide, its GIF some 20 KB
MIME = {"gif": "image/gif", "svg": "image/svg+xml", "webp": "image/webp", "png": "image/png"}


@dataclass(frozen=True)
class Animation:
    """A rendered figure: ``data`` in ``format`` (gif, svg, webp, png), shown inline by Jupyter."""

    data: bytes
    format: str = "gif"
    title: str = ""

    def _repr_html_(self) -> str:
        src = f"data:{MIME[self.format]};base64,{base64.b64encode(self.data).decode('ascii')}"
        return f'<img src="{src}" alt="{html_text(self.title)}">'

    def save(self, path) -> None:
        """Write the bytes to ``path`` (as they are: the format is already chosen)."""
        with open(path, "wb") as fp:
            fp.write(self.data)


def show(t: Trace, look: api.Look | None = None, *, format: str = "gif", duration: int = 1000,
         loop: int = 0, **loose) -> Animation:
    """``t`` rendered as an :class:`Animation` to display in a notebook (the last line
    of a cell, or IPython's ``display``). ``look`` and the loose options as in
    :func:`api.save`; the cell defaults to :data:`NOTEBOOK_CELL`."""
    if format not in MIME:
        raise SpecError(f"format: got {format!r}; a notebook shows {', '.join(MIME)}")
    if look is None and "cell" not in loose:
        loose["cell"] = NOTEBOOK_CELL
    buf = io.BytesIO()
    api.save(t, buf, look, format=format, duration=duration, loop=loop, **loose)
    return Animation(buf.getvalue(), format, t.spec.short_name())


def trace_html(t: Trace) -> str:
    """A trace's ``_repr_html_``: its animation; a trace above the limits says so instead."""
    try:
        return show(t)._repr_html_()
    except SpecError as err:  # too many frames for a notebook: the reason, not a traceback
        return f"<pre>{html_text(f'{t.spec.short_name()}: {err}')}</pre>"

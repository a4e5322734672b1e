"""The HTML backend: a trace and its scene in, one self-contained interactive page out.

:func:`figure_page` (see :mod:`.page` for the page's structure, :mod:`.data` for the
data its script reads). page.js and page.css are package data, inlined into the page.
"""

from .page import figure_page, script_json

__all__ = ["figure_page", "script_json"]

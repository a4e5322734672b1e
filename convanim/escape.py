"""One escaping function per output context, for every value that comes from a user.

Titles, captions, file names and spec names reach HTML pages, Markdown, SVG and the
terminal. Each context has its own rule, and a value is escaped where it is written,
by the function for that context, never by hand at the call site:

- :func:`html_text`: HTML text and attribute values (``& < > " '``).
- :func:`xml_text`: the same for XML (SVG), where most control characters cannot appear at all.
- :func:`md_code`: a Markdown code span (in a table cell) that no backtick, pipe or newline
  in the value can end early (the value is shown literally, as code).
- :func:`md_text`: Markdown running text (every punctuation mark that Markdown or its HTML
  could read as markup is backslash-escaped or written as an entity).
- :func:`terminal`: one printable line: control characters, line and paragraph separators
  are shown as Python escapes, so a name cannot move the cursor or fake another message.
"""

from __future__ import annotations

import html
import re

__all__ = ["html_text", "xml_text", "md_code", "md_text", "terminal", "script_json"]


def html_text(value: object) -> str:
    """``value`` as HTML/XML text or a quoted attribute value."""
    return html.escape(str(value), quote=True)


_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """``value`` as XML character data or a double-quoted attribute value.

    Characters XML 1.0 cannot carry at all (most control characters, lone
    surrogates) become U+FFFD.
    """
    return html_text(_BAD_XML.sub("\ufffd", str(value))).replace("&#x27;", "&#39;")


def terminal(value: object) -> str:
    """``value`` on one line with every non-printable character escaped (``\\n``, ``\\x1b``)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


_BACKTICKS = re.compile(r"`+")


def md_code(value: object) -> str:
    """``value`` as an inline Markdown code span, shown literally.

    A code span ends at a backtick run as long as its fence, so the fence is one longer
    than the longest run inside; newlines (which would end a table row) and control
    characters are escaped as by :func:`terminal`, and ``|`` as ``\\|``: the table parser
    splits cells before it reads code spans (GFM), and shows ``\\|`` inside a span as ``|``.
    Meant for table cells, where every value here goes. The span content is never read
    as HTML, so ``<`` needs nothing.
    """
    text = terminal(value)
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    text = text.replace("|", "\\|")
    # A space on each side keeps a leading or trailing backtick from joining the fence.
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MD_SPECIAL = re.compile(r"([\\`*_\[\]!|~])")


def md_text(value: object) -> str:
    """``value`` as Markdown running text: no markup, no HTML, one line."""
    text = html.escape(terminal(value), quote=True)  # & < > " ' as entities
    return _MD_SPECIAL.sub(r"\\\1", text)


def script_json(text: str) -> str:
    """JSON text made safe inside an HTML ``<script>`` element.

    ``</script>`` or ``<!--`` inside a string would end or change the element; ``\\u003c``
    is the same character to the JSON parser. U+2028/9 are escaped for old JS engines.
    """
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))

"""convanim.escape: each context's rule, checked with a real parser where one exists."""

from html.parser import HTMLParser

import pytest

from convanim.escape import html_text, md_code, md_text, script_json, terminal, xml_text

HOSTILE = ["`", "``a``", "a`b", "|", "x | y", "<img src=x onerror=alert(1)>", "line\nbreak",
           "\r\n", "\x1b[31mred", "\u2028", "*bold* _em_ [a](b) ![i](j)", "&amp; &lt;",
           "' \" \\", "</script><script>alert(1)</script>", "<!-- c", "", " ", "`a", "a`"]


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def tags_of(page: str) -> list[tuple[str, list]]:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser.tags


@pytest.mark.parametrize("value", HOSTILE)
def test_html_text_makes_no_element_and_keeps_the_text(value):
    assert tags_of(f"<p title=\"{html_text(value)}\">{html_text(value)}</p>") == \
        [("p", [("title", value)])]


@pytest.mark.parametrize("value", HOSTILE)
def test_terminal_is_one_printable_line(value):
    shown = terminal(value)
    assert shown.isprintable() and "\n" not in shown
    if value.isprintable():
        assert shown == value


def test_xml_text_replaces_what_xml_cannot_hold():
    assert xml_text("a\x00b\x1b<") == "a\ufffdb\ufffd&lt;"
    assert xml_text("'") == "&#39;"


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_code_span_and_text_stay_literal_in_a_table_cell(value):
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is in the test extra")
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    page = md.render(f"| a | b |\n|---|---|\n| {md_code(value)} | x{md_text(value)}x |\n")
    tags = [t for t, _ in tags_of(page)]
    # One row of two cells: no cell split by a pipe, no row ended by a newline, no new element.
    assert tags == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "code", "td"], page
    code = page.split("<code>", 1)[1].split("</code>", 1)[0]
    import html
    assert html.unescape(code).strip() == terminal(value).strip() or not value.strip()
    cell = page.rsplit("<td>", 1)[1].split("</td>", 1)[0]
    assert html.unescape(cell) == f"x{terminal(value)}x".strip() or not value.strip()


def test_script_json_cannot_end_the_script_element():
    text = script_json('{"t": "</script><!-- \u2028"}')
    assert "</" not in text and "<!--" not in text and "\u2028" not in text
    import json
    assert json.loads(text) == {"t": "</script><!-- \u2028"}

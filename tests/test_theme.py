"""Themes: presets of one Theme, --theme / --color, errors, greyscale-safe print."""

from itertools import combinations

import numpy as np
import pytest

import convanim as ca
from convanim.cli import main
from convanim.params import SpecError
from convanim.theme import CLASSIC, DARK, PRINT, ROLES, THEMES, Theme, theme_named

SHAPE_ROLES = ("background", "input", "input_hl", "padding_hl", "output", "output_hl",
               "output_empty", "line", "crop", "connector")


def grey(c):
    """ITU-R 601 luma, as Pillow's convert('L')."""
    return c[0] * 299 / 1000 + c[1] * 587 / 1000 + c[2] * 114 / 1000


def test_presets_are_themes_and_classic_is_the_default():
    assert set(THEMES) == {"classic", "light", "dark", "print"}
    assert all(isinstance(t, Theme) for t in THEMES.values())
    assert THEMES["classic"] == Theme() == CLASSIC
    assert theme_named("Dark") is DARK


def test_print_roles_have_distinct_lightness():
    values = [grey(getattr(PRINT, r)) for r in SHAPE_ROLES]
    for a, b in combinations(values, 2):
        assert abs(a - b) >= 20


def test_print_frame_in_greyscale_keeps_the_roles_apart():
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    frame = ca.render(t, theme="print", style="flat", numbers=False)[4].convert("L")
    counts = dict((v, n) for n, v in frame.getcolors(256))
    # Each fill role shows up as its own grey, with a real area of pixels.
    for role in ("background", "input", "input_hl", "output", "output_hl", "output_empty"):
        g = round(grey(getattr(PRINT, role)))
        near = sum(n for v, n in counts.items() if abs(v - g) <= 1)
        assert near > 200, role


def test_color_overrides_map_roles_onto_fields():
    t = theme_named("classic", {"input": "#123456", "kernel": "#abc", "line": "000000",
                                "highlight": "#ff0000", "padding": "#00ff00", "text": "#010203"})
    assert t.input == (0x12, 0x34, 0x56) and t.input_hl == (0xAA, 0xBB, 0xCC)
    assert t.line == t.connector == (0, 0, 0)
    assert t.output_hl == (255, 0, 0) and t.padding_hl == (0, 255, 0) and t.text == (1, 2, 3)
    assert t.output == CLASSIC.output
    assert set(ROLES) == {"input", "output", "padding", "kernel", "highlight", "background",
                          "line", "text"}


@pytest.mark.parametrize("name, colours, words", [
    ("neon", {}, ["theme", "'neon'", "classic, light, dark, print"]),
    ("classic", {"fill": "#fff"}, ["color", "'fill'", "input, output, padding"]),
    ("classic", {"input": "blue"}, ["color", "input='blue'", "#rrggbb"]),
])
def test_bad_theme_role_colour(name, colours, words):
    with pytest.raises(SpecError) as err:
        theme_named(name, colours)
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("args, words", [
    (["--theme", "neon"], ["theme", "neon", "allowed"]),
    (["--color", "fill=#fff"], ["color", "fill", "allowed roles"]),
    (["--color", "input=#12"], ["color", "#12", "#rrggbb"]),
    (["--color", "input"], ["color", "ROLE=#hex"]),
    (["--style", "cubist"], ["--style", "cubist"]),
])
def test_cli_theme_errors_one_line_status_2_no_file(args, words, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["conv", "--i", "5", "--k", "3", "-o", str(tmp_path / "a.gif")] + args)
    _, err = capsys.readouterr()
    assert exc.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convanim: error: ")
    assert all(w in lines[0] for w in words)
    assert list(tmp_path.iterdir()) == []


def test_cli_color_reaches_the_pixels(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["conv", "--i", "4", "--k", "3", "--color", "input=#ff00ff", "--frames",
              str(tmp_path / "f"), "-o", str(tmp_path / "a.gif")])
    assert exc.value.code == 0
    from PIL import Image
    first = sorted((tmp_path / "f").iterdir())[0]
    rgb = np.asarray(Image.open(first).convert("RGB"))
    assert np.all(rgb == (255, 0, 255), axis=2).sum() > 100
    assert not np.all(rgb == CLASSIC.input, axis=2).any()


@pytest.mark.parametrize("name", list(THEMES))
def test_every_theme_renders_its_background(name):
    f = ca.render(ca.trace_of(ca.conv2d(4, 3)), theme=name, numbers=True)[0].convert("RGB")
    assert f.getpixel((1, 1)) == THEMES[name].background

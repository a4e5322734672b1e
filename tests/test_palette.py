"""PaletteMap: exact nearest colour without BLAS, ties to the lowest index; no BLAS threads."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from convanim.backends.raster.palette import PaletteMap, palette_colours
from convanim.theme import THEMES, theme_named

ROOT = Path(__file__).resolve().parent.parent


def distances(colours: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Squared distance of every colour to every entry, in integers."""
    return ((rgb[:, None, :].astype(np.int64) - colours[None, :, :].astype(np.int64)) ** 2).sum(axis=2)


def brute_force(colours: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """The nearest entry; argmin takes the first, so ties go to the lowest index."""
    return distances(colours, rgb).argmin(axis=1)


def tied_colours(colours: np.ndarray) -> np.ndarray:
    """Midpoints of pairs of entries with whole-number midpoints: equally far from both."""
    a, b = np.triu_indices(len(colours), 1)
    mid2 = colours[a] + colours[b]
    whole = (mid2 % 2 == 0).all(axis=1)
    return np.unique(mid2[whole] // 2, axis=0)


@pytest.mark.parametrize("name", THEMES)
@pytest.mark.parametrize("text", [False, True])
def test_lookup_equals_brute_force_nearest_colour(name, text):
    colours = palette_colours(theme_named(name), text)
    rng = np.random.default_rng(len(name) + text)
    rgb = np.concatenate([rng.integers(0, 256, (5_000, 3)), colours, tied_colours(colours)])
    d = distances(colours, rgb)
    want = d.argmin(axis=1)
    # Some of these are true ties between entries: the lowest index must win.
    assert ((d == d.min(axis=1, keepdims=True)).sum(axis=1) > 1).any()
    pm = PaletteMap(colours)
    got = pm.indices_rgb(rgb)
    assert np.array_equal(got, want)
    # Remembered answers agree with fresh ones, in any order and in chunks of any size.
    again = PaletteMap(colours)
    again.CHUNK = 7
    order = rng.permutation(len(rgb))
    assert np.array_equal(again.indices_rgb(rgb[order]), want[order])
    assert np.array_equal(again.indices_rgb(rgb), want)
    # The last index repeats the first and is never an answer (the GIF's transparent index).
    assert (got != 255).all()


def test_indices_of_an_image_match_indices_rgb():
    from PIL import Image

    colours = palette_colours(theme_named("classic"), True)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (37, 53, 3)).astype(np.uint8)
    pm = PaletteMap(colours)
    got = pm.indices(Image.fromarray(a, "RGB"))
    assert got.shape == (37, 53)
    assert np.array_equal(got.ravel(), brute_force(colours, a.reshape(-1, 3)))


@pytest.mark.parametrize("orig_argv, argv0, expected", [
    (["python", "-m", "convanim", "conv"], "-m", True),
    (["python", "-X", "dev", "-mconvanim", "conv"], "-m", True),
    (["/usr/bin/python3", "/usr/local/bin/convanim", "conv", "-m"], "/usr/local/bin/convanim", True),
    (["python", "-m", "pytest", "-q"], "-m", False),
    (["python", "-c", "import convanim"], "-c", False),
    (["python", "-W", "error", "my_script.py", "-m", "convanim"], "my_script.py", False),
])
def test_the_command_is_told_apart_from_programs_importing_the_library(
        orig_argv, argv0, expected, monkeypatch):
    import convanim

    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    monkeypatch.setattr(sys, "argv", [argv0] + orig_argv[2:])
    assert convanim._is_command_line() is expected


def test_the_command_starts_no_blas_threads_and_a_program_keeps_its_own(tmp_path):
    """OPENBLAS_NUM_THREADS=1 is set before numpy loads in the command, not in a program."""
    probe = "import os, convanim\nprint(os.environ.get('OPENBLAS_NUM_THREADS'))\n"
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    env["PYTHONPATH"] = str(ROOT)
    for name, expected in (("convanim", "1"), ("my_program.py", "None")):
        script = tmp_path / name
        script.write_text(probe)
        out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                             text=True, check=True).stdout
        assert out.strip() == expected, name


# Review item 2: the connecting lines are blended at thirds (canvas.LINE_LEVELS); on a
# transparent background with extra colours (the filters of channels) each third must map
# to the connector at that opacity, not to an opaque blend of some other pair.
# Without extra colours the palettes are kept as they were: only classic without text
# (5 steps a pair) holds thirds there.
@pytest.mark.parametrize("name, text, n", [("classic", False, 0)] + [
    (name, text, n) for name in THEMES for text in (False, True) for n in (1, 2, 5, 8)])
def test_line_thirds_over_a_transparent_background_are_the_connector_at_partial_alpha(
        name, text, n):
    from convanim.backends.raster.palette import LINE_LEVELS, palette_alpha
    from convanim.scene import filter_colours
    theme = theme_named(name).with_transparent()
    extra = tuple(filter_colours(theme, n)) if n else ()
    m = PaletteMap(palette_colours(theme, text, extra))
    alpha = palette_alpha(theme, text, extra)
    for k in range(1, LINE_LEVELS):
        at = int(m.blend(np.zeros(1, dtype=np.int64), theme.connector,
                         np.array([k / LINE_LEVELS]))[0])
        assert tuple(alpha[at]) == (*theme.connector, round(255 * k / LINE_LEVELS)), (k, at)


def test_line_edges_of_eight_filters_on_a_transparent_background_keep_alpha(tmp_path):
    """The reviewer's figure: the lines' edges are the connector at alpha, as with 2 filters."""
    import convanim as ca
    from convanim.theme import CLASSIC
    counts = {}
    for cout, frame in ((2, 14), (8, 60)):
        path = tmp_path / f"t{cout}.png"
        t = ca.trace_of(ca.conv2d(5, 3, in_channels=3 if cout == 8 else 2, out_channels=cout))
        ca.save(t, path, frame=frame, transparent=True)
        from PIL import Image
        with Image.open(path) as im:
            a = np.asarray(im.convert("RGBA")).reshape(-1, 4)
        edge = (a[:, :3] == CLASSIC.connector).all(axis=1) & (a[:, 3] > 0) & (a[:, 3] < 255)
        counts[cout] = int(edge.sum())
        # the opaque halo colours the reviewer found on the old palette
        for halo in ((174, 188, 190, 255), (106, 112, 113, 255)):
            assert int((a == halo).all(axis=1).sum()) < 10, (cout, halo)
    assert counts[2] > 100 and counts[8] > 2 * counts[2], counts


def test_figures_of_one_palette_share_its_map_and_the_colours_it_found():
    # Each still picture's first lookup finds the nearest entry of every colour it holds;
    # figures of one theme share one map per process, so later figures find them known.
    from convanim.backends.raster.canvas import Canvas
    from convanim.backends.raster.palette import palette_map
    from convanim.theme import CLASSIC
    a = Canvas((10, 10), CLASSIC, text=True)
    b = Canvas((30, 20), CLASSIC, text=True, extra=[[1, 2, 3]])
    c = Canvas((40, 40), CLASSIC, text=True, extra=((1, 2, 3),))
    assert a.to_palette is Canvas((5, 5), CLASSIC, text=True).to_palette
    assert b.to_palette is c.to_palette and b.to_palette is not a.to_palette
    assert Canvas((5, 5), CLASSIC).to_palette is not a.to_palette  # other entries
    assert np.array_equal(a.to_palette.colours, palette_colours(CLASSIC, True))
    assert np.array_equal(b.to_palette.colours, palette_colours(CLASSIC, True, ((1, 2, 3),)))
    assert palette_map(CLASSIC, True) is a.to_palette


@pytest.mark.parametrize("name,clear", [("classic", False), ("dark", False), ("classic", True)])
def test_blends_at_a_few_opacities_are_looked_up_as_blended(name, clear):
    # PaletteMap.levels: blends of each entry with a colour at k / levels, made once and
    # looked up, equal to blending each pixel (a transparent page's opaque entries too).
    from convanim.backends.raster.palette import palette_map

    theme = theme_named(name)
    theme = theme.with_transparent() if clear else theme
    pm = palette_map(theme, True, ((200, 30, 90),))
    index = np.arange(255, dtype=np.intp)
    for colour, levels in ((theme.connector, 3), ((200, 30, 90), 9)):
        table = pm.levels(colour, levels)
        assert table is pm.levels(colour, levels)
        for k in range(levels + 1):
            want = pm.blend(index, colour, np.full(len(index), k / levels))
            assert np.array_equal(table[k * 256 + index], want)

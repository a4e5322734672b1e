"""Frames and files: counts, sizes, determinism, golden frames."""

import numpy as np
import pytest
from PIL import Image, ImageSequence

import convanim as ca
from convanim.iso import iso_layout
from convanim.backends.raster import palette_colours
from convanim.theme import CLASSIC

from golden import check_frame, diff_fraction

GOLDEN_CASES = {
    "conv_i5_k3_s2_p1": (ca.conv2d(5, 3, 2, 1), [0, 4, 8]),
    "conv_i6_k3_s2_p1": (ca.conv2d(6, 3, 2, 1), [8]),
    "conv_i7_k3_d2": (ca.conv2d(7, 3, 1, 0, 2), [0]),
    "conv_i5x7_k3x2_s2x1_p1x0": (ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0)), [5]),
    "tconv_of_i6_k3_s2_p1": (ca.transpose_of(ca.conv2d(6, 3, 2, 1)), [1, 35]),
    "tconv_i3_k3_s2_p1_scatter": (ca.conv_transpose2d(3, 3, 2, 1, view="scatter"), [0, 4]),
}


@pytest.mark.parametrize("name", list(GOLDEN_CASES))
def test_golden_frames(name, regen_golden):
    spec, indices = GOLDEN_CASES[name]
    frames = ca.render(ca.trace_of(spec))
    for n in indices:
        check_frame(f"{name}_{n}", frames[n], regen_golden)


def test_golden_check_can_fail():
    spec, _ = GOLDEN_CASES["conv_i5_k3_s2_p1"]
    frames = ca.render(ca.trace_of(spec))
    assert diff_fraction(frames[0], frames[1]) > 0.002  # one step apart is a visible change


@pytest.mark.parametrize("spec", [
    ca.conv2d(5, 3, 2, 1), ca.conv2d(4, 3), ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0)),
    ca.conv_transpose2d(3, 3, 2, 1, output_padding=1),
    ca.conv_transpose2d(2, 2, 2, view="scatter"),
], ids=lambda s: s.short_name())
def test_gif_frames_size_and_timing(spec, tmp_path):
    t = ca.trace_of(spec)
    path = ca.save(t, tmp_path / "a.gif", duration=250, loop=3)
    with Image.open(path) as im:
        assert im.n_frames == spec.n_steps
        assert im.size == iso_layout(t).size
        assert im.info["duration"] == 250
        assert im.info["loop"] == 2  # three plays: two repeats after the first


def test_same_arguments_give_identical_bytes(tmp_path):
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    a = ca.save(t, tmp_path / "a.gif").read_bytes()
    b = ca.save(ca.trace_of(ca.conv2d(5, 3, 2, 1)), tmp_path / "b.gif").read_bytes()
    assert a == b


def test_gif_frames_show_the_highlight_moving(tmp_path):
    spec = ca.conv2d(5, 3, 2, 1)
    path = ca.save(ca.trace_of(spec), tmp_path / "a.gif")
    with Image.open(path) as im:
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    hl = np.array(CLASSIC.output_hl)
    centres = []
    for f in frames:
        ys, xs = np.nonzero(np.all(f == hl, axis=2))
        centres.append((xs.mean(), ys.mean()))
    assert len(set((round(x), round(y)) for x, y in centres)) == len(frames)


def test_frames_use_only_the_fixed_palette():
    frames = ca.render(ca.trace_of(ca.conv2d(4, 3)))
    pal = palette_colours(CLASSIC)
    allowed = {tuple(c) for c in pal}
    for f in frames:
        colours = {c for _, c in f.convert("RGB").getcolors(1 << 16)}
        assert colours <= allowed
        assert tuple(CLASSIC.background) in colours and tuple(CLASSIC.input) in colours


@pytest.mark.parametrize("suffix", [".webp", ".png"])
def test_other_animation_formats(suffix, tmp_path):
    spec = ca.conv2d(4, 3)
    path = ca.save(ca.trace_of(spec), tmp_path / f"a{suffix}")
    with Image.open(path) as im:
        assert im.n_frames == 4
        assert getattr(im, "is_animated", False)


def test_frames_dir_writes_numbered_pngs(tmp_path):
    ca.save(ca.trace_of(ca.conv2d(4, 3)), tmp_path / "a.gif", frames_dir=tmp_path / "f")
    names = sorted(p.name for p in (tmp_path / "f").iterdir())
    assert names == [f"a_{n:04d}.png" for n in range(1, 5)]


def test_canvas_at_least_the_reference_size():
    # Reference canvases (shared/reference/README.md) at the default cell size.
    for spec, (w, h) in [(ca.conv2d(5, 3, 2, 1), (395, 381)), (ca.conv2d(4, 3), (244, 259)),
                         (ca.conv2d(7, 3, 1, 0, 2), (395, 381)), (ca.conv2d(6, 3, 2, 1), (445, 411))]:
        cw, ch = iso_layout(ca.trace_of(spec)).size
        assert cw >= w and ch >= h, (spec.short_name(), (cw, ch), (w, h))

"""The format table, stills of one frame (--frame N) and option objects."""

import ast
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import convanim as ca
from convanim import api, formats
from convanim.cli import main
from convanim.params import SpecError

PACKAGE = Path(ca.__file__).parent


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_the_table_is_the_only_place_that_names_output_suffixes():
    # PNG stays in the writer (frames and strips are PNGs by definition) and in data.py
    # (an input image); every other output suffix is named in formats.py alone.
    named = {".gif", ".webp", ".svg", ".pdf", ".json"}
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "formats.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in named:
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value}")
    assert offenders == []
    assert set(formats.SUFFIXES) == {".gif", ".webp", ".png", ".svg", ".pdf", ".json"}


def test_check_output_allows_exactly_the_table(tmp_path):
    for suffix in formats.SUFFIXES:
        formats.check_output(tmp_path / f"a{suffix}")
    with pytest.raises(SpecError, match=r"\.gif, \.webp, \.png, \.svg, \.pdf, \.json"):
        formats.check_output(tmp_path / "a.bmp")


@pytest.mark.parametrize("n", [1, 5, 9])
def test_frame_png_is_that_frame_of_the_animation(tmp_path, n):
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    want = ca.render(t)[n - 1]
    path = ca.save(t, tmp_path / "still.png", frame=n)
    with Image.open(path) as im:
        assert im.format == "PNG" and getattr(im, "n_frames", 1) == 1
        assert np.array_equal(np.asarray(im.convert("RGB")), np.asarray(want.convert("RGB")))


def test_frame_png_of_scatter_keeps_the_cells_filled_so_far(tmp_path):
    # Output cells fill in as the animation goes: a still of frame N shows frames 1..N's fills.
    t = ca.trace_of(ca.conv_transpose2d(3, 3, 2, 1, view="scatter"))
    frames = ca.render(t)
    path = ca.save(t, tmp_path / "s.png", frame=7)
    with Image.open(path) as im:
        got = np.asarray(im.convert("RGB"))
    assert np.array_equal(got, np.asarray(frames[6].convert("RGB")))
    assert not np.array_equal(got, np.asarray(frames[0].convert("RGB")))


def test_cli_frame_writes_a_still_with_a_default_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "1", "--frame", "5"],
                         capsys)
    assert code == 0, err
    assert out.strip() == "conv_i5_k3_s2_p1_frame5.png"
    assert (tmp_path / "conv_i5_k3_s2_p1_frame5.png").exists()


@pytest.mark.parametrize("args, words", [
    (["--frame", "10"], ["frame: got 10", "9 frames", "1..9"]),
    (["--frame", "0"], ["--frame"]),
    (["--frame", "2", "-o", "a.gif"], ["output", "a.gif", "single frame", ".png, .svg, .pdf"]),
    (["-o", "a.pdf"], ["output", "a.pdf", "one frame", "--frame N"]),
])
def test_frame_errors_are_one_line_and_write_nothing(tmp_path, capsys, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "1"] + args, capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    for w in words:
        assert w in err
    assert list(tmp_path.iterdir()) == []


def test_frame_with_json_writes_the_trace(tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    path = ca.save(t, tmp_path / "t.json", frame=2)
    assert path.read_text().startswith("{")


def test_save_takes_option_objects_and_loose_fields_alike(tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    a = ca.save(t, tmp_path / "a.gif", api.Look(style="flat", cell=16), api.Limits(max_frames=10))
    b = ca.save(t, tmp_path / "b.gif", style="flat", cell=16, max_frames=10)
    assert a.read_bytes() == b.read_bytes()
    with pytest.raises(api.LimitError, match="frames"):
        ca.save(t, tmp_path / "c.gif", max_frames=3)
    with pytest.raises(TypeError, match="unknown option"):
        ca.save(t, tmp_path / "d.gif", colour="red")


def test_matrix_refuses_an_animation_or_trace_suffix(tmp_path, capsys):
    for name in ("C.gif", "C.json"):
        code, _, err = run(["matrix", "--i", "4", "--k", "3", "-o", str(tmp_path / name)], capsys)
        assert code == 2 and "one picture" in err and ".png, .svg, .pdf" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".svg", ".pdf", ".png"])
def test_matrix_writes_every_still_format(tmp_path, capsys, suffix):
    path = tmp_path / f"C{suffix}"
    code, out, err = run(["matrix", "--i", "4", "--k", "3", "-o", str(path)], capsys)
    assert code == 0, err
    head = path.read_bytes()[:8]
    assert head.startswith({".svg": b"<", ".pdf": b"%PDF", ".png": b"\x89PNG"}[suffix])


@pytest.mark.parametrize("suffix", [".svg", ".pdf", ".png"])
def test_cli_still_formats(tmp_path, capsys, suffix):
    path = tmp_path / f"s{suffix}"
    code, _, err = run(["tconv", "--i", "3", "--k", "3", "--s", "2", "--p", "1", "--frame", "3",
                        "-o", str(path)], capsys)
    assert code == 0, err
    assert path.stat().st_size > 0


def test_svg_animation_with_frames_dir_and_strip_draws_the_raster_frames_too(tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    ca.save(t, tmp_path / "a.svg", frames_dir=tmp_path / "fr", strip=tmp_path / "s.png")
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<")
    assert len(list((tmp_path / "fr").glob("a_*.png"))) == 4
    assert (tmp_path / "s.png").exists()


def test_gallery_writes_svg_and_pdf_stills(tmp_path, capsys):
    spec = tmp_path / "g.toml"
    spec.write_text('[[figure]]\nname = "anim"\ncommand = "conv"\ni = 4\nk = 3\n'
                    'formats = ["gif", "svg"]\n'
                    '[[figure]]\nname = "still"\ncommand = "conv"\ni = 5\nk = 3\nframe = 2\n'
                    'formats = ["pdf", "svg", "png"]\n'
                    '[[figure]]\nname = "mat"\ncommand = "matrix"\ni = 4\nk = 3\n'
                    'formats = ["pdf", "svg"]\n')
    out = tmp_path / "out"
    code, _, err = run(["gallery", str(spec), "-o", str(out), "-j", "1", "-q"], capsys)
    assert code == 0, err
    for name in ("anim.gif", "anim.svg", "still.pdf", "still.svg", "still.png", "mat.pdf", "mat.svg"):
        assert (out / name).stat().st_size > 0, name
    with Image.open(out / "still.png") as im:
        assert getattr(im, "n_frames", 1) == 1


@pytest.mark.parametrize("body, words", [
    ('frame = 2\nformats = ["gif"]', ["key formats: gif is an animation", "png, svg, pdf"]),
    ('formats = ["pdf"]', ["key formats: pdf holds one frame", "frame = N"]),
])
def test_gallery_still_errors(tmp_path, capsys, body, words):
    spec = tmp_path / "g.toml"
    spec.write_text(f'[[figure]]\nname = "x"\ncommand = "conv"\ni = 5\nk = 3\n{body}\n')
    code, _, err = run(["gallery", str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 2
    for w in words:
        assert w in err


def test_scene_fresh_of_agrees_with_the_frames():
    # still(N) collects the persistent cells of frames 0..N through fresh_of, without
    # building those frames; it must be what the frames themselves say.
    for spec in (ca.conv_transpose2d(3, 3, 2, 1, view="scatter"), ca.conv2d(4, 3)):
        for style in ("iso", "flat"):
            sc = ca.scene(ca.trace_of(spec), style=style)
            for n in range(sc.n_frames):
                assert sc.fresh_of(n) == sc.frame(n).fresh
    sc = ca.scene(ca.trace_of(ca.conv_transpose2d(3, 3, 2, 1, view="scatter")))
    assert sum(len(sc.fresh_of(n)) for n in range(sc.n_frames)) == 25  # every output cell once

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
    import re
    named = re.compile(r"(?<![\w-])\.(gif|webp|svg|pdf|json|html)\b")  # a suffix, not inside a name
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "formats.py":
            continue
        tree = ast.parse(path.read_text())
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):  # strings in code, not docstrings
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docs and named.search(node.value)):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value[:40]!r}")
    assert offenders == []
    assert set(formats.SUFFIXES) == {".gif", ".webp", ".png", ".svg", ".pdf", ".json", ".html"}


def test_check_output_allows_exactly_the_table(tmp_path):
    for suffix in formats.SUFFIXES:
        formats.check_output(tmp_path / f"a{suffix}")
    with pytest.raises(SpecError, match=r"\.gif, \.webp, \.png, \.svg, \.pdf, \.json, \.html"):
        formats.check_output(tmp_path / "a.bmp")


def same_picture(a, b) -> bool:
    """Equal but for a shade on a few anti-aliased edge pixels (see raster.frame_image)."""
    a = np.asarray(a.convert("RGB")).astype(int)
    b = np.asarray(b.convert("RGB")).astype(int)
    if a.shape != b.shape:
        return False
    diff = np.abs(a - b).max(axis=2)
    return int((diff > 0).sum()) <= max(4, diff.size // 5000) and int(diff.max()) <= 24


SPECS = [(ca.conv2d(5, 3, 2, 1), {}), (ca.conv2d(5, 3, 2, 1), {"numbers": True}),
         (ca.transpose_of(ca.conv2d(6, 3, 2, 1)), {"labels": True}),
         (ca.conv_transpose2d(3, 3, 2, 1, view="scatter"), {}),
         (ca.conv2d(5, 3, 2, 1), {"style": "flat", "caption": "auto"}),
         (ca.pool2d("max", 5, 3, 1), {"style": "flat"})]


@pytest.mark.parametrize("spec, look", SPECS, ids=lambda v: getattr(v, "short_name", lambda: str(v))())
def test_frame_png_is_that_frame_of_the_animation(tmp_path, spec, look):
    t = ca.trace_of(spec)
    frames = ca.render(t, **look)
    for n in sorted({1, len(frames) // 2, len(frames)}):
        path = ca.save(t, tmp_path / f"still{n}.png", frame=n, **look)
        with Image.open(path) as im:
            assert im.format == "PNG" and getattr(im, "n_frames", 1) == 1
            assert same_picture(im, frames[n - 1]), n
            if n > 1:
                assert not same_picture(im, frames[0])  # the comparison can fail


def test_frame_png_of_scatter_keeps_the_cells_filled_so_far(tmp_path):
    # Output cells fill in as the animation goes: a still of frame N shows frames 1..N's fills.
    t = ca.trace_of(ca.conv_transpose2d(3, 3, 2, 1, view="scatter"))
    frames = ca.render(t)
    path = ca.save(t, tmp_path / "s.png", frame=7)
    with Image.open(path) as im:
        assert same_picture(im, frames[6])
        assert not same_picture(im, frames[5])


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


def test_frame_with_json_is_refused(tmp_path):
    # A trace is every step: --frame asks for one picture, which .json is not.
    t = ca.trace_of(ca.conv2d(4, 3))
    with pytest.raises(SpecError, match=r"\.json holds the trace.*\.png, \.svg, \.pdf"):
        ca.save(t, tmp_path / "t.json", frame=2)
    assert list(tmp_path.iterdir()) == []


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


@pytest.mark.parametrize("command, body, words", [
    ("conv", 'frame = 2\nformats = ["gif"]', ["key formats: .gif is an animation", ".png, .svg, .pdf"]),
    ("conv", 'formats = ["pdf"]', ["key formats: .pdf holds one frame", "--frame N"]),
    ("conv", 'frame = 2\nformats = ["json"]', ["key formats: .json holds the trace"]),
    ("conv", 'frame = 10\nformats = ["svg"]', ["key frame: frame: got 10", "1..9"]),
    ("matrix", 'formats = ["gif"]', ["key formats: .gif is an animation", ".png, .svg, .pdf"]),
])
def test_gallery_still_errors(tmp_path, capsys, command, body, words):
    spec = tmp_path / "g.toml"
    spec.write_text(f'[[figure]]\nname = "x"\ncommand = "{command}"\ni = 5\nk = 3\n{body}\n')
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


def test_scene_text_keeps_the_forms_tried():
    # A sum too long for its band is written shorter: the scene says what it chose from.
    t = ca.trace_of(ca.conv2d(5, 5, 1, 0))
    sc = ca.scene(t, style="flat", cell=12)
    (sum_op,) = [op for op in sc.frame(0).texts if getattr(op, "kind", "") == "sum"]
    assert len(sum_op.forms) > 1 and sum_op.text in sum_op.forms and sum_op.text != sum_op.forms[0]


def test_preload_knows_every_gallery_format_and_imports_its_writer():
    import sys

    from convanim import gallery

    assert set(gallery.FORMATS) <= set(formats.BACKENDS)  # a new format gets its modules
    formats.preload(["svg", "html", "gif"])
    for name in ("convanim.backends.svg", "convanim.backends.html", "numpy.ma"):
        assert name in sys.modules
    with pytest.raises(ModuleNotFoundError):
        formats.BACKENDS["test"] = ("convanim.no_such_backend",)
        try:
            formats.preload(["test"])
        finally:
            del formats.BACKENDS["test"]

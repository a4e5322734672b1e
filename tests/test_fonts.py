"""Fonts: which face a figure gets, the errors, and every backend drawing with it."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from fontTools.ttLib.ttCollection import TTCollection
from PIL import Image
from test_cli import child_env

import convanim as ca
from convanim import api, fonts
from convanim.backends import raster
from convanim.backends.pdf import still_pdf
from convanim.backends.svg import still_svg
from convanim.fonts import PROGRAM_CHARS, Face, FontError, bundled, parse_font, resolve
from convanim.matrix import matrix_figure
from convanim.scene import Text, scene_of
from convanim.textfit import font as load_font

TITLE = "转置"  # two characters whose glyphs differ; .notdef boxes would not
CJK = fonts.installed(frozenset(TITLE) | PROGRAM_CHARS)
needs_cjk = pytest.mark.skipif(CJK is None, reason="no installed font has Chinese characters "
                                                    "(Debian: apt-get install fonts-noto-cjk)")
PDFTOPPM = shutil.which("pdftoppm")


def collection(tmp_path: Path, n: int = 2) -> Path:
    """A TTC of ``n`` copies of the bundled font."""
    ttc = TTCollection()
    ttc.fonts = [TTFont(bundled().path) for _ in range(n)]
    path = tmp_path / "two.ttc"
    ttc.save(str(path))
    return path


# Which face --------------------------------------------------------------------------

def test_bundled_font_has_every_character_convanim_writes():
    assert bundled() == fonts.face_at(str(fonts.BUNDLED_FILE))  # its names, as the file has them
    assert fonts.missing(bundled(), fonts.BUNDLED_SURE) == []  # resolved without reading it
    assert fonts.missing(bundled(), PROGRAM_CHARS) == []
    assert fonts.missing(bundled(), "üéß×→−Σ…αβΣЖ") == []
    assert bundled().families[0] == "DejaVu Sans Condensed"


SAMPLES = [
    (ca.conv2d(5, 3, 2, 1), {"style": "flat", "caption": "auto"}),
    (ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0)), {"style": "flat", "caption": "auto", "labels": True}),
    (ca.conv_transpose2d(3, 3, 2, 1, output_padding=1), {"style": "flat", "caption": "auto"}),
    (ca.conv_transpose2d(3, 3, 2, 1, view="scatter"), {"style": "flat", "caption": "auto"}),
    (ca.conv2d(7, 3, 1, 0, 2), {"style": "iso", "numbers": True, "labels": True, "caption": "auto"}),
    (ca.pool2d("avg", 5, 3, 1, 1), {"style": "flat", "caption": "auto"}),
    (ca.pool2d("max", 5, 3, 1), {"style": "flat", "caption": "auto"}),
]


@pytest.mark.parametrize("spec, look", SAMPLES, ids=lambda v: getattr(v, "short_name", str)())
def test_convanim_writes_only_program_chars(spec, look):
    """Resolving from the title and caption alone is sound: every other text drawn is
    made of PROGRAM_CHARS (negative and fractional data included)."""
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, spec.input_size) / 4
    w = None if spec.pooling else rng.integers(-2, 3, spec.kernel_size) * 0.5
    t = ca.trace(spec, x, w)
    sc = api.scene(t, **look)
    drawn = {c for f in sc.frames() for op in f.texts if isinstance(op, Text) for c in op.text}
    drawn |= {c for op in sc.low + sc.high if isinstance(op, Text) for c in op.text}
    assert drawn and drawn <= PROGRAM_CHARS, sorted(drawn - PROGRAM_CHARS)


@pytest.mark.parametrize("transpose, values", [(False, False), (True, True)])
def test_matrix_figure_writes_only_program_chars(transpose, values):
    t = ca.trace(ca.conv2d(4, 3), np.arange(16.0).reshape(4, 4) / 4 - 1, np.full((3, 3), -0.5))
    sc = scene_of(matrix_figure(t, transpose, values=values))
    drawn = {c for op in sc.low if isinstance(op, Text) for c in op.text}
    assert "\u2212" in drawn and drawn <= PROGRAM_CHARS, sorted(drawn - PROGRAM_CHARS)


def test_resolve_keeps_the_bundled_font_when_it_has_the_text():
    assert resolve(["Faltung ü é", "×→"]) == bundled()
    assert resolve([None, "plain"]) == bundled()


def test_resolve_finds_an_installed_font_only_when_needed():
    asked = []

    def discover(chars):
        asked.append(chars)
        return Face("/x.ttf", 0, ("Found",), "Found")

    assert resolve(["ascii"], discover=discover) == bundled() and asked == []
    assert resolve(["转置"], discover=discover).family == "Found"
    assert "转" in asked[0] and "×" in asked[0]  # the text and convanim's own characters


def test_no_font_for_the_text_is_one_line_naming_the_characters():
    with pytest.raises(FontError) as err:
        resolve(["标题\x01"], discover=lambda chars: None)
    message = str(err.value)
    assert "\n" not in message and "\x01" not in message
    assert "'标' (U+6807)" in message and "'题' (U+9898)" in message
    assert "U+0001" not in message  # a control character is drawn as a space, needs no glyph
    assert "--font" in message and "fonts-noto-cjk" in message


@needs_cjk
def test_installed_cjk_font_has_the_text():
    assert fonts.missing(CJK, TITLE) == [] and fonts.missing(CJK, PROGRAM_CHARS) == []
    assert resolve([TITLE]) == CJK


def test_font_folders_are_read_without_fontconfig(monkeypatch, tmp_path):
    """Without fc-list every font in the usual folders is a candidate, checked by its cmap."""
    shutil.copy(bundled().path, tmp_path / "a_latin.ttf")  # lacks the text: passed over
    (tmp_path / "broken.ttf").write_bytes(b"\x00\x01\x00\x00garbage")
    monkeypatch.setattr(fonts.shutil, "which", lambda name: None)
    monkeypatch.setattr(fonts, "FONT_DIRS", (str(tmp_path),))
    assert fonts.installed.__wrapped__(frozenset("×a")).path == os.path.abspath(tmp_path / "a_latin.ttf")
    if CJK is not None:
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub" / Path(CJK.path).name).symlink_to(CJK.path)
        got = fonts.installed.__wrapped__(frozenset(TITLE) | PROGRAM_CHARS)
        assert got is not None and fonts.missing(got, TITLE) == [] and "/sub/" in got.path
    assert fonts.installed.__wrapped__(frozenset("\u0378")) is None


def test_given_font_is_checked(tmp_path):
    with pytest.raises(FontError, match="no such file"):
        parse_font(tmp_path / "missing.ttf")
    (tmp_path / "notes.ttf").write_text("not a font")
    with pytest.raises(FontError, match="not a TrueType or OpenType font"):
        parse_font(tmp_path / "notes.ttf")
    with pytest.raises(FontError, match="a folder"):
        parse_font(tmp_path)
    with pytest.raises(FontError, match=r"has 1 face; allowed: 0"):
        parse_font(f"{bundled().path}#1")
    with pytest.raises(FontError, match="after '#' expected a face number"):
        parse_font(f"{bundled().path}#bold")
    with pytest.raises(FontError, match="has no glyph for '转'"):
        resolve(["转"], font=bundled().path)


def test_collection_faces_and_hash_in_names(tmp_path):
    ttc = collection(tmp_path)
    assert parse_font(f"{ttc}#1") == Face(os.path.abspath(ttc), 1, bundled().families, bundled().postscript)
    with pytest.raises(FontError, match=r"face 2 of .*2 faces; allowed: 0\.\.1"):
        parse_font(f"{ttc}#2")
    odd = tmp_path / "odd#1.ttf"  # a path that exists whole wins over '#N'
    shutil.copy(bundled().path, odd)
    assert parse_font(odd).index == 0
    assert parse_font("odd#1.ttf", base=tmp_path).path == os.path.abspath(odd)


def test_font_loading_is_cached():
    assert load_font(30) is load_font(30) and load_font(30, bundled()) is load_font(30, bundled())


# Drawing with it ------------------------------------------------------------------------

def _title_halves(img: np.ndarray, title: Text) -> tuple[np.ndarray, np.ndarray]:
    """The two characters of a two-character title, greyscale: each from its pen
    position to the next (the font's advances), the rows of the ink box."""
    f = load_font(round(title.size * 3), title.face)
    at = [title.x + f.getlength(title.text[:n]) / 3 for n in range(3)]
    y0, y1 = int(title.rect[1]), int(np.ceil(title.rect[3]))
    grey = img.astype(float).mean(axis=2)
    a, b = (grey[y0:y1 + 1, int(at[n]):int(at[n]) + int(at[2] - at[1])] for n in (0, 1))
    w = min(a.shape[1], b.shape[1])
    return a[:, :w], b[:, :w]


def _title_scene(face):
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    sc = scene_of(api.layout(t, style="flat", title=TITLE, caption="步长 2，填充 1"), face=face)
    title = next(op for op in sc.frame(0).texts if isinstance(op, Text) and op.kind == "title")
    return sc, title


def _differ(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def test_boxes_would_be_caught():
    """The check below can fail: the bundled font draws both characters as one box."""
    sc, title = _title_scene(bundled())
    left, right = _title_halves(np.asarray(raster.frame_image(sc, 0).convert("RGB")), title)
    assert _differ(left, right) < 10.0  # two equal boxes: only where they fall on pixels differs


@needs_cjk
def test_cjk_title_draws_different_glyphs():
    sc, title = _title_scene(CJK)
    assert title.face == CJK and sc.face == CJK
    left, right = _title_halves(np.asarray(raster.frame_image(sc, 0).convert("RGB")), title)
    assert _differ(left, right) > 25.0


@needs_cjk
def test_pdf_embeds_the_font_it_drew_with(tmp_path):
    sc, title = _title_scene(CJK)
    data = still_pdf(sc, 0)
    # fpdf2 names an embedded font by its full name without spaces, after a subset tag.
    full = TTFont(CJK.path, fontNumber=CJK.index, lazy=True)["name"].getBestFullName()
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+" + re.escape(full.replace(" ", "").encode()) + rb"\b",
                     data)
    if PDFTOPPM is None:
        pytest.skip("pdftoppm (poppler-utils) not installed: the PDF's glyphs are not looked at")
    (tmp_path / "f.pdf").write_bytes(data)
    subprocess.run([PDFTOPPM, "-png", "-r", "72", "-singlefile", str(tmp_path / "f.pdf"),
                    str(tmp_path / "f")], check=True)
    page = np.asarray(Image.open(tmp_path / "f.png").convert("RGB"))
    left, right = _title_halves(page, title)
    assert _differ(left, right) > 25.0


def test_svg_names_the_font_first_escaped():
    odd = Face(bundled().path, 0, ('My "Sans" <1>', "Plain"), "MySans")
    sc, _ = _title_scene(odd)
    svg = still_svg(sc, 0)
    assert 'font-family:"My \\22 Sans\\22  &lt;1&gt;","Plain","Helvetica Neue"' in svg
    assert "<1>" not in svg


def test_matrix_figure_takes_the_font(tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    ttc = collection(tmp_path)
    img = api.matrix_image(t, font=f"{ttc}#1")
    assert img.size == api.matrix_image(t).size


# The command line -------------------------------------------------------------------------

def _cli(args, cwd):
    return subprocess.run([sys.executable, "-m", "convanim", *args], check=False, cwd=cwd,
                          env=child_env(), capture_output=True, text=True, timeout=120)


def test_cli_text_no_font_has(tmp_path):
    # U+0378 is unassigned: no font maps it, so this fails the same on every machine.
    r = _cli(["conv", "--i", "4", "--k", "3", "--title", "x\u0378", "-o", "t.gif"], tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("convanim: error: text: no font has")
    assert "U+0378" in r.stderr and "--font" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_missing_glyphs_when_discovery_finds_none(monkeypatch, tmp_path, capsys):
    from test_cli import run
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fonts, "installed", lambda chars: None)
    code, out, err = run(["conv", "--i", "4", "--k", "3", "--title", "转置卷积"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'转' (U+8F6C)" in err and "fonts-noto-cjk" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("font, says", [
    ("nope.ttf", "no such file"), ("{bundled}#3", "has 1 face"), ("{notes}", "not a TrueType"),
])
def test_cli_bad_font(font, says, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    font = font.format(bundled=bundled().path, notes=tmp_path / "notes.txt")
    for command in (["conv", "--i", "4", "--k", "3"], ["matrix", "--i", "4", "--k", "3"]):
        r = _cli([*command, "--font", font], tmp_path)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith("convanim: error: font: ") and says in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_cli_default_names_differ_with_the_font(tmp_path):
    ttc = collection(tmp_path)
    names = []
    for extra in ([], ["--font", bundled().path], ["--font", f"{ttc}#0"], ["--font", f"{ttc}#1"]):
        r = _cli(["conv", "--i", "4", "--k", "3", "--frame", "1", *extra], tmp_path)
        assert r.returncode == 0, r.stderr
        names.append(r.stdout.strip())
    assert names[0] == "conv_i4_k3_frame1.png"
    assert len(set(names)) == 4 and all(re.fullmatch(r"conv_i4_k3_[0-9a-f]{6}_frame1\.png", n)
                                        for n in names[1:])
    # Same font, same pixels: the bundled font given by path draws what the default draws.
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in names[:2])
    assert np.array_equal(a, b)


@needs_cjk
def test_cli_font_given_draws_the_text(tmp_path):
    r = _cli(["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "1", "--style", "flat",
              "--title", TITLE, "--caption", "步长 2，填充 1", "--frame", "1", "--font", CJK.spec,
              "-o", "t.png"], tmp_path)
    assert r.returncode == 0, r.stderr
    face = parse_font(CJK.spec)
    sc, title = _title_scene(face)
    img = np.asarray(Image.open(tmp_path / "t.png").convert("RGB"))
    assert np.array_equal(img, np.asarray(raster.frame_image(sc, 0).convert("RGB")))
    assert _differ(*_title_halves(img, title)) > 25.0


def test_gallery_font_is_relative_to_the_spec(tmp_path):
    from convanim import gallery
    (tmp_path / "fonts").mkdir()
    shutil.copy(bundled().path, tmp_path / "fonts" / "mine.ttf")
    spec = ('[[figure]]\nname = "a"\ncommand = "conv"\ni = 4\nk = 3\nfont = "fonts/mine.ttf"\n'
            '[[figure]]\nname = "b"\ncommand = "conv"\ni = 4\nk = 3\n')
    a, b = gallery.parse(spec, tmp_path)
    assert str(tmp_path / "fonts" / "mine.ttf") in a.args and a.digest != b.digest
    with pytest.raises(gallery.GalleryError) as err:
        gallery.parse(spec.replace("fonts/mine.ttf", "fonts/none.ttf"), tmp_path)
    assert any(m.startswith("entry a: key font: font: got") and "no such file" in m
               for m in err.value.messages)



def test_the_bundled_face_resolved_again_reads_no_font_file(monkeypatch):
    # A job's font is resolved once to a Face; checking it again (the gallery checks each
    # figure, then renders it) for convanim's own text must not read the font's cmap.
    def no_read(face):
        raise AssertionError(f"read the cmap of {face.spec}")

    monkeypatch.setattr(fonts, "charset", no_read)
    assert resolve((None, "Stride 2"), bundled()) == bundled()
    assert api.face_of(api.Look(font=bundled(), title="Padding p = 1")) == bundled()
    with pytest.raises(AssertionError):  # a text beyond what the bundled font surely has
        resolve(("\u4e2d",), bundled())

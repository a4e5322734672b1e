"""convanim gallery: spec validation up front, isolation of failures, incremental runs, index."""

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from convanim import gallery as g
from convanim.cli import main

ROOT = Path(__file__).resolve().parent.parent

SMALL = """
[defaults]
duration = 200
cell = 12
seed = 0
formats = ["gif", "strip"]

[[figure]]
name = "a_conv"
command = "conv"
i = 3
k = 2

[[figure]]
name = "b_tconv"
command = "tconv"
i = 2
k = 2
s = 2
view = "scatter"
formats = ["webp", "json"]

[[figure]]
name = "c_pool"
command = "pool"
mode = "avg"
i = [3, 4]
k = "2,2"
s = 1
formats = ["gif", "frames"]
"""


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "figs.toml"
    path.write_text(SMALL)
    return path


def files_of(folder: Path, named: str | None = None) -> dict[str, bytes]:
    """Every file's bytes; ``named``: the folder as index.html's regenerate line names it."""
    files = {str(p.relative_to(folder)): p.read_bytes()
             for p in sorted(folder.rglob("*")) if p.is_file()}
    if named is not None and g.INDEX in files:
        files[g.INDEX] = files[g.INDEX].replace(f"-o {folder}<".encode(), f"-o {named}<".encode())
    return files


def test_renders_every_format_and_index(spec, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert code == 0, err
    assert "3 rendered, 0 up to date, 0 failed" in stdout
    with Image.open(out / "a_conv.gif") as im:
        assert im.n_frames == 4 and im.info["duration"] == 200
    # The strip: the GIF's 4 frames side by side, in one palette PNG.
    with Image.open(out / "a_conv.gif") as gif, Image.open(out / "strips" / "a_conv.png") as im:
        w, h = gif.size
        assert im.mode == "P" and im.size == (4 * w, h)
        for n in range(4):
            gif.seek(n)
            tile = im.crop((n * w, 0, (n + 1) * w, h)).convert("RGB")
            assert tile.tobytes() == gif.convert("RGB").tobytes(), n
    assert sorted(p.name for p in (out / "frames" / "c_pool").iterdir()) == [
        f"c_pool_000{n}.png" for n in range(1, 7)]
    assert not (out / "frames" / "a_conv").exists() and not (out / "strips" / "c_pool.png").exists()
    manifest = json.loads((out / g.MANIFEST).read_text())["entries"]
    assert manifest["a_conv"]["files"] == ["a_conv.gif", "strips/a_conv.png"]
    assert manifest["a_conv"]["strip"] == {"frames": 4, "columns": 4, "frame_width": w,
                                           "frame_height": h}
    assert json.loads((out / "b_tconv.json").read_text())["view"] == "scatter"
    with Image.open(out / "b_tconv.webp") as im:
        assert im.n_frames == 4
    with Image.open(out / "c_pool.gif") as im:
        assert im.n_frames == 2 * 3
    assert not (out / "b_tconv.gif").exists() and not (out / "frames" / "b_tconv").exists()
    assert not (out / "strips" / "b_tconv.png").exists()
    # The index pages name every output; the page steps through the strip, or the frames.
    page = (out / "index.html").read_text()
    readme = (out / "README.md").read_text()
    for name in ("a_conv.gif", "b_tconv.webp", "b_tconv.json", "c_pool.gif"):
        assert f'"{name}"' in page
    for name in ("a_conv.gif", "b_tconv.webp", "c_pool.gif"):
        assert f"]({name})" in readme
    # Without an interactive page a card shows the figure's first picture.
    card = re.search(r'<figure class="card" id="a_conv">.*?</figure>', page, re.DOTALL).group(0)
    assert '<img src="a_conv.gif"' in card and "<iframe" not in card
    assert 'add "html" to its formats' in card
    assert '<figure class="card" id="b_tconv">' in page
    assert "3 figures from <code>figs.toml</code>" in page
    assert f"Regenerate: <code>python -m convanim gallery {spec} --force -o {out}</code>" in page
    assert "interrupted" not in page
    assert "convanim pool --mode avg --i 3,4 --k 2,2 --s 1" in page
    assert "o = floor((i + 2p - d(k-1) - 1) / s) + 1" in page
    assert "http://" not in page and "https://" not in page      # opens from disk, no network
    # No temporary file left behind.
    assert not [p for p in out.rglob("*") if ".part" in p.name]


def test_strip_is_not_read_back_after_it_is_written(spec, tmp_path, capsys, monkeypatch):
    """The manifest's grid comes from the writer: no strip is opened or decoded again."""
    from PIL import ImageFile

    from convanim import writer

    def refuse(*args, **kwargs):
        raise AssertionError("an image file was opened or decoded during the gallery run")

    monkeypatch.setattr(Image, "open", refuse)                 # the render opens no image
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    out = tmp_path / "out"
    code, stdout, err = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert code == 0, err
    assert "3 rendered, 0 up to date, 0 failed" in stdout
    monkeypatch.undo()
    grid = writer.read_strip_grid(out / "strips" / "a_conv.png")
    manifest = json.loads((out / g.MANIFEST).read_text())["entries"]
    assert manifest["a_conv"]["strip"] == g.manifest_grid(grid) == {
        "frames": 4, "columns": 4, "frame_width": grid.frame_width,
        "frame_height": grid.frame_height}


def test_incremental_skip_change_and_force(spec, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)[0] == 0
    before = {p: p.stat().st_mtime_ns for p in out.glob("*.gif")}
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert code == 0 and "0 rendered, 3 up to date" in stdout
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.gif")} == before
    # Change one figure: only it renders again.
    spec.write_text(SMALL.replace("i = 3\nk = 2", "i = 4\nk = 2"))
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert code == 0 and "1 rendered, 2 up to date" in stdout
    with Image.open(out / "a_conv.gif") as im:
        assert im.n_frames == 9
        size = im.size
    with Image.open(out / "strips" / "a_conv.png") as strip:
        assert strip.size == (9 * size[0], size[1])
    # A deleted strip re-renders its figure.
    (out / "strips" / "a_conv.png").unlink()
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert "1 rendered, 2 up to date" in stdout and (out / "strips" / "a_conv.png").exists()
    # A deleted output re-renders its figure.
    (out / "c_pool.gif").unlink()
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert "1 rendered, 2 up to date" in stdout and (out / "c_pool.gif").exists()
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out), "-j", "1", "--force"], capsys)
    assert "3 rendered, 0 up to date" in stdout
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out), "--only", "c_pool", "--force",
                           "-q"], capsys)
    assert code == 0 and stdout == ""


def counted_shared(monkeypatch):
    """parallel.shared, counting its calls (the runs that used a pool)."""
    from convanim import parallel
    calls = []
    real = parallel.shared

    def shared(fn, work, workers):
        calls.append((len(work), workers))
        return real(fn, work, workers)

    monkeypatch.setattr(parallel, "shared", shared)
    return calls


def test_parallel_run_gives_the_same_bytes(spec, tmp_path, capsys, monkeypatch):
    one, two = tmp_path / "one", tmp_path / "two"
    monkeypatch.setattr(g.run, "POOL_MIN_MS", 0)  # a pool however little the work
    pools = counted_shared(monkeypatch)
    assert run(["gallery", str(spec), "-o", str(one), "-j", "1", "-q"], capsys)[0] == 0
    assert pools == []
    assert run(["gallery", str(spec), "-o", str(two), "-j", "2", "-q"], capsys)[0] == 0
    assert pools == [(3, 1)]  # this process and one worker
    assert files_of(one, "OUT") == files_of(two, "OUT")


def test_little_work_is_rendered_without_a_pool(spec, tmp_path, capsys, monkeypatch):
    entries = g.load(spec)
    assert sum(e.work for e in entries) < g.run.POOL_MIN_MS  # the small spec: no pool pays
    pools = counted_shared(monkeypatch)
    assert run(["gallery", str(spec), "-o", str(tmp_path / "out"), "-j", "2", "-q"], capsys)[0] == 0
    assert pools == []
    # The default set (gif, svg, html) is worth one: about 3 s of one core.
    assert sum(e.work for e in g.load(None)) > 4 * g.run.POOL_MIN_MS


def test_work_estimate_orders_by_frames_and_formats(spec):
    a, b, c = g.load(spec)
    frames = {"a_conv": 4, "b_tconv": 4, "c_pool": 6}
    for e in (a, b, c):
        assert e.spec.n_steps == frames[e.name]
    assert b.work > c.work > a.work  # WebP costs most a frame; then GIF + frames, GIF + strip
    still = g.Entry(**{**a.__dict__, "args": a.args + ("--frame", "2")})
    assert still.work == g.entry.FIGURE_MS + sum(g.entry.FRAME_MS[f] for f in a.formats)


def test_one_failure_does_not_stop_the_others(spec, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    real = g.api.save

    def broken(t, path, *args, **kw):
        if Path(path).name.startswith("a_conv"):
            raise RuntimeError("disk on fire")
        return real(t, path, *args, **kw)

    monkeypatch.setattr(g.api, "save", broken)
    code, stdout, err = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert code == 1
    assert "convanim: error: entry a_conv: render failed: RuntimeError: disk on fire" in err
    assert (out / "b_tconv.webp").exists() and (out / "c_pool.gif").exists()
    assert not (out / "a_conv.gif").exists() and not (out / "strips" / "a_conv.png").exists()
    assert not [p for p in out.rglob("*") if ".part" in p.name]
    assert "a_conv" not in json.loads((out / g.MANIFEST).read_text())["entries"]
    assert "not rendered" in (out / "index.html").read_text()
    # Fixed: the next run renders only the failed figure.
    monkeypatch.setattr(g.api, "save", real)
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out), "-j", "1"], capsys)
    assert code == 0 and "1 rendered, 2 up to date" in stdout


def test_failure_mid_frames_keeps_previous_files(spec, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert run(["gallery", str(spec), "-o", str(out), "-j", "1", "-q"], capsys)[0] == 0
    before = files_of(out / "frames")
    real = g.api.writer.tee_frames

    def dies_after_two(frames, directory, stem, staging):
        for n, frame in enumerate(real(frames, directory, stem, staging)):
            if n == 2:
                raise OSError("no space left")
            yield frame

    monkeypatch.setattr(g.api.writer, "tee_frames", dies_after_two)
    code, _, err = run(["gallery", str(spec), "-o", str(out), "-j", "1", "--force",
                        "--only", "c_pool"], capsys)
    assert code == 1 and "no space left" in err
    assert files_of(out / "frames") == before
    assert not [p for p in out.rglob("*") if ".part" in p.name]


@pytest.mark.parametrize("figure, words", [
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\nstrid = 2', ["entry x: key strid: unknown for conv"]),
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\ns = true', ["entry x: key s: got true"]),
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\nduration = "slow"', ["entry x: key duration:", "slow"]),
    ('name = "x"\ncommand = "tconv"\ni = 5\nk = 3\nof_conv = 1', ["entry x: key of_conv: ", "true or false"]),
    ('name = "x"\ncommand = "conv"\ni = 3\nk = 5', ["entry x: key k: kernel_size:", "larger than"]),
    ('name = "x"\ncommand = "tconv"\ni = 3\nk = 3\ns = 2\nop = 2', ["entry x: key op: output_padding:"]),
    ('name = "x"\ncommand = "conv"\ninput_size = 5\nk = 3\ns = 2\np = "same"', ["entry x: key p: padding:", "stride 1"]),
    ('name = "x"\ncommand = "conv"\nk = 3', ["entry x: key i: ", "missing", "--input FILE"]),
    ('name = "x"\ncommand = "pool"\ni = 5\nk = 3\nmode = "median"', ["entry x: key mode:", "median"]),
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\no = "y.gif"', ["entry x: key o: set by the gallery"]),
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\ninput_size = 4', ["entry x: key input_size: the same option as key i"]),
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\nformats = ["gif", "bmp"]', ["entry x: key formats:", "'bmp'"]),
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\nformats = ["frames"]', ["entry x: key formats:", "picture format"]),
    ('name = "x"\ncommand = "conv"\ni = 5\nk = 3\nformats = ["json", "strip"]', ["entry x: key formats: 'strip' needs a picture format"]),
    ('name = "x"\ncommand = "matrix"\ni = 4\nk = 3\nformats = ["png", "strip"]', ["entry x: key formats: matrix cannot write a strip", "conv, grad, pool, tconv"]),
    ('name = "x"\ncommand = "info"\ni = 5\nk = 3', ["entry x: key command: got 'info'", "conv, grad, matrix, pool, tconv"]),
    ('name = "x"\ncommand = "deconv"\ni = 5\nk = 3', ["entry x: key command: got 'deconv'"]),
    ('command = "conv"\ni = 5\nk = 3', ["entry #1: key name: missing"]),
    ('name = "../x"\ncommand = "conv"\ni = 5\nk = 3', ["key name: got '../x'"]),
])
def test_spec_errors_name_entry_and_key(figure, words, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(f"[[figure]]\n{figure}\n")
    out = tmp_path / "out"
    code, stdout, err = run(["gallery", str(path), "-o", str(out)], capsys)
    assert code == 2, err
    assert "Traceback" not in err
    for w in words:
        assert w in err
    assert not out.exists()


def test_every_bad_entry_is_reported_before_rendering(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(SMALL.replace("[defaults]", "[defaults]\nspeed = 3")
                    + '\n[[figure]]\nname = "a_conv"\ncommand = "conv"\ni = 3\nk = 1\n'
                    + '\n[[figure]]\nname = "z"\ncommand = "conv"\ni = 2\nk = 3\nwat = 1\n')
    out = tmp_path / "out"
    code, _, err = run(["gallery", str(path), "-o", str(out)], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert all(line.startswith("convanim: error: ") for line in lines)
    assert any("defaults: key speed: no command takes it" in line for line in lines)
    assert any("entry a_conv: key name: duplicate" in line for line in lines)
    assert any("entry z: key wat: unknown" in line for line in lines)
    assert len(lines) == 3
    assert not out.exists()


def test_not_toml_and_missing_spec(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[[figure]\n")
    code, _, err = run(["gallery", str(path), "-o", str(tmp_path / "o")], capsys)
    assert code == 2 and "not valid TOML" in err
    code, _, err = run(["gallery", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "does not exist" in err


def test_list_and_only(spec, tmp_path, capsys):
    code, stdout, _ = run(["gallery", str(spec), "--list"], capsys)
    assert code == 0
    lines = stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["a_conv", "b_tconv", "c_pool"]
    assert "convanim tconv --i 2 --k 2 --s 2 --view scatter" in lines[1]
    assert "--duration 200 --cell 12" in lines[0]
    assert "--seed" not in lines[0]              # a default equal to the command's is not shown
    assert not (tmp_path / "gallery").exists()
    code, stdout, _ = run(["gallery", str(spec), "--list", "--only", "c_pool"], capsys)
    assert stdout.split()[0] == "c_pool" and len(stdout.strip().splitlines()) == 1
    code, _, err = run(["gallery", str(spec), "--only", "c_pool,nope"], capsys)
    assert code == 2 and "only:" in err and "nope" in err


def test_data_files_are_relative_to_the_spec_and_hashed(tmp_path, capsys):
    (tmp_path / "x.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    spec = tmp_path / "s.toml"
    spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 2\n'
                    'input = "x.csv"\nformats = ["json"]\n')
    out = tmp_path / "out"
    assert run(["gallery", str(spec), "-o", str(out)], capsys)[0] == 0
    assert json.loads((out / "f.json").read_text())["input"][2] == [7, 8, 9]
    (tmp_path / "x.csv").write_text("1,2,3\n4,5,6\n7,8,0\n")
    code, stdout, _ = run(["gallery", str(spec), "-o", str(out)], capsys)
    assert "1 rendered" in stdout
    assert json.loads((out / "f.json").read_text())["input"][2] == [7, 8, 0]


def test_default_spec_is_shipped_identical():
    assert (ROOT / "convanim" / "gallery.toml").read_bytes() == \
        (ROOT / "gallery" / "gallery.toml").read_bytes()
    entries = g.load(None)
    names = [e.name for e in entries]
    for name in ["no_padding_no_strides", "arbitrary_padding_no_strides", "same_padding_no_strides",
                 "full_padding_no_strides", "no_padding_strides", "padding_strides",
                 "padding_strides_odd", "dilation", "numerical_max_pooling",
                 "numerical_average_pooling", "padding_strides_transposed_scatter"]:
        assert name in names
    for name in names[:7]:
        assert f"{name}_transposed" in names
    # The top README shows pictures of the gallery: each one is in the set.
    shown = re.findall(r"\]\(gallery/(\w+)\.gif\)", (ROOT / "README.md").read_text())
    assert shown and all(n in names for n in shown), shown


def test_committed_gallery_is_up_to_date(tmp_path, capsys):
    """Re-render the default set: the same bytes as gallery/. Fix: the command below."""
    out = tmp_path / "gallery"
    out.mkdir()
    (out / "gallery.toml").write_bytes((ROOT / "gallery" / "gallery.toml").read_bytes())
    code, _, err = run(["gallery", "-o", str(out), "-q"], capsys)
    assert code == 0, err
    fresh, committed = files_of(out, "gallery"), files_of(ROOT / "gallery")
    stale = sorted(k for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k))
    assert not stale, f"gallery/ is out of date ({stale[:5]} ...); run: {g.REGENERATE}"


def test_help_has_example(capsys):
    code, out, _ = run(["gallery", "--help"], capsys)
    assert code == 0 and "Example" in out and "convanim gallery --list" in out


INJECT = "x` <img src=x onerror=alert(1)> | `y\n<script>alert(2)</script>"


def test_spec_text_cannot_inject_markup_into_readme_or_index(tmp_path, capsys):
    """A title (any option's value) reaches the command line shown in README.md and
    index.html: it stays text in both, read by real parsers."""
    from html.parser import HTMLParser

    spec = tmp_path / "s`<b>.toml"
    spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 2\ncell = 12\n'
                    f'title = {json.dumps(INJECT)}\nformats = ["gif"]\n')
    out = tmp_path / "out"
    code, _, err = run(["gallery", str(spec), "-o", str(out), "-q"], capsys)
    assert code == 0, err

    class Tags(HTMLParser):
        found: list = []

        def handle_starttag(self, tag, attrs):
            self.found.append((tag, dict(attrs)))

    def tags(page):
        parser = Tags()
        parser.found = []
        parser.feed(page)
        return parser.found

    index = tags((out / g.INDEX).read_text())
    assert not [t for t, a in index if t == "script" and not a] [1:]  # only the page's own
    assert all("onerror" not in a for _, a in index)
    assert not [t for t, a in index if t == "img" and a.get("src") == "x"]
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py is in the test extra")
    md = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    readme = tags(md.render((out / g.README).read_text()))
    assert all("onerror" not in a for _, a in readme)
    assert [t for t, _ in readme].count("script") == 0
    assert [t for t, _ in readme].count("td") == 2  # one row: the pipe did not split it


def test_a_bad_manifest_means_render_again_never_a_crash_or_injection(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 2\ncell = 12\n'
                    'formats = ["gif", "strip"]\n')
    out = tmp_path / "out"
    assert run(["gallery", str(spec), "-o", str(out), "-q"], capsys)[0] == 0
    good = json.loads((out / g.MANIFEST).read_text())
    record = good["entries"]["f"]
    evil = '"><script>alert(1)</script>'
    bad_records = [
        dict(record, strip=dict(record["strip"], columns=evil)),
        dict(record, strip=dict(record["strip"], frames=-1)),
        dict(record, files=["../../etc/passwd"]),
        dict(record, files=["/etc/passwd"]),
        dict(record, files="f.gif"),
        dict(record, hash=None),
        dict(record, extra=1),
        "not a record",
    ]
    for bad in bad_records:
        doc = dict(good, entries={"f": bad, evil: record})
        (out / g.MANIFEST).write_text(json.dumps(doc))
        code, stdout, err = run(["gallery", str(spec), "-o", str(out)], capsys)
        assert code == 0 and "1 rendered" in stdout, (bad, err)
        page = (out / g.INDEX).read_text()
        assert "<script>alert" not in page
        assert json.loads((out / g.MANIFEST).read_text())["entries"]["f"] == record
    for text in ["", "{", "[]", '{"entries": []}', '{"entries": {"f": null}}', "\x00\xff"]:
        (out / g.MANIFEST).write_text(text, encoding="latin-1")
        code, stdout, err = run(["gallery", str(spec), "-o", str(out)], capsys)
        assert code == 0 and "1 rendered" in stdout, (text, err)
    # The valid manifest still skips: the check does not refuse what this version writes.
    assert "1 up to date" in run(["gallery", str(spec), "-o", str(out)], capsys)[1]


def _spec_reading(tmp_path: Path, value: str) -> Path:
    spec = tmp_path / "site" / "s.toml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 3\n'
                    f'input = {json.dumps(value)}\nformats = ["json"]\n')
    return spec


@pytest.mark.parametrize("where", ["dotdot", "absolute", "symlink", "proc"])
def test_spec_data_files_stay_inside_the_spec_folder(where, tmp_path, capsys):
    secret = tmp_path / "secret.csv"
    secret.write_text("SECRET_VALUE_1234567890 1 2\n1 2 3\n1 2 3\n")
    site = tmp_path / "site"
    site.mkdir()
    value = {"dotdot": "../secret.csv", "absolute": str(secret), "symlink": "link.csv",
             "proc": "/proc/self/environ"}[where]
    if where == "symlink":
        (site / "link.csv").symlink_to(secret)
    spec = _spec_reading(tmp_path, value)
    out = tmp_path / "out"
    code, stdout, err = run(["gallery", str(spec), "-o", str(out)], capsys)
    assert code == 2 and "outside the spec's folder" in err and "--allow-outside-files" in err, err
    assert "SECRET_VALUE" not in err + stdout and not out.exists()
    code, stdout, err = run(["gallery", str(spec), "-o", str(out), "--allow-outside-files"], capsys)
    if where == "proc":  # allowed, then refused for what it is; its contents never shown
        assert code == 2 and "PATH=" not in err and "no numbers" in err, err
    else:  # allowed: the file is read, and its content still never echoed
        assert code == 2 and "SECRET_VALUE_123..." in err and "SECRET_VALUE_1234" not in err


def test_spec_data_file_inside_the_folder_and_its_subfolders_is_read(tmp_path, capsys):
    site = tmp_path / "site"
    (site / "data").mkdir(parents=True)
    (site / "data" / "x.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    (site / "alias.csv").symlink_to(site / "data" / "x.csv")  # a link that stays inside
    for value in ["data/x.csv", "alias.csv", "data/../data/x.csv"]:
        spec = _spec_reading(tmp_path, value)
        code, _, err = run(["gallery", str(spec), "-o", str(tmp_path / "out"), "-q"], capsys)
        assert code == 0, (value, err)


def test_spec_that_is_not_a_regular_file_is_refused(tmp_path, capsys):
    code, _, err = run(["gallery", "/dev/zero", "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "not a regular file" in err
    big = tmp_path / "big.toml"
    with open(big, "wb") as fp:
        fp.truncate(2 * 2**20)
    code, _, err = run(["gallery", str(big), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "at most" in err


@pytest.mark.parametrize("figure, words", [
    ('input = "nope.csv"', ["entry f", "input", "does not exist"]),
    ('input = "x2.csv"', ["entry f", "input", "2x2", "input_size is 3x3"]),
    ('title = " "', ["entry f", "title", "expected a text"]),
    ('i = 60\nk = 1\n', ["entry f", "frames", "3,600", "--max-frames"]),
    ('formats = ["webp"]\ni = 50\nk = 1\ncell = 40\nmax_frames = 5000\nmax_size = 9000', ["entry f", "memory", "GB", ".gif"]),
    ('formats = ["gif", "strip"]\ni = "40,50"\nk = 1\ncell = 8', ["entry f", "strip", "2,000 frames", "16,384 px"]),
])
def test_every_figure_is_validated_before_any_renders(figure, words, tmp_path, capsys):
    (tmp_path / "x2.csv").write_text("1,2\n3,4\n")
    body = figure if figure.startswith("i =") or "\ni =" in figure else figure + "\ni = 3\nk = 2"
    spec = tmp_path / "s.toml"
    spec.write_text('[[figure]]\nname = "ok"\ncommand = "conv"\ni = 3\nk = 2\nformats = ["json"]\n'
                    f'[[figure]]\nname = "f"\ncommand = "conv"\n{body}\n')
    out = tmp_path / "out"
    code, _, err = run(["gallery", str(spec), "-o", str(out)], capsys)
    assert code == 2, err
    for w in words:
        assert w in err, (w, err)
    assert not out.exists()  # nothing rendered, not even the good figure


def test_gallery_refuses_names_too_long_and_an_unwritable_folder(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(f'[[figure]]\nname = "{"n" * 240}"\ncommand = "conv"\ni = 3\nk = 2\n')
    code, _, err = run(["gallery", str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "temporary name" in err and "shorter name" in err, err
    spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 2\n')
    (tmp_path / "afile").write_text("")
    code, _, err = run(["gallery", str(spec), "-o", str(tmp_path / "afile" / "out")], capsys)
    assert code == 2 and "output-dir" in err and "not a directory" in err, err


PAGES = """
[defaults]
duration = 200
cell = 12
[[figure]]
name = "a"
command = "conv"
i = 3
k = 2
formats = ["gif", "html"]
title = "</script><b>x</b>"
[[figure]]
name = "m"
command = "matrix"
i = 3
k = 2
formats = ["svg"]
"""


def test_index_shows_each_figure_page_and_the_wide_matrix(tmp_path, capsys):
    spec = tmp_path / "p.toml"
    spec.write_text(PAGES)
    out = tmp_path / "o u t"
    code, _, err = run(["gallery", str(spec), "-o", str(out), "-j", "1", "-q"], capsys)
    assert code == 0, err
    page = (out / "index.html").read_text()
    card = re.search(r'<figure class="card" id="a">.*?</figure>', page, re.DOTALL).group(0)
    assert '<iframe src="a.html#embed"' in card and '<a href="a.html">a</a>' in card
    assert "<b>x</b>" not in page and "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in page
    wide = re.search(r'<figure class="card wide" id="m">.*?</figure>', page, re.DOTALL).group(0)
    assert '<a href="m.svg" title="open full size"><img src="m.svg"' in wide
    assert 'add "html"' not in wide  # a still: nothing to step
    # The regenerate line is this run's own command, quoted for a shell.
    assert f"python -m convanim gallery {spec} --force -o &#x27;{out}&#x27;" in page
    assert (out / "a.html").read_text().count("<b>x</b>") == 0


def test_an_interrupted_run_says_so(spec, tmp_path, monkeypatch):
    out = tmp_path / "out"
    entries = g.load(spec)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(g.run, "render_entry", interrupted)  # where build() looks it up
    with pytest.raises(KeyboardInterrupt):
        g.build(entries, out, jobs=1, spec_name="figs.toml")
    page = (out / "index.html").read_text()
    assert "was interrupted: 0 of 3 figures are rendered" in page
    assert "0 figures from" in page
    assert f"Regenerate: <code>python -m convanim gallery figs.toml --force -o {out}</code>" in page


def test_gallery_messages_show_control_characters_escaped(tmp_path, capsys):
    """A spec's text in an error reaches the terminal: no escape sequence gets through."""
    spec = tmp_path / "s.toml"
    spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 2\n'
                    '"\\u001b[2J\\u001b]0;pwned\\u0007" = 1\ntitle = "a\\u001b[31mb"\nk2 = "\\r"\n')
    code, _, err = run(["gallery", str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "unknown" in err
    assert "\x1b" not in err and "\x07" not in err and "\r" not in err
    assert "\\x1b[2J" in err
    assert all(line.startswith("convanim: error: ") for line in err.splitlines())


def test_font_paths_are_confined_by_the_rule_the_loader_uses(tmp_path, capsys):
    """'~' is not expanded in a spec, and 'NAME#N' is split as the font loader splits it:
    a symlink named 'f.ttf#0' that leaves the folder is refused, not followed."""
    from convanim import fonts

    site = tmp_path / "site"
    site.mkdir()
    outside = tmp_path / "outside.ttf"
    outside.write_bytes(Path(fonts.BUNDLED.path).read_bytes())
    (site / "f.ttf").write_bytes(Path(fonts.BUNDLED.path).read_bytes())
    (site / "f.ttf#0").symlink_to(outside)

    def spec_with(font):
        spec = site / "s.toml"
        spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 2\n'
                        f'font = {json.dumps(font)}\nformats = ["svg"]\n')
        return spec

    code, _, err = run(["gallery", str(spec_with("f.ttf#0")), "-o", str(tmp_path / "o1")], capsys)
    assert code == 2 and "outside the spec's folder" in err, err
    code, _, err = run(["gallery", str(spec_with("~/outside.ttf")), "-o", str(tmp_path / "o2")],
                       capsys)
    assert code == 2 and "no such file" in err and str(Path.home()) not in err, err
    for bad in ["a\u0000b.ttf", "f.ttf#\u00b2", "f.ttf#" + "9" * 50]:
        code, _, err = run(["gallery", str(spec_with(bad)), "-o", str(tmp_path / "o3")], capsys)
        assert code == 2 and "internal error" not in err and len(err.splitlines()) == 1, (bad, err)


def test_a_figure_name_with_two_dots_is_still_up_to_date(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('[[figure]]\nname = "v1..2"\ncommand = "conv"\ni = 3\nk = 2\nformats = ["gif"]\n')
    out = tmp_path / "out"
    assert "1 rendered" in run(["gallery", str(spec), "-o", str(out)], capsys)[1]
    assert "1 up to date" in run(["gallery", str(spec), "-o", str(out)], capsys)[1]


def test_workers_are_forked_on_linux(monkeypatch):
    # Forked workers start with the parent's imports (the backends preloaded for the
    # figures' formats); spawned ones would import the package again, each.
    from convanim import parallel

    monkeypatch.setattr(parallel.sys, "platform", "linux")
    assert parallel.context().get_start_method() == "fork"
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    assert parallel.context() is None


def test_a_figure_is_rendered_from_the_job_the_spec_parsed(spec, tmp_path, monkeypatch):
    """The spec's parse builds and checks each figure's job; the render takes it as it is
    (its arguments are not parsed a second time), and gives the same files."""
    from convanim.commands import cli
    entries = g.load(spec)
    assert all(e.job is not None and e.job.spec == e.spec for e in entries)
    again = tmp_path / "parsed-again"
    g.build([g.Entry(**{**e.__dict__, "job": None}) for e in entries], again, jobs=1)

    def no_parse(self, *args, **kwargs):
        raise AssertionError("parsed again")

    for name in ("conv", "tconv", "pool"):
        monkeypatch.setattr(type(cli.commands[name]), "make_context", no_parse)
    out = tmp_path / "out"
    result = g.build(entries, out, jobs=1)
    assert result.failed == [] and len(result.rendered) == 3
    assert files_of(out, "OUT") == files_of(again, "OUT")

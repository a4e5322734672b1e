"""Bad input, large requests and interrupts: one-line errors, exit statuses, nothing lost."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import convanim as ca
from convanim import api, writer
from convanim.cli import main
from convanim.iso import canvas_size, iso_layout

from strategies import conv_specs, tconv_specs

ROOT = Path(__file__).resolve().parents[1]


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def snapshot(d: Path) -> dict:
    """Every path under ``d`` with its bytes (None for directories)."""
    return {str(p.relative_to(d)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(d.rglob("*"))}


@pytest.fixture
def files(tmp_path, monkeypatch):
    """A directory of good and bad input files, as the current directory."""
    monkeypatch.chdir(tmp_path)
    np.save("vec.npy", np.arange(3.0))
    np.save("cube.npy", np.zeros((3, 3, 3)))
    np.save("text.npy", np.array([["a", "b"], ["c", "d"]]))
    np.save("nan.npy", np.array([[1.0, np.nan], [1.0, 1.0]]))
    np.save("complex.npy", np.ones((3, 3), complex))
    np.save("obj.npy", np.array([[1, None]], dtype=object), allow_pickle=True)
    np.save("k2.npy", np.ones((2, 2)))
    Path("notnpy.npy").write_bytes(b"not an npy file")
    Path("empty.csv").write_text("")
    Path("words.csv").write_text("1,2,3\n4,x,6\n7,8,9\n")
    Path("inf.txt").write_text("1 2 3\n4 inf 6\n7 8 9\n")
    Path("ragged.csv").write_text("1,2,3\n4,5\n7,8,9\n")
    Path("binary.csv").write_bytes(b"\x00\xff\xfe\x80")
    Path("x3.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    Image.new("L", (3, 3), 128).save("in.png")
    Path("sub").mkdir()
    Path("huge_values.txt").write_text("1e200 1e200 1e200\n" * 3)
    Path("huge_k.txt").write_text("1e200 1e200\n" * 2)
    Path("adir").mkdir()
    Path("afile").write_text("")
    # Files that lie or never end: each must be refused before its data is read.
    header = {"descr": "<f8", "fortran_order": False, "shape": (100000, 100000)}
    with open("liar.npy", "wb") as fp:
        np.lib.format.write_array_header_1_0(fp, header)
        fp.write(b"\0" * 64)
    with open("short.npy", "wb") as fp:
        np.lib.format.write_array_header_1_0(fp, dict(header, shape=(3, 3)))
        fp.write(b"\0" * 64)
    with open("huge.csv", "wb") as fp:  # sparse: 65 MB on paper, nothing on disk
        fp.truncate(65 * 2**20)
    Path("secret.csv").write_text("SECRET_TOKEN=abcdefghijklmnopqrstuvwxyz0123456789 1 2\n")
    Path("eps.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 3 3\nshowpage\n")
    Path("big.png").write_bytes(_png_header(100_000, 100_000))
    if hasattr(os, "mkfifo"):
        os.mkfifo("pipe.csv")
    return tmp_path


def _png_header(w: int, h: int) -> bytes:
    """A PNG signature and IHDR claiming w x h pixels, and no image data."""
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + \
        struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


CONV = ["conv", "--i", "3", "--k", "2"]

ERRORS = [
    # sizes, strides, dilations, padding: not numbers, zero or negative, too many values
    (["conv", "--i", "5", "--k", "3", "--s", "1.5"], ["stride", "'1.5'", "whole numbers"]),
    (["conv", "--i", "5", "--k", "3", "--d", "two"], ["dilation", "'two'", "whole numbers"]),
    (["conv", "--i", "5", "--k", "0"], ["kernel_size", "'0'", ">= 1"]),
    (["conv", "--i", "-5", "--k", "3"], ["input_size", "'-5'", ">= 1"]),
    (["conv", "--i", "5", "--k", "3", "--s", "0"], ["stride", "'0'", ">= 1"]),
    (["conv", "--i", "5", "--k", "3", "--d", "-1"], ["dilation", "'-1'", ">= 1"]),
    (["conv", "--i", "5", "--k", "3", "--p", "1,-1"], ["padding", "'1,-1'", ">= 0"]),
    (["conv", "--i", "5", "--k", "3", "--p", "middle"], ["padding", "middle", "valid, same, full"]),
    (["conv", "--i", "5", "--k", "1,2,3"], ["kernel_size", "3 values", "H,W"]),
    (["conv", "--i", "5", "--k", "3", "--s", ""], ["stride", "0 values"]),
    # combinations
    (["conv", "--i", "5", "--k", "7"], ["kernel_size", "7", "padded input", "5"]),
    (["conv", "--i", "5", "--k", "3", "--d", "3"], ["kernel_size", "effective", "7", "dilation 3"]),
    (["conv", "--i", "5", "--k", "4", "--p", "same"], ["same", "odd effective kernel", "4"]),
    (["conv", "--i", "5", "--k", "2,3", "--p", "same"], ["same", "odd effective kernel", "2,3"]),
    (["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "same"], ["same", "stride 1", "2"]),
    (["tconv", "--i", "2", "--k", "1", "--p", "1"], ["padding", "output of", ">= 1"]),
    (["tconv", "--i", "3", "--k", "3", "--s", "2", "--op", "2"], ["output_padding", "2", "smaller"]),
    (["tconv", "--i", "3", "--k", "3", "--d", "2", "--s", "2", "--op", "3,0"], ["output_padding", "3,0"]),
    (["tconv", "--i", "3", "--k", "3", "--p", "same"], ["padding", "same", "numbers only"]),
    (["tconv", "--of-conv", "--i", "5", "--k", "3", "--op", "1"], ["output_padding", "--of-conv"]),
    (["pool", "--i", "5", "--k", "3", "--p", "2"], ["padding", "half the kernel size"]),
    (["pool", "--i", "5", "--k", "3", "--weight", "k2.npy"], ["weight", "pooling takes no weight"]),
    (["info", "--i", "5", "--k", "3", "--op", "1"], ["output_padding", "--transposed"]),
    # --input / --weight files
    (CONV + ["--input", "missing.csv"], ["input", "missing.csv", "does not exist"]),
    (CONV + ["--input", "adir"], ["input", "adir", "directory"]),
    (CONV + ["--input", "binary.csv"], ["input", "binary.csv", "not text"]),
    (CONV + ["--input", "vec.npy"], ["input", "vec.npy", "(3,)", "2-D"]),
    (CONV + ["--input", "cube.npy"], ["input", "cube.npy", "(3, 3, 3)", "2-D"]),
    (CONV + ["--input", "text.npy"], ["input", "text.npy", "real numbers"]),
    (CONV + ["--input", "complex.npy"], ["input", "complex.npy", "complex", "real numbers"]),
    (CONV + ["--input", "obj.npy"], ["input", "obj.npy", "object", "real numbers"]),
    (CONV + ["--input", "liar.npy"], ["input", "liar.npy", "10,000,000,000", "at most"]),
    (CONV + ["--input", "short.npy"], ["input", "short.npy", "shorter than its header"]),
    (CONV + ["--input", "huge.csv"], ["input", "huge.csv", "68,157,440 bytes", "at most"]),
    (CONV + ["--input", "secret.csv"], ["input", "secret.csv", "'SECRET_TOKEN=abc...'"]),
    (CONV + ["--input", "eps.png"], ["input", "eps.png", "not a PNG file", "signature"]),
    (CONV + ["--input", "big.png"], ["input", "big.png", "100000x100000 px", "at most"]),
    (CONV + ["--input", "/dev/zero"], ["input", "/dev/zero", "not a regular file"]),
    (CONV + ["--weight", "pipe.csv"], ["weight", "pipe.csv", "not a regular file"]),
    (CONV + ["--input", "notnpy.npy"], ["input", "notnpy.npy", "not a numeric .npy"]),
    (CONV + ["--input", "words.csv"], ["input", "words.csv", "line 2", "'x'", "not a number"]),
    (CONV + ["--input", "ragged.csv"], ["input", "ragged.csv", "line 2", "equal length"]),
    (CONV + ["--input", "empty.csv"], ["input", "empty.csv", "no numbers"]),
    (CONV + ["--input", "nan.npy"], ["input", "nan.npy", "NaN or infinite"]),
    (CONV + ["--input", "inf.txt"], ["input", "inf.txt", "NaN or infinite"]),
    (CONV + ["--input", "k2.npy"], ["input", "k2.npy", "2x2", "input_size is 3x3"]),
    (CONV + ["--weight", "x3.csv"], ["weight", "x3.csv", "3x3", "kernel_size is 2x2"]),
    (CONV + ["--weight", "cube.npy"], ["weight", "cube.npy", "2-D"]),
    (CONV + ["--weight", "adir"], ["weight", "adir", "directory"]),
    # output and --frames
    (CONV + ["-o", "a.bmp"], ["output", "'.bmp'", ".gif, .webp, .png, .svg, .pdf, .json"]),
    (CONV + ["-o", "noext"], ["output", "noext", "(none)"]),
    (CONV + ["-o", ""], ["output", "''", "file name"]),
    (CONV + ["-o", "adir"], ["output", "adir"]),
    (CONV + ["-o", "nodir/a.gif"], ["output", "nodir", "does not exist"]),
    (CONV + ["-o", "afile/a.gif"], ["output", "afile", "does not exist"]),
    (CONV + ["--frames", "afile"], ["frames", "afile", "not a directory"]),
    (CONV + ["--frames", "afile/sub"], ["frames", "afile/sub", "not a directory"]),
    (CONV + ["--frames", ""], ["frames", "''", "directory name"]),
    # limits
    (["conv", "--i", "100000", "--k", "3"], ["frames", "9,999,600,004", "2,500", "--max-frames 9999600004"]),
    (["conv", "--i", "100000", "--k", "3", "-o", "a.json"], ["frames", "--max-frames"]),
    (["conv", "--i", "51", "--k", "1", "--max-frames", "2600"], ["frames", "2,601", "--max-frames 2601"]),
    (["conv", "--i", "200", "--k", "199"], ["size", "px", "4,000", "--max-size", "--cell"]),
    (["conv", "--i", "10", "--k", "3", "--max-size", "100"], ["size", "100 px", "--max-size"]),
    (["conv", "--i", "60", "--k", "11", "--cell", "8"], ["products", "11x11", "2,500", "302,500", "--max-products 302500"]),
    (["conv", "--i", "5", "--k", "3", "--max-frames", "0"], ["--max-frames", "0"]),
    # numbers beyond any bound, and integers written as Python would take them
    (["conv", "--i", "9" * 5000, "--k", "3"], ["input_size", "5002 characters", "at most 1,000,000"]),
    (["conv", "--i", str(2**64 + 1), "--k", "3"], ["input_size", "at most 1,000,000"]),
    (["conv", "--i", "5", "--k", "3", "--p", str(2**63)], ["padding", "at most 1,000,000"]),
    (["tconv", "--i", "5", "--k", "3", "--s", "2", "--op", str(10**30)], ["output_padding", "at most"]),
    (["conv", "--i", "1_0", "--k", "3"], ["input_size", "'1_0'"]),
    (["conv", "--i", "5", "--k", "3", "--seed", "1_0"], ["--seed", "'1_0'", "digits only"]),
    (["conv", "--i", "5", "--k", "3", "--frame", "9" * 40], ["--frame", "too large"]),
    (CONV + ["--input", "huge_values.txt", "--weight", "huge_k.txt"], ["overflow to infinity", "1e+200"]),
    (CONV + ["--input", "in.png", "-o", "in.png"], ["output", "in.png", "--input file"]),
    (CONV + ["--input", "in.png", "-o", "./sub/../in.png"], ["output", "in.png", "--input file"]),
    # click's own usage errors
    (["conv", "--i", "5", "--k", "3", "--cell", "2"], ["--cell", "2"]),
    (["conv", "--i", "5", "--k", "3", "--bogus"], ["--bogus"]),
    (["paint"], ["paint"]),
    (["pa\nint"], ["pa\\nint"]),  # a quoted newline stays on the one line
]


@pytest.mark.parametrize("args, words", ERRORS, ids=[" ".join(a)[:60] for a, _ in ERRORS])
def test_error_table(args, words, capsys, files):
    before = snapshot(files)
    code, out, err = run(args, capsys)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("convanim: error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert "Traceback" not in err and out == ""
    assert snapshot(files) == before  # nothing created, nothing changed


@pytest.mark.skipif(sys.platform != "linux", reason="uses /proc, where nothing can be created")
@pytest.mark.parametrize("args, words", [
    (["-o", "/proc/a.gif"], ["output", "/proc", "not writable"]),
    (["--frames", "/proc/fr"], ["frames", "/proc", "not writable"]),
])
def test_unwritable_directory(args, words, capsys, files):
    # Tests may run as root, for whom chmod does not stop a write; /proc stops everyone.
    code, _, err = run(CONV + args, capsys)
    assert code == 2 and all(w in err for w in words) and len(err.splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_read_only_directory(capsys, files):
    ro = files / "ro"
    ro.mkdir(mode=0o555)
    code, _, err = run(CONV + ["-o", "ro/a.gif"], capsys)
    assert code == 2 and "not writable" in err


def test_limits_are_checked_before_the_trace(monkeypatch, capsys, files):
    def no_trace(*a, **k):
        raise AssertionError("traced a refused request")
    monkeypatch.setattr(api, "trace_of", no_trace)
    code, _, err = run(["conv", "--i", "100000", "--k", "99999", "--max-products", "100000000000"], capsys)
    assert code == 2 and "size" in err


def test_raised_limits_allow_the_request(capsys, files):
    code, _, err = run(["conv", "--i", "4", "--k", "1", "--max-frames", "16", "-o", "a.gif"], capsys)
    assert code == 0, err
    code, _, err = run(["conv", "--i", "4", "--k", "1", "--max-frames", "15", "-o", "b.gif"], capsys)
    assert code == 2 and not (files / "b.gif").exists()


def test_api_check_limits_takes_spec_or_trace():
    spec = ca.conv2d(5, 3)
    api.check_limits(spec)
    api.check_limits(ca.trace_of(spec))
    with pytest.raises(api.LimitError, match="--max-frames 9"):
        api.check_limits(ca.trace_of(spec), max_frames=8)
    with pytest.raises(ca.SpecError, match="--max-size"):
        api.check_limits(spec, cell=200, max_size=500)
    api.check_limits(ca.conv2d(100000, 3), max_frames=None, max_size=None, max_products=None)


@settings(max_examples=150, deadline=None)
@given(st.one_of(conv_specs(), tconv_specs()), st.sampled_from([8, 13.5, 32]))
def test_canvas_size_from_spec_equals_layout(spec, cell):
    assert canvas_size(spec, cell) == iso_layout(ca.trace_of(spec), cell).size


def test_keyboard_interrupt_exits_130_quietly_and_keeps_old_file(monkeypatch, capsys, files):
    code, _, _ = run(["conv", "--i", "5", "--k", "3", "-o", "a.gif", "--frames", "fr"], capsys)
    assert code == 0
    before = snapshot(files)
    real = api.raster.frames

    def interrupted(*a, **k):
        for n, f in enumerate(real(*a, **k)):
            if n == 3:
                raise KeyboardInterrupt
            yield f
    monkeypatch.setattr(api.raster, "frames", interrupted)
    code, out, err = run(["conv", "--i", "5", "--k", "3", "-o", "a.gif", "--frames", "fr"], capsys)
    assert code == 130 and out == "" and err.strip() == ""  # click ends the ^C line, no more
    assert snapshot(files) == before


def test_write_failure_is_one_line_status_1_and_keeps_old_file(monkeypatch, capsys, files):
    run(["conv", "--i", "5", "--k", "3", "-o", "a.gif"], capsys)
    before = snapshot(files)

    def disk_full(fp, frames, **k):
        fp.write(b"GIF89a partial")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(writer, "write_gif", disk_full)
    code, out, err = run(["conv", "--i", "5", "--k", "3", "-o", "a.gif"], capsys)
    assert code == 1
    assert err.splitlines() == ["convanim: error: cannot write 'a.gif': No space left on device"]
    assert snapshot(files) == before


def test_internal_error_is_one_line_status_1(monkeypatch, capsys, files):
    monkeypatch.setattr(api.raster, "frames", lambda *a, **k: 1 / 0)
    code, _, err = run(["conv", "--i", "5", "--k", "3"], capsys)
    assert code == 1 and len(err.splitlines()) == 1 and "ZeroDivisionError" in err
    assert "CONVANIM_DEBUG" in err and list(files.glob("*.gif")) == []


def test_bare_command_shows_help(capsys):
    code, out, err = run([], capsys)
    assert code == 0 and "Usage:" in out and err == ""


def test_help_lists_limit_options(capsys):
    code, out, _ = run(["conv", "--help"], capsys)
    assert "--max-frames" in out and "--max-size" in out and "--max-products" in out


def child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _start_render(tmp_path, extra=()):
    """A child rendering 2,000 frames (seconds of work), returned once it is writing."""
    old = tmp_path / "big.gif"
    old.write_bytes(b"the previous version")
    cmd = [sys.executable, "-m", "convanim", "conv", "--i", "40,50", "--k", "1", "--cell", "8",
           "-o", str(old), "--frames", str(tmp_path / "fr"), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env())
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".big.gif.*")) and time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the child finished before it could be interrupted"
    return proc, old


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signame, status", [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129),
                                             ("double SIGINT", 130), ("SIGINT storm", 130)])
def test_a_signal_while_rendering_cleans_up_and_keeps_old_file(signame, status, tmp_path):
    """A real signal, sent once the child's temporary file exists (it is writing): the
    child exits 128 + the signal's number, quietly, leaving no temporary file, no frames
    folder and the previous file byte-identical. A second Ctrl-C right after the first
    (during the cleanup) changes nothing, nor does a storm of them spread over the whole
    cleanup (a signal every millisecond or so for 80 ms, so some land in every phase)."""
    proc, old = _start_render(tmp_path)
    if signame == "double SIGINT":
        proc.send_signal(signal.SIGINT)
        time.sleep(0.002)
        proc.send_signal(signal.SIGINT)
    elif signame == "SIGINT storm":
        end = time.monotonic() + 0.08
        while time.monotonic() < end and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            time.sleep(0.001)
    else:
        proc.send_signal(getattr(signal, signame))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert out == "" and err.strip() == ""
    assert old.read_bytes() == b"the previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.gif"]  # no temp, no frames dir


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_a_gallery_and_its_workers(tmp_path):
    """kill (SIGTERM) reaches the gallery process only: it stops its workers, which remove
    their temporary files; nothing of the run is left running or half-written."""
    spec = tmp_path / "s.toml"
    spec.write_text("".join(
        f'[[figure]]\nname = "f{n}"\ncommand = "conv"\ni = "40,50"\nk = 1\ncell = 8\n'
        'formats = ["gif", "frames"]\n' for n in range(4)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "f0.gif").write_bytes(b"previous")
    proc = subprocess.Popen([sys.executable, "-m", "convanim", "gallery", str(spec), "-o", str(out),
                             "-j", "2", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=child_env(), start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(out.rglob(".*.part.png"))) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)  # about a second: no figure is rendered to its end
    assert proc.returncode == 143, err
    assert "Traceback" not in err, err
    time.sleep(0.5)  # the workers were joined; give the kernel a moment to reap
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no process of the run is left
    assert not [p for p in out.rglob("*") if ".part" in p.name]
    assert (out / "f0.gif").read_bytes() == b"previous"


# --- property: random command lines end in a valid file or one clean error line -------------

pair = lambda lo, hi: st.one_of(  # noqa: E731
    st.integers(lo, hi).map(str),
    st.tuples(st.integers(lo, hi), st.integers(lo, hi)).map(lambda t: f"{t[0]},{t[1]}"))
bad_sizes = st.one_of(
    st.integers(-2, 0).map(str),
    st.sampled_from(["", "x", "1.5", "1,2,3", "same", "valid", "full", "-0", "1,0", "9999"]),
)
junk = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
MISTAKES = [None, "value", "drop", "junk", "suffix", "cell", "limit"]


@st.composite
def command_lines(draw):
    """A plausible command line with at most one mistake (None: none at all)."""
    cmd = draw(st.sampled_from(["conv", "tconv", "pool", "info"]))
    mistake = draw(st.sampled_from(MISTAKES))
    opts = {"--i": draw(pair(3, 5)), "--k": draw(pair(1, 3))}
    for flag, values in (("--s", pair(1, 2)), ("--p", st.sampled_from(["0", "1", "same", "valid"])),
                         ("--d", pair(1, 2))):
        if draw(st.booleans()):
            opts[flag] = draw(values)
    if cmd in ("tconv", "info") and draw(st.booleans()):
        opts["--op"] = draw(st.sampled_from(["0", "1"]))
    if cmd == "pool" and draw(st.booleans()):
        opts["--mode"] = draw(st.sampled_from(["max", "avg"]))
    if cmd != "info":
        opts["-o"] = "out" + draw(st.sampled_from([".gif", ".json"]))
        # Tight limits keep every example fast; going over them is one more clean error.
        opts["--max-frames"] = "40"
        opts["--max-size"] = "500"
        opts["--cell"] = "8"
    flags = list(opts)
    if mistake == "value":
        opts[draw(st.sampled_from([f for f in flags if f.startswith("--") and len(f) <= 4]))] = \
            draw(bad_sizes)
    elif mistake == "suffix" and "-o" in opts:
        opts["-o"] = "out" + draw(st.sampled_from([".bmp", "", ".GIF", ".png", ".webp", "/x.gif"]))
    elif mistake == "cell" and "--cell" in opts:
        opts["--cell"] = draw(st.sampled_from(["3", "x", "0", "201"]))
    elif mistake == "limit" and "--max-frames" in opts:
        opts["--max-frames"] = str(draw(st.integers(-1, 8)))
    elif mistake == "drop":
        del opts[draw(st.sampled_from(flags))]
    args = [cmd] + [x for kv in opts.items() for x in kv]
    if cmd == "tconv" and draw(st.booleans()):
        args.append(draw(st.sampled_from(["--of-conv", "--view=scatter"])))
    if cmd == "info" and draw(st.booleans()):
        args.append(draw(st.sampled_from(["--transposed", "--json"])))
    if mistake == "junk":
        args.insert(draw(st.integers(0, len(args))), draw(junk))
    return args


def expected_frames(args):
    opts = dict(zip(args[1::2], args[2::2]))
    get = lambda f, d: opts.get(f, d)  # noqa: E731
    if args[0] == "conv":
        spec = ca.conv2d(get("--i", None), get("--k", None), get("--s", "1"), get("--p", "0"),
                         get("--d", "1"))
    elif args[0] == "pool":
        spec = ca.pool2d(get("--mode", "max"), get("--i", None), get("--k", None),
                         get("--s", None), get("--p", "0"), get("--d", "1"))
    else:
        view = "scatter" if "--view=scatter" in args else "gather"
        if "--of-conv" in args:
            spec = ca.transpose_of(ca.conv2d(get("--i", None), get("--k", None), get("--s", "1"),
                                             get("--p", "0"), get("--d", "1")), view)
        else:
            spec = ca.conv_transpose2d(get("--i", None), get("--k", None), get("--s", "1"),
                                       get("--p", "0"), get("--d", "1"), get("--op", "0"), view)
    return spec.n_steps


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(args=st.one_of(command_lines(), st.lists(junk, max_size=4)))
def test_cli_ends_in_a_file_or_one_error_line(args, tmp_path_factory, capsys, monkeypatch):
    d = tmp_path_factory.mktemp("cli")
    monkeypatch.chdir(d)
    code, out, err = run(args, capsys)
    assert "Traceback" not in err
    assert code in (0, 2), (args, code, err)
    made = sorted(p.name for p in d.iterdir())
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("convanim: error: "), (args, err)
        assert made == []
        return
    assert err == ""
    if not made:  # info, --help, --version: text only
        assert out
        return
    assert len(made) == 1 and out.strip() == made[0]
    path = d / made[0]
    if path.suffix == ".json":
        import json
        doc = json.loads(path.read_text())
        assert len(doc["steps"]) == expected_frames(args)
    else:
        with Image.open(path) as im:
            assert getattr(im, "n_frames", 1) == expected_frames(args)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX flock and signals")
def test_waiting_for_another_runs_commit_stays_interruptible(tmp_path):
    """Another run holds the folder's commit lock: SIGTERM still ends this one at once."""
    import fcntl

    fd = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as another run's commit would
    try:
        proc = subprocess.Popen([sys.executable, "-m", "convanim", "conv", "--i", "4", "--k", "3",
                                 "-o", str(tmp_path / "a.gif")], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=child_env())
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".a.gif.*")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        time.sleep(0.3)  # rendered (4 frames) and waiting for the lock
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 143, err
        assert sorted(p.name for p in tmp_path.iterdir()) == []
    finally:
        os.close(fd)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_a_fifo_named_like_an_old_frame_is_left_alone(tmp_path):
    """Stale frames are opened to see whether convanim wrote them: a FIFO is not opened."""
    frames = tmp_path / "fr"
    frames.mkdir()
    os.mkfifo(frames / "a_0099.png")
    proc = subprocess.run([sys.executable, "-m", "convanim", "conv", "--i", "4", "--k", "3",
                           "-o", str(tmp_path / "a.gif"), "--frames", str(frames)],
                          capture_output=True, text=True, env=child_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (frames / "a_0099.png").exists() and (frames / "a_0004.png").is_file()

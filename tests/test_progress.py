"""The progress bar of long single renders: api.save's progress callback, the bar, -q."""

import io
import re
import sys

import pytest

import convanim as ca
from convanim import api, commands
from convanim.cli import main


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_save_reports_every_raster_frame_in_order(tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    calls = []
    ca.save(t, tmp_path / "a.gif", progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 4) for n in range(1, 5)]
    # The frames and the strip ride along: still one call a frame.
    calls.clear()
    ca.save(t, tmp_path / "b.gif", frames_dir=tmp_path / "f", strip=tmp_path / "s.png",
            progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 4) for n in range(1, 5)]
    # No raster frames, no calls (and no error).
    calls.clear()
    ca.save(t, tmp_path / "a.json", progress=lambda *a: calls.append(a))
    ca.save(t, tmp_path / "f3.png", frame=3, progress=lambda *a: calls.append(a))
    assert calls == []


def test_run_job_passes_progress_and_the_strip_grid(tmp_path):
    job = api.Job(ca.pool2d("max", 4, 2, stride=1), outputs=(str(tmp_path / "p.gif"),),
                 strip=str(tmp_path / "s.png"))
    calls, grids = [], []
    api.run_job(job, progress=lambda d, n: calls.append((d, n)), on_strip=grids.append)
    assert calls == [(n, 9) for n in range(1, 10)]
    assert [(g.path.name, g.frames, g.columns, g.rows) for g in grids] == [("s.png", 9, 9, 1)]


def test_bar_shows_for_a_long_render_only():
    clock, tty = Clock(), FakeTTY()
    bar = commands.RenderProgress("rendering a.gif", file=tty, clock=clock)
    clock.now += 0.5
    bar(5, 100)                        # too early to tell
    assert tty.getvalue() == ""
    clock.now += 1.0
    bar(30, 100)                       # 1.5 s for 30 of 100: about 5 s in all -> shown
    shown = tty.getvalue()
    assert "rendering a.gif" in shown and "30/100" in shown
    assert re.search(r"\d\d:\d\d:\d\d", shown)              # the time left
    for done in range(31, 101):
        clock.now += 0.05
        bar(done, 100)
    assert "100/100" in tty.getvalue() and tty.getvalue().endswith("\n")  # line ended
    bar.close()                                            # idempotent


def test_no_bar_for_a_short_render_or_without_a_terminal():
    clock, tty = Clock(), FakeTTY()
    bar = commands.RenderProgress("rendering a.gif", file=tty, clock=clock)
    clock.now += 1.2
    bar(80, 100)                       # 1.2 s for 80 of 100: 1.5 s in all -> not worth a bar
    clock.now += 0.3
    bar(100, 100)
    assert tty.getvalue() == ""
    clock, pipe = Clock(), io.StringIO()                    # not a terminal
    bar = commands.RenderProgress("rendering a.gif", file=pipe, clock=clock)
    clock.now += 10
    bar(1, 100)
    bar(100, 100)
    assert pipe.getvalue() == ""


def test_cli_bar_on_a_terminal_and_quiet(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(commands, "SHOW_AFTER", 0.0)       # every render counts as long
    monkeypatch.setattr(commands, "SHOW_LONGER", 0.0)
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    code, out, _ = run(["conv", "--i", "4", "--k", "3"], capsys)
    assert code == 0 and out.strip() == "conv_i4_k3.gif"
    assert "rendering conv_i4_k3.gif" in tty.getvalue() and "4/4" in tty.getvalue()
    # -q: nothing but errors, on either stream.
    tty.seek(0)
    tty.truncate()
    for cmd in (["conv", "--i", "4", "--k", "3"], ["tconv", "--i", "2", "--k", "2"],
                ["pool", "--i", "4", "--k", "2"]):
        code, out, _ = run(cmd + ["-q", "-o", "q.gif"], capsys)
        assert code == 0 and out == "" and tty.getvalue() == ""
    assert (tmp_path / "q.gif").is_file()
    code, out, _ = run(["conv", "--i", "4", "--k", "9", "-q"], capsys)
    assert code == 2 and out == "" and "convanim: error:" in tty.getvalue()


def test_quiet_is_not_a_gallery_key(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('[[figure]]\nname = "a"\ncommand = "conv"\ni = 3\nk = 2\nquiet = true\n')
    code, _, err = run(["gallery", str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "entry a: key quiet: unknown for conv" in err
    assert "quiet" not in err.split("allowed:")[1]

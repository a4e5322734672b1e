"""A long GIF on every core (convanim.parallel): frames drawn from any frame on are the
frames drawn from the first, so the file is byte for byte the one-process file whatever
the number of processes and wherever the parts are cut; a worker's error is one line; a
signal stops every process of the run and leaves nothing behind."""

import io
import os
import signal
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convanim as ca
from convanim import api, parallel, writer
from convanim.backends import raster
from convanim.commands import JOBS, cli
from convanim.gallery.spec import _figure_params, load

from strategies import conv_specs, tconv_specs
from test_robust import child_env, run

FORKS = parallel.context() is not None
needs_fork = pytest.mark.skipif(not FORKS, reason="parts are drawn in forked workers (Linux)")


def pixels(frames):
    return [np.array(f) for f in frames]


def assert_same_from_every_start(scene, starts=None):
    serial = pixels(raster.frames(scene))
    n = len(serial)
    for start in (range(1, n) if starts is None else starts):
        part = pixels(raster.frames(scene, start=start))
        assert len(part) == n - start
        for k, (a, b) in enumerate(zip(part, serial[start:])):
            assert np.array_equal(a, b), (start, start + k, int((a != b).sum()))


def gallery_scene(name):
    (entry,) = [e for e in load(None) if e.name == name]
    cmd = cli.commands[entry.command]
    job = JOBS[entry.command](**_figure_params(cmd.make_context(entry.command,
                                                                list(entry.args)).params))
    t = api.trace_of(job.spec, seed=job.seed, input=job.input, weight=job.weight,
                     grad_output=job.grad_output, bias=job.bias)
    return api.scene(t, job.look)


# One of each kind of scene: iso, flat, numbers, the scatter view (shapes that stay), the
# overlap view, channels in both styles, pooling, a backward pass, a transparent theme.
KINDS = ["arbitrary_padding_no_strides", "numerical_padding_strides", "dilation_transposed",
         "padding_strides_transposed_scatter", "overlap_k3_s2", "channels_grouped",
         "numerical_channels_3_maps_2_filters", "numerical_max_pooling",
         "grad_weight_padding_strides", "grad_input_padding_strides_scatter"]


@pytest.mark.parametrize("name", KINDS)
def test_frames_from_any_start_are_the_frames_from_the_first(name):
    # Every frame equal, pixel for pixel, from every start: a part drawn by a worker
    # from a fresh still picture is the serial animation's part.
    scene = gallery_scene(name)
    n = scene.n_frames
    assert_same_from_every_start(scene, None if n <= 20 else [1, 2, n // 3, n // 2, n - 1])


@pytest.mark.parametrize("look", [dict(style="flat", scale=1.5), dict(numbers=True, caption="auto"),
                                  dict(transparent=True, title="t"), dict(style="flat", cell=12)])
def test_frames_from_any_start_other_looks(look):
    assert_same_from_every_start(api.scene(ca.trace_of(ca.conv2d((6, 5), 3, 1, 1)), **look))


def test_frames_from_any_start_on_a_canvas_drawn_tile_by_tile(monkeypatch):
    # Past STILL_PIXELS the bottom layer is kept tile by tile, as frames need them.
    from convanim.backends.raster import canvas, ops
    monkeypatch.setattr(canvas, "STILL_PIXELS", 6 << 20)
    scene = api.scene(ca.trace_of(ca.conv2d(24, 3, 2, 1)), style="flat", cell=40)
    w, h = scene.size
    assert w * h * ops.SS * ops.SS > canvas.STILL_PIXELS
    assert_same_from_every_start(scene, [1, 60, scene.n_frames - 1])


def test_a_part_starts_early_or_its_first_frames_differ(monkeypatch):
    # Why WARM: started exactly at its first frame, a part puts in its still picture a
    # number that the one-pass drawing has moving (on the window), so a frame repaints
    # other rectangles, and Pillow shades an edge pixel there one step differently.
    from convanim.backends.raster import animate

    scene = api.scene(ca.trace_of(ca.conv2d((6, 5), 3, 1, 1)), numbers=True, caption="auto")
    serial = pixels(raster.frames(scene))
    monkeypatch.setattr(animate, "WARM", 0)
    part = pixels(raster.frames(scene, start=9))
    assert int((part[0] != serial[9]).sum()) == 1
    monkeypatch.setattr(animate, "WARM", 1)
    assert_same_from_every_start(scene, [9, 13, 14, 17, 18])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(conv_specs(), tconv_specs()), st.sampled_from(["iso", "flat"]), st.booleans(),
       st.data())
def test_frames_from_a_random_start_property(spec, style, numbers, data):
    scene = api.scene(ca.trace_of(spec), style=style, numbers=numbers)
    if scene.n_frames < 2:
        return
    start = data.draw(st.integers(1, scene.n_frames - 1))
    assert_same_from_every_start(scene, [start])


# The GIF's bytes -------------------------------------------------------------------

def frames_of(spec, **look):
    return list(ca.iter_frames(ca.trace_of(spec), 32, changed=True, **look))


def test_gif_parts_encoded_apart_join_to_the_one_pass_bytes():
    frames = frames_of(ca.conv2d(5, 3, 1, 1), style="flat")
    whole = io.BytesIO()
    writer.write_gif(whole, iter(frames), duration=300, loop=2)
    for cut in (1, 4, len(frames) - 1):
        first, second = writer.GifEncoder(300, 2), writer.GifEncoder(300)
        data = b"".join(first.add(f) for f in frames[:cut]) + first.finish()
        second.prime(frames[cut - 1], cut - 1)
        data += b"".join(second.add(f) for f in frames[cut:]) + second.finish() + b";"
        assert data == whole.getvalue(), cut
        assert (first.written, second.written) == (cut, len(frames) - cut)


def test_a_transparent_gif_is_encoded_in_one_pass_only():
    scene = api.scene(ca.trace_of(ca.conv2d(5, 3, 2, 1)), transparent=True)
    first = next(raster.frames(scene, changed=True))
    with pytest.raises(ValueError, match="one pass"):
        writer.GifEncoder().prime(first, 0)
    assert not parallel.can_split(api.scene(ca.trace_of(ca.conv2d(9, 3, 1, 1)),
                                            transparent=True), 4)


@needs_fork
@pytest.mark.parametrize("jobs", [2, 3, 5])
def test_gif_in_parts_is_the_serial_gif(jobs, monkeypatch):
    # Whatever the number of processes (and so the cuts), the bytes of one process.
    monkeypatch.setattr(parallel, "SPLIT", 2)
    monkeypatch.setattr(parallel, "MIN_PART", 2)
    t = ca.trace_of(ca.conv2d(7, 3, 1, 1))
    scene = api.scene(t, style="flat")
    serial = io.BytesIO()
    writer.write_gif(serial, raster.frames(scene, changed=True), duration=200, loop=3)
    calls = []
    monkeypatch.setattr(parallel, "pool", counted(parallel.pool, calls))
    seen = []
    buf = io.BytesIO()
    n = parallel.write_gif(buf, scene, 200, 3, jobs, lambda d, total: seen.append((d, total)))
    assert n == scene.n_frames == 49
    assert calls == [jobs - 1]  # the workers did draw parts
    assert buf.getvalue() == serial.getvalue()
    # The progress went up to every frame, never back.
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == 49 and {t for _, t in seen} == {49}


def counted(fn, calls):
    def wrapper(workers):
        calls.append(workers)
        return fn(workers)
    return wrapper


def test_a_short_render_stays_in_one_process(monkeypatch):
    # Under SPLIT frames no worker is started, however many cores there are.
    calls = []
    monkeypatch.setattr(parallel, "pool", counted(parallel.pool, calls))
    scene = api.scene(ca.trace_of(ca.conv2d(7, 3, 1, 1)), style="flat")
    assert scene.n_frames < parallel.SPLIT
    buf = io.BytesIO()
    parallel.write_gif(buf, scene, jobs=4)
    assert calls == []
    serial = io.BytesIO()
    writer.write_gif(serial, raster.frames(scene, changed=True))
    assert buf.getvalue() == serial.getvalue()


@needs_fork
def test_cli_jobs_give_the_same_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parallel, "SPLIT", 2)
    monkeypatch.setattr(parallel, "MIN_PART", 2)
    calls = []
    monkeypatch.setattr(parallel, "pool", counted(parallel.pool, calls))
    args = ["conv", "--i", "9", "--k", "3", "--p", "1", "--style", "flat", "-q"]
    for jobs in ("1", "2", "4"):
        code, out, err = run(args + ["-j", jobs, "-o", str(tmp_path / f"j{jobs}.gif")], capsys)
        assert code == 0 and out == "" and err == "", err
    assert calls == [1, 3]
    one = (tmp_path / "j1.gif").read_bytes()
    assert (tmp_path / "j2.gif").read_bytes() == one == (tmp_path / "j4.gif").read_bytes()
    code, _, err = run(args + ["-j", "0"], capsys)
    assert code == 2 and "-j" in err and len(err.splitlines()) == 1


def test_jobs_of_the_library_are_checked(tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ca.SpecError, match="jobs"):
            ca.save(t, tmp_path / "a.gif", jobs=bad)
    assert not list(tmp_path.iterdir())


def test_the_gallery_neither_takes_nor_hashes_jobs(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text('[[figure]]\nname = "f"\ncommand = "conv"\ni = 3\nk = 2\njobs = 2\n')
    code, _, err = run(["gallery", str(spec), "-o", str(tmp_path / "out")], capsys)
    assert code == 2 and "jobs" in err


def failing_part(first, stop, duration, slot=0):
    """A worker's part that fails (module level: the pool pickles it by name)."""
    raise RuntimeError(f"no memory for frames {first}..{stop - 1}")


@needs_fork
def test_an_error_in_a_worker_is_one_line_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(parallel, "SPLIT", 2)
    monkeypatch.setattr(parallel, "MIN_PART", 2)
    monkeypatch.setattr(parallel, "_part", failing_part)
    out = tmp_path / "a.gif"
    out.write_bytes(b"previous")
    code, _, err = run(["conv", "--i", "9", "--k", "3", "--p", "1", "-j", "2", "-o", str(out)],
                       capsys)
    assert code == 1, err
    assert err.startswith("convanim: internal error: RuntimeError: no memory for frames ")
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert out.read_bytes() == b"previous" and sorted(tmp_path.iterdir()) == [out]


def slow_pid(n, seconds):
    """A call for parallel.shared (module level: the pool pickles it by name)."""
    time.sleep(seconds)
    return n, os.getpid()


def marked(n, folder, fail_here=False):
    """A call for parallel.shared: in a worker, marks its start, sleeps 30 s, marks its
    end; here, returns at once (or fails)."""
    if os.getpid() == PARENT:
        if fail_here:
            wait_for(Path(folder) / "started-0")  # the worker is in its call
            raise RuntimeError(f"call {n} failed")
        return n, os.getpid()
    # Written whole, then renamed: the parent polls for the name and must never read
    # the file between its creation and its write.
    part = Path(folder) / f"started-{n}.part"
    part.write_text(str(os.getpid()))
    part.rename(Path(folder) / f"started-{n}")
    time.sleep(30)
    (Path(folder) / f"finished-{n}").touch()
    return n, os.getpid()


PARENT = os.getpid()


@needs_fork
def test_shared_calls_run_here_and_in_the_workers_each_once():
    got = list(parallel.shared(slow_pid, [(n, 0.05) for n in range(8)], 1))
    assert sorted(n for n, _ in got) == list(range(8))
    pids = {pid for _, pid in got}
    assert os.getpid() in pids and len(pids) == 2  # this process worked too
    first = dict(got)
    assert first[0] != os.getpid() and first[1] == os.getpid()  # the workers take the first


def wait_for(path):
    deadline = time.monotonic() + 60
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.exists()
    return int(path.read_text())


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


@needs_fork
@pytest.mark.parametrize("how", ["error here", "caller stops"])
def test_shared_stops_its_workers_at_once(how, tmp_path):
    """An error in this process's own call, or a caller that stops iterating, terminates
    the worker in the middle of its call (30 s): the pool does not wait for it."""
    calls = [(0, str(tmp_path)), (1, str(tmp_path), how == "error here"), (2, str(tmp_path))]
    gen = parallel.shared(marked, calls, 1)
    if how == "error here":
        with pytest.raises(RuntimeError, match="call 1 failed"):
            list(gen)
    else:
        assert next(gen) == (1, os.getpid())  # this process's call: the worker's sleeps
        wait_for(tmp_path / "started-0")
        gen.close()
    worker = int((tmp_path / "started-0").read_text())
    assert gone(worker)
    assert not (tmp_path / "finished-0").exists()


# Signals -----------------------------------------------------------------------------

def children(pid):
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


@needs_fork
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
@pytest.mark.parametrize("signame, status, group", [("SIGTERM", 143, False), ("SIGHUP", 129, False),
                                                    ("SIGINT", 130, True)])
def test_a_signal_stops_the_parts_and_leaves_nothing(signame, status, group, tmp_path):
    """A long GIF (tens of seconds on one core), signalled once its worker is drawing:
    SIGTERM and SIGHUP as ``kill`` sends them, to the parent only; SIGINT as Ctrl-C
    sends it, to the whole process group. The run exits 128 + the signal's number,
    quietly; no process of it is left, no temporary file, the previous file as it was."""
    old = tmp_path / "big.gif"
    old.write_bytes(b"the previous version")
    proc = subprocess.Popen(
        [sys.executable, "-m", "convanim", "conv", "--i", "32", "--k", "3", "--p", "1",
         "--style", "flat", "-j", "2", "-o", str(old)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
        start_new_session=True)
    deadline = time.monotonic() + 60
    while not (children(proc.pid) and list(tmp_path.glob(".big.gif.*"))):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.3)  # the worker is drawing its part
    if group:
        os.killpg(proc.pid, getattr(signal, signame))
    else:
        proc.send_signal(getattr(signal, signame))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == status, err
    assert out == "" and err.strip() == ""
    time.sleep(0.5)  # the workers were joined; give the kernel a moment to reap
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no process of the run is left
    assert old.read_bytes() == b"the previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.gif"]


def test_a_part_counts_each_frame_in_the_shared_counts():
    # The progress of a split render moves with every frame a worker draws: its part
    # adds one to its own slot of the shared counts per frame (read by write_gif).
    from multiprocessing.sharedctypes import RawArray

    scene = api.scene(ca.trace_of(ca.conv2d(7, 3, 1, 1)), style="flat")
    counts = RawArray("q", 3)
    seen = []

    class Counts:  # records the count after each frame
        def __getitem__(self, k):
            return counts[k]

        def __setitem__(self, k, v):
            counts[k] = v
            seen.append((k, v))

    parallel._shared[:] = [scene, Counts()]
    try:
        part = parallel._part(10, 20, 200, 1)
    finally:
        parallel._shared.clear()
    assert seen == [(1, n) for n in range(1, 11)]
    assert list(counts) == [0, 10, 0]
    enc = writer.GifEncoder(200)
    frames = raster.frames(scene, changed=True)
    whole = b"".join(enc.add(f) for f in islice(frames, 20)) + enc.finish()
    assert whole.endswith(part)  # the part's bytes are those frames' of the one pass


def test_a_short_render_does_not_import_the_pool(tmp_path):
    # Every GIF render asks whether it is long enough to split; a short one must not pay
    # for importing multiprocessing and concurrent.futures (about 25 ms) to hear no.
    code = ("import sys, convanim as ca\n"
            f"ca.save(ca.trace_of(ca.conv2d(4, 3)), {str(tmp_path / 'a.gif')!r}, jobs=None)\n"
            "print(sorted(m for m in ('multiprocessing', 'concurrent.futures', 'queue')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"
    assert (tmp_path / "a.gif").stat().st_size > 0

"""The writer: streamed GIF equal to its frames, laziness, atomic writes on failure."""

import gc
import io
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageSequence

import convanim as ca
from convanim import formats, writer
from convanim.api import iter_frames
from convanim.theme import Theme


def frames_of(spec, cell=16):
    return list(iter_frames(ca.trace_of(spec), cell=cell))


SPECS = [
    ca.conv2d(5, 3, 2, 1),
    ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0)),
    ca.conv_transpose2d(2, 2, 2, view="scatter"),
    ca.pool2d("max", 4, 2),
]


def gif_frames_rgb(data: bytes) -> list[np.ndarray]:
    """Every composited frame of a GIF as Pillow shows it, in RGB."""
    with Image.open(io.BytesIO(data)) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.short_name())
def test_streamed_gif_equals_every_frame(spec):
    src = frames_of(spec)
    buf = io.BytesIO()
    assert writer.write_gif(buf, iter(src), duration=120, loop=2) == len(src)
    got = gif_frames_rgb(buf.getvalue())
    assert len(got) == len(src)
    for n, (a, b) in enumerate(zip(got, src)):
        assert np.array_equal(a, np.asarray(b.convert("RGB"))), f"frame {n} differs"
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        assert im.info["duration"] == 120 and im.info["loop"] == 1  # 2 plays: 1 repeat


def test_identical_frames_still_count():
    src = frames_of(ca.conv2d(3, 3))  # one frame
    buf = io.BytesIO()
    writer.write_gif(buf, [src[0], src[0].copy(), src[0].copy()])
    got = gif_frames_rgb(buf.getvalue())
    assert len(got) == 3 and all(np.array_equal(g, got[0]) for g in got)


def test_gif_is_byte_deterministic():
    a, b = io.BytesIO(), io.BytesIO()
    writer.write_gif(a, iter(frames_of(ca.conv2d(5, 3, 2, 1))))
    writer.write_gif(b, iter(frames_of(ca.conv2d(5, 3, 2, 1))))
    assert a.getvalue() == b.getvalue()


def _image_descriptors(data: bytes):
    """(left, top, width, height) of every image in a GIF, by walking its blocks."""
    pos = 13 + 3 * 2 ** ((data[10] & 7) + 1)  # header, screen descriptor, global palette
    out = []
    while data[pos] != 0x3B:
        if data[pos] == 0x21:  # extension: label, then sub-blocks
            pos += 2
        else:
            assert data[pos] == 0x2C
            out.append(tuple(int.from_bytes(data[pos + 1 + 2 * i: pos + 3 + 2 * i], "little")
                             for i in range(4)))
            assert data[pos + 9] & 0x80 == 0  # no local palette: the global one is shared
            pos += 11  # descriptor + LZW minimum code size
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    return out


def test_frames_after_the_first_carry_only_the_changed_rectangle():
    src = frames_of(ca.conv2d(6, 3, 1, 0), cell=24)
    buf = io.BytesIO()
    writer.write_gif(buf, iter(src))
    boxes = _image_descriptors(buf.getvalue())
    w, h = src[0].size
    assert len(boxes) == len(src)
    assert boxes[0] == (0, 0, w, h)
    assert all(bw * bh < w * h for _, _, bw, bh in boxes[1:])
    # The rectangle covers exactly the pixels that changed.
    for n in range(1, len(src)):
        prev, cur = np.asarray(src[n - 1]), np.asarray(src[n])
        ys, xs = np.nonzero(prev != cur)
        x, y, bw, bh = boxes[n]
        assert (x, y, x + bw, y + bh) == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_gif_writer_consumes_frames_lazily(tmp_path):
    """Bytes reach the file before the last frame is made, and old frames are let go."""
    path = tmp_path / "a.gif"
    src = frames_of(ca.conv2d(5, 3, 1, 0))
    pulled, sizes_seen, alive = [], [], []

    def gen():
        for n, f in enumerate(src):
            pulled.append(n)
            copy = f.copy()
            alive.append(weakref.ref(copy))
            gc.collect()
            sizes_seen.append(path.stat().st_size if path.exists() else None)
            yield copy

    with open(path, "wb") as fp:
        def gen_fp():
            for f in gen():
                fp.flush()
                sizes_seen[-1] = fp.tell()
                yield f
        writer.write_gif(fp, gen_fp())
    assert pulled == list(range(len(src)))
    assert sizes_seen[0] == 0 and sizes_seen[-1] > sizes_seen[1] > 0  # written as it goes
    gc.collect()
    assert sum(r() is not None for r in alive[:-2]) == 0  # earlier frames were not kept


def test_write_animation_streams_frames_one_at_a_time(tmp_path):
    src = frames_of(ca.conv2d(4, 3, 1, 0))
    refs = []

    def gen():
        for f in src:
            copy = f.copy()
            refs.append(weakref.ref(copy))
            gc.collect()
            # No earlier frame is still referenced when the next one is asked for.
            assert sum(r() is not None for r in refs[:-1]) == 0
            yield copy

    formats.write_animation(tmp_path / "a.gif", gen())
    assert len(refs) == len(src)


def _failing(src, after, exc):
    for n, f in enumerate(src):
        if n == after:
            raise exc
        yield f


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".png"])
@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_failure_halfway_keeps_old_file_and_leaves_no_temp(tmp_path, suffix, exc):
    src = frames_of(ca.conv2d(5, 3, 2, 1))
    path = tmp_path / f"a{suffix}"
    formats.write_animation(path, iter(src))
    before = path.read_bytes()
    with pytest.raises(type(exc)):
        formats.write_animation(path, _failing(src, 3, exc))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()], ids=["error", "interrupt"])
def test_save_with_frames_dir_is_all_or_nothing(tmp_path, monkeypatch, exc):
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    out, frames = tmp_path / "a.gif", tmp_path / "fr"
    ca.save(t, out, frames_dir=frames)
    before = {p.name: p.read_bytes() for p in [out, *frames.iterdir()]}
    assert len(before) == 1 + 9
    import convanim.api as api
    real = api.raster.frames
    monkeypatch.setattr(api.raster, "frames", lambda *a, **k: _failing(real(*a, **k), 4, exc))
    with pytest.raises(type(exc)):
        ca.save(t, out, frames_dir=frames)
    after = {p.name: p.read_bytes() for p in [out, *frames.iterdir()]}
    assert after == before  # old animation and old frames intact, no temp files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif", "fr"]


def test_failed_save_removes_the_frames_dir_it_made(tmp_path, monkeypatch):
    import convanim.api as api
    real = api.raster.frames
    monkeypatch.setattr(api.raster, "frames",
                        lambda *a, **k: _failing(real(*a, **k), 2, RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        ca.save(ca.trace_of(ca.conv2d(4, 3)), tmp_path / "a.gif", frames_dir=tmp_path / "x" / "fr")
    assert list(tmp_path.iterdir()) == []


def test_save_renders_once_for_animation_and_frames(tmp_path, monkeypatch):
    import convanim.api as api
    calls = []
    real = api.raster.frames
    monkeypatch.setattr(api.raster, "frames", lambda *a, **k: calls.append(1) or real(*a, **k))
    t = ca.trace_of(ca.conv2d(5, 3, 2, 1))
    ca.save(t, tmp_path / "a.gif", frames_dir=tmp_path / "fr")
    assert calls == [1]
    pngs = sorted((tmp_path / "fr").iterdir())
    assert [p.name for p in pngs] == [f"a_{n:04d}.png" for n in range(1, 10)]
    got = gif_frames_rgb((tmp_path / "a.gif").read_bytes())
    for g, p in zip(got, pngs):
        with Image.open(p) as im:
            assert np.array_equal(g, np.asarray(im.convert("RGB")))


def test_json_with_frames_dir_writes_both(tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    ca.save(t, tmp_path / "t.json", frames_dir=tmp_path / "fr")
    assert (tmp_path / "t.json").read_text().startswith("{")
    assert len(list((tmp_path / "fr").iterdir())) == 4


def test_write_gif_rejects_frames_it_cannot_stream():
    src = frames_of(ca.conv2d(4, 3))
    with pytest.raises(ValueError, match="P-mode"):
        writer.write_gif(io.BytesIO(), [src[0].convert("RGB")])
    other = src[1].copy()
    other.putpalette([0] * 768)
    with pytest.raises(ValueError, match="palette"):
        writer.write_gif(io.BytesIO(), [src[0], other])


def test_make_dir_tolerates_a_directory_made_meanwhile(tmp_path, monkeypatch):
    # Two gallery workers make out/frames at once: the loser must go on, and must not
    # remove on discard a directory the other one made.
    from pathlib import Path
    real_mkdir = Path.mkdir

    def racing_mkdir(self, *a, **k):
        if self.name == "frames":
            real_mkdir(self)  # the other worker wins the race
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", racing_mkdir)
    staging = writer.Staging()
    staging.make_dir(tmp_path / "frames" / "a")
    assert (tmp_path / "frames" / "a").is_dir()
    staging.discard()
    assert (tmp_path / "frames").is_dir() and not (tmp_path / "frames" / "a").exists()


HINTED = SPECS + [ca.conv2d(7, 3, 1, 1)]


@pytest.mark.parametrize("picture", [{}, {"numbers": True}, {"style": "flat"},
                                     {"caption": "auto", "labels": True}],
                         ids=["iso", "numbers", "flat", "caption"])
@pytest.mark.parametrize("spec", HINTED, ids=lambda s: s.short_name())
def test_changed_box_from_the_renderer_holds_every_change(spec, picture):
    # The renderer tells the writer where a frame may differ from the last one; a
    # box too small would drop changes. Writing the same frames without the boxes
    # (a full comparison) must give the same bytes.
    src = list(iter_frames(ca.trace_of(spec), cell=16, changed=True, **picture))
    assert all(writer.CHANGED in f.info for f in src)
    hinted, full = io.BytesIO(), io.BytesIO()
    writer.write_gif(hinted, iter(src))
    bare = []
    for f in src:
        g = f.copy()
        g.info.pop(writer.CHANGED, None)
        bare.append(g)
    writer.write_gif(full, iter(bare))
    assert hinted.getvalue() == full.getvalue()


def _pair(b_mark, a_mark=writer.Changed(7, 0, (8, 8), None)):
    a = Image.new("P", (8, 8), 0)
    a.putpalette([0, 0, 0, 255, 255, 255] * 128)
    b = a.copy()
    b.putpixel((0, 0), 1)  # a change outside the box below
    b.putpixel((6, 6), 1)
    a.info[writer.CHANGED] = a_mark
    b.info[writer.CHANGED] = b_mark
    buf = io.BytesIO()
    writer.write_gif(buf, [a, b])
    return _image_descriptors(buf.getvalue())[1]


def test_writer_compares_only_inside_the_box_of_the_next_frame_of_a_run():
    assert _pair(writer.Changed(7, 1, (8, 8), (4, 4, 8, 8))) == (6, 6, 1, 1)
    # Another run, a step skipped, another size: the box is not trusted.
    assert _pair(writer.Changed(8, 1, (8, 8), (4, 4, 8, 8))) == (0, 0, 7, 7)
    assert _pair(writer.Changed(7, 2, (8, 8), (4, 4, 8, 8))) == (0, 0, 7, 7)
    assert _pair(writer.Changed(7, 1, (4, 4), (4, 4, 8, 8))) == (0, 0, 7, 7)


def test_writer_reads_only_the_rectangles_of_a_trusted_box():
    # The renderer's rectangles, finer than their box: a change in the box outside
    # them is not looked for (the renderer vouches there is none), so not written.
    assert _pair(writer.Changed(7, 1, (8, 8), (0, 0, 8, 8), ((5, 5, 8, 8), (0, 4, 2, 6)))) \
        == (6, 6, 1, 1)
    assert _pair(writer.Changed(7, 1, (8, 8), (0, 0, 8, 8), ((0, 0, 1, 1), (5, 5, 8, 8)))) \
        == (0, 0, 7, 7)
    # Not the next frame of the run: neither the box nor the rectangles are trusted.
    assert _pair(writer.Changed(7, 2, (8, 8), (4, 4, 8, 8), ((5, 5, 8, 8),))) == (0, 0, 7, 7)


def test_writer_slices_the_renderer_s_pixels_and_never_a_copy_s(monkeypatch):
    # A renderer's frame is read-only over the indices its Changed record holds: the
    # writer slices those instead of cropping the image. A changed copy (writable, its
    # record copied with its info) is read from its own pixels.
    src = list(iter_frames(ca.trace_of(ca.conv2d(6, 3, 1, 1)), cell=16, changed=True))
    crops = []
    crop = Image.Image.crop
    monkeypatch.setattr(Image.Image, "crop", lambda im, *a, **k: crops.append(1) or crop(im, *a, **k))
    plain = io.BytesIO()
    writer.write_gif(plain, iter(src))
    assert not crops
    lut = np.roll(np.arange(256, dtype=np.uint8), 1)
    lut[255] = 0
    copies, made = [], []
    for f in src:
        g = f.copy()  # the same record in its info, pixels of its own
        g.paste(3, (0, 0, 2, 2))
        copies.append(g)
        h = Image.fromarray(lut[np.asarray(f)], "P")  # read-only too, and given the info
        h.putpalette(f.getpalette())
        h.info.update(f.info)
        made.append(h)
    for changed in (copies, made):
        crops.clear()
        buf = io.BytesIO()
        writer.write_gif(buf, iter(changed))
        assert crops
        got = gif_frames_rgb(buf.getvalue())
        for n, (a, b) in enumerate(zip(got, changed)):
            assert np.array_equal(a, np.asarray(b.convert("RGB"))), f"frame {n} differs"


@pytest.mark.parametrize("order", ["every other", "reversed", "ping-pong", "resized"])
def test_frames_out_of_order_still_write_exactly(order):
    src = list(iter_frames(ca.trace_of(ca.conv2d(5, 3, 2, 1)), cell=16, changed=True))
    chosen = {"every other": src[::2], "reversed": src[::-1], "ping-pong": src + src[-2::-1],
              "resized": [f.resize((f.width * 2, f.height * 2)) for f in src]}[order]
    buf = io.BytesIO()
    writer.write_gif(buf, iter(chosen))
    got = gif_frames_rgb(buf.getvalue())
    for n, (a, b) in enumerate(zip(got, chosen)):
        assert np.array_equal(a, np.asarray(b.convert("RGB"))), f"frame {n} differs"


def test_frames_for_users_carry_no_change_record():
    assert not any(writer.CHANGED in f.info for f in ca.render(ca.trace_of(ca.conv2d(4, 3))))


def test_frames_do_not_change_once_yielded():
    # Frames share memory with the renderer's arrays: each must keep its own pixels.
    t = ca.trace_of(ca.conv2d(5, 3, 1, 1))
    kept, copies = [], []
    for f in iter_frames(t, cell=16):
        kept.append(f)
        copies.append(np.array(f))
    assert all(np.array_equal(np.asarray(f), c) for f, c in zip(kept, copies))
    assert not np.array_equal(copies[0], copies[1])


def _stage(staging, targets: dict):
    for target, data in targets.items():
        staging.temp_for(target).write_bytes(data)


def test_a_rename_failing_midway_restores_every_replaced_file(tmp_path, monkeypatch):
    """All or nothing even when the third of four renames fails: the two files already
    replaced get their previous bytes back, the new file that was added is removed."""
    import os
    old = {"a.gif": b"old a", "c.png": b"old c", "d.png": b"old d"}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", replace)
    with pytest.raises(OSError):
        with writer.staged() as st:
            _stage(st, {tmp_path / "a.gif": b"new a", tmp_path / "b.png": b"new b",
                        tmp_path / "c.png": b"new c", tmp_path / "d.png": b"new d"})
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(old)  # no b, no temp, no backup
    assert {n: (tmp_path / n).read_bytes() for n in old} == old


def test_every_target_is_checked_before_the_first_rename(tmp_path):
    (tmp_path / "a.gif").write_bytes(b"old a")
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "x_0002.png").mkdir()  # a folder in the way of the second frame
    with pytest.raises(IsADirectoryError):
        with writer.staged() as st:
            _stage(st, {tmp_path / "a.gif": b"new", tmp_path / "fr" / "x_0001.png": b"1",
                        tmp_path / "fr" / "x_0002.png": b"2"})
    assert (tmp_path / "a.gif").read_bytes() == b"old a"
    assert sorted(p.name for p in (tmp_path / "fr").iterdir()) == ["x_0002.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gif", "fr"]


def _frames(n: int, shade: int):
    return [Image.new("P", (4, 4), shade) for _ in range(n)]


def test_frames_of_two_runs_never_mix_and_only_our_files_go(tmp_path):
    """Run B (5 frames) staged while run A (10 frames) commits first: B's commit finds A's
    frames 6-10 then, and removes them; a user's own file with a frame-like name stays."""
    d = tmp_path / "fr"
    d.mkdir()
    Image.new("RGB", (2, 2)).save(d / "x_0012.png")  # not written by convanim
    b = writer.Staging()
    list(writer.tee_frames(_frames(5, 1), d, "x", b))
    with writer.staged() as a:
        list(writer.tee_frames(_frames(10, 2), d, "x", a))
    b.commit()
    names = sorted(p.name for p in d.iterdir())
    assert names == [f"x_{n:04d}.png" for n in range(1, 6)] + ["x_0012.png"]
    assert all(np.asarray(Image.open(d / f"x_{n:04d}.png")).max() == 1 for n in range(1, 6))


def _commit_after(barrier, d, n: int, side: int) -> None:
    st = writer.Staging()
    list(writer.tee_frames([Image.new("P", (side, side)) for _ in range(n)], d, "x", st))
    barrier.wait()
    st.commit()


def test_two_processes_committing_frames_at_once_leave_one_run_whole(tmp_path):
    """Two processes stage frames into one folder and commit at the same moment, many
    times over: the folder always holds exactly one run's frames, never a mix (the runs
    are told apart by the frames' size)."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    d = tmp_path / "fr"
    d.mkdir()
    runs = {3: 9, 5: 4}  # frame side: frame count
    for _ in range(12):
        barrier = ctx.Barrier(2)
        procs = [ctx.Process(target=_commit_after, args=(barrier, d, n, side))
                 for side, n in runs.items()]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
            assert p.exitcode == 0
        sides = set()
        for f in d.iterdir():
            with Image.open(f) as im:
                sides.add(im.size[0])
        assert len(sides) == 1
        (side,) = sides
        assert sorted(f.name for f in d.iterdir()) == [f"x_{k:04d}.png"
                                                      for k in range(1, runs[side] + 1)]


def netscape(data: bytes) -> bytes | None:
    """The NETSCAPE2.0 block of a GIF (its two count bytes follow the 3, 1), or None."""
    at = data.find(b"!\xff\x0bNETSCAPE2.0")
    return None if at < 0 else data[at:at + 19]


@pytest.mark.parametrize("plays, block", [
    (0, b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"),  # forever
    (1, None),  # once: no extension, as browsers play a GIF without one
    (3, b"!\xff\x0bNETSCAPE2.0\x03\x01\x02\x00\x00"),  # three plays: two repeats
    (300, b"!\xff\x0bNETSCAPE2.0\x03\x01\x2b\x01\x00"),  # 299 repeats, little-endian
])
def test_gif_loop_is_the_number_of_plays(plays, block):
    src = frames_of(ca.conv2d(4, 3))
    buf = io.BytesIO()
    writer.write_gif(buf, iter(src), loop=plays)
    assert netscape(buf.getvalue()) == block
    assert len(gif_frames_rgb(buf.getvalue())) == len(src)


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
@pytest.mark.parametrize("plays", [0, 1, 3])
def test_webp_and_apng_loop_is_the_number_of_plays(fmt, plays, tmp_path):
    # WebP's ANIM loop count and APNG's acTL num_plays are both plays in all (0: forever).
    path = tmp_path / f"a.{fmt.lower()}"
    writer.write_pillow_animation(path, iter(frames_of(ca.conv2d(4, 3))), fmt, 100, plays)
    data = path.read_bytes()
    if fmt == "PNG":
        at = data.index(b"acTL")
        assert int.from_bytes(data[at + 8:at + 12], "big") == plays
    else:
        at = data.index(b"ANIM")
        assert int.from_bytes(data[at + 12:at + 14], "little") == plays


def gce_blocks(data: bytes) -> list[tuple[int, int | None]]:
    """(disposal, transparent index or None) of each frame's graphic control extension."""
    out, at = [], data.find(b"!\xf9\x04")
    while at >= 0:
        flags, index = data[at + 3], data[at + 6]
        out.append(((flags >> 2) & 7, index if flags & 1 else None))
        at = data.find(b"!\xf9\x04", at + 8)
    return out


@pytest.mark.parametrize("style", ["iso", "flat"])
def test_transparent_gif_clears_the_background_in_every_frame(style):
    # The iso view's connecting lines cross the background and leave it again: those
    # pixels must turn transparent again, not keep the line (disposal to background).
    theme = Theme().with_transparent((0, 0, 0))
    src = ca.render(ca.trace_of(ca.conv2d(5, 3, 2, 1)), cell=16, theme=theme, style=style,
                    caption="auto")
    buf = io.BytesIO()
    writer.write_gif(buf, iter(src))
    data = buf.getvalue()
    blocks = gce_blocks(data)
    assert blocks[0][1] == 0 == src[0].info["transparency"]  # frame 0 names the background
    # Later frames name the unchanged index, never the background's.
    assert all(index in (None, writer.SPARE) for _, index in blocks[1:])
    assert any(disposal == 2 for disposal, _ in blocks)  # some pixels turned back
    palette = np.array(src[0].getpalette()).reshape(-1, 3)
    with Image.open(io.BytesIO(data)) as im:
        for n, f in enumerate(ImageSequence.Iterator(im)):
            got = np.asarray(f.convert("RGBA")).astype(int)
            idx = np.asarray(src[n])
            clear = idx == 0
            assert np.array_equal(got[..., 3] == 0, clear), f"frame {n}: transparency"
            assert np.array_equal(got[~clear][:, :3], palette[idx[~clear]]), f"frame {n}"
    assert n + 1 == len(src) and clear.any() and not clear.all()


def test_transparent_edges_are_blended_against_the_matte():
    def drawn(matte):
        theme = Theme().with_transparent(matte)
        frame = ca.render(ca.trace_of(ca.conv2d(4, 3)), cell=16, theme=theme)[0]
        palette = np.array(frame.getpalette()).reshape(-1, 3)
        return np.asarray(frame), palette[np.asarray(frame)].astype(int), palette[0]

    (wi, white, w0), (di, dark, d0) = drawn((255, 255, 255)), drawn((0x1B, 0x1F, 0x27))
    # The background's entry is the matte (moved one step off a colour of the theme:
    # white is also the classic theme's text on dark fills).
    assert tuple(w0) == (254, 255, 255) and tuple(d0) == (0x1B, 0x1F, 0x27)
    shown = (wi != 0) & (di != 0)
    differ = shown & (white != dark).any(axis=2)
    # Only anti-aliased pixels over the background differ: lighter on the white matte.
    assert differ.sum() > 20 and differ.sum() < 0.2 * shown.sum()
    assert white[differ].mean() > dark[differ].mean() + 60


@pytest.mark.parametrize("suffix", [".webp", ".png"])
def test_transparent_webp_and_apng_have_real_alpha(suffix, tmp_path):
    t = ca.trace_of(ca.conv2d(4, 3))
    path = ca.save(t, tmp_path / f"a{suffix}", cell=16, transparent=True)
    with Image.open(path) as im:
        im.seek(1)
        alpha = np.asarray(im.convert("RGBA"))[..., 3]
    assert alpha[0, 0] == 0 and alpha.max() == 255
    assert ((alpha > 0) & (alpha < 255)).any()  # edges fade into the page: partial alpha


def test_transparent_frames_of_any_indices_composite_right():
    # Frames not from the renderer may use every index, the spare one too: each
    # composited frame still shows exactly its own pixels, background clear.
    rng = np.random.default_rng(7)
    palette = [v for i in range(256) for v in (i, 255 - i, (7 * i) % 256)]
    src = []
    for _ in range(12):
        idx = rng.choice([0, 0, 0, 3, 9, 255], size=(9, 11)).astype(np.uint8)
        im = Image.frombytes("P", (11, 9), idx.tobytes())
        im.putpalette(palette)
        im.info["transparency"] = 0
        src.append(im)
    buf = io.BytesIO()
    writer.write_gif(buf, iter(src))
    pal = np.array(palette).reshape(-1, 3)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        for n, f in enumerate(ImageSequence.Iterator(im)):
            got = np.asarray(f.convert("RGBA")).astype(int)
            idx = np.asarray(src[n])
            assert np.array_equal(got[..., 3] == 0, idx == 0), n
            assert np.array_equal(got[idx != 0][:, :3], pal[idx[idx != 0]]), n
    assert n == len(src) - 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(1, 6),
                          st.integers(1, 6)), min_size=2, max_size=12))
def test_outermost_loop_agrees_with_the_array_pass(sizes):
    # A frame's few rectangles are compared pair by pair in a loop, many with arrays:
    # the same rectangles kept, in the same order (equal ones: the first).
    rects = [(x, y, x + w, y + h) for x, y, w, h in sizes]
    rects += rects[:2]  # equal rectangles too
    loop = writer._outermost(rects)
    few = writer.FEW_RECTS
    try:
        writer.FEW_RECTS = 0
        arrays = writer._outermost(rects)
    finally:
        writer.FEW_RECTS = few
    assert loop == arrays


def test_rectangles_inside_another_are_dropped_before_the_rectangle_path_is_chosen():
    # Text restamped over the connecting lines brings a box per text, most of them inside
    # the lines' box: counted twice, they made the rectangles look larger than their
    # union's box, and the writer compared the whole box instead.
    from convanim.changed import CHANGED, Changed

    assert writer._outermost([(0, 0, 10, 10), (1, 1, 5, 5), (0, 0, 10, 10), (2, 2, 12, 12)]) \
        == [(0, 0, 10, 10), (2, 2, 12, 12)]
    lines = (0, 0, 40, 10)
    texts = [(x, 2, x + 4, 8) for x in range(0, 36, 3)]  # 12 boxes inside the lines' box
    far = (90, 90, 100, 100)
    img = Image.new("P", (100, 100))
    img.info[CHANGED] = Changed(7, 3, (100, 100), (0, 0, 100, 100), (lines, *texts, far))
    last = Changed(7, 2, (100, 100), None)
    got = writer._trusted_rects(img, last, 100, 100)
    assert got == [lines, far]


def test_a_changed_record_of_wider_indices_writes_one_byte_a_pixel():
    # A caller's Changed record may hold its indices as int64: the frame written must be
    # its pixels still (the unchanged ones as the spare index), not the int64's bytes.
    import weakref

    from convanim.changed import Changed

    frames = []
    for step in range(3):
        p = np.full((3, 4), step, dtype=np.int64)
        p[0, 0] = 0
        im = Image.frombytes("P", (4, 3), p.astype(np.uint8).tobytes())
        im.putpalette(bytes(range(48)))
        im.info[writer.CHANGED] = Changed(7, step, (4, 3), None if step == 0 else (0, 0, 4, 3),
                                          pixels=p, image=weakref.ref(im))
        frames.append(im)
    fp = io.BytesIO()
    writer.write_gif(fp, frames)
    fp.seek(0)
    with Image.open(fp) as gif:
        got = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(got) == 3
    for k, (a, im) in enumerate(zip(got, frames)):
        assert np.array_equal(a, np.asarray(im.convert("RGB"))), f"frame {k}"

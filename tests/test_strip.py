"""writer.write_strip / api.save(strip=...): every frame in one palette PNG, in a grid."""

import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageFile, PngImagePlugin

import convanim as ca
from convanim import api, writer
from convanim.params import SpecError


def tiles(path):
    """The strip's frames, cut by the grid it records in its text chunks, as index arrays."""
    with Image.open(path) as im:
        im.load()
        meta = {k: int(v) for k, v in im.text.items()}
        a = np.asarray(im)
        palette = im.getpalette()
    w, h, cols = meta["frame_width"], meta["frame_height"], meta["columns"]
    out = [a[(n // cols) * h:(n // cols + 1) * h, (n % cols) * w:(n % cols + 1) * w]
           for n in range(meta["frames"])]
    return meta, out, palette, a.shape


@pytest.mark.parametrize("n, width, expected", [
    (1, 400, (1, 1)),
    (9, 397, (9, 1)),            # 3573 px: one row
    (41, 399, (41, 1)),          # 16359 px: still one row
    (42, 399, (21, 2)),          # 16758 px: two even rows
    (49, 599, (25, 2)),          # the gallery's biggest: 25 + 24
    (3, 20000, (1, 3)),          # wider than the limit alone: one a row
])
def test_grid_is_one_row_up_to_the_limit_then_even_rows(n, width, expected):
    cols, rows = writer.strip_grid(n, width)
    assert (cols, rows) == expected
    assert cols * rows >= n > cols * (rows - 1)            # no empty row
    assert cols * width <= max(writer.STRIP_MAX, width)


def test_strip_holds_every_frame_in_order_with_the_shared_palette(tmp_path):
    frames = ca.render(ca.trace_of(ca.conv2d(5, 3, stride=2, padding=1)), cell=12)
    w, h = frames[0].size
    grid = writer.write_strip(tmp_path / "s.png", frames)
    path = grid.path
    meta, got, palette, shape = tiles(path)
    assert meta == {"frames": 9, "columns": 9, "rows": 1, "frame_width": w, "frame_height": h}
    # The writer returns the grid it recorded, so nobody need read the file back.
    assert grid.text() == meta and path == tmp_path / "s.png"
    assert shape == (h, 9 * w)
    with Image.open(path) as im:
        assert im.mode == "P"
    # Same indices and the same colours: the palette PNG is the frames, losslessly.
    assert palette[:len(frames[0].getpalette())] == frames[0].getpalette()[:len(palette)]
    for frame, tile in zip(frames, got):
        assert np.array_equal(np.asarray(frame), tile)
    # Narrower than a row: a grid, read back by the same rule.
    grid = writer.write_strip(tmp_path / "g.png", frames, max_width=4 * w)
    meta, got, _, shape = tiles(grid.path)
    assert grid.text() == meta
    assert (meta["columns"], meta["rows"]) == (3, 3) and shape == (3 * h, 3 * w)
    for frame, tile in zip(frames, got):
        assert np.array_equal(np.asarray(frame), tile)


def test_save_writes_the_strip_from_the_animation_frames(tmp_path):
    t = ca.trace_of(ca.pool2d("max", 4, 2, stride=1))
    ca.save(t, tmp_path / "a.gif", cell=12, strip=tmp_path / "strips" / "a.png")
    meta, got, palette, _ = tiles(tmp_path / "strips" / "a.png")
    with Image.open(tmp_path / "a.gif") as gif:
        assert meta["frames"] == gif.n_frames == 9
        for n, tile in enumerate(got):
            gif.seek(n)
            colours = Image.fromarray(tile)
            colours.putpalette(palette)
            assert np.array_equal(np.asarray(gif.convert("RGB")),
                                  np.asarray(colours.convert("RGB"))), n


def test_failed_strip_keeps_the_previous_file(tmp_path):
    frames = ca.render(ca.trace_of(ca.conv2d(3, 2)), cell=12)
    path = writer.write_strip(tmp_path / "s.png", frames).path
    before = path.read_bytes()

    def dies():
        yield frames[0]
        raise OSError("no space left")

    with pytest.raises(OSError):
        writer.write_strip(path, dies())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]
    with pytest.raises(ValueError, match="frame 2"):
        writer.write_strip(path, [frames[0], frames[1].crop((0, 0, 5, 5))])
    assert path.read_bytes() == before


def test_run_job_strip_needs_a_picture(tmp_path):
    job = api.Job(ca.conv2d(3, 2), outputs=(str(tmp_path / "t.json"),),
                  strip=str(tmp_path / "s.png"))
    with pytest.raises(SpecError, match="strip: needs a picture output"):
        api.run_job(job)
    assert not list(tmp_path.iterdir())


def _zlib_stream(path):
    """The concatenated IDAT data of a PNG: one zlib stream."""
    data, at = path.read_bytes(), 8
    out = b""
    while at < len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            out += data[at + 8:at + 8 + n]
        at += 12 + n
    return out


def test_strip_is_written_at_the_chosen_zlib_level(tmp_path):
    frames = ca.render(ca.trace_of(ca.conv2d(5, 3, stride=1, padding=1)), cell=16)
    grid = writer.write_strip(tmp_path / "s.png", frames)
    # The zlib header's FLEVEL: 0 for levels 0-1, 1 for 2-5, 2 for 6, 3 for 7-9.
    stream = _zlib_stream(grid.path)
    level = writer.STRIP_LEVEL
    assert stream[1] >> 6 == (0 if level < 2 else 1 if level < 6 else 2 if level == 6 else 3)
    # The very bytes Pillow writes at that level (and not at 9, optimize=True, the old way).
    with Image.open(grid.path) as im:
        im.load()
        sheet, text = im.copy(), dict(im.text)
    info = PngImagePlugin.PngInfo()
    for key, value in text.items():
        info.add_text(key, value)

    def encoded(**kw):
        buf = io.BytesIO()
        sheet.save(buf, format="PNG", pnginfo=info, **kw)
        return buf.getvalue()

    assert grid.path.read_bytes() == encoded(compress_level=level)
    assert grid.path.read_bytes() != encoded(optimize=True)
    # The level is the writer's to choose per call, too.
    nine = writer.write_strip(tmp_path / "nine.png", frames, level=9)
    assert nine.path.read_bytes() == encoded(optimize=True)


def test_strip_grid_is_read_from_the_text_chunks_without_decoding(tmp_path, monkeypatch):
    frames = ca.render(ca.trace_of(ca.conv2d(4, 3)), cell=12)
    written = writer.write_strip(tmp_path / "s.png", frames, max_width=3 * frames[0].size[0])

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("the strip's pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert writer.read_strip_grid(written.path) == written
    assert (written.columns, written.rows, written.frames) == (2, 2, 4)


def _no_drawing(monkeypatch):
    """Make any frame drawing fail, so a check must come before it to be seen."""
    def drawn(*a, **k):
        raise AssertionError("a frame was drawn before the strip was checked")
    monkeypatch.setattr(api.raster, "frames", drawn)


# A flat channel figure whose strip is too large (196 frames of a tall canvas): review item 6.
_BIG_FLAT = dict(in_channels=3, out_channels=4, bias=True, padding=1)


def test_save_refuses_a_flat_channel_strip_before_any_frame(tmp_path, monkeypatch):
    t = ca.trace_of(ca.conv2d(7, 3, **_BIG_FLAT))
    _no_drawing(monkeypatch)
    with pytest.raises(SpecError, match="strip: 196 frames"):
        ca.save(t, tmp_path / "x.gif", style="flat", strip=tmp_path / "x.png")
    assert not list(tmp_path.glob("x.*"))


def test_run_job_refuses_a_flat_channel_strip_before_the_trace(tmp_path, monkeypatch):
    def traced(*a, **k):
        raise AssertionError("traced before the strip was checked")
    monkeypatch.setattr(api, "trace_of", traced)
    _no_drawing(monkeypatch)
    job = api.Job(ca.conv2d(7, 3, **_BIG_FLAT), outputs=(str(tmp_path / "x.gif"),),
                  look=api.Look(style="flat"), strip=str(tmp_path / "x.png"))
    with pytest.raises(SpecError, match="strip: 196 frames"):
        api.run_job(job)
    assert not list(tmp_path.glob("x.*"))

"""The matrix figure: C from the trace's taps against the plain-loop reference, C^T against
the transposed convolution, the size limit, the picture and the CLI."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import convanim as ca
from convanim.api import matrix_image
from convanim.cli import main
from convanim.matrix import MAX_SIDE, TAP, ZERO, conv_matrix, fmt_value, matrix_figure, tap_matrix
from convanim.scene import matrix_colours as _matrix_colours
from convanim.theme import CLASSIC

from golden import check_frame
from reference import conv2d_products
from strategies import arrays_for, conv_specs


def reference_matrix(spec):
    """(OH*OW, IH*IW) of flat weight indices, -1 elsewhere, from the plain loops."""
    (ih, iw), (kh, kw) = spec.input_size, spec.kernel_size
    (oh, ow), prods = conv2d_products(ih, iw, kh, kw, spec.stride, spec.padding, spec.dilation)
    m = -np.ones((oh * ow, ih * iw), dtype=int)
    for (iy, ix), (ky, kx), (oy, ox) in prods:
        assert m[oy * ow + ox, iy * iw + ix] == -1  # one product per (output, input) pair
        m[oy * ow + ox, iy * iw + ix] = ky * kw + kx
    return m


@settings(max_examples=150, deadline=None)
@given(spec=conv_specs())
def test_matrix_equals_reference(spec):
    t = ca.trace_of(spec)
    np.testing.assert_array_equal(tap_matrix(t), reference_matrix(spec))


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_c_times_x_is_output(data):
    spec = data.draw(conv_specs())
    x = np.array(data.draw(arrays_for(spec.input_size)), dtype=float)
    w = np.array(data.draw(arrays_for(spec.kernel_size)), dtype=float)
    t = ca.trace(spec, x, w)
    c = conv_matrix(t)
    assert c.shape == (t.output.size, x.size)
    np.testing.assert_array_equal(c @ x.ravel(), t.output.ravel())


@settings(max_examples=150, deadline=None)
@given(spec=conv_specs())
def test_c_transpose_is_the_transposed_convolution(spec):
    """C^T[x_flat, y_flat] = w exactly when the transpose has the product (in=y, w, out=x)."""
    ct = tap_matrix(ca.trace_of(spec)).T
    tspec = ca.transpose_of(spec)
    tt = ca.trace_of(tspec)
    (oh, ow), (ih, iw), kw = spec.output_size, spec.input_size, spec.kernel_size[1]
    assert tspec.input_size == (oh, ow) and tspec.output_size == (ih, iw)  # shape round trip
    assert ct.shape == (ih * iw, oh * ow)
    products = {(int(a[0] * ow + a[1]), int(k[0] * kw + k[1]), int(b[0] * iw + b[1]))
                for a, k, b in zip(tt.tap_in, tt.tap_w, tt.tap_out)}
    assert len(products) == len(tt.tap_in)
    from_ct = {(int(y), int(ct[x, y]), int(x)) for x, y in zip(*np.nonzero(ct >= 0))}
    assert products == from_ct


@settings(max_examples=60, deadline=None)
@given(spec=conv_specs())
def test_figure_shows_the_matrix_and_the_vectors(spec):
    t = ca.trace_of(spec)
    if max(t.output.size, t.input.size) > MAX_SIDE:
        with pytest.raises(ca.SpecError):
            matrix_figure(t)
        return
    c = conv_matrix(t)
    for transpose in (False, True):
        fig = matrix_figure(t, transpose=transpose, cell=12)
        shown = c.T if transpose else c
        np.testing.assert_array_equal(fig.taps, tap_matrix(t).T if transpose else tap_matrix(t))
        n_taps = int((fig.taps >= 0).sum())
        assert sum(1 for lb in fig.labels if lb.role == TAP) == n_taps == len(t.tap_in)
        assert sum(1 for lb in fig.labels if lb.role == ZERO) == shown.size - n_taps
        vec_in = [lb.text for lb in fig.labels if lb.role == "in"]
        vec_out = [lb.text for lb in fig.labels if lb.role == "out"]
        x = t.output.ravel() if transpose else t.input.ravel()
        assert vec_in == [fmt_value(v) for v in x]
        assert vec_out == [fmt_value(v) for v in shown @ x]
        for box, _ in fig.cells:
            assert 0 <= box.x0 < box.x1 <= fig.size[0] and 0 <= box.y0 < box.y1 <= fig.size[1]


def test_article_matrix_labels():
    """The seed article's 4x16 matrix for i=4, k=3, row by row."""
    fig = matrix_figure(ca.trace_of(ca.conv2d(4, 3)), vectors=False)
    cols = fig.taps.shape[1]
    texts = [lb.text for lb in fig.labels if lb.role in (TAP, ZERO)]
    rows = [texts[r * cols:(r + 1) * cols] for r in range(4)]
    w = lambda a, b: f"w({a},{b})"  # noqa: E731
    z = "0"
    assert rows[0] == [w(0, 0), w(0, 1), w(0, 2), z, w(1, 0), w(1, 1), w(1, 2), z,
                       w(2, 0), w(2, 1), w(2, 2), z, z, z, z, z]
    assert rows[3] == [z, z, z, z, z, w(0, 0), w(0, 1), w(0, 2),
                       z, w(1, 0), w(1, 1), w(1, 2), z, w(2, 0), w(2, 1), w(2, 2)]
    assert [lb.text for lb in fig.labels if lb.role == "row_head"] == [
        "y(0,0)", "y(0,1)", "y(1,0)", "y(1,1)"]
    assert [lb.text for lb in fig.labels if lb.role == "col_head"][:5] == [
        "x(0,0)", "x(0,1)", "x(0,2)", "x(0,3)", "x(1,0)"]


def test_values_label_the_weights():
    w = np.array([[1.5, -2, 0], [3, 4, 5], [6, 7, 8]])
    t = ca.trace(ca.conv2d(4, 3), np.arange(16.0).reshape(4, 4), w)
    fig = matrix_figure(t, values=True, vectors=False)
    first_row = [lb.text for lb in fig.labels if lb.role in (TAP, ZERO)][:4]
    # One format for all weights (one decimal), a real minus; the tap w(0,2) = 0 is still a tap.
    assert first_row == ["1.5", "\u22122.0", "0.0", "0"]
    assert [lb.role for lb in fig.labels if lb.role in (TAP, ZERO)][:4] == [TAP, TAP, TAP, ZERO]


@pytest.mark.parametrize("spec, rows, cols", [
    (ca.conv2d(9, 3), 49, 81), (ca.conv2d((8, 9), 3), 42, 72),
    (ca.conv2d((2, 40), 3, padding=(1, 0)), 76, 80), (ca.conv2d((1, 70), 1, stride=(1, 2)), 35, 70),
])
def test_size_limit(spec, rows, cols):
    with pytest.raises(ca.SpecError) as err:
        matrix_figure(ca.trace_of(spec))
    msg = str(err.value)
    assert f"{rows} x {cols}" in msg and str(MAX_SIDE) in msg


def test_largest_allowed_size():
    fig = matrix_figure(ca.trace_of(ca.conv2d(8, 1)), cell=12)
    assert fig.taps.shape == (64, 64)


def test_only_conv2d():
    with pytest.raises(ca.SpecError, match="conv2d"):
        matrix_figure(ca.trace_of(ca.conv_transpose2d(3, 3, 2)))


@pytest.mark.parametrize("values", [False, True])
def test_text_stays_off_the_grid_lines(values):
    """Every pixel of every grid line keeps the grid colour: no label reaches a line."""
    w = np.array([[-12.25, 0.3333, 100], [7, -1, 2.5]])
    x = np.arange(30.0).reshape(5, 6) * 1.125
    t = ca.trace(ca.conv2d((5, 6), (2, 3), (2, 1), (1, 1), (1, 2)), x, w)
    for cell in (12, 32, 57):
        fig = matrix_figure(t, values=values, cell=cell)
        a = np.asarray(matrix_image(t, values=values, cell=cell))
        grid = np.array(_matrix_colours(CLASSIC)["grid"])
        for box in fig.grid:
            for edge in (a[box.y0, box.x0:box.x1 + 1], a[box.y1, box.x0:box.x1 + 1],
                         a[box.y0:box.y1 + 1, box.x0], a[box.y0:box.y1 + 1, box.x1]):
                assert (edge == grid).all()


@pytest.mark.parametrize("name, transpose", [("matrix_i4_k3", False), ("matrix_T_i4_k3", True)])
def test_golden_matrix(name, transpose, regen_golden):
    check_frame(name, matrix_image(ca.trace_of(ca.conv2d(4, 3)), transpose=transpose),
                regen_golden)


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.mark.parametrize("args, name, spec, transpose, vectors", [
    (["--i", "4", "--k", "3", "-o", "C.png"], "C.png", ca.conv2d(4, 3), False, True),
    (["--i", "4", "--k", "3"], "conv_matrix_i4_k3.png", ca.conv2d(4, 3), False, True),
    (["--i", "4", "--k", "3", "--transpose"], "conv_matrix_T_i4_k3.png", ca.conv2d(4, 3), True, True),
    (["--i", "5,7", "--k", "3,2", "--s", "2,1", "--p", "1,0", "--no-vectors", "--values",
      # Options that change the picture add a hash of them to the default name.
      "--cell", "20"], "conv_matrix_i5x7_k3x2_s2x1_p1x0_ae5868.png",
     ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0)), False, False),
])
def test_cli_writes_png(args, name, spec, transpose, vectors, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["matrix", *args], capsys)
    assert code == 0, err
    assert out.strip() == name
    cell = int(args[args.index("--cell") + 1]) if "--cell" in args else 32
    expected = matrix_figure(ca.trace_of(spec), transpose, vectors, "--values" in args, cell).size
    with Image.open(tmp_path / name) as im:
        assert im.format == "PNG" and im.size == expected
        assert getattr(im, "n_frames", 1) == 1


@pytest.mark.parametrize("args, needle", [
    (["--i", "9", "--k", "3"], "49 x 81"),
    (["--i", "4", "--k", "3", "-o", "C.gif"], ".png"),
    (["--i", "4", "--k", "5"], "kernel_size"),
    (["--i", "4", "--k", "3", "--cell", "500"], "--cell"),
    (["--i", "4", "--k", "3", "--theme", "neon"], "allowed: classic"),
    (["--i", "4", "--k", "3", "--color", "bogus=#ff0000"], "unknown role 'bogus'"),
])
def test_cli_errors_write_nothing(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["matrix", *args], capsys)
    assert code == 2 and out == ""
    assert err.startswith("convanim: error: ") and err.count("\n") == 1 and needle in err
    assert list(tmp_path.iterdir()) == []


def test_cli_theme_and_colours_reach_the_picture(capsys, tmp_path, monkeypatch):
    """--theme and --color colour the matrix as they colour the animations; each gets a
    default name of its own."""
    monkeypatch.chdir(tmp_path)
    names = []
    for extra in ([], ["--theme", "dark"], ["--theme", "dark", "--color", "input=#ff0000"]):
        code, out, err = run(["matrix", "--i", "4", "--k", "3", *extra], capsys)
        assert code == 0, err
        names.append(out.strip())
    assert names[0] == "conv_matrix_i4_k3.png" and names[1] == "conv_matrix_i4_k3_dark.png"
    assert names[2].startswith("conv_matrix_i4_k3_dark_") and len(set(names)) == 3
    pixels = [np.asarray(Image.open(tmp_path / n).convert("RGB")) for n in names]
    from convanim.theme import theme_named
    dark = theme_named("dark")
    assert tuple(pixels[1][2, 2]) == dark.background != tuple(pixels[0][2, 2])
    # The X vector's cells are a tint of the input colour: redder with input=#ff0000.
    assert pixels[2][..., 0].astype(int).sum() > pixels[1][..., 0].astype(int).sum()

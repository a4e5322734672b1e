"""The backward pass (convanim.grad): against plain loops, torch.autograd, and C^T."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convanim as ca
from convanim.matrix import conv_matrix
from convanim.tracefile import trace_dict

import reference as ref
from strategies import arrays_for, conv_specs, pool_specs


def _arrays(data, spec):
    x = np.array(data.draw(arrays_for(spec.input_size)), dtype=float)
    w = np.array(data.draw(arrays_for(spec.kernel_size)), dtype=float)
    g = np.array(data.draw(arrays_for(spec.output_size)), dtype=float)
    return x, w, g


@settings(max_examples=80, deadline=None)
@given(conv_specs(), st.sampled_from(["gather", "scatter"]), st.data())
def test_conv_grads_match_the_reference(spec, view, data):
    x, w, g = _arrays(data, spec)
    dx, dw = ref.conv2d_backward(x.tolist(), w.tolist(), g.tolist(), spec.stride, spec.padding,
                                 spec.dilation)
    tx = ca.grad_trace(ca.conv2d_grad(spec, "input", view), x, w, g)
    tw = ca.grad_trace(ca.conv2d_grad(spec, "weight"), x, w, g)
    assert tx.output.shape == spec.input_size
    assert tw.output.shape == spec.kernel_size
    np.testing.assert_allclose(tx.output, dx)
    np.testing.assert_allclose(tw.output, dw)


@settings(max_examples=60, deadline=None)
@given(conv_specs(), st.data())
def test_each_forward_product_appears_once_in_each_backward_pass(spec, data):
    x, w, g = _arrays(data, spec)
    fwd = ca.trace(spec, x, w)
    forward = Counter((tuple(i), tuple(k), tuple(o))
                      for i, k, o in zip(fwd.tap_in.tolist(), fwd.tap_w.tolist(),
                                         fwd.tap_out.tolist()))
    assert max(forward.values(), default=1) == 1
    for view in ("gather", "scatter"):
        t = ca.grad_trace(ca.conv2d_grad(spec, "input", view), x, w, g)
        # dL/dx: input = dL/dy cell (forward output), output = dL/dx cell (forward input).
        back = Counter((tuple(i), tuple(k), tuple(o))
                       for o, k, i in zip(t.tap_in.tolist(), t.tap_w.tolist(), t.tap_out.tolist()))
        assert back == forward
        np.testing.assert_allclose(t.tap_value, g[t.tap_in[:, 0], t.tap_in[:, 1]]
                                   * w[t.tap_w[:, 0], t.tap_w[:, 1]])
    t = ca.grad_trace(ca.conv2d_grad(spec, "weight"), x, w, g)
    # dL/dw: input = x cell, weight = dL/dy cell, output = dL/dw cell.
    back = Counter((tuple(i), tuple(k), tuple(o))
                   for i, o, k in zip(t.tap_in.tolist(), t.tap_w.tolist(), t.tap_out.tolist()))
    assert back == forward
    # One step per weight cell, its taps all writing that cell.
    assert t.n_steps == spec.kernel_size[0] * spec.kernel_size[1]
    for n in range(t.n_steps):
        assert (t.tap_out[t.taps(n)] == t.anchor[n]).all()


@pytest.mark.parametrize("i", [5, 6])
def test_output_padding_picks_the_input_size(i):
    # i = 5 and i = 6 both give o = 3 with k=3, s=2, p=1: dL/dx takes the forward's size.
    spec = ca.conv2d(i, 3, 2, 1)
    assert spec.output_size == (3, 3)
    gs = ca.conv2d_grad(spec, "input")
    assert gs.output_padding == ((i + 2 - 3) % 2,) * 2
    x, w = np.arange(i * i, dtype=float).reshape(i, i), np.arange(9.0).reshape(3, 3) - 4
    g = np.arange(9.0).reshape(3, 3)
    t = ca.grad_trace(gs, x, w, g)
    dx, _ = ref.conv2d_backward(x.tolist(), w.tolist(), g.tolist(), (2, 2), (1, 1), (1, 1))
    np.testing.assert_allclose(t.output, dx)


def test_weight_grad_crops_placements_beyond_the_kernel():
    # i=6, k=2, s=3, p=0, d=1: (6 - 2) mod 3 = 1 >= d, so x fits k+1 placements of dL/dy.
    spec = ca.conv2d(6, 2, 3)
    gs = ca.conv2d_grad(spec, "weight")
    assert gs.output_size == (2, 2) and gs.unread == spec.unread == (1, 1)
    x = np.arange(36.0).reshape(6, 6)
    w, g = np.ones((2, 2)), np.array([[1.0, 2.0], [3.0, 4.0]])
    _, dw = ref.conv2d_backward(x.tolist(), w.tolist(), g.tolist(), (3, 3), (0, 0), (1, 1))
    np.testing.assert_allclose(ca.grad_trace(gs, x, w, g).output, dw)


@settings(max_examples=80, deadline=None)
@given(pool_specs(), st.data())
def test_pool_grads_match_the_reference(spec, data):
    # Few distinct values: ties in most windows.
    x = np.array(data.draw(arrays_for(spec.input_size, 0, 2)), dtype=float)
    g = np.array(data.draw(arrays_for(spec.output_size)), dtype=float)
    t = ca.grad_trace(ca.pool2d_grad(spec), x, None, g)
    mode = spec.op[:3]
    want = ref.pool_backward(x.tolist(), g.tolist(), *spec.kernel_size, spec.stride,
                             spec.padding, spec.dilation, mode)
    np.testing.assert_allclose(t.output, want)
    assert t.n_steps == spec.output_size[0] * spec.output_size[1]
    counts = np.diff(t.step_start)
    if mode == "max":
        assert (counts == 1).all()  # the whole gradient to one cell
        np.testing.assert_array_equal(t.tap_out, t.winner)
    else:
        np.testing.assert_allclose(t.tap_value, g[t.tap_in[:, 0], t.tap_in[:, 1]]
                                   / (spec.kernel_size[0] * spec.kernel_size[1]))


def test_max_pool_tie_goes_to_the_first_in_row_major_order():
    spec = ca.pool2d("max", 2, 2)
    t = ca.grad_trace(ca.pool2d_grad(spec), np.array([[1.0, 3.0], [3.0, 3.0]]), None, [[5.0]])
    np.testing.assert_array_equal(t.output, [[0, 5], [0, 0]])


@settings(max_examples=40, deadline=None)
@given(conv_specs(), st.data())
def test_grad_input_is_c_transposed_times_grad_output(spec, data):
    x, w, g = _arrays(data, spec)
    c = conv_matrix(ca.trace(spec, x, w))
    for view in ("gather", "scatter"):
        t = ca.grad_trace(ca.conv2d_grad(spec, "input", view), x, w, g)
        np.testing.assert_allclose(t.output.ravel(), c.T @ g.ravel())


def test_trace_file_names_the_arrays():
    spec = ca.conv2d(5, 3, 2, 1)
    x, w = np.arange(25.0).reshape(5, 5), np.arange(9.0).reshape(3, 3)
    g = np.ones((3, 3))
    d = trace_dict(ca.grad_trace(ca.conv2d_grad(spec, "input"), x, w, g))
    assert d["op"] == "conv2d_grad_input"
    assert d["input_size"] == [5, 5] and d["output_size"] == [3, 3]
    assert d["computed_as"]["op"] == "conv_transpose2d"
    assert d["computed_as"]["output_padding"] == [0, 0]
    assert [k for k in d if k in ("input", "weight", "grad_output", "grad_input", "output")] == [
        "input", "weight", "grad_output", "grad_input"]
    tap = d["steps"][0]["taps"][0]
    assert set(tap) == {"grad_output", "weight", "grad_input", "product"}
    assert d["steps"][0]["grad_input"] == [0, 0]
    d = trace_dict(ca.grad_trace(ca.conv2d_grad(spec, "weight"), x, w, g))
    assert d["op"] == "conv2d_grad_weight" and d["grad_weight"][0][0] == 6 + 8 + 16 + 18
    assert set(d["steps"][0]["taps"][0]) == {"input", "grad_output", "grad_weight", "product"}
    assert len(d["steps"]) == 9
    p = ca.pool2d("max", 4, 2)
    d = trace_dict(ca.grad_trace(ca.pool2d_grad(p), x[:4, :4], None, np.ones((2, 2))))
    assert d["op"] == "max_pool2d_grad_input" and "weight" not in d
    assert d["steps"][0]["grad_output"] == [0, 0] and d["steps"][0]["winner"] == [1, 1]


def test_torch_autograd_agrees_when_installed():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for spec in [ca.conv2d((5, 7), (3, 2), (2, 1), (1, 0), (1, 2)), ca.conv2d(6, 3, 2, 1),
                 ca.conv2d(7, 2, 3, 1, 2)]:
        x, w = rng.integers(-3, 4, spec.input_size), rng.integers(-3, 4, spec.kernel_size)
        g = rng.integers(-3, 4, spec.output_size)
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        y = torch.nn.functional.conv2d(tx[None, None], tw[None, None], stride=spec.stride,
                                       padding=spec.padding, dilation=spec.dilation)
        y.backward(torch.tensor(g, dtype=torch.float64)[None, None])
        dx = ca.grad_trace(ca.conv2d_grad(spec, "input"), x, w, g).output
        dw = ca.grad_trace(ca.conv2d_grad(spec, "weight"), x, w, g).output
        np.testing.assert_allclose(dx, tx.grad.numpy())
        np.testing.assert_allclose(dw, tw.grad.numpy())
    for spec in [ca.pool2d("max", 5, 3, 1, 1), ca.pool2d("max", (4, 6), 2, dilation=(1, 2)),
                 ca.pool2d("avg", 5, 3, 2, 1)]:
        x = rng.integers(0, 2, spec.input_size)  # ties
        g = rng.integers(-3, 4, spec.output_size)
        tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        f = torch.nn.functional
        if spec.op == "max_pool2d":
            y = f.max_pool2d(tx[None, None], spec.kernel_size, spec.stride, spec.padding,
                             spec.dilation)
        else:
            y = f.avg_pool2d(tx[None, None], spec.kernel_size, spec.stride, spec.padding,
                             count_include_pad=True)
        y.backward(torch.tensor(g, dtype=torch.float64)[None, None])
        dx = ca.grad_trace(ca.pool2d_grad(spec), x, None, g).output
        np.testing.assert_allclose(dx, tx.grad.numpy())


def test_labels_name_the_maps():
    from convanim.info import grid_labels

    f = ca.conv2d(5, 3, 2, 1)
    gather = grid_labels(ca.conv2d_grad(f, "input"))
    assert gather["input"][0] == "dL/dy 3\u00d73, 1 zero between, padding 1"
    assert gather["kernel"][0] == "w 3\u00d73, flipped" and gather["output"] == ("dL/dx 5\u00d75",)
    scatter = grid_labels(ca.conv2d_grad(f, "input", "scatter"))
    assert scatter["input"] == ("dL/dy 3\u00d73",) and scatter["kernel"] == ("w 3\u00d73",)
    weight = grid_labels(ca.conv2d_grad(f, "weight"))
    assert weight["input"][0] == "x 5\u00d75, padding 1"
    assert weight["kernel"][0] == "dL/dy 3\u00d73, dilation 2" and weight["output"] == ("dL/dw 3\u00d73",)
    pool = grid_labels(ca.pool2d_grad(ca.pool2d("max", 4, 2)))
    assert pool["input"] == ("dL/dy 2\u00d72",) and pool["output"] == ("dL/dx 4\u00d74",)
    # The forward's stay as they were.
    assert grid_labels(f) == {"input": ("input 5\u00d75, padding 1", "input 5\u00d75"),
                              "kernel": ("kernel 3\u00d73",), "output": ("output 3\u00d73",)}


def test_every_style_draws_the_names():
    f = ca.conv2d(5, 3, 2, 1)
    # iso draws the two planes (the grid walked and the result), flat the kernel's too.
    for spec, planes, kernel in ((ca.conv2d_grad(f, "input"), ("dL/dy 3", "dL/dx 5"), "w 3"),
                                 (ca.conv2d_grad(f, "weight"), ("x 5", "dL/dw 3"), "dL/dy 3")):
        t = ca.trace_of(spec)
        for style in ("iso", "flat"):
            labels = [op.text for op in ca.scene(t, style=style, labels=True).frame(0).texts
                      if op.kind == "label"]
            want = planes + ((kernel,) if style == "flat" else ())
            assert len(labels) == len(want)
            for word in want:
                assert any(text.startswith(word.replace("3", "3\u00d7").replace("5", "5\u00d7"))
                           for text in labels), (style, word, labels)


def test_flat_writes_the_products_out():
    from convanim.flat import step_text

    f = ca.conv2d(5, 3, 2, 1)
    t = ca.trace_of(ca.conv2d_grad(f, "weight"))
    text = step_text(t, 0)[0]
    # x values times dL/dy values, summed to dL/dw[0,0].
    sl = t.taps(0)
    terms = [f"{int(t.input[r, c])}\u00d7{int(t.weight[a, b])}"
             for (r, c), (a, b) in zip(t.tap_in[sl], t.tap_w[sl])]
    assert text == " + ".join(terms) + f" = {int(t.output[0, 0])}"
    m = ca.trace_of(ca.pool2d_grad(ca.pool2d("max", 4, 2)))
    r, c = m.winner[0]
    assert step_text(m, 0)[0] == f"{int(m.input[0, 0])} \u2192 dL/dx({r},{c}), the max of its window"
    a = ca.trace_of(ca.pool2d_grad(ca.pool2d("avg", 4, 2)))
    assert step_text(a, 0)[0].endswith("to each of 4 input cells")


def test_forward_trace_files_keep_their_keys():
    d = trace_dict(ca.trace_of(ca.conv2d(5, 3, 2, 1)))
    assert list(d) == ["op", "view", "input_size", "kernel_size", "stride", "padding", "dilation",
                       "output_padding", "output_size", "in_channels", "out_channels", "groups",
                       "grid", "input", "weight", "output", "steps"]
    assert set(d["steps"][0]) == {"output", "footprint", "padding", "taps", "value"}


def test_seeded_grad_output_and_files(tmp_path):
    spec = ca.conv2d_grad(ca.conv2d(5, 3, 2, 1), "input")
    a, b = ca.trace_of(spec, seed=4), ca.trace_of(spec, seed=4)
    np.testing.assert_array_equal(a.input, b.input)
    fwd = ca.trace_of(ca.conv2d(5, 3, 2, 1), seed=4)
    np.testing.assert_array_equal(dict(a.arrays)["input"], fwd.input)
    np.testing.assert_array_equal(dict(a.arrays)["weight"], fwd.weight)
    path = tmp_path / "g.csv"
    path.write_text("1,2,3\n4,5,6\n7,8,9\n")
    t = ca.trace_of(spec, grad_output=str(path))
    np.testing.assert_array_equal(t.input, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    path.write_text("1,2\n3,4\n")
    with pytest.raises(ca.SpecError, match="grad_output.*2x2.*3x3"):
        ca.trace_of(spec, grad_output=str(path))


def test_pool_backward_flat_shows_x_and_marks_the_winner():
    t = ca.trace_of(ca.pool2d_grad(ca.pool2d("max", 4, 2)), input=np.array(
        [[1, 3, 0, 0], [2, 3, 0, 1], [0, 0, 2, 2], [1, 0, 2, 0]], dtype=float))
    sc = ca.scene(t, style="flat")
    texts = sc.frame(0).texts
    xs = {op.cell[1:]: op.text for op in texts if getattr(op, "cell", None) and op.cell[0] == "x"}
    assert xs[(0, 1)] == "3" and len(xs) == 16
    # The winner of window 0 is x(0,1) (3, the first of two): marked on x and on dL/dx.
    assert tuple(t.winner[0]) == (0, 1)
    marks = [op for op in texts if getattr(op, "role", None) == "output" and op.fill is None]
    assert len(marks) == 2
    x_plane = ca.layout(t, style="flat").grids["x"]
    (x0, y0), (x1, y1) = x_plane.corner(0, 1), x_plane.corner(1, 2)
    assert any(all(x0 < px < x1 and y0 < py < y1 for px, py in m.points) for m in marks)

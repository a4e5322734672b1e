"""The backward pass of a convolution or a pooling, traced by the engine itself.

A convolution is the product with a sparse matrix C (:mod:`convanim.matrix`), so its
gradient w.r.t. the input is the product with C^T: a transposed convolution of
dL/dy with the same weight. Per axis, with the forward's i, k, s, p, d and
``a = (i + 2p - d(k-1) - 1) mod s``::

    dL/dx = conv_transpose2d(dL/dy, w, s, p, output_padding=a, d)      # size i
    dL/dw[ky,kx] = sum_oy,ox dL/dy[oy,ox] * x[oy*s + ky*d - p, ox*s + kx*d - p]

The second is a conv2d over x with dL/dy as its kernel, stride d and dilation s
(the stride becomes a dilation), keeping its first k x k outputs. Pooling's
backward pass sends each dL/dy cell into its window: all of it to the winner
(max_pool2d: the first maximum in row-major order, as PyTorch), or 1/(kh*kw) of it
to every input cell of the window (avg_pool2d, count_include_pad=True; shares
that fall on padding are dropped). Each is a :class:`Spec` with ``grad`` set,
whose other fields are the computation the engine runs, and a :class:`Trace`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .engine import Trace, trace
from .params import SpecError
from .spec import Grad, Spec, transpose_of

WRT = ("input", "weight")


def conv2d_grad(forward: Spec, wrt: str = "input", view: str = "gather") -> Spec:
    """The backward pass of the conv2d ``forward`` w.r.t. ``wrt`` ("input" or "weight").

    ``view``: gather or scatter for the input (the transposed convolution's views);
    the weight's has one step per weight cell (gather).
    """
    if forward.op != "conv2d":
        raise SpecError(f"grad: got a {forward.op} spec; conv2d_grad takes a conv2d")
    if wrt == "input":
        return replace(transpose_of(forward, view), grad=Grad(forward, "input"))
    if wrt == "weight":
        if view != "gather":
            raise SpecError(f"view: got {view!r}; the weight's gradient has one view, one step "
                            "per weight cell (gather); drop --view")
        o = forward.output_size
        return Spec("conv2d", forward.input_size, o, forward.dilation, forward.padding,
                    forward.stride, grad=Grad(forward, "weight"))
    raise SpecError(f"wrt: got {wrt!r}; allowed: {', '.join(WRT)}")


def pool2d_grad(forward: Spec, wrt: str = "input", view: str = "scatter") -> Spec:
    """The backward pass of the pooling ``forward`` w.r.t. its input: one step per dL/dy cell."""
    if not forward.pooling or forward.grad is not None:
        raise SpecError(f"grad: got a {forward.op} spec; pool2d_grad takes max_pool2d or avg_pool2d")
    if wrt != "input":
        raise SpecError(f"wrt: got {wrt!r}; pooling has no weight, allowed: input")
    if view != "scatter":
        raise SpecError(f"view: got {view!r}; pooling's backward pass has one view, one step per "
                        "dL/dy cell (scatter); drop --view")
    f = forward
    # The windows of the forward, seen from dL/dy: the scatter geometry of a transposed
    # convolution with the same k, s, p, d (its footprint is the window on dL/dx).
    geometry = transpose_of(Spec("conv2d", f.input_size, f.kernel_size, f.stride, f.padding,
                                 f.dilation), "scatter")
    return replace(geometry, grad=Grad(forward, "input"))


def grad_of(forward: Spec, wrt: str = "input", view: str | None = None) -> Spec:
    """:func:`conv2d_grad` or :func:`pool2d_grad`, each view defaulting to its first."""
    if forward.channels:
        raise SpecError("grad: the backward pass is drawn for one channel only; got "
                        f"{forward.short_name()} (in_channels {forward.in_channels}, "
                        f"out_channels {forward.out_channels}, groups {forward.groups}, "
                        f"bias {forward.bias})")
    if forward.pooling:
        return pool2d_grad(forward, wrt, view or "scatter")
    return conv2d_grad(forward, wrt, view or "gather")


def _check(name: str, a, shape) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.shape != tuple(shape):
        raise ValueError(f"{name}: shape {a.shape} does not match {tuple(shape)}")
    return a


def grad_trace(spec: Spec, x, w, g) -> Trace:
    """Every product of the backward pass ``spec`` (spec.grad set) on the forward's input
    ``x``, weight ``w`` (None for pooling) and the gradient ``g`` = dL/dy."""
    if spec.grad is None:
        raise ValueError("grad_trace: the spec is not a backward pass (spec.grad is None)")
    f = spec.grad.forward
    x = _check("input", x, f.input_size)
    g = _check("grad_output", g, f.output_size)
    for a in (x, g):
        a.setflags(write=False)
    if f.pooling:
        return _pool_grad(spec, x, g)
    w = _check("weight", w, f.kernel_size)
    w.setflags(write=False)
    if spec.grad.wrt == "input":
        t = trace(spec, g, w)
        return replace(t, arrays=(("input", x), ("weight", w), ("grad_output", g),
                                  ("grad_input", t.output)))
    t = trace(spec, x, g)
    return replace(t, arrays=(("input", x), ("weight", w), ("grad_output", g),
                              ("grad_weight", t.output)))


def _pool_grad(spec: Spec, x: np.ndarray, g: np.ndarray) -> Trace:
    f = spec.grad.forward
    # Every cell of every window, one step per dL/dy cell (the engine, as for pooling:
    # no weight, each tap's value the dL/dy cell's).
    every = trace(spec, g)
    steps = np.repeat(np.arange(every.n_steps), np.diff(every.step_start))
    winner = None
    if f.op == "max_pool2d":
        # The forward's steps are its output cells, row-major: the same order as these.
        winner = trace(f, x).winner
        keep = np.all(every.tap_out == winner[steps], axis=1)
        values = every.tap_value[keep]
    else:
        keep = np.ones(len(steps), dtype=bool)
        values = every.tap_value / (f.kernel_size[0] * f.kernel_size[1])
    tap_in, tap_w, tap_out = every.tap_in[keep], every.tap_w[keep], every.tap_out[keep]
    step_start = np.searchsorted(steps[keep], np.arange(every.n_steps + 1))
    out = np.zeros(f.input_size)
    np.add.at(out, (tap_out[:, 0], tap_out[:, 1]), values)
    arrays = [out, tap_in, tap_w, tap_out, np.asarray(values, dtype=np.float64), step_start]
    for a in arrays:
        a.setflags(write=False)
    return Trace(spec, g, None, out, tap_in, tap_w, tap_out, arrays[4], step_start,
                 every.anchor, every.corner, winner,
                 (("input", x), ("grad_output", g), ("grad_input", out)))


def random_grad_output(shape, seed: int = 0) -> np.ndarray:
    """dL/dy of whole numbers 1..3, from its own stream of ``seed`` (so x and w stay
    those of the forward figure with the same seed); no zeros: every route shows."""
    return np.random.default_rng([seed, 1]).integers(1, 4, size=shape).astype(np.float64)

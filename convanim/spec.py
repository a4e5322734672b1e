"""Validated specifications of one 2-D operation, with channels and groups as PyTorch.

Shapes follow PyTorch. Per axis (H and W alike), with ``d`` the dilation:

conv2d (``torch.nn.Conv2d``)::

    out = floor((in + 2*padding - d*(k - 1) - 1) / stride) + 1

conv_transpose2d (``torch.nn.ConvTranspose2d``)::

    out = (in - 1)*stride - 2*padding + d*(k - 1) + output_padding + 1

``output_padding`` adds cells to one side only: the bottom rows and right
columns of the output. It computes nothing new by itself; it picks which of
the several input sizes that a strided convolution maps to the same output
size the transpose should produce. Cells it adds receive products only where
the kernel reaches them (with padding > 0 they do; otherwise they stay 0).

max_pool2d / avg_pool2d use the conv2d formula (floor mode); avg counts
padding cells in the divisor (``count_include_pad=True``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Union

from .names import Names
from .params import Pair, PairLike, SpecError, fmt_pair, padding_arg, short, to_pair

Op = Literal["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"]
View = Literal["gather", "scatter"]


@dataclass(frozen=True)
class Spec:
    """One operation with every size-like field an (H, W) pair.

    Build it with :func:`conv2d`, :func:`conv_transpose2d` or :func:`pool2d`,
    which normalise and validate; the constructor trusts its arguments.
    ``in_channels``, ``out_channels`` and ``groups`` as in ``torch.nn.Conv2d``; pooling
    pools each of its ``in_channels`` maps on its own (out_channels = groups = in_channels).
    ``bias`` adds b[co] to every value of output map co. With all of them 1 and no bias
    (:attr:`channels` False) the one-channel engine (:mod:`convanim.engine`) runs it;
    otherwise :mod:`convanim.channels`.
    """

    op: Op
    input_size: Pair
    kernel_size: Pair
    stride: Pair = (1, 1)
    padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    output_padding: Pair = (0, 0)
    view: View = "gather"
    in_channels: int = 1
    out_channels: int = 1
    groups: int = 1
    bias: bool = False
    # Set on the spec of a backward pass (convanim.grad): the forward pass it belongs to.
    # The fields above then describe the computation the engine runs for it.
    grad: "Grad | None" = None

    @property
    def channels(self) -> bool:
        """Several maps, groups or a bias: the channel engine and the channel trace format."""
        return (self.in_channels, self.out_channels, self.groups, self.bias) != (1, 1, 1, False)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(C_in, H, W) with channels, else (H, W)."""
        return (self.in_channels, *self.input_size) if self.channels else self.input_size

    @property
    def output_shape(self) -> tuple[int, ...]:
        """(C_out, OH, OW) with channels, else (OH, OW)."""
        return (self.out_channels, *self.output_size) if self.channels else self.output_size

    @property
    def weight_shape(self) -> tuple[int, ...] | None:
        """PyTorch's: (C_out, C_in/groups, KH, KW) for Conv2d, (C_in, C_out/groups, KH, KW)
        for ConvTranspose2d; (KH, KW) with one channel; None for pooling."""
        if self.pooling:
            return None
        if not self.channels:
            return self.kernel_size
        if self.transposed:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    @property
    def bias_shape(self) -> tuple[int] | None:
        return (self.out_channels,) if self.bias else None

    @property
    def maps_per_step(self) -> int:
        """Input maps one output value reads: in_channels/groups (1 when pooling)."""
        return 1 if self.pooling else self.in_channels // self.groups

    @property
    def n_parameters(self) -> int:
        """Weights and biases of the layer (0 for pooling)."""
        if self.pooling:
            return 0
        count = 1
        for n in self.weight_shape:
            count *= n
        return count + (self.out_channels if self.bias else 0)

    @property
    def transposed(self) -> bool:
        return self.op == "conv_transpose2d"

    @property
    def pooling(self) -> bool:
        """No weight: pooling, and the backward pass of pooling."""
        return self.op in ("max_pool2d", "avg_pool2d") or (
            self.grad is not None and self.grad.forward.pooling)

    @property
    def names(self) -> Names:
        """What the engine's input, weight and output are: words and trace-file keys."""
        return self.grad.names if self.grad is not None else Names(self.op)

    @property
    def effective_kernel(self) -> Pair:
        """d*(k-1) + 1 per axis: the extent one placement covers."""
        return _per_axis(lambda k, d: d * (k - 1) + 1, self.kernel_size, self.dilation)

    @property
    def output_size(self) -> Pair:
        if self.grad is not None and self.grad.wrt == "weight":
            # The correlation of x with dL/dy may fit more placements than the kernel
            # has cells (when (i + 2p - d(k-1) - 1) mod s >= d); dL/dw keeps the first k.
            return self.grad.forward.kernel_size
        if self.transposed:
            return tuple(  # type: ignore[return-value]
                (i - 1) * s - 2 * p + d * (k - 1) + a + 1
                for i, k, s, p, d, a in zip(
                    self.input_size, self.kernel_size, self.stride, self.padding,
                    self.dilation, self.output_padding,
                )
            )
        return tuple(  # type: ignore[return-value]
            (i + 2 * p - d * (k - 1) - 1) // s + 1
            for i, k, s, p, d in zip(
                self.input_size, self.kernel_size, self.stride, self.padding, self.dilation
            )
        )

    @property
    def unread(self) -> Pair:
        """Rows/columns at the bottom/right of the padded input that no placement reads.

        (i + 2p - d(k-1) - 1) mod s per axis, for conv2d and pooling: the "odd"
        case of the guide. Always (0, 0) for conv_transpose2d.
        """
        if self.transposed:
            return (0, 0)
        if self.grad is not None:
            return self.grad.forward.unread
        return tuple(  # type: ignore[return-value]
            (i + 2 * p - d * (k - 1) - 1) % s
            for i, k, s, p, d in zip(
                self.input_size, self.kernel_size, self.stride, self.padding, self.dilation
            )
        )

    @property
    def n_steps(self) -> int:
        """Kernel placements: one per output cell (gather), one per input cell (scatter)."""
        h, w = self.input_size if self.view == "scatter" else self.output_size
        return h * w * (self.in_channels if self.view == "scatter" else self.out_channels)

    def short_name(self) -> str:
        """File-name stem with the parameters that differ from their defaults."""
        if self.grad is not None:
            stem = f"grad_{self.grad.wrt}_{self.grad.forward.short_name()}"
            return stem + ("_scatter" if self.view == "scatter" and not self.pooling else "")
        head = {"conv2d": "conv", "conv_transpose2d": "tconv",
                "max_pool2d": "maxpool", "avg_pool2d": "avgpool"}[self.op]
        parts = [head, f"i{fmt_pair(self.input_size)}", f"k{fmt_pair(self.kernel_size)}"]
        for tag, value, default in (
            ("s", self.stride, self.kernel_size if self.pooling else (1, 1)),
            ("p", self.padding, (0, 0)),
            ("d", self.dilation, (1, 1)),
            ("op", self.output_padding, (0, 0)),
        ):
            if value != default:
                parts.append(f"{tag}{fmt_pair(value)}")
        if self.pooling:
            if self.in_channels != 1:
                parts.append(f"c{self.in_channels}")
        else:
            for tag, value in (("cin", self.in_channels), ("cout", self.out_channels),
                               ("g", self.groups)):
                if value != 1:
                    parts.append(f"{tag}{value}")
            if self.bias:
                parts.append("bias")
        if self.view != "gather":
            parts.append(self.view)
        return "_".join(parts)


@dataclass(frozen=True)
class Grad:
    """A backward pass: the gradient of ``forward``'s output w.r.t. its ``wrt`` array."""

    forward: Spec
    wrt: Literal["input", "weight"]

    @property
    def names(self) -> Names:
        f = self.forward
        if f.pooling:
            # Pooling's backward pass walks dL/dy and routes each cell into dL/dx.
            return Names(f"{f.op}_grad_input", "grad_output", "window", "grad_input",
                         "dL/dy", f"{f.op[:3]} over", "dL/dx")
        if self.wrt == "input":
            # dL/dx = conv_transpose2d(dL/dy, w): dL/dy in the input's place.
            return Names("conv2d_grad_input", "grad_output", "weight", "grad_input",
                         "dL/dy", "w", "dL/dx")
        # dL/dw = x correlated with dL/dy: dL/dy in the kernel's place.
        return Names("conv2d_grad_weight", "input", "grad_output", "grad_weight",
                     "x", "dL/dy", "dL/dw")


def _per_axis(fn, *pairs: Pair) -> Pair:
    return (fn(*(p[0] for p in pairs)), fn(*(p[1] for p in pairs)))


def _resolve_padding(padding: PairLike, kernel: Pair, stride: Pair, dilation: Pair) -> Pair:
    """'valid' -> 0, 'full' -> d(k-1), 'same' -> d(k-1)/2 (stride 1, odd effective kernel)."""
    given = padding_arg(padding)
    if not isinstance(given, str):
        return given
    if given == "valid":
        return (0, 0)
    if given == "full":
        return _per_axis(lambda k, d: d * (k - 1), kernel, dilation)
    if stride != (1, 1):
        raise SpecError(
            f"padding: 'same' needs stride 1, got stride {fmt_pair(stride, ',')}; "
            "give the padding as numbers for a strided convolution"
        )
    span = _per_axis(lambda k, d: d * (k - 1), kernel, dilation)
    if span[0] % 2 or span[1] % 2:
        eff = _per_axis(lambda k, d: d * (k - 1) + 1, kernel, dilation)
        raise SpecError(
            f"padding: 'same' needs an odd effective kernel size d*(k-1)+1, got "
            f"{fmt_pair(eff, ',')} (kernel {fmt_pair(kernel, ',')}, dilation "
            f"{fmt_pair(dilation, ',')}); give the padding as numbers"
        )
    return (span[0] // 2, span[1] // 2)


# Channels and groups at most this: far above what can be drawn, far below what a trace
# of every product could hold (the limits on frames and products apply as well).
MAX_CHANNELS = 4096


def _count(value: object, name: str) -> int:
    """A channel count or groups: a whole number 1..MAX_CHANNELS."""
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip()) if len(value.strip()) <= 12 else MAX_CHANNELS + 1
        else:
            raise SpecError(f"{name}: got {short(value)}; expected a whole number >= 1")
    if not 1 <= value <= MAX_CHANNELS:
        raise SpecError(f"{name}: got {value}; allowed: 1..{MAX_CHANNELS}")
    return value


def _divisors(n: int) -> list[int]:
    return [g for g in range(1, n + 1) if n % g == 0]


def _channels(in_channels, out_channels, groups, bias) -> tuple[int, int, int, bool]:
    """PyTorch's rules: in_channels and out_channels divisible by groups."""
    cin = _count(in_channels, "in_channels")
    cout = _count(out_channels, "out_channels")
    g = _count(groups, "groups")
    if not isinstance(bias, bool):
        raise SpecError(f"bias: got {short(bias)}; expected True or False")
    for name, n in (("in_channels", cin), ("out_channels", cout)):
        if n % g:
            allowed = ", ".join(map(str, _divisors(math.gcd(cin, cout))))
            raise SpecError(
                f"groups: got {g}; {name} must be divisible by groups, as in PyTorch, and "
                f"{name} is {n}; with in_channels {cin} and out_channels {cout} groups may "
                f"be {allowed}")
    return cin, cout, g, bias


def _check_fits(spec: Spec) -> None:
    for axis, name in enumerate(("height", "width")):
        i, p = spec.input_size[axis], spec.padding[axis]
        k, d = spec.kernel_size[axis], spec.dilation[axis]
        eff = spec.effective_kernel[axis]
        if eff > i + 2 * p:
            # The largest k with d*(k-1)+1 <= i+2p.
            largest = (i + 2 * p - 1) // d + 1
            raise SpecError(
                f"kernel_size: effective kernel {name} {eff} (kernel {k}, dilation {d}) is "
                f"larger than the padded input {name} {i + 2 * p} (input {i} + 2*padding {p}); "
                f"with dilation {d}, valid kernel sizes range from 1 to {largest}"
            )


def conv2d(
    input_size: PairLike,
    kernel_size: PairLike,
    stride: PairLike = 1,
    padding: Union[PairLike, str] = 0,
    dilation: PairLike = 1,
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    bias: bool = False,
) -> Spec:
    """A validated ``torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride,
    padding, dilation, groups, bias)``; bias off by default (the one-channel figures)."""
    cin, cout, g, b = _channels(in_channels, out_channels, groups, bias)
    i = to_pair(input_size, "input_size")
    k = to_pair(kernel_size, "kernel_size")
    s = to_pair(stride, "stride")
    d = to_pair(dilation, "dilation")
    p = _resolve_padding(padding, k, s, d)
    spec = Spec("conv2d", i, k, s, p, d, in_channels=cin, out_channels=cout, groups=g, bias=b)
    _check_fits(spec)
    return spec


def pool2d(
    mode: str,
    input_size: PairLike,
    kernel_size: PairLike,
    stride: PairLike | None = None,
    padding: Union[PairLike, str] = 0,
    dilation: PairLike = 1,
    in_channels: int = 1,
) -> Spec:
    """max_pool2d / avg_pool2d; stride defaults to the kernel size, as in PyTorch.

    ``in_channels`` maps are each pooled on their own (as PyTorch pools every channel).
    """
    c = _count(in_channels, "in_channels")
    if mode not in ("max", "avg"):
        raise SpecError(f"mode: got {mode!r}; allowed: max, avg")
    i = to_pair(input_size, "input_size")
    k = to_pair(kernel_size, "kernel_size")
    s = k if stride is None else to_pair(stride, "stride")
    d = to_pair(dilation, "dilation")
    if mode == "avg" and d != (1, 1):
        raise SpecError(f"dilation: got {fmt_pair(d, ',')}; avg pooling allows only 1")
    p = _resolve_padding(padding, k, s, d)
    for axis in (0, 1):
        # PyTorch's rule (max_pool2d raises otherwise): pad <= kernel_size // 2.
        if p[axis] > k[axis] // 2:
            raise SpecError(
                f"padding: got {fmt_pair(p, ',')}; pooling allows at most half the kernel "
                f"size on each axis, as PyTorch: here at most {k[0] // 2},{k[1] // 2} "
                f"(kernel {fmt_pair(k, ',')})"
            )
    spec = Spec(f"{mode}_pool2d", i, k, s, p, d,  # type: ignore[arg-type]
                in_channels=c, out_channels=c, groups=c)
    _check_fits(spec)
    if mode == "max":
        _check_windows_read_input(spec)
    return spec


def _check_windows_read_input(spec: Spec) -> None:
    """Every max-pooling window must cover an input cell; one on padding alone gives -inf."""
    for axis, name in enumerate(("row", "column")):
        i, k, s, p, d = (spec.input_size[axis], spec.kernel_size[axis], spec.stride[axis],
                         spec.padding[axis], spec.dilation[axis])
        for o in range(spec.output_size[axis]):
            if not any(0 <= o * s + a * d - p < i for a in range(k)):
                raise SpecError(
                    f"dilation: got {fmt_pair(spec.dilation, ',')}; with padding "
                    f"{fmt_pair(spec.padding, ',')} the window of output {name} {o} covers only "
                    "padding (PyTorch would give -inf there); use a smaller dilation or padding"
                )


def conv_transpose2d(
    input_size: PairLike,
    kernel_size: PairLike,
    stride: PairLike = 1,
    padding: PairLike = 0,
    dilation: PairLike = 1,
    output_padding: PairLike = 0,
    view: str = "gather",
    in_channels: int = 1,
    out_channels: int = 1,
    groups: int = 1,
    bias: bool = False,
) -> Spec:
    """A validated ``torch.nn.ConvTranspose2d(in_channels, out_channels, ...)`` with its
    animation view; the weight is (in_channels, out_channels/groups, KH, KW)."""
    cin, cout, g, b = _channels(in_channels, out_channels, groups, bias)
    i = to_pair(input_size, "input_size")
    k = to_pair(kernel_size, "kernel_size")
    s = to_pair(stride, "stride")
    d = to_pair(dilation, "dilation")
    if isinstance(padding, str) and padding.strip().lower() in ("same", "valid", "full"):
        raise SpecError(
            f"padding: got {padding!r}; a transposed convolution takes numbers only "
            "(use --of-conv to derive it from a convolution)"
        )
    p = to_pair(padding, "padding", minimum=0)
    a = to_pair(output_padding, "output_padding", minimum=0)
    for axis in (0, 1):
        if a[axis] >= max(s[axis], d[axis]):
            raise SpecError(
                f"output_padding: got {fmt_pair(a, ',')}; each value must be smaller than "
                f"the stride or the dilation of its axis (stride {fmt_pair(s, ',')}, "
                f"dilation {fmt_pair(d, ',')})"
            )
    if view not in ("gather", "scatter"):
        raise SpecError(f"view: got {view!r}; allowed: gather, scatter")
    if view == "scatter" and (cin, cout, g, b) != (1, 1, 1, False):
        raise SpecError("view: got 'scatter' with channels or a bias; only the gather view "
                        "(one step per output value) has channels so far: use --view gather")
    spec = Spec("conv_transpose2d", i, k, s, p, d, a, view,  # type: ignore[arg-type]
                in_channels=cin, out_channels=cout, groups=g, bias=b)
    o = spec.output_size
    if min(o) < 1:
        raise SpecError(
            f"padding: got {fmt_pair(p, ',')}, which leaves an output of "
            f"{o[0]}x{o[1]}; (i-1)*s - 2p + d(k-1) + output_padding + 1 must be >= 1"
        )
    return spec


def transpose_of(conv: Spec, view: str = "gather") -> Spec:
    """The transposed convolution that maps ``conv``'s output shape back to its input shape.

    output_padding = (i + 2p - d(k-1) - 1) mod s per axis, so the shapes round-trip;
    the channels swap (its input has the convolution's out_channels maps), groups and bias
    stay.
    """
    if conv.op != "conv2d":
        raise SpecError(f"transpose_of: got a {conv.op} spec; expected conv2d")
    return conv_transpose2d(
        conv.output_size, conv.kernel_size, conv.stride, conv.padding, conv.dilation,
        conv.unread, view, conv.out_channels, conv.in_channels, conv.groups, conv.bias,
    )

"""The arithmetic of a spec in words: sizes with the numbers filled in, and the PyTorch call."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .engine import grid_map
from .params import Pair
from .spec import Spec
from .text import TIMES


def _torch_arg(name: str, value: Pair, default: Pair) -> str | None:
    if value == default:
        return None
    shown = value[0] if value[0] == value[1] else tuple(value)
    return f"{name}={shown}"


def torch_call(spec: Spec) -> str:
    """The equivalent ``torch.nn`` module, ready to paste."""
    k = spec.kernel_size[0] if spec.kernel_size[0] == spec.kernel_size[1] else tuple(spec.kernel_size)
    args = [f"kernel_size={k}"]
    stride_default = spec.kernel_size if spec.pooling else (1, 1)
    for name, value, default in (
        ("stride", spec.stride, stride_default), ("padding", spec.padding, (0, 0)),
        ("dilation", spec.dilation, (1, 1)), ("output_padding", spec.output_padding, (0, 0)),
    ):
        arg = _torch_arg(name, value, default)
        if arg:
            args.append(arg)
    if spec.channels and not spec.pooling:
        # Channels: every argument that the figure depends on is written out.
        args += [f"groups={spec.groups}", f"bias={spec.bias}"]
    ch = f"{spec.in_channels}, {spec.out_channels}, " if not spec.pooling else ""
    cls = {"conv2d": f"Conv2d({ch or '1, 1, '}", "conv_transpose2d": f"ConvTranspose2d({ch or '1, 1, '}",
           "max_pool2d": "MaxPool2d(", "avg_pool2d": "AvgPool2d("}[spec.op]
    if spec.op == "avg_pool2d":
        args.append("count_include_pad=True")
    return f"torch.nn.{cls}{', '.join(args)})"


def info_dict(spec: Spec) -> dict[str, Any]:
    """Sizes, formula per axis with numbers, frames, unread rows/cols, the PyTorch call."""
    o = spec.output_size
    axes = []
    for ax, name in enumerate(("height", "width")):
        i, k, s, p, d, a = (spec.input_size[ax], spec.kernel_size[ax], spec.stride[ax],
                            spec.padding[ax], spec.dilation[ax], spec.output_padding[ax])
        if spec.transposed:
            formula = (f"o = (i-1)*s - 2p + d(k-1) + output_padding + 1 = "
                       f"({i}-1)*{s} - 2*{p} + {d}*({k}-1) + {a} + 1 = {o[ax]}")
        else:
            formula = (f"o = floor((i + 2p - d(k-1) - 1) / s) + 1 = "
                       f"floor(({i} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1 = {o[ax]}")
        axes.append({"axis": name, "formula": formula, "unread": spec.unread[ax]})
    doc: dict[str, Any] = {
        "op": spec.op, "view": spec.view,
        "input_size": list(spec.input_size), "kernel_size": list(spec.kernel_size),
        "stride": list(spec.stride), "padding": list(spec.padding),
        "dilation": list(spec.dilation), "output_padding": list(spec.output_padding),
        "output_size": list(o), "frames": spec.n_steps, "axes": axes,
        "torch": torch_call(spec),
    }
    if spec.channels:
        doc.update(channel_info(spec))
    if spec.transposed:
        g = grid_map(spec)
        doc["equivalent_conv"] = {
            "zeros_between": [s - 1 for s in spec.stride],
            "padding_top_left": list(g.origin),
            "padding_bottom_right": [b + a for b, a in zip(g.origin, spec.output_padding)],
            "kernel": "flipped 180 degrees",
            "stride": [1, 1],
            "dilation": list(spec.dilation),
            "padded_input_size": list(g.size),
        }
    return doc


def dims(shape, sep: str = "x") -> str:
    """A shape as its sizes joined: 3x5x5 (the pictures write 3×5×5)."""
    return sep.join(map(str, shape))


def channel_info(spec: Spec) -> dict[str, Any]:
    """Channels, groups, bias; the shapes of x, w, b, y (PyTorch's) and the parameter count."""
    return {"in_channels": spec.in_channels, "out_channels": spec.out_channels,
            "groups": spec.groups, "bias": spec.bias,
            "shapes": {"x": list(spec.input_shape),
                       "w": None if spec.weight_shape is None else list(spec.weight_shape),
                       "b": None if spec.bias_shape is None else list(spec.bias_shape),
                       "y": list(spec.output_shape)},
            "parameters": spec.n_parameters}


def channel_lines(spec: Spec) -> list[str]:
    """The shapes in a line (x: 3x5x5, w: 2x3x3x3, b: 2, y: 2x3x3) and the parameter count."""
    w = "none (pooling)" if spec.weight_shape is None else dims(spec.weight_shape)
    b = "none" if spec.bias_shape is None else dims(spec.bias_shape)
    lines = [f"shapes: x: {dims(spec.input_shape)}, w: {w}, b: {b}, "
             f"y: {dims(spec.output_shape)}"]
    if spec.pooling:
        lines.append(f"channels: {spec.in_channels}, each pooled on its own; no parameters")
        return lines
    per_in, per_out = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    kh, kw = spec.kernel_size
    lines.append(f"channels: in {spec.in_channels}, out {spec.out_channels}, groups "
                 f"{spec.groups} ({per_in} input and {_count(per_out, 'output map', 'output maps')} "
                 "per group); each "
                 f"output value sums {'at most ' if spec.transposed else ''}"
                 f"{per_in}x{kh}x{kw} products"
                 + (" plus its bias" if spec.bias else ""))
    wcount = spec.n_parameters - (spec.out_channels if spec.bias else 0)
    lines.append(f"parameters: {spec.n_parameters} ({wcount} weights"
                 + (f" + {_count(spec.out_channels, 'bias', 'biases')})" if spec.bias
                    else ", no bias)"))
    return lines


def _n(p) -> str:
    """A pair as one number when both agree, else HxW: 2, 3x2."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def info_text(spec: Spec) -> str:
    """The arithmetic in words: each pair as one number when square (2) or as HxW (3x2),
    and one formula line for both axes when they are the same."""
    if spec.grad is not None:
        # A backward pass: what it is, then the computation the engine ran for it.
        f = spec.grad.forward
        head = [f"{spec.names.op}: the backward pass of {torch_call(f)}",
                f"  {grad_caption(spec)[0]}"]
        if f.pooling:  # no convolution runs: each dL/dy cell goes to its window
            return "\n".join(head + [f"dL/dy: {_hw(f.output_size)}, dL/dx: {_hw(f.input_size)}",
                                      f"frames: {spec.n_steps} (one per dL/dy cell)"])
        return "\n".join(head + ["computed as " + info_text(replace(spec, grad=None))])
    d = info_dict(spec)
    lines = [f"{spec.op}: input {_hw(spec.input_size)}, kernel {_hw(spec.kernel_size)}, "
             f"stride {_n(spec.stride)}, padding {_n(spec.padding)}, dilation {_n(spec.dilation)}"
             + (f", output_padding {_n(spec.output_padding)}" if spec.transposed else "")]
    height, width = d["axes"]
    if height["formula"] == width["formula"]:
        lines.append(f"  height and width: {height['formula']}")
    else:
        for axis in d["axes"]:
            lines.append(f"  {axis['axis']}: {axis['formula']}")
    lines.append(f"output: {_hw(spec.output_size)}")
    if spec.channels:
        lines += channel_lines(spec)
        lines.append(f"frames: {d['frames']} (one per output value: "
                     f"{_count(spec.out_channels, 'map', 'maps')} x "
                     f"{spec.output_size[0] * spec.output_size[1]} cells, map by map)")
    else:
        lines.append(f"frames: {d['frames']} (one per {'input' if spec.view == 'scatter' else 'output'} cell)")
    if not spec.transposed:
        ur, uc = spec.unread
        if ur or uc:
            lines.append(
                f"never read: the last {_count(ur, 'row', 'rows')} and "
                f"{_count(uc, 'column', 'columns')} of the padded input "
                "((i + 2p - d(k-1) - 1) mod s per axis; the 'odd' case)")
        else:
            lines.append("never read: none (every row and column of the padded input is read)")
    else:
        e = d["equivalent_conv"]
        zeros = e["zeros_between"]
        if zeros == [0, 0]:
            between = "no zeros between input cells, "
        elif zeros[0] == zeros[1]:
            between = f"insert {_count(zeros[0], 'zero', 'zeros')} between input cells, "
        else:
            between = (f"insert {_count(zeros[0], 'zero', 'zeros')} between input rows and "
                       f"{_count(zeros[1], 'zero', 'zeros')} between columns, ")
        lines.append(
            f"equivalent direct convolution: {between}"
            f"pad {_n(e['padding_top_left'])} at the top/left and "
            f"{_n(e['padding_bottom_right'])} at the bottom/right "
            f"(padded input {_hw(e['padded_input_size'])}), "
            "flip the kernel 180 degrees, stride 1")
    lines.append(f"PyTorch: {d['torch']}")
    return "\n".join(lines)


def _hw(p: Pair) -> str:
    return f"{p[0]}x{p[1]}"


def _axis_formula(spec: Spec, ax: int) -> str:
    """The output-size formula of one axis with the numbers in, ending in '=o'."""
    i, k, s, p, d, a = (spec.input_size[ax], spec.kernel_size[ax], spec.stride[ax],
                        spec.padding[ax], spec.dilation[ax], spec.output_padding[ax])
    o = spec.output_size[ax]
    if spec.transposed:
        span = f"{k}" if d == 1 else f"{d}*({k}-1)+1"
        extra = f"+{a}" if a else ""
        return f"({i}-1)*{s}-2*{p}+{span}{extra}={o}"
    span = f"{k}" if d == 1 else f"({d}*({k}-1)+1)"
    return f"floor(({i}+2*{p}-{span})/{s})+1={o}"


# The picture's typography for formulas: x for products, a real minus, an arrow.
_PICTURE_MATH = str.maketrans({"*": "\u00d7", "-": "\u2212"})


def caption_auto(spec: Spec) -> tuple[str, ...]:
    """The parameters and the output-size formula with numbers, then a short form.

    'i=5, k=3, s=2, p=1 → o=floor((5+2×1−3)/2)+1=3', then 'i=5, k=3, s=2, p=1 → o=3'.
    A backward pass says what it computes: :func:`grad_caption`.
    """
    if spec.grad is not None:
        return grad_caption(spec)
    parts = [f"i={_pair_picture(spec.input_size, True)}", f"k={_pair_picture(spec.kernel_size, True)}",
             f"s={_pair_picture(spec.stride)}", f"p={_pair_picture(spec.padding)}"]
    if spec.dilation != (1, 1):
        parts.append(f"d={_pair_picture(spec.dilation)}")
    if spec.output_padding != (0, 0):
        parts.append(f"op={_pair_picture(spec.output_padding)}")
    head = {"max_pool2d": "max pool: ", "avg_pool2d": "avg pool: ",
            "conv_transpose2d": "transposed: "}.get(spec.op, "")
    params = head + ", ".join(parts)
    o = spec.output_size
    rows, cols = (_axis_formula(spec, ax).translate(_PICTURE_MATH) for ax in (0, 1))
    same = (spec.input_size[0] == spec.input_size[1] and spec.kernel_size[0] == spec.kernel_size[1]
            and rows == cols)
    formula = f"o={rows}" if same else f"o={_hw_picture(o)}: rows {rows}, cols {cols}"
    return (f"{params} \u2192 {formula}", f"{params} \u2192 o={_pair_picture(o, True)}")


def caption_bands(spec: Spec) -> list[tuple[str, tuple[str, ...]]]:
    """The bands of ``--caption auto``: with channels, groups or a bias first the shapes
    and the parameter count ('x: 3×5×5, w: 2×3×3×3, b: 2, y: 2×3×3; 56 parameters') and
    the torch call, then (always) :func:`caption_auto`."""
    bands = []
    if spec.channels:
        named = [("x", spec.input_shape), ("w", spec.weight_shape), ("b", spec.bias_shape),
                 ("y", spec.output_shape)]
        shapes = ", ".join(f"{n}: {dims(sh, TIMES)}" for n, sh in named if sh is not None)
        count = ("no parameters" if spec.pooling else
                 f"{spec.n_parameters} parameter{'s' if spec.n_parameters != 1 else ''}")
        call = torch_call(spec)
        bands.append(("caption", (f"{shapes}; {count}", shapes)))
        bands.append(("caption", (call, call.replace("torch.nn.", ""))))
    return bands + [("caption", caption_auto(spec))]


def _pair_picture(p: Pair, size: bool = False) -> str:
    """A parameter pair as the pictures write it: '5'; a size '5×7', any other '(2,1)'."""
    if p[0] == p[1]:
        return str(p[0])
    return f"{p[0]}\u00d7{p[1]}" if size else f"({p[0]},{p[1]})"


def _hw_picture(p: Pair) -> str:
    """A size as the pictures write it: '5×5'."""
    return f"{p[0]}\u00d7{p[1]}"


def _zeros_text(zeros: Pair) -> str:
    """'1 zero between', '2 zeros between', '1,2 zeros between'; '' when none."""
    if zeros == (0, 0):
        return ""
    n = str(zeros[0]) if zeros[0] == zeros[1] else f"{zeros[0]},{zeros[1]}"
    return f"{n} zero{'' if n == '1' else 's'} between"


def _padding_text(before: Pair, after: Pair) -> str:
    """'padding 1', 'padding 1,2' (rows, cols), or 'padding 1 top/left, 2 bottom/right'
    when the two sides differ; '' when there is none."""
    def pair(p: Pair) -> str:
        return str(p[0]) if p[0] == p[1] else f"{p[0]},{p[1]}"
    if before == after:
        return f"padding {pair(before)}" if before != (0, 0) else ""
    return f"padding {pair(before)} top/left, {pair(after)} bottom/right"


def grid_labels(spec: Spec) -> dict[str, tuple[str, ...]]:
    """Names of the grids, longest form first: 'input 5×5, padding 1', 'kernel 3×3', 'output 3×3'.

    The words come from ``spec.names``: a backward pass says 'dL/dy 3×3, 1 zero between,
    padding 1', 'w 3×3, flipped', 'dL/dx 5×5'.
    """
    names = spec.names
    x, y = names.input_label, names.output_label
    i, k, o = (_hw_picture(spec.input_size), _hw_picture(spec.kernel_size),
               _hw_picture(spec.output_size))
    pad = spec.padding
    pad_text = str(pad[0]) if pad[0] == pad[1] else f"{pad[0]},{pad[1]}"
    if spec.view == "scatter":
        inp: tuple[str, ...] = (f"{x} {i}",)
        out = ((f"{y} {o}, cropped by padding {pad_text}", f"{y} {o}")
               if pad != (0, 0) else (f"{y} {o}",))
    elif spec.transposed:
        g = grid_map(spec)
        zeros = (spec.stride[0] - 1, spec.stride[1] - 1)
        after = (g.origin[0] + spec.output_padding[0], g.origin[1] + spec.output_padding[1])
        parts = [p for p in (_zeros_text(zeros), _padding_text(tuple(g.origin), after)) if p]
        short = f"{x} {i}, stretched" if zeros != (0, 0) else f"{x} {i}, padded"
        inp = tuple(dict.fromkeys(
            ([f"{x} {i}, {', '.join(parts)}", short] if parts else []) + [f"{x} {i}"]))
        out = (f"{y} {o}",)
    else:
        inp = (f"{x} {i}, padding {pad_text}", f"{x} {i}") if pad != (0, 0) else (f"{x} {i}",)
        out = (f"{y} {o}",)
    kern = f"{names.weight_label} {k}"
    extras = []
    if spec.transposed and spec.view == "gather":
        extras.append("flipped")
    if spec.dilation != (1, 1):
        d = spec.dilation
        extras.append(f"dilation {d[0] if d[0] == d[1] else f'{d[0]},{d[1]}'}")
    kernel = (f"{kern}, {', '.join(extras)}", kern) if extras else (kern,)
    if spec.pooling:
        op = spec.grad.forward.op if spec.grad is not None else spec.op
        kernel = (f"{op[:3]} over {k}",)
    labels = {"input": inp, "kernel": kernel, "output": out}
    if spec.pooling and spec.grad is not None:
        f = spec.grad.forward
        x = f"x {_hw_picture(f.input_size)}"
        labels["x"] = (f"{x}, the max marked", x) if f.op == "max_pool2d" else (x,)
    return labels


def _pair_args(spec: Spec) -> str:
    parts = [f"s={_pair_picture(spec.stride)}", f"p={_pair_picture(spec.padding)}"]
    if spec.dilation != (1, 1):
        parts.append(f"d={_pair_picture(spec.dilation)}")
    return ", ".join(parts)


def grad_caption(spec: Spec) -> tuple[str, ...]:
    """What a backward pass computes, longest form first:
    'dL/dx = conv_transpose2d(dL/dy, w), s=2, p=1, op=0: 3×3 → 5×5'."""
    f = spec.grad.forward
    go, res = _hw_picture(f.output_size), _hw_picture(spec.output_size)
    if f.pooling:
        how = ("each dL/dy cell to the max of its window" if f.op == "max_pool2d" else
               f"each dL/dy cell spread over its window, 1/{f.kernel_size[0] * f.kernel_size[1]} "
               "to each cell")
        return (f"dL/dx of {f.op[:3]} pool k={_pair_picture(f.kernel_size, True)}, "
                f"{_pair_args(f)}: {how}", f"dL/dx: {go} \u2192 {res}")
    if spec.grad.wrt == "input":
        return (f"dL/dx = conv_transpose2d(dL/dy, w), {_pair_args(f)}, "
                f"op={_pair_picture(spec.output_padding)}: {go} \u2192 {res}",
                f"dL/dx: {go} \u2192 {res}")
    return (f"dL/dw = x correlated with dL/dy: stride {_pair_picture(spec.stride)}, dilation "
            f"{_pair_picture(spec.dilation)} (the forward's stride), p={_pair_picture(spec.padding)}"
            f": {res}", f"dL/dw = corr(x, dL/dy): {res}")


def _torch_pair(p: Pair) -> str:
    return str(p[0]) if p[0] == p[1] else str(tuple(p))


def grad_info_dict(forward: Spec) -> dict[str, Any]:
    """The shapes of conv2d ``forward``'s backward pass and the equivalent PyTorch calls."""
    from .grad import conv2d_grad  # grad builds on spec and engine, as this module does

    gi, gw = conv2d_grad(forward, "input"), conv2d_grad(forward, "weight")
    s, p, d, a = (_torch_pair(v) for v in (forward.stride, forward.padding, forward.dilation,
                                           gi.output_padding))
    kh, kw = forward.kernel_size
    full = tuple(replace(gw, grad=None).output_size)
    crop = "" if full == (kh, kw) else f"[..., :{kh}, :{kw}]"
    axes = []
    for ax, name in enumerate(("height", "width")):
        i, k, ss, pp, dd = (forward.input_size[ax], forward.kernel_size[ax], forward.stride[ax],
                            forward.padding[ax], forward.dilation[ax])
        o = forward.output_size[ax]
        axes.append({
            "axis": name,
            "output_padding": f"(i + 2p - d(k-1) - 1) mod s = ({i} + 2*{pp} - {dd}*({k}-1) - 1) "
                              f"mod {ss} = {gi.output_padding[ax]}",
            "grad_input": f"(o-1)*s - 2p + d(k-1) + output_padding + 1 = ({o}-1)*{ss} - 2*{pp} + "
                          f"{dd}*({k}-1) + {gi.output_padding[ax]} + 1 = {gi.output_size[ax]}",
        })
    return {
        "op": forward.op, "input_size": list(forward.input_size),
        "kernel_size": list(forward.kernel_size), "stride": list(forward.stride),
        "padding": list(forward.padding), "dilation": list(forward.dilation),
        "grad_output_size": list(forward.output_size),
        "grad_input_size": list(gi.output_size), "grad_weight_size": list(gw.output_size),
        "output_padding": list(gi.output_padding), "axes": axes,
        "forward": torch_call(forward),
        "grad_input": f"torch.nn.functional.conv_transpose2d(grad_output, weight, stride={s}, "
                      f"padding={p}, output_padding={a}, dilation={d})",
        "grad_input_module": torch_call(replace(gi, grad=None)),
        "grad_weight": f"torch.nn.functional.conv2d(input, grad_output, stride={d}, padding={p}, "
                       f"dilation={s}){crop}",
        "frames": {"grad_input": gi.n_steps, "grad_input_scatter": forward.output_size[0]
                   * forward.output_size[1], "grad_weight": gw.n_steps},
    }


def grad_info_text(forward: Spec) -> str:
    d = grad_info_dict(forward)
    lines = [f"{forward.op}: input {_hw(forward.input_size)}, kernel {_hw(forward.kernel_size)}, "
             f"stride {tuple(forward.stride)}, padding {tuple(forward.padding)}, dilation "
             f"{tuple(forward.dilation)} -> output {_hw(forward.output_size)}",
             f"  forward: {d['forward']}",
             f"dL/dy: {_hw(forward.output_size)} (the output's shape)",
             f"dL/dx: {_hw(forward.input_size)} (the input's shape), the transposed convolution "
             "of dL/dy with the same weight (the product with C^T)"]
    for axis in d["axes"]:
        lines.append(f"  {axis['axis']}: output_padding = {axis['output_padding']}; "
                     f"o' = {axis['grad_input']}")
    lines += [f"  {d['grad_input']}",
              f"  module: {d['grad_input_module']}",
              f"dL/dw: {_hw(forward.kernel_size)} (the kernel's shape), x correlated with dL/dy: "
              "the stride becomes the dilation and the dilation the stride",
              f"  {d['grad_weight']}",
              f"frames: dL/dx {d['frames']['grad_input']} (gather, one per dL/dx cell) or "
              f"{d['frames']['grad_input_scatter']} (scatter, one per dL/dy cell); dL/dw "
              f"{d['frames']['grad_weight']} (one per weight cell)"]
    return "\n".join(lines)

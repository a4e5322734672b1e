"""The arithmetic of a spec in words: sizes with the numbers filled in, and the PyTorch call."""

from __future__ import annotations

from typing import Any

from .engine import grid_map
from .params import Pair
from .spec import Spec


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
    cls = {"conv2d": "Conv2d(1, 1, ", "conv_transpose2d": "ConvTranspose2d(1, 1, ",
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


def _n(p) -> str:
    """A pair as one number when both agree, else HxW: 2, 3x2."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}x{p[1]}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def info_text(spec: Spec) -> str:
    """The arithmetic in words: each pair as one number when square (2) or as HxW (3x2),
    and one formula line for both axes when they are the same."""
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
    """
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
    """Names of the grids, longest form first: 'input 5×5, padding 1', 'kernel 3×3', 'output 3×3'."""
    i, k, o = (_hw_picture(spec.input_size), _hw_picture(spec.kernel_size),
               _hw_picture(spec.output_size))
    pad = spec.padding
    pad_text = str(pad[0]) if pad[0] == pad[1] else f"{pad[0]},{pad[1]}"
    if spec.view == "scatter":
        inp: tuple[str, ...] = (f"input {i}",)
        out = ((f"output {o}, cropped by padding {pad_text}", f"output {o}")
               if pad != (0, 0) else (f"output {o}",))
    elif spec.transposed:
        g = grid_map(spec)
        zeros = (spec.stride[0] - 1, spec.stride[1] - 1)
        after = (g.origin[0] + spec.output_padding[0], g.origin[1] + spec.output_padding[1])
        parts = [p for p in (_zeros_text(zeros), _padding_text(tuple(g.origin), after)) if p]
        short = f"input {i}, stretched" if zeros != (0, 0) else f"input {i}, padded"
        inp = tuple(dict.fromkeys(
            ([f"input {i}, {', '.join(parts)}", short] if parts else []) + [f"input {i}"]))
        out = (f"output {o}",)
    else:
        inp = (f"input {i}, padding {pad_text}", f"input {i}") if pad != (0, 0) else (f"input {i}",)
        out = (f"output {o}",)
    kern = f"kernel {k}"
    extras = []
    if spec.transposed and spec.view == "gather":
        extras.append("flipped")
    if spec.dilation != (1, 1):
        d = spec.dilation
        extras.append(f"dilation {d[0] if d[0] == d[1] else f'{d[0]},{d[1]}'}")
    kernel = (f"{kern}, {', '.join(extras)}", kern) if extras else (kern,)
    if spec.pooling:
        kernel = (f"{spec.op[:3]} over {k}",)
    return {"input": inp, "kernel": kernel, "output": out}

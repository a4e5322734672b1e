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


def info_text(spec: Spec) -> str:
    d = info_dict(spec)
    lines = [f"{spec.op}: input {d['input_size'][0]}x{d['input_size'][1]}, kernel "
             f"{d['kernel_size'][0]}x{d['kernel_size'][1]}, stride {tuple(spec.stride)}, "
             f"padding {tuple(spec.padding)}, dilation {tuple(spec.dilation)}"
             + (f", output_padding {tuple(spec.output_padding)}" if spec.transposed else "")]
    for axis in d["axes"]:
        lines.append(f"  {axis['axis']}: {axis['formula']}")
    lines.append(f"output: {d['output_size'][0]}x{d['output_size'][1]}")
    lines.append(f"frames: {d['frames']} (one per {'input' if spec.view == 'scatter' else 'output'} cell)")
    if not spec.transposed:
        ur, uc = spec.unread
        if ur or uc:
            lines.append(
                f"never read: the last {ur} row(s) and {uc} column(s) of the padded input "
                "((i + 2p - d(k-1) - 1) mod s per axis; the 'odd' case)")
        else:
            lines.append("never read: none (every row and column of the padded input is read)")
    else:
        e = d["equivalent_conv"]
        lines.append(
            "equivalent direct convolution: insert "
            f"{e['zeros_between'][0]},{e['zeros_between'][1]} zero(s) between input cells (rows, cols), "
            f"pad {e['padding_top_left'][0]},{e['padding_top_left'][1]} at the top/left and "
            f"{e['padding_bottom_right'][0]},{e['padding_bottom_right'][1]} at the bottom/right "
            f"(padded input {e['padded_input_size'][0]}x{e['padded_input_size'][1]}), "
            "flip the kernel 180 degrees, stride 1")
    lines.append(f"PyTorch: {d['torch']}")
    return "\n".join(lines)

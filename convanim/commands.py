"""The rendering and describing commands: each builds a spec and calls one library function.

The gallery builds its figures through these same commands (:data:`JOBS` and
their options), so this module never imports the gallery.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import click

from . import __version__, api, formats
from .cli_options import (
    CONTEXT, Whole, channel_options, channels_of, complete_from, font_digest, font_option,
    look_tag, render_job, render_options, size_options, sizes_of,
)
from .info import info_dict, info_text
from .params import SpecError
from .spec import conv2d, conv_transpose2d, pool2d, transpose_of
from .theme import ROLES, THEMES, parse_colour_args, theme_named


# Options about the terminal, not the figure: the gallery neither takes nor hashes them.
TERMINAL = ("quiet", "jobs")

_quiet = click.option(
    "-q", "--quiet", is_flag=True,
    help="Print errors only: no progress bar, not the written path.")
_jobs = click.option(
    "-j", "--jobs", type=Whole(1), metavar="N",
    help="Processes for a long GIF (one taking seconds): its frames are drawn in N parts "
         "at once, the same bytes as with -j 1 (one process). Default: the cores this "
         "process may use.")


def run_options(fn: Callable) -> Callable:
    """-q and -j: how a render runs, not what it draws (:data:`TERMINAL`)."""
    return _quiet(_jobs(fn))

# A render still going after SHOW_AFTER seconds and expected to take SHOW_LONGER seconds
# in all (from its pace so far) shows a progress bar on stderr, when stderr is a terminal.
SHOW_AFTER = 1.0
SHOW_LONGER = 2.0


class RenderProgress:
    """``progress(done, total)`` for :func:`api.run_job`: a bar on ``file`` for long renders.

    Like the gallery's bar (click.progressbar): frames done of all and the time left,
    estimated from the pace since the command started. Nothing when ``file`` is not
    a terminal, and nothing for a render that ends within about two seconds.
    """

    def __init__(self, label: str, file=None, clock: Callable[[], float] = time.monotonic):
        self.label = label
        self.file = file if file is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        isatty = getattr(self.file, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.bar = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            elapsed = self.clock() - self.start
            if done >= total or elapsed < SHOW_AFTER or elapsed * total < SHOW_LONGER * done:
                return
            bar = click.progressbar(length=total, label=self.label, show_eta=True,
                                    show_pos=True, file=self.file)
            # The time left from the pace since the start, not since the bar appeared.
            bar.start = bar.last_eta = time.time() - elapsed
            self.bar, self.shown = bar, 0
        self.bar.update(done - self.shown)  # draws the bar
        self.shown = done
        if done >= total:
            self.close()

    def close(self) -> None:
        """End the bar's line (also on an error or Ctrl-C, before the message)."""
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


def _run(job: api.Job, quiet: bool = False, jobs: int | None = None) -> None:
    progress = None if quiet else RenderProgress(f"rendering {Path(job.outputs[0]).name}")
    try:
        written = api.run_job(job, progress=progress, jobs=jobs)
    finally:
        if progress is not None:
            progress.close()
    if not quiet:
        for path in written:
            click.echo(str(path))


class Commands(click.Group):
    """The top-level group: its --help lists each command with its whole first sentence
    (click would cut a summary that is longer than the line, mid-sentence, with ...)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for command in self.commands.values():
            if command.short_help is None and command.help:
                first = command.help.split("\n\n", 1)[0]
                command.short_help = " ".join(first.split())
        super().format_commands(ctx, formatter)


@click.group(cls=Commands, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="convanim")
def cli() -> None:
    """Animate 2-D convolutions the way the convolution-arithmetic guide draws them.

    \b
    Example:
      convanim conv --i 5 --k 3 --s 2 --p 1
    """


@cli.command(context_settings=CONTEXT)
@size_options
@channel_options
@render_options
@run_options
def conv(quiet, jobs, **params) -> None:
    """Animate a convolution (PyTorch Conv2d).

    One frame per kernel placement; per axis the output size is
    floor((i + 2p - d(k-1) - 1) / s) + 1.

    \b
    Examples:
      convanim conv --i 5 --k 3 --s 2 --p 1
      convanim conv --i 7 --k 3 --d 2 -o dilated.gif
      convanim conv --i 5,7 --k 3,2 --s 2,1 --p 1,0 -o wide.webp
      convanim conv --i 5 --k 3 --p same -o steps.json
      convanim conv --i 5 --k 3 --s 2 --p 1 -o conv.svg        # animated SVG, plays in <img>
      convanim conv --i 5 --k 3 --s 2 --p 1 -o conv.html       # interactive page, one file
      convanim conv --i 5 --k 3 --s 2 --p 1 --frame 5 -o step5.pdf   # one frame, vector
      convanim conv --i 5 --k 3 --style flat                  # values, labels, the sum
      convanim conv --i 5 --k 3 --s 2 --p 1 --numbers --caption auto --theme dark
      convanim conv --i 5 --k 3 --color input=#268bd2 --color output=#2aa198
      convanim conv --i 5 --k 3 --cin 3 --cout 2 --bias -o steps.json   # channels: the trace
      convanim conv --i 5 --k 3 --cin 3 --depthwise -o dw.gif   # channels: stacks of maps

    Channels (--cin, --cout, --groups, --depthwise, --pointwise, --bias) give the trace
    (-o NAME.json) and the pictures, of tconv and pool --cin too: iso, the maps as stacks
    of planes (up to 8 input maps, 8 filters; no --numbers), and --style flat, a row per
    map with its products and the sum (up to 8 maps per group, 8 filters; also as .html).
    """
    _run(conv_job(**params), quiet, jobs)


CHANNEL_KEYS = ("in_channels", "out_channels", "groups", "depthwise", "pointwise", "bias",
                "bias_file")


def _channel_args(params: dict) -> dict:
    """The channel options out of a command's parameters (all absent: one channel)."""
    return {k: params.pop(k) for k in CHANNEL_KEYS if k in params}


def conv_job(input_size, kernel_size, stride, padding, dilation, **render) -> api.Job:
    given = _channel_args(render)
    ch = channels_of(kernel_size=kernel_size, **given)
    kernel_size = ch.pop("kernel_size")
    spec_channels = ch != {"in_channels": 1, "out_channels": 1, "groups": 1, "bias": False}
    input_size, kernel_size = sizes_of(input_size, kernel_size, render.get("input_file"),
                                       render.get("weight_file"), channels=spec_channels)
    return render_job(conv2d(input_size, kernel_size, stride, padding, dilation, **ch),
                bias_file=given.get("bias_file"), **render)


def _tconv_spec(input_size, kernel_size, stride, padding, dilation, output_padding, of_conv, view,
                in_channels=1, out_channels=1, groups=1, bias=False):
    """The transposed convolution; its channels are its own (with --of-conv too: the
    convolution it transposes has them swapped)."""
    if of_conv:
        if output_padding is not None:
            raise SpecError("output_padding: --of-conv derives it from the convolution; "
                            "drop --op or drop --of-conv")
        return transpose_of(conv2d(input_size, kernel_size, stride, padding, dilation,
                                   out_channels, in_channels, groups, bias), view)
    return conv_transpose2d(input_size, kernel_size, stride, padding, dilation,
                            output_padding if output_padding is not None else "0", view,
                            in_channels, out_channels, groups, bias)


overlay_option = click.option(
    "--overlay", type=click.Choice(["overlap"]),
    help="overlap: shade each output cell by how many products land in it (a legend gives the "
         "counts; --numbers writes them), and say whether the kernel size is divisible by the "
         "stride (an even pattern) or not (a checkerboard). --frame N for a still of frame N.")


def _with_overlay(job: api.Job, overlay: str | None, output: str | None) -> api.Job:
    """The job drawn with ``overlay``; a default file name says so (..._overlap.gif)."""
    if overlay is None:
        return job
    outputs = job.outputs
    if output is None:
        stem = job.spec.short_name()
        outputs = tuple(o.replace(stem, f"{stem}_{overlay}", 1) for o in outputs)
    return replace(job, look=replace(job.look, overlay=overlay), outputs=outputs)


def tconv_options(fn: Callable) -> Callable:
    for decorator in reversed([
        click.option("--op", "--output-padding", "output_padding", metavar="N|H,W",
                     help="Extra rows/columns at the bottom/right of the output (default 0); "
                          "smaller than the stride or the dilation."),
        click.option("--of-conv", is_flag=True,
                     help="The sizes describe a direct convolution: animate its transpose "
                          "(input = that conv's output, output = its input)."),
        click.option("--view", type=click.Choice(["gather", "scatter"]), default="gather",
                     show_default=True,
                     help="gather: one step per output cell, the flipped kernel sliding over the "
                          "zero-stretched input; scatter: one step per input cell stamping the "
                          "kernel onto the output."),
    ]):
        fn = decorator(fn)
    return fn


@cli.command(context_settings=CONTEXT)
@size_options
@tconv_options
@channel_options
@overlay_option
@render_options
@run_options
def tconv(quiet, jobs, **params) -> None:
    """Animate a transposed convolution (PyTorch ConvTranspose2d).

    Per axis the output size is (i-1)*s - 2p + d(k-1) + output_padding + 1.

    \b
    Examples:
      convanim tconv --i 3 --k 3 --s 2 --p 1                 # 3x3 -> 5x5
      convanim tconv --i 3 --k 3 --s 2 --p 1 --op 1          # 3x3 -> 6x6
      convanim tconv --of-conv --i 6 --k 3 --s 2 --p 1       # transpose of 6 -> 3: 3 -> 6
      convanim tconv --i 2 --k 2 --s 2 --view scatter
      convanim tconv --i 2 --k 3 --style flat --view scatter  # running sums fill the output
      convanim tconv --i 4 --k 3 --s 2 --view scatter --overlay overlap  # products per cell
      convanim tconv --i 3 --k 3 --s 2 --cin 2 --cout 3 -o steps.json   # channels: the trace
      convanim tconv --i 3 --k 3 --s 2 --cin 2 --cout 3 -o tc.gif   # channels: stacks of maps
    """
    _run(tconv_job(**params), quiet, jobs)


def tconv_job(input_size, kernel_size, stride, padding, dilation, output_padding, of_conv, view,
              overlay=None, **render) -> api.Job:
    given = _channel_args(render)
    ch = channels_of(kernel_size=kernel_size, **given)
    kernel_size = ch.pop("kernel_size")
    spec_channels = ch != {"in_channels": 1, "out_channels": 1, "groups": 1, "bias": False}
    if of_conv and input_size is None:
        raise SpecError("i: missing; with --of-conv, --i is the convolution's input size, "
                        "which the --input data (the transposed convolution's input) does not "
                        "give: add --i N (or H,W)")
    input_size, kernel_size = sizes_of(input_size, kernel_size, render.get("input_file"),
                                       render.get("weight_file"), channels=spec_channels)
    job = render_job(_tconv_spec(input_size, kernel_size, stride, padding, dilation, output_padding,
                           of_conv, view, **ch), bias_file=given.get("bias_file"), **render)
    return _with_overlay(job, overlay, render.get("output"))


@cli.command(context_settings=CONTEXT)
@size_options(stride_default=None, weight=False)
@click.option("--mode", type=click.Choice(["max", "avg"]), default="max", show_default=True,
              help="max_pool2d, or avg_pool2d with padding counted (count_include_pad=True).")
@channel_options(pooling=True)
@render_options(weight=False)
@run_options
def pool(quiet, jobs, **params) -> None:
    """Animate max or average pooling (PyTorch max_pool2d / avg_pool2d).

    \b
    Examples:
      convanim pool --i 5 --k 3 --s 1 --mode max
      convanim pool --i 6 --k 2 --mode avg -o avg.gif
      convanim pool --i 5 --k 3 --s 1 --style flat            # max(...) per step, winner marked
      convanim pool --i 5 --k 3 --s 2 --cin 3 -o maps.gif      # each map pooled on its own
    """
    _run(pool_job(**params), quiet, jobs)


def pool_job(input_size, kernel_size, stride, padding, dilation, mode, in_channels=None,
             **render) -> api.Job:
    if render.get("weight_file"):
        raise SpecError("weight: pooling takes no weight; drop --weight")
    cin = 1 if in_channels is None else in_channels
    input_size, kernel_size = sizes_of(input_size, kernel_size, render.get("input_file"), None,
                                       pooling=True, channels=cin != 1)
    return render_job(pool2d(mode, input_size, kernel_size, stride, padding, dilation, cin), **render)


def grad_options(fn: Callable) -> Callable:
    for decorator in reversed([
        click.option("--mode", type=click.Choice(["conv", "max", "avg"]), default="conv",
                     show_default=True,
                     help="The forward pass: conv2d, max_pool2d or avg_pool2d (count_include_pad)."),
        click.option("--wrt", type=click.Choice(["input", "weight"]), default="input",
                     show_default=True,
                     help="input: dL/dx, the transposed convolution of dL/dy; weight: dL/dw, x "
                          "correlated with dL/dy (conv only)."),
        click.option("--view", type=click.Choice(["gather", "scatter"]),
                     help="--wrt input: gather (default; one step per dL/dx cell, the flipped w "
                          "over the zero-stretched dL/dy) or scatter (each dL/dy cell stamps w). "
                          "Pooling: scatter only, one step per dL/dy cell."),
        click.option("--grad-output", "grad_output", metavar="FILE",
                     help="dL/dy, the gradient of the output (.npy, .csv, text or .png; the "
                          "forward's output size). Default: whole numbers 1..3 from --seed."),
    ]):
        fn = decorator(fn)
    return fn


@cli.command(context_settings=CONTEXT)
@size_options(stride_default=None,
              stride_help="Stride; default: 1 for conv, the kernel size for pooling, as in PyTorch.")
@grad_options
@overlay_option
@render_options
@run_options
def grad(quiet, jobs, **params) -> None:
    """Animate the backward pass of a convolution or a pooling (one channel).

    The size options give the forward pass, as for conv and pool; dL/dy has its
    output's shape.
    dL/dx = conv_transpose2d(dL/dy, w) with the output_padding that gives back the
    input's shape, (i + 2p - d(k-1) - 1) mod s per axis: the product with C^T.
    dL/dw[ky,kx] = sum dL/dy[oy,ox] * x[oy*s + ky*d - p, ox*s + kx*d - p]: one step per
    weight cell, dL/dy sliding over x with the stride as its dilation.

    \b
    Examples:
      convanim grad --i 5 --k 3 --s 2 --p 1 --wrt input      # dL/dy 3x3 -> dL/dx 5x5
      convanim grad --i 5 --k 3 --s 2 --p 1 --wrt input --view scatter
      convanim grad --i 5 --k 3 --s 2 --p 1 --wrt weight     # dL/dw 3x3
      convanim grad --i 4 --k 2 --s 2 --mode max --wrt input # to the cell that won
      convanim grad --i 4 --k 2 --s 2 --mode avg --wrt input # spread evenly
      convanim grad --i 5 --k 3 --s 2 --p 1 --view scatter --overlay overlap --frame 9
    """
    _run(grad_job(**params), quiet, jobs)


def grad_job(input_size, kernel_size, stride, padding, dilation, mode, wrt, view, grad_output,
             overlay=None, **render) -> api.Job:
    from .grad import grad_of

    input_size, kernel_size = sizes_of(input_size, kernel_size, render.get("input_file"),
                                       render.get("weight_file"), pooling=mode != "conv")
    if mode == "conv":
        forward = conv2d(input_size, kernel_size, "1" if stride is None else stride, padding,
                         dilation)
    else:
        if render.get("weight_file"):
            raise SpecError("weight: pooling takes no weight; drop --weight")
        forward = pool2d(mode, input_size, kernel_size, stride, padding, dilation)
    spec = grad_of(forward, wrt, view)
    if overlay is not None and not spec.transposed:
        raise SpecError(f"overlay: got {overlay!r} with --wrt {wrt}"
                        + (f" --mode {mode}" if mode != "conv" else "")
                        + "; the overlap view is for dL/dx of a convolution (a transposed "
                          "convolution): use --mode conv --wrt input")
    job = replace(render_job(spec, **render), grad_output=grad_output)
    return _with_overlay(job, overlay, render.get("output"))


# Each rendering command's job builder, by command name: the gallery builds the same job from
# an entry's parsed parameters. A command not listed here is run through its own callback.
JOBS: dict[str, Callable[..., api.Job]] = {"conv": conv_job, "tconv": tconv_job, "pool": pool_job,
                                           "grad": grad_job}


@cli.command(context_settings=CONTEXT)
@size_options(from_data=False, kernel_required=False)
@click.option("--transposed", is_flag=True, help="Describe the transposed convolution.")
@tconv_options
@click.option("--grad", "backward", is_flag=True,
              help="Describe the convolution's backward pass: the shapes of dL/dy, dL/dx, dL/dw "
                   "and the equivalent conv_transpose2d / conv2d calls.")
@click.option("--json", "as_json", is_flag=True, help="Print the same as JSON.")
@channel_options
def info(input_size, kernel_size, stride, padding, dilation, transposed, output_padding, of_conv,
         view, as_json, backward=False, **channels) -> None:
    """Print the arithmetic: output size formula with the numbers, frames, unread cells, PyTorch call.

    \b
    Examples:
      convanim info --i 5 --k 3 --s 2 --p 1
      convanim info --transposed --i 3 --k 3 --s 2 --p 1 --op 1
      convanim info --i 5 --k 3 --s 2 --p 1 --grad
      convanim info --i 5 --k 3 --cin 3 --cout 2 --bias   # shapes, parameters, the torch call
    """
    if channels.get("bias_file") is not None:
        raise SpecError("bias-file: info reads no data; use --bias")
    ch = channels_of(kernel_size=kernel_size, **channels)
    kernel_size = ch.pop("kernel_size")
    if kernel_size is None:
        raise SpecError("k: missing; give --k N (or H,W), or --pointwise")
    one = ch == {"in_channels": 1, "out_channels": 1, "groups": 1, "bias": False}
    if backward and not one:
        raise SpecError("grad: the backward pass is described for one channel only; drop "
                        "--cin, --cout, --groups, --depthwise and --bias")
    if backward:
        _info_grad(input_size, kernel_size, stride, padding, dilation, transposed,
                   output_padding, of_conv, view, as_json)
        return
    if transposed or of_conv:
        spec = _tconv_spec(input_size, kernel_size, stride, padding, dilation, output_padding,
                           of_conv, view, **ch)
    else:
        if output_padding is not None:
            raise SpecError("output_padding: only for a transposed convolution; add --transposed")
        if view != "gather":
            raise SpecError(f"view: got {view!r}; only for a transposed convolution; "
                            "add --transposed")
        spec = conv2d(input_size, kernel_size, stride, padding, dilation, **ch)
    click.echo(json.dumps(info_dict(spec), indent=2) if as_json else info_text(spec))


def _info_grad(input_size, kernel_size, stride, padding, dilation, transposed, output_padding,
               of_conv, view, as_json) -> None:
    from .info import grad_info_dict, grad_info_text

    if transposed or of_conv or output_padding is not None or view != "gather":
        raise SpecError("grad: describes a convolution's backward pass; drop --transposed, "
                        "--of-conv, --op and --view (the output_padding is derived)")
    spec = conv2d(input_size, kernel_size, stride, padding, dilation)
    click.echo(json.dumps(grad_info_dict(spec), indent=2) if as_json else grad_info_text(spec))


@cli.command(context_settings=CONTEXT)
@size_options
@click.option("--transpose", is_flag=True,
              help="Draw C^T, the transposed convolution's matrix: X' = C^T Y.")
@click.option("--vectors/--no-vectors", default=True, show_default=True,
              help="Draw the flattened input and output beside the matrix, with their values.")
@click.option("--values", is_flag=True, help="Write the weights' numbers instead of w(r,c).")
@click.option("--cell", type=Whole(12, 96), default=api.DEFAULT_CELL, show_default=True,
              metavar="PX", help="Height of one matrix row in pixels.")
@click.option("-o", "--output", metavar="PATH",
              help=f"Output file: {', '.join(formats.STILLS)}. Default: a name from the "
                   "parameters, e.g. conv_matrix_i4_k3.png (conv_matrix_T_i4_k3.png with "
                   "--transpose).")
@click.option("--seed", type=Whole(0), default=0, show_default=True,
              help="Random input 0..3 and weights 0..2 from this seed.")
@click.option("--input", "input_file", metavar="FILE",
              help="Input matrix (.npy, .csv or whitespace-separated text).")
@click.option("--weight", "weight_file", metavar="FILE", help="Weight matrix, likewise.")
@click.option("--theme", "theme_name", default="classic", show_default=True, metavar="NAME",
              help=f"Colours: {', '.join(THEMES)}.", shell_complete=complete_from(THEMES))
@click.option("--color", "colors", multiple=True, metavar="ROLE=#HEX",
              help=f"Override one colour (repeatable); ROLE: {', '.join(ROLES)}.")
@font_option
def matrix(input_size, kernel_size, stride, padding, dilation, transpose, vectors, values, cell,
           output, seed, input_file, weight_file, theme_name, colors, font) -> None:
    """Draw a convolution as a sparse matrix C: Y = C X (PNG, SVG or PDF).

    C has one row per output cell and one column per input cell (both flattened
    row-major), w(r,c) where that kernel weight joins them and 0 elsewhere; the
    products come from the same engine as the animations. --transpose draws C^T,
    the transposed convolution. At most 64 rows and 64 columns.

    \b
    Examples:
      convanim matrix --i 4 --k 3 -o C.png                # the article's 4x16 matrix
      convanim matrix --i 4 --k 3 --transpose             # conv_matrix_T_i4_k3.png
      convanim matrix --i 4 --k 3 -o C.pdf                # vector, for a paper
      convanim matrix --i 5 --k 3 --s 2 --p 1 --values --no-vectors
      convanim matrix --i 4 --k 3 --theme dark -o C_dark.svg
    """
    input_size, kernel_size = sizes_of(input_size, kernel_size, input_file, weight_file)
    spec = conv2d(input_size, kernel_size, stride, padding, dilation)
    theme = theme_named(theme_name, parse_colour_args(colors))  # a bad colour before any work
    face = api.face_of(api.Look(font=font))
    stem = spec.short_name().replace("conv_", "conv_matrix_T_" if transpose else "conv_matrix_", 1)
    if theme_name != "classic":
        stem += "_" + theme_name
    stem += look_tag({"font": font_digest(face) if font is not None else None,
                      "colors": ",".join(colors) or None,
                      "values": values, "no_vectors": not vectors,
                      "cell": cell if cell != api.DEFAULT_CELL else None, "seed": seed or None,
                      "input": input_file, "weight": weight_file})
    path = api.matrix_output(output if output is not None else stem + formats.DEFAULT_STILL)
    t = api.trace_of(spec, seed=seed, input=input_file, weight=weight_file)
    written = api.save_matrix(t, path, transpose=transpose, vectors=vectors, values=values,
                              cell=cell, theme=theme, font=face)
    click.echo(str(written))

"""The command line: each command builds a spec and calls one library function.

Errors in what the user gave end as one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import sys
from typing import Callable

import click

from . import __version__, api
from .info import info_dict, info_text
from .params import SpecError
from .spec import conv2d

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def size_options(fn: Callable) -> Callable:
    """--i --k --s --p --d, each N or H,W (or HxW)."""
    for decorator in reversed([
        click.option("--i", "--input-size", "input_size", required=True, metavar="N|H,W",
                     help="Input size."),
        click.option("--k", "--kernel-size", "kernel_size", required=True, metavar="N|H,W",
                     help="Kernel size."),
        click.option("--s", "--stride", "stride", default="1", show_default=True,
                     metavar="N|H,W", help="Stride."),
        click.option("--p", "--padding", "padding", default="0", show_default=True,
                     metavar="N|H,W|valid|same|full", help="Zero padding on each side."),
        click.option("--d", "--dilation", "dilation", default="1", show_default=True,
                     metavar="N|H,W", help="Dilation: spacing between kernel taps."),
    ]):
        fn = decorator(fn)
    return fn


def render_options(fn: Callable) -> Callable:
    for decorator in reversed([
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Random input 0..3 and weights 0..2 from this seed."),
        click.option("--input", "input_file", metavar="FILE",
                     help="Input matrix (.npy, .csv or whitespace-separated text)."),
        click.option("--weight", "weight_file", metavar="FILE", help="Weight matrix, likewise."),
        click.option("-o", "--output", metavar="PATH",
                     help="Output file: .gif, .webp, .png (animated) or .json (the trace). "
                          "Default: a name from the parameters, e.g. conv_i5_k3_s2_p1.gif."),
        click.option("--duration", type=click.IntRange(1, 60_000), default=1000,
                     show_default=True, metavar="MS", help="Milliseconds per frame."),
        click.option("--loop", type=click.IntRange(0, 65535), default=0, show_default=True,
                     help="Times to loop; 0 = forever."),
        click.option("--cell", type=click.IntRange(8, 200), default=api.DEFAULT_CELL,
                     show_default=True, metavar="PX", help="Size of one cell in pixels."),
        click.option("--frames", "frames_dir", metavar="DIR",
                     help="Also write every frame as a numbered PNG into DIR."),
    ]):
        fn = decorator(fn)
    return fn


def _save(spec, seed, input_file, weight_file, output, duration, loop, cell, frames_dir) -> None:
    path = output or f"{spec.short_name()}.gif"
    api.check_output(path)
    t = api.trace_of(spec, seed=seed, input=input_file, weight=weight_file)
    written = api.save(t, path, cell=cell, duration=duration, loop=loop, frames_dir=frames_dir)
    click.echo(str(written))


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="convanim")
def cli() -> None:
    """Animate 2-D convolutions the way the convolution-arithmetic guide draws them.

    \b
    Example:
      convanim conv --i 5 --k 3 --s 2 --p 1
    """


@cli.command(context_settings=CONTEXT)
@size_options
@render_options
def conv(input_size, kernel_size, stride, padding, dilation, **render) -> None:
    """Animate a convolution (PyTorch Conv2d, one channel).

    One frame per kernel placement; per axis the output size is
    floor((i + 2p - d(k-1) - 1) / s) + 1.

    \b
    Examples:
      convanim conv --i 5 --k 3 --s 2 --p 1
      convanim conv --i 7 --k 3 --d 2 -o dilated.gif
      convanim conv --i 5,7 --k 3,2 --s 2,1 --p 1,0 -o wide.webp
      convanim conv --i 5 --k 3 --p same -o steps.json
    """
    _save(conv2d(input_size, kernel_size, stride, padding, dilation), **render)


@cli.command(context_settings=CONTEXT)
@size_options
@click.option("--json", "as_json", is_flag=True, help="Print the same as JSON.")
def info(input_size, kernel_size, stride, padding, dilation, as_json) -> None:
    """Print the arithmetic: output size formula with the numbers, frames, unread cells, PyTorch call.

    \b
    Example:
      convanim info --i 5 --k 3 --s 2 --p 1
    """
    spec = conv2d(input_size, kernel_size, stride, padding, dilation)
    click.echo(json.dumps(info_dict(spec), indent=2) if as_json else info_text(spec))


def _fail(message: str) -> int:
    click.echo(f"convanim: error: {message}", err=True)
    return 2


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning expected failures into one line and a status."""
    try:
        status = cli.main(args=argv, prog_name="convanim", standalone_mode=False)
    except SpecError as err:
        status = _fail(str(err))
    except click.UsageError as err:
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
        status = _fail(err.format_message() + hint)
    except click.ClickException as err:
        err.show()
        status = err.exit_code
    except (KeyboardInterrupt, click.Abort):
        status = 130
    sys.exit(status if isinstance(status, int) else 0)

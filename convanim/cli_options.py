"""What the commands share: the option types and groups, the sizes and data files
read from the options, the default file names, and the job a rendering command builds.

Click lives here and in :mod:`convanim.commands` only; the library never sees it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Callable

import click

from . import api, fonts, formats
from .data import file_digest, load_array, load_matrix
from .params import WHOLE, SpecError, short
from .theme import ROLES, THEMES, hex_rgb, parse_colour_args, theme_named

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Whole(click.IntRange):
    """A whole number in a range, written as digits: the same rule as the sizes
    (params.to_pair), so ``1_0``, ``0x10`` and 5,000-digit numbers are refused everywhere
    (Python's int() would take the first two and choke on the last)."""

    name = "integer"

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            if not WHOLE.fullmatch(value.strip()):
                self.fail(f"{short(value)} is not a whole number (digits only, e.g. 5)", param, ctx)
            if len(value.strip().lstrip("+-")) > 15:
                self.fail(f"{short(value)} is too large (at most 15 digits)", param, ctx)
        return super().convert(value, param, ctx)


def size_options(fn: Callable | None = None, *, stride_default: str | None = "1",
                 stride_help: str | None = None, from_data: bool = True,
                 weight: bool = True, kernel_required: bool | None = None) -> Callable:
    """--i --k --s --p --d, each N or H,W (or HxW); ``from_data``: --i and --k may be
    left out when --input / --weight give them (:func:`sizes_of`; pooling, without
    ``weight``, needs --k)."""
    if fn is None:
        return lambda f: size_options(f, stride_default=stride_default, stride_help=stride_help,
                                      from_data=from_data, weight=weight,
                                      kernel_required=kernel_required)
    stride_help = stride_help or (
        "Stride." if stride_default else "Stride; default: the kernel size, as in PyTorch.")
    for decorator in reversed([
        click.option("--i", "--input-size", "input_size", required=not from_data,
                     metavar="N|H,W",
                     help="Input size" + ("; default: the shape of --input." if from_data else ".")),
        click.option("--k", "--kernel-size", "kernel_size",
                     required=not from_data if kernel_required is None else kernel_required,
                     metavar="N|H,W",
                     help="Kernel size" + ("; default: the shape of --weight."
                                           if from_data and weight else ".")),
        click.option("--s", "--stride", "stride", default=stride_default,
                     show_default=stride_default is not None, metavar="N|H,W", help=stride_help),
        click.option("--p", "--padding", "padding", default="0", show_default=True,
                     metavar="N|H,W|valid|same|full", help="Zero padding on each side."),
        click.option("--d", "--dilation", "dilation", default="1", show_default=True,
                     metavar="N|H,W", help="Dilation: spacing between kernel taps."),
    ]):
        fn = decorator(fn)
    return fn


def channel_options(fn: Callable | None = None, *, pooling: bool = False) -> Callable:
    """--cin --cout --groups --depthwise --pointwise --bias/--no-bias --bias-file (pooling:
    --cin alone, each map pooled on its own); resolved by :func:`channels_of`."""
    if fn is None:
        return lambda f: channel_options(f, pooling=pooling)
    options = [click.option("--cin", "--in-channels", "in_channels", type=Whole(1), metavar="N",
                            help="Input maps (channels); default 1."
                                 + (" Each is pooled on its own." if pooling else ""))]
    if not pooling:
        options += [
            click.option("--cout", "--out-channels", "out_channels", type=Whole(1), metavar="N",
                         help="Output maps (filters); default 1 (with --depthwise: --cin)."),
            click.option("--groups", type=Whole(1), metavar="N",
                         help="Groups, as in PyTorch: --cin and --cout divisible by it; "
                              "default 1."),
            click.option("--depthwise", is_flag=True,
                         help="groups = --cin: each input map meets its own kernels; --cout "
                              "a multiple of --cin (default --cin)."),
            click.option("--pointwise", is_flag=True, help="A 1x1 kernel (sets --k 1)."),
            click.option("--bias/--no-bias", "bias", default=None,
                         help="Add a bias per output map (default off; seeded 0..2, drawn "
                              "after the weights)."),
            click.option("--bias-file", "bias_file", metavar="FILE",
                         help="The bias: --cout numbers (.npy, or one row or column of .csv / "
                              "text); implies --bias."),
        ]
    for decorator in reversed(options):
        fn = decorator(fn)
    return fn


def channels_of(in_channels=None, out_channels=None, groups=None, depthwise=False,
                pointwise=False, bias=None, bias_file=None, kernel_size=None) -> dict:
    """The channel keywords of a spec (in_channels, out_channels, groups, bias) and the
    kernel size (1 with --pointwise), from the options; SpecError for contradictions."""
    cin = 1 if in_channels is None else in_channels
    if depthwise:
        if groups is not None and groups != cin:
            raise SpecError(f"groups: got {groups} with --depthwise, which sets groups = "
                            f"in_channels ({cin}); drop --groups")
        groups = cin
        if out_channels is None:
            out_channels = cin
        elif out_channels % cin:
            raise SpecError(f"out_channels: got {out_channels} with --depthwise; it must be a "
                            f"multiple of in_channels {cin} ({cin}, {2 * cin}, {3 * cin}, ...)")
    if pointwise:
        if kernel_size is not None and str(kernel_size).strip() not in ("1", "1,1", "1x1"):
            raise SpecError(f"kernel_size: got {short(kernel_size)} with --pointwise, which "
                            "sets a 1x1 kernel; drop --k or drop --pointwise")
        kernel_size = "1"
    if bias_file is not None:
        if bias is False:
            raise SpecError("bias-file: given with --no-bias; drop one of them")
        bias = True
    return {"in_channels": cin, "out_channels": 1 if out_channels is None else out_channels,
            "groups": 1 if groups is None else groups, "bias": bool(bias),
            "kernel_size": kernel_size}


# A number where a data file belongs: most likely the size, meant for --i or --k.
_NUMBER_LIKE = re.compile(r"\s*\d+\s*([,x]\s*\d+\s*)?")


def check_data_file(value: str | None, option: str, size_option: str) -> None:
    """``--input 5``: a data file that does not exist and looks like a size is a mix-up."""
    if value is not None and _NUMBER_LIKE.fullmatch(value) and not Path(value).exists():
        kinds = ".npy, .csv, whitespace-separated text" + (" or a small .png" if option == "--input"
                                                           else "")
        raise SpecError(f"{option.lstrip('-')}: got {value!r}; {option} is a data file "
                        f"({kinds}), and there is "
                        f"no file {value!r}; for the size write {size_option} {value.strip()}")


def sizes_of(input_size, kernel_size, input_file, weight_file, pooling: bool = False,
             channels: bool = False):
    """--i and --k, each from the shape of its data file when left out; a given size that
    the file disagrees with stays an error (when the trace loads the file). With
    ``channels`` a .npy may have more dimensions: the size is its last two."""
    check_data_file(input_file, "--input", "--i")
    check_data_file(weight_file, "--weight", "--k")
    sizes = []
    for size, data, option, data_option, name in (
            (input_size, input_file, "--i", "--input", "input"),
            (kernel_size, None if pooling else weight_file, "--k", "--weight", "weight")):
        if size is None:
            if data is None:
                raise SpecError(f"{option.lstrip('-')}: missing; give {option} N (or H,W)"
                                + (f", or {data_option} FILE, whose shape is the size"
                                   if not (pooling and option == "--k") else ""))
            h, w = (load_array(data, name) if channels else load_matrix(data, name)).shape[-2:]
            size = f"{h},{w}"
        sizes.append(size)
    return sizes


font_option = click.option(
    "--font", metavar="PATH[#N]",
    help="Font file for all text (.ttf, .otf; PATH#N: face N of a .ttc collection). Default: "
         "the bundled font, or an installed font that has every character of the title and "
         "caption when the bundled one lacks some (e.g. Chinese).")


def font_digest(face: fonts.Face) -> str:
    return file_digest(face.path, b"#%d" % face.index)


def _switch(flag: bool | None) -> str | None:
    """An on/off option as a name part's value: None when not given (its default)."""
    return None if flag is None else "on" if flag else "off"


def look_tag(options: dict) -> str:
    """The default name's mark of picture options other than the defaults: '' when all
    are the defaults (None, False, empty), else '_' and 6 hex digits of a hash of
    those given, so figures drawn differently never share a default name."""
    given = {k: v for k, v in sorted(options.items()) if v not in (None, False, (), "")}
    if not given:
        return ""
    text = json.dumps(given, sort_keys=True, default=str, ensure_ascii=False)
    return "_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]


def complete_from(names) -> Callable:
    """Shell completion of an option's value from ``names`` (its own check stays the
    library's, with its message)."""
    return lambda ctx, param, incomplete: [n for n in names if n.startswith(incomplete.lower())]


def render_options(fn: Callable | None = None, *, weight: bool = True) -> Callable:
    """Data, output and picture options of the rendering commands (pool has no --weight)."""
    if fn is None:
        return lambda f: render_options(f, weight=weight)
    for decorator in reversed([
        click.option("--seed", type=Whole(0), default=0, show_default=True,
                     help="Random input 0..3 and weights 0..2 from this seed."),
        click.option("--input", "input_file", metavar="FILE",
                     help="Input matrix (.npy, .csv or whitespace-separated text), or a small "
                          ".png read as greyscale, scaled to 0..3 and rounded to whole numbers "
                          "(its size must equal --i); with --cin 3 a colour .png gives its R, G, "
                          "B maps, scaled alike."),
        click.option("--weight", "weight_file", metavar="FILE", help="Weight matrix, likewise.",
                     hidden=not weight),
        click.option("-o", "--output", metavar="PATH",
                     help=f"Output file: an animation ({', '.join(formats.ANIMATIONS)}; .png is "
                          f"APNG) or the trace ({', '.join(formats.TRACES)}); with --frame: "
                          f"{', '.join(formats.STILLS)}. Default: a name from the parameters, "
                          "e.g. conv_i5_k3_s2_p1.gif (conv_i5_k3_s2_p1_flat_dark.gif with --style "
                          "flat --theme dark; ..._frame5.png with --frame 5)."),
        click.option("--frame", type=Whole(1), metavar="N",
                     help="Write frame N alone (1-based, as the --frames file names) as a "
                          f"still: {', '.join(formats.STILLS)}."),
        click.option("--duration", type=Whole(1, 60_000), default=1000,
                     show_default=True, metavar="MS", help="Milliseconds per frame."),
        click.option("--loop", type=Whole(0, 65535), default=0, show_default=True,
                     metavar="N",
                     help="How many times the animation plays: 1 = once, 0 = forever (every "
                          "animated format: GIF, WebP, APNG, SVG, the page)."),
        click.option("--cell", type=Whole(8, 200), default=api.DEFAULT_CELL,
                     show_default=True, metavar="PX", help="Size of one cell in pixels."),
        click.option("--scale", type=click.FloatRange(0.25, 8), default=1.0, show_default=True,
                     metavar="F",
                     help="Draw everything F times as large, line widths and text included "
                          "(2: for HiDPI screens and slides); the limits apply to the scaled "
                          "size."),
        click.option("--frames", "frames_dir", metavar="DIR",
                     help="Also write every frame as a numbered PNG into DIR."),
        click.option("--style", type=click.Choice(api.STYLES), default="iso", show_default=True,
                     help="iso: the guide's oblique view; flat: front view, input | kernel | "
                          "output side by side with values, labels and the step's sum."),
        click.option("--numbers/--no-numbers", default=None,
                     help="Write the values in the cells (default: on for flat, off for iso)."),
        click.option("--labels/--no-labels", default=None,
                     help="Name the grids, e.g. 'input 5x5, padding 1' (default: on for flat)."),
        click.option("--caption", metavar="auto|TEXT",
                     help="A caption below the picture; 'auto': the parameters and the "
                          "output-size formula with numbers."),
        click.option("--title", metavar="TEXT", help="A title above the picture."),
        click.option("--theme", "theme_name", default="classic", show_default=True,
                     metavar="NAME", help=f"Colours: {', '.join(THEMES)} (print: greyscale-safe).",
                     shell_complete=complete_from(THEMES)),
        click.option("--color", "colors", multiple=True, metavar="ROLE=#HEX",
                     help=f"Override one colour (repeatable); ROLE: {', '.join(ROLES)}."),
        font_option,
        click.option("--background", metavar="transparent|#HEX",
                     help="transparent: no background (GIF: a transparent index, edges blended "
                          "against --matte; WebP, APNG, PNG: alpha; SVG, PDF: none); or a "
                          "colour, as --color background=#HEX."),
        click.option("--matte", metavar="#HEX",
                     help="With --background transparent: the colour of the page the picture "
                          "will sit on, which anti-aliased edges are blended with (default "
                          "white; matters for GIF)."),
        click.option("--max-frames", type=Whole(1), default=api.MAX_FRAMES,
                     show_default=True, metavar="N",
                     help="Refuse animations with more frames than this."),
        click.option("--max-size", type=Whole(1), default=api.MAX_SIZE,
                     show_default=True, metavar="PX",
                     help="Refuse canvases wider or taller than this many pixels."),
        click.option("--max-products", type=Whole(1), default=api.MAX_PRODUCTS,
                     show_default=True, metavar="N",
                     help="Refuse animations whose frames x kernel cells exceed this."),
    ]):
        fn = decorator(fn)
    return fn


def render_job(spec, seed, input_file, weight_file, output, frames_dir, theme_name="classic",
         colors=(), duration=1000, loop=0, frame=None, max_frames=api.MAX_FRAMES,
         max_size=api.MAX_SIZE, max_products=api.MAX_PRODUCTS, background=None,
         bias_file=None, **look) -> api.Job:
    """The job of a rendering command; the picture options make its :class:`api.Look`.

    The default file name is the spec's, plus the style, --numbers and the theme
    when they are not the defaults, plus :func:`look_tag` of every other option
    that changes the pixels (caption, title, colours, background, matte, scale,
    cell, labels, numbers, font, seed and data files), so no two figures drawn
    differently share a default name; with --frame N it is a PNG named
    ..._frameN.png. The font is resolved here, before any work: a bad --font, or
    text no font has, is a SpecError.
    """
    colors = tuple(colors)
    if background is not None:
        if background.strip().lower() in ("transparent", "none"):
            look["transparent"] = True
        else:
            try:
                hex_rgb(background)
            except ValueError:
                raise SpecError(f"background: got {short(background)}; allowed: transparent, "
                                "or a colour #rrggbb or #rgb") from None
            colors += (f"background={background}",)
    look = api.Look(theme=theme_named(theme_name, parse_colour_args(colors)), **look)
    given = look.font is not None
    look = replace(look, font=api.face_of(look))
    api.theme_of(look)  # a bad --matte, before any work
    if output is None:
        parts = [spec.short_name()]
        if look.style != "iso":
            parts.append(look.style)
        elif look.numbers:
            parts.append("numbers")
        if theme_name != "classic":
            parts.append(theme_name)
        stem = "_".join(parts) + look_tag({
            "caption": look.caption, "title": look.title, "colors": colors,
            "transparent": look.transparent, "matte": look.matte,
            "scale": look.scale if look.scale != 1 else None,
            "cell": look.cell if look.cell != api.DEFAULT_CELL else None,
            "labels": _switch(look.labels),
            "numbers": None if look.style == "iso" and look.numbers else _switch(look.numbers),
            "font": font_digest(look.font) if given else None,
            "seed": seed or None, "input": input_file, "weight": weight_file,
            "bias": bias_file})
        if frame is not None:
            stem += f"_frame{frame}"
        output = stem + (formats.DEFAULT_STILL if frame is not None else formats.DEFAULT_ANIMATION)
    return api.Job(spec, seed, input_file, weight_file, (output,), frames_dir, look,
                   api.Limits(max_frames, max_size, max_products), duration, loop, frame,
                   bias=bias_file)


def _option_names(command: click.Command) -> set[str]:
    return {name for p in command.params
            for name in [*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ())]}


def usage_hint(err: click.UsageError, args: list[str]) -> str | None:
    """A better line for an unknown option that is a known mix-up, or None.

    ``-i 5`` for ``--i 5`` (the size options have two dashes), and options given
    before any command (``convanim --i 5 --k 3``: a command comes first); both say
    the command line that works.
    """
    if not isinstance(err, click.NoSuchOption) or err.ctx is None:
        return None
    ctx, name = err.ctx, err.option_name
    group = isinstance(ctx.command, click.Group)
    command = ctx.command.commands.get("conv") if group else ctx.command  # type: ignore[attr-defined]
    if command is None:
        return None
    known = _option_names(command)

    def fixed(arg: str) -> str:
        return "-" + arg if re.fullmatch(r"-[a-z]+", arg) and arg not in known \
            and "-" + arg in known else arg

    line = " ".join(shlex.quote(fixed(a)) for a in args)
    if group and (name in known or "-" + name in known):
        commands = ", ".join(ctx.command.commands)  # type: ignore[attr-defined]
        return (f"{short(name)} without a command: the options come after one, e.g. "
                f"convanim conv {line} (commands: {commands})")
    if not group and fixed(name) != name:
        return (f"no such option {name!r}: did you mean '-{name}'? The size options have two "
                f"dashes (--i, --k, --s, --p, --d): convanim {line}")
    return None

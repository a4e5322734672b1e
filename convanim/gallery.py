"""A set of figures rendered from one TOML spec: validated up front, in parallel, incrementally.

The spec (see gallery.toml, the built-in default set)::

    [defaults]                 # applied to every figure whose command has the option
    duration = 1000
    formats = ["gif", "html"]

    [[figure]]
    name = "padding_strides"   # file names: padding_strides.gif, padding_strides.html
    command = "conv"           # any command of the CLI that writes a file (has -o)
    i = 5                      # the command's options, named as on the command line
    k = 3                      # (--of-conv -> of_conv; pairs as "5,7" or [5, 7])
    s = 2
    p = 1

Each figure becomes the command's argument list and is parsed by the command's own click
parameters, so an option added to a command is usable here with no change to this module.
Every error of every figure (unknown key, wrong type, impossible parameters) is reported as
``entry NAME: key KEY: message`` before anything renders.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import os
import re
import shlex
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import quote

import click

from . import __version__, api, data, fonts, signals, writer
from . import formats as formats_table
from .commands import CHANNEL_KEYS, JOBS, TERMINAL, cli
from .escape import md_code, md_text, terminal
from .info import info_dict
from .params import SpecError
from .spec import Spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Written beside an animation, from its frames: not files named NAME.FORMAT.
EXTRAS = ("strip", "frames")
# Files named NAME.FORMAT: the names of the format table (formats.FORMATS), then the extras.
FORMATS = tuple(formats_table.NAMES) + EXTRAS
PICTURES = tuple(formats_table.FORMATS[s].name for s in formats_table.PICTURES)
DEFAULT_FORMATS = ("gif", "html")  # "strip" on request: the pages step through the frames
RESERVED = ("name", "command", "formats")
# Parameters the gallery sets itself, from the figure's name and formats.
OWN = ("output", "frames_dir")
# Options that name a file the figure reads: relative to the spec, confined to its folder.
DATA_FILES = ("input_file", "weight_file", "font", "grad_output")
MAX_SPEC_BYTES = 2**20
MANIFEST = ".convanim-gallery.json"
INDEX = "index.html"
README = "README.md"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
REGENERATE = "python -m convanim gallery --force -o gallery"


def strip_file(name: str) -> str:
    """Where a figure's strip goes, relative to the gallery folder."""
    return f"strips/{name}.png"


class GalleryError(Exception):
    """Everything wrong with a spec, one message a line."""

    def __init__(self, messages: Sequence[str]):
        super().__init__("\n".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Entry:
    """One figure, validated: its command's argument list and what it will write."""

    name: str
    command: str
    args: tuple[str, ...]          # every option the figure sets, as on the command line
    shown: tuple[str, ...]         # the same without options left at the command's default
    formats: tuple[str, ...]
    digest: str                    # of command, parsed parameters, formats, version, files
    spec: Spec | None              # when the command has a job builder (for the formula)
    duration: int                  # ms per frame, for the index's own player

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{f}" for f in self.formats if f not in EXTRAS)

    @property
    def frames_dir(self) -> str | None:
        return f"frames/{self.name}" if "frames" in self.formats else None

    @property
    def strip(self) -> str | None:
        return strip_file(self.name) if "strip" in self.formats else None

    @property
    def command_line(self) -> str:
        return " ".join(["convanim", self.command, *self.shown])

    @property
    def weight(self) -> int:
        """Rough work, to start the biggest figures first."""
        return self.spec.n_steps if self.spec is not None else 1


# ---------------------------------------------------------------------------------------------
# Reading and validating a spec


def default_spec_text() -> str:
    from importlib.resources import files

    return files("convanim").joinpath("gallery.toml").read_text(encoding="utf-8")


def load(path: str | os.PathLike | None, *, allow_outside: bool = False) -> list[Entry]:
    """The validated figures of the spec at ``path`` (the built-in set when None).

    The data files a spec names must be inside the spec's folder (symlinks resolved)
    unless ``allow_outside``: a spec from a stranger cannot read the machine's files.
    """
    if path is None:
        return parse(default_spec_text(), Path("."), "the built-in spec")
    path = Path(path)
    try:
        data.check_file(path, f"spec: {str(path)!r}", MAX_SPEC_BYTES)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GalleryError([f"spec: file {str(path)!r} does not exist"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise GalleryError([f"spec: cannot read {str(path)!r} ({err.__class__.__name__})"]) from None
    except SpecError as err:
        raise GalleryError([str(err)]) from None
    return parse(text, path.parent, str(path), allow_outside=allow_outside)


def gallery_commands() -> dict[str, click.Command]:
    """Commands that write a file (have an output parameter): usable in a gallery."""
    return {name: cmd for name, cmd in cli.commands.items()
            if name != "gallery" and any(p.name == "output" for p in cmd.params)}


def _keys_of(cmd: click.Command) -> dict[str, click.Option]:
    """Every spelling of every option, without dashes, '-' as '_': {'i': --i, 'input_size': --i}."""
    keys: dict[str, click.Option] = {}
    for param in cmd.params:
        # -q and the like are about the terminal: the gallery has its own -q.
        if isinstance(param, click.Option) and param.name not in TERMINAL:
            for opt in param.opts:
                keys[opt.lstrip("-").replace("-", "_")] = param
    return keys


def _figure_params(params: dict[str, Any]) -> dict[str, Any]:
    """A command's parsed parameters without the terminal ones (:data:`commands.TERMINAL`)."""
    return {k: v for k, v in params.items() if k not in TERMINAL}


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(value), type(value).__name__)


def _argv(param: click.Option, value: Any) -> list[str]:
    """The command-line form of one option's value; SpecError saying what is expected."""
    if param.is_flag:
        if not isinstance(value, bool):
            raise SpecError(f"got {_type_name(value)} {value!r}; expected true or false (a flag)")
        if value:
            return [param.opts[0]]
        return [param.secondary_opts[0]] if param.secondary_opts else []
    if isinstance(value, dict):
        raise SpecError(f"got a table; expected {param.metavar or 'a value'}")
    if isinstance(param.type, click.types.BoolParamType):
        if not isinstance(value, bool):
            raise SpecError(f"got {_type_name(value)} {value!r}; expected true or false")
        return [param.opts[0], "true" if value else "false"]
    if isinstance(value, bool):
        raise SpecError(f"got {str(value).lower()}; expected {param.metavar or 'a value'}, not a flag")
    values = value if param.multiple and isinstance(value, list) else [value]
    out: list[str] = []
    for v in values:
        if isinstance(v, list):
            if not v or not all(isinstance(x, (int, float, str)) and not isinstance(x, bool)
                                for x in v):
                raise SpecError(f"got {v!r}; expected a list of numbers such as [5, 7]")
            items = [str(x) for x in v]
            out += [param.opts[0], *items] if param.nargs > 1 else [param.opts[0], ",".join(items)]
        elif isinstance(v, (int, float, str)) and not isinstance(v, bool):
            out += [param.opts[0], str(v)]
        else:
            raise SpecError(f"got {_type_name(v)} {v!r}; expected {param.metavar or 'a value'}")
    return out


def _error_key(message: str, cmd: click.Command, used: dict[str, str]) -> str:
    """The key a SpecError is about: its leading 'name:' as the entry spelled that option."""
    head = message.split(":", 1)[0].strip()
    for param in cmd.params:
        spellings = {param.name} | {o.lstrip("-").replace("-", "_") for o in getattr(param, "opts", [])}
        if head in spellings:
            return used.get(param.name, param.opts[0].lstrip("-").replace("-", "_"))
    return head if re.fullmatch(r"\w+", head) else "-"


# Options naming a file, relative to the spec's folder; a font may end in #N (a face).


def _file_of(key: str, value: str) -> Path:
    """The file a data option names (a font value may end in ``#N``: fonts.split_font)."""
    return fonts.split_font(value)[0] if key == "font" else Path(value)


def _file_digests(params: dict[str, Any]) -> dict[str, str]:
    """Contents of the files a figure reads (data, font), so an edited file re-renders it."""
    out = {}
    for key in DATA_FILES:
        value = params.get(key)
        if isinstance(value, str) and _file_of(key, value).is_file():
            out[key] = data.file_digest(_file_of(key, value))
    return out


def parse(text: str, base: Path, source: str = "spec", *,
          allow_outside: bool = False) -> list[Entry]:
    """Validate the whole spec; GalleryError listing every problem, else the entries in order.

    Data files are relative to ``base`` and must stay inside it unless ``allow_outside``.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise GalleryError([f"spec {source}: not valid TOML: {err}"]) from None
    errors: list[str] = []
    for key in doc:
        if key not in ("defaults", "figure"):
            errors.append(f"spec: key {key}: unknown; allowed: defaults (a table), "
                          "figure (one [[figure]] table per figure)")
    commands = gallery_commands()
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        errors.append("defaults: expected a table ([defaults])")
        defaults = {}
    figures = doc.get("figure", [])
    if not isinstance(figures, list) or not all(isinstance(f, dict) for f in figures):
        errors.append("figure: expected [[figure]] tables")
        figures = []
    if not figures and not errors:
        errors.append("figure: the spec has no [[figure]] table")
    all_keys = {k for cmd in commands.values() for k in _keys_of(cmd)}
    for key, value in defaults.items():
        norm = key.replace("-", "_")
        if norm == "formats":
            errors += [f"defaults: key formats: {m}" for m in _format_errors(value)]
        elif norm in RESERVED:
            errors.append(f"defaults: key {key}: set per figure, not in [defaults]")
        elif norm not in all_keys:
            errors.append(f"defaults: key {key}: no command takes it; allowed: "
                          f"{', '.join(sorted(all_keys - {'o', 'output', 'frames'}))}")

    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for n, fig in enumerate(figures, 1):
        name = fig.get("name")
        label = f"entry {name}" if isinstance(name, str) and name else f"entry #{n}"
        problems: list[str] = []
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            problems.append(f"key name: got {name!r}; expected a file-name stem of letters, "
                            "digits, '_', '-', '.'" if name is not None else "key name: missing")
        elif name in seen:
            problems.append(f"key name: duplicate; figure #{seen[name]} has the same name")
        else:
            seen[name] = n
        command = fig.get("command")
        cmd = commands.get(command) if isinstance(command, str) else None
        if cmd is None:
            problems.append(f"key command: {'got ' + repr(command) if command is not None else 'missing'}; "
                            f"allowed: {', '.join(sorted(commands))}")
            errors += [f"{label}: {m}" for m in problems]
            continue
        entry, more = _entry(fig, name, cmd, defaults, base, allow_outside)
        problems += more
        if problems:
            errors += [f"{label}: {m}" for m in problems]
        elif entry is not None:
            entries.append(entry)
    if errors:
        raise GalleryError(errors)
    return entries


def _format_errors(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return [f"got {value!r}; expected a list such as [\"gif\", \"strip\"] "
                f"from {', '.join(FORMATS)}"]
    bad = [v for v in value if v not in FORMATS]
    if bad:
        return [f"got {', '.join(map(repr, bad))}; allowed: {', '.join(FORMATS)}"]
    if len(set(value)) != len(value):
        return [f"got {value!r}; each format once"]
    extras = [v for v in value if v in EXTRAS]
    if extras and not any(v in PICTURES for v in value):
        return [f"{' and '.join(map(repr, extras))} need{'s' if len(extras) == 1 else ''} "
                "a picture format too "
                f"({', '.join(PICTURES)}), drawn from the same frames"]
    return []


def _data_file(key: str, value: str, base: Path, allow_outside: bool) -> str:
    """A file a spec names (data, or a font with ``#N``), relative to the spec's folder;
    SpecError when it leaves that folder."""
    if "\x00" in value:
        raise SpecError("got a path with a NUL character; expected a file name")
    try:
        path = _file_of(key, str(base / value))  # exactly what the loader will open
    except (fonts.FontError, ValueError) as err:
        raise SpecError(str(err)) from None
    if not allow_outside:
        try:
            inside = path.resolve().is_relative_to(base.resolve())
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a bad name
            inside = False
        if not inside:
            raise SpecError(f"got {terminal(value)[:80]!r}, outside the spec's folder; a spec "
                            "reads files only inside its own folder (symlinks followed); "
                            "move the file there, or run with --allow-outside-files")
    if path.exists() and key != "font":  # a font is checked by the font loader
        data.check_file(path, repr(terminal(value)[:80]))
    return str(base / value)


def _entry(fig: dict, name: str, cmd: click.Command, defaults: dict,
           base: Path, allow_outside: bool = False) -> tuple[Entry | None, list[str]]:
    """One figure -> Entry, or the list of its problems ('key K: message')."""
    keys = _keys_of(cmd)
    problems: list[str] = []
    formats = fig.get("formats", defaults.get("formats", list(DEFAULT_FORMATS)))
    problems += [f"key formats: {m}" for m in _format_errors(formats)]
    if "frames" in formats and not any(p.name == "frames_dir" for p in cmd.params):
        problems.append(f"key formats: {cmd.name} cannot write frames (it has no --frames)")
    if "strip" in formats and cmd.name not in JOBS:
        problems.append(f"key formats: {cmd.name} cannot write a strip; allowed for: "
                        f"{', '.join(sorted(n for n in JOBS if n in gallery_commands()))}")

    given: dict[str, tuple[str, Any]] = {}       # param name -> (key as spelled, value)
    for key, value in fig.items():
        norm = key.replace("-", "_")
        if norm in RESERVED:
            continue
        param = keys.get(norm)
        if param is None:
            problems.append(f"key {key}: unknown for {cmd.name}; allowed: "
                            f"{', '.join(sorted(k for k, p in keys.items() if p.name not in OWN))}")
        elif param.name in OWN:
            problems.append(f"key {key}: set by the gallery (files are named after the "
                            "figure's name and formats)")
        elif param.name in given:
            problems.append(f"key {key}: the same option as key {given[param.name][0]}")
        else:
            given[param.name] = (key, value)
    for key, value in defaults.items():
        param = keys.get(key.replace("-", "_"))
        if param is not None and param.name not in OWN and param.name not in given:
            given[param.name] = (key, value)

    args: list[str] = []
    used = {pname: key for pname, (key, _) in given.items()}
    for pname, (key, value) in given.items():
        param = next(p for p in cmd.params if p.name == pname)
        try:
            if param.name in DATA_FILES and isinstance(value, str):
                value = _data_file(param.name, value, base, allow_outside)
            args += _argv(param, value)  # type: ignore[arg-type]
        except SpecError as err:
            problems.append(f"key {key}: {err}")
    if problems:
        return None, problems

    try:
        ctx = cmd.make_context(cmd.name, list(args), resilient_parsing=False)
    except click.UsageError as err:
        param = getattr(err, "param", None)
        key = used.get(param.name) if param is not None else None
        if key is None and param is not None:
            key = param.opts[0].lstrip("-").replace("-", "_")
        return None, [f"key {key or '-'}: {err.format_message()}"]
    params = _figure_params(ctx.params)
    # The matrix figure is one picture; an animation command with frame = N writes a still.
    still = cmd.name not in JOBS or params.get("frame") is not None
    for f in formats:
        problem = None if f in EXTRAS else formats_table.cannot_hold("." + f, still, not still)
        if problem:
            return None, [f"key formats: {problem}"]
    spec = None
    build = JOBS.get(cmd.name)
    if build is not None:
        try:
            job = build(**params)
            spec = job.spec
            # Everything a render would refuse, refused now, before any figure renders.
            api.check_job(replace(job, outputs=tuple(f"{name}.{f}" for f in formats
                                                     if f not in EXTRAS),
                                  strip=strip_file(name) if "strip" in formats else None),
                          outputs=False, data=True)
        except SpecError as err:
            return None, [f"key {_error_key(str(err), cmd, used)}: {err}"]

    frames = spec.n_steps if spec is not None else 1
    try:
        for file in [f"{name}.{f}" for f in formats if f not in EXTRAS] + \
                [f"{name}_{frames:04d}.png"] * ("frames" in formats):
            writer.check_name_length(file, "key name")
    except SpecError as err:
        return None, [str(err)]
    shown: list[str] = []                        # what a reader needs to see: no defaults
    for pname, (key, value) in given.items():
        param = next(p for p in cmd.params if p.name == pname)
        if key in fig or params.get(pname) != param.default:
            shown += _argv(param, value)  # type: ignore[arg-type]
    # Channel options left at their defaults are not part of the digest: the figures
    # drawn before they existed stay up to date.
    resolved = {k: v for k, v in params.items() if k not in OWN
                and not (k in CHANNEL_KEYS and v in (None, False))}
    for k in DATA_FILES:                         # the spec's folder is not part of the figure
        if isinstance(resolved.get(k), str):
            resolved[k] = Path(resolved[k]).name
    digest = hashlib.sha256(json.dumps(
        {"command": cmd.name, "params": resolved, "formats": list(formats),
         "version": __version__, "files": _file_digests(params)},
        sort_keys=True, default=str).encode()).hexdigest()
    duration = params.get("duration") if isinstance(params.get("duration"), int) else 1000
    return Entry(name, cmd.name, tuple(args), tuple(shown), tuple(formats), digest, spec,
                 duration), []


# ---------------------------------------------------------------------------------------------
# Rendering one figure (in a worker process)


def render_entry(command: str, args: Sequence[str], name: str, formats: Sequence[str],
                 out_dir: str) -> tuple[str, list[str], str | None, dict | None]:
    """Write one figure's files into ``out_dir``.

    Returns (name, files written relative to it, error, the strip's grid or None).
    Every file is written through the writer's staged, all-or-nothing writes, so a
    failure leaves the previous files (frames included), never a mix.
    """
    out = Path(out_dir)
    try:
        cmd = cli.commands[command]
        ctx = cmd.make_context(command, list(args))
        outputs = [str(out / f"{name}.{f}") for f in formats if f not in EXTRAS]
        strip = out / strip_file(name) if "strip" in formats else None
        frames = out / "frames" / name if "frames" in formats else None
        build = JOBS.get(command)
        if build is not None:
            job = build(**_figure_params(ctx.params))
            job = replace(job, outputs=tuple(outputs),
                          frames_dir=str(frames) if frames else None,
                          strip=str(strip) if strip else None)
            grids: list[writer.StripGrid] = []
            api.run_job(job, on_strip=grids.append)
        else:
            # Any other command: its own callback, once per output, its printing swallowed.
            for n, path in enumerate(outputs):
                params = dict(ctx.params, output=path)
                if "frames_dir" in params:
                    params["frames_dir"] = str(frames) if frames and n == 0 else None
                run = cmd.make_context(command, list(args))
                with run, contextlib.redirect_stdout(io.StringIO()):
                    run.invoke(cmd.callback, **params)
        files = [Path(p).name for p in outputs]
        if frames is not None:
            files += [f"frames/{name}/{p.name}" for p in sorted(frames.glob(f"{name}_*.png"))]
        grid = None
        if strip is not None:
            files.append(strip_file(name))
            grid = manifest_grid(grids[0])  # from the writer: the strip is not read back
        return name, files, None, grid
    except Exception as err:  # noqa: BLE001 - one figure's failure must not stop the others
        message = str(err) if isinstance(err, (SpecError, click.ClickException)) else \
            f"{err.__class__.__name__}: {err}"
        if isinstance(err, click.ClickException):
            message = err.format_message()
        return name, [], message, None


_busy = False     # in a worker process: rendering a figure (there are files to clean up)
_stopped = False  # in a worker process: a stopping signal came; render nothing more


def _worker_start() -> None:
    """A worker's signal handlers: while it renders, a stopping signal raises, so the
    figure's staged files are removed; between figures, it just ends, quietly."""
    for signum in signals.STOPPING:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # as nohup left it: ignored
            signal.signal(signum, _worker_signal)


def _worker_signal(signum: int, frame) -> None:
    global _busy, _stopped
    if _stopped:
        return  # once: a second signal during the cleanup must not cut it short
    _stopped = True
    if _busy:
        raise signals.Interrupted(signum) if signum != signal.SIGINT else KeyboardInterrupt
    signals.quit_when_idle(signum)


def _worker_render(*call) -> tuple[str, list[str], str | None, dict | None]:
    global _busy
    if _stopped:
        # The pool hands a worker its next figures before they are due; after a signal
        # they are refused at once, so the pool can be shut down without waiting.
        raise KeyboardInterrupt
    _busy = True
    try:
        return render_entry(*call)
    finally:
        _busy = False


def manifest_grid(grid: writer.StripGrid) -> dict[str, int]:
    """What the manifest and index.html keep of a strip's grid (writer.StripGrid)."""
    return {k: v for k, v in grid.text().items() if k != "rows"}


# ---------------------------------------------------------------------------------------------
# The whole run


@dataclass
class Result:
    rendered: list[str]
    skipped: list[str]
    failed: list[tuple[str, str]]


_HEX64 = re.compile(r"[0-9a-f]{64}")
_FILE_RE = re.compile(r"(?:(?:frames|strips)/)?(?:[A-Za-z0-9][A-Za-z0-9_.-]*/)?"
                      r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_GRID_KEYS = ("columns", "frame_height", "frame_width", "frames")


def _record(value: Any) -> dict | None:
    """A manifest entry as this version writes it, or None (the figure is rendered again).

    The manifest is committed with a gallery, so it is input like a spec: every value that
    later reaches index.html, README.md or a file path is checked for type and range here.
    """
    if not isinstance(value, dict) or set(value) - {"hash", "files", "strip"}:
        return None
    files = value.get("files")
    if not (isinstance(value.get("hash"), str) and _HEX64.fullmatch(value["hash"])
            and isinstance(files, list) and files
            and all(isinstance(f, str) and _FILE_RE.fullmatch(f)
                    and ".." not in f.split("/") for f in files)):
        return None
    record = {"hash": value["hash"], "files": list(files)}
    if "strip" in value:
        grid = value["strip"]
        if not (isinstance(grid, dict) and sorted(grid) == sorted(_GRID_KEYS)
                and all(type(grid[k]) is int and 1 <= grid[k] <= 10**6
                        for k in _GRID_KEYS)):
            return None
        record["strip"] = {k: grid[k] for k in _GRID_KEYS}
    return record


def read_manifest(out_dir: Path) -> dict[str, dict]:
    """The valid entries of the gallery's manifest; anything unreadable or malformed is
    dropped, so a bad manifest means "render again", never a crash or an injected page."""
    try:
        doc = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, dict):
        return {}
    valid = {}
    for name, value in entries.items():
        record = _record(value)
        if isinstance(name, str) and NAME_RE.fullmatch(name) and record is not None:
            valid[name] = record
    return valid


def up_to_date(entry: Entry, record: dict | None, out_dir: Path) -> bool:
    return (isinstance(record, dict) and record.get("hash") == entry.digest
            and isinstance(record.get("files"), list) and bool(record["files"])
            and all((out_dir / f).is_file() for f in record["files"])
            and (entry.strip is None or isinstance(record.get("strip"), dict)))


def build(entries: Sequence[Entry], out_dir: str | os.PathLike, *, only: Iterable[str] | None = None,
          jobs: int | None = None, force: bool = False, spec_name: str = "gallery.toml",
          progress: Callable[[int], Any] | None = None, command: str | None = None) -> Result:
    """Render the figures that changed (all with ``force``), then the manifest and the index.

    ``progress(total)`` returns a context manager with ``update(n, name)``; None for quiet.
    ``command`` is the index's "regenerate" line (default: the spec and ``out_dir`` with
    ``--force``); an interrupted run's index says so.
    """
    if command is None:
        spec = [] if spec_name == "gallery.toml" else [spec_name]
        command = shlex.join(["python", "-m", "convanim", "gallery", *spec, "--force", "-o",
                              str(out_dir)])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = set(only) if only is not None else None
    manifest = read_manifest(out)
    known = {e.name for e in entries}
    manifest = {k: v for k, v in manifest.items() if k in known}
    todo, skipped = [], []
    for e in entries:
        if chosen is not None and e.name not in chosen:
            continue
        if not force and up_to_date(e, manifest.get(e.name), out):
            skipped.append(e.name)
        else:
            todo.append(e)
    todo.sort(key=lambda e: -e.weight)           # biggest first: the pool ends together
    by_name = {e.name: e for e in todo}
    result = Result([], skipped, [])

    def done(name: str, files: list[str], error: str | None, grid: dict | None) -> None:
        if error is None:
            manifest[name] = {"hash": by_name[name].digest, "files": files}
            if grid is not None:
                manifest[name]["strip"] = grid
            result.rendered.append(name)
        else:
            manifest.pop(name, None)
            result.failed.append((name, error))

    calls = [(e.command, e.args, e.name, e.formats, str(out)) for e in todo]
    bar = progress(len(calls)) if progress and calls else contextlib.nullcontext()
    finished_all = False
    try:
        with bar as tick:
            if (jobs or os.cpu_count() or 1) <= 1 or len(calls) <= 1:
                for call in calls:
                    done(*render_entry(*call))
                    if tick:
                        tick.update(1, call[2])
            else:
                workers = min(jobs or os.cpu_count() or 1, len(calls))
                with ProcessPoolExecutor(max_workers=workers, initializer=_worker_start) as pool:
                    pending = {pool.submit(_worker_render, *call) for call in calls}
                    try:
                        while pending:
                            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                            for fut in finished:
                                name, *rest = fut.result()
                                done(name, *rest)
                                if tick:
                                    tick.update(1, name)
                    except BaseException:
                        for fut in pending:
                            fut.cancel()
                        # Stop the workers too (a SIGTERM reaches this process only): each
                        # removes its temporary files and exits; the pool then joins them.
                        for proc in list(getattr(pool, "_processes", {}).values()):
                            with contextlib.suppress(OSError):
                                proc.terminate()
                        raise
        finished_all = True
    finally:
        write_manifest(out, manifest)
        write_index(entries, out, manifest, spec_name, command, interrupted=not finished_all)
    result.failed.sort()
    return result


def write_manifest(out: Path, manifest: dict[str, dict]) -> None:
    doc = {"convanim": __version__, "entries": dict(sorted(manifest.items()))}
    writer.write_text(out / MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------------------
# index.html and README.md


def formula(entry: Entry) -> list[str]:
    """The output-size formula with the numbers, one line per axis (one when both agree)."""
    if entry.spec is None:
        return []
    d = info_dict(entry.spec)
    h, w = (a["formula"] for a in d["axes"])
    return [h] if h == w else [f"height: {h}", f"width: {w}"]


def _shape(entry: Entry) -> str:
    if entry.spec is None:
        return ""
    s = entry.spec
    return (f"{s.input_size[0]}x{s.input_size[1]} &rarr; {s.output_size[0]}x{s.output_size[1]}, "
            f"{s.n_steps} frames")


def _image(entry: Entry) -> str | None:
    return next((f"{entry.name}.{f}" for f in PICTURES if f in entry.formats), None)


def index_html(entries: Sequence[Entry], manifest: dict[str, dict], spec_name: str,
               command: str = REGENERATE, interrupted: bool = False) -> str:
    """The index page (convanim.gallery_page) of ``entries`` as the manifest has them."""
    from . import gallery_page as gp

    cards = []
    for e in entries:
        rec = manifest.get(e.name)
        files = set((rec or {}).get("files", []))
        pages = [f"{e.name}.{f}" for f in e.formats if f == "html" and f"{e.name}.{f}" in files]
        cards.append(gp.Card(
            e.name, e.command_line, html.unescape(_shape(e)), tuple(formula(e)), e.outputs,
            rec is not None, pages[0] if pages else None, _image(e),
            wide=e.command == "matrix", animated=e.spec is not None and "--frame" not in e.args))
    return gp.index_html(cards, gp.Run(spec_name, command, interrupted))


def readme_md(entries: Sequence[Entry], manifest: dict[str, dict], spec_name: str,
              linked: bool = False) -> str:
    """The gallery's README.md; every value from the spec goes through :mod:`convanim.escape`."""
    rows = []
    for e in entries:
        image = _image(e)
        picture = (f"![{md_text(e.name)}]({quote(image)})" if image and e.name in manifest
                   else "(not rendered)")
        size = md_text(_shape(e).replace("&rarr;", "→"))
        rule = "<br>".join(md_code(f) for f in formula(e))
        rows.append(f"| {picture} | **{md_text(e.name)}**<br>{md_code(e.command_line)}<br>"
                    f"{size}<br>{rule} |")
    spec = md_code(spec_name)
    return (
        "# convanim gallery\n\n"
        "Rendered by `convanim gallery` from "
        + (f"[{spec}]({quote(spec_name)})" if linked else spec)
        + "; every frame is one "
        "kernel placement, every number comes from convanim's engine. Open "
        "[index.html](index.html) from disk to pause an animation and step through its frames.\n\n"
        f"Regenerate after changing the spec or the renderer:\n\n```\n{REGENERATE}\n```\n\n"
        "| figure | parameters |\n|---|---|\n" + "\n".join(rows) + "\n")


def write_index(entries: Sequence[Entry], out: Path, manifest: dict[str, dict],
                spec_name: str = "gallery.toml", command: str = REGENERATE,
                interrupted: bool = False) -> None:
    writer.write_text(out / INDEX, index_html(entries, manifest, spec_name, command, interrupted))
    writer.write_text(out / README, readme_md(entries, manifest, spec_name,
                                              linked=(out / spec_name).is_file()))


def listing(entries: Sequence[Entry]) -> str:
    """One line per figure: name, command line, files."""
    width = max((len(e.name) for e in entries), default=0)
    return "\n".join(f"{e.name:<{width}}  {terminal(e.command_line)}  [{', '.join(e.formats)}]"
                     for e in entries)

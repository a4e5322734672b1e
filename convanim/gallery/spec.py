"""Reading and validating a spec: every figure parsed by its own command's click options."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from .. import __version__, api, data, fonts, writer
from .. import formats as formats_table
from ..commands import CHANNEL_KEYS, JOBS, TERMINAL, cli
from ..escape import terminal
from ..params import SpecError
from .entry import DATA_FILES, DEFAULT_FORMATS, EXTRAS, Entry, FORMATS, GalleryError, MAX_SPEC_BYTES, NAME_RE, OWN, PICTURES, RESERVED, strip_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


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
    spec = job = None
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
                 duration, job), []

"""Rendering one figure, in a worker process (convanim.parallel: how a signal stops it): its files."""

from __future__ import annotations

import contextlib
import io
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import click

from .. import api, writer
from ..commands import JOBS, cli
from ..params import SpecError
from .entry import EXTRAS, strip_file
from .spec import _figure_params


def render_entry(command: str, args: Sequence[str], name: str, formats: Sequence[str],
                 out_dir: str, job: api.Job | None = None
                 ) -> tuple[str, list[str], str | None, dict | None]:
    """Write one figure's files into ``out_dir``.

    ``job``: the command's job as the spec parsed it from ``args`` (Entry.job), or None
    to parse them here. Returns (name, files written relative to it, error, the strip's
    grid or None). Every file is written through the writer's staged, all-or-nothing
    writes, so a failure leaves the previous files (frames included), never a mix.
    """
    out = Path(out_dir)
    try:
        cmd = cli.commands[command]
        outputs = [str(out / f"{name}.{f}") for f in formats if f not in EXTRAS]
        strip = out / strip_file(name) if "strip" in formats else None
        frames = out / "frames" / name if "frames" in formats else None
        build = JOBS.get(command)
        if build is not None:
            if job is None:
                job = build(**_figure_params(cmd.make_context(command, list(args)).params))
            job = replace(job, outputs=tuple(outputs),
                          frames_dir=str(frames) if frames else None,
                          strip=str(strip) if strip else None)
            grids: list[writer.StripGrid] = []
            api.run_job(job, on_strip=grids.append)
        else:
            # Any other command: its own callback, once per output, its printing swallowed.
            ctx = cmd.make_context(command, list(args))
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


def manifest_grid(grid: writer.StripGrid) -> dict[str, int]:
    """What the manifest and index.html keep of a strip's grid (writer.StripGrid)."""
    return {k: v for k, v in grid.text().items() if k != "rows"}

"""The whole run: what is up to date, the figures in parallel, then the manifest and pages."""

from __future__ import annotations

import contextlib
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence


from .. import formats as formats_table
from .entry import Entry
from .manifest import read_manifest, up_to_date, write_manifest
from .pages import write_index
from .worker import render_entry


# Less work than this (ms of one core, estimated: Entry.work) is rendered in this process:
# forking a worker and warming it costs about as much as it would save (measured: the 15
# classic figures as SVG only, 440 ms estimated, took the same wall time on 2 processes
# as on 1, and 10% more CPU).
POOL_MIN_MS = 600


@dataclass
class Result:
    rendered: list[str]
    skipped: list[str]
    failed: list[tuple[str, str]]


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
    todo.sort(key=lambda e: -e.work)             # biggest first: the processes end together
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

    calls = [(e.command, e.args, e.name, e.formats, str(out), e.job) for e in todo]
    bar = progress(len(calls)) if progress and calls else contextlib.nullcontext()
    finished_all = False
    try:
        with bar as tick:
            workers = min(jobs or os.cpu_count() or 1, len(calls))
            if workers <= 1 or sum(e.work for e in todo) < POOL_MIN_MS:
                results: Iterator = (render_entry(*call) for call in calls)
            else:
                # Forked workers inherit what is imported now: once, not once per worker.
                # (The pool itself, multiprocessing and its sockets, only when it is used.)
                from .. import parallel
                formats_table.preload({f for e in todo for f in e.formats})
                import numpy.random  # noqa: F401 - the seeded data of every trace
                results = parallel.shared(render_entry, calls, workers - 1)
            with contextlib.closing(results):  # on any error, the workers stop here
                for name, *rest in results:
                    done(name, *rest)
                    if tick:
                        tick.update(1, name)
        finished_all = True
    finally:
        write_manifest(out, manifest)
        write_index(entries, out, manifest, spec_name, command, interrupted=not finished_all)
    result.failed.sort()
    return result

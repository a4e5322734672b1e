"""The manifest (.convanim-gallery.json): what was rendered, checked when read back."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


from .. import __version__, writer
from .entry import Entry, MANIFEST, NAME_RE


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


def write_manifest(out: Path, manifest: dict[str, dict]) -> None:
    doc = {"convanim": __version__, "entries": dict(sorted(manifest.items()))}
    writer.write_text(out / MANIFEST, json.dumps(doc, indent=1, sort_keys=True) + "\n")

"""What a gallery is made of: its figures (Entry), its file names and its errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence


from .. import formats as formats_table
from ..spec import Spec


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
    # The command's job as parsed and checked (api.Job; None for a command without one):
    # handed to the render, which then need not parse the arguments again.
    job: Any = field(default=None, compare=False, repr=False)

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

    @property
    def work(self) -> float:
        """Estimated ms of one core to render this figure (:data:`FRAME_MS`): whether a
        pool of workers pays for itself."""
        frames = 1 if "--frame" in self.args else self.weight
        return FIGURE_MS + frames * sum(FRAME_MS.get(f, FRAME_MS["gif"]) for f in self.formats)


# Measured ms a frame of each format on the 15 classic figures (one core, 2026-12-01), and
# a figure's own cost (its arguments, trace, scene and files): an estimate, only to decide
# whether a gallery is worth a pool of workers. An SVG and a page share their drawing.
FIGURE_MS = 8.0
FRAME_MS = {"gif": 8.0, "webp": 24.0, "png": 7.0, "strip": 1.5, "frames": 4.5, "svg": 1.0,
            "html": 1.0, "json": 0.1, "pdf": 1.0}

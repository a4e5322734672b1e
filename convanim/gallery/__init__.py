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

from .. import api  # noqa: F401 - tests reach the render path through it
from .entry import (DATA_FILES, DEFAULT_FORMATS, EXTRAS, FORMATS, INDEX, MANIFEST,  # noqa: F401
                    MAX_SPEC_BYTES, NAME_RE, OWN, PICTURES, README, REGENERATE, RESERVED, Entry,
                    GalleryError, strip_file)
from .manifest import read_manifest, up_to_date, write_manifest  # noqa: F401
from .pages import formula, index_html, listing, readme_md, write_index  # noqa: F401
from .run import Result, build  # noqa: F401
from .spec import default_spec_text, gallery_commands, load, parse  # noqa: F401
from .worker import manifest_grid, render_entry  # noqa: F401

"""convanim: animations of 2-D convolution, transposed convolution and pooling.

Parameters -> validated :class:`Spec` -> engine :class:`Trace` (every kernel
placement and product) -> layout (geometry) -> scene (drawing operations per
frame) -> backend (raster, SVG, PDF) -> file (formats.FORMATS).
"""

import os as _os
import sys as _sys


def _is_command_line() -> bool:
    """Whether this process is the ``convanim`` command (or ``python -m convanim``)."""
    args = list(getattr(_sys, "orig_argv", ()))[1:]
    n = 0
    while n < len(args) and args[n].startswith("-") and args[n] != "-":  # the interpreter's
        arg = args[n]
        if arg == "-m":
            return args[n + 1:n + 2] == ["convanim"]
        if arg.startswith("-m"):
            return arg == "-mconvanim"
        if arg.startswith("-c"):
            return False
        n += 2 if arg in ("-W", "-X") else 1
    name = _os.path.basename(_sys.argv[0]) if _sys.argv and _sys.argv[0] else ""
    return _os.path.splitext(name)[0] in ("convanim", "convanim-script")


# convanim makes no BLAS calls, yet OpenBLAS starts a worker thread per core when numpy is
# imported, which spins for a while before it sleeps: about 0.13 s of CPU in every process,
# a quarter of a short command's. The command asks for no workers; a program that imports
# the library keeps its own settings.
if _is_command_line() and "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from .api import Limits, Look, iter_frames, layout, render, save, scene, trace_of
from .api import matrix_image, save_matrix
from .channels import ChannelTrace, channel_trace
from .engine import Trace, trace
from .grad import conv2d_grad, grad_of, grad_trace, pool2d_grad
from .params import SpecError
from .spec import Spec, conv2d, conv_transpose2d, pool2d, transpose_of
from .tracefile import trace_dict
from .notebook import Animation, show, trace_html

# The engine knows nothing of drawing: the package teaches its Trace to show itself in
# Jupyter (as its animation, convanim.notebook).
Trace._repr_html_ = trace_html

__version__ = "0.1.0"

__all__ = [
    "Spec", "SpecError", "Trace", "ChannelTrace", "channel_trace", "conv2d", "conv_transpose2d", "pool2d", "transpose_of",
    "conv2d_grad", "pool2d_grad", "grad_of", "grad_trace",
    "trace", "trace_of", "trace_dict", "layout", "iter_frames", "render", "save", "__version__",
    "matrix_image", "save_matrix", "Look", "Limits", "scene", "show", "Animation",
]

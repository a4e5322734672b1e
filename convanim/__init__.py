"""convanim: animations of 2-D convolution, transposed convolution and pooling.

Parameters -> validated :class:`Spec` -> engine :class:`Trace` (every kernel
placement and product) -> layout (geometry) -> scene (drawing operations per
frame) -> backend (raster, SVG, PDF) -> file (formats.FORMATS).
"""

from .api import Limits, Look, iter_frames, layout, render, save, scene, trace_of
from .api import matrix_image, save_matrix
from .engine import Trace, trace
from .params import SpecError
from .spec import Spec, conv2d, conv_transpose2d, pool2d, transpose_of
from .tracefile import trace_dict

__version__ = "0.1.0"

__all__ = [
    "Spec", "SpecError", "Trace", "conv2d", "conv_transpose2d", "pool2d", "transpose_of",
    "trace", "trace_of", "trace_dict", "layout", "iter_frames", "render", "save", "__version__",
    "matrix_image", "save_matrix", "Look", "Limits", "scene",
]

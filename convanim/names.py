"""What the engine's three arrays are called: in the picture and in the trace file.

The engine computes ``output`` from ``input`` and ``weight``. A backward pass runs
the same engine with other arrays in those places (dL/dx = conv_transpose2d(dL/dy,
w) puts dL/dy where the input goes), so every picture and the trace file take the
names from one value, :class:`Names`, that the spec provides (``spec.names``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    """``op`` as the trace file writes it; for each engine array its trace-file key
    (``input``, ``weight``, ``output``) and the word the picture's labels use."""

    op: str
    input: str = "input"
    weight: str = "weight"
    output: str = "output"
    input_label: str = "input"
    weight_label: str = "kernel"
    output_label: str = "output"

    @property
    def forward(self) -> bool:
        """True for a forward op: the engine's arrays are what they are called."""
        return self.input == "input" and self.output == "output"

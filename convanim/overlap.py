"""The overlap view of a transposed convolution: how many products land in each output cell.

In the scatter view each input cell stamps the kernel onto the output, stride s
apart; where stamps overlap, an output cell sums several products. Per axis the
count at output position y is the number of (input index, kernel offset) pairs
with ``y = i*s + k*d - p``, so a cell's count is the product of its row's and its
column's. Away from the border the row counts repeat with period s: they are all
equal exactly when the kernel's taps cover every residue mod s equally often
(with d = 1: when k is divisible by s), an even pattern; otherwise neighbouring
cells alternate, the checkerboard of transposed convolutions. Counts come from
the trace's taps (what the engine computed), the border-free pattern from the spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engine import Trace
from .params import SpecError
from .theme import RGB, Theme

OVERLAYS = ("overlap",)


def check_overlay(spec, overlay: str | None) -> None:
    """``overlay`` must be None or one :data:`OVERLAYS` allows for ``spec``."""
    if overlay is None:
        return
    if overlay not in OVERLAYS:
        raise SpecError(f"overlay: got {overlay!r}; allowed: {', '.join(OVERLAYS)}")
    if not spec.transposed or spec.pooling:
        raise SpecError(f"overlay: got {overlay!r} for {spec.names.op}; the overlap view is for a "
                        "transposed convolution (tconv, or grad --wrt input of a convolution)")


@dataclass(frozen=True, eq=False)
class Overlap:
    """Products per output cell: ``counts`` (OH, OW) in all, ``through[n]`` after step n
    (as the cells fill in), ``levels`` the distinct counts, ascending."""

    counts: np.ndarray
    levels: tuple[int, ...]
    caption: tuple[str, ...]

    @property
    def top(self) -> int:
        return max(self.levels) if self.levels else 0


def overlap_of(t: Trace) -> Overlap:
    check_overlay(t.spec, "overlap")
    counts = np.zeros(t.spec.output_size, dtype=np.int64)
    np.add.at(counts, (t.tap_out[:, 0], t.tap_out[:, 1]), 1)
    counts.setflags(write=False)
    return Overlap(counts, tuple(int(v) for v in np.unique(counts)), overlap_caption(t.spec))


def step_counts(t: Trace, step: int) -> list[tuple[int, int, int]]:
    """(r, c, count) of the output cells that change at ``step``: in scatter view those
    receiving a product, with their count so far; in gather view the cell computed, all
    of its products at once."""
    if t.spec.view == "scatter":
        upto = np.zeros(t.spec.output_size, dtype=np.int64)
        hi = int(t.step_start[step + 1])
        np.add.at(upto, (t.tap_out[:hi, 0], t.tap_out[:hi, 1]), 1)
        cells = dict.fromkeys(map(tuple, t.tap_out[t.taps(step)].tolist()))
        return [(r, c, int(upto[r, c])) for r, c in cells]
    r, c = int(t.anchor[step][0]), int(t.anchor[step][1])
    return [(r, c, int(t.taps(step).stop - t.taps(step).start))]


def residue_counts(k: int, s: int, p: int, d: int) -> list[int]:
    """Products per output position along one axis, away from the border: one per
    residue of the position mod s (kernel offsets j with j*d + p = y mod s)."""
    return [sum(1 for j in range(k) if (y + p - j * d) % s == 0) for y in range(s)]


def overlap_caption(spec) -> tuple[str, ...]:
    """Whether the kernel size is divisible by the stride, and what that does."""
    axes = []
    per_axis = []
    for ax in (0, 1):
        k, s, p, d = spec.kernel_size[ax], spec.stride[ax], spec.padding[ax], spec.dilation[ax]
        got = sorted(set(residue_counts(k, s, p, d)))
        per_axis.append(got)
        even = len(got) == 1
        if d == 1:
            rule = f"{k} is {'' if even else 'not '}divisible by {s}"
        else:
            rule = f"{k} taps {d} apart {'cover' if even else 'do not cover'} the stride {s} evenly"
        axes.append((f"k={k}, s={s}" + (f", d={d}" if d != 1 else ""), rule, even))
    inner = sorted({a * b for a in per_axis[0] for b in per_axis[1]})
    even = axes[0][2] and axes[1][2]
    counts = " or ".join(str(v) for v in inner) if len(inner) < 3 else (
        ", ".join(str(v) for v in inner[:-1]) + f" or {inner[-1]}")
    if axes[0][:2] == axes[1][:2]:
        head = f"{axes[0][0]}: {axes[0][1]}"
    else:
        head = f"rows {axes[0][0]}: {axes[0][1]}; columns {axes[1][0]}: {axes[1][1]}"
    # Uneven along one axis only: whole rows (or columns) alternate, stripes.
    pattern = ("an even pattern" if even else "a checkerboard" if not (axes[0][2] or axes[1][2])
               else "stripes")
    what = (f"every cell away from the border gets {counts} products, {pattern}" if even
            else f"cells away from the border get {counts} products, {pattern}")
    return (f"{head}: {what}", f"{head}: {pattern}")


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))  # type: ignore[return-value]


def shade(theme: Theme, count: int, top: int) -> RGB:
    """The fill of a cell with ``count`` products: from the empty output (0) to the
    highlight colour (``top``), light to dark."""
    if count <= 0 or top <= 0:
        return theme.output_empty
    return _mix(theme.output_empty, theme.output_hl, 0.2 + 0.8 * count / top)


def on_role(count: int, top: int) -> str:
    """The Theme role whose colour is closest to :func:`shade`'s, for the text's contrast."""
    if count <= 0 or top <= 0:
        return "output_empty"
    return "output_empty" if count / top < 0.45 else "output_hl"

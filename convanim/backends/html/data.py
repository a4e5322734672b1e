"""What the page's script reads: the trace's steps and the scene's grid geometry, as plain data.

Everything the page highlights or writes comes from here, so from the engine:

* ``grids``: for each grid the scene draws (``input``, ``kernel``, ``output``), the
  screen position of its cell corners, ``corner(r, c) = o + c*u + r*v`` (SVG user
  units), read off the cells' own quads in the scene, and ``cells``, the cells a
  pointer can pick (those the still picture draws), flattened ``[r0, c0, r1, c1, ...]``;
  in gather view the lower grids (``input``, ``in{j}``) also list their padding cells
  and the zeros a transposed convolution inserts (drawn as empty cells, no quad of
  their own), so the page can say what they are.
  ``hit`` lists the grids top-most first, for the pointer.
* ``taps``: every product of the trace, flattened ``[in_r, in_c, w_r, w_c, out_r,
  out_c, ...]`` in the trace's coordinates, with ``p`` their values and ``start``
  the first tap of each step; ``corner`` the top-left cell of each step's footprint
  (on the lower grid in gather view, on the output in scatter view).
* ``text``: the arithmetic of each step, as the flat style writes it (its longest form).
* ``winner``: max pooling, the input cell each step's maximum comes from (the engine's:
  the first maximum, row-major), flattened ``[r, c, ...]`` (with channels ``[ci, r, c,
  ...]``), which the page marks; null for every other operation.

With channels (a :class:`convanim.channels.ChannelTrace`, the flat picture) the grids
are ``in{j}`` and ``k{j}`` (row j: the j-th input map of the current step's group and
its kernel slice) and ``out{co}``; ``x``, ``w``, ``y`` keep their channel axes; a tap is
``[ci, r, c, <weight index>, co, r, c]`` with ``tw`` numbers of weight index (4, or 2
kernel offsets for pooling), and ``ch`` says how maps are grouped.

The iso picture of channels (``ch["stacked"]``, its grids oblique) draws every map:
``in{ci}`` is input map ci (all of them, stacked) and ``out{co}`` output map co, no
kernel grid (the filter is a block over the footprint). Its planes overlap, so ``hit``
is the still picture's drawing order reversed (the plane drawn last, on top, first),
each grid has ``box`` ``[r0, c0, r1, c1]`` (its cells' rows and columns, ends excluded:
its outline) and ``under``, the grids drawn over it whose outline's bounding box meets
its own (the page hides a highlight where they cover it); ``text`` names the value,
``y[co,r,c] = <each map's partial sum> + b(..) = v``.

The script maps a tap's input cell onto the drawn input grid with ``origin`` and
``spacing`` (gather view: the lower grid) and its weight onto the drawn kernel with
``flip`` (the gather view of a transposed convolution shows the kernel flipped).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...channels import ChannelTrace
from ...engine import Trace
from ...flat import step_text
from ...numbers import NumberFormat
from ...scene import Scene, Shape

# Grids the pointer tries first where they overlap (iso: the output plane is drawn on top).
HIT_ORDER = ("output", "kernel", "input")


def _round(v: float) -> float | int:
    r = round(float(v), 3)
    return int(r) if r.is_integer() else r


def _num(v: float) -> float | int:
    v = float(v)
    return int(v) if v.is_integer() else v


def _nums(a: np.ndarray) -> list:
    """An array of any rank as nested lists of :func:`_num`."""
    return [_num(v) for v in a] if a.ndim == 1 else [_nums(b) for b in a]


def _quads(scene: Scene) -> tuple[dict[tuple, tuple], set[tuple]]:
    """A cell quad of every grid the scene draws (by (grid, r, c)), and the cells of the
    still picture. One quad a grid is enough (the corners are affine in r, c), so the
    frames are read only until they bring no grid the still picture lacks: the first
    and the last frame (every layout draws each grid in its still picture anyway)."""
    quads: dict[tuple, tuple] = {}
    still: set[tuple] = set()

    def take(ops, static: bool) -> None:
        for op in ops:
            if isinstance(op, Shape) and op.cell is not None and op.closed and len(op.points) == 4:
                quads.setdefault(op.cell, op.points)
                if static:
                    still.add(op.cell)

    take(scene.low, True)
    take(scene.high, True)
    for step in sorted({0, scene.n_frames - 1}):
        f = scene.frame(step)
        take(f.under, False)
        take(f.fresh, False)
        take(f.over, False)
    return quads, still


def grid_geometry(scene: Scene) -> dict[str, dict[str, Any]]:
    """Each grid's corner map and pickable cells (see the module docstring)."""
    quads, still = _quads(scene)
    out: dict[str, dict[str, Any]] = {}
    for (grid, r, c), q in quads.items():
        if grid in out:
            continue
        (x0, y0), (x1, y1), _, (x3, y3) = q
        u, v = (x1 - x0, y1 - y0), (x3 - x0, y3 - y0)
        o = (x0 - c * u[0] - r * v[0], y0 - c * u[1] - r * v[1])
        out[grid] = {"o": [_round(a) for a in o], "u": [_round(a) for a in u],
                     "v": [_round(a) for a in v], "cells": []}
    for grid, r, c in sorted(still):
        out[grid]["cells"] += [int(r), int(c)]
    return out


def _is_lower(grid: str) -> bool:
    return grid == "input" or (grid.startswith("in") and grid[2:].isdigit())


def add_empty_cells(grids: dict[str, dict[str, Any]], swept: tuple[int, int]) -> None:
    """Give each lower grid every cell of the swept grid (rows and columns from 0 to
    ``swept``) it lacks: its padding and inserted zeros, the cells the scene draws as
    outlines only. The corner map is affine, so their geometry is the grid's own."""
    for name, g in grids.items():
        if not _is_lower(name):
            continue
        have = set(zip(g["cells"][0::2], g["cells"][1::2]))
        for r in range(swept[0]):
            for c in range(swept[1]):
                if (r, c) not in have:
                    g["cells"] += [r, c]


def _stacked(grids: dict[str, dict[str, Any]]) -> bool:
    """Is this the iso picture of channels (oblique grids), not the flat one (front view)?"""
    return any(g["u"][1] != 0 or g["v"][0] != 0 for g in grids.values())


def draw_order(scene: Scene) -> list[str]:
    """The grids in the order the still picture first draws a cell of each: a later one
    is drawn over the earlier ones where they overlap."""
    seen: dict[str, None] = {}
    for op in scene.low + scene.high:
        if isinstance(op, Shape) and op.cell is not None:
            seen.setdefault(op.cell[0], None)
    return list(seen)


def add_covers(grids: dict[str, dict[str, Any]], hit: list[str]) -> None:
    """Each grid's ``box`` (from its pickable cells, padding and inserted zeros included)
    and ``under``: the grids before it in ``hit`` (drawn over it) whose outline's
    bounding box meets its own. A miss only costs the page an empty mask."""
    def bounds(g):
        rs, cs = g["cells"][0::2], g["cells"][1::2]
        g["box"] = [min(rs), min(cs), max(rs) + 1, max(cs) + 1]
        r0, c0, r1, c1 = g["box"]
        pts = [(g["o"][0] + c * g["u"][0] + r * g["v"][0], g["o"][1] + c * g["u"][1] + r * g["v"][1])
               for r, c in ((r0, c0), (r0, c1), (r1, c1), (r1, c0))]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return min(xs), min(ys), max(xs), max(ys)

    rect = {name: bounds(grids[name]) for name in hit}
    for i, name in enumerate(hit):
        a = rect[name]
        grids[name]["under"] = [o for o in hit[:i] if rect[o][0] < a[2] and a[0] < rect[o][2]
                                and rect[o][1] < a[3] and a[1] < rect[o][3]]


def page_data(t: Trace, scene: Scene, duration: int, loop: int | None) -> dict[str, Any]:
    """The document the page's script reads (see the module docstring)."""
    s = t.spec
    if scene.n_frames != t.n_steps:
        raise ValueError(f"page: the scene has {scene.n_frames} frames and the trace "
                         f"{t.n_steps} steps; a page needs one frame per step")
    gather = s.view != "scatter"
    g = t.grid
    grids = grid_geometry(scene)
    if gather:
        add_empty_cells(grids, tuple(g.size))
    taps = np.concatenate([t.tap_in, t.tap_w, t.tap_out], axis=1).astype(int)
    if isinstance(t, ChannelTrace):
        from ...flat_channels import step_lines
        text = step_lines(t)
        stacked = _stacked(grids)
        if stacked:  # named: the maps' partial sums alone do not say which value it is
            text = [f"y[{co},{r},{c}] = " + line.removeprefix("\u03a3 = ")
                    for (co, r, c), line in zip(t.anchor.tolist(), text)]
        per_in, per_out = s.in_channels // s.groups, s.out_channels // s.groups
        ch = {"cin": s.in_channels, "cout": s.out_channels, "groups": s.groups, "maps": per_in,
              "perOut": per_out, "tw": int(t.tap_w.shape[1]),
              "bias": None if t.bias is None else [_num(v) for v in t.bias], "stacked": stacked}
        if stacked:
            hit = draw_order(scene)[::-1]
            add_covers(grids, hit)
        else:
            hit = sorted(grids)
    else:
        fmt = NumberFormat.of(t)  # once: it reads every value of the figure
        text = [step_text(t, n, fmt)[0] for n in range(t.n_steps)]
        ch = None
        hit = [name for name in HIT_ORDER if name in grids]
    return {
        "op": s.op, "view": s.view, "frames": scene.n_frames, "ms": duration,
        # Plays in all, as for every animated format (0: forever).
        "plays": 1 if loop is None else int(loop),
        "k": list(s.kernel_size), "d": list(s.dilation),
        "isize": list(s.input_size), "osize": list(s.output_size),
        "origin": list(g.origin) if gather else [0, 0],
        "spacing": list(g.spacing) if gather else [1, 1],
        "flip": bool(gather and g.flip),
        "x": _nums(t.input),
        "w": None if t.weight is None else _nums(t.weight),
        "y": _nums(t.output),
        "start": [int(v) for v in t.step_start],
        "corner": [int(v) for v in t.corner.ravel()],
        "taps": [int(v) for v in taps.ravel()],
        "p": [_num(v) for v in t.tap_value],
        "winner": None if t.winner is None else [int(v) for v in t.winner.ravel()],
        "text": text,
        "grids": grids,
        "hit": hit,
        "ch": ch,
    }

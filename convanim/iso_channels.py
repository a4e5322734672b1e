"""Geometry of the iso picture of a convolution with channels (gather view, no Pillow).

The input maps lie one above the other as a stack of planes (a block), map 0 on
top: each is the same plane lifted by ``gaps[0]`` px per level, so a lower map shows
the band along its front edges that the map above leaves free. The output maps make
a second stack above it, map 0 on top, each clear of the next (``gaps[1]``), so that
every output value is seen where it is written. A frame shades the
footprint on each input map of the step's group (the cells seen of it), outlines
the filter as a block over the footprint from the group's lowest map to its top
one, fills the output cell on its map, and draws the four lines from the
footprint on the group's top map to the output cell, each hidden where it runs beneath
a map between its two ends (:meth:`ChannelIsoLayout._covers`).

Hidden parts: a cell of a lower map is drawn only where the map above does not
cover it (:func:`visible`), so shading stays under the maps above it. The block's
edges (its footprint box on each map of the group and its four upright edges) and
the output cell's outline are drawn over everything, as in a technical drawing:
solid where seen, dashed where a map above hides them (:func:`split`), so the block
and the cell show wherever they are and read as behind what covers them. Every cell
drawn comes from the :class:`ChannelTrace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .channels import ChannelTrace
from .flat_channels import flat_draws
from .info import grid_labels
from .layout import (
    EMPTY, PAD, REAL, Picture, Plane, Point, TextItem, add_bands, band_font, band_item,
    bands_of, check_maps, grid_planes, moved, shifted, split, text_width,
)
from .text import TIMES, NumberFormat, fmt_num

# Legible limits, as for the flat picture (convanim.flat_channels): 8 maps of 7x7 with
# padding 1 and 8 output maps of 7x7 make a 1,100x2,500 px canvas at the default cell;
# more planes in a stack leave each one too thin a band to be read.
MAX_MAPS = 8  # input maps in the stack
MAX_FILTERS = 8  # output maps in the stack
LIFT = 0.42  # an input map's lift above the one below, per px of the plane's drawn height
MIN_LIFT = 0.6  # ... and at least this many cells
STACK_GAP = 0.35  # cells between the stacks, and between output maps: each output map is
# seen whole (its cells fill as they are computed, and an overlapped one would hide them)
BLOCK_W = 2.5  # px at the default cell (32 px), the filter block's and the output cell's outlines
# Half of the grid line (convanim.scene.GRID_W, 1.6 px): a shaded cell is filled up to this
# far from the edge of the map above, so that map's edge line stays whole.
HALF_LINE = 0.8


def block_width(cell: float) -> float:
    """The block's and the output cell's outline width at ``cell`` px: BLOCK_W at the
    default cell, thinner with smaller cells (the bands between maps shrink with the
    cell, and a fixed width covered them), never thinner than a grid line."""
    return min(BLOCK_W, max(2 * HALF_LINE, BLOCK_W * cell / 32.0))

Poly = tuple[Point, ...]
Edge = tuple[Point, Point, bool]  # a segment, and whether a map above hides it


def check_channel_iso(spec) -> None:
    """Refuse, before any work, a layer with more maps than the stacks show legibly;
    suggest the flat picture only when it draws them (it takes a group's maps)."""
    check_maps(spec, "the iso picture stacks", MAX_MAPS, MAX_FILTERS, per_group=False,
               fix="--style flat" if flat_draws(spec) else "")


@dataclass(frozen=True)
class ChannelIsoShapes:
    """What one frame shows: ``lower`` (ci, r, c, kind) the footprint cells on the group's
    maps (what of each is seen: :meth:`ChannelIsoLayout.seen`); ``block`` the filter
    block's edges; ``cell`` (co, r, c) the output cell and ``cell_edges`` its outline;
    the parts of the four connecting lines in sight."""

    lower: tuple[tuple[int, int, int, int], ...]
    block: tuple[Edge, ...]
    cell: tuple[int, int, int]
    cell_edges: tuple[Edge, ...]
    lines: tuple[tuple[Point, Point], ...]


@dataclass(frozen=True, eq=False)
class ChannelIsoLayout(Picture):
    """The iso picture of a :class:`ChannelTrace`: ``maps[ci]`` the input planes,
    ``outs[co]`` the output planes, ``gaps`` each stack's lift per level (px)."""

    trace: ChannelTrace
    maps: tuple[Plane, ...]
    outs: tuple[Plane, ...]
    gaps: tuple[float, float]
    size: tuple[int, int]
    static: tuple[TextItem, ...] = ()
    formula: tuple[float, float, float, float] | None = None  # the per-frame text's band
    font: float = 14.0

    @property
    def has_text(self) -> bool:
        return self.formula is not None or bool(self.static)

    @cached_property
    def _fmt(self) -> NumberFormat:
        return NumberFormat.of(self.trace)

    @cached_property
    def _visible(self) -> dict:
        return {}

    @cached_property
    def _hulls(self) -> dict:
        """(stack, k) -> the outline of maps 0..k-1 of the stack (what hides map k), or None."""
        out: dict = {}
        for name, planes in (("in", self.maps), ("out", self.outs)):
            pts: list = []
            for k, p in enumerate(planes):
                out[(name, k)] = hull(tuple(pts)) if pts else None
                pts += _corners(p)
        return out

    @cached_property
    def _outlines(self) -> dict:
        """(stack, k) -> map k's outline (its four corners), made once: every frame cuts
        its lines and edges against the same few planes."""
        return {(name, k): _corners(p) for name, planes in (("in", self.maps), ("out", self.outs))
                for k, p in enumerate(planes)}

    @cached_property
    def _clears(self) -> dict:
        """(stack, k) -> the outline of the map above map k, HALF_LINE px out (what hides
        its cells' edge lines), or None for map 0: made once, not per cell looked at."""
        return {(name, k): None if k == 0 else inset(self._outlines[(name, k - 1)], -HALF_LINE)
                for name, planes in (("in", self.maps), ("out", self.outs))
                for k in range(len(planes))}

    def _covers(self, top: int, co: int) -> tuple[tuple[Poly, float], ...]:
        """What hides the lines from input map ``top`` to output map ``co``: each map
        between the two heights, with the fraction of a line's length that runs beneath
        it. A map's height is how far it is lifted on the canvas (the stacks differ
        only by upward moves; the sideways centring of the output stack is a move in the
        plane), and a line's height grows evenly from one end to the other."""
        got = self._visible.get(("covers", top, co))
        if got is None:
            z0, z1 = -self.maps[top].origin[1], -self.outs[co].origin[1]
            got = [(self._outlines[("out", co)], 1.0)]
            between = [(("in", k), -self.maps[k].origin[1]) for k in range(top)]
            between += [(("out", k), -self.outs[k].origin[1])
                        for k in range(co + 1, len(self.outs))]
            got += [(self._outlines[key], (z - z0) / (z1 - z0)) for key, z in between]
            got = self._visible[("covers", top, co)] = tuple(got)
        return got

    def seen(self, stack: str, index: int, r: int, c: int) -> tuple[Poly, ...]:
        """The pieces of cell (r, c) of map ``index`` of ``stack`` ("in"/"out") not hidden
        by the map above it (map 0 is on top: nothing hides it), kept clear of its edge line."""
        return self._seen(stack, index, r, c)[0]

    def seen_edges(self, stack: str, index: int, r: int, c: int) -> tuple[tuple[Point, Point], ...]:
        """The parts of the cell's four edges in sight, to stroke over its fill (as a
        highlighted cell of the one-channel iso is: fill and edge lines, no seam between)."""
        return self._seen(stack, index, r, c)[1]

    def _seen(self, stack: str, index: int, r: int, c: int):
        key = (stack, index, r, c)
        got = self._visible.get(key)
        if got is None:
            planes = self.maps if stack == "in" else self.outs
            above = planes[index - 1] if index else None
            quad = planes[index].quad(r, c)
            cover = self._clears[(stack, index)]
            edges = tuple((a, b) for i in range(4)
                          for a, b, hidden in split(quad[i], quad[(i + 1) % 4], cover)
                          if not hidden)
            got = self._visible[key] = (visible(quad, above, HALF_LINE), edges)
        return got

    def seen_block(self, index: int, r0: int, c0: int, r1: int, c1: int):
        """Cells r0..r1-1 x c0..c1-1 of input map ``index`` shaded as one: the pieces of
        their outline in sight (as :meth:`seen`), and the grid lines bounding and
        crossing them, each once, as pairs of logical corners (see :meth:`seen_line`)."""
        key = ("block", index, r0, c0, r1, c1)
        got = self._visible.get(key)
        if got is None:
            p = self.maps[index]
            above = self.maps[index - 1] if index else None
            quad = (p.corner(r0, c0), p.corner(r0, c1), p.corner(r1, c1), p.corner(r1, c0))
            lines = tuple(((r, c0), (r, c1)) for r in range(r0, r1 + 1))
            lines += tuple(((r0, c), (r1, c)) for c in range(c0, c1 + 1))
            got = self._visible[key] = (visible(quad, above, HALF_LINE), lines)
        return got

    def seen_line(self, index: int, a: tuple[int, int], b: tuple[int, int]):
        """The parts in sight of the grid line of input map ``index`` from logical corner
        ``a`` to ``b`` (kept clear of the edge line of the map above, as
        :meth:`seen_edges`). A line recurs as the footprint moves along it: once each."""
        key = ("line", index, a, b)
        got = self._visible.get(key)
        if got is None:
            p = self.maps[index]
            cover = self._clears[("in", index)]
            got = self._visible[key] = tuple(
                (q0, q1) for q0, q1, hidden in split(p.corner(*a), p.corner(*b), cover)
                if not hidden)
        return got

    def frame(self, step: int) -> ChannelIsoShapes:
        t = self.trace
        kh, kw = t.spec.kernel_size
        dh, dw = t.spec.dilation
        maps = t.step_maps(step)
        r0, c0 = (int(v) for v in t.corner[step])
        r1, c1 = r0 + dh * (kh - 1) + 1, c0 + dw * (kw - 1) + 1
        top = self.maps[maps[0]]

        def box(p: Plane) -> Poly:
            return (p.corner(r0, c0), p.corner(r0, c1), p.corner(r1, c1), p.corner(r1, c0))

        # The footprint's cells and the block over it depend on the group's maps and the
        # footprint's corner only: each filter of the group meets them again, kept.
        hulls = self._hulls
        key = ("block", tuple(int(ci) for ci in maps), r0, c0)
        got = self._visible.get(key)
        if got is None:
            lower = []
            foot = [(int(r), int(c)) for r, c in t.footprint(step)]
            for ci in maps:
                p = self.maps[ci]
                for r, c in foot:
                    kind = p.kind(r, c)
                    if kind in (REAL, PAD):
                        lower.append((ci, r, c, kind))
            edges: list[Edge] = []
            for ci in maps:  # the footprint's box on each map, hidden by the maps above it
                edges += _outline(box(self.maps[ci]), hulls[("in", ci)])
            for ci in maps[:-1]:  # the upright edges, level by level: map ci to the one below
                upper, lower_box = box(self.maps[ci]), box(self.maps[ci + 1])
                for k in range(4):
                    edges += split(lower_box[k], upper[k], hulls[("in", ci + 1)])
            got = self._visible[key] = (tuple(lower), tuple(edges))
        lower, block = got
        co, r, c = (int(v) for v in t.anchor[step])
        out = self.outs[co]
        # Each line rises from the group's top map to the output map it ends on, and
        # passes under every map that lies between the two heights (the maps above the
        # group's top map, the output maps below its own), as under the one-channel iso's
        # upper plane: hidden where it runs beneath one of them, seen between them. Cut
        # here, as what covers a line differs per frame.
        covers = self._covers(maps[0], co)
        lines = tuple(piece for i, j in ((0, 0), (0, 1), (1, 0), (1, 1))
                      for piece in unhidden(top.corner((r0, r1)[i], (c0, c1)[j]),
                                            out.corner(r + i, c + j), covers))
        return ChannelIsoShapes(lower, block, (co, r, c),
                                tuple(_outline(out.quad(r, c), hulls[("out", co)])), lines)

    def text(self, step: int) -> tuple[TextItem, ...]:
        """The frame's line: which output value, from which maps and filter, with the bias."""
        if self.formula is None:
            return self.static
        t = self.trace
        co, r, c = (int(v) for v in t.anchor[step])
        maps = t.step_maps(step)
        span = f"{maps[0]}" if len(maps) == 1 else f"{maps[0]}..{maps[-1]}"
        bias = f" + b[{co}]" if t.bias is not None else ""
        value = fmt_num(t.value(step), self._fmt.output)
        y = f"y[{co},{r},{c}]"
        if t.spec.pooling:  # each map pooled on its own: output map co from input map co
            how = {"max_pool2d": "max", "avg_pool2d": "mean"}[t.spec.op]
            forms = (f"{y} = {how} of x[{span}] under the window = {value}", f"{y} = {value}")
        else:
            # conv2d's filter co is w[co]; conv_transpose2d's is w[maps of the group, co's
            # rank in its group] (weight (C_in, C_out/groups, KH, KW)), flipped over the
            # stretched input.
            per_out = t.spec.out_channels // t.spec.groups
            w = f"w[{span},{co % per_out}] flipped" if t.spec.transposed else f"w[{co}]"
            forms = (f"{y} = \u03a3 x[{span}] \u2217 {w}{bias} = {value}", f"{y} = {value}")
        x0, y0, x1, y1 = self.formula
        return self.static + (band_item("label", forms, x0, x1, y0, y1, self.font),)


def blocks(cells) -> list[tuple[int, int, int, int, int]]:
    """Cells (r, c, kind) as few rectangles (r0, c0, r1, c1, kind) of one kind, ends
    excluded, that hold exactly them: runs along each row, stacked where rows repeat
    a run. A footprint is a rectangle of cells, padding along its sides: one to three."""
    rows: dict[int, list[list[int]]] = {}
    for r, c, kind in sorted(cells):
        runs = rows.setdefault(r, [])
        if runs and runs[-1][1] == c and runs[-1][2] == kind:
            runs[-1][1] = c + 1
        else:
            runs.append([c, c + 1, kind])
    out: list[list[int]] = []
    open_: dict[tuple[int, int, int], list[int]] = {}  # a run -> its rectangle, last row
    for r in sorted(rows):
        now = {}
        for c0, c1, kind in rows[r]:
            rect = open_.get((c0, c1, kind))
            if rect is not None and rect[2] == r:
                rect[2] = r + 1
            else:
                rect = [r, c0, r + 1, c1, kind]
                out.append(rect)
            now[(c0, c1, kind)] = rect
        open_ = now
    return [(r0, c0, r1, c1, kind) for r0, c0, r1, c1, kind in out]


def unhidden(p0: Point, p1: Point, covers: tuple[tuple[Poly, float], ...]
             ) -> list[tuple[Point, Point]]:
    """The parts of segment p0-p1 in sight, in order from p0: ``covers`` are (convex
    polygon, t) pairs, each polygon hiding what lies inside it of the segment's first
    part, up to the fraction t of its length (the part beneath that map; 1: all of it).
    Each map is its own polygon: their union is not convex."""
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    norm = dx * dx + dy * dy
    if norm == 0:
        return [(p0, p1)]

    def at(t: float) -> Point:
        return (p0[0] + t * dx, p0[1] + t * dy)

    def t_of(q: Point) -> float:
        return ((q[0] - p0[0]) * dx + (q[1] - p0[1]) * dy) / norm

    pieces = [(0.0, 1.0)]  # in fractions of the segment, so that covers compose
    for poly, until in covers:
        out = []
        for ta, tb in pieces:
            if ta >= until:
                out.append((ta, tb))
                continue
            tm = min(tb, until)
            out += [(t_of(a), t_of(b)) for a, b, hidden in split(at(ta), at(tm), poly)
                    if not hidden]
            if tb > tm:
                out.append((tm, tb))
        pieces = out
    joined: list = []  # pieces cut apart at a cover's height and both seen: one line again
    for ta, tb in pieces:
        if tb - ta <= 1e-9:
            continue
        if joined and abs(joined[-1][1] - ta) <= 1e-9:
            joined[-1] = (joined[-1][0], tb)
        else:
            joined.append((ta, tb))
    return [(p0 if ta == 0 else at(ta), p1 if tb == 1 else at(tb)) for ta, tb in joined]


def _outline(poly: Poly, hidden: Poly | None) -> list[Edge]:
    return [e for i in range(len(poly)) for e in split(poly[i], poly[(i + 1) % len(poly)], hidden)]


def _corners(p: Plane) -> Poly:
    (fr, fc), (h, w) = p.first, p.shape
    return (p.corner(fr, fc), p.corner(fr, fc + w), p.corner(fr + h, fc + w), p.corner(fr + h, fc))


def hull(pts: Poly) -> Poly:
    """The convex hull of ``pts``, clockwise on screen (monotone chain)."""
    ps = sorted({(round(x, 9), round(y, 9)) for x, y in pts})
    if len(ps) < 3:
        return tuple(ps)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    upper: list = []
    for p in ps:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(ps):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return tuple(lower[:-1] + upper[:-1])


def _clip(poly: Poly, a: Point, b: Point, side: float) -> Poly:
    """The part of convex ``poly`` on the ``side`` (sign of the cross product) of line a-b."""
    def s(p):
        return ((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])) * side

    out = []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        sp, sq = s(p), s(q)
        if sp >= 0:
            out.append(p)
        if (sp >= 0) != (sq >= 0):
            t = sp / (sp - sq)
            out.append((p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t))
    return tuple(out)


def _area(poly: Poly) -> float:
    return abs(sum(poly[i][0] * poly[(i + 1) % len(poly)][1] - poly[(i + 1) % len(poly)][0] * poly[i][1]
                   for i in range(len(poly)))) / 2


def inset(poly: Poly, d: float) -> Poly:
    """Convex ``poly`` with every edge moved ``d`` px inwards."""
    n = len(poly)
    cx, cy = sum(p[0] for p in poly) / n, sum(p[1] for p in poly) / n
    lines = []
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        lines.append(_moved_line(a, b, d, (cx, cy)))
    out = []
    for i in range(n):
        (p, u), (q, v) = lines[i - 1], lines[i]
        den = u[0] * v[1] - u[1] * v[0]
        t = ((q[0] - p[0]) * v[1] - (q[1] - p[1]) * v[0]) / den
        out.append((p[0] + u[0] * t, p[1] + u[1] * t))
    return tuple(out)


def _moved_line(a: Point, b: Point, d: float, towards: Point):
    """Line a-b moved ``d`` px towards the point ``towards`` (away from it when d < 0):
    (a point on it, its direction)."""
    ux, uy = b[0] - a[0], b[1] - a[1]
    n = float(np.hypot(ux, uy)) or 1.0
    nx, ny = -uy / n, ux / n
    if (towards[0] - a[0]) * nx + (towards[1] - a[1]) * ny < 0:
        nx, ny = -nx, -ny
    return (a[0] + nx * d, a[1] + ny * d), (ux, uy)


def visible(quad: Poly, above: Plane | None, clear: float = 0.0) -> tuple[Poly, ...]:
    """The pieces of ``quad`` (a cell of a map) that the plane ``above`` (the same plane
    lifted straight up) leaves in sight: the parts below either of its two lower edges,
    kept ``clear`` px off them.

    A map further up is lifted more, and what it covers the nearer one covers too
    (the planes are convex and lifted along one line), so the map just above decides.
    """
    if above is None or not _meets(quad, _corners(above)):
        return (quad,)
    left, top, right, bottom = _corners(above)  # screen: left, top, right and bottom corners
    pieces = []
    for a, b in ((left, bottom), (bottom, right)):
        p, u = _moved_line(a, b, -clear, top)  # the edge moved off the plane above
        a, b = p, (p[0] + u[0], p[1] + u[1])
        piece = _clip(quad, a, b, -_side(a, b, top))
        if len(piece) >= 3 and _area(piece) > 0.05:
            pieces.append(piece)
    # Below the left edge and below the right edge overlap near the bottom corner: the
    # overlap is drawn twice, in one colour, which changes nothing.
    return tuple(pieces)


def _meets(quad: Poly, poly: Poly) -> bool:
    """Do the convex polygons overlap? (No edge of either separates them.)"""
    for a, b in ((quad, poly), (poly, quad)):
        for i in range(len(a)):
            p, q = a[i], a[(i + 1) % len(a)]
            side = _side(p, q, a[(i + 2) % len(a)])
            if all(((q[0] - p[0]) * (v[1] - p[1]) - (q[1] - p[1]) * (v[0] - p[0])) * side <= 1e-9
                   for v in b):
                return False
    return True


def _side(a: Point, b: Point, p: Point) -> float:
    v = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    return 1.0 if v > 0 else -1.0


# Placing ---------------------------------------------------------------------------

def lift(plane: Plane, cell: float, apart: bool = False) -> float:
    """A map's lift above the one below it in a stack of ``plane``s, px; ``apart``: clear
    of it, as far as the output stack is from the input stack."""
    _, y0, _, y1 = plane.extent()
    if apart:
        return (y1 - y0) + STACK_GAP * cell
    return max(MIN_LIFT * cell, LIFT * (y1 - y0))


def _arrange(low: Plane, up: Plane, cin: int, cout: int, cell: float, label_w: float):
    """Both stacks on one canvas: (maps, outs, gaps, size). Map 0 of each stack on top;
    the output stack centred over the input stack, a small gap above it; ``label_w`` px
    kept free left of the planes for the maps' names."""
    margin = cell * 0.7
    gl, gu = lift(low, cell), lift(up, cell, apart=True)
    lx0, ly0, lx1, ly1 = low.extent()
    ux0, uy0, ux1, uy1 = up.extent()
    in_top = ly0 - (cin - 1) * gl  # top of the input stack's top map
    dx = (lx0 + lx1) / 2 - (ux0 + ux1) / 2
    dy = in_top - cell * STACK_GAP - uy1  # the output stack's lowest map, above the input stack
    out_top = uy0 + dy - (cout - 1) * gu
    x0 = min(lx0, ux0 + dx) - margin - label_w
    y0 = min(in_top, out_top) - margin
    x1 = max(lx1, ux1 + dx) + margin
    y1 = ly1 + margin
    maps = tuple(moved(low, -x0, -(cin - 1 - ci) * gl - y0) for ci in range(cin))
    outs = tuple(moved(up, dx - x0, dy - (cout - 1 - co) * gu - y0) for co in range(cout))
    size = (int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))
    return maps, outs, (gl, gu), size


def _labels(spec, labels: bool, cell: float):
    """(width kept for the maps' names, the bands above and below) of the picture."""
    if not labels:
        return 0.0, [], []
    names = grid_labels(spec)
    font = band_font(cell)
    width = text_width((f"x[{max(spec.in_channels, spec.out_channels) - 1}]",), font) + font

    def stacked(forms, n, size):  # 'input 5×5, padding 1' -> 'input 3×5×5, padding 1'
        hw = f"{size[0]}{TIMES}{size[1]}"
        return tuple(f.replace(hw, f"{n}{TIMES}{hw}", 1) for f in forms)

    top = [("label", stacked(names["output"], spec.out_channels, spec.output_size))]
    bottom = [("label", stacked(names["input"], spec.in_channels, spec.input_size)),
              ("formula", ("y[0,0,0] = \u03a3 x[0..7] \u2217 w[0] + b[0] = -000.00",))]
    return width, top, bottom


def _bands(size, cell, top, bottom):
    """add_bands, with the frame's formula band kept as an empty slot (its text changes)."""
    size, shift, items = add_bands(size, cell, top, bottom)
    formula = None
    kept = []
    for item in items:
        if item.kind == "formula":
            xs, ys = [p[0] for p in item.slot], [p[1] for p in item.slot]
            formula = (min(xs), min(ys), max(xs), max(ys))
        else:
            kept.append(item)
    return size, shift, kept, formula


def _stack_label(plane: Plane, text: str, x: float, width: float, font: float) -> TextItem:
    """The map's name at the height of its left corner, ending at ``x``: left of every
    plane, where no connecting line passes (a line joins two points of planes)."""
    y = _corners(plane)[0][1]
    return band_item("label", (text,), x - width, x - font * 0.3, y - font * 0.9, y + font * 0.9, font)


def channel_iso_layout(trace: ChannelTrace, cell: float = 32.0, *, labels: bool = False,
                       title: str | None = None,
                       caption: tuple[str, ...] | str | None = None) -> ChannelIsoLayout:
    """The two stacks of ``trace``'s maps; ``labels`` names the stacks and each map and
    writes each frame's output value as a formula; ``title`` / ``caption`` as for iso."""
    spec = trace.spec
    check_channel_iso(spec)
    low, up = grid_planes(trace, cell)
    label_w, top, bottom = _labels(spec, labels, cell)
    maps, outs, gaps, size = _arrange(low, up, spec.in_channels, spec.out_channels, cell, label_w)
    font = band_font(cell)
    static: list[TextItem] = []
    if labels:
        x = min(_corners(p)[0][0] for p in maps + outs)
        static += [_stack_label(p, f"x[{ci}]", x, label_w, font) for ci, p in enumerate(maps)]
        static += [_stack_label(p, f"y[{co}]", x, label_w, font) for co, p in enumerate(outs)]
    t_top, t_bottom = bands_of(trace, False, title, caption, (), ())  # title, caption
    top, bottom = t_top + top, bottom + t_bottom
    formula = None
    if top or bottom:
        size, (bx, by), items, formula = _bands(size, cell, top, bottom)
        maps = tuple(moved(p, bx, by) for p in maps)
        outs = tuple(moved(p, bx, by) for p in outs)
        static = [shifted(i, bx, by) for i in static] + items
    return ChannelIsoLayout(trace, maps, outs, gaps, size, tuple(static), formula, font)


def canvas_size(spec, cell: float = 32.0, labels: bool = False) -> tuple[int, int]:
    """(width, height) that :func:`channel_iso_layout` gives ``spec`` without title or
    caption, from the spec alone, before the trace is made (a test checks the two agree).
    Mirrors :func:`convanim.layout.grid_planes`' boxes as :func:`convanim.iso.canvas_size`
    does."""
    from .engine import grid_map

    gm = grid_map(spec)
    i = spec.input_size
    last = tuple(o + (ii - 1) * sp + 1 for o, ii, sp in zip(gm.origin, i, gm.spacing))
    first = (min(0, gm.origin[0]), min(0, gm.origin[1]))
    end = (max(gm.size[0], last[0]), max(gm.size[1], last[1]))

    def plane(shape, at):
        return Plane(np.broadcast_to(np.uint8(EMPTY), tuple(shape)), tuple(at), (0.0, 0.0), cell)

    low = plane((end[0] - first[0], end[1] - first[1]), first)
    up = plane(spec.output_size, (0, 0))
    label_w, top, bottom = _labels(spec, labels, cell)
    size = _arrange(low, up, spec.in_channels, spec.out_channels, cell, label_w)[3]
    if top or bottom:
        size = _bands(size, cell, top, bottom)[0]
    return size

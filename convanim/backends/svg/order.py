"""The z-order of one layer's operations over all frames, as runs of consecutive frames."""

from __future__ import annotations

from collections import defaultdict
from heapq import heappop, heappush
from typing import Sequence

from ...scene import Shape, Text

def _box(op) -> tuple[float, float, float, float]:
    """What ``op`` may paint, with a pixel of anti-aliasing around it."""
    if isinstance(op, Text):
        x0, y0, x1, y1 = op.rect
        return (x0 - 1, y0 - 1, x1 + 1, y1 + 1)
    xs = [p[0] for p in op.points]
    ys = [p[1] for p in op.points]
    r = (op.width if op.stroke is not None else 0.0) + 1.0  # half a width, caps, miters
    return (min(xs) - r, min(ys) - r, max(xs) + r, max(ys) + r)


def _conflict(a, b, ba=None, bb=None) -> bool:
    """Does the order of ``a`` and ``b`` change the picture? (``ba``, ``bb``: their boxes,
    when known.)

    Not when they are apart, nor for two cells of one grid stroked alike: each
    draws the edge they share in the same way, whichever comes last.
    """
    ba = _box(a) if ba is None else ba
    bb = _box(b) if bb is None else bb
    if ba[0] >= bb[2] or bb[0] >= ba[2] or ba[1] >= bb[3] or bb[1] >= ba[3]:
        return False
    if (isinstance(a, Shape) and isinstance(b, Shape) and a.cell is not None
            and b.cell is not None and a.cell[0] == b.cell[0] and a.cell != b.cell
            and (a.stroke, a.width, a.dashed) == (b.stroke, b.width, b.dashed)):
        return False
    return True


TILE = 64  # px, the buckets in which a frame's operations look for overlapping ones


def frame_runs(seqs: Sequence[Sequence], ordered: bool = True) -> list[tuple[object, int, int]]:
    """One layer's items over the frames, as (item, first, end) runs, ``end`` excluded,
    in a z-order that keeps every frame's order wherever it matters (:func:`_conflict`;
    ``ordered`` False: nowhere, for the connecting lines, all of one colour): a
    topological merge of the frames' sequences that keeps runs of one interval
    together, so they share a group.

    When two frames order two runs differently (no common order exists), the run
    that appears first wins and that frame's order is broken; the scenes built by
    convanim do not do this.
    """
    nodes: list[list] = []  # [item, first, end]
    key: list[tuple[int, int]] = []
    open_run: dict = {}  # item -> node index of its latest run
    succ: list[set] = []
    indeg: list[int] = []
    known: dict[tuple[int, int], bool] = {}  # (earlier node, later node) -> conflict
    # id(item) -> (item, _box(item), the buckets the box meets): items recur in many
    # frames; the entry holds the item, so its id is not reused while ids are compared.
    seen: dict[int, tuple] = {}
    for s, seq in enumerate(seqs):
        buckets: dict[tuple[int, int], list[int]] = defaultdict(list)
        for pos, item in enumerate(seq):
            # One hash of the item a frame (a frozen op hashes all its fields each time).
            nid = open_run.get(item)
            if nid is not None and nodes[nid][2] == s + 1:
                continue  # already placed in this frame
            if nid is None or nodes[nid][2] != s:
                nid = len(nodes)
                nodes.append([item, s, s + 1])
                key.append((s, pos))
                succ.append(set())
                indeg.append(0)
                open_run[item] = nid
            else:
                nodes[nid][2] = s + 1
            if not ordered:
                continue
            hit = seen.get(id(item))
            if hit is None:
                x0, y0, x1, y1 = box = _box(item)
                hit = seen[id(item)] = (item, box, [
                    (tx, ty) for tx in range(int(x0 // TILE), int(x1 // TILE) + 1)
                    for ty in range(int(y0 // TILE), int(y1 // TILE) + 1)])
            _, box, cells = hit
            earlier = {u for c in cells for u in buckets[c]}
            for u in earlier:
                pair = (u, nid)
                if pair not in known:
                    other = nodes[u][0]
                    known[pair] = _conflict(other, item, seen[id(other)][1], box)
                if known[pair] and nid not in succ[u]:
                    succ[u].add(nid)
                    indeg[nid] += 1
            for c in cells:
                buckets[c].append(nid)
    interval = [(nd[1], nd[2]) for nd in nodes]
    by_iv: dict[tuple, list] = defaultdict(list)
    avail: list = []
    for i in range(len(nodes)):
        if indeg[i] == 0:
            heappush(avail, (key[i], i))
            heappush(by_iv[interval[i]], (key[i], i))
    done = [False] * len(nodes)
    order: list[int] = []
    current = None
    rest = sorted(range(len(nodes)), key=lambda i: key[i])
    rest_at = 0
    while len(order) < len(nodes):
        pick = None
        heap = by_iv.get(current)
        while heap:
            _, i = heappop(heap)
            if not done[i]:
                pick = i
                break
        while pick is None and avail:
            _, i = heappop(avail)
            if not done[i]:
                pick = i
        if pick is None:  # a cycle: break it at the earliest remaining run
            while done[rest[rest_at]]:
                rest_at += 1
            pick = rest[rest_at]
        done[pick] = True
        order.append(pick)
        current = interval[pick]
        for v in succ[pick]:
            indeg[v] -= 1
            if indeg[v] == 0 and not done[v]:
                heappush(avail, (key[v], v))
                heappush(by_iv[interval[v]], (key[v], v))
    return [(nodes[i][0], nodes[i][1], nodes[i][2]) for i in order]


def grouped(runs) -> list[tuple[tuple[int, int], list]]:
    """Consecutive runs of one interval as (interval, items)."""
    out: list = []
    for item, a, b in runs:
        if out and out[-1][0] == (a, b):
            out[-1][1].append(item)
        else:
            out.append(((a, b), [item]))
    return out

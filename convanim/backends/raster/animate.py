"""Frames of a scene: the still picture once, then per frame only the tiles that change."""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import compress, count
from typing import Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ...changed import CHANGED, Changed
from ...layout import Point
from ...scene import Frame, Scene, Text
from ...textfit import font as _font
from .canvas import MARGIN, Canvas, _parallelogram_cover
from .edges import Edges, pieces_of
from .kept import Kept
from .ops import TILE, Box, Ops


def crossing(rects, lines, margin: float = 2.0) -> np.ndarray:
    """Which of ``rects`` (x0, y0, x1, y1) a segment of ``lines`` passes within ``margin``
    px of: Liang-Barsky clipping of each segment to every box at once (a frame tests a
    few hundred texts against its four lines)."""
    r = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    x0, y0 = r[:, 0] - margin, r[:, 1] - margin
    x1, y1 = r[:, 2] + margin, r[:, 3] + margin
    hit = np.zeros(len(r), dtype=bool)
    for (ax, ay), (bx, by) in lines:
        t0, t1 = np.zeros(len(r)), np.ones(len(r))
        ok = np.ones(len(r), dtype=bool)
        for p, q in ((-(bx - ax), ax - x0), (bx - ax, x1 - ax), (-(by - ay), ay - y0),
                     (by - ay, y1 - ay)):
            if p == 0:
                ok &= q >= 0  # parallel to this side: outside it, or never crossing it
            elif p < 0:
                t0 = np.maximum(t0, q / p)
            else:
                t1 = np.minimum(t1, q / p)
        hit |= ok & (t0 <= t1)
    return hit


def crossed_texts(elements, lines, edges=()) -> list:
    """The texts among ``elements`` that ``lines`` pass over (see :func:`crossing`), or
    edge strokes ``edges`` (shapes) reach, in order."""
    texts = [e for e in elements if isinstance(e, Text)]
    if not texts or not (lines or edges):
        return []
    rects = [t.rect for t in texts]
    hit = crossing(rects, lines) if lines else np.zeros(len(texts), dtype=bool)
    by_reach: dict = {}  # as far as a stroke reaches, and a pixel
    for e in edges:
        by_reach.setdefault(max(2.0, e.width / 2 + 1), []).extend(segments_of([e]))
    for margin, segs in by_reach.items():
        hit |= crossing(rects, segs, margin)
    return list(compress(texts, hit))


def _union(boxes: Sequence[Box]) -> Box:
    """The smallest box holding ``boxes``; an empty box when there are none."""
    if not boxes:
        return (0, 0, 0, 0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


_RUNS = count()  # tells one _animate's frames from another's
# Frames from ``start`` begin WARM frames before it, as if that one were the first (the
# shapes earlier frames leave already in the still picture), and go through those
# without drawing: which text is in the still picture, and so which rectangles a frame
# repaints, settles within them to what it is from frame 0, and with it the pixels
# (Pillow's edges can differ by a shade where one rectangle or another draws them).
WARM = 4
_NONE: frozenset = frozenset()


def line_tiles(lines, edges=()) -> set:
    """The tiles that segments ``lines`` and edge strokes ``edges`` pass through or near
    (as :meth:`Ops.tiles` finds them)."""
    ops = Ops()
    for p0, p1 in lines:
        ops.seg(p0, p1, (0, 0, 0), 1.0)
    for e in edges:
        for p0, p1 in segments_of([e]):
            ops.seg(p0, p1, (0, 0, 0), e.width + 2)
    return ops.tiles(1 << 30, 1 << 30)


# Painted rectangles kept, in bytes of palette indices, for a scene whose frames recur
# (Scene.recurs): each filter of a group meets the footprints again, and a rectangle over
# one draws the same operations as before (the iso block, in the filter's colour, is
# drawn over it afterwards: Frame.edges), so it is copied, not painted again. The first
# ones kept (see Kept): a filter's worth of conv --i 8 --k 3 --p 1 --cin 3 is 8 MB (iso),
# 11 MB (flat).
PAINTED_BYTES = 32 << 20
# Canvas px around an operation's box that its pixels may reach: one, as Ops.overlapping
# takes it (a text's box is already a pixel wider than its rectangle).
PAD = 1
# What a rectangle costs besides its pixels, in canvas px of area: its margin is counted
# apart; this is the per-rectangle work (the layers' box tests, the crop, the reduction).
RECT_COST = 1024


def op_rect(ops: Ops, w: int, h: int) -> Box | None:
    """The whole pixels that ``ops`` can change on a w x h canvas, or None (off the canvas)."""
    if not ops.boxes:
        return None
    x0, y0, x1, y1 = ops.bbox()
    r = (max(0, math.floor(x0) - PAD), max(0, math.floor(y0) - PAD),
         min(w, math.ceil(x1) + PAD), min(h, math.ceil(y1) + PAD))
    return r if r[0] < r[2] and r[1] < r[3] else None


def _cost(r: Box) -> int:
    return (r[2] - r[0] + MARGIN) * (r[3] - r[1] + MARGIN) + RECT_COST


def merge_rects(rects) -> list[Box]:
    """Rectangles covering ``rects``, neighbours joined where one rectangle costs less to
    paint than two (see _cost). Painting a rectangle writes its final pixels, so the
    rectangles may overlap: what matters is how much is drawn."""
    todo = sorted({r for r in rects if r is not None})
    m, k0 = MARGIN, RECT_COST
    while True:
        out: list[list] = []  # [x0, y0, x1, y1, cost]
        joined = False
        for x0, y0, x1, y1 in todo:
            c = (x1 - x0 + m) * (y1 - y0 + m) + k0
            for q in out:
                # (conditionals, not min and max: this loop runs hundreds of times a frame)
                ux0 = q[0] if q[0] < x0 else x0
                uy0 = q[1] if q[1] < y0 else y0
                ux1 = q[2] if q[2] > x1 else x1
                uy1 = q[3] if q[3] > y1 else y1
                uc = (ux1 - ux0 + m) * (uy1 - uy0 + m) + k0
                if uc <= q[4] + c:
                    q[:] = (ux0, uy0, ux1, uy1, uc)
                    joined = True
                    break
            else:
                out.append([x0, y0, x1, y1, c])
        todo = sorted((q[0], q[1], q[2], q[3]) for q in out)
        if not joined:
            return todo


def _animate(canvas: Canvas, scene: Scene, start: int = 0,
             reuse: bool = False) -> Iterator[Image.Image]:
    """Frames as the still picture plus the rectangles that each frame's operations touch.

    Z-order as in :mod:`convanim.scene`. Text that stays put for two frames and is
    not on a moving shape is painted into the still picture, and painted out again
    when it goes, so a frame redraws only what changes: the boxes of its moving
    shapes and texts, joined into a few rectangles.

    ``start``: the frames from that one on, the same pixels as from frame 0 (see WARM).
    ``reuse``: every frame is the same buffer, brought back to the still picture only
    where the frame before differed from it or the still picture changed (a frame is
    gone once the next is asked for).
    """
    run = next(_RUNS)
    w, h = canvas.w, canvas.h
    low, high = Ops(), Ops()
    for op in scene.low:
        low.add(op)
    for op in scene.high:
        high.add(op)
    cover = _parallelogram_cover(*scene.cover) if scene.cover else (lambda x, y: 0.0)
    persist = Ops()
    # Each operation's drawing, made once (cells and text recur), by the object's id:
    # the scene hands out one object per value, so ids tell them apart at the cost
    # of an int hash, and the entry keeps the object alive so its id is not reused.
    # With it the pixels it can change (a rectangle) and the tiles it touches.
    op_cache: dict[int, tuple[object, Ops, Box | None]] = {}

    # A shape the scene makes anew each frame (the window's outline) is found by value.
    by_value: dict = {}

    def drawn(e) -> tuple[object, Ops, Box | None]:
        hit = op_cache.get(id(e))
        if hit is None:
            same = by_value.get(e)
            if same is None:
                ops = Ops()
                ops.add(e)  # its tiles are walked when asked for: only texts need them
                same = by_value[e] = (ops, op_rect(ops, w, h))
            hit = op_cache[id(e)] = (e, *same)
        return hit

    def ops_of(elements) -> tuple[Ops, list]:
        out, rects = Ops(), []
        for e in elements:
            _, ops, rect = drawn(e)
            out.extend(ops)
            rects.append(rect)
        return out, rects

    def owners(elements) -> np.ndarray:
        """What each operation of ops_of(elements) comes from: its element's drawing (by
        id; equal elements share one, as the scene makes some anew each frame)."""
        made = [op_cache[id(e)][1] for e in elements]
        return np.repeat(np.array([id(m) for m in made], dtype=np.int64),
                         [len(m.ops) for m in made])

    def ops_of_ids(ids) -> Ops:
        out = Ops()
        for i in ids:
            out.extend(op_cache[i][1])
        return out

    # Text and marks painted into canvas.base (ids), each with the number giving its
    # place in the order they are painted, and by tile, so that a rectangle finds its
    # own in time that grows with the rectangle, not with the texts in the picture.
    in_base: dict[int, int] = {}
    base_tiles: dict = defaultdict(set)
    entered = count()

    def in_rect(index, rect: Box, extra=None) -> set:
        x0, y0, x1, y1 = rect
        found: set = set()
        for ty in range(y0 // TILE, (y1 - 1) // TILE + 1):
            for tx in range(x0 // TILE, (x1 - 1) // TILE + 1):
                found |= index.get((tx, ty), _NONE)
                if extra:
                    found |= extra.get((tx, ty), _NONE)
        return found

    def repaint_base(rects) -> list[Box]:
        rects = merge_rects(rects)
        for rect in rects:
            texts = sorted(in_rect(base_tiles, rect), key=in_base.__getitem__)
            canvas.paint(canvas.base, [rect], [low, persist, high, ops_of_ids(texts)])
        return rects

    def tiles_of(i: int):
        return op_cache[i][1].tiles(canvas.ncols, canvas.nrows)

    canvas.keep(low)
    edges = Edges(canvas)
    painted = Kept(PAINTED_BYTES)
    previous: set = set()  # the last frame's texts
    moving: set = set()  # the last frame's texts drawn with it, not in the still picture
    hidden: set = set()  # texts in the still picture that the frame has not, under its shapes
    touched: list[Box] = []  # where the last frame differs from the still picture
    first = max(0, start - WARM)
    buffer = None  # the frame drawn into, when frames reuse one buffer
    for step in range(first, scene.n_frames):
        drawing = step >= start
        f: Frame = scene.frame(step)
        over_ops, edge_ops = split_edges(f)
        (under, under_r), (over, over_r) = ops_of(f.under), ops_of(over_ops)
        fresh, fresh_r = ops_of(f.fresh)
        moving_r = [r for r in under_r + over_r if r is not None]
        # This frame differs from the last only where either differs from the still
        # picture, or where the still picture itself changes.
        changed_boxes = list(touched)
        touched = []
        # A frame lists all its text (the numbers of every cell), most of it the last
        # frame's: only set operations (in C) go over the whole list.
        ids = list(map(id, f.texts))
        current = set(ids)
        appeared = current - previous
        if appeared:
            unknown = {i for i in appeared if i not in op_cache}
            if unknown:
                for e in compress(f.texts, map(unknown.__contains__, ids)):
                    drawn(e)
        # Text of the still picture that this frame has not: painted out, unless it lies
        # under this frame's moving shapes, which repaint it without that text; then it
        # stays, hidden (a window's cells have their plain numbers back when it moves on).
        gone = [i for i in (previous - current) if i in in_base]
        gone += [i for i in hidden if i not in current]
        hidden = {i for i in gone if _inside(op_cache[i][2], moving_r)}
        gone = [i for i in set(gone) if i not in hidden]
        # Text on a moving shape is drawn with the frame anyway: into the still
        # picture goes only what the frame leaves alone (the window's numbers move on).
        stay = moving & current
        settled = [i for i in stay if not _inside(op_cache[i][2], moving_r)]
        if step == first:
            # The still picture is painted with the first frame's text that is not on
            # its moving shapes: static text is drawn once, with it, not twice.
            settled = [i for i in ids if not _inside(op_cache[i][2], moving_r)]
            for n in range(first):  # the shapes earlier frames leave, z-order as in Scene.still
                persist.extend(ops_of(scene.fresh_of(n))[0])
            persist.extend(fresh)
            for i in settled:
                in_base[i] = next(entered)
                for tile in tiles_of(i):
                    base_tiles[tile].add(i)
            if drawing:
                canvas.paint(canvas.base, canvas.bands(), [low, persist, high, ops_of_ids(settled)],
                             whole=True)
        elif fresh.ops or gone or settled:
            persist.extend(fresh)
            rects = list(fresh_r)
            for i in gone:
                del in_base[i]
                for tile in tiles_of(i):
                    base_tiles[tile].discard(i)
                rects.append(op_cache[i][2])
            for i in in_order(ids, settled):  # in the frame's order, as drawn
                in_base[i] = next(entered)
                for tile in tiles_of(i):
                    base_tiles[tile].add(i)
                rects.append(op_cache[i][2])
            if drawing:
                changed_boxes += repaint_base(rects)
        moving = (stay - in_base.keys()) | {i for i in appeared if i not in in_base}
        if not drawing:
            previous = current
            continue
        if step == start and step > first:  # the still picture as it is by now, whole
            texts = ops_of_ids(sorted(in_base, key=in_base.__getitem__))
            canvas.paint(canvas.base, canvas.bands(), [low, persist, high, texts], whole=True)
        moving_texts: dict = defaultdict(set)
        dirty = list(moving_r)
        for i in moving:
            for tile in tiles_of(i):
                moving_texts[tile].add(i)
            dirty.append(op_cache[i][2])
        if buffer is None:
            frame = canvas.base.copy()
            if reuse:
                buffer = frame
        else:
            # The frame before differs from the still picture only in its ``touched``
            # (now in changed_boxes, with where the still picture itself changed).
            frame = buffer
            for x0, y0, x1, y1 in changed_boxes:
                frame[y0:y1, x0:x1] = canvas.base[y0:y1, x0:x1]
        touched = merge_rects(dirty)
        found = [in_rect(base_tiles, rect, moving_texts) & current for rect in touched]
        pos = _positions(ids, set().union(*found))  # the frame's own order of its texts
        # A rectangle's pixels are those of the operations it draws (Canvas.paint): the
        # shapes they come from, and the texts, are its key among those painted before.
        if scene.recurs:
            of_under, of_over = owners(f.under), owners(over_ops)
        for rect, texts in zip(touched, found):
            texts = sorted(texts, key=pos.__getitem__)
            x0, y0, x1, y1 = rect
            key = None
            if scene.recurs:
                key = (rect, of_under[under.overlapping(x0, y0, x1, y1)].tobytes(),
                       of_over[over.overlapping(x0, y0, x1, y1)].tobytes(),
                       persist.overlapping(x0, y0, x1, y1).tobytes(), tuple(texts))
                got = painted.get(key)
                if got is not None:
                    frame[y0:y1, x0:x1] = got
                    continue
            canvas.paint(frame, [rect], [low, under, persist, high, over, ops_of_ids(texts)])
            if key is not None:
                painted.put(key, frame[y0:y1, x0:x1].copy())
        touched += edges.draw(frame, edge_ops)
        touched.append(canvas.lines(frame, f.lines, scene.line_colour, cover, scene.line_width))
        if (f.lines or edge_ops) and (in_base or moving):
            # Text stays on top: restamp the items a connecting line or an edge crosses
            # (the iso view without numbers has none: its lines' tiles are not walked).
            near: set = set()
            for tile in line_tiles(f.lines, edge_ops):
                near |= base_tiles.get(tile, _NONE)
                near |= moving_texts.get(tile, _NONE)
            near_texts = [op_cache[i][0] for i in in_order(ids, near & current)]
            touched += canvas.stamps(frame, crossed_texts(near_texts, f.lines, edge_ops))
        touched = [b for b in touched if b is not None]
        previous = current
        rects = box = None  # the first frame drawn: no frame before it here
        if step > start:
            rects = tuple(changed_boxes + touched)
            box = _union(rects)
        yield canvas.image(frame, Changed(run, step, (canvas.w, canvas.h), box, rects))


def split_edges(f: Frame) -> tuple[tuple, tuple]:
    """The frame's ``over`` shapes drawn supersampled, and its edge strokes (Frame.edges),
    drawn after them straight onto the frame (:class:`convanim.backends.raster.edges.Edges`)."""
    if not f.edges:
        return f.over, ()
    cut = len(f.over) - f.edges
    return f.over[:cut], f.over[cut:]


def segments_of(shapes) -> list[tuple[Point, Point]]:
    """The straight pieces of ``shapes`` (for the texts they cross, which stay on top)."""
    return [piece for s in shapes for piece in pieces_of(s.points, s.closed)]


def in_order(ids: list, wanted) -> list:
    """The ids of ``wanted`` in the order of ``ids`` (one pass in C over the list)."""
    if not wanted:
        return []
    wanted = wanted if isinstance(wanted, (set, frozenset)) else set(wanted)
    return list(compress(ids, map(wanted.__contains__, ids)))


def _positions(ids: list, wanted: set) -> dict:
    return {i: n for n, i in enumerate(in_order(ids, wanted))}


def _inside(rect: Box | None, rects: list) -> bool:
    """Is ``rect`` within one of ``rects``?"""
    return rect is None or any(r[0] <= rect[0] and r[1] <= rect[1] and rect[2] <= r[2]
                               and rect[3] <= r[3] for r in rects)


def frames(scene: Scene, changed: bool = False, start: int = 0,
           reuse: bool = False) -> Iterator[Image.Image]:
    """One P-mode image per frame of ``scene``, all sharing :func:`palette_colours`.

    ``changed`` keeps in each frame's ``info`` where it differs from the one before
    (:class:`convanim.changed.Changed`), for the GIF writer; frames handed to users
    go without it. ``start``: from that frame on (the same pixels as from 0), for
    a worker rendering part of the frames (:mod:`convanim.parallel`). ``reuse``: each
    image shares one buffer, redrawn for the next frame, which saves copying the still
    picture per frame; for a consumer done with a frame before it takes the next (the
    GIF writer), never for frames handed to users.
    """
    if scene.crisp:
        yield picture(scene)
        return
    canvas = Canvas(scene.size, scene.theme, text=scene.has_text, extra=scene.colours)
    for image in _animate(canvas, scene, start, reuse):
        if not changed:
            del image.info[CHANGED]
        yield image


def frame_image(scene: Scene, step: int) -> Image.Image:
    """Frame ``step`` (from 0) alone, drawn in one pass at the cost of one frame, not of
    all the frames before it. It is that frame of :func:`frames` but for a shade on a
    few anti-aliased edge pixels: Pillow rounds a polygon's edge by where the drawing
    that holds it starts, and the animation draws each frame's rectangles elsewhere."""
    if scene.crisp:
        return picture(scene)
    still = scene.still(step)  # IndexError naming the range when there is no such frame
    cut = len(still.shapes) - still.edges
    edge_ops = still.shapes[cut:]
    shapes, texts = Ops(), Ops()
    for op in still.shapes[:cut]:
        shapes.add(op)
    for op in still.texts:
        texts.add(op)
    canvas = Canvas(scene.size, scene.theme, text=scene.has_text, extra=scene.colours)
    canvas.paint(canvas.base, canvas.bands(), [shapes, texts])
    lines = still.connectors  # whole: the raster hides them under the cover itself
    cover = _parallelogram_cover(*scene.cover) if scene.cover else (lambda x, y: 0.0)
    Edges(canvas).draw(canvas.base, edge_ops)
    canvas.lines(canvas.base, lines, scene.line_colour, cover, scene.line_width)
    # Text stays on top, as in the animation.
    for e in crossed_texts(still.texts, lines, edge_ops):
        canvas.stamp(canvas.base, e)
    return canvas.image(canvas.base)


# Crisp scenes (the matrix figure): flat boxes and text, drawn at 1x. -------------

def picture(scene: Scene) -> Image.Image:
    """RGB image of a crisp scene's still picture: rectangles, polylines, baseline text."""
    img = Image.new("RGB", scene.size, scene.background)
    draw = ImageDraw.Draw(img)
    for op in scene.low + scene.high:
        if isinstance(op, Text):
            draw.text((op.x, op.y), op.text, font=_font(round(op.size), op.face), fill=op.colour,
                      anchor=op.anchor)
        elif op.closed:
            xs = [p[0] for p in op.points]
            ys = [p[1] for p in op.points]
            box = [min(xs), min(ys), max(xs), max(ys)]
            if op.fill is not None:
                draw.rectangle(box, fill=op.fill)
            if op.stroke is not None:
                draw.rectangle(box, outline=op.stroke, width=round(op.width))
        else:
            draw.line(list(op.points), fill=op.stroke, width=round(op.width),
                      joint="curve" if op.round else None)
    return img

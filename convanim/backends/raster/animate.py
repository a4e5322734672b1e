"""Frames of a scene: the still picture once, then per frame only the tiles that change."""

from __future__ import annotations

from collections import defaultdict
from itertools import count
from typing import Iterator

from PIL import Image, ImageDraw

from ...changed import CHANGED, Changed
from ...layout import Point
from ...scene import Frame, Scene, Text
from ...textfit import font as _font
from .canvas import Canvas, _parallelogram_cover
from .ops import TILE, Box, Ops


def _crosses(rect, p0: Point, p1: Point, margin: float = 2.0) -> bool:
    """Does segment p0-p1 pass within ``margin`` px of the box ``rect``?"""
    x0, y0, x1, y1 = rect[0] - margin, rect[1] - margin, rect[2] + margin, rect[3] + margin
    (ax, ay), (bx, by) = p0, p1
    t0, t1 = 0.0, 1.0
    for p, q in ((-(bx - ax), ax - x0), (bx - ax, x1 - ax), (-(by - ay), ay - y0), (by - ay, y1 - ay)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def _union(boxes: list[Box]) -> Box:
    """The smallest box holding ``boxes``; an empty box when there are none."""
    if not boxes:
        return (0, 0, 0, 0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


_RUNS = count()  # tells one _animate's frames from another's
_NONE: frozenset = frozenset()


def line_tiles(lines) -> set:
    """The tiles that segments ``lines`` pass through or near (as :meth:`Ops.tiles` finds them)."""
    ops = Ops()
    for p0, p1 in lines:
        ops.seg(p0, p1, (0, 0, 0), 1.0)
    return ops.tiles(1 << 30, 1 << 30)


def _animate(canvas: Canvas, scene: Scene) -> Iterator[Image.Image]:
    """Frames as the still picture plus the tiles that each frame's operations touch.

    Z-order as in :mod:`convanim.scene`. Text that stays put for two frames is
    painted into the still picture, and painted out again when it goes, so a
    frame redraws only what changes.
    """
    run = next(_RUNS)
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
    op_cache: dict[int, tuple[object, Ops]] = {}

    def drawn(e) -> Ops:
        hit = op_cache.get(id(e))
        if hit is None:
            ops = Ops()
            ops.add(e)
            ops.tiles(canvas.ncols, canvas.nrows)
            hit = op_cache[id(e)] = (e, ops)
        return hit[1]

    def ops_of(elements) -> Ops:
        out = Ops()
        for e in elements:
            out.extend(drawn(e))
        return out

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

    def repaint_base(tiles) -> list[Box]:
        rects = canvas.tile_rects(tiles)
        for rect in rects:
            texts = sorted(in_rect(base_tiles, rect), key=in_base.__getitem__)
            canvas.paint(canvas.base, [rect], [low, persist, high, ops_of_ids(texts)])
        return rects

    def tiles_of(i: int):
        return op_cache[i][1].tiles(canvas.ncols, canvas.nrows)

    canvas.keep(low)
    canvas.paint(canvas.base, canvas.bands(), [low, persist, high])
    previous: set = set()
    touched: list[Box] = []  # where the last frame differs from the still picture
    for step in range(scene.n_frames):
        f: Frame = scene.frame(step)
        under, over, fresh = ops_of(f.under), ops_of(f.over), ops_of(f.fresh)
        # This frame differs from the last only where either differs from the still
        # picture, or where the still picture itself changes.
        changed_boxes = list(touched)
        touched = []
        ids = list(map(id, f.texts))
        current = set(ids)
        new = current - op_cache.keys()
        if new:
            for e in f.texts:
                if id(e) in new:
                    drawn(e)
        gone = in_base.keys() - current
        settled = (current & previous) - in_base.keys()
        pos = dict(zip(ids, range(len(ids))))  # the frame's own order of its texts
        if fresh.ops or gone or settled:
            persist.extend(fresh)
            tiles = set(fresh.tiles(canvas.ncols, canvas.nrows))
            for i in gone:
                del in_base[i]
                for tile in tiles_of(i):
                    base_tiles[tile].discard(i)
                tiles |= tiles_of(i)
            for i in sorted(settled, key=pos.__getitem__):  # in the frame's order, as drawn
                in_base[i] = next(entered)
                for tile in tiles_of(i):
                    base_tiles[tile].add(i)
                tiles |= tiles_of(i)
            changed_boxes += repaint_base(tiles)
        moving_tiles: dict = defaultdict(set)
        dirty = set()
        for i in current - in_base.keys():
            for tile in tiles_of(i):
                moving_tiles[tile].add(i)
                dirty.add(tile)
        for layer in (under, over):
            dirty |= layer.tiles(canvas.ncols, canvas.nrows)
        frame = canvas.base.copy()
        touched = canvas.tile_rects(dirty)
        for rect in touched:
            texts = sorted(in_rect(base_tiles, rect, moving_tiles), key=pos.__getitem__)
            canvas.paint(frame, [rect], [low, under, persist, high, over, ops_of_ids(texts)])
        touched.append(canvas.lines(frame, f.lines, scene.line_colour, cover, scene.line_width))
        if f.lines:
            # Text stays on top: restamp the items a connecting line crosses.
            near: set = set()
            for tile in line_tiles(f.lines):
                near |= base_tiles.get(tile, _NONE)
                near |= moving_tiles.get(tile, _NONE)
            for i in sorted(near, key=pos.__getitem__):
                e = op_cache[i][0]
                if isinstance(e, Text) and any(_crosses(e.rect, p0, p1) for p0, p1 in f.lines):
                    touched.append(canvas.stamp(frame, e))
        touched = [b for b in touched if b is not None]
        previous = current
        box = _union(changed_boxes + touched) if step else None
        yield canvas.image(frame, Changed(run, step, (canvas.w, canvas.h), box))


def frames(scene: Scene, changed: bool = False) -> Iterator[Image.Image]:
    """One P-mode image per frame of ``scene``, all sharing :func:`palette_colours`.

    ``changed`` keeps in each frame's ``info`` where it differs from the one before
    (:class:`convanim.changed.Changed`), for the GIF writer; frames handed to users
    go without it.
    """
    if scene.crisp:
        yield picture(scene)
        return
    canvas = Canvas(scene.size, scene.theme, text=scene.has_text, extra=scene.colours)
    for image in _animate(canvas, scene):
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
    shapes, texts = Ops(), Ops()
    for op in still.shapes:
        shapes.add(op)
    for op in still.texts:
        texts.add(op)
    canvas = Canvas(scene.size, scene.theme, text=scene.has_text, extra=scene.colours)
    canvas.paint(canvas.base, canvas.bands(), [shapes, texts])
    lines = still.connectors  # whole: the raster hides them under the cover itself
    cover = _parallelogram_cover(*scene.cover) if scene.cover else (lambda x, y: 0.0)
    canvas.lines(canvas.base, lines, scene.line_colour, cover, scene.line_width)
    for e in still.texts:  # text stays on top, as in the animation
        if isinstance(e, Text) and any(_crosses(e.rect, p0, p1) for p0, p1 in lines):
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

"""The fixed palette of a picture and exact nearest-colour mapping onto it (no dithering)."""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np
from PIL import Image

from ...theme import RGB, Theme

# The opacities the connecting lines are blended at: 1/3 and 2/3 (canvas.Canvas.lines).
LINE_LEVELS = 3


def _base(theme: Theme, text: bool, extra: tuple[RGB, ...]) -> list[RGB]:
    """The palette's first entries: the theme's shape colours, ``extra`` ones (a scene's
    own, :attr:`convanim.scene.Scene.colours`), then with ``text`` the text colours."""
    shapes = theme.colours()
    shapes += [c for c in dict.fromkeys(tuple(c) for c in extra) if c not in shapes]
    texts = [c for c in theme.text_colours() if c not in shapes] if text else []
    return shapes + texts


def _ramps(theme: Theme, text: bool, extra: tuple[RGB, ...]) -> list[tuple[RGB, RGB, int]]:
    """(a, b, steps): the blends of the palette after its first entries, in order.

    Every pair of the theme's colours, as many steps each as fit. An ``extra`` colour is
    blended only with the colours it is drawn next to (background, grid line, the maps'
    fills and highlights, the connecting lines), three steps to the grid line and one to
    the others, so that the theme's own pairs keep two or more steps with 8 extra colours.
    With extra colours and a transparent background, the background's ramp to the
    connecting lines' colour holds the lines' opacities exactly (steps + 1 a multiple
    of :data:`LINE_LEVELS`): else a line's edge maps to the nearest opaque blend of
    some other pair, a light halo on the page, not to the line's colour at partial alpha.
    """
    base = _base(theme, text, extra)
    own = [c for c in base if c not in theme.colours() and c not in theme.text_colours()]
    partners = list(dict.fromkeys((theme.background, theme.line, theme.output_empty,
                                   theme.input, theme.input_hl, theme.padding_hl,
                                   theme.connector)))
    more = [(p, e, 3 if p == theme.line else 1) for e in own for p in partners]
    pairs = list(combinations([c for c in base if c not in own], 2))
    room = 255 - len(base) - sum(n for _, _, n in more)
    steps = max(1, room // max(1, len(pairs)))
    line = (theme.background, theme.connector)
    line_steps = steps
    if theme.transparent and own and line in pairs and (steps + 1) % LINE_LEVELS:
        # Up to the next multiple if the palette has room for it, else down (at least
        # LINE_LEVELS - 1 steps). Other palettes are left as they were: on an opaque
        # background the nearest blend is a near colour, not a change of opacity.
        up = -(-(steps + 1) // LINE_LEVELS) * LINE_LEVELS - 1
        down = max(LINE_LEVELS - 1, (steps + 1) // LINE_LEVELS * LINE_LEVELS - 1)
        line_steps = up if room - steps * len(pairs) >= up - steps else down
    return [(a, b, line_steps if (a, b) == line else steps) for a, b in pairs] + more


def palette_colours(theme: Theme, text: bool = False, extra: tuple[RGB, ...] = ()) -> np.ndarray:
    """(256, 3) palette: the theme's colours, then evenly spaced blends of each pair.

    ``text`` adds the text colours (for pictures with numbers or captions), so
    text and its anti-aliased edges against every fill are in the palette;
    ``extra`` colours join the theme's, blended with their neighbours (:func:`_ramps`).
    At most 255 entries are distinct: the last repeats the first, so no pixel maps
    to it and a GIF can use it as its transparent index (writer.write_gif).
    """
    colours = [tuple(c) for c in _base(theme, text, extra)]
    for a, b, steps in _ramps(theme, text, extra):
        for n in range(1, steps + 1):
            t = n / (steps + 1)
            colours.append(tuple(round(x + (y - x) * t) for x, y in zip(a, b)))
    colours = colours[:255]
    colours += [colours[0]] * (256 - len(colours))
    return np.array(colours, dtype=np.int32)


def palette_alpha(theme: Theme, text: bool = False, extra: tuple[RGB, ...] = ()) -> np.ndarray:
    """(256, 4) RGBA of each entry of :func:`palette_colours` for a transparent background.

    The background (entry 0) is clear; a blend of the background and colour X at t
    is X at opacity t, so an anti-aliased edge fades into whatever page is behind
    it; every other entry is opaque.
    """
    rgb = palette_colours(theme, text, extra)
    out = np.concatenate([rgb, np.full((256, 1), 255)], axis=1).astype(np.uint8)
    out[0, 3] = 0
    base = _base(theme, text, extra)
    at = len(base)
    for a, b, steps in _ramps(theme, text, extra):
        for n in range(1, steps + 1):
            if at < 255 and a == base[0]:
                out[at, :3], out[at, 3] = b, round(255 * n / (steps + 1))
            at += 1
    out[255] = out[0]
    return out


class PaletteMap:
    """Exact nearest-colour mapping onto a fixed palette, no dithering.

    Pillow's own palette conversion looks colours up in a coarse cache and can
    shift an exact theme colour to a neighbouring blend; this maps every
    colour to its true nearest entry, remembering each answer in a table
    indexed by the 24-bit colour (index + 1; 0 = not yet known). The table is
    allocated zeroed, so only the pages of colours that occur use memory.
    """

    def __init__(self, colours: np.ndarray, opaque: np.ndarray | None = None):
        self.colours = colours
        self._colours_f = colours.astype(np.float64)  # the entries, as _mixed reads them
        # With a transparent background, which entries are opaque: a blend over one of them
        # is looked up among them alone (see blend).
        self.opaque = opaque
        self._opaque_map: PaletteMap | None = None
        self._levels: dict = {}  # (colour, levels) -> blends at each level (see levels)
        self.flat = [int(v) for v in colours.ravel()]
        # index + 1 fits a byte: the last index is never an answer (palette_colours).
        self._known = np.zeros(1 << 24, dtype=np.uint8)
        # Per channel, a (1, 256) row of -2 * the entries' values, and their squared norms:
        # whole numbers, so the distances below are exact in int32.
        c = colours.astype(np.int32)
        self._minus2 = [(-2 * c[:, ch])[None, :] for ch in range(3)]
        self._norms = (c * c).sum(axis=1, dtype=np.int32)[None, :]

    def __call__(self, img: Image.Image) -> Image.Image:
        out = Image.frombytes("P", img.size, self.indices(img).tobytes())
        out.putpalette(self.flat)
        return out

    def indices(self, img: Image.Image) -> np.ndarray:
        """(H, W) uint8 palette index of each pixel of an RGB image."""
        # One C call packs each pixel into a little-endian word: R | G << 8 | B << 16.
        packed = np.frombuffer(img.tobytes("raw", "RGBX"), dtype="<u4") & 0xFFFFFF
        return self._lookup(packed).reshape(img.size[1], img.size[0])

    def indices_rgb(self, a: np.ndarray) -> np.ndarray:
        """Palette index of each colour of an (..., 3) array of 0..255 values."""
        a = a.astype(np.uint32)
        return self._lookup(a[..., 0] | (a[..., 1] << 8) | (a[..., 2] << 16))

    def blend(self, index: np.ndarray, colour: RGB, alpha: np.ndarray) -> np.ndarray:
        """Palette indices of ``colour`` laid over the colours of ``index`` with ``alpha`` (0..1).

        With a transparent background, where ``index`` is opaque the answer is an opaque
        entry: a light fill blended with text is near the background's blends with it,
        which are the text at partial opacity, and would show the page through the fill."""
        mixed = self._mixed(index, np.array(colour, dtype=np.float64), alpha)
        got = self.indices_rgb(mixed)
        if self.opaque is not None:
            over = self.opaque[index]
            if over.any():
                got[over] = self.opaque_indices(mixed[over])
        return got

    def levels(self, colour: RGB, levels: int) -> np.ndarray:
        """(levels + 1) * 256 indices, flat: entry k * 256 + i is :meth:`blend` of entry i
        with ``colour`` at opacity k / levels, the same arithmetic, made once per colour.
        Lines are blended at a few opacities: a lookup per pixel, not a mix and a search."""
        key = (tuple(colour), levels)
        got = self._levels.get(key)
        if got is None:
            index = np.tile(np.arange(256, dtype=np.intp), levels + 1)
            alpha = np.repeat(np.arange(levels + 1) / levels, 256)
            got = self._levels[key] = self.blend(index, colour, alpha).astype(np.uint8)
        return got

    def opaque_indices(self, rgb: np.ndarray) -> np.ndarray:
        """The nearest opaque entry to each (n, 3) colour (a transparent background's palette)."""
        return self._opaque().indices_rgb(rgb)

    def _opaque(self) -> "PaletteMap":
        if self._opaque_map is None:
            # Its entries' indices are ours; the others are moved out of reach.
            far = np.where(self.opaque[:, None], self.colours, 1 << 12)
            self._opaque_map = PaletteMap(far.astype(np.int32))
        return self._opaque_map

    def blend_each(self, index: np.ndarray, colours: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """:meth:`blend` with a colour per entry: (n,) indices, (n, 3) colours, (n,) alpha."""
        return self._mix(index, colours, alpha)

    def _mix(self, index: np.ndarray, colours: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        # ``colours``: (3,) for every entry, or one (3,) row per entry; one palette lookup.
        return self.indices_rgb(self._mixed(index, colours, alpha))

    def _mixed(self, index: np.ndarray, colours: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        under = self._colours_f.take(index, axis=0)
        return np.rint(under + (colours - under) * alpha[..., None]).astype(np.int32)

    # Colours looked up at once: (CHUNK, 256) int32 distances, 4 MB.
    CHUNK = 4096

    def _lookup(self, packed: np.ndarray) -> np.ndarray:
        # take, not indexing: half the time of numpy's general fancy indexing a frame.
        found = self._known.take(packed)
        if not found.all():
            missing = found == 0
            # The distinct colours, sorted (np.unique would import numpy.ma, 13 ms a process).
            new = np.sort(packed[missing])
            new = new[np.concatenate(([True], new[1:] != new[:-1]))]
            for at in range(0, new.size, self.CHUNK):
                part = new[at:at + self.CHUNK]
                self._known[part] = self.nearest(part) + 1
            found = self._known.take(packed)
        found -= 1
        return found

    def nearest(self, packed: np.ndarray) -> np.ndarray:
        """Index of the nearest entry to each packed colour (R | G << 8 | B << 16).

        |rgb - c|^2 less |rgb|^2, the same for every c: |c|^2 - 2 rgb.c, in int32
        broadcasting (no matrix product: BLAS would start its thread pool, which
        spins on the other cores after every call). Exact, so ties go to the lowest
        index, as argmin takes the first.
        """
        packed = packed.astype(np.int32)
        m2r, m2g, m2b = self._minus2
        dist = self._norms + (packed & 255)[:, None] * m2r
        dist += ((packed >> 8) & 255)[:, None] * m2g
        dist += (packed >> 16)[:, None] * m2b
        return dist.argmin(axis=1).astype(np.uint8)


def palette_map(theme: Theme, text: bool = False, extra: tuple[RGB, ...] = ()) -> PaletteMap:
    """The :class:`PaletteMap` of :func:`palette_colours`, one per palette in a process:
    figures of one theme share it, and with it the colours already looked up (a still
    picture's first lookup finds each of its colours' nearest entries; making the
    palette takes a few ms too). Each map's table is 16 MB of address space, only the
    pages of colours met in memory."""
    return _palette_map(theme, bool(text), tuple(tuple(map(int, c)) for c in extra))


@lru_cache(maxsize=4)
def _palette_map(theme: Theme, text: bool, extra: tuple[RGB, ...]) -> PaletteMap:
    opaque = palette_alpha(theme, text, extra)[:, 3] == 255 if theme.transparent else None
    return PaletteMap(palette_colours(theme, text, extra), opaque)

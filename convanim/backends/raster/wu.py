"""Straight lines as per-pixel coverage at 1x: Xiaolin Wu's method, vectorised.

A line drawn this way costs no supersampled pixels: its coverage is blended straight
onto a frame's palette indices (:meth:`convanim.backends.raster.canvas.Canvas.blend_cover`).
The connecting lines are drawn so, and a frame's edge strokes (:mod:`.edges`).
"""

from __future__ import annotations

import numpy as np


def coverage_many(segs: np.ndarray, span: float | np.ndarray = 1.0) -> tuple[np.ndarray, ...]:
    """:func:`coverage` of many segments at once, the same numbers: ``segs`` (n, 4) rows
    x0, y0, x1, y1, ``span`` one for all or one per row; (rows, columns, coverage, the
    segment of each entry). A frame's new edges are a hundred short dashes, its
    connecting lines a dozen pieces: one pass, not a few numpy calls per piece."""
    x0, y0, x1, y1 = segs.T
    steep = np.abs(y1 - y0) > np.abs(x1 - x0)
    x0, y0, x1, y1 = (np.where(steep, y0, x0), np.where(steep, x0, y0),
                      np.where(steep, y1, x1), np.where(steep, x1, y1))
    back = x1 < x0
    x0, y0, x1, y1 = (np.where(back, x1, x0), np.where(back, y1, y0),
                      np.where(back, x0, x1), np.where(back, y0, y1))
    first_major = np.floor(x0 - 0.5).astype(np.int64) + 1
    counts = np.maximum(np.floor(x1 - 0.5).astype(np.int64) + 1 - first_major, 0)
    seg = np.repeat(np.arange(len(segs)), counts)
    starts = np.cumsum(counts) - counts
    major = first_major[seg] + (np.arange(len(seg)) - starts[seg])
    run = x1 - x0
    slope = np.divide(y1 - y0, run, out=np.zeros_like(run), where=run != 0)
    minor = y0[seg] + (major + 0.5 - x0[seg]) * slope[seg] - 0.5
    if np.isscalar(span) and span == 1:  # Wu's two pixels per step, as coverage() takes them
        base = np.floor(minor).astype(np.int64)
        frac = minor - base
        ms, ns = np.concatenate([major, major]), np.concatenate([base, base + 1])
        w = np.concatenate([1 - frac, frac])
        k = 2
    else:
        spans = np.broadcast_to(np.asarray(span, dtype=np.float64), (len(segs),))
        sp = spans[seg]
        lo = minor + 0.5 - sp / 2
        first = np.floor(lo).astype(np.int64)
        k = int(np.ceil(spans.max())) + 1 if len(spans) else 1
        ns = (first[None, :] + np.arange(k)[:, None]).ravel()
        ms = np.tile(major, k)
        los, sp = np.tile(lo, k), np.tile(sp, k)
        w = np.clip(np.minimum(ns + 1, los + sp) - np.maximum(ns, los), 0.0, 1.0)
    st = np.tile(steep[seg], k)
    return np.where(st, ms, ns), np.where(st, ns, ms), w, np.tile(seg, k)

"""Straight lines as per-pixel coverage at 1x: Xiaolin Wu's method, vectorised.

A line drawn this way costs no supersampled pixels: its coverage is blended straight
onto a frame's palette indices (:meth:`convanim.backends.raster.canvas.Canvas.blend_cover`).
The connecting lines are drawn so, and a frame's edge strokes (:mod:`.edges`).
"""

from __future__ import annotations

import numpy as np


def coverage_many(segs: np.ndarray, span: float | np.ndarray = 1.0) -> tuple[np.ndarray, ...]:
    """The pixels segments cover and how much: ``segs`` (n, 4) rows x0, y0, x1, y1 in
    canvas px, each ``span`` px across its minor axis (one for all, or one per row);
    (rows, columns, coverage 0..1, the segment of each entry).

    Each segment is sampled at the pixel centres along its major axis; at each sample
    a pixel across it gets its overlap with the span centred on the line (span 1:
    Wu's split between the two nearest pixels). All segments in one pass: a frame's
    new edges are a hundred short dashes, its connecting lines a dozen pieces.
    """
    x0, y0, x1, y1 = segs.T
    steep = np.abs(y1 - y0) > np.abs(x1 - x0)
    x0, y0, x1, y1 = (np.where(steep, y0, x0), np.where(steep, x0, y0),
                      np.where(steep, y1, x1), np.where(steep, x1, y1))
    back = x1 < x0
    x0, y0, x1, y1 = (np.where(back, x1, x0), np.where(back, y1, y0),
                      np.where(back, x0, x1), np.where(back, y0, y1))
    # Pixel centres sit at +0.5: the samples are the centres between the two ends.
    first_major = np.floor(x0 - 0.5).astype(np.int64) + 1
    counts = np.maximum(np.floor(x1 - 0.5).astype(np.int64) + 1 - first_major, 0)
    seg = np.repeat(np.arange(len(segs)), counts)
    starts = np.cumsum(counts) - counts
    major = first_major[seg] + (np.arange(len(seg)) - starts[seg])
    run = x1 - x0
    slope = np.divide(y1 - y0, run, out=np.zeros_like(run), where=run != 0)
    minor = y0[seg] + (major + 0.5 - x0[seg]) * slope[seg] - 0.5
    if np.isscalar(span) and span == 1:  # the connecting lines: two pixels a sample
        base = np.floor(minor).astype(np.int64)
        frac = minor - base
        ms, ns = np.concatenate([major, major]), np.concatenate([base, base + 1])
        w = np.concatenate([1 - frac, frac])
        steep, seg = np.tile(steep[seg], 2), np.tile(seg, 2)
    else:
        sp = np.broadcast_to(np.asarray(span, dtype=np.float64), (len(segs),))[seg]
        lo = minor + 0.5 - sp / 2
        first = np.floor(lo).astype(np.int64)
        # The pixels [lo, lo + span) meets, first to last: as many entries as pixels.
        many = np.floor(lo + sp).astype(np.int64) - first + 1
        at = np.repeat(np.arange(len(lo)), many)
        ns = first[at] + (np.arange(len(at)) - (np.cumsum(many) - many)[at])
        ms, lo, sp = major[at], lo[at], sp[at]
        w = np.clip(np.minimum(ns + 1, lo + sp) - np.maximum(ns, lo), 0.0, 1.0)
        steep, seg = steep[seg][at], seg[at]
    return np.where(steep, ms, ns), np.where(steep, ns, ms), w, seg

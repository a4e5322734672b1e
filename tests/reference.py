"""An independent reference of the definitions: plain loops, no numpy tricks.

Written from the formulas in PyTorch's documentation, not from the engine, so a
test that compares the two can fail.
"""

from __future__ import annotations

import math


def conv_out(i, k, s, p, d):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def tconv_out(i, k, s, p, d, a):
    return (i - 1) * s - 2 * p + d * (k - 1) + a + 1


def conv2d_products(ih, iw, kh, kw, s, p, d):
    """Set of ((iy, ix), (ky, kx), (oy, ox)) of out[oy,ox] += w[ky,kx] * x[oy*s+ky*d-p, ...]."""
    oh, ow = conv_out(ih, kh, s[0], p[0], d[0]), conv_out(iw, kw, s[1], p[1], d[1])
    prods = []
    for oy in range(oh):
        for ox in range(ow):
            for ky in range(kh):
                for kx in range(kw):
                    iy = oy * s[0] + ky * d[0] - p[0]
                    ix = ox * s[1] + kx * d[1] - p[1]
                    if 0 <= iy < ih and 0 <= ix < iw:
                        prods.append(((iy, ix), (ky, kx), (oy, ox)))
    return (oh, ow), prods


def tconv2d_products(ih, iw, kh, kw, s, p, d, a):
    """out[iy*s + ky*d - p, ix*s + kx*d - p] += x[iy,ix] * w[ky,kx], outside dropped."""
    oh = tconv_out(ih, kh, s[0], p[0], d[0], a[0])
    ow = tconv_out(iw, kw, s[1], p[1], d[1], a[1])
    prods = []
    for iy in range(ih):
        for ix in range(iw):
            for ky in range(kh):
                for kx in range(kw):
                    oy = iy * s[0] + ky * d[0] - p[0]
                    ox = ix * s[1] + kx * d[1] - p[1]
                    if 0 <= oy < oh and 0 <= ox < ow:
                        prods.append(((iy, ix), (ky, kx), (oy, ox)))
    return (oh, ow), prods


def apply(shape, prods, x, w):
    out = [[0.0] * shape[1] for _ in range(shape[0])]
    for (iy, ix), (ky, kx), (oy, ox) in prods:
        out[oy][ox] += float(x[iy][ix]) * float(w[ky][kx])
    return out


def pool(x, kh, kw, s, p, d, mode):
    """max: padding is -inf; avg: sum / (kh*kw), padding counted (count_include_pad=True)."""
    ih, iw = len(x), len(x[0])
    oh, ow = conv_out(ih, kh, s[0], p[0], d[0]), conv_out(iw, kw, s[1], p[1], d[1])
    out = [[0.0] * ow for _ in range(oh)]
    for oy in range(oh):
        for ox in range(ow):
            vals = []
            for ky in range(kh):
                for kx in range(kw):
                    iy = oy * s[0] + ky * d[0] - p[0]
                    ix = ox * s[1] + kx * d[1] - p[1]
                    inside = 0 <= iy < ih and 0 <= ix < iw
                    vals.append(float(x[iy][ix]) if inside else (-math.inf if mode == "max" else 0.0))
            out[oy][ox] = max(vals) if mode == "max" else sum(vals) / (kh * kw)
    return out


def conv2d_backward(x, w, g, s, p, d):
    """(dL/dx, dL/dw) of out = conv2d(x, w) for dL/dout = g, from the forward's products:
    each product w[k]*x[i] -> y[o] gives g[o]*w[k] to dx[i] and g[o]*x[i] to dw[k]."""
    ih, iw, kh, kw = len(x), len(x[0]), len(w), len(w[0])
    _, prods = conv2d_products(ih, iw, kh, kw, s, p, d)
    dx = [[0.0] * iw for _ in range(ih)]
    dw = [[0.0] * kw for _ in range(kh)]
    for (iy, ix), (ky, kx), (oy, ox) in prods:
        dx[iy][ix] += float(g[oy][ox]) * float(w[ky][kx])
        dw[ky][kx] += float(g[oy][ox]) * float(x[iy][ix])
    return dx, dw


def pool_backward(x, g, kh, kw, s, p, d, mode):
    """dL/dx of max/avg pooling: max sends g to the first maximum of the window in
    row-major order (PyTorch's CPU kernel keeps the first of equal values); avg sends
    g/(kh*kw) to every input cell of the window (count_include_pad=True)."""
    ih, iw = len(x), len(x[0])
    oh, ow = conv_out(ih, kh, s[0], p[0], d[0]), conv_out(iw, kw, s[1], p[1], d[1])
    dx = [[0.0] * iw for _ in range(ih)]
    for oy in range(oh):
        for ox in range(ow):
            best, where = -math.inf, None
            for ky in range(kh):
                for kx in range(kw):
                    iy = oy * s[0] + ky * d[0] - p[0]
                    ix = ox * s[1] + kx * d[1] - p[1]
                    if not (0 <= iy < ih and 0 <= ix < iw):
                        continue
                    if mode == "avg":
                        dx[iy][ix] += float(g[oy][ox]) / (kh * kw)
                    elif float(x[iy][ix]) > best:
                        best, where = float(x[iy][ix]), (iy, ix)
            if mode == "max" and where is not None:
                dx[where[0]][where[1]] += float(g[oy][ox])
    return dx


def conv2d_channel_products(cin, cout, groups, ih, iw, kh, kw, s, p, d):
    """Every ((ci, iy, ix), (co, j, ky, kx), (co, oy, ox)) of Conv2d with groups, from
    PyTorch's formula: out[co] = sum over the group's ci of w[co, ci - first] (*) x[ci]."""
    per_in, per_out = cin // groups, cout // groups
    oh, ow = conv_out(ih, kh, s[0], p[0], d[0]), conv_out(iw, kw, s[1], p[1], d[1])
    prods = []
    for co in range(cout):
        first = (co // per_out) * per_in
        for oy in range(oh):
            for ox in range(ow):
                for ci in range(first, first + per_in):
                    for ky in range(kh):
                        for kx in range(kw):
                            iy = oy * s[0] + ky * d[0] - p[0]
                            ix = ox * s[1] + kx * d[1] - p[1]
                            if 0 <= iy < ih and 0 <= ix < iw:
                                prods.append(((ci, iy, ix), (co, ci - first, ky, kx),
                                              (co, oy, ox)))
    return (cout, oh, ow), prods


def tconv2d_channel_products(cin, cout, groups, ih, iw, kh, kw, s, p, d, a):
    """Every ((ci, iy, ix), (ci, j, ky, kx), (co, oy, ox)) of ConvTranspose2d with groups:
    out[co, iy*s + ky*d - p, ...] += x[ci, iy, ix] * w[ci, co - first co of the group, ky, kx]."""
    per_in, per_out = cin // groups, cout // groups
    oh = tconv_out(ih, kh, s[0], p[0], d[0], a[0])
    ow = tconv_out(iw, kw, s[1], p[1], d[1], a[1])
    prods = []
    for ci in range(cin):
        first = (ci // per_in) * per_out
        for co in range(first, first + per_out):
            for iy in range(ih):
                for ix in range(iw):
                    for ky in range(kh):
                        for kx in range(kw):
                            oy = iy * s[0] + ky * d[0] - p[0]
                            ox = ix * s[1] + kx * d[1] - p[1]
                            if 0 <= oy < oh and 0 <= ox < ow:
                                prods.append(((ci, iy, ix), (ci, co - first, ky, kx),
                                              (co, oy, ox)))
    return (cout, oh, ow), prods


def apply_channels(shape, prods, x, w, b=None):
    """The output of channel products on nested lists, plus b[co] when given."""
    out = [[[0.0] * shape[2] for _ in range(shape[1])] for _ in range(shape[0])]
    for (ci, iy, ix), (e, f, ky, kx), (co, oy, ox) in prods:
        out[co][oy][ox] += float(x[ci][iy][ix]) * float(w[e][f][ky][kx])
    if b is not None:
        for co in range(shape[0]):
            for oy in range(shape[1]):
                for ox in range(shape[2]):
                    out[co][oy][ox] += float(b[co])
    return out

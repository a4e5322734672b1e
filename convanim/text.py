"""Numbers and sentences drawn on the picture, as plain strings (no Pillow).

Every string here is made from trace data handed in by the layouts, so what the
picture says is what the engine computed. :func:`fmt_num` is the one number
format used everywhere.
"""

from __future__ import annotations

from typing import Sequence

MAX_DECIMALS = 2


def fmt_num(v: float) -> str:
    """Whole numbers as integers, others with as few decimals as needed (at most 2).

    3.0 -> '3', 0.5 -> '0.5', 13/9 -> '1.44', -0.0 -> '0'.
    """
    v = float(v)
    for n in range(MAX_DECIMALS + 1):
        if abs(v - round(v, n)) <= 1e-9 * max(1.0, abs(v)):
            break
    text = f"{round(v, n):.{n}f}"
    return "0" if text.strip("-0.") == "" else text


def elided(terms: Sequence[str], sep: str, head: str = "", tail: str = "") -> tuple[str, ...]:
    """The joined terms, then ever shorter forms with the middle replaced by '...'.

    ``head + sep.join(terms) + tail`` first; then keeping n first terms and the
    last one for decreasing n; the renderer draws the first form that fits.
    """
    forms = [head + sep.join(terms) + tail]
    for n in range(len(terms) - 2, 0, -1):
        forms.append(head + sep.join(list(terms[:n]) + ["...", terms[-1]]) + tail)
    if len(terms) > 1:
        forms.append(head + "..." + tail)
    return tuple(dict.fromkeys(forms))


def product_sum(xs: Sequence[float], ws: Sequence[float], value: float) -> tuple[str, ...]:
    """'1*2 + 0*1 + ... = 7' for one gather step: input times weight of each real product."""
    terms = [f"{fmt_num(x)}*{fmt_num(w)}" for x, w in zip(xs, ws)]
    if not terms:
        return (f"0 = {fmt_num(value)}",)
    return elided(terms, " + ", "", f" = {fmt_num(value)}")


def max_of(xs: Sequence[float], value: float) -> tuple[str, ...]:
    """'max(1, 3, 0) = 3' for one max-pooling step."""
    return elided([fmt_num(x) for x in xs], ", ", "max(", f") = {fmt_num(value)}")


def mean_of(xs: Sequence[float], count: int, value: float) -> tuple[str, ...]:
    """'(1 + 3 + 0)/9 = 0.44' for one average-pooling step; padding adds 0 to the sum."""
    terms = [fmt_num(x) for x in xs] or ["0"]
    return elided(terms, " + ", "(", f")/{count} = {fmt_num(value)}")


def scatter_products(x: float, ws: Sequence[float], products: Sequence[float]) -> tuple[str, ...]:
    """'2*1=2, 2*0=0, ... added to the output' for one scatter step."""
    terms = [f"{fmt_num(x)}*{fmt_num(w)}={fmt_num(p)}" for w, p in zip(ws, products)]
    if not terms:
        return (f"{fmt_num(x)}: every product falls outside the output",)
    return elided(terms, ", ", "", " added to the output")

"""Numbers and sentences drawn on the picture, as plain strings (no Pillow).

Every string here is made from trace data handed in by the layouts, so what the
picture says is what the engine computed. :func:`fmt_num` is the one number
format; :class:`NumberFormat` fixes its decimals once per figure and grid, so a
grid's numbers keep one width from cell to cell. Typography: a real minus sign
(U+2212), x (U+00D7) for products, an ellipsis (U+2026) where terms are left out,
sigma where the short form names a sum.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MAX_DECIMALS = 2
MINUS, TIMES, ELLIPSIS, SIGMA, ARROW = "\u2212", "\u00d7", "\u2026", "\u03a3", "\u2192"


def decimals_of(v: float) -> int:
    """The fewest decimals (at most :data:`MAX_DECIMALS`) that show ``v`` exactly."""
    for n in range(MAX_DECIMALS):
        if abs(v - round(v, n)) <= 1e-9 * max(1.0, abs(v)):
            return n
    return MAX_DECIMALS


def factor(v: float, decimals: int | None = None) -> str:
    """A number as the right operand of ×: negative ones in parentheses, '2×(−1)'."""
    text = fmt_num(v, decimals)
    return f"({text})" if text.startswith(MINUS) else text


def fmt_num(v: float, decimals: int | None = None) -> str:
    """``v`` with ``decimals`` decimals (None: as few as needed, at most 2), minus as U+2212.

    3.0 -> '3', 0.5 -> '0.5', 13/9 -> '1.44', -2 -> '−2', -0.0 -> '0';
    with decimals=1: 3.0 -> '3.0'.
    """
    return _fmt_num(float(v), decimals)


@lru_cache(maxsize=1 << 14)  # frames format the same few numbers again and again (their
# sum lines, each new text); -0.0 and 0.0, one key, have one text
def _fmt_num(v: float, decimals: int | None) -> str:
    n = decimals_of(v) if decimals is None else decimals
    text = f"{round(v, n):.{n}f}"
    if text.strip("-0.") == "":  # zero, or rounds to it: no sign, and no decimals unless fixed
        return "0" if decimals is None else f"{0:.{n}f}"
    return MINUS + text[1:] if text.startswith("-") else text


@dataclass(frozen=True)
class NumberFormat:
    """Decimals of one figure's numbers: the input grid's (padding zeros too), the
    weights', and the output grid's (running sums of the scatter view included)."""

    input: int = 0
    weight: int = 0
    output: int = 0

    @staticmethod
    def decimals(values: Iterable[float] | np.ndarray) -> int:
        """The decimals every value of ``values`` needs: the most any one needs (at most 2)."""
        a = np.asarray(list(values) if not isinstance(values, np.ndarray) else values,
                       dtype=np.float64).ravel()
        for n in range(MAX_DECIMALS):
            if np.all(np.abs(a - np.round(a, n)) <= 1e-9 * np.maximum(1.0, np.abs(a))):
                return n
        return MAX_DECIMALS

    @classmethod
    def of(cls, t) -> NumberFormat:
        """The format of trace ``t``'s figure: each grid's decimals from all its values."""
        out = [t.output]
        if t.spec.view == "scatter":
            out.append(t.tap_value)  # partial sums of products need no more decimals than these
        weight = cls.decimals(t.weight) if t.weight is not None else 0
        return cls(cls.decimals(t.input), weight,
                   cls.decimals(np.concatenate([np.ravel(a) for a in out])))

    def widest(self, kind: str, values) -> str | None:
        """The widest of ``values`` as ``kind`` writes them: most characters, then a minus."""
        texts = {fmt_num(v, self.of_kind(kind)) for v in np.ravel(values)}
        return max(texts, key=lambda s: (len(s), s.count(MINUS), s)) if texts else None

    def of_kind(self, kind: str) -> int:
        """Decimals of a text kind: input/padding, weight/kernel, output."""
        return {"input": self.input, "padding": self.input, "weight": self.weight,
                "kernel": self.weight}.get(kind, self.output)


PLAIN = NumberFormat()  # only for callers without a trace; figures use NumberFormat.of


def elided(terms: Sequence[str], sep: str, head: str = "", tail: str = "",
           short: str | None = None) -> tuple[str, ...]:
    """The joined terms, then ever shorter forms with the middle replaced by an ellipsis.

    ``head + sep.join(terms) + tail`` first; then keeping n first terms and the
    last one for decreasing n; then ``short`` (default: ``head + '…' + tail``);
    the renderer draws the first form that fits.
    """
    forms = [head + sep.join(terms) + tail]
    for n in range(len(terms) - 2, 0, -1):
        forms.append(head + sep.join(list(terms[:n]) + [ELLIPSIS, terms[-1]]) + tail)
    if len(terms) > 1:
        forms.append(short if short is not None else head + ELLIPSIS + tail)
    return tuple(dict.fromkeys(forms))


def product_sum(xs: Sequence[float], ws: Sequence[float], value: float,
                fmt: NumberFormat = PLAIN) -> tuple[str, ...]:
    """'1×2 + 0×1 + … = 7' for one gather step (input times weight of each real
    product); shortest 'Σ = 7'."""
    x, w, o = fmt.input, fmt.weight, fmt.output
    total = f" = {fmt_num(value, o)}"
    terms = [f"{fmt_num(a, x)}{TIMES}{factor(b, w)}" for a, b in zip(xs, ws)]
    if not terms:
        return (f"{fmt_num(0, o)}{total}",)
    return elided(terms, " + ", "", total, short=SIGMA + total)


def max_of(xs: Sequence[float], value: float, fmt: NumberFormat = PLAIN) -> tuple[str, ...]:
    """'max(1, 3, 0) = 3' for one max-pooling step."""
    return elided([fmt_num(v, fmt.input) for v in xs], ", ", "max(",
                  f") = {fmt_num(value, fmt.output)}")


def mean_of(xs: Sequence[float], count: int, value: float,
            fmt: NumberFormat = PLAIN) -> tuple[str, ...]:
    """'(1 + 3 + 0)/9 = 0.44' for one average-pooling step (padding adds 0 to the sum);
    shortest 'Σ/9 = 0.44'."""
    terms = [fmt_num(v, fmt.input) for v in xs] or [fmt_num(0, fmt.input)]
    tail = f")/{count} = {fmt_num(value, fmt.output)}"
    return elided(terms, " + ", "(", tail, short=f"{SIGMA}/{count} = {fmt_num(value, fmt.output)}")


def scatter_products(x: float, ws: Sequence[float], products: Sequence[float],
                     fmt: NumberFormat = PLAIN) -> tuple[str, ...]:
    """'2×1=2, 2×0=0, … added to the output' for one scatter step."""
    a = fmt_num(x, fmt.input)
    terms = [f"{a}{TIMES}{factor(w, fmt.weight)}={fmt_num(p, fmt.output)}"
             for w, p in zip(ws, products)]
    if not terms:
        return (f"{a}: every product falls outside the output",)
    return elided(terms, ", ", "", " added to the output")


def routed(g: float, cell: tuple[int, int] | None, fmt: NumberFormat = PLAIN) -> tuple[str, ...]:
    """'2 → dL/dx(1,0), the max of its window' for one step of max pooling's backward pass."""
    a = fmt_num(g, fmt.input)
    if cell is None:
        return (f"{a}: the window holds no input cell",)
    r, c = cell
    return (f"{a} {ARROW} dL/dx({r},{c}), the max of its window", f"{a} {ARROW} ({r},{c})")


def spread(g: float, count: int, cells: int, fmt: NumberFormat = PLAIN) -> tuple[str, ...]:
    """'2/4 = 0.5 to each of 4 cells' for one step of average pooling's backward pass
    (``cells`` of the window are input cells; the shares on padding are dropped)."""
    share = f"{fmt_num(g, fmt.input)}/{count} = {fmt_num(g / count, fmt.output)}"
    return (f"{share} to each of {cells} input cell{'s' if cells != 1 else ''}", share)


# Control and format characters and line separators: not glyphs. Text shaping refuses
# them, and a band holds one line, so they are drawn as spaces and need no font.
NOT_DRAWN = ("Cc", "Cf", "Zl", "Zp")


def one_line(text: str | None) -> str | None:
    """A title or caption as drawn: one line, the characters of :data:`NOT_DRAWN` as spaces."""
    if text is None:
        return None
    return "".join(" " if unicodedata.category(c) in NOT_DRAWN else c for c in text)

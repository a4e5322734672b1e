"""Size-like arguments, normalised once to (H, W) pairs at the edge.

Everything past this module sees ``Pair`` values only, never a bare int or a
string, the way PyTorch's ``Conv2d`` runs ``_pair`` on its arguments.
"""

from __future__ import annotations

import re
from typing import Union

Pair = tuple[int, int]
PairLike = Union[int, str, tuple[int, int], list[int]]

PADDING_WORDS = ("valid", "same", "full")


class SpecError(ValueError):
    """A parameter, or a combination of them, that convanim cannot draw.

    The message names the parameter, what was given and what is allowed, so
    the CLI can print it as one line.
    """


_SPLIT = re.compile(r"\s*[,xX]\s*")

# Every size, stride, padding, dilation and output_padding is at most this, checked before
# any arithmetic: far above anything that can be drawn, far below what overflows a C long
# or takes Python seconds to parse.
MAX_VALUE = 1_000_000


def to_pair(value: PairLike, name: str, *, minimum: int = 1) -> Pair:
    """``5`` -> (5, 5); ``"5,7"``, ``"5x7"``, ``(5, 7)`` -> (5, 7).

    Raises SpecError naming ``name`` when the value is not one or two whole
    numbers, or a number is below ``minimum``.
    """
    if isinstance(value, bool):
        raise SpecError(f"{name}: got {short(value)}; expected a whole number N or a pair H,W")
    if isinstance(value, int):
        items: list = [value]
    elif isinstance(value, str):
        text = value.strip()
        items = _SPLIT.split(text) if text else []
    elif isinstance(value, (tuple, list)):
        items = list(value)
    else:
        raise SpecError(f"{name}: got {short(value)}; expected a whole number N or a pair H,W")
    if len(items) not in (1, 2):
        raise SpecError(
            f"{name}: got {short(value)} ({len(items)} values); expected N or H,W (one or two values)"
        )
    numbers = []
    for item in items:
        number = _whole(item)
        if number is None:
            raise SpecError(f"{name}: got {short(value)}; expected whole numbers, as N or H,W")
        if number < minimum:
            raise SpecError(f"{name}: got {short(value)}; each value must be >= {minimum}")
        if number > MAX_VALUE:
            raise SpecError(f"{name}: got {short(value)}; each value must be at most "
                            f"{MAX_VALUE:,}")
        numbers.append(number)
    if len(numbers) == 1:
        numbers.append(numbers[0])
    return (numbers[0], numbers[1])


# A whole number as digits, optionally signed: the one rule for every integer a user types
# (sizes here, the CLI's integer options in commands.Whole).
WHOLE = re.compile(r"[+-]?\d+")


def _whole(item: object) -> int | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return item
    if isinstance(item, str) and WHOLE.fullmatch(item):
        # Digits beyond the bound are not parsed (int() of 5,000 digits raises).
        return int(item) if len(item.lstrip("+-0")) <= 12 else (MAX_VALUE + 1) * (-1 if item.startswith("-") else 1)
    return None


def short(value: object) -> str:
    """``value`` quoted for a message, at most about 40 characters of it."""
    text = repr(value)
    return text if len(text) <= 40 else text[:30] + f"... ({len(text)} characters)"


def padding_arg(value: PairLike) -> Union[str, Pair]:
    """Padding as given: a keyword from PADDING_WORDS, or a pair of values >= 0."""
    if isinstance(value, str) and value.strip().lower() in PADDING_WORDS:
        return value.strip().lower()
    try:
        return to_pair(value, "padding", minimum=0)
    except SpecError as err:
        raise SpecError(f"{err}, or one of {', '.join(PADDING_WORDS)}") from None


def fmt_pair(p: Pair, sep: str = "x") -> str:
    """(5, 5) -> '5', (5, 7) -> '5x7': the short form used in names and captions."""
    return str(p[0]) if p[0] == p[1] else f"{p[0]}{sep}{p[1]}"

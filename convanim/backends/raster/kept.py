"""What the raster keeps of earlier frames, the last entries up to a number of bytes."""

from __future__ import annotations

from collections import OrderedDict


class Kept:
    """Values by key, the last ones used up to ``limit`` bytes (a value's ``nbytes``, or the
    sum over a tuple of arrays)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self._kept: OrderedDict = OrderedDict()

    def get(self, key):
        got = self._kept.get(key)
        if got is not None:
            self._kept.move_to_end(key)
        return got

    def put(self, key, value) -> None:
        self._kept[key] = value
        self.size += _bytes(value)
        while self.size > self.limit and self._kept:
            self.size -= _bytes(self._kept.popitem(last=False)[1])


def _bytes(value) -> int:
    if isinstance(value, tuple):
        return sum(getattr(v, "nbytes", 0) for v in value)
    return value.nbytes

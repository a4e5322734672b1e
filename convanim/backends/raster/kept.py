"""What the raster keeps of earlier frames, up to a number of bytes."""

from __future__ import annotations


class Kept:
    """Values by key, up to ``limit`` bytes (arrays' ``nbytes``, and bytes in the keys).

    Once full it keeps what it has and takes nothing more: what it keeps comes back a
    filter later (each filter of a group meets the footprints of the one before), so
    dropping the oldest for the newest would drop each entry before its use, while the
    first filter's entries serve every later one."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size = limit, 0
        self._kept: dict = {}

    def get(self, key):
        return self._kept.get(key)

    def put(self, key, value) -> None:
        size = _bytes(value) + _bytes(key)
        if self.size + size <= self.limit:
            self._kept[key] = value
            self.size += size


def _bytes(value) -> int:
    """An array's bytes, a bytes' length; of a tuple, those of its own items (not
    deeper: a key's nested tuples of coordinates are not walked)."""
    items = value if isinstance(value, tuple) else (value,)
    return sum(len(v) if isinstance(v, bytes) else getattr(v, "nbytes", 0) for v in items)

"""Frozen values that are hashed often: their hash is computed once."""

from __future__ import annotations

from dataclasses import fields


def cached_hash(cls):
    """Give a frozen dataclass a hash computed once per object (equality is unchanged).

    Frames look the same text items and shapes up in dicts and sets many times;
    a dataclass's own hash walks every field, tuples of points included, each time.
    """
    names = tuple(f.name for f in fields(cls))

    def __hash__(self) -> int:
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(tuple(getattr(self, n) for n in names))
            object.__setattr__(self, "_hash", h)  # frozen: set once, outside the fields
        return h

    cls.__hash__ = __hash__
    return cls

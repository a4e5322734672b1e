"""Frozen values that are hashed often: their hash is computed once."""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter


def cached_hash(cls):
    """Give a frozen dataclass a hash computed once per object (equality is unchanged).

    Frames look the same text items and shapes up in dicts and sets many times;
    a dataclass's own hash walks every field, tuples of points included, each time.
    """
    names = tuple(f.name for f in fields(cls))
    # The fields as one tuple, gathered in C: the same tuple, so the same hash, as a
    # generator of getattr calls, in ~1.0 us instead of ~2.7 (a TextItem); the flat
    # style's frames hash each new text and text operation once.
    values = attrgetter(*names) if len(names) > 1 else (lambda self: (getattr(self, names[0]),))

    def __hash__(self) -> int:
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(values(self))
            object.__setattr__(self, "_hash", h)  # frozen: set once, outside the fields
        return h

    cls.__hash__ = __hash__
    return cls

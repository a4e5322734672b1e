"""Signals that stop a run: Ctrl-C (SIGINT), SIGTERM and SIGHUP all end it the same way.

Python turns SIGINT into KeyboardInterrupt, so every ``finally`` and every staged write
cleans up after it; SIGTERM (``kill``, ``timeout``, CI cancellation, service managers) and
SIGHUP (a closed terminal) would end the process at once and leave temporary files
behind. :func:`install` makes them raise :class:`Interrupted`, a KeyboardInterrupt, so
they take the same path; the CLI exits with 128 + the signal's number (130, 143, 129).
:func:`deferred` holds all three back while files are renamed into place or cleaned up,
so a second Ctrl-C cannot cut a commit or a cleanup in half.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Callable, Iterator

__all__ = ["Interrupted", "install", "deferred", "exit_status", "STOPPING"]

# The signals that stop a run, where the platform has them.
STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """A run stopped by SIGTERM or SIGHUP (``signum``), cleaned up as after Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    def __reduce__(self):  # pickled back from a gallery worker
        return (Interrupted, (self.signum,))


_stopping: list[int] = []  # the signal that is stopping this run, once one came


def _raise(signum: int, frame) -> None:
    # The first stopping signal raises; later ones are ignored, so a second Ctrl-C
    # cannot cut the cleanup of the first short or escape the CLI's handler.
    if _stopping:
        return
    _stopping.append(signum)
    raise KeyboardInterrupt if signum == signal.SIGINT else Interrupted(signum)


def install() -> Callable[[], None]:
    """Make SIGINT, SIGTERM and SIGHUP raise (KeyboardInterrupt, :class:`Interrupted`) once.

    Main thread only (elsewhere nothing changes). A signal that the parent process
    ignores (``nohup`` ignores SIGHUP) stays ignored. Returns a function that puts
    the previous handlers back.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    _stopping.clear()
    previous = {}
    for signum in STOPPING:
        old = signal.getsignal(signum)
        if old is not signal.SIG_IGN:
            previous[signum] = old
            signal.signal(signum, _raise)

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
    return restore


def stopped() -> bool:
    """Whether a stopping signal came since :func:`install`."""
    return bool(_stopping)


def ignore() -> None:
    """Ignore the stopping signals from now on (a run that is stopping, on its way out)."""
    if threading.current_thread() is threading.main_thread():
        for signum in STOPPING:
            signal.signal(signum, signal.SIG_IGN)


def exit_status(err: BaseException) -> int:
    """The exit status of a run stopped by ``err``: 128 + the signal's number."""
    return 128 + (err.signum if isinstance(err, Interrupted) else signal.SIGINT)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold the stopping signals back until the block is done; a signal that came
    meanwhile is delivered (and raises) as the block ends. POSIX main thread only."""
    block = (hasattr(signal, "pthread_sigmask")
             and threading.current_thread() is threading.main_thread())
    if block:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, set(STOPPING))
    try:
        yield
    finally:
        if block:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def quit_when_idle(signum: int) -> None:
    """For a worker process between tasks: nothing to clean up, so end at once, quietly."""
    os._exit(128 + signum)

"""Work on every core: the worker pool the gallery and long renders share, and a long GIF
rendered in parts.

Workers are forked on Linux (they start with what this process has imported and
built: for a render, its scene), and stop as a run does on SIGINT, SIGTERM and
SIGHUP: a worker at work raises (its task ends, cleaned up), an idle one just ends,
and the process that started them terminates them on any error or signal of its
own, so nothing of a run is left running (see :mod:`convanim.signals`).

A long GIF (:data:`SPLIT` frames or more) is cut into equal parts, one per process,
this one drawing the first while the workers each draw and encode theirs
(:func:`convanim.backends.raster.frames` from a frame on: the pixels of the one-pass
drawing, see its WARM; and :class:`convanim.writer.GifEncoder` after the frame before).
Each part's bytes are those of the one-pass GIF, so the file is the serial one whatever
the number of cores (checked on every gallery figure at every cut and on random
figures; not proven: a part's still picture is painted whole, and Pillow can shade an
edge pixel differently where a rectangle draws it). The cuts depend on the figure and
the number of processes only, not on timing, so a command writes the same file each
time; only the time differs. A worker returns its part's bytes, not frames.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import signal
import sys
import threading
from itertools import islice
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, Sequence

from . import signals
from .backends import raster
from .scene import Scene
from .writer import GifEncoder

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

# multiprocessing, concurrent.futures and queue (about 25 ms of import) are imported where
# a pool starts: a command asks this module whether its GIF is long enough to split
# (can_split) on every render, and most are not.

# The pool ---------------------------------------------------------------------


def context():
    """Forked workers on Linux: they start with everything this process imported (about
    0.5 s of CPU each under "spawn" or "forkserver", Python 3.14's default there); the
    platform's default elsewhere (macOS and Windows spawn)."""
    if sys.platform.startswith("linux"):
        import multiprocessing

        return multiprocessing.get_context("fork")
    return None


def cores() -> int:
    """The cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


_busy = False     # in a worker process: at work (there may be files to clean up)
_stopped = False  # in a worker process: a stopping signal came; take no more work


def _worker_start() -> None:
    """A worker's signal handlers: while it works, a stopping signal raises, so its task
    cleans up (its staged files are removed); between tasks, it just ends, quietly."""
    for signum in signals.STOPPING:
        if signal.getsignal(signum) is not signal.SIG_IGN:  # as nohup left it: ignored
            signal.signal(signum, _worker_signal)


def _worker_signal(signum: int, frame) -> None:
    global _stopped
    if _stopped:
        return  # once: a second signal during the cleanup must not cut it short
    _stopped = True
    if _busy:
        raise signals.Interrupted(signum) if signum != signal.SIGINT else KeyboardInterrupt
    signals.quit_when_idle(signum)


def in_worker(fn: Callable, *args):
    """``fn(*args)`` in a worker, marked busy while it runs (see :func:`_worker_start`)."""
    global _busy
    if _stopped:
        # The pool hands a worker its next tasks before they are due; after a signal
        # they are refused at once, so the pool can be shut down without waiting.
        raise KeyboardInterrupt
    _busy = True
    try:
        return fn(*args)
    finally:
        _busy = False


class Pool:
    """Worker processes (see :func:`pool`); :meth:`submit` runs ``fn(*args)`` in one."""

    def __init__(self, executor: ProcessPoolExecutor) -> None:
        self.executor = executor
        self.futures: list[Future] = []
        self.stopping = False  # set first by stop(): hand out no more work

    def submit(self, fn: Callable, *args) -> Future:
        fut = self.executor.submit(in_worker, fn, *args)
        self.futures.append(fut)
        return fut

    def stop(self) -> None:
        """Cancel what has not started and terminate the workers: each removes its
        temporary files and exits; the pool then joins them."""
        self.stopping = True
        for fut in self.futures:
            fut.cancel()
        for proc in list((getattr(self.executor, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError):
                proc.terminate()


@contextlib.contextmanager
def pool(workers: int) -> Iterator[Pool]:
    """A pool of ``workers`` forked processes (on Linux), stopped on any error or signal
    in the block (a SIGTERM reaches this process only): :meth:`Pool.stop`.

    What exists now is frozen out of the garbage collector's reach while the pool lives
    (gc.freeze): a collection in a worker would touch every inherited object and so copy
    the pages the fork shares with this process.
    """
    from concurrent.futures import ProcessPoolExecutor

    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_start,
                                 mp_context=context()) as executor:
            workers_pool = Pool(executor)
            try:
                yield workers_pool
            except BaseException:
                workers_pool.stop()
                raise
    finally:
        gc.unfreeze()


def shared(fn: Callable, calls: Sequence[tuple], workers: int) -> Iterator:
    """``fn(*call)`` for every call, on ``workers`` forked processes and this one, each
    taking the next call in order when it is free (give the biggest first: they end
    together); the results as they come. This process works instead of waiting, so
    ``jobs`` processes need ``jobs - 1`` forks. Stopped as :func:`pool` on any error or
    signal, or when the caller stops iterating."""
    import queue

    todo = collections.deque(calls)
    lock = threading.Lock()
    finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
    handed = [0]  # calls given to the workers

    with pool(workers) as executor:
        def hand_out(fut: Future | None = None) -> None:
            # Also the done-callback of a worker's call (in the pool's thread): its next.
            if fut is not None:
                finished.put(fut)
            with lock:
                if executor.stopping or not todo:
                    return
                call = todo.popleft()
                handed[0] += 1
            executor.submit(fn, *call).add_done_callback(hand_out)

        for _ in range(workers):
            hand_out()
        got = 0
        while True:
            while not finished.empty():
                got += 1
                yield finished.get().result()
            with lock:
                call = todo.popleft() if todo else None
            if call is None:
                break
            yield fn(*call)
        while got < handed[0]:
            got += 1
            yield finished.get().result()


# A long GIF in parts -------------------------------------------------------------

# A GIF of SPLIT frames or more is cut into parts, each of at least MIN_PART frames: a
# worker draws its still picture whole first (measured 0.4-0.6 s CPU on the 2330x1184
# canvas of conv --i 32 --style flat, as much as 20-30 of its frames). Whether and where
# to cut depends on the figure and the number of processes only, never on how fast the
# machine runs: a command gives the same file each time it runs.
SPLIT = 256
MIN_PART = 32

_shared: list = []  # the scene being rendered and the parts' frame counts, for the forked workers
# While this process waits for the parts, it reads their counts this often (seconds).
POLL = 0.2


def can_split(scene: Scene, jobs: int) -> bool:
    """Whether a GIF of ``scene`` may be rendered in parts on ``jobs`` processes: an
    animation of opaque frames (a transparent background's frames are disposed with
    look-ahead into the frame before), on a platform that forks."""
    return (jobs > 1 and not scene.crisp and not scene.theme.transparent
            and scene.n_frames >= max(SPLIT, jobs * MIN_PART) and context() is not None)


def write_gif(fp: BinaryIO, scene: Scene, duration: int = 1000, loop: int = 0,
              jobs: int = 1, progress: Callable[[int, int], object] | None = None) -> int:
    """:func:`convanim.writer.write_gif` of ``scene``'s frames, on up to ``jobs`` processes
    when the animation is long (see the module's docstring): the same bytes. Returns the
    number of frames; ``progress(done, total)`` as frames (or whole parts) are done."""
    total = scene.n_frames
    enc = GifEncoder(duration, loop)
    frames = raster.frames(scene, changed=True, reuse=True)  # each frame written before the next
    if not can_split(scene, jobs):
        for done, frame in enumerate(frames, 1):
            fp.write(enc.add(frame))
            frame = None  # hold one frame at a time
            if progress is not None:
                progress(done, total)
        fp.write(enc.finish() + b";")
        return total
    # ``jobs`` parts: this process draws the first, the workers one each. Each worker
    # counts its frames in memory shared with this process (made before the fork), so
    # the progress moves with every frame drawn anywhere, not a part at a time.
    from concurrent.futures import FIRST_COMPLETED, wait
    from multiprocessing.sharedctypes import RawArray

    cuts = [total * k // jobs for k in range(jobs + 1)]
    counts = RawArray("q", jobs - 1)
    _shared[:] = [scene, counts]
    try:
        with pool(jobs - 1) as executor:
            parts = [executor.submit(_part, a, b, duration, k)
                     for k, (a, b) in enumerate(zip(cuts[1:-1], cuts[2:]))]

            def tick(drawn: int) -> None:
                if progress is not None:
                    # A worker's count, read while it writes, is one it has reached.
                    progress(drawn + sum(counts), total)

            done = 0
            for frame in islice(frames, cuts[1]):
                fp.write(enc.add(frame))
                done += 1
                frame = None
                tick(done)
            fp.write(enc.finish())
            frames.close()  # its canvas goes before the parts come in
            pending = set(parts)
            while pending:
                finished, pending = wait(pending, timeout=POLL, return_when=FIRST_COMPLETED)
                for fut in finished:
                    fut.result()  # a worker's error now, not after the others end
                tick(done)
            for fut in parts:
                fp.write(fut.result())
    finally:
        _shared.clear()
    fp.write(b";")
    return total


def _part(first: int, stop: int, duration: int, slot: int = 0) -> bytes:
    """In a worker: the GIF bytes of frames ``first`` .. ``stop - 1`` of the shared scene,
    encoded after frame ``first - 1`` (drawn too, not written); each frame counted in
    the shared counts at ``slot``."""
    scene, counts = _shared
    frames = raster.frames(scene, changed=True, start=first - 1, reuse=True)
    enc = GifEncoder(duration)
    enc.prime(next(frames), first - 1)
    out = []
    for frame in islice(frames, stop - first):
        out.append(enc.add(frame))
        counts[slot] += 1
    out.append(enc.finish())
    frames.close()
    return b"".join(out)

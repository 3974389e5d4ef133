"""Work spread over the machine's cores with forked processes.

Forking (not spawning) lets workers inherit what the parent already built: the
parsed items, the digest, the compiled Jinja templates, the language model.
Only results travel back, pickled.  Builds run by the preview server stay in
one process (workers=1): forking a process that runs threads is not safe.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many tasks the work stays in one process; SITE_BUILDER_PARALLEL_MINIMUM lowers it (tests).
MINIMUM = int(os.environ.get("SITE_BUILDER_PARALLEL_MINIMUM", "400"))

#: The function the forked workers run: set just before the pool forks, so they inherit it.
_TASK: Callable | None = None


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def fork_map(function: Callable[[Sequence[T]], list[R]], items: Sequence[T], workers: int, minimum: int | None = None,
             meanwhile: Callable[[], None] | None = None, batches: Sequence[Sequence[T]] | None = None) -> list[R]:
    """function(batch) over batches of `items` in `workers` processes; results in the order of `items`.

    Falls back to one process when the work is small (a fork costs more than it saves),
    when workers is 1, or where fork is not available.  `meanwhile()` runs in this process
    while the workers do: serial work that would otherwise leave a core idle before or after.
    `batches`, when given, are the batches (covering `items`): the workers take them, and the results
    come, in their order (in one process, `items` are done in their own order).
    """
    if workers <= 1 or len(items) < (MINIMUM if minimum is None else minimum) or "fork" not in multiprocessing.get_all_start_methods():
        results = function(items)
        if meanwhile is not None:
            meanwhile()
        return results
    global _TASK
    _TASK = function
    if batches is None:
        batches = split(items, workers * 8)  # several batches per worker, so one slow batch does not idle the rest
    # What the workers inherit is frozen: should their garbage collector run, it never walks (and so never
    # writes to, and copies) the parent's objects, which are most of their memory (see the gc module's notes
    # on fork).  In a build it does not run: the workers keep the build's no_collection(), as what they make
    # is acyclic (items, features) or a page's few cycles (37k objects left over from rendering 6k pages).
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pending = pool.map_async(_run, batches, chunksize=1)
            if meanwhile is not None:
                meanwhile()
            results = pending.get()
    finally:
        _TASK = None
        gc.unfreeze()
    return [result for batch in results for result in batch]


# glibc's mallopt() parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def keep_freed_memory() -> None:
    """Have the C allocator keep the memory a build frees, for the build to use again.

    By default glibc hands large freed blocks back to the system (each numpy array of the
    deduplicator, each batch's buffers), and every page of the next such block faults in
    afresh: 40 000 page faults in a build of 10k items.  Kept, they are reused.  For a command
    that builds and exits; elsewhere (another C library, no mallopt) nothing changes.
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest: blocks up to 32 MB come from the heap
    mallopt(_M_TRIM_THRESHOLD, 1 << 30)   # and up to 1 GB free at its top is kept, not returned


def split(items: Sequence[T], count: int) -> list[Sequence[T]]:
    """`items` in `count` (or fewer) batches of equal size, in order."""
    size = max(1, -(-len(items) // count))
    return [items[start : start + size] for start in range(0, len(items), size)]


def _run(batch: Sequence) -> list:
    assert _TASK is not None
    return _TASK(batch)


class no_collection:
    """`with no_collection():` the cyclic garbage collector off, and back as it was after.

    A build makes millions of small objects that never form cycles (items, features, stories);
    the collector would walk them again and again as they pile up, and find nothing: at 100k
    items that was 2 s of loading alone."""

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()

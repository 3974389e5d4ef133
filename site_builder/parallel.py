"""Work spread over the machine's cores with forked processes.

Forking (not spawning) lets workers inherit what the parent already built: the
parsed items, the digest, the compiled Jinja templates, the language model.
Only results travel back, pickled.  Builds run by the preview server stay in
one process (workers=1): forking a process that runs threads is not safe.

The workers are plain forks with a pipe each, not a multiprocessing.Pool: a
pool's threads, queues and teardown (waiting for each worker to exit) cost a
build 40-55 ms while one core waited.  Here a worker starts on its first batch
at once, and the parent goes on as soon as the last result is in, while the
workers' exits are left to the kernel.
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import selectors
import signal
import struct
import threading
from typing import Callable, Sequence, TypeVar

from .errors import BuildError

T = TypeVar("T")
R = TypeVar("R")

#: Below this many tasks the work stays in one process; SITE_BUILDER_PARALLEL_MINIMUM lowers it (tests).
MINIMUM = int(os.environ.get("SITE_BUILDER_PARALLEL_MINIMUM", "400"))

#: A batch's number in the pipe the workers take their batches from; a result's length before its bytes.
_NUMBER = struct.Struct("=I")
_LENGTH = struct.Struct("=Q")
#: A pipe holds 64 KB: all the batch numbers are written into it before any worker starts.
MAX_BATCHES = 65536 // _NUMBER.size
#: Workers forked by an earlier call that had not exited when it returned: reaped by the next one.
_EXITING: list[int] = []


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
    if workers <= 1 or len(items) < (MINIMUM if minimum is None else minimum) or not hasattr(os, "fork"):
        results = function(items)
        if meanwhile is not None:
            meanwhile()
        return results
    if batches is None:
        batches = split(items, workers * 8)  # several batches per worker, so one slow batch does not idle the rest
    # What the workers inherit is frozen: should their garbage collector run, it never walks (and so never
    # writes to, and copies) the parent's objects, which are most of their memory (see the gc module's notes
    # on fork).  In a build it does not run: the workers keep the build's no_collection(), as what they make
    # is acyclic (items, features) or a page's few cycles (37k objects left over from rendering 6k pages).
    gc.freeze()
    try:
        done = _forked(function, batches, workers, meanwhile)
    finally:
        gc.unfreeze()
    return [result for batch in done for result in batch]


def _forked(function: Callable[[Sequence[T]], list[R]], batches: Sequence[Sequence[T]], workers: int,
            meanwhile: Callable[[], None] | None) -> list[list[R]]:
    """function(batch) for every batch, in up to `workers` forked processes, while this one runs meanwhile()."""
    if len(batches) > MAX_BATCHES:
        raise ValueError(f"{len(batches)} batches; at most {MAX_BATCHES}")
    _reap(block=True)
    tasks, tasks_in = os.pipe()
    # Each worker reads the next number, 4 bytes, until the pipe is empty: a pipe hands out a read
    # this small whole, to one reader at a time, so each batch goes to exactly one worker.
    os.write(tasks_in, b"".join(_NUMBER.pack(index) for index in range(len(batches))))
    os.close(tasks_in)
    pids: list[int] = []
    outputs: list[int] = []
    try:
        for _ in range(min(workers, len(batches))):
            output, output_in = os.pipe()
            pid = os.fork()
            if pid == 0:
                _work(function, batches, tasks, output_in, outputs + [output])  # never returns
            os.close(output_in)
            pids.append(pid)
            outputs.append(output)
    except BaseException:
        _stop(pids)
        for fd in outputs:
            os.close(fd)
        raise
    finally:
        os.close(tasks)
    results: list = [None] * len(batches)
    failures: list[BaseException] = []
    # A thread reads the results as they come, so that no worker waits on a full pipe while this
    # process runs meanwhile(); it ends (and is joined) before anything else forks.
    reader = threading.Thread(target=_read, args=(outputs, results, failures, pids), daemon=True)
    reader.start()
    try:
        if meanwhile is not None:
            meanwhile()
        reader.join()
    except BaseException:
        _stop(pids)  # their pipes end with them, and the reader too
        reader.join()
        raise
    if failures:
        _stop(pids)
        raise failures[0]
    if any(result is None for result in results):
        _stop(pids)
        raise BuildError("a worker process ended before its work was done (out of memory?)")
    _EXITING.extend(pids)
    _reap(block=False)
    return results


def _work(function: Callable, batches: Sequence, tasks: int, output: int, others: list[int]) -> None:
    """A forked worker: batches from `tasks`, their results (or what stopped it) into `output`, then exit."""
    code = 0
    try:
        for fd in others:
            os.close(fd)
        while number := os.read(tasks, _NUMBER.size):
            index = _NUMBER.unpack(number)[0]
            _send(output, pickle.dumps((index, function(batches[index])), protocol=pickle.HIGHEST_PROTOCOL))
    except KeyboardInterrupt:
        code = 130  # the parent has it too, and stops the others
    except BaseException as exc:
        code = 1
        try:
            failure = pickle.dumps((-1, exc), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            failure = pickle.dumps((-1, BuildError(f"{type(exc).__name__}: {exc}")))
        try:
            _send(output, failure)
        except OSError:
            pass
    finally:
        # Closed first: the parent sees the end of the results now, not after this process's memory is freed.
        os.close(output)
        os._exit(code)


def _send(fd: int, data: bytes) -> None:
    view = memoryview(_LENGTH.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read(outputs: list[int], results: list, failures: list[BaseException], pids: list[int]) -> None:
    """Every result the workers send, into `results` by batch number, until each pipe ends; a failure
    into `failures`, at which the others are stopped."""
    pending = {fd: bytearray() for fd in outputs}
    with selectors.DefaultSelector() as selector:
        for fd in outputs:
            selector.register(fd, selectors.EVENT_READ)
        while pending:
            for key, _ in selector.select():
                fd = key.fd
                try:
                    chunk = os.read(fd, 1 << 20)
                except OSError:
                    chunk = b""  # closed by _stop()
                if not chunk:
                    selector.unregister(fd)
                    del pending[fd]
                    continue
                buffer = pending[fd]
                buffer += chunk
                while len(buffer) >= _LENGTH.size:
                    size = _LENGTH.unpack_from(buffer)[0]
                    if len(buffer) < _LENGTH.size + size:
                        break
                    with memoryview(buffer) as view, view[_LENGTH.size : _LENGTH.size + size] as data:
                        index, value = pickle.loads(data)
                    del buffer[: _LENGTH.size + size]  # (a bytearray cannot shrink while a view of it is open)
                    if index < 0:
                        failures.append(value)
                        _kill(pids)
                    else:
                        results[index] = value
    for fd in outputs:
        try:
            os.close(fd)
        except OSError:
            pass


def _kill(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _stop(pids: list[int]) -> None:
    """Kill the workers and collect their exits (an error, an interrupt)."""
    _kill(pids)
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass


def wait_for_workers() -> None:
    """Collect the exits of every worker forked so far: a build returns with no process of its own left
    (and the CPU time of its workers is then counted as its own, by whoever waits for it in turn)."""
    _reap(block=True)


def _reap(block: bool) -> None:
    """Collect the exit of workers forked earlier (each exits on its own once its pipe is closed)."""
    for pid in list(_EXITING):
        try:
            if os.waitpid(pid, 0 if block else os.WNOHANG)[0] == 0:
                continue
        except ChildProcessError:
            pass
        _EXITING.remove(pid)


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

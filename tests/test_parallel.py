"""fork_map: work in forked processes, results in order, failures told, nothing left behind."""

from __future__ import annotations

import os
import time

import pytest

from site_builder import parallel
from site_builder.errors import BuildError, TemplateError
from site_builder.parallel import fork_map


def squares(batch):
    time.sleep(0.01)  # long enough for every worker to take some batches
    return [(value, value * value, os.getpid()) for value in batch]


def test_results_come_in_order_from_several_processes() -> None:
    values = list(range(1000))
    results = fork_map(squares, values, 3, minimum=1)
    assert [(value, square) for value, square, _ in results] == [(value, value * value) for value in values]
    assert len({pid for _, _, pid in results} - {os.getpid()}) >= 2
    batches = [values[500:], values[:10], values[10:500]]
    assert [value for value, _, _ in fork_map(squares, values, 2, minimum=1, batches=batches)] == values[500:] + values[:500]


def test_large_results_come_whole_while_this_process_is_busy() -> None:
    """A worker's results outgrow its pipe while the parent runs meanwhile(): the parent still reads them."""
    seen = []

    def meanwhile() -> None:
        time.sleep(0.3)
        seen.append(True)

    results = fork_map(lambda batch: [bytes([value % 256]) * 200_000 for value in batch], list(range(40)), 2, minimum=1,
                       meanwhile=meanwhile)
    assert seen == [True]
    assert [result[:1] for result in results] == [bytes([value]) for value in range(40)] and {len(r) for r in results} == {200_000}


def test_a_workers_exception_reaches_the_caller_as_itself() -> None:
    def fails(batch):
        if 13 in batch:
            raise TemplateError("story.html", 7, "UndefinedError: 'lead' is undefined")
        return batch

    with pytest.raises(TemplateError) as raised:
        fork_map(fails, list(range(100)), 2, minimum=1)
    assert (raised.value.template, raised.value.line) == ("story.html", 7)


def test_an_exception_that_cannot_be_pickled_is_told_by_name() -> None:
    class Local(Exception):  # a class defined in a function does not pickle
        pass

    def fails(batch):
        raise Local("no way back")

    with pytest.raises(BuildError, match="Local: no way back"):
        fork_map(fails, list(range(10)), 2, minimum=1)


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    def dies(batch):
        if 3 in batch:
            os._exit(9)  # as the out-of-memory killer would end it
        return batch

    with pytest.raises(BuildError, match="ended before its work was done"):
        fork_map(dies, list(range(40)), 2, minimum=1)


def test_an_error_meanwhile_stops_the_workers(tmp_path) -> None:
    started = tmp_path / "started"

    def slow(batch):
        started.touch()
        time.sleep(30)
        return batch

    def meanwhile() -> None:
        while not started.exists():
            time.sleep(0.01)
        raise KeyboardInterrupt

    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        fork_map(slow, list(range(4)), 2, minimum=1, meanwhile=meanwhile)
    assert time.monotonic() - began < 10


def test_no_worker_is_left_behind() -> None:
    fork_map(squares, list(range(100)), 2, minimum=1)
    pids = list(parallel._EXITING)
    fork_map(squares, list(range(100)), 2, minimum=1)  # collects the exits of the last call's workers
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_build_waits_for_its_workers(site, monkeypatch) -> None:
    """A build returns with none of its workers left: whoever waits for the build (the benchmark does)
    then gets their CPU time too.  Here the workers take their time to exit."""
    from conftest import news

    forked: list[int] = []
    fork, exit_ = os.fork, os._exit

    def recorded_fork() -> int:
        pid = fork()
        if pid:
            forked.append(pid)
        return pid

    def slow_exit(code: int) -> None:
        time.sleep(0.3)
        exit_(code)

    monkeypatch.setattr(os, "fork", recorded_fork)
    monkeypatch.setattr(os, "_exit", slow_exit)
    monkeypatch.setattr(parallel, "MINIMUM", 2)
    for n in range(30):
        site.item(f"{n}.md", news(title=f"Story {n} of many", url=f"https://example.com/{n}"))
    assert site.build("--no-search", "--jobs", "2").code == 0
    assert len(forked) == 4  # two to load, two to render
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

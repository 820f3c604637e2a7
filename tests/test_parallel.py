"""Leaf work on the threads the process keeps: bounded per use, reused across uses, safe when nested."""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import Future

import pytest

from trailkeeper.aws import parallel


class Gauge:
    """How many tasks run at once, at most."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = self.most = 0

    def task(self, seconds: float = 0.02) -> str:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(seconds)
        with self._lock:
            self.running -= 1
        return threading.current_thread().name


def test_at_most_n_tasks_of_one_use_run_at_once() -> None:
    gauge = Gauge()
    with parallel.threads(3) as pool:
        names = list(pool.map(lambda _: gauge.task(), range(12)))
    assert gauge.most == 3 and len(names) == 12
    assert all(name.startswith(parallel.PREFIX) for name in names)


def test_the_threads_are_kept_and_reused_by_the_next_use() -> None:
    def names_of_one_use() -> set[str]:
        with parallel.threads(4) as pool:
            return set(pool.map(lambda _: Gauge().task(0.01), range(8)))

    first = names_of_one_use()
    later = set().union(*(names_of_one_use() for _ in range(20)))
    # Twenty more uses of four threads each started none of their own: a pool per use would have made 80.
    alive = {thread.name for thread in threading.enumerate() if thread.name.startswith(parallel.PREFIX)}
    assert first <= alive and later <= alive and len(alive) <= parallel.SHARED_THREADS


def test_leaving_the_block_waits_for_every_task() -> None:
    done: list[int] = []
    with parallel.threads(2) as pool:
        for n in range(4):
            pool.submit(lambda n=n: (time.sleep(0.02), done.append(n)))
    assert sorted(done) == [0, 1, 2, 3]


def test_a_task_that_submits_runs_its_own_tasks_in_place_rather_than_wait_for_a_thread() -> None:
    def parent() -> tuple[str, str]:
        with parallel.threads(1) as inner:
            child = inner.submit(lambda: threading.current_thread().name)
            assert child.done()  # ran at once: no shared thread was waited for
            return threading.current_thread().name, child.result()

    with parallel.threads(1) as pool:
        parent_thread, child_thread = pool.submit(parent).result(timeout=5)
    assert parent_thread == child_thread


def test_an_error_reaches_whoever_reads_the_result() -> None:
    def fails(n: int) -> int:
        if n == 2:
            raise ValueError("region 2 refused")
        return n

    with parallel.threads(2) as pool:
        results = pool.map(fails, range(4))
        assert next(results) == 0 and next(results) == 1
        with pytest.raises(ValueError, match="region 2 refused"):
            next(results)


def test_one_at_a_time_runs_in_the_callers_thread() -> None:
    with parallel.threads(1) as pool:
        ran_in = pool.submit(threading.current_thread).result()
    assert ran_in is threading.current_thread()


def test_a_use_leaves_nothing_for_the_cyclic_collector() -> None:
    # An organization run makes a use per account. A cycle between a use and its futures left about 260 objects an
    # account (futures, their locks and conditions) that only the collector's full scans freed, and those scans
    # grew with the run (0.42-0.63 s of a 64-accounts-at-a-time plan, 0.26-0.39 s without the cycle: bench/org.py).
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        with parallel.threads(4) as pool:
            assert sorted(pool.map(lambda n: n * 2, range(8))) == [0, 2, 4, 6, 8, 10, 12, 14]
        del pool
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, parallel.Threads | Future)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []

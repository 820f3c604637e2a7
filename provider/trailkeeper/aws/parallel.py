"""Leaf work in parallel (one region's reads, one trail's writes) on threads the process keeps.

A run over an organization did this work on pools made per account: 17 threads started, used once and
joined for every account, a thousand times. Starting a thread and handing it the interpreter's lock cost
more than the work itself (bench/org.py: 560 us of CPU per account-region, 280 us on kept threads).
`threads(n)` is used where a pool was: at most `n` of its tasks run at once, on threads shared by every
caller, started as needed and then kept.

A use that allows one task at a time (one region, one bucket read) runs its tasks in the caller's thread:
another thread would only add the hand-off.

Only leaf work goes here: a task that itself waits on tasks of the shared threads could wait forever for
a thread they all hold. A task submitted from one of those threads therefore runs at once, in that
thread (the nesting cannot deadlock, and costs no hand-off). The accounts of an organization run keep
their own pool: each waits on its regions' tasks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Enough for every region of 64 accounts at once (the most --max-accounts the benchmarks try): threads are
# started only as tasks need them, and more tasks than this wait for one; none fails.
SHARED_THREADS = 64 * 17
PREFIX = "trailkeeper-leaf"

_LOCK = threading.Lock()
_shared: ThreadPoolExecutor | None = None
_inside = threading.local()  # set in the shared threads: what they submit runs in place


def _pool() -> ThreadPoolExecutor:
    global _shared  # noqa: PLW0603 - one set of threads per process, by design
    with _LOCK:
        if _shared is None:
            _shared = ThreadPoolExecutor(
                max_workers=SHARED_THREADS, thread_name_prefix=PREFIX, initializer=_mark_inside
            )
        return _shared


def _mark_inside() -> None:
    _inside.active = True


class Threads:
    """An executor for one piece of work: at most `at_most` of its tasks run at once, on the shared threads.
    Leaving the `with` block waits for every task submitted, as a ThreadPoolExecutor's does."""

    def __init__(self, at_most: int) -> None:
        # One at a time gains nothing from another thread: the tasks run in the caller's, with no hand-off.
        self._one_at_a_time = at_most <= 1
        self._slots = threading.BoundedSemaphore(max(1, at_most))
        self._submitted: list[Future[Any]] = []

    def submit(self, work: Callable[..., R], /, *args: Any) -> Future[R]:
        if self._one_at_a_time or getattr(_inside, "active", False):
            return _ran(work, *args)
        self._slots.acquire()  # the caller waits here while `at_most` tasks run
        try:
            future = _pool().submit(work, *args)
        except BaseException:
            self._slots.release()
            raise
        # The callback holds the semaphore, not this executor: this executor holds the future, and a cycle
        # through them would leave both, their locks and conditions, to the collector's full scans.
        release = self._slots.release
        future.add_done_callback(lambda _: release())
        self._submitted.append(future)
        return future

    def map(self, work: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """`work` of each item, in the items' order (the first error is raised where its result is)."""
        futures = [self.submit(work, item) for item in items]
        return (future.result() for future in futures)

    def __enter__(self) -> Threads:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        wait(self._submitted)


def _ran(work: Callable[..., R], *args: Any) -> Future[R]:
    """`work` done now, in this thread, as a finished future."""
    future: Future[R] = Future()
    try:
        future.set_result(work(*args))
    except BaseException as error:
        future.set_exception(error)
    return future


def threads(at_most: int) -> Threads:
    """`with threads(n) as pool:` where `with ThreadPoolExecutor(max_workers=n) as pool:` was."""
    return Threads(at_most)

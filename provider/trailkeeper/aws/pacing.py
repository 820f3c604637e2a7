"""Pace calls to CloudTrail's limits: about one write per second per account and region, ten reads.

The limit cannot be raised, and bursting into it only buys throttling errors and retries, so the
drift-fix pipeline spaces its writes itself. Regions are independent: each has its own schedule.

CloudTrail counts a call when it arrives, and a call's round trip varies: two writes whose *starts* are a
second apart can reach the server 0.3 s apart when the first was slow to send. So a write is spaced from
the previous write's *end*: `wait(region)` before it, `done(region)` once it is answered (or failed), and
the next `wait` returns an interval after that. Reads only `wait` (their limit is ten times higher and
they are spaced from their starts).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WRITE_INTERVAL_SECONDS = 1.0  # every non-read CloudTrail API: UpdateTrail, Start/StopLogging, Put*, tags
READ_INTERVAL_SECONDS = 0.1  # GetTrailStatus, GetEventSelectors, GetInsightSelectors, ListTags


class Pacer:
    """`wait(region)` returns when a call in `region` may start; `done(region)` says it ended. Thread-safe.

    One thread calls a region at a time in every run (`fleet/reconcile.py` gives each home region one
    worker), so a call's `done` comes before the next call's `wait`.
    """

    def __init__(
        self,
        interval: float = WRITE_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, region: str) -> None:
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(region, now))
            self._next[region] = start + self._interval
        if start > now:
            self._sleep(start - now)

    def done(self, region: str) -> None:
        """The call that `wait` let start has ended: the next one starts an interval from now, not from its start."""
        with self._lock:
            ended = self._clock() + self._interval
            self._next[region] = max(self._next.get(region, ended), ended)

"""Pace calls to CloudTrail's limits: about one write per second per account and region, ten reads.

The limit cannot be raised, and bursting into it only buys throttling errors and retries, so the
drift-fix pipeline spaces its writes itself. Regions are independent: each has its own schedule.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

WRITE_INTERVAL_SECONDS = 1.0  # every non-read CloudTrail API: UpdateTrail, Start/StopLogging, Put*, tags
READ_INTERVAL_SECONDS = 0.1  # GetTrailStatus, GetEventSelectors, GetInsightSelectors, ListTags


class Pacer:
    """`wait(region)` returns when a write in `region` may start; thread-safe."""

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

"""A deadline alarm that reuses one thread for the life of the process.

crhelper starts a `threading.Timer` (a new thread) on every event to answer FAILED before Lambda's
time runs out; starting a thread and waiting for it costs more than the rest of a warm event's own
work. A Lambda execution environment serves one event at a time, so one waiting thread, re-armed per
event, gives the same guarantee for less (bench/warm.py measures both).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Watchdog:
    """`arm(seconds, alarm)` calls `alarm()` once, from the watchdog thread, unless `disarm()` comes first.

    `disarm()` also waits for an alarm already running: the handler must not return (and Lambda must
    not freeze the process) while the alarm is still sending CloudFormation its answer.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._condition = threading.Condition()
        self._deadline: float | None = None
        self._alarm: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._ringing = False

    def arm(self, seconds: float, alarm: Callable[[], None]) -> None:
        with self._condition:
            self._deadline, self._alarm = self._clock() + seconds, alarm
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="trailkeeper-watchdog", daemon=True)
                self._thread.start()
            self._condition.notify()

    def disarm(self) -> None:
        with self._condition:
            self._deadline, self._alarm = None, None
            self._condition.notify_all()
            while self._ringing:
                self._condition.wait()

    def _watch(self) -> None:
        with self._condition:
            while True:
                if self._deadline is None or self._alarm is None:
                    self._condition.wait()
                    continue
                remaining = self._deadline - self._clock()
                if remaining > 0:
                    self._condition.wait(remaining)
                    continue
                alarm, self._deadline, self._alarm = self._alarm, None, None
                self._ringing = True
                self._condition.release()
                try:
                    alarm()
                finally:
                    self._condition.acquire()
                    self._ringing = False
                    self._condition.notify_all()

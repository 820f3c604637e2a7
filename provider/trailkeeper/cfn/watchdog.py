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

SLACK = 0.05  # seconds the alarm may ring after a deadline it was not woken for (the answer keeps 5 s)


class Watchdog:
    """`arm(seconds, alarm)` calls `alarm()` once, from the watchdog thread, unless `disarm()` comes first.

    `disarm()` also waits for an alarm already running: the handler must not return (and Lambda must
    not freeze the process) while the alarm is still sending CloudFormation its answer.

    Neither call wakes the thread unless it must: waking it costs the event a hand-off of the GIL at its
    next system call (bench/warm.py measured it at about a tenth of a warm event). The thread sleeps
    until the deadline it last read; a later deadline (each event's, in a warm environment) is read
    when it wakes then, and a disarmed one is simply not there. Only a deadline earlier than the one it
    sleeps until, by more than `SLACK`, wakes it (Lambda tells the time left in whole milliseconds, so two
    invocations' deadlines can differ by jitter alone; ringing that late costs nothing of the answer's
    reserve worth keeping).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._condition = threading.Condition()
        self._deadline: float | None = None
        self._alarm: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None
        self._ringing = False
        self._sleeps_until: float | None = None  # what the thread's wait ends at (None: until woken)

    def arm(self, seconds: float, alarm: Callable[[], None]) -> None:
        with self._condition:
            self._deadline, self._alarm = self._clock() + seconds, alarm
            if self._thread is None or not self._thread.is_alive():
                self._sleeps_until = None
                self._thread = threading.Thread(target=self._watch, name="trailkeeper-watchdog", daemon=True)
                self._thread.start()
            elif self._sleeps_until is None or self._deadline < self._sleeps_until - SLACK:
                self._condition.notify()

    def disarm(self) -> None:
        with self._condition:
            self._deadline, self._alarm = None, None
            while self._ringing:
                self._condition.wait()

    def _watch(self) -> None:
        with self._condition:
            while True:
                if self._deadline is None or self._alarm is None:
                    self._sleeps_until = None
                    self._condition.wait()
                    continue
                remaining = self._deadline - self._clock()
                if remaining > 0:
                    self._sleeps_until = self._deadline
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

"""The watchdog behind "always answer before the time runs out": fires once when armed, never when disarmed.

Where a test says "not yet", time comes from a clock the test holds still (`Frozen`): on a busy machine
the test thread can lose the processor for longer than any real deadline, and a real clock would ring.
"""

from __future__ import annotations

import threading
import time

from trailkeeper.cfn.watchdog import SLACK, Watchdog


class Frozen:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_fires_once_after_the_deadline() -> None:
    fired = threading.Event()
    calls: list[float] = []
    dog = Watchdog()
    start = time.monotonic()

    def ring() -> None:
        calls.append(time.monotonic() - start)
        fired.set()

    dog.arm(0.05, ring)
    assert fired.wait(2)
    time.sleep(0.1)
    assert len(calls) == 1 and calls[0] >= 0.05


def test_disarming_in_time_means_no_alarm_and_the_thread_is_reused() -> None:
    clock = Frozen()
    dog = Watchdog(clock)
    calls: list[int] = []
    for _ in range(100):
        dog.arm(0.2, lambda: calls.append(1))
        dog.disarm()
    thread = dog._thread
    clock.now = 1.0  # every deadline has passed, but each was disarmed in time
    time.sleep(0.3)
    assert calls == [] and thread is dog._thread and thread is not None and thread.is_alive()


def test_rearming_moves_the_deadline() -> None:
    clock = Frozen()
    fired = threading.Event()
    dog = Watchdog(clock)
    dog.arm(0.02, fired.set)
    dog.arm(0.5, fired.set)  # the second event of a warm environment replaces the first deadline
    clock.now = 0.3  # past the first deadline, before the second
    assert not fired.wait(0.6)  # the watchdog re-reads the clock at least every 0.5 s of its deadline
    clock.now = 0.5
    assert fired.wait(5)


def test_disarming_waits_for_an_alarm_that_is_still_answering() -> None:
    dog = Watchdog()
    finished: list[str] = []
    started = threading.Event()

    def slow_answer() -> None:  # e.g. the FAILED PUT to CloudFormation, still in flight
        started.set()
        time.sleep(0.3)
        finished.append("answered")

    dog.arm(0.01, slow_answer)
    assert started.wait(2)
    dog.disarm()  # the handler is about to return: it must not leave the answer half-sent
    assert finished == ["answered"]


def test_an_earlier_deadline_wakes_the_sleeping_thread() -> None:
    fired = threading.Event()
    dog = Watchdog()
    dog.arm(60, fired.set)  # the thread now sleeps for a minute
    time.sleep(0.05)
    dog.arm(0.05, fired.set)  # a shorter deadline must not wait for that minute to end
    assert fired.wait(5)


class _CountingCondition(threading.Condition):
    """Counts the watchdog thread's wake-ups."""

    def __init__(self) -> None:
        super().__init__()
        self.wakes = 0

    def wait(self, timeout: float | None = None) -> bool:
        woken = super().wait(timeout)
        if threading.current_thread().name == "trailkeeper-watchdog":
            self.wakes += 1
        return woken


def test_warm_events_leave_the_sleeping_thread_asleep() -> None:
    """Each event arms a later deadline than the last and disarms it: waking the thread for that costs the
    event a hand-off of the interpreter's lock at its next system call (bench/warm.py), so neither wakes it."""
    clock = Frozen()
    dog = Watchdog(clock)
    condition = _CountingCondition()
    dog._condition = condition
    dog.arm(900, lambda: None)
    time.sleep(0.05)  # the thread has read the first deadline and sleeps until it
    woken = condition.wakes
    for event in range(1, 50):
        clock.now = event * 0.01
        dog.arm(900, lambda: None)
        dog.disarm()
    time.sleep(0.05)
    assert condition.wakes == woken


def _sleeps_until(dog: Watchdog, deadline: float) -> bool:
    """Wait (a generous while, on a busy machine) until the watchdog thread sleeps until `deadline`."""
    for _ in range(200):
        if dog._sleeps_until == deadline:
            return True
        time.sleep(0.01)
    return False


def test_a_deadline_earlier_by_only_the_slack_leaves_the_thread_asleep_and_one_earlier_still_wakes_it() -> None:
    """Lambda's deadlines differ by jitter alone from one invocation to the next: up to SLACK earlier is not
    worth a wake-up, anything earlier is."""
    clock = Frozen()
    dog = Watchdog(clock)
    condition = _CountingCondition()
    dog._condition = condition
    dog.arm(900, lambda: None)
    assert _sleeps_until(dog, 900)
    woken = condition.wakes
    dog.arm(900 - SLACK, lambda: None)
    time.sleep(0.1)
    assert condition.wakes == woken and dog._sleeps_until == 900
    dog.arm(900 - 2 * SLACK, lambda: None)
    assert _sleeps_until(dog, 900 - 2 * SLACK) and condition.wakes == woken + 1
    dog.disarm()

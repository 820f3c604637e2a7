"""The watchdog is one thread for the life of the process (bench/warm.py counts on it), and it never keeps
a process alive on its own (the CLI and the tests exit while it waits)."""

from __future__ import annotations

import threading
import time

from trailkeeper.cfn.watchdog import Watchdog


def test_a_warm_environment_reuses_one_named_daemon_thread_for_every_event() -> None:
    before = set(threading.enumerate())
    dog = Watchdog()
    for _ in range(20):
        dog.arm(5.0, lambda: None)
        dog.disarm()
    (started,) = set(threading.enumerate()) - before
    assert started.name == "trailkeeper-watchdog" and started.daemon is True


def test_the_next_events_alarm_rings_after_the_last_one_was_disarmed() -> None:
    dog = Watchdog()
    dog.arm(5.0, lambda: None)
    dog.disarm()  # the first event finished in time
    time.sleep(0.1)  # the environment sits idle between events: the thread waits with nothing armed
    fired = threading.Event()
    dog.arm(0.05, fired.set)  # the second event runs out of time
    assert fired.wait(2)

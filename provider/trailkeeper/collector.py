"""Python's garbage collector around a cold start and a run over many accounts: what lives on is set aside.

The cyclic collector scans every object that may hold a reference, again at each full collection. Boto3,
botocore and their models are tens of thousands of objects that live as long as the process; a run over an
organization makes many more (sessions, clients, findings) while threads of its own allocate. Scanning them
over and over was a quarter of a custom resource's first event and a quarter of the CPU of an organization
plan at 64 accounts at a time (docs/benchmarks.md). `gc.freeze` moves what exists into a generation the
collector no longer scans; reference counting still frees it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_then_set_aside() -> Iterator[None]:
    """For imports: the collector is off while they make their objects, which are then set aside for good.

    Whatever the block raises, the collector is back on after it."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


@contextmanager
def what_lives_on_set_aside() -> Iterator[None]:
    """Around a long run: what exists before it is not scanned during it (as before once the run ends, however
    it ends).

    A process with nothing set aside yet (the CLI, a test) gets its objects back under the collector after
    the run; one that set its imports aside (the Lambda) keeps them so, with what it holds between events."""
    first = gc.get_freeze_count() == 0
    gc.freeze()
    try:
        yield
    finally:
        if first:
            gc.unfreeze()

"""Python's garbage collector around a cold start and a run over many accounts: what lives on is set aside.

The cyclic collector scans every object that may hold a reference, again at each full collection. Boto3,
botocore and their models are tens of thousands of objects that live as long as the process; a run over an
organization makes many more (sessions, clients, findings) while threads of its own allocate. Scanning them
over and over was a tenth of a custom resource's cold start and a quarter of the CPU of an organization
plan at 64 accounts at a time (docs/benchmarks.md). `gc.freeze` moves what exists into a generation the
collector no longer scans; reference counting still frees it.

Not the audit's reads: it keeps every account's reads until it judges them, and with the process set aside
its 1,000-account run collected its old generation less often and peaked 126 MB higher (352 MB against 226).
Its judgement instead runs with the collector paused: it only builds findings.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# From how many accounts a run sets aside what lived before it. The collection that comes first costs a full
# scan of the process (milliseconds in the CLI, more in a test run's large heap): worth it only for a run long
# enough to collect many times.
LARGE_RUN_ACCOUNTS = 50


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
def what_lives_on_set_aside(accounts: int) -> Iterator[None]:
    """Around a run over `accounts` accounts: from `LARGE_RUN_ACCOUNTS`, what exists before it is not scanned
    during it (as before once the run ends, however it ends).

    The garbage of before is collected first: set aside with the rest, it would stay for the whole run (a
    300-account audit's traced peak: 68 MB with it collected, 106 MB without). A process with nothing set aside
    yet (the CLI, a test) gets its objects back under the collector after the run; one that set its imports
    aside (the Lambda) keeps them so, with what it holds between events."""
    if accounts < LARGE_RUN_ACCOUNTS:
        yield
        return
    first = gc.get_freeze_count() == 0
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        if first:
            gc.unfreeze()


@contextmanager
def paused_while_judging(accounts: int) -> Iterator[None]:
    """Around the audit's judgement of `accounts` accounts: from `LARGE_RUN_ACCOUNTS`, the collector is off while
    it builds its findings, and back on after, however the block ends (left off if it was off before).

    A 1,000-account judgement makes 232,000 findings and their verdicts, and those allocations set off full
    collections over everything the reads left: 1.9 s of its 4.8 (docs/benchmarks.md). Judging is pure
    functions over facts already read; what it drops, reference counting frees (the traced peak fell)."""
    if accounts < LARGE_RUN_ACCOUNTS or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()

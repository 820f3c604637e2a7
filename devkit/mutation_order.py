"""A pytest plugin for `make mutate` only: run the pure tests before the ones that start a local AWS.

mutmut runs each mutant's tests with -x, in no particular order, so a mutant killed by a pure table test
can still pay for dozens of moto-backed handler tests first. Running tests without those fixtures first
(and the ones that wait on purpose last) makes a killed mutant cheap; survivors cost the same.

With TRAILKEEPER_MUTATE_PURE=1 (`python -m devkit.mutation --two-pass`, the first pass) only the quick tests
run at all: none of the fixtures that start a local AWS, and under SLOW_S in mutmut's own timing of the
traced run (some tests start moto themselves). Most mutants die there in a second or two; only what
survives is re-tested with every test that reaches it.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest

_AWS = frozenset({"aws", "world", "clients", "cfn", "provider", "invoke"})
_WAITS = frozenset({"silent"})  # tests that wait for a timeout on purpose
SLOW_S = 0.25  # a test that took this long in the traced run waits for the second pass
STATS = Path("mutmut-stats.json")  # mutmut runs the tests from mutants/, where it keeps its statistics


def _cost(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    return 2 if names & _WAITS else 1 if names & _AWS else 0


@cache
def _durations(stats: Path) -> dict[str, float]:
    """How long each test took in mutmut's traced run; nothing before that run has written its statistics."""
    try:
        durations = json.loads(stats.read_text())["duration_by_test"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return durations if isinstance(durations, dict) else {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_cost)  # stable: the order within each group is kept
    if os.environ.get("TRAILKEEPER_MUTATE_PURE") == "1":
        took = _durations(STATS.resolve())
        quick: list[pytest.Item] = []
        slow: list[pytest.Item] = []
        for item in items:
            (quick if not _cost(item) and took.get(item.nodeid, 0.0) < SLOW_S else slow).append(item)
        config.hook.pytest_deselected(items=slow)
        items[:] = quick

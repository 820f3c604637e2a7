"""A pytest plugin for `make mutate` only: run the pure tests before the ones that start a local AWS.

mutmut runs each mutant's tests with -x, in no particular order, so a mutant killed by a pure table test
can still pay for dozens of moto-backed handler tests first. Running tests without those fixtures first
(and the ones that wait on purpose last) makes a killed mutant cheap; survivors cost the same.

With TRAILKEEPER_MUTATE_PURE=1 (`python -m devkit.mutation --two-pass`, the first pass) only the tests that
start no local AWS run at all: most mutants die there in a second or two, and only what survives is re-tested
with every test that reaches it.
"""

from __future__ import annotations

import os

import pytest

_AWS = frozenset({"aws", "world", "clients", "cfn", "provider", "invoke"})
_WAITS = frozenset({"silent"})  # tests that wait for a timeout on purpose


def _cost(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    return 2 if names & _WAITS else 1 if names & _AWS else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=_cost)  # stable: the order within each group is kept
    if os.environ.get("TRAILKEEPER_MUTATE_PURE") == "1":
        slow = [item for item in items if _cost(item)]
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not _cost(item)]

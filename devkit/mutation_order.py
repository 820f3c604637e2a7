"""A pytest plugin for `make mutate` only: run the pure tests before the ones that start a local AWS.

mutmut runs each mutant's tests with -x, in no particular order, so a mutant killed by a pure table test
can still pay for dozens of moto-backed handler tests first. Running tests without those fixtures first
(and the ones that wait on purpose last) makes a killed mutant cheap; survivors cost the same.
"""

from __future__ import annotations

import pytest

_AWS = frozenset({"aws", "world", "clients", "cfn", "provider", "invoke"})
_WAITS = frozenset({"silent"})  # tests that wait for a timeout on purpose


def _cost(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    return 2 if names & _WAITS else 1 if names & _AWS else 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_cost)  # stable: the order within each group is kept

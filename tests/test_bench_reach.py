"""bench/org.py's "one machine's reach": how many accounts one 15-minute invocation plans, from a measured run."""

from __future__ import annotations

from typing import Any

import pytest
from bench import org

RUN = {"accounts": 100, "regions": 17, "latency_s": 0.05, "max_accounts": 16, "wall_s": 1.0, "cpu_s": 0.5}
REAL = 1_000_000  # one running account's clients


def _reach(peak: int = 100_000, **measured: Any) -> dict[str, Any]:
    return org._reach({**RUN, **measured}, peak, REAL).data


def test_the_reach_is_the_time_limit_over_the_wall_time_per_account_scaled_by_latency() -> None:
    # 10 ms per account at 50 ms a call: 90,000 in 900 s; at 200 ms a call, four times as long: 22,500.
    reach = _reach()
    assert (reach["reach_accounts"], reach["reach_accounts_slower"]) == (90_000, 22_500)


def test_a_cpu_bound_run_is_not_made_faster_or_slower_by_latency() -> None:
    reach = _reach(cpu_s=5.0)  # 50 ms of CPU per account, more than its wall time
    assert (reach["reach_accounts"], reach["reach_accounts_slower"]) == (18_000, 18_000)


def test_memory_bounds_the_reach_when_each_account_holds_more_than_the_time_allows() -> None:
    reach = _reach(peak=100 * 1_000_000)  # 1 MB per account
    assert reach["memory_bound_accounts"] == (10 * 1024**3 - 16 * REAL) // 1_000_000
    assert reach["reach_accounts"] == reach["reach_accounts_slower"] == reach["memory_bound_accounts"]


@pytest.mark.parametrize("words", ["90,000 accounts at 50 ms per call; 22,500 at 200 ms", "past 22,500 accounts"])
def test_the_row_says_it(words: str) -> None:
    row = org._reach(RUN, 100_000, REAL)
    assert words in f"{row.figure} | {row.verdict}"

"""bench/org.py's "one process's reach": how many accounts one process plans in 15 minutes, from a measured run."""

from __future__ import annotations

from typing import Any

import pytest
from bench import org

RUN = {"accounts": 100, "regions": 17, "latency_s": 0.05, "max_accounts": 16, "wall_s": 1.0, "cpu_s": 0.5}
REAL = 1_000_000  # one running account's clients, in bytes


def _reach(real_cpu: float = 0.001, **measured: Any) -> dict[str, Any]:
    return org._reach({**RUN, **measured}, 100_000, REAL, real_cpu).data


def test_the_reach_is_the_run_time_over_the_wall_time_per_account_scaled_by_latency() -> None:
    # 10 ms per account at 50 ms a call: 90,000 in 900 s; at 200 ms a call, four times as long: 22,500.
    reach = _reach()
    assert (reach["reach_accounts"], reach["reach_accounts_slower"]) == (90_000, 22_500)
    assert reach["cpu_s_per_account"] == pytest.approx(0.006)  # the run's 5 ms and the real clients' 1 ms


def test_making_real_clients_counts_and_a_cpu_bound_run_does_not_move_with_latency() -> None:
    reach = _reach(real_cpu=0.045)  # 5 + 45 = 50 ms of CPU per account, more than its wall time
    assert (reach["reach_accounts"], reach["reach_accounts_slower"]) == (18_000, 18_000)


def test_what_it_would_hold_is_the_report_per_account_at_that_size_and_the_running_clients() -> None:
    # 1 KB per account (100 KB for 100) x 90,000 accounts, and 16 running accounts' clients of 1 MB.
    assert _reach()["held_bytes_at_reach"] == pytest.approx(90_000 * 1_000 + 16 * REAL)


@pytest.mark.parametrize(
    "words", ["at most 90,000 accounts at 50 ms per call; 22,500 at 200 ms", "past 22,500 accounts", "0.1 GB held"]
)
def test_the_row_says_it(words: str) -> None:
    row = org._reach(RUN, 100_000, REAL, 0.001)
    assert words in f"{row.figure} | {row.yardstick} | {row.verdict}"

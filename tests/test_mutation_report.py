"""`make mutate`: its report (a line of equivalent.md is stale only when its module was tested) and its two passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from devkit import mutation, mutation_order
from devkit.mutation import Mutant, report

RUN = [
    Mutant("trailkeeper.cfn.events.x_stack_status__mutmut_1", "killed"),
    Mutant("trailkeeper.cfn.events.x_stack_status__mutmut_2", "survived"),
    Mutant("trailkeeper.audit.ocsf.x_ocsf__mutmut_9", "not checked"),  # a partial run: not run, no verdict
]


def stale_lines(text: str) -> list[str]:
    heading = "## Listed as equivalent but killed or gone (update the list)"
    return [line for line in text.split(heading, 1)[1].splitlines() if line.startswith("- ")] if heading in text else []


def test_a_listed_mutant_of_a_tested_module_that_no_longer_survives_is_flagged() -> None:
    listed = {
        "trailkeeper.cfn.events.x_stack_status__mutmut_2": "equivalent",
        "trailkeeper.cfn.events.x_stack_status__mutmut_1": "was equivalent; a test kills it now",
    }
    text = report(RUN, listed)
    assert stale_lines(text) == ["- `trailkeeper.cfn.events.x_stack_status__mutmut_1`"]
    assert "| trailkeeper.cfn.events | 2 | 1 | 0 | 0 | 1 | 100.0 % |" in text


def test_a_listed_mutant_of_a_module_the_run_did_not_test_is_not_flagged() -> None:
    listed = {
        "trailkeeper.cfn.events.x_stack_status__mutmut_2": "equivalent",
        "trailkeeper.audit.ocsf.x_ocsf__mutmut_9": "equivalent, judged in another run",
        "trailkeeper.audit.delivery.x_notifications__mutmut_*": "equivalent, judged in another run",
    }
    text = report(RUN, listed)
    assert stale_lines(text) == []
    assert "1 mutants were not run" in text


class _Item:
    def __init__(self, name: str, *fixtures: str) -> None:
        self.name, self.nodeid, self.fixturenames = name, f"tests/test_x.py::{name}", fixtures


class _Config:
    def __init__(self) -> None:
        self.deselected: list[str] = []
        self.hook = self

    def pytest_deselected(self, items: list[_Item]) -> None:
        self.deselected += [item.name for item in items]


def test_the_first_pass_runs_only_the_tests_that_start_no_local_aws(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    items = [_Item("waits", "silent"), _Item("moto", "aws", "tmp_path"), _Item("pure", "tmp_path"), _Item("table")]
    config = _Config()
    monkeypatch.setenv("TRAILKEEPER_MUTATE_PURE", "1")
    monkeypatch.setattr(mutation_order, "STATS", tmp_path / "none-yet.json")  # before the traced run
    mutation_order.pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert [item.name for item in items] == ["pure", "table"]
    assert config.deselected == ["moto", "waits"]


def test_the_first_pass_leaves_out_the_tests_the_traced_run_found_slow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stats = tmp_path / "mutmut-stats.json"
    took = {"quick": 0.01, "just": mutation_order.SLOW_S - 0.001, "slow": mutation_order.SLOW_S}
    stats.write_text(json.dumps({"duration_by_test": {f"tests/test_x.py::{k}": v for k, v in took.items()}}))
    items = [_Item("slow"), _Item("just"), _Item("quick"), _Item("untimed")]
    config = _Config()
    monkeypatch.setenv("TRAILKEEPER_MUTATE_PURE", "1")
    monkeypatch.setattr(mutation_order, "STATS", stats)
    mutation_order.pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert [item.name for item in items] == ["just", "quick", "untimed"]
    assert config.deselected == ["slow"]


def test_a_full_pass_keeps_every_test_the_pure_ones_first(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [_Item("waits", "silent"), _Item("moto", "cfn"), _Item("pure")]
    config = _Config()
    monkeypatch.setenv("TRAILKEEPER_MUTATE_PURE", "0")
    mutation_order.pytest_collection_modifyitems(config, items)  # type: ignore[arg-type]
    assert [item.name for item in items] == ["pure", "moto", "waits"]
    assert config.deselected == []


def test_the_second_pass_retests_only_what_the_first_left_alive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stats = tmp_path / "mutmut-stats.json"
    stats.write_text("{}")
    runs: list[tuple[list[str], bool, bool]] = []
    first = [
        Mutant("trailkeeper.errors.x_a__mutmut_1", "killed"),
        Mutant("trailkeeper.errors.x_a__mutmut_2", "survived"),
        Mutant("trailkeeper.errors.x_a__mutmut_3", "no tests"),
        Mutant("trailkeeper.errors.x_a__mutmut_4", "timeout"),
        Mutant("trailkeeper.redaction.x_b__mutmut_1", "survived"),  # not asked for this time
    ]
    monkeypatch.setattr(mutation, "STATS", stats)
    monkeypatch.setattr(mutation, "stage", lambda keep: None)
    monkeypatch.setattr(mutation, "results", lambda: first)
    monkeypatch.setattr(mutation, "run", lambda jobs, names, pure=False: runs.append((names, pure, stats.exists())))
    mutation.two_passes(2, ["trailkeeper.errors.*"])
    assert runs == [
        (["trailkeeper.errors.*"], True, True),
        (["trailkeeper.errors.x_a__mutmut_2", "trailkeeper.errors.x_a__mutmut_3"], False, False),
    ]


def test_no_second_pass_when_the_first_kills_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[bool] = []
    monkeypatch.setattr(mutation, "results", lambda: [Mutant("trailkeeper.errors.x_a__mutmut_1", "killed")])
    monkeypatch.setattr(mutation, "run", lambda jobs, names, pure=False: runs.append(pure))
    mutation.two_passes(2, [])
    assert runs == [True]

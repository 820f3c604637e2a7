"""The garbage collector around a cold start and around runs over many accounts (trailkeeper/collector.py):
what lives on is set aside (gc.freeze), and the collector always comes back on."""

from __future__ import annotations

import gc
import io
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from devkit import organization

from trailkeeper import collector
from trailkeeper.aws.calls import Clients
from trailkeeper.cli.main import main


@pytest.fixture
def nothing_set_aside() -> Iterator[None]:
    """As in the CLI's process: nothing frozen before (a test that imported the handler froze its imports)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_imports_run_with_the_collector_paused_and_what_they_made_is_set_aside(nothing_set_aside: None) -> None:
    with collector.paused_then_set_aside():
        paused = not gc.isenabled()
        made: list[list[int]] = [[] for _ in range(1000)]
    assert paused and gc.isenabled()
    assert gc.get_freeze_count() >= len(made)


def test_the_collector_comes_back_on_when_an_import_fails(nothing_set_aside: None) -> None:
    with pytest.raises(ImportError), collector.paused_then_set_aside():
        raise ImportError("no module named 'missing'")
    assert gc.isenabled()


def test_a_large_run_sets_aside_what_exists_and_gives_it_back_after(nothing_set_aside: None) -> None:
    with collector.what_lives_on_set_aside(collector.LARGE_RUN_ACCOUNTS):
        during = gc.get_freeze_count()
    assert during > 0
    assert gc.get_freeze_count() == 0  # the CLI's objects are the collector's again


def test_the_garbage_of_before_is_collected_not_set_aside_with_the_rest(nothing_set_aside: None) -> None:
    class Node:
        pass

    loop = Node()
    loop.me = loop  # type: ignore[attr-defined]
    gone = weakref.ref(loop)
    del loop  # garbage in a cycle: only the collector frees it
    with collector.what_lives_on_set_aside(collector.LARGE_RUN_ACCOUNTS):
        assert gone() is None


def test_a_small_run_leaves_the_collector_as_it_is(nothing_set_aside: None) -> None:
    with collector.what_lives_on_set_aside(collector.LARGE_RUN_ACCOUNTS - 1):
        assert gc.get_freeze_count() == 0


def test_a_run_keeps_set_aside_what_a_cold_start_set_aside(nothing_set_aside: None) -> None:
    with collector.paused_then_set_aside():
        imported: list[list[int]] = [[] for _ in range(1000)]
    before = gc.get_freeze_count()
    with pytest.raises(RuntimeError), collector.what_lives_on_set_aside(collector.LARGE_RUN_ACCOUNTS):
        raise RuntimeError("an account failed")
    assert gc.get_freeze_count() >= before >= len(imported)


def test_a_large_judgement_runs_with_the_collector_off_and_turns_it_back_on(nothing_set_aside: None) -> None:
    with pytest.raises(RuntimeError), collector.paused_while_judging(collector.LARGE_RUN_ACCOUNTS):
        assert not gc.isenabled()
        raise RuntimeError("a control raised")
    assert gc.isenabled()


def test_a_small_judgement_leaves_the_collector_on(nothing_set_aside: None) -> None:
    with collector.paused_while_judging(collector.LARGE_RUN_ACCOUNTS - 1):
        assert gc.isenabled()


def test_a_collector_turned_off_before_the_judgement_stays_off(nothing_set_aside: None) -> None:
    gc.disable()
    try:
        with collector.paused_while_judging(collector.LARGE_RUN_ACCOUNTS):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "argv",
    [
        ["plan", "--organization", "--region", "us-east-1"],
        ["export", "--organization", "--region", "us-east-1"],
    ],
    ids=["plan", "export"],
)
def test_an_organization_run_works_with_what_lived_before_it_set_aside(
    argv: list[str],
    tmp_path: Path,
    org: organization.Organization,
    monkeypatch: pytest.MonkeyPatch,
    nothing_set_aside: None,
) -> None:
    seen: list[int] = []  # how many objects were set aside at each client asked for (before and in the run)
    client = Clients.client

    def watched(self: Clients, service: str, region: str) -> object:
        seen.append(gc.get_freeze_count())
        return client(self, service, region)

    monkeypatch.setattr(Clients, "client", watched)
    monkeypatch.setattr(collector, "LARGE_RUN_ACCOUNTS", 2)  # the organization here has five accounts
    if argv[0] == "plan":
        state = tmp_path / "desired.yaml"
        state.write_text("trails:\n  - Name: audit-trail\n    EnableLogFileValidation: true\n")
        argv = [*argv, "-f", str(state)]
    main(argv, out=io.StringIO(), err=io.StringIO())
    assert any(count > 0 for count in seen)
    assert gc.get_freeze_count() == 0

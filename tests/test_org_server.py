"""Accounts in parallel for real: an organization run on moto's server (thread-safe, unlike moto
in-process), several accounts at once, each with its own credentials, clients and pacing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from devkit import local, organization
from devkit import world as seeding

from trailkeeper.aws.calls import Clients
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import state
from trailkeeper.org import accounts
from trailkeeper.org import reconcile as org_run


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with local.local_aws() as (endpoint, _):
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        yield endpoint


def test_accounts_run_in_parallel_each_with_its_own_credentials(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    seeding.seed(server)
    org = organization.seed(server)
    running, most, lock = 0, 0, threading.Lock()
    together = threading.Barrier(2, timeout=10)  # the first two accounts must be running at the same time
    callers: list[str | None] = []
    real_run = fleet.run

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            callers.append(kwargs["caller_account"])
            first_two = len(callers) <= 2
        if first_two:
            together.wait()  # breaks (and fails that account) if accounts ran one after another
        try:
            return real_run(*args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(org_run.reconcile, "run", counted)
    clients = Clients()
    selected = accounts.discover(
        clients, "us-east-1", org_run.Deadline(), caller_account=org.management, partition="aws"
    )
    declared = state.parse({"trails": [{"Name": "audit-trail", "EnableLogFileValidation": True}]})
    done: list[tuple[int, int]] = []
    result = org_run.run(
        declared,
        selected,
        clients=clients,
        default_region="us-east-1",
        apply=True,
        max_accounts=4,
        progress=lambda stage, n, total: done.append((n, total)),
    )
    assert result.exit_code == 0 and result.count("fixed") == 4
    assert {r.account for r in result.results} == {org.management, *org.members.values()}
    assert sorted(callers) == sorted(a.id for a in selected)  # each account is its own caller
    assert most > 1  # accounts overlapped
    assert done[-1] == (4, 4) and len(done) == 4  # progress counts accounts
    again = org_run.run(declared, selected, clients=Clients(), default_region="us-east-1", apply=False, max_accounts=4)
    assert again.count("in_sync") == 4

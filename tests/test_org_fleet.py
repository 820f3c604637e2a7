"""Fleet declarations in organization runs (issue 16): a pattern applies in every selected account and in
every region scanned there, with the AWS calls of each account at the limit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from devkit import organization, regions

from tests.test_org_run import by_account, run_json
from trailkeeper.aws.calls import Clients
from trailkeeper.fleet import report

ENABLED = len(regions.ENABLED_BY_DEFAULT)
BASELINE = "trails:\n  - Name: '*'\n    EnableLogFileValidation: true\n"


@pytest.fixture
def calls(org: organization.Organization, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Every AWS call of the run, from every account's clients: (operation, region)."""
    seen: list[tuple[str, str]] = []
    original = Clients.client

    def client(self: Clients, service: str, region: str) -> Any:
        fresh = (service, region) not in self._clients
        made = original(self, service, region)
        if fresh:
            made.meta.events.register("provide-client-params", lambda model, **_: seen.append((model.name, region)))
        return made

    monkeypatch.setattr(Clients, "client", client)
    yield seen


def state(tmp_path: Path, text: str = BASELINE) -> Path:
    path = tmp_path / "desired.yaml"
    path.write_text(text)
    return path


def test_a_pattern_applies_in_every_account_and_region_then_writes_nothing(
    tmp_path: Path, org: organization.Organization, calls: list[tuple[str, str]]
) -> None:
    desired = state(tmp_path)
    code, document = run_json("apply", "-f", str(desired), "--organization")
    assert code == report.EXIT_OK
    members = org.members
    trails = {account: sorted(found) for account, found in by_account(document).items()}
    assert trails == {
        org.management: [("audit-trail", "fixed")],
        **{members[n]: [("audit-trail", "fixed"), ("regional-trail", "fixed")] for n in ("web", "payments", "lab")},
    }
    assert all(t["declared_by"] == [{"index": 0, "name": "*"}] for t in document["trails"])
    accounts = 1 + len(members)
    made = Counter(operation for operation, _ in calls)
    # Per account: one DescribeRegions and one DescribeTrails per enabled region; one AssumeRole per member;
    # one UpdateTrail per drifted trail; the run's own identity and account listing.
    assert made["AssumeRole"] == len(members) and made["DescribeRegions"] == accounts
    assert made["DescribeTrails"] == accounts * ENABLED and made["UpdateTrail"] == 7
    calls.clear()
    code, document = run_json("apply", "-f", str(desired), "--organization")
    assert code == report.EXIT_OK and document["summary"]["in_sync"] == 7
    assert not [c for c in calls if c[0] in ("UpdateTrail", "StartLogging", "PutEventSelectors", "AddTags")]


def test_regions_given_bound_every_account(
    tmp_path: Path, org: organization.Organization, calls: list[tuple[str, str]]
) -> None:
    code, document = run_json("plan", "-f", str(state(tmp_path)), "--organization", "--region", "eu-west-1")
    assert code == report.EXIT_DRIFT
    # Only eu-west-1: each member's regional-trail; the shadows of audit-trail seen there (homed in
    # us-east-1, not scanned) are never matched by a pattern.
    assert sorted(t["name"] for t in document["trails"]) == ["regional-trail"] * 3
    made = Counter(operation for operation, _ in calls)
    assert "DescribeRegions" not in made and made["DescribeTrails"] == 1 + len(org.members)
    assert {region for operation, region in calls if operation == "DescribeTrails"} == {"eu-west-1"}


def test_an_inventory_s_regions_are_the_account_s_regions_to_scan(
    tmp_path: Path, org: organization.Organization, calls: list[tuple[str, str]]
) -> None:
    inventory = tmp_path / "accounts.yml"
    payments = org.members["payments"]
    inventory.write_text(f"accounts:\n  - account_id: '{payments}'\n    regions: [eu-west-1, us-east-1]\n")
    code, document = run_json("plan", "-f", str(state(tmp_path)), "--accounts", str(inventory))
    assert code == report.EXIT_DRIFT
    assert sorted(by_account(document)[payments]) == [("audit-trail", "drifted"), ("regional-trail", "drifted")]
    assert sorted(r for o, r in calls if o == "DescribeTrails") == ["eu-west-1", "us-east-1"]
    assert "DescribeRegions" not in {o for o, _ in calls}


def test_a_pattern_that_matches_in_no_account_is_an_error(tmp_path: Path, org: organization.Organization) -> None:
    code, document = run_json(
        "plan", "-f", str(state(tmp_path, "trails:\n  - Name: nobody-*\n    IsLogging: true\n")), "--organization"
    )
    assert code == report.EXIT_FAILED and document["error"]["code"] == "NothingMatched"

"""The organization report, without AWS: per-account counts, failed accounts, notes, the schema."""

from __future__ import annotations

import jsonschema
import pytest

from trailkeeper.errors import AwsCallFailed
from trailkeeper.fleet import report
from trailkeeper.fleet.report import AccountRun, NotOwned, Report, TrailResult

A, B, C = "111111111111", "222222222222", "333333333333"
DENIED = AwsCallFailed("AccessDenied", "AssumeRole", f"account {C} (c): cannot assume arn:aws:iam::{C}:role/R")
ORG_TRAIL = f"arn:aws:cloudtrail:us-east-1:{A}:trail/org"


def organization_report() -> Report:
    return Report(
        "plan",
        (
            TrailResult("audit", "in_sync", f"arn:aws:cloudtrail:us-east-1:{A}:trail/audit", "us-east-1", account=A),
            TrailResult("audit", "drifted", f"arn:aws:cloudtrail:us-east-1:{B}:trail/audit", "us-east-1", account=B),
        ),
        accounts=(AccountRun(A, "a"), AccountRun(B, "b"), AccountRun(C, "c", DENIED)),
        not_owned=(NotOwned(ORG_TRAIL, A, 2),),
    )


def test_per_account_counts_and_a_failed_account_in_the_json_report() -> None:
    document = organization_report().to_dict()
    jsonschema.validate(document, report.SCHEMA)
    # The trail counts say nothing failed (a failed account has no trail results): the top says one did.
    assert (document["summary"]["failed"], document["summary"]["accounts_failed"]) == (0, 1)
    accounts = {a["account"]: a for a in document["summary"]["accounts"]}
    assert (accounts[B]["trails"], accounts[B]["drifted"], accounts[B]["error"]) == (1, 1, None)
    assert accounts[C]["error"] == {"code": "AccessDenied", "reason": DENIED.reason}
    assert document["not_owned"] == [{"trail_arn": ORG_TRAIL, "owner_account": A, "seen_in_accounts": 2}]


def test_a_failed_account_fails_the_run_even_with_no_trail_results() -> None:
    assert organization_report().exit_code == report.EXIT_FAILED
    only_failed = Report("plan", (), accounts=(AccountRun(C, "c", DENIED),))
    assert only_failed.exit_code == report.EXIT_FAILED


def test_single_account_reports_are_unchanged() -> None:
    document = Report("plan", (TrailResult("audit", "in_sync"),)).to_dict()
    assert set(document) == {"action", "summary", "trails"} and "accounts" not in document["summary"]
    assert "account" not in document["trails"][0]


def test_the_schema_refuses_a_malformed_account() -> None:
    document = organization_report().to_dict()
    document["trails"][0]["account"] = "12"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, report.SCHEMA)


def test_the_schema_requires_the_failed_account_count_of_an_organization_run() -> None:
    document = organization_report().to_dict()
    del document["summary"]["accounts_failed"]
    with pytest.raises(jsonschema.ValidationError, match="'accounts_failed' is a dependency of 'accounts'"):
        jsonschema.validate(document, report.REPORT_SCHEMA)


def test_the_table_names_each_account_once_and_notes_copies_once() -> None:
    lines = report.table(organization_report()).splitlines()
    assert lines[0].split()[:4] == ["ACCOUNT", "TRAIL", "DECLARED", "BY"]
    assert lines[1].split()[:5] == [A, "(a)", "audit", "-", "us-east-1"]
    assert lines[3].startswith(f"{C} (c)") and "AccessDenied" in lines[3]
    assert sum(ORG_TRAIL in line for line in lines) == 1
    assert lines[-1] == "plan: 2 trail(s) in 3 account(s), 1 failed: 1 in sync, 1 drifted, 0 fixed, 0 failed"

"""The drift report as its readers see it, without AWS: every key of a trail's JSON (its changes, and what each
write did when some failed), the optional parts of the document, the table people read cell by cell, and the
error document `--json` prints when there is no report."""

from __future__ import annotations

import jsonschema
import pytest

from trailkeeper.errors import AwsCallFailed, InvalidState, TrailkeeperError, TrailNotFound, Writes
from trailkeeper.fleet import report
from trailkeeper.fleet.report import AccountRun, NotOwned, Report, TrailResult
from trailkeeper.trail.aspect import Change, Weakening

A, B, C = "111111111111", "222222222222", "333333333333"
ARN = f"arn:aws:cloudtrail:us-east-1:{A}:trail/audit"
KEY = f"arn:aws:kms:us-east-1:{A}:key/k"
CHANGES = (
    Change("KmsKeyId", "", KEY, moves=True),
    Change("IsLogging", True, False, weakens="CloudTrail.1"),
    Change("EventSelectors", None, [{"ReadWriteType": "All"}]),
)


def failed_writes() -> AwsCallFailed:
    """UpdateTrail and AddTags failed after StartLogging landed; PutInsightSelectors waited on UpdateTrail."""
    denied = AwsCallFailed("KmsException", "UpdateTrail", "the key policy denies CloudTrail")
    tags = AwsCallFailed("TagsLimitExceededException", "AddTags", "too many tags")
    denied.writes = Writes(
        ("StartLogging",),
        (("UpdateTrail", denied), ("AddTags", tags)),
        (("PutInsightSelectors", "it needs UpdateTrail"),),
    )
    return denied


def drifted() -> TrailResult:
    refused = (Weakening("IsLogging", "true -> false", "CloudTrail.1"),)
    return TrailResult(
        "audit", "drifted", ARN, "us-east-1", CHANGES, refused=refused, declared_by=((0, "audit"), (2, "*"))
    )


def broken() -> TrailResult:
    # Refused too, but failed: the hint about --allow-weakening is for drifted trails only.
    refused = (Weakening("IsLogging", "true -> false", "CloudTrail.1"),)
    return TrailResult(
        "broken", "failed", None, "eu-west-1", error=failed_writes(), refused=refused, declared_by=((1, "broken"),)
    )


def one_account() -> Report:
    return Report("plan", (drifted(), broken(), TrailResult("quiet", "in_sync")), warnings=("w1", "w2"), skipped="why")


# --- the JSON of a trail --------------------------------------------------------------------------------------


def test_a_trails_changes_say_property_current_desired_weakens_and_moves() -> None:
    assert drifted().to_dict() == {
        "name": "audit",
        "declared_by": [{"index": 0, "name": "audit"}, {"index": 2, "name": "*"}],
        "trail_arn": ARN,
        "home_region": "us-east-1",
        "status": "drifted",
        "changes": [
            {"property": "KmsKeyId", "current": "", "desired": KEY, "weakens": None, "moves": True},
            {"property": "IsLogging", "current": True, "desired": False, "weakens": "CloudTrail.1", "moves": False},
            {
                "property": "EventSelectors",
                "current": None,
                "desired": [{"ReadWriteType": "All"}],
                "weakens": None,
                "moves": False,
            },
        ],
        "error": None,
    }


def test_a_failed_trails_error_says_what_every_write_did() -> None:
    assert broken().to_dict()["error"] == {
        "code": "KmsException",
        "reason": (
            "KmsException: already written: StartLogging; UpdateTrail failed: the key policy denies CloudTrail; "
            "AddTags failed (TagsLimitExceededException): too many tags; "
            "PutInsightSelectors not attempted: it needs UpdateTrail"
        ),
        "written": ["StartLogging"],
        "failed": [
            {"operation": "UpdateTrail", "code": "KmsException", "reason": "the key policy denies CloudTrail"},
            {"operation": "AddTags", "code": "TagsLimitExceededException", "reason": "too many tags"},
        ],
        "not_attempted": [{"operation": "PutInsightSelectors", "why": "it needs UpdateTrail"}],
    }


def test_a_trail_of_an_organization_run_names_its_account() -> None:
    result = TrailResult("audit", "in_sync", ARN, "us-east-1", account=B, account_name="b")
    assert (result.to_dict()["account"], result.to_dict()["account_name"]) == (B, "b")
    assert "account" not in TrailResult("audit", "in_sync").to_dict()


# --- the document's optional parts ----------------------------------------------------------------------------


def test_warnings_and_why_an_event_was_skipped_are_in_the_document() -> None:
    document = one_account().to_dict()
    jsonschema.validate(document, report.SCHEMA)
    assert (document["warnings"], document["skipped"]) == (["w1", "w2"], "why")
    assert [trail["status"] for trail in document["trails"]] == ["drifted", "failed", "in_sync"]
    assert "not_owned" not in document and "warnings" not in Report("plan", ()).to_dict()


def test_organization_trails_not_owned_are_listed_even_without_accounts() -> None:
    document = Report("plan", (), not_owned=(NotOwned(ARN, A, 2),)).to_dict()
    assert document["not_owned"] == [{"trail_arn": ARN, "owner_account": A, "seen_in_accounts": 2}]


# --- the table ------------------------------------------------------------------------------------------------


def test_the_table_shows_each_change_each_failure_and_what_apply_would_refuse() -> None:
    long_reason = (
        "KmsException: already written: StartLogging; UpdateTrail failed: the key policy denies CloudTrail; "
        "AddTags failed (TagsLimitExceededException): too many tags; "
        "PutInsightSelectors not attempted: it needs UpdateTrail"
    )
    assert report.table(one_account()).splitlines() == [
        "TRAIL   DECLARED BY       HOME REGION  STATUS   PROPERTY        CURRENT -> DECLARED",
        f"audit   [0] audit, [2] *  us-east-1    drifted  KmsKeyId        '' -> {KEY}  [moves audit logs]",
        "                                                IsLogging       true -> false  [weakens audit: CloudTrail.1]",
        '                                                EventSelectors  ? -> [{"ReadWriteType":"All"}]',
        f"broken  [1] broken        eu-west-1    failed                   {long_reason}",
        "quiet   -                 -            in sync",
        "plan: 3 trail(s): 1 in sync, 1 drifted, 0 fixed, 1 failed",
        "warning: w1",
        "warning: w2",
        "skipped: why",
        "apply would refuse the changes that weaken audit on 1 trail(s) (audit): "
        "declare AllowWeakening for them, or pass --allow-weakening",
    ]


def test_the_table_names_every_drifted_trail_apply_would_refuse() -> None:
    refused = (Weakening("IsLogging", "true -> false", "CloudTrail.1"),)
    results = tuple(TrailResult(name, "drifted", refused=refused) for name in ("audit", "backup"))
    assert report.table(Report("plan", results)).splitlines()[-1] == (
        "apply would refuse the changes that weaken audit on 2 trail(s) (audit, backup): "
        "declare AllowWeakening for them, or pass --allow-weakening"
    )


def test_the_organization_table_groups_rows_by_account_and_shows_a_failed_account_whole() -> None:
    results = (
        TrailResult("audit", "fixed", ARN, "us-east-1", CHANGES[:2], account=B),
        TrailResult("other", "in_sync", None, "us-east-1", account=B),
        TrailResult("elsewhere", "in_sync", None, "us-east-1", account=C),  # an account not in the run
    )
    denied = AwsCallFailed("AccessDenied", "AssumeRole", "cannot assume R")
    accounts = (AccountRun(A, "a", denied), AccountRun(B, ""))
    assert report.table(Report("apply", results, accounts=accounts)).splitlines() == [
        "ACCOUNT           TRAIL  DECLARED BY  HOME REGION  STATUS   PROPERTY   CURRENT -> DECLARED",
        "111111111111 (a)  -      -            -            failed              AccessDenied: cannot assume R",
        f"222222222222      audit  -            us-east-1    fixed    KmsKeyId   '' -> {KEY}  [moves audit logs]",
        " " * 60 + "IsLogging  true -> false  [weakens audit: CloudTrail.1]",
        "                  other  -            us-east-1    in sync",
        "apply: 3 trail(s) in 2 account(s), 1 failed: 2 in sync, 0 drifted, 1 fixed, 0 failed",
    ]


# --- when there is no report ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "problems"),
    [
        (InvalidState(["d.yaml: trails[0]: Name: required", "d.yaml: trails[1]: Typo: unknown"]), 2),
        (TrailNotFound("no trail named audit"), 1),
    ],
)
def test_the_error_document_lists_every_problem_or_the_reason(error: TrailkeeperError, problems: int) -> None:
    document = report.error_document(error)
    jsonschema.validate(document, report.SCHEMA)
    expected = list(getattr(error, "problems", ())) or [error.reason]
    assert document == {"error": {"code": error.error_code, "reason": error.reason, "problems": expected}}
    assert len(document["error"]["problems"]) == problems

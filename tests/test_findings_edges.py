"""The audit's report as its readers get it, built by hand (no AWS, no moto).

- a finding carries its control's id in the standard asked, title and remedy, the verdict's status, reason and
  warnings, and a fix only when the control fails;
- the JSON document (`--json`, the Lambda's answer) has exactly the documented keys, counts per status and per
  control, and `fix` only when --fix ran;
- the table (`--format table`, the default) says each control's counts in aligned columns, then every finding
  that did not pass (or warns) under its control with the remedy once, the summary, each error, and what --fix
  did: the state file written, the engine's plan or apply, each policy of the delivery chain extended or why not;
- the regions an account was audited in, as the HTML page and the memory of past runs ask them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jsonschema
import pytest

from trailkeeper.audit import controls, table
from trailkeeper.audit.chain import BUCKET, TOPIC, Link
from trailkeeper.audit.chain_fix import EditStatus, PolicyEdit
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Status, Verdict
from trailkeeper.audit.findings import AUDIT_SCHEMA, Audit, AuditError, Finding, Fix
from trailkeeper.fleet import report

ACCOUNT, OTHER_ACCOUNT, HOME, OTHER = "111122223333", "444455556666", "us-east-1", "eu-west-1"
TRAIL = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/audit"
SECOND = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/second"
PLACE = f"AWS::::Account:{ACCOUNT}"  # an account-level control's resource, as Security Hub names it
BUCKET_LINK = Link(BUCKET, "arn:aws:s3:::logs", "", "")
TOPIC_LINK = Link(TOPIC, f"arn:aws:sns:{HOME}:{ACCOUNT}:notices", ACCOUNT, HOME)
VALIDATION = controls.BY_KEY["validation"]  # CloudTrail.4 in fsbp, 4.2 in cis-6.0


def finding(
    control: str,
    standard: str,
    status: Status,
    resource: str = TRAIL,
    region: str = HOME,
    reason: str = "why",
    **kw: Any,
) -> Finding:
    return Finding(
        control, standard, status, resource, ACCOUNT, region, f"{control} title", reason, f"{control} do", **kw
    )


def edit(link: Link, status: EditStatus, reason: str = "", trails: tuple[str, ...] = (TRAIL,)) -> PolicyEdit:
    """A policy edit whose diff is two lines long: the policy as read ("a") and one line appended ("b")."""
    return PolicyEdit(link, trails, "a\n", "" if status == "refused" else "a\nb\n", status, reason)


# --- a finding: what the verdict and the control say ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "fix"),
    [(FAIL, {"Name": TRAIL, "EnableLogFileValidation": True}), (PASS, None), (NOT_AVAILABLE, None)],
)
def test_a_finding_carries_the_verdict_and_a_fix_only_when_the_control_fails(
    status: Status, fix: dict[str, Any] | None
) -> None:
    verdict = Verdict(
        status, "log file validation is disabled", {"Name": TRAIL, "EnableLogFileValidation": True}, ("w",)
    )
    got = Finding.of(VALIDATION, "cis-6.0", verdict, resource=TRAIL, account=ACCOUNT, region=HOME, partition="aws-cn")
    assert got == Finding(
        "4.2",
        "cis-6.0",
        status,
        TRAIL,
        ACCOUNT,
        HOME,
        VALIDATION.title,
        "log file validation is disabled",
        VALIDATION.remedy,
        fix,
        ("w",),
        "aws-cn",
    )


def test_a_finding_is_in_the_aws_partition_unless_told() -> None:
    got = Finding.of(VALIDATION, "fsbp", Verdict(PASS, "on"), resource=TRAIL, account=ACCOUNT, region=HOME)
    assert (got.control, got.partition) == ("CloudTrail.4", "aws")


# --- the JSON document ---------------------------------------------------------------------------------------


def test_a_finding_reads_as_the_documented_keys() -> None:
    failing = finding("CloudTrail.4", "fsbp", FAIL, fix={"Name": TRAIL, "KmsKeyId": "k"}, warnings=("w",))
    assert failing.to_dict() == {
        "control": "CloudTrail.4",
        "standard": "fsbp",
        "status": FAIL,
        "resource": TRAIL,
        "account": ACCOUNT,
        "region": HOME,
        "title": "CloudTrail.4 title",
        "reason": "why",
        "remedy": "CloudTrail.4 do",
        "fix": {"Name": TRAIL, "KmsKeyId": "k"},
        "warnings": ["w"],
    }
    assert finding("CloudTrail.4", "fsbp", PASS).to_dict()["fix"] is None


def test_an_error_reads_as_the_documented_keys() -> None:
    error = AuditError(ACCOUNT, OTHER, "AccessDenied", "GetTrailStatus was refused")
    assert error.to_dict() == {
        "account": ACCOUNT,
        "region": OTHER,
        "code": "AccessDenied",
        "reason": "GetTrailStatus was refused",
    }


def test_what_fix_did_reads_as_the_documented_keys() -> None:
    plan = report.Report("plan", ())
    done = Fix(({"Name": TRAIL, "KmsKeyId": "k"},), plan, "state.yaml", 3, 2, (edit(BUCKET_LINK, "refused", "no"),))
    assert done.to_dict() == {
        "declarations": [{"Name": TRAIL, "KmsKeyId": "k"}],
        "report": plan.to_dict(),
        "state_file": "state.yaml",
        "state_trails": 3,
        "export_reads": 2,
        "policies": [edit(BUCKET_LINK, "refused", "no").to_dict()],
    }
    assert Fix(()).to_dict() == {
        "declarations": [],
        "report": None,
        "state_file": None,
        "state_trails": None,
        "export_reads": None,
        "policies": [],
    }


AUDITED = (
    finding("CloudTrail.1", "fsbp", FAIL, PLACE),
    finding("CloudTrail.1", "fsbp", PASS, PLACE, OTHER),
    finding("CloudTrail.4", "fsbp", PASS),
    finding("CloudTrail.4", "fsbp", PASS, SECOND),
    finding("4.2", "cis-6.0", NOT_AVAILABLE),
    finding("4.2", "cis-6.0", NOT_AVAILABLE, SECOND),
)


@pytest.mark.parametrize("fix", [None, Fix(())], ids=["audit", "with --fix"])
def test_the_document_counts_each_status_overall_and_per_control(fix: Fix | None) -> None:
    audit = Audit(
        ("fsbp", "cis-6.0"),
        (HOME, OTHER),
        AUDITED,
        (AuditError(OTHER_ACCOUNT, "", "AccessDenied", "cannot assume the role"),),
        (ACCOUNT, OTHER_ACCOUNT),
        fix,
    )
    document = audit.to_dict()
    jsonschema.validate(document, AUDIT_SCHEMA)
    assert document == {
        "standards": ["fsbp", "cis-6.0"],
        "regions": [HOME, OTHER],
        "accounts": [ACCOUNT, OTHER_ACCOUNT],
        "summary": {
            "findings": 6,
            PASS: 3,
            FAIL: 1,
            NOT_AVAILABLE: 2,
            "errors": 1,
            "controls": [
                {"control": "CloudTrail.1", "standard": "fsbp", PASS: 1, FAIL: 1, NOT_AVAILABLE: 0},
                {"control": "CloudTrail.4", "standard": "fsbp", PASS: 2, FAIL: 0, NOT_AVAILABLE: 0},
                {"control": "4.2", "standard": "cis-6.0", PASS: 0, FAIL: 0, NOT_AVAILABLE: 2},
            ],
        },
        "findings": [f.to_dict() for f in AUDITED],
        "errors": [
            {"account": OTHER_ACCOUNT, "region": "", "code": "AccessDenied", "reason": "cannot assume the role"}
        ],
        **({"fix": Fix(()).to_dict()} if fix else {}),
    }


# --- the regions each account was audited in -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "account", "regions"),
    [
        ({}, ACCOUNT, (HOME, OTHER)),  # no scope recorded: every region of the run
        ({ACCOUNT: (OTHER,)}, ACCOUNT, (OTHER,)),  # the account's own
        ({ACCOUNT: (OTHER,)}, OTHER_ACCOUNT, ()),  # an account that could not be audited at all
    ],
)
def test_an_account_was_audited_in_its_own_regions(
    scope: dict[str, tuple[str, ...]], account: str, regions: tuple[str, ...]
) -> None:
    assert Audit(("fsbp",), (HOME, OTHER), (), scope=scope).regions_of(account) == regions


# --- the table -----------------------------------------------------------------------------------------------


def test_the_table_lists_counts_then_what_did_not_pass_with_its_remedy_then_the_errors() -> None:
    audit = Audit(
        ("fsbp", "cis-6.0"),
        (HOME, OTHER),
        (
            *AUDITED[:4],  # CloudTrail.4 passes everywhere: no details
            finding("4.2", "cis-6.0", NOT_AVAILABLE, reason="denied"),
            finding("4.2", "cis-6.0", PASS, SECOND, warnings=("late", "slow")),  # a pass that warns is shown
            finding("CloudTrail.5", "fsbp", FAIL),  # its only finding
        ),
        (
            AuditError(ACCOUNT, OTHER, "AccessDenied", "no reads"),
            AuditError(OTHER_ACCOUNT, "", "AccessDenied", "no role"),
        ),
        (ACCOUNT, OTHER_ACCOUNT),
    )
    assert table.table(audit).split("\n") == [
        "CONTROL       STANDARD  PASS  FAIL  N/A  TITLE",
        "CloudTrail.1  fsbp      1     1     0    CloudTrail.1 title",
        "CloudTrail.4  fsbp      2     0     0    CloudTrail.4 title",
        "4.2           cis-6.0   1     0     1    4.2 title",
        "CloudTrail.5  fsbp      0     1     0    CloudTrail.5 title",
        "",
        "fsbp CloudTrail.1: CloudTrail.1 title",
        f"  FAIL          {PLACE} {HOME}: why",  # an account-level finding names its region
        "  remedy        CloudTrail.1 do",
        "",
        "cis-6.0 4.2: 4.2 title",
        f"  NOT_AVAILABLE {TRAIL}: denied",
        f"  PASS          {SECOND}: why",
        "  WARNING       late",
        "  WARNING       slow",  # no remedy: nothing fails
        "",
        "fsbp CloudTrail.5: CloudTrail.5 title",
        f"  FAIL          {TRAIL}: why",
        "  remedy        CloudTrail.5 do",
        "",
        "audit: 7 finding(s) in 2 account(s), 2 region(s): 4 pass, 2 fail, 1 not available",
        f"error: {ACCOUNT} {OTHER}: no reads",
        f"error: {OTHER_ACCOUNT}: no role",  # an account that could not be audited at all: no region
    ]


def test_a_title_left_empty_leaves_no_trailing_spaces() -> None:
    audit = Audit(("fsbp",), (HOME,), (dataclasses.replace(finding("CloudTrail.4", "fsbp", PASS), title=""),))
    assert table.table(audit).split("\n")[:2] == [
        "CONTROL       STANDARD  PASS  FAIL  N/A  TITLE",
        "CloudTrail.4  fsbp      1     0     0",
    ]


WRITTEN = f"fix: appended CloudTrail's statements to the bucket policy of {BUCKET_LINK.arn} for 1 trail(s)"
PLANNED = [
    f"fix: would append CloudTrail's statements to the topic policy of {TOPIC_LINK.arn} for 2 trail(s):",
    "--- topic policy of notices (now)",
    "+++ topic policy of notices (with --fix)",
    "@@ -1 +1,2 @@",
    " a",
    "+b",
]
REFUSED = f"fix: refused: the bucket policy of {BUCKET_LINK.arn} for 1 trail(s): the bucket is in another account"
FAILED = f"fix: failed: the topic policy of {TOPIC_LINK.arn} for 1 trail(s): AccessDenied: no"
EDITS = (
    edit(BUCKET_LINK, "written"),
    edit(TOPIC_LINK, "planned", trails=(TRAIL, SECOND)),
    edit(BUCKET_LINK, "refused", "the bucket is in another account"),
    edit(TOPIC_LINK, "failed", "AccessDenied: no"),
)
PLAN = report.Report("plan", ())


@pytest.mark.parametrize(
    ("fix", "lines"),
    [
        (Fix(()), ["fix: nothing --fix can fix"]),
        (Fix(({"Name": TRAIL},), policies=EDITS), [WRITTEN, *PLANNED, REFUSED, FAILED]),
        (Fix(({"Name": TRAIL},), policies=EDITS[1:2]), PLANNED),
        (
            Fix(({"Name": TRAIL},), state_file="state.yaml", state_trails=3, export_reads=2, policies=EDITS[:1]),
            [
                "fix: wrote 3 trail(s) to state.yaml, 1 with their fixes merged in (2 read(s) beyond the audit's); "
                "nothing was applied",
                WRITTEN,
            ],
        ),
        (Fix(({"Name": TRAIL},), report=PLAN, policies=EDITS[2:3]), ["fix:", *report.table(PLAN).split("\n"), REFUSED]),
        (Fix(({"Name": TRAIL},), report=PLAN), ["fix:", *report.table(PLAN).split("\n")]),
    ],
    ids=["nothing to fix", "each policy", "a planned policy", "state file", "the engine's plan", "plan alone"],
)
def test_the_table_ends_with_what_fix_did(fix: Fix, lines: list[str]) -> None:
    audit = Audit(("fsbp",), (HOME,), (finding("CloudTrail.4", "fsbp", PASS),), accounts=(ACCOUNT,), fix=fix)
    assert table.table(audit).split("\n")[2:] == [
        "",
        "audit: 1 finding(s) in 1 account(s), 1 region(s): 1 pass, 0 fail, 0 not available",
        "",
        *lines,
    ]

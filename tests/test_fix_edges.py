"""`audit --fix` without AWS, row by row: which failing findings become which declarations (one per trail, in
account and region order; one trail per account made to record everywhere, logging folded into it), the
`--write-state` file as its reader sees it, and CloudTrail.1's selectors changed in place, whatever order Python
happens to walk a set in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from trailkeeper import __version__
from trailkeeper.audit import fix
from trailkeeper.audit.facts import Status
from trailkeeper.audit.findings import Audit, Finding
from trailkeeper.audit.selector_fix import management_fixed
from trailkeeper.export.read import Export, ExportedTrail
from trailkeeper.trail import selectors

A, B = "111122223333", "444455556666"


def trail(region: str, account: str, name: str) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def finding(
    standard: str, control: str, status: Status, fixed: dict[str, Any] | None = None, *, account: str = A
) -> Finding:
    resource = str(fixed["Name"]) if fixed else f"AWS::::Account:{account}"
    return Finding(
        control=control,
        standard=standard,
        status=status,
        resource=resource,
        account=account,
        region="us-east-1",
        title="title",
        reason="reason",
        remedy="remedy",
        fix=fixed,
    )


def audited(*findings: Finding) -> Audit:
    return Audit(("fsbp", "cis-6.0"), ("us-east-1", "eu-west-1", "ap-south-1"), findings)


# --- declarations: which fixes are declared --------------------------------------------------------------

EAST, WEST, SOUTH = trail("us-east-1", A, "main"), trail("eu-west-1", A, "local"), trail("ap-south-1", B, "b")
EVERYWHERE = {"IsMultiRegionTrail": True, "IsLogging": True}


def test_fixes_merge_into_one_declaration_per_trail_in_account_then_region_order() -> None:
    result = fix.declarations(
        audited(
            # Account B has no trail to make record everywhere: its region's logging fix stands.
            finding("fsbp", "CloudTrail.3", "FAIL", {"Name": SOUTH, "IsLogging": True}, account=B),
            # Account A: one trail is made to record everywhere, the first region's nearest; the other region's
            # nearest trail is not, and needs no logging fix of its own (the one trail logs).
            finding("fsbp", "CloudTrail.1", "FAIL", {"Name": EAST, **EVERYWHERE}),
            finding("cis-6.0", "4.1", "FAIL", {"Name": WEST, **EVERYWHERE}),
            finding("fsbp", "CloudTrail.3", "FAIL", {"Name": WEST, "IsLogging": True}),
            # The same control in two standards declares the same thing once.
            finding("fsbp", "CloudTrail.4", "FAIL", {"Name": WEST, "EnableLogFileValidation": True}),
            finding("cis-6.0", "4.2", "FAIL", {"Name": WEST, "EnableLogFileValidation": True}),
            finding("cis-6.0", "4.1", "FAIL", {"Name": EAST, **EVERYWHERE}),
        )
    )
    assert result == [
        {"Name": WEST, "EnableLogFileValidation": True},  # account A, eu-west-1
        {"Name": EAST, **EVERYWHERE},  # account A, us-east-1
        {"Name": SOUTH, "IsLogging": True},  # account B (ap-south-1 would sort first as text)
    ]


@pytest.mark.parametrize(
    "other",
    [
        finding("fsbp", "CloudTrail.2", "PASS", {"Name": EAST, "KmsKeyId": "alias/trails"}),
        finding("fsbp", "CloudTrail.7", "FAIL"),  # no fix: the bucket's access logging keeps its remedy
        finding("delivery", "Delivery.1", "FAIL", None),
        Finding("Delivery.1", "delivery", "FAIL", EAST, A, "us-east-1", "t", "r", "remedy", {"Policy": {}}),
        finding("fsbp", "CloudTrail.4", "PASS"),
    ],
    ids=["passing-with-a-fix", "failing-without-a-fix", "delivery-without-a-fix", "policy-fix", "passing"],
)
def test_only_a_failing_findings_fix_of_a_trail_is_declared(other: Finding) -> None:
    logs = finding("fsbp", "CloudTrail.3", "FAIL", {"Name": EAST, "IsLogging": True})
    assert fix.declarations(audited(other, logs)) == [{"Name": EAST, "IsLogging": True}]
    assert fix.declarations(audited(other)) == []


# --- state_document: the --write-state file ---------------------------------------------------------------

UNREAD = trail("us-east-1", A, "unread")
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_write_state_is_the_export_with_each_fix_merged_in_under_a_note_naming_its_controls() -> None:
    result = audited(
        finding("fsbp", "CloudTrail.4", "FAIL", {"Name": EAST, "EnableLogFileValidation": True}),
        finding("cis-6.0", "4.2", "FAIL", {"Name": EAST, "EnableLogFileValidation": True}),
        finding("fsbp", "CloudTrail.3", "FAIL", {"Name": EAST, "IsLogging": True}),
        finding("fsbp", "CloudTrail.4", "PASS"),
        finding("fsbp", "CloudTrail.9", "FAIL", {"Name": UNREAD, "Tags": [{"Key": "owner", "Value": "security"}]}),
        finding("fsbp", "CloudTrail.7", "FAIL"),
    )
    exported = Export(
        trails=(
            ExportedTrail(A, "us-east-1", EAST, {"Name": EAST, "IsLogging": False, "EnableLogFileValidation": False}),
            ExportedTrail(A, "eu-west-1", WEST, {"Name": WEST, "IsLogging": True, "EnableLogFileValidation": True}),
        ),
        regions=("eu-west-1", "us-east-1"),
    )
    text, count = fix.state_document(exported, fix.declarations(result), result, caller_account=A, now=NOW)
    assert count == 3
    assert text == (
        f"# Exported by trailkeeper {__version__} at 2026-01-02T03:04:05Z from account {A}, 2 region(s): "
        "eu-west-1, us-east-1: 3 trail(s).\n"
        "# Written by `trailkeeper audit --fix --write-state`: every trail audited, as `trailkeeper export` writes "
        "it,\n"
        "# with the fixes of the failing fsbp, cis-6.0 controls merged in (2 trail(s), each under an `audit --fix` "
        "comment).\n"
        "# Nothing was applied. Review it, commit it, then `trailkeeper plan -f` this file: it shows only the "
        "fixes;\n"
        "# `apply -f` makes them, and from then on plan/apply and the event-driven repair keep the trails as "
        "declared.\n"
        "trails:\n"
        f"  - Name: {WEST}\n"  # not fixed: as exported
        "    IsLogging: true\n"
        "    EnableLogFileValidation: true\n"
        "  # audit --fix: EnableLogFileValidation, IsLogging (for fsbp CloudTrail.4, cis-6.0 4.2, fsbp CloudTrail.3)\n"
        f"  - Name: {EAST}\n"
        "    IsLogging: true\n"
        "    EnableLogFileValidation: true\n"
        "  # audit --fix: Tags (for fsbp CloudTrail.9)\n"  # a fixed trail the export could not read: its fix alone
        f"  - Name: {UNREAD}\n"
        "    Tags:\n"
        "      - Key: owner\n"
        "        Value: security\n"
    )


# --- CloudTrail.1's selectors, changed in place ----------------------------------------------------------

ALL_S3 = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]
KMS_OUT = {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}


def read_only(value: str) -> dict[str, Any]:
    return {"Field": "readOnly", "Equals": [value]}


def managing(name: str, *narrowed: dict[str, Any]) -> dict[str, Any]:
    return {"Name": name, "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, *narrowed]}


def basic(*items: dict[str, Any]) -> dict[str, Any]:
    return {"EventSelectors": list(items)}


def advanced(*items: dict[str, Any]) -> dict[str, Any]:
    return {"AdvancedEventSelectors": list(items)}


DYNAMODB_DATA = {
    "Name": "tables",
    "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "eventSource", "NotEquals": ["dynamodb.amazonaws.com"]},
        {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]},
    ],
}
SELECTOR_FIXES = [
    # basic: exclusions go; a management-only ReadOnly / WriteOnly selector is widened; else {All} is added
    (
        basic(
            {"ReadWriteType": "All", "DataResources": ALL_S3, "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
        ),
        basic({"ReadWriteType": "All", "DataResources": ALL_S3}),
    ),
    (basic({"ReadWriteType": "ReadOnly"}), basic({"ReadWriteType": "All"})),
    (basic({"ReadWriteType": "WriteOnly"}), basic({"ReadWriteType": "All"})),
    (basic({"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly"}), basic({"ReadWriteType": "All"})),
    (
        basic({"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly", "DataResources": ALL_S3}),
        basic({"ReadWriteType": "WriteOnly", "DataResources": ALL_S3}, {"ReadWriteType": "All"}),
    ),
    (
        basic({"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False, "DataResources": ALL_S3}),
        basic(
            {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False, "DataResources": ALL_S3},
            {"ReadWriteType": "All"},
        ),
    ),
    # advanced: eventSource NotEquals goes; one management selector loses its readOnly (the first by name), the
    # others it covers go; a selector that still narrows is kept and a plain one added; data selectors stay
    (advanced(managing("a", KMS_OUT)), advanced(managing("a"))),
    (advanced(managing("w", read_only("false"))), advanced(managing("w"))),
    (advanced(managing("w", read_only("false")), managing("r", read_only("true"))), advanced(managing("r"))),
    (
        advanced(managing("a", KMS_OUT), managing("b", read_only("true"))),
        advanced(managing("b", read_only("true")), managing("a")),
    ),
    (advanced(DYNAMODB_DATA, managing("m", KMS_OUT)), advanced(DYNAMODB_DATA, managing("m"))),
    (
        advanced(
            managing("n", {"Field": "eventSource", "Equals": ["s3.amazonaws.com"], "NotEquals": ["kms.amazonaws.com"]})
        ),
        advanced(
            managing("n", {"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}), managing("Management events")
        ),
    ),
]
SELECTOR_IDS = [
    "all-with-data-excluding",
    "read-only",
    "write-only",
    "read-and-write-apart",
    "read-only-beside-s3-writes",
    "s3-writes-only",
    "advanced-excluding",
    "advanced-write-only",
    "advanced-apart-first-by-name",
    "advanced-excluding-beside-read-only",
    "advanced-data-kept",
    "advanced-source-narrowed",
]


@pytest.mark.parametrize(("read", "fixed"), SELECTOR_FIXES, ids=SELECTOR_IDS)
def test_cloudtrail_1_changes_the_selectors_in_place(read: dict[str, Any], fixed: dict[str, Any]) -> None:
    assert management_fixed(selectors.from_read(read)) == fixed  # as GetEventSelectors answers, as the audit reads


def s3_data(values: int) -> dict[str, Any]:
    """An S3 data selector holding `values` values in all (its category, its type, and bucket prefixes)."""
    prefixes = [f"arn:aws:s3:::bucket-{i}/" for i in range(values - 2)]
    return {
        "Name": "buckets",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": prefixes},
        ],
    }


@pytest.mark.parametrize(
    ("values", "fixed"),
    [
        (
            selectors.MAX_ADVANCED_VALUES - 1,
            advanced(s3_data(selectors.MAX_ADVANCED_VALUES - 1), managing("Management events")),
        ),
        (selectors.MAX_ADVANCED_VALUES, None),
    ],
    ids=["room-for-one-value", "at-the-quota"],
)
def test_a_management_selector_is_added_only_where_cloudtrails_quota_of_values_leaves_room(
    values: int, fixed: dict[str, Any] | None
) -> None:
    # CloudTrail refuses more than 500 values across a trail's advanced conditions: a fix past it would fail.
    found = management_fixed(selectors.from_read(advanced(s3_data(values))))
    if fixed is None:
        assert found is None
    else:  # as sets: the answer's order of conditions and values is to_doc's
        assert found is not None and selectors.from_read(found) == selectors.from_read(fixed)


_ANOTHER_RUN = """
import json, sys
from trailkeeper.audit.selector_fix import management_fixed
from trailkeeper.trail import selectors
print(json.dumps([management_fixed(selectors.from_read(read)) for read in json.loads(sys.stdin.read())]))
"""


def test_the_selector_fix_is_the_same_whatever_order_python_walks_a_set_in() -> None:
    """Selectors are sets: the fix must not depend on the order they (or their conditions) are walked in, which
    a string's hash decides, and which changes from one run of Python to the next."""
    provider = str(Path(__file__).resolve().parents[1] / "provider")
    reads = [read for read, _ in SELECTOR_FIXES]
    for seed in ("0", "3"):  # each walks some sets in an order a fix that leant on it would get wrong
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": provider}
        answer = subprocess.run(
            [sys.executable, "-c", _ANOTHER_RUN],
            input=json.dumps(reads),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert json.loads(answer.stdout) == [fixed for _, fixed in SELECTOR_FIXES], seed

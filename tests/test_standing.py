"""How one trail stands for the account-level controls (audit/standing.py), judged on facts built by hand.

CloudTrail.1 / CIS 4.1 is AWS Config's `multi-region-cloudtrail-enabled`: one selector of read and write
management events, and no selector excluding a source, even one another selector makes up for; where
trailkeeper's model of recorded events judges otherwise, the reason says so. CloudTrail.3 asks only that
the trail logs; the CIS S3 data event controls, that a multi-region logging trail records them. A read that
was refused proves nothing: it is said, with its reason, and the control is NOT_AVAILABLE, never a pass.
"""

from __future__ import annotations

from typing import Any

import pytest

from trailkeeper.audit import controls as compliance
from trailkeeper.audit import standing
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Options, Place, TrailFacts, Verdict
from trailkeeper.trail import selectors
from trailkeeper.trail.record import Record

ACCOUNT, HOME = "123456789012", "us-east-1"
ARN = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/audit"
ALL_S3 = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]
SEPARATE = (
    "records read and write management events only in separate selectors: the rule wants one selector of both "
    "(ReadWriteType All, or an advanced selector on eventCategory Management without readOnly)"
)
MADE_UP = (
    "excludes kms.amazonaws.com from management events in a selector, which another selector makes up for: "
    "the rule fails any ExcludeManagementEventSources"
)
MODEL_PASSES = (
    "by the events its selectors record (trailkeeper's model, the guard's) it records every read and write "
    "management event; Security Hub's rule reads each selector's fields, and fails it"
)


def management(*conditions: dict[str, Any], name: str = "") -> dict[str, Any]:
    """An advanced selector on eventCategory = Management, narrowed by `conditions`."""
    selector: dict[str, Any] = {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, *conditions]}
    return {"Name": name, **selector} if name else selector


READS = {"Field": "readOnly", "Equals": ["true"]}
WRITES = {"Field": "readOnly", "Equals": ["false"]}
RDS_DATA = "rdsdata.amazonaws.com"
NOT_KMS = {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}


def basic(read_write: str = "All", **more: Any) -> dict[str, Any]:
    return {"ReadWriteType": read_write, "IncludeManagementEvents": True, **more}


def trail(
    answer: dict[str, Any] | None,
    *,
    multi_region: bool = True,
    logging: bool | None = True,
    unread: str = "",
) -> TrailFacts:
    """A trail whose GetEventSelectors answered `answer` (None: the read was refused, or not made)."""
    read = selectors.from_read(answer) if answer is not None else None
    record = Record.of({"IsMultiRegionTrail": multi_region}, logging=logging, events=read)
    return TrailFacts(ARN, ACCOUNT, HOME, record, "logs", selectors=read, unread=unread)


def judged(key: str, *trails: TrailFacts) -> Verdict:
    return compliance.BY_KEY[key].judge(Place(ACCOUNT, HOME, trails), Options())


# --- CloudTrail.1 / CIS 4.1: Config's rule, and where the events model differs -----------------------------


@pytest.mark.parametrize(
    ("answer", "lacking", "differs"),
    [
        ({"EventSelectors": [basic()]}, (), ""),
        ({"AdvancedEventSelectors": [management(name="Management events")]}, (), ""),
        (
            {
                "AdvancedEventSelectors": [
                    management(),
                    {
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                        ]
                    },
                ]
            },
            (),
            "",
        ),
        (
            {"EventSelectors": [basic(ExcludeManagementEventSources=["kms.amazonaws.com"])]},
            ("excludes kms.amazonaws.com from its management events",),
            "",
        ),
        (
            {
                "AdvancedEventSelectors": [
                    management({**NOT_KMS, "NotEquals": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]})
                ]
            },
            ("excludes kms.amazonaws.com, rdsdata.amazonaws.com from its management events",),
            "",
        ),
        (
            {"EventSelectors": [basic(ExcludeManagementEventSources=[RDS_DATA, "kms.amazonaws.com"]), basic()]},
            (MADE_UP.replace("kms.amazonaws.com", f"kms.amazonaws.com, {RDS_DATA}"),),
            MODEL_PASSES,
        ),
        ({"AdvancedEventSelectors": [management(NOT_KMS), management()]}, (MADE_UP,), MODEL_PASSES),
        ({"EventSelectors": [basic("ReadOnly"), basic("WriteOnly")]}, (SEPARATE,), MODEL_PASSES),
        ({"AdvancedEventSelectors": [management(READS), management(WRITES)]}, (SEPARATE,), MODEL_PASSES),
        ({"AdvancedEventSelectors": [management(READS)]}, ("does not record write management events",), ""),
        (
            # Apart and excluding: the model's shortfall is said, and the rule's too.
            {
                "EventSelectors": [
                    basic("ReadOnly", ExcludeManagementEventSources=["kms.amazonaws.com"]),
                    basic("WriteOnly", ExcludeManagementEventSources=["kms.amazonaws.com"]),
                ]
            },
            ("excludes kms.amazonaws.com from its management events", SEPARATE),
            "",
        ),
        (
            # A selector trailkeeper cannot read exactly beside one that records every management event: a pass.
            {
                "AdvancedEventSelectors": [
                    management(),
                    {
                        "Name": "puts only",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                            {"Field": "eventName", "Equals": ["PutObject"]},
                        ],
                    },
                ]
            },
            (),
            "",
        ),
        (
            # Narrowed to one source (Equals), a management selector is not the rule's `ReadWriteType: All`;
            # the pair records every management event, so what the narrowed one records does not matter.
            {
                "AdvancedEventSelectors": [
                    management({"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}, name="s3 only"),
                    management(READS),
                    management(WRITES),
                ]
            },
            (SEPARATE,),
            MODEL_PASSES,
        ),
        (
            # A selector of another category is no management selector, however few its conditions.
            {
                "AdvancedEventSelectors": [
                    management(READS),
                    management(WRITES),
                    {"Name": "network", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["NetworkActivity"]}]},
                ]
            },
            (SEPARATE,),
            MODEL_PASSES,
        ),
        (
            {
                "AdvancedEventSelectors": [
                    management({"Field": "eventName", "Equals": ["X"]}, name="b"),
                    management({"Field": "eventName", "Equals": ["Y"]}, name="a"),
                ]
            },
            (
                "does not record read management events",
                "does not record write management events",
                "trailkeeper cannot read exactly what 'a', 'b' records",
            ),
            "",
        ),
    ],
    ids=[
        "basic-all",
        "advanced-management",
        "advanced-management-and-s3-data",
        "basic-exclusion",
        "advanced-exclusions",
        "basic-exclusion-made-up",
        "advanced-exclusion-made-up",
        "basic-read-and-write-apart",
        "advanced-read-and-write-apart",
        "advanced-reads-only",
        "apart-and-excluding",
        "unread-data-selector-beside-management",
        "source-equals-is-not-all",
        "another-category-is-not-management",
        "two-unread-selectors-named-in-order",
    ],
)
def test_cloudtrail_1_says_what_the_rule_finds_short_and_where_the_events_model_differs(
    answer: dict[str, Any], lacking: tuple[str, ...], differs: str
) -> None:
    found = standing.everywhere(trail(answer))
    assert (found.lacking, found.unread, found.differs) == (lacking, (), differs)
    verdict = judged("multi-region", trail(answer))
    if not lacking:
        assert (verdict.status, verdict.reason) == (
            PASS,
            f"{ARN} is multi-region, logging, and records every read and write management event in one selector, "
            "with no source excluded",
        )
    else:
        assert verdict.status == FAIL
        assert verdict.reason == (
            f"no trail here records every management event in every region: {ARN} {'; '.join(lacking)}"
            + (f" ({differs})" if differs else "")
        )


def test_a_single_region_stopped_trail_is_said_to_lack_both_in_one_reason() -> None:
    verdict = judged("multi-region", trail({"EventSelectors": [basic()]}, multi_region=False, logging=False))
    assert (verdict.status, verdict.reason) == (
        FAIL,
        f"no trail here records every management event in every region: {ARN} is not multi-region; is not logging",
    )


@pytest.mark.parametrize(
    ("why", "said"),
    [("AccessDeniedException: not allowed", "AccessDeniedException: not allowed"), ("", "no reason given")],
)
def test_refused_reads_leave_cloudtrail_1_not_available_naming_each_read_and_why(why: str, said: str) -> None:
    refused = trail(None, logging=None, unread=why)
    found = standing.everywhere(refused)
    assert (found.lacking, found.unread) == (
        (),
        (
            f"its status (GetTrailStatus) could not be read ({said})",
            f"its event selectors (GetEventSelectors) could not be read ({said})",
        ),
    )
    assert found.unknown and not found.passes
    verdict = judged("multi-region", refused)
    assert (verdict.status, verdict.reason) == (
        NOT_AVAILABLE,
        f"whether a trail here passes could not be told: {ARN} {'; '.join(found.unread)}",
    )


# --- CloudTrail.3: the trail is logging ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("logging", "lacking", "unread"),
    [
        (True, (), ()),
        (False, ("is not logging",), ()),
        (None, (), ("its status (GetTrailStatus) could not be read (ThrottlingException)",)),
    ],
)
def test_cloudtrail_3_asks_only_that_the_trail_logs(
    logging: bool | None, lacking: tuple[str, ...], unread: tuple[str, ...]
) -> None:
    facts = trail(
        {"EventSelectors": [basic("ReadOnly")]}, multi_region=False, logging=logging, unread="ThrottlingException"
    )
    found = standing.logging(facts)
    assert (found.lacking, found.unread) == (lacking, unread)


# --- CIS 4.8 / 4.9: S3 data events ------------------------------------------------------------------------------


def test_s3_data_of_a_trail_whose_status_was_refused_is_unknown_not_a_pass() -> None:
    recording = trail({"EventSelectors": [basic(DataResources=ALL_S3)]}, logging=None, unread="AccessDenied")
    found = standing.s3_data(recording, "write")
    assert (found.lacking, found.unread) == ((), ("its status (GetTrailStatus) could not be read (AccessDenied)",))
    assert found.unknown and not found.passes


def test_s3_data_of_a_trail_whose_selectors_were_refused_names_the_read() -> None:
    found = standing.s3_data(trail(None, unread="AccessDenied"), "read")
    assert (found.lacking, found.unread) == (
        (),
        ("its event selectors (GetEventSelectors) could not be read (AccessDenied)",),
    )


def test_s3_data_names_every_selector_it_cannot_read_in_order() -> None:
    unread = {
        "AdvancedEventSelectors": [
            {
                "Name": name,
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "eventName", "Equals": ["PutObject"]},
                ],
            }
            for name in ("b", "a")
        ]
    }
    found = standing.s3_data(trail(unread), "write")
    assert found.lacking == (
        "does not record S3 object-level write events for all buckets "
        "(trailkeeper cannot read exactly what 'a', 'b' records)",
    )

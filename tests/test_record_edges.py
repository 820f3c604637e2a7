"""Edges of the model of what a trail records (trail/record.py) and of the aspects that read and write it
(trail/insights.py, trail/selector_aspect.py), and who may change an organization trail in a run over many
accounts (trail/standing.py), found by reviewing mutants that survived.

Pure: no AWS. Each test holds a promise a caller sees: what a record says it knows, the weakenings a
refusal names and their order, what a GetInsightSelectors answer is read as, the change and the call a
plan shows for Insights and event selectors, and the refusal a delegated administrator meets.
"""

from __future__ import annotations

from typing import Any

import pytest

from trailkeeper.errors import NotChangeableHere
from trailkeeper.trail import record, selectors, standing
from trailkeeper.trail.aspect import (
    ADVANCED_EVENT_SELECTORS,
    EVENT_SELECTORS,
    INSIGHT_SELECTORS,
    INSIGHTS,
    SELECTORS_ADDING,
    Call,
    Change,
)
from trailkeeper.trail.events import Events
from trailkeeper.trail.insights import INSIGHTS_ASPECT
from trailkeeper.trail.insights import from_read as insights_read
from trailkeeper.trail.record import InsightSet, Record
from trailkeeper.trail.selector_aspect import SELECTORS_ASPECT
from trailkeeper.trail.standing import Administrators

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit"
CALLS, ERRORS = "ApiCallRateInsight", "ApiErrorRateInsight"
NONE: frozenset[str] = frozenset()
DATA = frozenset({"Data"})


def insights(*pairs: tuple[str, frozenset[str]]) -> InsightSet:
    return frozenset(pairs)


# --- a record: what it says it knows ---------------------------------------------------------------------


def test_a_record_read_from_describe_trails_keeps_what_the_other_reads_said() -> None:
    read = selectors.from_read({"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]})
    watched = insights((CALLS, DATA))
    found = Record.from_trail({"Name": "audit", "TrailARN": ARN}, logging=False, events=read, insights=watched)
    assert (found.logging, found.events, found.insights) == (False, Events.of(read), watched)


@pytest.mark.parametrize(
    ("settings", "seen"),
    [
        # A boolean setting read as anything but a boolean is not known: never taken as on (or off).
        ({"IsOrganizationTrail": "false"}, ("organization", None)),
        ({"IsMultiRegionTrail": "true"}, ("multi_region", None)),
        ({"IncludeGlobalServiceEvents": 1}, ("global_events", None)),
        ({"EnableLogFileValidation": "false"}, ("validation", None)),
        # A text setting read as anything but text is not known either.
        ({"KmsKeyId": True}, ("encrypted", None)),
        ({"CloudWatchLogsLogGroupArn": False}, ("log_group", None)),
        ({"SnsTopicName": True}, ("topic", None)),
        # What is read as its type is what the record says.
        ({"IsMultiRegionTrail": False}, ("multi_region", False)),
        ({"KmsKeyId": ""}, ("encrypted", False)),
        ({"SnsTopicName": "t"}, ("topic", "t")),
    ],
)
def test_a_setting_read_as_another_type_is_not_known(settings: dict[str, Any], seen: tuple[str, object]) -> None:
    name, expected = seen
    value = getattr(Record.of(settings), name)
    assert (value, type(value)) == (expected, type(expected))


# --- Insights: what a change takes away, in a stable order -------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (insights((CALLS, DATA)), None),
        (None, insights((CALLS, DATA))),
        (None, None),
    ],
)
def test_insights_known_on_one_side_only_weigh_nothing_either_way(
    before: InsightSet | None, after: InsightSet | None
) -> None:
    assert record.weakenings(Record.of(insights=before), Record.of(insights=after)) == []


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # Named by type in alphabetical order, whatever the categories each watches.
        (
            insights((CALLS, DATA), (ERRORS, NONE)),
            insights(),
            [f"{CALLS} removed", f"{ERRORS} removed"],
        ),
        (
            insights((CALLS, NONE), (ERRORS, DATA)),
            insights(),
            [f"{CALLS} removed", f"{ERRORS} removed"],
        ),
        # A type removed and another's category dropped: both named, not only the last.
        (
            insights((CALLS, NONE), (ERRORS, DATA)),
            insights((ERRORS, NONE)),
            [f"{CALLS} removed", f"{ERRORS} stops watching Data events"],
        ),
        (
            insights((CALLS, frozenset({"Data", "Future"})), (ERRORS, DATA)),
            insights((CALLS, NONE)),
            [f"{CALLS} stops watching Data events", f"{CALLS} stops watching Future events", f"{ERRORS} removed"],
        ),
    ],
)
def test_every_insights_loss_is_named_in_the_order_of_the_types(
    before: InsightSet, after: InsightSet, expected: list[str]
) -> None:
    found = record.weakenings(Record.of(insights=before), Record.of(insights=after))
    assert [w.change for w in found] == expected
    assert [w.change for w in INSIGHTS_ASPECT.weakenings(after, before)] == expected


# --- moves: a place not known on one side is not a move -------------------------------------------------------


@pytest.mark.parametrize("name", ["S3BucketName", "S3KeyPrefix", "KmsKeyId", "CloudWatchLogsLogGroupArn"])
def test_a_place_known_on_one_side_only_is_not_named_as_a_move(name: str) -> None:
    assert record.moves(Record.of(), Record.of({name: "new"})) == []
    assert record.moves(Record.of({name: "old"}), Record.of()) == []
    assert record.moves(Record.of({name: "old"}), Record.of({name: "new"})) == [name]


# --- Insights as read back: everything kept -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        # One selector not wrapped in a list is still that selector.
        ({"InsightType": CALLS, "EventCategories": ["Management", "Data"]}, insights((CALLS, DATA))),
        # One category not wrapped in a list is still that category.
        ([{"InsightType": CALLS, "EventCategories": "Data"}], insights((CALLS, DATA))),
        # An item that is not a selector is kept by what it shows, and the items after it are still read.
        ([42, {"InsightType": ERRORS}], insights(("42", NONE), (ERRORS, NONE))),
        (["odd", {"InsightType": CALLS, "EventCategories": ["Data"]}], insights(("'odd'", NONE), (CALLS, DATA))),
        ([None], insights(("None", NONE))),
    ],
)
def test_an_insights_answer_is_read_whatever_its_shape(answer: object, expected: InsightSet) -> None:
    assert insights_read(answer) == expected


@pytest.mark.parametrize(
    ("answer", "error_code", "expected"),
    [
        (None, None, frozenset()),  # no answer and no error: nothing read, nothing assumed
        (None, "InsightNotEnabledException", frozenset()),
        # An error code stands, whatever came with it.
        ({"InsightSelectors": [{"InsightType": CALLS}]}, "InsightNotEnabledException", frozenset()),
        ({"InsightSelectors": [{"InsightType": CALLS}]}, None, insights((CALLS, NONE))),
    ],
)
def test_insights_current_is_what_the_read_said(
    answer: dict[str, Any] | None, error_code: str | None, expected: InsightSet
) -> None:
    assert INSIGHTS_ASPECT.current(answer, error_code) == expected


# --- what a plan shows and what it sends ----------------------------------------------------------------------


def test_an_insights_change_names_the_property_and_both_sides() -> None:
    current, desired = insights((CALLS, DATA)), insights((ERRORS, NONE))
    assert INSIGHTS_ASPECT.changes(desired, current) == [
        Change(
            INSIGHT_SELECTORS,
            [{"InsightType": CALLS, "EventCategories": ["Data", "Management"]}],
            [{"InsightType": ERRORS}],
            "CloudTrail Insights (unusual call and error rates go unseen)",
        )
    ]
    assert INSIGHTS_ASPECT.changes(current, insights()) == [
        Change(INSIGHT_SELECTORS, [], [{"InsightType": CALLS, "EventCategories": ["Data", "Management"]}], None)
    ]


def test_an_insights_write_is_put_insight_selectors_on_the_trail_in_its_phase() -> None:
    assert INSIGHTS_ASPECT.writes(insights((CALLS, DATA)), insights(), ARN) == [
        Call(
            "PutInsightSelectors",
            {"TrailName": ARN, "InsightSelectors": [{"InsightType": CALLS, "EventCategories": ["Data", "Management"]}]},
            INSIGHTS,
            (INSIGHT_SELECTORS,),
        )
    ]


WRITE_ONLY = selectors.from_read({"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]})
ADVANCED_ALL = selectors.from_read(
    {ADVANCED_EVENT_SELECTORS: [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]}
)


@pytest.mark.parametrize(
    ("current", "desired", "name"),
    [(WRITE_ONLY, selectors.DEFAULT, EVENT_SELECTORS), (WRITE_ONLY, ADVANCED_ALL, ADVANCED_EVENT_SELECTORS)],
)
def test_a_selectors_change_names_the_declared_property_and_both_sides(
    current: selectors.Selectors, desired: selectors.Selectors, name: str
) -> None:
    assert SELECTORS_ASPECT.changes(desired, current) == [
        Change(name, selectors.to_doc(current), selectors.to_doc(desired), None)
    ]
    assert SELECTORS_ASPECT.writes(desired, current, ARN) == [
        Call("PutEventSelectors", {"TrailName": ARN, **selectors.to_wire(desired)}, SELECTORS_ADDING, (name,))
    ]


# --- standing: an organization trail its owner reports in the same run ------------------------------------------

OWNER, ADMIN = "111111111111", "222222222222"
ORG_TRAIL = {"Name": "org-trail", "TrailARN": f"arn:aws:cloudtrail:us-east-1:{OWNER}:trail/org-trail"}


@pytest.mark.parametrize("reported_by_owner", [frozenset({OWNER}), frozenset({standing.EVERY_OWNER})])
def test_a_delegated_administrator_leaves_an_organization_trail_to_its_owner_in_the_same_run(
    reported_by_owner: frozenset[str],
) -> None:
    answer = Administrators(frozenset({ADMIN}), reported_by_owner=reported_by_owner)
    with pytest.raises(NotChangeableHere) as refused:
        standing.standing({**ORG_TRAIL, "IsOrganizationTrail": True}, ADMIN, lambda: answer)
    assert refused.value.message == f"org-trail is reported by its owner, account {OWNER}, in this run"
    assert refused.value.organization_trail is True  # a copy its owner reports: the run skips it, not a failure
    # Another owner in the run changes nothing: the administrator still changes this trail.
    others = Administrators(frozenset({ADMIN}), reported_by_owner=frozenset({"333333333333"}))
    assert (
        standing.standing({**ORG_TRAIL, "IsOrganizationTrail": True}, ADMIN, lambda: others)[0]
        == "delegated administrator"
    )

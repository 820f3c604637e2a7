"""What event selectors record, and what a change of them stops recording, in the words a reason uses
(trail/events.py). Pure: no AWS.

Selectors are built as CloudTrail reads them back (`selectors.from_read`), so a selector the code cannot
read exactly (an unknown ReadWriteType, a condition without values, no eventCategory) can be written here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_record import read_back
from trailkeeper.trail import selectors
from trailkeeper.trail.control_names import CONTROL_S3_DATA, CONTROL_UNREAD, READ, WRITE
from trailkeeper.trail.events import DATA_EVENTS, LABEL_MAX, MANAGEMENT_EVENTS, S3_OBJECT, Events, losses
from trailkeeper.trail.selectors import Selectors

LOGS = "arn:aws:s3:::logs/"
A, B = f"{LOGS}a", f"{LOGS}b"
MANAGEMENT = {"Field": "eventCategory", "Equals": ["Management"]}
DATA = {"Field": "eventCategory", "Equals": ["Data"]}
S3 = {"Field": "resources.type", "Equals": [S3_OBJECT]}
LAMBDA = {"Field": "resources.type", "Equals": ["AWS::Lambda::Function"]}
WRITES = {"Field": "readOnly", "Equals": ["false"]}


def basic(*selector: dict[str, Any]) -> Selectors:
    return selectors.from_read({"EventSelectors": list(selector)})


def s3_writes(operator: str, *values: str) -> list[dict[str, Any]]:
    return [DATA, S3, WRITES, {"Field": "resources.ARN", operator: list(values)}]


def lost_writes(shown: str) -> tuple[str, str, str]:
    return (DATA_EVENTS, f"stops logging write data events of {S3_OBJECT}: {shown}", CONTROL_S3_DATA[WRITE])


def dropped(dimension: str, label: str) -> tuple[str, str, str]:
    return (dimension, f"drops the selector {label}", CONTROL_UNREAD)


@pytest.mark.parametrize(
    ("recorded", "arn", "expected"),
    [
        (s3_writes("Equals", A), A, True),
        (s3_writes("Equals", A), B, False),
        (s3_writes("Equals", A, B), B, True),
        (s3_writes("StartsWith", LOGS), A, True),
        (s3_writes("StartsWith", f"{LOGS}a"), B, False),
        ([DATA, S3, WRITES], A, True),  # every S3 object
    ],
)
def test_the_data_events_of_one_resource_are_recorded_when_a_selector_names_or_prefixes_its_arn(
    recorded: list[dict[str, Any]], arn: str, expected: bool
) -> None:
    events = Events.of(read_back(recorded))
    assert events.records_data(S3_OBJECT, WRITE, arn) is expected
    assert events.records_data(S3_OBJECT, READ, arn) is False


def test_one_resource_named_exactly_is_not_every_resource_of_its_type() -> None:
    assert Events.of(read_back(s3_writes("Equals", A))).records_data(S3_OBJECT, WRITE) is False


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        # an ARN named exactly is not a prefix: what starts with logs/ is lost but logs/ itself
        (read_back(s3_writes("StartsWith", LOGS)), read_back(s3_writes("Equals", LOGS)), [lost_writes(f"{LOGS}*")]),
        (read_back(s3_writes("Equals", A)), read_back(s3_writes("Equals", B)), [lost_writes(A)]),
        (read_back(s3_writes("Equals", A, B)), read_back(s3_writes("Equals", B, A)), []),
        (read_back(s3_writes("Equals", A)), read_back(s3_writes("StartsWith", LOGS)), []),
        # what one selector recorded, two record together
        (
            read_back(s3_writes("StartsWith", A, B)),
            read_back(s3_writes("StartsWith", A), s3_writes("StartsWith", B), names=("a", "b")),
            [],
        ),
        (
            basic({"DataResources": [{"Type": S3_OBJECT, "Values": [A, B]}]}),
            basic(
                {"DataResources": [{"Type": S3_OBJECT, "Values": [A]}]},
                {"IncludeManagementEvents": False, "DataResources": [{"Type": S3_OBJECT, "Values": [B]}]},
            ),
            [],
        ),
    ],
)
def test_a_change_of_data_selectors_loses_exactly_the_arns_no_longer_recorded(
    before: Selectors, after: Selectors, expected: list[tuple[str, str, str]]
) -> None:
    assert losses(Events.of(before), Events.of(after)) == expected


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (2, f"{LOGS}0, {LOGS}1"),
        (3, f"{LOGS}0, {LOGS}1, {LOGS}2"),
        (4, f"{LOGS}0, {LOGS}1, {LOGS}2 and 1 more"),
        (5, f"{LOGS}0, {LOGS}1, {LOGS}2 and 2 more"),
    ],
)
def test_a_reason_names_the_first_three_arns_lost_and_counts_the_rest(count: int, shown: str) -> None:
    before = read_back(s3_writes("Equals", *(f"{LOGS}{i}" for i in range(count))))
    assert losses(Events.of(before), Events.of(selectors.DEFAULT)) == [lost_writes(shown)]


NARROWED_MANAGEMENT = [MANAGEMENT, WRITES, {"Field": "eventName", "Equals": ["DeleteTrail", "StopLogging"]}]
NARROWED_DATA = [DATA, S3, WRITES, {"Field": "eventName", "Equals": ["PutObject"]}]
NARROWED_MANAGEMENT_LABEL = (
    "[eventCategory Equals Management; eventName Equals DeleteTrail,StopLogging; readOnly Equals false]"
)
NARROWED_DATA_LABEL = (
    f"[eventCategory Equals Data; eventName Equals PutObject; readOnly Equals false; resources.type Equals {S3_OBJECT}]"
)
LAMBDA_DATA = read_back([DATA, LAMBDA])  # records neither management events nor S3 objects


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (
            read_back(NARROWED_MANAGEMENT),
            LAMBDA_DATA,
            [
                dropped(
                    MANAGEMENT_EVENTS,
                    NARROWED_MANAGEMENT_LABEL,
                )
            ],
        ),
        (
            read_back(NARROWED_DATA),
            selectors.DEFAULT,
            [
                dropped(
                    DATA_EVENTS,
                    NARROWED_DATA_LABEL,
                )
            ],
        ),
        # two dropped at once: in the order of their labels
        (
            read_back(NARROWED_MANAGEMENT, NARROWED_DATA),
            LAMBDA_DATA,
            [
                dropped(
                    DATA_EVENTS,
                    NARROWED_DATA_LABEL,
                ),
                dropped(
                    MANAGEMENT_EVENTS,
                    NARROWED_MANAGEMENT_LABEL,
                ),
            ],
        ),
        # a readOnly that is not an Equals: management events of either kind, narrowed somehow
        (
            read_back([MANAGEMENT, {"Field": "readOnly", "NotEquals": ["true"]}]),
            LAMBDA_DATA,
            [dropped(MANAGEMENT_EVENTS, "[eventCategory Equals Management; readOnly NotEquals true]")],
        ),
        # selectors whose reach cannot be bound at all: dropping one is a loss whatever the rest records
        (
            read_back([{"Field": "eventCategory", "Equals": ["Management", "Data"]}]),
            selectors.DEFAULT,
            [dropped(MANAGEMENT_EVENTS, "[eventCategory Equals Data,Management]")],  # may record management
        ),
        (
            read_back([MANAGEMENT, {"Field": "eventName", "Equals": []}]),  # a condition read back without values
            selectors.DEFAULT,
            [dropped(MANAGEMENT_EVENTS, "[eventCategory Equals Management]")],
        ),
        # a category that rules management events out, or one that does not (NotEquals, read back blank)
        (
            read_back([{"Field": "eventCategory", "Equals": ["NetworkActivity"]}]),
            selectors.DEFAULT,
            [dropped(DATA_EVENTS, "[eventCategory Equals NetworkActivity]")],
        ),
        (
            read_back([{"Field": "eventCategory", "NotEquals": ["Data"]}]),
            selectors.DEFAULT,
            [dropped(MANAGEMENT_EVENTS, "[eventCategory NotEquals Data]")],
        ),
        (
            read_back([{"Field": "eventCategory", "Equals": []}, {"Field": "eventName", "Equals": ["x"]}]),
            selectors.DEFAULT,
            [dropped(MANAGEMENT_EVENTS, "[eventName Equals x]")],
        ),
        (read_back([S3]), selectors.DEFAULT, [dropped(DATA_EVENTS, f"[resources.type Equals {S3_OBJECT}]")]),
        # a ReadWriteType this code does not know, read back: bound by the data it names, not management
        (
            basic(
                {
                    "ReadWriteType": "Odd",
                    "IncludeManagementEvents": False,
                    "DataResources": [{"Type": S3_OBJECT, "Values": []}],
                }
            ),
            selectors.DEFAULT,
            [
                dropped(
                    DATA_EVENTS,
                    '{"DataResources":[{"Type":"AWS::S3::Object","Values":[]}],'
                    '"IncludeManagementEvents":false,"ReadWriteType":"Odd"}',
                )
            ],
        ),
    ],
)
def test_dropping_a_selector_that_cannot_be_read_exactly_names_it_in_the_dimension_it_may_record(
    before: Selectors, after: Selectors, expected: list[tuple[str, str, str]]
) -> None:
    assert losses(Events.of(before), Events.of(after)) == expected


def test_an_unknown_read_write_type_naming_data_only_is_kept_by_a_trail_recording_that_data() -> None:
    before = basic(
        {
            "ReadWriteType": "Odd",
            "IncludeManagementEvents": False,
            "DataResources": [{"Type": S3_OBJECT, "Values": [LOGS]}],
        }
    )
    all_s3 = read_back([DATA, S3])  # records every S3 object, and no management events
    assert losses(Events.of(before), Events.of(all_s3)) == []


def narrowed_to(name_length: int) -> Selectors:
    return read_back([MANAGEMENT, {"Field": "eventName", "Equals": ["N" * name_length]}])


LABEL_OVERHEAD = len("[eventCategory Equals Management; eventName Equals ]")


@pytest.mark.parametrize(
    ("name_length", "label"),
    [
        (
            LABEL_MAX - LABEL_OVERHEAD,
            "[eventCategory Equals Management; eventName Equals " + "N" * (LABEL_MAX - LABEL_OVERHEAD) + "]",
        ),
        (
            LABEL_MAX - LABEL_OVERHEAD + 1,
            "[eventCategory Equals Management; eventName Equals " + "N" * (LABEL_MAX - LABEL_OVERHEAD - 2) + "...",
        ),
        (500, "[eventCategory Equals Management; eventName Equals " + "N" * (LABEL_MAX - LABEL_OVERHEAD - 2) + "..."),
    ],
)
def test_a_selector_is_named_in_at_most_120_characters_whole_when_it_fits(name_length: int, label: str) -> None:
    reasons = losses(Events.of(narrowed_to(name_length)), Events.of(LAMBDA_DATA))
    assert reasons == [dropped(MANAGEMENT_EVENTS, label)] and len(label) <= LABEL_MAX

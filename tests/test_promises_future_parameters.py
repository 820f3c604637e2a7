"""A parameter AWS adds to UpdateTrail later is accepted without a code change (README: "Validates before
it writes", settings.py: "a parameter AWS adds later is accepted"): declared, parsed, checked generically,
read back when DescribeTrails returns it, and planned only when it differs.

The model is patched the way a newer botocore would change it: UpdateTrail gains a string and a boolean
parameter (and a list, which needs rules of its own first); DescribeTrails' Trail gains the string's field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trailkeeper import botocore_model as model
from trailkeeper.errors import InvalidProperties
from trailkeeper.trail import declaration, settings
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.normalise import current_view
from trailkeeper.trail.plan import plan

HOME = TrailHome("aws", "us-east-1", "123456789012", "audit")
TRAIL: dict[str, Any] = {
    "Name": "audit",
    "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit",
    "S3BucketName": "logs",
    "LogFileValidationEnabled": True,
}


@pytest.fixture
def newer_botocore(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The new parameters come first, so a row that cannot be read back precedes every known one.
    parameters = {"FutureToggle": "boolean", "FutureText": "string", "FutureList": "list"}
    parameters.update(model.update_trail_parameters())
    fields = model.trail_fields() | {"FutureText"}
    monkeypatch.setattr(model, "update_trail_parameters", lambda: parameters)
    monkeypatch.setattr(model, "trail_fields", lambda: fields)
    settings.table.cache_clear()
    yield
    settings.table.cache_clear()


def test_new_parameters_get_generic_rows(newer_botocore: None) -> None:
    table = settings.table()
    assert table["FutureText"] == settings.Setting("FutureText", "FutureText", "string", "a string")
    assert table["FutureToggle"] == settings.Setting("FutureToggle", None, "boolean", "true or false")
    assert "FutureList" not in table and "Name" not in table
    assert table["KmsKeyId"] is settings.KNOWN["KmsKeyId"]  # known rows keep their explicit rules


def test_a_declaration_of_new_parameters_is_parsed_like_any_other(newer_botocore: None) -> None:
    declared = declaration.parse({"Name": "audit", "FutureText": "some value", "FutureToggle": "TRUE"})
    assert dict(declared.settings) == {"FutureText": "some value", "FutureToggle": True}
    assert dict(declaration.parse({"Name": "audit", "FutureText": ""}).settings) == {"FutureText": ""}


@pytest.mark.parametrize(
    ("props", "problem"),
    [
        ({"FutureText": 7}, "FutureText=7: must be a string"),
        ({"FutureToggle": "maybe"}, "FutureToggle='maybe': must be true or false"),
        ({"FutureList": ["a"]}, "FutureList: unknown property"),
    ],
)
def test_new_parameters_are_checked_by_their_type(newer_botocore: None, props: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidProperties) as raised:
        declaration.parse({"Name": "audit", **props})
    assert raised.value.problems[0].startswith(problem)


def test_a_readable_new_parameter_is_planned_only_when_it_differs(newer_botocore: None) -> None:
    current = current_view(dict(TRAIL, FutureText="already"))
    assert current["FutureText"] == "already"
    assert current["EnableLogFileValidation"] is True  # the unreadable row before it does not stop the view
    assert "FutureToggle" not in current  # CloudTrail never says: unknown, not a default
    assert plan({"FutureText": "already"}, current, HOME) == {}
    assert plan({"FutureText": "new"}, current, HOME) == {"FutureText": "new"}


def test_a_new_parameter_cloudtrail_does_not_read_back_is_always_sent(newer_botocore: None) -> None:
    current = current_view(TRAIL)
    assert plan({"FutureToggle": False}, current, HOME) == {"FutureToggle": False}


def test_only_the_topic_setting_is_sent_by_name_another_setting_naming_a_topic_is_sent_as_declared(
    newer_botocore: None,
) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:deliveries"
    assert plan({"FutureText": topic}, current_view(TRAIL), HOME) == {"FutureText": topic}
    assert plan({"SnsTopicName": topic}, current_view(TRAIL), HOME) == {"SnsTopicName": "deliveries"}

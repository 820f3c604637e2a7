"""What a person reads when something is wrong: the reason in the stack's events and the metric by code.

The README promises "a reason that says what to fix" and "Failures by ErrorCode"; these tests hold the
exact words of the reasons that had no test of their own, and the code the out-of-time answer counts.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext

from tests.conftest import failure_codes
from trailkeeper import handler
from trailkeeper.errors import VALUE_LIMIT, AwsCallFailed, InvalidProperties, MalformedEvent, first_whole, show
from trailkeeper.trail import declaration, rules


def test_one_problem_is_the_message_and_more_are_counted() -> None:
    assert InvalidProperties(["A: bad"]).message == "A: bad"
    assert InvalidProperties(["A: bad", "B: bad"]).message == "A: bad (+1 more)"
    assert InvalidProperties(["A: bad", "B: bad", "C: bad"]).message == "A: bad (+2 more)"
    assert InvalidProperties([]).message == "invalid properties"


@pytest.mark.parametrize(("value", "shown"), [(7, "7"), (True, "True"), (None, "None"), (["a"], "['a']")])
def test_values_that_are_not_strings_are_shown_as_they_are(value: object, shown: str) -> None:
    assert show(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ([1, 2, 3, 4], "[1, 2, 3, 4]"),  # four items are shown whole
        ([1, 2, 3, 4, 5], "[1, 2, 3, 4, ...]"),
        ((1, 2, 3, 4, 5), "(1, 2, 3, 4, ...)"),
        ({"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, "{'a': 1, 'b': 2, 'c': 3, 'd': 4, ...}"),
        ({1, 2, 3, 4, 5}, "{1, 2, 3, 4, ...}"),  # YAML's !!set gives one
        (frozenset({1, 2, 3, 4, 5}), "frozenset({1, 2, 3, 4, ...})"),
        ([[[1]]], "[[[1]]]"),  # three levels are shown whole
        ([[[[1]]]], "[[[[...]]]]"),
    ],
)
def test_a_shown_value_keeps_four_items_a_level_and_three_levels(value: object, shown: str) -> None:
    assert show(value) == shown


def test_a_shown_value_is_bounded_however_it_is_nested() -> None:
    value = [["a" * 100] * 4] * 4  # bounded repr alone still gives ~1,000 characters
    shown = show(value)
    assert len(shown) == 2 * VALUE_LIMIT and shown.endswith("...")


@pytest.mark.parametrize(
    ("parts", "limit", "text"),
    [
        (["a", "b" * 12], 15, "a; " + "b" * 12),  # an exact fit is whole
        (["a", "b" * 12], 14, "a (+1 more)"),  # one short: the part that does not fit is counted, not cut
        (["x" * 30], 20, "x" * 17 + "..."),  # one part too long alone: cut, nothing to count
        (["x" * 30, "y"], 20, "x" * 7 + "... (+1 more)"),  # cut to leave room for the count
        (["x" * 30, "y", "z"], 20, "x" * 7 + "... (+2 more)"),
    ],
)
def test_a_list_keeps_its_first_parts_whole_and_counts_the_rest(parts: list[str], limit: int, text: str) -> None:
    assert first_whole(parts, limit) == text


def test_a_number_where_a_boolean_belongs_is_named_in_the_reason() -> None:
    with pytest.raises(InvalidProperties) as raised:
        declaration.parse({"Name": "audit", "IsMultiRegionTrail": 1})
    assert raised.value.reason == "InvalidProperties: IsMultiRegionTrail=1: must be true or false"


def test_an_unknown_property_with_no_close_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidProperties) as raised:
        declaration.parse({"Name": "audit", "Qqqq": "x"})
    known = ", ".join(sorted(declaration.known_properties()))
    assert raised.value.problems == (f"Qqqq: unknown property; known: {known}",)


def test_an_unknown_property_close_to_a_known_one_names_only_the_closest() -> None:
    with pytest.raises(InvalidProperties) as raised:
        declaration.parse({"Name": "audit", "S3BucketNam": "logs"})
    assert raised.value.problems == ("S3BucketNam: unknown property; did you mean S3BucketName?",)


def test_a_failed_aws_call_says_which_call_and_which_code() -> None:
    error = AwsCallFailed("KMSInvalidStateException", "DescribeKey", "KMS key k is pending deletion")
    assert (error.aws_code, error.operation, error.error_code) == (
        "KMSInvalidStateException",
        "DescribeKey",
        error.aws_code,
    )
    assert error.reason == "KMSInvalidStateException: KMS key k is pending deletion"


@pytest.mark.parametrize(
    ("props", "problem"),
    [
        ({"Name": 7}, "Name=7: must be a string"),
        ({"Name": "a"}, f"Name='a': {rules.TRAIL_NAME_RULE}"),
        ({}, "Name: required: the trail's name or ARN"),
    ],
)
def test_a_bad_name_is_quoted_in_its_reason(props: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidProperties) as raised:
        declaration.parse(props)
    assert raised.value.problems == (problem,)


def test_properties_that_are_not_an_object_say_what_they_are() -> None:
    with pytest.raises(InvalidProperties) as raised:
        declaration.parse(["Name", "audit"])
    assert raised.value.problems == ("properties must be an object, not list",)


def test_the_error_message_is_what_a_pipeline_sees_when_it_catches_the_error_by_name() -> None:
    # Step Functions shows str(exception) as the error's cause.
    assert str(MalformedEvent("action 'x' is not 'plan' or 'apply'")) == "action 'x' is not 'plan' or 'apply'"
    assert str(InvalidProperties(["A: bad", "B: bad"])) == "A: bad (+1 more)"


class FixedContext(LambdaContext):
    """A Lambda context whose remaining time does not move while the test looks at it."""

    def __init__(self, millis: int) -> None:
        super().__init__()
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


@pytest.mark.parametrize(
    ("millis", "work"),
    [(600_000, 595.0), (60_000, 55.0), (8_000, 6.0), (2_000, 1.5), (0, 0.0)],
)
def test_the_work_keeps_back_five_seconds_or_a_quarter_of_the_time_to_answer(
    world: seeding.World, provider: Any, cfn: ResponseServer, millis: int, work: float
) -> None:
    before = time.monotonic()
    handler.lambda_handler(load("delete", cfn.url()), FixedContext(millis))
    remaining = provider.deadline.remaining()
    spent = time.monotonic() - before  # the deadline was set within this span: bounds a busy machine meets
    assert work - spent <= remaining <= work


def test_an_unexpected_error_is_counted_as_internal_error(
    world: seeding.World,
    provider: Any,
    cfn: ResponseServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(props: object) -> declaration.Declaration:
        raise KeyError("surprise")

    monkeypatch.setattr(declaration, "parse", crash)
    event = load("create", cfn.url())
    handler.lambda_handler(event, LambdaContext())
    (answer,) = cfn.for_url(event["ResponseURL"])
    assert answer.body["Reason"] == "InternalError: KeyError: 'surprise'"
    assert failure_codes(capsys.readouterr().out) == ["InternalError"]

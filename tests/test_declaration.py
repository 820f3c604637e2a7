"""Parsing and validating declared properties: pure, table-driven, no AWS."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trailkeeper.errors import InvalidProperties
from trailkeeper.trail import rules
from trailkeeper.trail.declaration import PATTERN_RULE, is_pattern, parse

ARN = "arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit"


def problems(props: dict[str, object]) -> tuple[str, ...]:
    with pytest.raises(InvalidProperties) as caught:
        parse(props)
    return caught.value.problems


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "audit-trail",
        "a.b_c-d",
        "A1b",
        "x" * 128,
        ARN,
        "arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:trail/t1x",
    ],
)
def test_valid_names(name: str) -> None:
    assert parse({"Name": name}).name == name


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "x" * 129,
        "-abc",
        "abc-",
        "my--trail",
        "my-_trail",
        "a..b",
        "bad name",
        "192.168.1.1",
        "trail!",
        "arn:aws:cloudtrail:eu-west-1:123:trail/audit",
        "arn:aws:s3:::bucket",
        "arn:aws:cloudtrail:eu-west-1:123456789012:trail/-x",
    ],
)
def test_invalid_names_name_the_property_value_and_rule(name: str) -> None:
    (problem,) = problems({"Name": name})
    assert problem.startswith("Name=") and "trail" in problem


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("audit-*", True),
        ("a?c", True),
        ("*", True),
        ("audit", False),
        (ARN, False),
        (ARN + "*", False),
        ("arn:aws:cloudtrail:eu-west-1:123456789012:trail/a?", False),
    ],
)
def test_a_pattern_is_a_name_with_a_wildcard_and_an_arn_never_is_one(name: str, expected: bool) -> None:
    assert is_pattern(name) is expected


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (ARN + "*", f"Name={ARN + '*'!r}: a pattern matches trail names, not ARNs; narrow it with Match.Regions"),
        (
            "arn:aws:cloudtrail:eu-west-1:123456789012:trail/a?",
            "Name='arn:aws:cloudtrail:eu-west-1:123456789012:"
            "trail/a?': a pattern matches trail names, not ARNs; narrow it with Match.Regions",
        ),
        ("bad name*", f"Name='bad name*': {PATTERN_RULE}"),
        ("x" * 128 + "*", f"Name={'x' * 57 + '...'!r}: {PATTERN_RULE}"),
    ],
)
def test_a_pattern_that_is_an_arn_or_breaks_the_rule_is_refused_by_name(name: str, problem: str) -> None:
    assert problems({"Name": name}) == (problem,)


def test_name_is_required_and_must_be_a_string() -> None:
    assert problems({}) == ("Name: required: the trail's name or ARN",)
    assert problems({"Name": ""}) == ("Name: required: the trail's name or ARN",)
    assert "must be a string" in problems({"Name": 12})[0]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("False", False),
        (" true ", True),
        (True, True),
        (False, False),
    ],
)
def test_booleans_arrive_as_strings_in_any_case(raw: object, expected: bool) -> None:
    assert parse({"Name": "audit", "EnableLogFileValidation": raw}).settings["EnableLogFileValidation"] is expected


@pytest.mark.parametrize("raw", ["yes", "1", "", "on", 1, None, "truee"])
def test_anything_else_is_not_a_boolean(raw: object) -> None:
    (problem,) = problems({"Name": "audit", "IsMultiRegionTrail": raw})
    assert problem.startswith("IsMultiRegionTrail=") and "must be true or false" in problem


def test_unknown_properties_are_errors_with_a_suggestion() -> None:
    (problem,) = problems({"Name": "audit", "EnableLogFileValidaton": "true"})
    assert problem == "EnableLogFileValidaton: unknown property; did you mean EnableLogFileValidation?"
    (problem,) = problems({"Name": "audit", "Colour": "blue"})
    assert problem.startswith("Colour: unknown property; known: ")
    assert {"CloudWatchLogsLogGroupArn", "IsLogging", "EventSelectors", "Tags"} <= set(
        problem.split(": ")[-1].split(", ")
    )


def test_unknown_keys_that_are_not_strings_or_are_long_are_shown_bounded() -> None:
    number, long = problems({"Name": "audit", 5: "x", "K" * 100: "y"})
    assert number.startswith("5: unknown property; known: ")
    assert long.startswith("K" * 57 + "...: unknown property; known: ")


def test_service_token_and_timeout_are_not_settings() -> None:
    declared = parse({"Name": "audit", "ServiceToken": "arn:aws:lambda:...", "ServiceTimeout": "300"})
    assert dict(declared.settings) == {}


def test_properties_left_out_are_not_managed_and_empty_strings_clear() -> None:
    declared = parse({"Name": "audit", "KmsKeyId": "", "SnsTopicName": "", "S3KeyPrefix": ""})
    assert dict(declared.settings) == {"KmsKeyId": "", "SnsTopicName": "", "S3KeyPrefix": ""}


def test_the_bucket_cannot_be_cleared() -> None:
    (problem,) = problems({"Name": "audit", "S3BucketName": ""})
    assert problem.startswith("S3BucketName='': cannot be cleared")


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("S3BucketName", "my-logs"),
        ("S3BucketName", "logs.example.com"),
        ("S3BucketName", "abc"),
        ("S3KeyPrefix", "p" * 200),
        ("S3KeyPrefix", "org/audit/"),
        ("SnsTopicName", "deliveries"),
        ("SnsTopicName", "arn:aws:sns:us-east-1:123456789012:deliveries"),
        ("KmsKeyId", "alias/audit"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:alias/audit"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"),
        ("KmsKeyId", "12345678-1234-1234-1234-123456789012"),
        ("KmsKeyId", "mrk-1234abcd12ab34cd56ef1234567890ab"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"),
        ("CloudWatchLogsLogGroupArn", "arn:aws:logs:us-east-1:123456789012:log-group:audit"),
        ("CloudWatchLogsLogGroupArn", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/audit:*"),
    ],
)
def test_valid_values(prop: str, value: str) -> None:
    extra = {}
    if prop == "CloudWatchLogsLogGroupArn":
        extra = {"CloudWatchLogsRoleArn": "arn:aws:iam::123456789012:role/ct"}
    assert parse({"Name": "audit", prop: value, **extra}).settings[prop] == value


@pytest.mark.parametrize(
    ("prop", "value", "rule"),
    [
        ("S3BucketName", "Trail_Logs", rules.BUCKET_RULE),
        ("S3BucketName", "ab", rules.BUCKET_RULE),
        ("S3BucketName", "a..b", rules.BUCKET_RULE),
        ("S3BucketName", "192.168.5.4", rules.BUCKET_RULE),
        ("S3BucketName", "xn--abc", rules.BUCKET_RULE),
        ("S3BucketName", "logs-s3alias", rules.BUCKET_RULE),
        ("S3BucketName", "-logs", rules.BUCKET_RULE),
        ("S3BucketName", "l" * 64, rules.BUCKET_RULE),
        ("S3KeyPrefix", "p" * 201, "at most 200"),
        ("SnsTopicName", "t" * 257, "at most 256"),
        ("SnsTopicName", "bad topic", "topic name"),
        ("SnsTopicName", "arn:aws:sns:us-east-1:1234:t", "topic ARN"),
        ("KmsKeyId", "my-key", "KMS key"),
        ("KmsKeyId", "alias/", "KMS key"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/nope", "KMS key"),
        ("KmsKeyId", "mrk-123", "KMS key"),
    ],
)
def test_invalid_values_name_the_property_value_and_rule(prop: str, value: str, rule: str) -> None:
    (problem,) = problems({"Name": "audit", prop: value})
    assert problem.startswith(f"{prop}=") and rule in problem


def test_long_values_are_shortened_in_the_reason() -> None:
    (problem,) = problems({"Name": "audit", "S3KeyPrefix": "p" * 500})
    assert "p" * 60 not in problem and "..." in problem


def test_log_group_and_role_come_together() -> None:
    group = "arn:aws:logs:us-east-1:123456789012:log-group:audit"
    role = "arn:aws:iam::123456789012:role/ct"
    assert "declare CloudWatchLogsRoleArn with it" in problems({"Name": "audit", "CloudWatchLogsLogGroupArn": group})[0]
    assert "declare CloudWatchLogsLogGroupArn" in problems({"Name": "audit", "CloudWatchLogsRoleArn": role})[0]
    assert (
        "set both, or clear both"
        in problems({"Name": "audit", "CloudWatchLogsLogGroupArn": group, "CloudWatchLogsRoleArn": ""})[0]
    )
    cleared = parse({"Name": "audit", "CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": ""})
    assert dict(cleared.settings) == {"CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": ""}
    assert (
        "role ARN" in problems({"Name": "audit", "CloudWatchLogsLogGroupArn": group, "CloudWatchLogsRoleArn": "r"})[0]
    )


def test_every_problem_is_listed_at_once() -> None:
    found = problems({"Name": "x", "S3BucketName": "BAD", "Typo": "1", "IsMultiRegionTrail": "maybe"})
    assert [p.split("=")[0].split(":")[0] for p in found] == ["Name", "S3BucketName", "Typo", "IsMultiRegionTrail"]


@pytest.mark.parametrize("props", [[], "Name=audit", None, 3])
def test_properties_must_be_an_object(props: object) -> None:
    assert problems(props)[0].startswith("properties must be an object")  # type: ignore[arg-type]


def test_the_declaration_is_frozen() -> None:
    declared = parse({"Name": "audit", "S3KeyPrefix": "x"})
    with pytest.raises(TypeError):
        declared.settings["S3KeyPrefix"] = "y"  # type: ignore[index]


@given(st.text(alphabet="abcAB019._-", min_size=1, max_size=140))
def test_trail_name_rule_agrees_with_its_definition(name: str) -> None:
    expected_ok = (
        3 <= len(name) <= 128
        and name[0].isalnum()
        and name[-1].isalnum()
        and not any(a in "._-" and b in "._-" for a, b in itertools.pairwise(name))
    )
    assert (rules.trail_name(name) is None) == expected_ok


def test_a_long_list_of_problems_keeps_the_first_whole_and_counts_the_rest() -> None:
    from trailkeeper.errors import REASON_LIMIT

    long = [f"Prop{i}={'v' * 100!r}: a rule that is long enough to matter" for i in range(3)]
    error = InvalidProperties(long)
    assert error.reason == f"InvalidProperties: {long[0]} (+2 more)"
    many = InvalidProperties([f"Prop{i}: unknown property" for i in range(30)])
    assert len(many.reason) <= REASON_LIMIT and many.reason.endswith("Prop8: unknown property (+21 more)")
    huge = InvalidProperties(["x" * 400, "y", "z"])
    assert len(huge.reason) == REASON_LIMIT and huge.reason.endswith("... (+2 more)")


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({"Tags": {"k": "v", "n": None}}, ({"k": "v", "n": None}, frozenset())),
        ({"Tags": {"k" * 128: "v" * 256}}, ({"k" * 128: "v" * 256}, frozenset())),
        ({"Regions": ["eu-west-1", "us-gov-west-1"]}, ({}, frozenset({"eu-west-1", "us-gov-west-1"}))),
    ],
)
def test_match_narrows_a_pattern_by_tags_and_home_regions(
    match: dict[str, object], expected: tuple[dict[str, str | None], frozenset[str]]
) -> None:
    declared = parse({"Name": "audit-*", "Match": match})
    assert (dict(declared.match.tags), declared.match.regions) == expected


TAG_RULE = "must be a non-empty object of tag key: value (null: any value)"
REGION_RULE = "not a region name (e.g. eu-west-1)"


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ({}, ["Match={}: must be an object with Tags and/or Regions"]),
        ("eu-west-1", ["Match='eu-west-1': must be an object with Tags and/or Regions"]),
        (
            {"Colour": 1, "k" * 100: 2},
            [f"Match.{key}: unknown key; known: Tags, Regions" for key in ("Colour", "k" * 37 + "...")],
        ),
        ({"Tags": {}}, [f"Match.Tags={{}}: {TAG_RULE}"]),
        ({"Tags": "env"}, [f"Match.Tags='env': {TAG_RULE}"]),
        ({"Tags": {"": "x"}}, ["Match.Tags: key '': must be a string of 1-128 characters"]),
        ({"Tags": {"k" * 129: "x"}}, [f"Match.Tags: key {'k' * 57 + '...'!r}: must be a string of 1-128 characters"]),
        (
            {"Tags": {"env": "v" * 257}},
            [f"Match.Tags.env={'v' * 57 + '...'!r}: must be a string of at most 256 characters, or null"],
        ),
        ({"Tags": {"env": 5}}, ["Match.Tags.env=5: must be a string of at most 256 characters, or null"]),
        ({"Regions": []}, ["Match.Regions=[]: must be a non-empty list of region names"]),
        ({"Regions": "eu-west-1"}, ["Match.Regions='eu-west-1': must be a non-empty list of region names"]),
        ({"Regions": ["eu-west-1", "Europe", 5]}, [f"Match.Regions: 'Europe', 5: {REGION_RULE}"]),
        ({"Regions": list("abcdef")}, [f"Match.Regions: 'a', 'b', 'c', 'd', 'e': {REGION_RULE}"]),
    ],
)
def test_a_match_that_cannot_narrow_is_refused_naming_the_key_the_value_and_the_rule(
    match: object, expected: list[str]
) -> None:
    assert list(problems({"Name": "audit-*", "Match": match})) == expected


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ({}, (False, False, None)),
        ({"RepairDelivery": "true", "DryRun": "TRUE", "AllowWeakening": "false"}, (False, True, True)),
        ({"RepairDelivery": False, "AllowWeakening": True}, (True, False, False)),
    ],
)
def test_controls_left_out_keep_their_safe_defaults(
    declared: dict[str, object], expected: tuple[object, bool, bool | None]
) -> None:
    parsed = parse({"Name": "audit", **declared})
    assert (parsed.allow_weakening, parsed.dry_run, parsed.repair_delivery) == expected


def test_a_control_that_is_not_a_boolean_is_refused_by_name() -> None:
    assert problems({"Name": "audit", "RepairDelivery": "maybe"}) == ("RepairDelivery='maybe': must be true or false",)

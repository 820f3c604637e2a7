"""Every value check takes the whole value, in ASCII, as AWS does.

A pattern ending in `$` lets a trailing newline through, and Python's `\\d` and `\\w` take any script's
digits and letters; AWS refuses both. So `SnsTopicName: "alerts\\n"` or an account id written in
Arabic-Indic digits passed validation and failed at UpdateTrail. Each check now refuses them before any
call, and still accepts everything its documented pattern (the oracle below, matched whole in ASCII)
describes.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_promises_edges import problems
from trailkeeper.cli import flags
from trailkeeper.errors import InvalidProperties, InvalidState
from trailkeeper.org import inventory
from trailkeeper.trail import rules, selectors
from trailkeeper.trail.rules import Check

GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:audit"
ROLE = "arn:aws:iam::123456789012:role/ct"
ARABIC_ACCOUNT = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"

# The documented patterns (CloudTrail, SNS, KMS, CloudWatch Logs and IAM), as regular expressions matched whole
# in ASCII: the oracle of what each check accepts. A region's first word has two to four letters, as in botocore's
# partitions (eusc-de-east-1 is the European Sovereign Cloud's).
_A = r"[0-9]{12}"
_ID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32}"


def documented(partition: str, region: str, topic: int = 256) -> dict[str, tuple[str, Check]]:
    return {
        "sns topic name": (r"[A-Za-z0-9_-]{1,256}", rules.sns_topic),
        "sns topic ARN": (rf"arn:{partition}:sns:{region}:{_A}:[A-Za-z0-9_-]{{1,{topic}}}", rules.sns_topic),
        "kms key id": (_ID, rules.kms_key),
        "kms key ARN": (rf"arn:{partition}:kms:{region}:{_A}:key/(?:{_ID})", rules.kms_key),
        "kms alias": (r"alias/[a-zA-Z0-9/_-]{1,250}", rules.kms_key),
        "kms alias ARN": (rf"arn:{partition}:kms:{region}:{_A}:alias/[a-zA-Z0-9/_-]{{1,250}}", rules.kms_key),
        "log group ARN": (
            rf"arn:{partition}:logs:{region}:{_A}:log-group:[A-Za-z0-9._/#-]{{1,512}}(?::\*)?",
            rules.log_group_arn,
        ),
        "role ARN": (rf"arn:{partition}:iam::{_A}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{{1,64}}", rules.iam_role_arn),
    }


ORACLES = documented(r"aws(?:-[a-z]+)*", r"[a-z]{2,4}(?:-[a-z]+)+-[0-9]+")
# What the tests draw from: partitions and regions of bounded length, so a topic ARN stays within 256 characters.
DRAWN = documented(r"aws(?:-[a-z]{1,8}){0,2}", r"[a-z]{2,4}(?:-[a-z]{1,10}){1,3}-[0-9]{1,2}", topic=160)
NEAR = "\n\r\x00 :/*.-_@#+=aZ9\u00e9\u0661"  # what a value near a valid one may gain in one place


def oracle(check: Check, value: str) -> bool:
    """Whether the documented patterns of `check` accept `value`."""
    kinds = [pattern for pattern, same in ORACLES.values() if same is check]
    if check is rules.sns_topic and len(value) > 256:
        return False
    return any(re.fullmatch(pattern, value, re.ASCII) for pattern in kinds)


def _drawn(kind: str, data: st.DataObject) -> tuple[str, Check]:
    """A value the documented pattern of `kind` describes, and the check that judges it."""
    pattern, check = DRAWN[kind]
    return data.draw(st.from_regex(re.compile(pattern, re.ASCII), fullmatch=True)), check


@pytest.mark.parametrize("kind", sorted(ORACLES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_whatever_the_documented_pattern_describes_is_accepted(kind: str, data: st.DataObject) -> None:
    value, check = _drawn(kind, data)
    assert check(value) is None, value


@pytest.mark.parametrize("kind", sorted(ORACLES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_value_near_a_valid_one_is_judged_as_the_documented_pattern_judges_it(kind: str, data: st.DataObject) -> None:
    value, check = _drawn(kind, data)
    at = data.draw(st.integers(0, len(value)))
    gained = data.draw(st.sampled_from(NEAR))
    near = data.draw(
        st.sampled_from(
            [value[:at] + gained + value[at:], value[:at] + gained + value[at + 1 :], value[:at] + value[at + 1 :]]
        )
    )
    assert (check(near) is None) == oracle(check, near), near


def _trail_name_documented(value: str) -> bool:
    return bool(
        3 <= len(value) <= 128
        and re.fullmatch(r"[A-Za-z0-9._-]+", value, re.ASCII)
        and value[0].isalnum()
        and value[-1].isalnum()
        and not re.search(r"[._-]{2}", value)
        and not _an_ip_address(value)
    )


def _bucket_documented(value: str) -> bool:
    return bool(
        3 <= len(value) <= 63
        and re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", value, re.ASCII)
        and ".." not in value
        and not _an_ip_address(value)
        and not value.startswith(("xn--", "sthree-", "amzn-s3-demo-"))
        and not value.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"))
    )


def _an_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(name=st.text(alphabet="abZ09._-:" + NEAR, max_size=12) | st.from_regex(r"[a-z0-9.-]{1,70}", fullmatch=True))
def test_trail_and_bucket_names_are_judged_as_their_documented_rules_judge_them(name: str) -> None:
    assert (rules.trail_name(name) is None) == _trail_name_documented(name)
    assert (rules.s3_bucket_name(name) is None) == _bucket_documented(name)


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("Name", "audit"),
        ("Name", "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit"),
        ("SnsTopicName", "alerts"),
        ("SnsTopicName", "arn:aws:sns:us-east-1:123456789012:alerts"),
        ("KmsKeyId", "alias/audit"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:alias/audit"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"),
        ("KmsKeyId", "mrk-1234abcd12ab34cd56ef1234567890ab"),
        ("CloudWatchLogsRoleArn", ROLE),
        ("CloudWatchLogsLogGroupArn", GROUP + ":*"),
        ("S3BucketName", "audit-logs"),
    ],
)
@pytest.mark.parametrize("tail", ["\n", "\r\n", "\x00"])
def test_a_value_with_a_line_end_after_it_is_refused_and_named(prop: str, value: str, tail: str) -> None:
    pair = {"CloudWatchLogsLogGroupArn": GROUP, "CloudWatchLogsRoleArn": ROLE} if "CloudWatch" in prop else {}
    assert problems(**{**pair, prop: value}) == []
    found = problems(**{**pair, prop: value + tail})
    assert found and found[0].startswith(f"{prop}=")


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("SnsTopicName", f"arn:aws:sns:us-east-1:{ARABIC_ACCOUNT}:alerts"),
        ("KmsKeyId", f"arn:aws:kms:us-east-1:{ARABIC_ACCOUNT}:alias/audit"),
        ("CloudWatchLogsRoleArn", f"arn:aws:iam::{ARABIC_ACCOUNT}:role/ct"),
        ("CloudWatchLogsRoleArn", "arn:aws:iam::123456789012:role/caf\u00e9"),
        ("CloudWatchLogsLogGroupArn", "arn:aws:logs:us-east-\u0661:123456789012:log-group:audit"),
        ("Name", f"arn:aws:cloudtrail:us-east-1:{ARABIC_ACCOUNT}:trail/audit"),
    ],
)
def test_another_scripts_digits_or_letters_are_refused(prop: str, value: str) -> None:
    pair = {"CloudWatchLogsLogGroupArn": GROUP, "CloudWatchLogsRoleArn": ROLE} if "CloudWatch" in prop else {}
    found = problems(**{**pair, prop: value})
    assert found and found[0].startswith(f"{prop}=")


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("SnsTopicName", "arn:aws:sns:europe-west-1:123456789012:alerts"),
        ("SnsTopicName", "arn:aws-:sns:us-east-1:123456789012:alerts"),
        ("SnsTopicName", "arn:awsx:sns:us-east-1:123456789012:alerts"),
        ("SnsTopicName", "arn:aws:sns:us-east-:123456789012:alerts"),
        ("SnsTopicName", "arn:aws:sns:us-east-1:1234567890123:alerts"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/mrk-" + "a" * 31),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-12341-23456789012"),
        ("KmsKeyId", "arn:aws:kms:us-east-1:123456789012:alias/"),
        ("CloudWatchLogsRoleArn", "arn:aws:iam::123456789012:role/a b/ct"),
        ("CloudWatchLogsRoleArn", "arn:aws:iam::123456789012:roles/ct"),
        ("CloudWatchLogsLogGroupArn", GROUP + ":*:*"),
        ("CloudWatchLogsLogGroupArn", "arn:aws:logs:us-east-1:123456789012:log-group::*"),
    ],
)
def test_a_value_one_step_off_its_documented_pattern_is_refused(prop: str, value: str) -> None:
    pair = {"CloudWatchLogsLogGroupArn": GROUP, "CloudWatchLogsRoleArn": ROLE} if "CloudWatch" in prop else {}
    found = problems(**{**pair, prop: value})
    assert found and found[0].startswith(f"{prop}=")


def test_a_trail_arn_with_a_line_end_has_no_home() -> None:
    assert rules.trail_arn("arn:aws:cloudtrail:us-east-1:123456789012:trail/audit") == (
        "aws",
        "us-east-1",
        "123456789012",
        "audit",
    )
    assert rules.trail_arn("arn:aws:cloudtrail:us-east-1:123456789012:trail/audit\n") == (
        "aws",
        "us-east-1",
        "123456789012",
        "audit\n",
    )  # what AWS returns is taken as it is; a declared name is checked by `trail_name`
    assert rules.trail_name_or_arn("arn:aws:cloudtrail:us-east-1:123456789012:trail/audit\n") is not None


@pytest.mark.parametrize(
    "region",
    [
        "eu-west-1\n",
        "eu-west-\u0661",
        "EU-west-1",
        "eu-west",
        "europe-west-1",
        "eu--1",
        "eu-1",
        "eu--west-1",
        "-u-west-1",
        "e-west-1",
    ],
)
def test_match_regions_take_region_names_whole(region: str) -> None:
    found = problems(Name="audit-*", Match={"Regions": ["eu-west-1", region]})
    assert found and "not a region name" in found[0]
    assert problems(Name="audit-*", Match={"Regions": ["eu-west-1", "ap-southeast-10"]}) == []


def _botocore_partitions() -> list[dict[str, Any]]:
    import botocore

    path = Path(botocore.__file__).parent / "data" / "partitions.json"
    return list(json.loads(path.read_text())["partitions"])


@pytest.mark.parametrize("partition", _botocore_partitions(), ids=lambda p: str(p["id"]))
def test_every_region_of_every_partition_botocore_knows_is_a_region(partition: dict[str, Any]) -> None:
    # The European Sovereign Cloud's eusc-de-east-1 was refused while the rule wanted two letters first.
    regions = [r for r in partition["regions"] if not r.endswith("-global")]
    assert regions and [r for r in regions if not rules.is_region(r)] == []
    name, region = partition["id"], regions[0]
    assert rules.sns_topic(f"arn:{name}:sns:{region}:123456789012:alerts") is None
    assert rules.kms_key(f"arn:{name}:kms:{region}:123456789012:alias/audit") is None
    assert rules.trail_name_or_arn(f"arn:{name}:cloudtrail:{region}:123456789012:trail/audit") is None
    assert problems(Name="audit-*", Match={"Regions": regions}) == []


@pytest.mark.parametrize("region", ["eu-west-1\n", "eu-west-\u0661"])
def test_an_inventory_takes_region_names_whole(region: str) -> None:
    def entry(regions: list[str]) -> dict[str, Any]:
        return {"accounts": [{"account_id": "123456789012", "regions": regions}]}

    assert inventory.parse(entry(["eu-west-1", "ap-southeast-10"]), role_name="audit")[0].regions
    with pytest.raises(InvalidState, match="regions"):
        inventory.parse(entry(["eu-west-1", region]), role_name="audit")


def test_an_ou_id_is_taken_whole() -> None:
    parser = argparse.ArgumentParser()
    flags.add_arguments(parser)
    flags.check(parser.parse_args(["--organization", "--ou", "ou-ab12-abcdefgh"]))
    with pytest.raises(InvalidProperties, match="is not an OU id"):
        flags.check(parser.parse_args(["--organization", "--ou", "ou-ab12-abcdefgh\n"]))


@pytest.mark.parametrize(
    ("field", "accepted"),
    [("eventName", True), ("resources.ARN", True), ("eventN\u00e4me", False), ("eventName\n", False), ("a-b", False)],
)
def test_a_selector_field_is_matched_in_ascii_as_the_service_does(field: str, accepted: bool) -> None:
    assert (selectors.FIELD_PATTERN.fullmatch(field) is not None) == accepted

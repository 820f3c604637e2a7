"""Declared-state files: the custom resource's rules, every problem listed with file, trail and property."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailkeeper.drift import state
from trailkeeper.errors import InvalidState


def problems(text: str, source: str = "desired.yaml") -> tuple[str, ...]:
    with pytest.raises(InvalidState) as caught:
        state.loads(text, source)
    return caught.value.problems


def test_yaml_and_json_give_the_same_declarations() -> None:
    from_yaml = state.loads("trails:\n  - Name: audit\n    EnableLogFileValidation: true\n    KmsKeyId: alias/audit\n")
    from_json = state.loads(
        '{"trails": [{"Name": "audit", "EnableLogFileValidation": "true", "KmsKeyId": "alias/audit"}]}', "desired.json"
    )
    assert from_yaml == from_json
    assert dict(from_yaml[0].settings) == {"EnableLogFileValidation": True, "KmsKeyId": "alias/audit"}


def test_every_problem_names_file_trail_property_and_rule() -> None:
    found = problems(
        "trails:\n"
        "  - Name: audit\n    S3BucketName: Bad_Bucket\n    Typo: 1\n"
        "  - Name: ok-trail\n"
        "  - Name: x\n"
        "  - EnableLogFileValidation: maybe\n"
    )
    assert found[0].startswith("desired.yaml: trails[0] (audit): S3BucketName='Bad_Bucket': a bucket name is")
    assert found[1] == "desired.yaml: trails[0] (audit): Typo: unknown property; known: " + found[1].split("known: ")[1]
    assert found[2].startswith("desired.yaml: trails[2] (x): Name='x': a trail name is 3-128")
    assert found[3] == "desired.yaml: trails[3]: Name: required: the trail's name or ARN"
    assert found[4].startswith("desired.yaml: trails[3]: EnableLogFileValidation='maybe': must be true or false")
    assert len(found) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- Name: audit\n", "desired.yaml: the document must be an object with a `trails:` list"),
        ("trails: audit\n", "desired.yaml: the document must be an object with a `trails:` list"),
        ("trails: []\nextra: 1\n", "desired.yaml: unknown top-level key 'extra' (expected `trails`)"),
        ("trails: [Name: a\n", "desired.yaml: not valid YAML"),
        (
            "trails:\n  - Name: audit\n  - Name: audit\n",
            "desired.yaml: trails[1] (audit): Name 'audit' is already declared by trails[0] (audit)",
        ),
    ],
)
def test_structural_problems(text: str, expected: str) -> None:
    assert problems(text)[0].startswith(expected)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidState) as caught:
        state.load(tmp_path / "nope.yaml")
    assert caught.value.problems[0].endswith("nope.yaml: cannot read: No such file or directory")

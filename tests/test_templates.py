"""The templates a platform team reviews: they lint clean, transform, and the sample events are real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import models
from devkit import events, render, template

pytestmark = pytest.mark.slow  # cfn-lint and the SAM transform on every template: make test-fast leaves them out

ROOT = Path(__file__).resolve().parent.parent
CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
# Templates for other accounts than the provider's (no Custom::TrailSettings): linted and scanned all the same.
OTHER_ACCOUNTS = sorted((ROOT / "examples" / "management-account").glob("*.yaml"))


def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CFN_LINT, *map(str, paths)], capture_output=True, text=True, check=False)


def test_template_and_examples_lint_without_errors_or_warnings() -> None:
    assert OTHER_ACCOUNTS
    result = lint(ROOT / "template.yaml", *EXAMPLES, *OTHER_ACCOUNTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_template_for_another_account_is_scanned() -> None:
    scan = (ROOT / "Makefile").read_text().split("\nscan:", 1)[1].split("\n\n", 1)[0]
    assert "$(wildcard examples/management-account/*.yaml)" in scan


def test_cfn_lint_would_catch_a_broken_template(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (ROOT / "template.yaml").read_text().replace("RetentionInDays: !Ref LogRetentionInDays", "RetentionInDays: 13")
    )
    assert lint(broken).returncode != 0


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    return render.render("trailkeeper/provider-0123456789abcdef.zip")


def test_the_sam_transform_accepts_the_template_and_removes_itself(rendered: dict[str, Any]) -> None:
    assert "Transform" not in rendered
    assert rendered["Resources"]["TrailSettingsFunction"]["Type"] == "AWS::Lambda::Function"
    code = rendered["Resources"]["TrailSettingsFunction"]["Properties"]["Code"]
    assert code == {"S3Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"}, "S3Key": {"Ref": "ArtifactKey"}}


def test_the_rendered_template_is_region_and_partition_neutral_and_lints_clean(
    rendered: dict[str, Any], tmp_path: Path
) -> None:
    text = json.dumps(rendered)
    assert "us-east-1" not in text and '"arn:aws:' not in text
    path = tmp_path / "rendered.template.json"
    path.write_text(text)
    result = lint(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_function_is_current_python_on_arm64_with_its_own_log_group() -> None:
    loaded = template.load()
    function = loaded["Resources"]["TrailSettingsFunction"]["Properties"]
    assert (function["Runtime"], function["Architectures"]) == ("python3.13", ["arm64"])
    assert function["LoggingConfig"]["LogGroup"] == {"Ref": "TrailSettingsLogGroup"}
    group = loaded["Resources"]["TrailSettingsLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    export = loaded["Outputs"]["ServiceToken"]
    assert export["Export"]["Name"] == {"Fn::Sub": "${AWS::StackName}-ServiceToken"}
    assert export["Value"] == {"Fn::GetAtt": ["TrailSettingsFunction", "Arn"]}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_sets_a_service_timeout_and_imports_the_token(example: Path) -> None:
    loaded = template.load(example)
    custom = [r for r in loaded["Resources"].values() if r["Type"] == "Custom::TrailSettings"]
    assert custom
    for resource in custom:
        assert 1 <= int(resource["Properties"]["ServiceTimeout"]) <= 600
        assert "Fn::ImportValue" in resource["Properties"]["ServiceToken"]


MODELS = {
    "Create": models.CloudFormationCustomResourceCreateModel,
    "Update": models.CloudFormationCustomResourceUpdateModel,
    "Delete": models.CloudFormationCustomResourceDeleteModel,
}


@pytest.mark.parametrize("name", events.names())
def test_every_sample_event_validates_against_powertools_models(name: str) -> None:
    event = events.load(name)
    parsed = MODELS[event["RequestType"]](**event)
    assert parsed.request_type == event["RequestType"]

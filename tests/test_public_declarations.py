"""Declarations copied from real public AWS::CloudTrail::Trail templates adopt an existing trail and settle.

Each file in tests/fixtures/public_trails/ holds one declaration as its authors wrote it (intrinsic
functions replaced by concrete values; see that folder's README for the sources). The test gives moto,
held to CloudTrail's behaviour by devkit.fidelity, an existing trail as a console or an older stack would
have left it (logging, the default selector, no Insights), applies the declaration, then plans again:
nothing may be left to do. AllowWeakening is needed only where the declaration really weakens that trail.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from devkit import fidelity
from moto import mock_aws

from tests.conftest import RecordingClients
from trailkeeper.aws.calls import Deadline
from trailkeeper.aws.pacing import Pacer
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import state

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "public_trails").glob("*.yaml"))
ACCOUNT, REGION = "111122223333", "us-east-1"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
# Declarations that log fewer management events than a trail logging all of them: CDK's data-events-only
# example (06), all S3 reads without management events (09), write-only management events (10).
WEAKENING = {"06", "09", "10"}


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    with fidelity.cloudtrail_as_aws(), mock_aws():
        yield


def _world(properties: dict[str, Any]) -> str:
    """What the declaration refers to, and the trail as it stands before adoption; returns the key's id."""
    bucket = str(properties.get("S3BucketName", "audit-logs-111122223333"))
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
    boto3.client("sns", region_name=REGION).create_topic(Name="cloudtrail-notifications")
    key_id = str(boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"])
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="cloudtrail")
    trust = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
    }
    boto3.client("iam").create_role(RoleName="cloudtrail-to-cloudwatch", AssumeRolePolicyDocument=json.dumps(trust))
    name = str(properties["TrailName"])
    cloudtrail = boto3.client("cloudtrail", region_name=REGION)
    cloudtrail.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=True)
    cloudtrail.start_logging(Name=name)
    return key_id


def _run(document: dict[str, Any], *, apply: bool, allow_weakening: bool = False) -> Any:
    (result,) = fleet.run(
        state.parse(document, "fixture"),
        clients=RecordingClients(),
        default_region=REGION,
        caller_account=ACCOUNT,
        apply=apply,
        pacer=Pacer(interval=0),
        read_pacer=Pacer(interval=0),
        deadline=Deadline(),
        allow_weakening=allow_weakening,
    ).results
    return result


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_a_public_declaration_adopts_an_existing_trail_and_settles(path: Path, account: None) -> None:
    text = path.read_text(encoding="utf-8")
    key_id = _world(yaml.safe_load(text)["properties"])
    # The fixtures name one placeholder key; moto makes its own ids, so the placeholder becomes the real one.
    document = {"trails": [yaml.safe_load(text.replace(KEY_ID, key_id))["properties"]]}
    weakens = path.stem[:2] in WEAKENING

    refused = _run(document, apply=True)
    if weakens:
        assert refused.status == "failed" and refused.error.error_code == "WeakensAudit", refused.to_dict()
        assert any(change.weakens for change in _run(document, apply=False).changes)
    else:
        assert refused.status in ("fixed", "in_sync"), refused.to_dict()

    _run(document, apply=True, allow_weakening=weakens)
    settled = _run(document, apply=False)
    assert settled.status == "in_sync", settled.to_dict()


def test_the_corpus_covers_what_public_templates_declare() -> None:
    declared = [yaml.safe_load(p.read_text(encoding="utf-8"))["properties"] for p in FIXTURES]
    assert len(declared) >= 15
    for name in ("EventSelectors", "AdvancedEventSelectors", "InsightSelectors", "Tags", "IsLogging", "KMSKeyId"):
        assert any(name in d for d in declared), name
    assert any(d.get("EventSelectors") == [] for d in declared)
    assert any(d.get("InsightSelectors") == [] for d in declared)

"""Shared fixtures: fake credentials, moto in-process, a local HTTPS server for responses, the provider.

moto in-process is held to CloudTrail's behaviour by devkit.fidelity (default selector, Insights rules,
home regions, key ARNs...): tests that need moto as it is say so (tests/test_fidelity.py's `bare`).
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from devkit import fidelity, organization
from devkit import world as seeding
from devkit.cfn_server import ResponseServer
from devkit.events import load
from devkit.lambda_context import LambdaContext
from devkit.recording import RecordingClients
from moto import mock_aws
from moto.kms import models as moto_kms

from tests.org_gaps import real_aws_rules  # noqa: F401 - a fixture: AssumeRole and organization trails as AWS has them
from trailkeeper import handler
from trailkeeper.cfn import response
from trailkeeper.cfn.resource import TrailSettingsResource
from trailkeeper.invocations import organization_step

# One botocore model loader per test process, keyed by its search path. Tests build many sessions (recording
# clients, moto's accounts, boto3's defaults), and each new session would parse the same service models'
# JSON again: a sixth of test_audit.py's time. The models are read-only data; the product shares its loader
# the same way (org/credentials.py).
botocore.session.create_loader = functools.cache(botocore.session.create_loader)
# moto makes every KMS key, symmetric ones included, with a fresh 2,048-bit RSA key pair (36 ms each, once per
# test that seeds a world). No test signs or verifies: one pair per key spec serves them all.
moto_kms.generate_private_key = functools.cache(moto_kms.generate_private_key)

SECRET_KEY = "tEsTsEcReTkEy/0123456789abcdefghijklmnopQR"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN0123456789abcdefghij"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole-system tests first (marked `slow` or `installs`): with the suite spread over workers
    (pytest-xdist), a minute-long test started last would finish the run alone."""
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.get_closest_marker("installs")))


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEKEYID0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture
def aws(request: pytest.FixtureRequest) -> Iterator[None]:
    if "bare" in request.fixturenames:  # a test of moto as it is (tests/test_fidelity.py)
        with mock_aws():
            yield
        return
    with fidelity.cloudtrail_as_aws(), mock_aws():
        yield


@pytest.fixture
def world(aws: None) -> seeding.World:
    return seeding.seed()


# Every CloudTrail call that changes a trail: what a read-only run must never make, and what the delegated
# administrator must make by ARN.
CLOUDTRAIL_WRITES = (
    "UpdateTrail",
    "StartLogging",
    "StopLogging",
    "PutEventSelectors",
    "PutInsightSelectors",
    "AddTags",
    "RemoveTags",
)
RESULTS_BUCKET = "reconcile-results"  # where the organization state machine's Map reads items and writes results


@pytest.fixture
def org(world: seeding.World, real_aws_rules: dict[str, Any]) -> organization.Organization:  # noqa: F811
    """An organization on moto (devkit/organization.py): management account, OUs, members with the role runs
    assume; AssumeRole and organization trails behave as AWS's do (tests/org_gaps.py)."""
    return organization.seed()


@pytest.fixture
def delegated(org: organization.Organization) -> organization.Delegated:
    """The organization with a `security` account registered as CloudTrail's delegated administrator, and the
    management account's organization trail (devkit/organization.py; devkit/delegation.py models both)."""
    return organization.seed_delegated(org)


@pytest.fixture
def administrator_clients(delegated: organization.Delegated) -> RecordingClients:
    """Recording clients acting in the delegated administrator's account."""
    return RecordingClients(session=organization.session_in(delegated.administrator))


@pytest.fixture
def state_machine_steps(
    org: organization.Organization, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The organization state machine's steps (invocations/organization_step.py) act through `clients`, and
    the bucket its Map reads items from and writes results to exists."""
    monkeypatch.setattr(organization_step, "clients", lambda: clients)
    boto3.client("s3", region_name=seeding.HOME).create_bucket(Bucket=RESULTS_BUCKET)


@pytest.fixture
def stack(world: seeding.World) -> str:
    """A stack in moto's CloudFormation (CREATE_COMPLETE), for events whose StackId DescribeStacks must find."""
    client = boto3.client("cloudformation", region_name="us-east-1")
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    return str(client.create_stack(StackName="trail-settings", TemplateBody=json.dumps(template))["StackId"])


def set_stack_status(stack_id: str, status: str) -> None:
    """Put a moto stack in `status` (moto's stacks never roll back by themselves)."""
    from moto.cloudformation.models import cloudformation_backends

    account, region = stack_id.split(":")[4], stack_id.split(":")[3]
    cloudformation_backends[account][region].stacks[stack_id].status = status


@pytest.fixture(scope="session")
def cfn() -> Iterator[ResponseServer]:
    server = ResponseServer()
    yield server
    server.close()


@pytest.fixture
def clients(aws: None) -> RecordingClients:
    return RecordingClients()


@pytest.fixture
def provider(clients: RecordingClients, cfn: ResponseServer, monkeypatch: pytest.MonkeyPatch) -> TrailSettingsResource:
    resource = TrailSettingsResource(
        clients=lambda: clients, sender=response.Sender(ssl_context=cfn.client_context(), sleep=lambda _: None)
    )
    monkeypatch.setattr(handler, "RESOURCE", resource)
    return resource


@dataclass
class Invoker:
    cfn: ResponseServer

    def __call__(self, name: str, context: LambdaContext | None = None, **changes: Any) -> dict[str, Any]:
        """Run sample event `name` through the Lambda handler; return the one response CloudFormation got."""
        url = self.cfn.url()
        handler.lambda_handler(load(name, url, **changes), context or LambdaContext())
        received = self.cfn.for_url(url)
        assert len(received) == 1, f"expected exactly one answer, got {len(received)}"
        return received[0].body

    def properties(self, name: str, **properties: Any) -> dict[str, Any]:
        """Sample event `name` with some ResourceProperties replaced (None removes one)."""
        props = dict(load(name)["ResourceProperties"])
        for key, value in properties.items():
            if value is None:
                props.pop(key, None)
            else:
                props[key] = value
        return props


@pytest.fixture
def invoke(provider: TrailSettingsResource, cfn: ResponseServer) -> Invoker:
    return Invoker(cfn)


def metric_lines(text: str) -> list[dict[str, Any]]:
    """The CloudWatch metric documents (EMF) among the JSON lines Powertools printed in `text`."""
    documents = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


def failure_codes(text: str) -> list[str]:
    """The ErrorCode of each Failures metric printed in `text`, in order."""
    return [metric["ErrorCode"] for metric in metric_lines(text) if "Failures" in metric]


class HangingClient:
    """A CloudTrail client whose DescribeTrails hangs longer than the function may run."""

    def __init__(self, real: Any, hang: float) -> None:
        self._real, self._hang = real, hang
        self.updates = 0

    def describe_trails(self, **kwargs: Any) -> Any:
        time.sleep(self._hang)
        return self._real.describe_trails(**kwargs)

    def update_trail(self, **kwargs: Any) -> Any:
        self.updates += 1
        return self._real.update_trail(**kwargs)

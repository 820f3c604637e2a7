"""What moto does not do for organizations, added at the AWS boundary (botocore events) for the org tests.

- Real STS refuses AssumeRole on a role that does not exist; moto issues credentials for any ARN.
- Real CloudTrail shows an organization trail in every member account (a shadow only the management
  account may change); moto shows it nowhere else. devkit's fidelity layer now shows a trail created with
  IsOrganizationTrail in every account of its organization (devkit/delegation.py, the demo's too); ORG_TRAIL
  stays for the tests that make any trail read back as such a copy (or as another account's ordinary trail).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.iam.models import iam_backends

from trailkeeper.aws.calls import Clients

ORG_TRAIL: dict[str, Any] = {}  # the organization trail as its owner reads it; set by a test


def _role_exists(role_arn: str) -> bool:
    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    return any(role.name == name for role in iam_backends[account]["aws"].roles.values())


def _refuse_missing_roles(params: dict[str, Any], **_: Any) -> None:
    if not _role_exists(params["RoleArn"]):
        error = {"Code": "AccessDenied", "Message": f"Not authorized to perform sts:AssumeRole on {params['RoleArn']}"}
        raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}, "AssumeRole")


def account_of(clients: Clients) -> str:
    """The account the clients' credentials act in (moto: the one the assumed role's ARN names)."""
    session: Any = clients._session
    credentials = session.get_credentials().get_frozen_credentials()
    sts = boto3.client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.token,
    )
    return str(sts.get_caller_identity()["Account"])


@pytest.fixture
def real_aws_rules(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """AssumeRole needs the role to exist; ORG_TRAIL (when set) appears in every other account's DescribeTrails."""
    original = Clients.client
    ORG_TRAIL.clear()

    def client(self: Clients, service: str, region: str) -> Any:
        fresh = (service, region) not in self._clients
        made = original(self, service, region)
        if fresh and service == "sts":
            made.meta.events.register("provide-client-params.sts.AssumeRole", _refuse_missing_roles)
        if fresh and service == "cloudtrail":
            account = account_of(self)

            def add_copy(parsed: dict[str, Any], **_: Any) -> None:
                owner = ORG_TRAIL.get("TrailARN", "").split(":")[4:5]
                if ORG_TRAIL and owner != [account]:
                    parsed.setdefault("trailList", []).append(dict(ORG_TRAIL))

            made.meta.events.register("after-call.cloudtrail.DescribeTrails", add_copy)
        return made

    monkeypatch.setattr(Clients, "client", client)
    yield ORG_TRAIL

"""One AssumeRole per account per run, on STS's regional endpoint, throttling retried, credentials
refreshed before they expire."""

from __future__ import annotations

import datetime

import pytest
from devkit import world as seeding

from tests.conftest import RecordingClients
from trailkeeper.aws import calls
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.errors import AwsCallFailed
from trailkeeper.org.accounts import Account
from trailkeeper.org.credentials import AccountSessions

MEMBER = Account("210987654321", "member", "arn:aws:iam::210987654321:role/TrailkeeperMember")


def test_a_role_is_assumed_once_per_account_on_the_regional_endpoint(
    world: seeding.World, clients: RecordingClients
) -> None:
    sessions = AccountSessions(clients, "eu-west-1", Deadline())
    member = Clients(sessions.session(MEMBER))
    for _ in range(3):
        member.cloudtrail("us-east-1").describe_trails()
        assert sessions.session(MEMBER) is sessions.session(MEMBER)
    (assumed,) = clients.named("AssumeRole")
    assert assumed.region == "eu-west-1" and assumed.params["RoleArn"] == MEMBER.role_arn
    assert clients.client("sts", "eu-west-1").meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
    identity = member.client("sts", "us-east-1").get_caller_identity()
    assert identity["Account"] == MEMBER.id  # the session acts in the member account
    assert sessions.assumed == 1


def test_credentials_near_expiry_are_refreshed_not_left_to_fail(
    world: seeding.World, clients: RecordingClients
) -> None:
    # 15 minutes is inside botocore's refresh window: every use finds them about to expire.
    sessions = AccountSessions(clients, "us-east-1", Deadline(), duration_seconds=900)
    member = Clients(sessions.session(MEMBER))
    member.cloudtrail("us-east-1").describe_trails()
    assert len(clients.named("AssumeRole")) >= 2 and sessions.assumed >= 2


def test_throttling_is_retried_and_an_external_id_is_sent(
    clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calls, "_sleep", lambda _: None)
    stubber = clients.stub("sts", "us-east-1")
    expected = {
        "RoleArn": MEMBER.role_arn,
        "RoleSessionName": "trailkeeper",
        "DurationSeconds": 3600,
        "ExternalId": "xyz",
    }
    stubber.add_client_error("assume_role", "Throttling", http_status_code=400, expected_params=expected)
    issued = {
        "AccessKeyId": "ASIAEXAMPLEEXAMPLE01",
        "SecretAccessKey": "s" * 40,
        "SessionToken": "t" * 40,
        "Expiration": datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1),
    }
    stubber.add_response("assume_role", {"Credentials": issued}, expected)
    account = Account(MEMBER.id, role_arn=MEMBER.role_arn, external_id="xyz")
    session = AccountSessions(clients, "us-east-1", Deadline()).session(account)
    assert session.get_credentials().get_frozen_credentials().access_key == "ASIAEXAMPLEEXAMPLE01"
    stubber.assert_no_pending_responses()


def test_a_refused_role_names_the_account_and_the_role(clients: RecordingClients) -> None:
    stubber = clients.stub("sts", "us-east-1")
    stubber.add_client_error("assume_role", "AccessDenied", "not authorized", http_status_code=403)
    with pytest.raises(AwsCallFailed) as raised:
        AccountSessions(clients, "us-east-1", Deadline()).session(MEMBER)
    assert raised.value.reason.startswith(
        f"AccessDenied: account {MEMBER.id} (member): cannot assume {MEMBER.role_arn}: "
    )


def test_the_callers_own_account_has_no_role_to_assume(clients: RecordingClients) -> None:
    with pytest.raises(ValueError, match="caller's credentials"):
        AccountSessions(clients, "us-east-1", Deadline()).session(Account(MEMBER.id))

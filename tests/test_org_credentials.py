"""One AssumeRole per account per run, on STS's regional endpoint, throttling retried, credentials
refreshed before they expire."""

from __future__ import annotations

import datetime

import botocore.session
import pytest
from devkit import world as seeding

from tests.conftest import RecordingClients
from trailkeeper.aws import calls, error_table
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.aws.error_table import Caller
from trailkeeper.errors import REASON_LIMIT, AwsCallFailed
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


@pytest.mark.parametrize(
    ("caller", "remedy"),
    [
        # A person at the CLI: no function is involved; the target role is missing or does not trust them.
        (
            "cli",
            "no such role there, or its trust policy does not trust your credentials (invited accounts lack "
            "OrganizationAccountAccessRole: deploy member-role.yaml, --role-name)",
        ),
        (
            "function",
            "no such role there, or it does not trust this function's role: deploy member-role.yaml to the "
            "account (ReconcileRoleArn: this function's role)",
        ),
    ],
)
def test_a_refused_role_names_the_account_and_the_role_and_the_remedy_fits_the_caller(
    clients: RecordingClients, caller: Caller, remedy: str
) -> None:
    stubber = clients.stub("sts", "us-east-1")
    stubber.add_client_error("assume_role", "AccessDenied", "not authorized", http_status_code=403)
    with pytest.raises(AwsCallFailed) as raised:
        AccountSessions(clients, "us-east-1", Deadline(), caller=caller).session(MEMBER)
    reason = raised.value.reason
    assert reason == f"AccessDenied: account {MEMBER.id} (member): cannot assume role TrailkeeperMember: {remedy}"
    assert "grant it" not in reason and len(reason) <= REASON_LIMIT


def test_the_remedy_for_a_refused_role_is_worded_for_every_caller() -> None:
    # One table: each caller has its wording, and other operations keep theirs.
    assert set(error_table.BY_CALLER[("AssumeRole", "AccessDenied")]) == set(error_table.CALLERS)
    default = error_table.explain("AccessDenied", "AssumeRole", "x")
    assert default == error_table.explain("AccessDenied", "AssumeRole", "x", {"caller": "function"})
    assert error_table.explain("AccessDenied", "DescribeKey", "x", {"caller": "cli"}).startswith(
        "the caller (the function's role, or your credentials) may not call DescribeKey"
    )


def test_the_callers_own_account_has_no_role_to_assume(clients: RecordingClients) -> None:
    with pytest.raises(ValueError, match="caller's credentials"):
        AccountSessions(clients, "us-east-1", Deadline()).session(Account(MEMBER.id))


def test_each_account_session_has_botocores_handlers_as_its_own_copy(
    world: seeding.World, clients: RecordingClients
) -> None:
    sessions = AccountSessions(clients, "eu-west-1", Deadline())
    other = Account("109876543210", "other", "arn:aws:iam::109876543210:role/TrailkeeperMember")
    first, second = (sessions.session(a)._session for a in (MEMBER, other))
    fresh = botocore.session.Session()
    for event in ("before-call.s3.PutObject", "before-parameter-build.s3.GetBucketPolicy", "needs-retry.sts"):
        expected = list(fresh._original_handler._handlers.prefix_search(event))
        assert list(first._original_handler._handlers.prefix_search(event)) == expected
    # A handler one account's session registers stays its own.
    first.register("before-call.cloudtrail.DescribeTrails", lambda **_: None, unique_id="only-first")
    assert "only-first" in first._original_handler._unique_id_handlers
    assert "only-first" not in second._original_handler._unique_id_handlers
    # And its clients work: S3's need boto3's and botocore's handlers both.
    Clients(sessions.session(MEMBER)).client("s3", "us-east-1").list_buckets()

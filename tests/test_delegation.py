"""Who may change a trail from here (trail/standing.py), the one question to Organizations (aws/delegation.py),
and CloudTrail's refusals turned into the same reason (engine, error_table.NOT_THIS_ACCOUNT held to botocore)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.conftest import CLOUDTRAIL_WRITES as WRITES
from tests.conftest import RecordingClients
from trailkeeper import botocore_model as model
from trailkeeper import engine
from trailkeeper.aws import delegation, error_table
from trailkeeper.aws.calls import Deadline
from trailkeeper.errors import AwsCallFailed, NotChangeableHere
from trailkeeper.trail import declaration, standing
from trailkeeper.trail.standing import Administrators

OWNER, ADMIN, MEMBER = "111111111111", "222222222222", "333333333333"
ORG_ARN = f"arn:aws:cloudtrail:us-east-1:{OWNER}:trail/org-trail"
ORG_TRAIL: dict[str, Any] = {
    "Name": "org-trail",
    "TrailARN": ORG_ARN,
    "HomeRegion": "us-east-1",
    "IsOrganizationTrail": True,
    "IsMultiRegionTrail": True,
    "IncludeGlobalServiceEvents": True,
    "S3BucketName": "org-logs",
    "LogFileValidationEnabled": False,
    "HasCustomEventSelectors": False,
    "HasInsightSelectors": False,
}
# The writes and reads the engine makes on a trail (trail/aspects.py), by their botocore names.
READS = ("GetTrailStatus", "GetEventSelectors", "GetInsightSelectors", "ListTags")


def never() -> Administrators:
    raise AssertionError("Organizations must not be asked")


# --- the pure standing --------------------------------------------------------------------------------


def test_the_owner_and_an_unknown_caller_stand_as_owner_without_asking() -> None:
    assert standing.standing(ORG_TRAIL, OWNER, never) == (standing.OWNER, None)
    assert standing.standing(ORG_TRAIL, None, never) == (standing.OWNER, None)


def test_another_accounts_ordinary_trail_is_refused_without_asking() -> None:
    with pytest.raises(NotChangeableHere) as refused:
        standing.standing({**ORG_TRAIL, "IsOrganizationTrail": False}, MEMBER, never)
    assert refused.value.message == f"{ORG_ARN} belongs to account {OWNER}; deploy this in that account"
    assert not refused.value.organization_trail


def test_an_organization_trail_stands_as_organizations_says() -> None:
    listed = Administrators.listed(frozenset({ADMIN}))
    assert standing.standing(ORG_TRAIL, ADMIN, lambda: listed) == (standing.DELEGATED, listed)
    unknown = Administrators.not_known("ListDelegatedAdministrators: AccessDeniedException")
    assert standing.standing(ORG_TRAIL, MEMBER, lambda: unknown) == (standing.UNCONFIRMED, unknown)
    with pytest.raises(NotChangeableHere) as refused:
        standing.standing(ORG_TRAIL, MEMBER, lambda: listed)
    assert refused.value.organization_trail
    assert refused.value.message == (
        f"org-trail is an organization trail of management account {OWNER}: only it or CloudTrail's delegated "
        f"administrator (account {ADMIN}) may change it, not account {MEMBER}"
    )


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        (Administrators.listed(frozenset()), "CloudTrail's delegated administrator (none is registered)"),
        (
            Administrators.listed(frozenset({ADMIN, "444444444444"})),
            f"CloudTrail's delegated administrator (accounts {ADMIN}, 444444444444)",
        ),
        (
            Administrators.no_organization(),
            "CloudTrail's delegated administrator (none: this account is in no organization)",
        ),
        (Administrators.not_known("x"), "CloudTrail's delegated administrator"),
    ],
)
def test_a_refusal_names_who_may_change_the_trail_when_known(answer: Administrators, named: str) -> None:
    assert standing.refusal(ORG_ARN, MEMBER, answer).message == (
        f"org-trail is an organization trail of management account {OWNER}: only it or {named} may change it, "
        f"not account {MEMBER}"
    )


def test_a_refusal_fits_cloudformations_reason_with_twelve_digit_ids_everywhere() -> None:
    refused = standing.refusal(
        ORG_ARN, MEMBER, Administrators.not_known("x"), "PutInsightSelectors: NotOrganizationMasterAccountException"
    )
    assert refused.reason == refused.lead + refused.message  # whole: who may change it is never cut off
    three = standing.refusal(ORG_ARN, MEMBER, Administrators.listed(frozenset({ADMIN, OWNER, "444444444444"})))
    assert three.reason.endswith(f"not account {MEMBER}")


# --- the one question to Organizations ----------------------------------------------------------------


def ask(clients: RecordingClients) -> Administrators:
    return delegation.administrators(clients, "us-east-1", Deadline(30))


def organizations(clients: RecordingClients) -> Stubber:
    return clients.stub("organizations", "us-east-1")


def admin(account: str, status: str = "ACTIVE") -> dict[str, Any]:
    return {"Id": account, "Status": status}


def test_the_answer_is_every_page_of_active_administrators_asked_once_per_clients(aws: None) -> None:
    clients = RecordingClients()
    stubber = organizations(clients)
    principal = {"ServicePrincipal": "cloudtrail.amazonaws.com"}
    stubber.add_response(
        "list_delegated_administrators",
        {"DelegatedAdministrators": [admin(ADMIN)], "NextToken": "t"},
        principal,
    )
    stubber.add_response(
        "list_delegated_administrators",
        {"DelegatedAdministrators": [admin(MEMBER, "PENDING_ACTIVATION"), admin("444444444444")]},
        {**principal, "NextToken": "t"},
    )
    answers: list[Administrators] = []
    threads = [threading.Thread(target=lambda: answers.append(ask(clients))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stubber.assert_no_pending_responses()
    assert {a.accounts for a in answers} == {frozenset({ADMIN, "444444444444"})}
    assert len(clients.named("ListDelegatedAdministrators")) == 2  # two pages, once
    other = RecordingClients()  # other clients (another account's run) ask again
    organizations(other).add_response("list_delegated_administrators", {"DelegatedAdministrators": []})
    assert ask(other).accounts == frozenset()


@pytest.mark.parametrize(
    ("code", "expected", "kept"),
    [
        ("AccessDeniedException", Administrators.not_known("ListDelegatedAdministrators: AccessDeniedException"), True),
        ("AWSOrganizationsNotInUseException", Administrators.no_organization(), True),
        ("ServiceException", Administrators.not_known("ListDelegatedAdministrators: ServiceException"), False),
    ],
)
def test_a_refused_question_is_an_answer_kept_and_a_failed_one_is_asked_again(
    aws: None, code: str, expected: Administrators, kept: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trailkeeper.aws.calls._sleep", lambda _: None)
    clients = RecordingClients()
    stubber = organizations(clients)
    attempts = 5 if code == "ServiceException" else 1  # a 5xx is retried: five attempts
    for _ in range(attempts):
        stubber.add_client_error("list_delegated_administrators", code, http_status_code=500 if not kept else 400)
    assert ask(clients) == expected
    stubber.add_response("list_delegated_administrators", {"DelegatedAdministrators": [admin(ADMIN)]})
    assert ask(clients) == (expected if kept else Administrators.listed(frozenset({ADMIN})))


# --- CloudTrail's refusals, when Organizations could not say ------------------------------------------


def test_the_codes_taken_for_a_refusal_are_those_botocore_models_for_every_write_and_read() -> None:
    service = model.cloudtrail_model()

    def codes(operation: str) -> set[str]:
        return {shape.error_code or shape.name for shape in service.operation_model(operation).error_shapes}

    modeled = error_table.NOT_THIS_ACCOUNT - {"AccessDeniedException", "AccessDenied"}  # IAM's: never modeled
    for operation in WRITES:
        assert modeled <= codes(operation), operation
    for operation in READS:
        assert {"OperationNotPermittedException", "CloudTrailARNInvalidException"} <= codes(operation), operation
    # Every organization code a write can raise about the caller's standing is among them.
    standing_codes = {"NotOrganizationMasterAccountException", "OperationNotPermittedException"}
    assert all(standing_codes <= codes(operation) for operation in WRITES)
    assert standing_codes <= error_table.NOT_THIS_ACCOUNT


def unconfirmed_run(clients: RecordingClients, **declared: Any) -> engine.Outcome:
    organizations(clients).add_client_error("list_delegated_administrators", "AccessDeniedException")
    return engine.reconcile(
        declaration.parse({"Name": ORG_ARN, **declared}),
        ORG_TRAIL,
        clients=clients,
        caller_account=MEMBER,
        deadline=Deadline(30),
    )


@pytest.mark.parametrize("code", sorted(error_table.NOT_THIS_ACCOUNT))
def test_each_refusal_of_a_write_is_the_same_reason_and_stops_the_writes(aws: None, code: str) -> None:
    clients = RecordingClients()
    cloudtrail = clients.stub("cloudtrail", "us-east-1")
    cloudtrail.add_response("get_trail_status", {"IsLogging": False}, {"Name": ORG_ARN})
    cloudtrail.add_client_error("update_trail", code, "no")
    with pytest.raises(NotChangeableHere) as refused:
        unconfirmed_run(clients, EnableLogFileValidation=True, IsLogging=True)
    cloudtrail.assert_no_pending_responses()  # StartLogging was not tried
    assert refused.value.reason == (
        f"NotChangeableHere: org-trail is an organization trail of management account {OWNER}: only it or "
        f"CloudTrail's delegated administrator may change it; CloudTrail refused account {MEMBER} "
        f"(UpdateTrail: {code})"
    )
    assert refused.value.writes is None and refused.value.organization_trail
    assert isinstance(refused.value.__cause__, AwsCallFailed)


def test_a_refusal_after_a_write_landed_says_what_was_written_and_what_was_not_tried(aws: None) -> None:
    clients = RecordingClients()
    cloudtrail = clients.stub("cloudtrail", "us-east-1")
    cloudtrail.add_response("get_trail_status", {"IsLogging": False}, {"Name": ORG_ARN})
    cloudtrail.add_response("update_trail", {}, {"Name": ORG_ARN, "EnableLogFileValidation": True})
    cloudtrail.add_client_error("put_event_selectors", "OperationNotPermittedException")
    with pytest.raises(NotChangeableHere) as refused:
        unconfirmed_run(
            clients,
            EnableLogFileValidation=True,
            IsLogging=True,
            EventSelectors=[
                {
                    "ReadWriteType": "All",
                    "IncludeManagementEvents": True,
                    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/"]}],
                }
            ],
        )
    cloudtrail.assert_no_pending_responses()  # StartLogging was not tried
    writes = refused.value.writes
    assert writes is not None and writes.written == ("UpdateTrail",)
    assert [operation for operation, _ in writes.failed] == ["PutEventSelectors"]
    assert writes.not_attempted == (("StartLogging", "CloudTrail refused this account the trail"),)
    assert refused.value.reason.startswith("NotChangeableHere: already written: UpdateTrail; PutEventSelectors failed")


def test_a_successful_unconfirmed_run_says_organizations_did_not_confirm(aws: None) -> None:
    clients = RecordingClients()
    cloudtrail = clients.stub("cloudtrail", "us-east-1")
    cloudtrail.add_response("update_trail", {}, {"Name": ORG_ARN, "EnableLogFileValidation": True})
    outcome = unconfirmed_run(clients, EnableLogFileValidation=True)
    assert outcome.applied and outcome.standing == standing.UNCONFIRMED
    assert outcome.unchecked == (
        f"account {MEMBER} may change organization trail org-trail only as CloudTrail's delegated administrator, "
        "which Organizations did not confirm (ListDelegatedAdministrators: AccessDeniedException): CloudTrail "
        "decides at the first write",
    )


@pytest.mark.parametrize("caller", [OWNER, ADMIN])
def test_the_owners_and_a_confirmed_administrators_errors_keep_cloudtrails_remedy(aws: None, caller: str) -> None:
    clients = RecordingClients()
    if caller == ADMIN:
        organizations(clients).add_response(
            "list_delegated_administrators", {"DelegatedAdministrators": [admin(ADMIN)]}
        )
    cloudtrail = clients.stub("cloudtrail", "us-east-1")
    cloudtrail.add_client_error("update_trail", "NotOrganizationMasterAccountException")
    with pytest.raises(AwsCallFailed) as failed:
        engine.reconcile(
            declaration.parse({"Name": ORG_ARN, "EnableLogFileValidation": True}),
            ORG_TRAIL,
            clients=clients,
            caller_account=caller,
            deadline=Deadline(30),
        )
    assert failed.value.reason == (
        "NotOrganizationMasterAccountException: organization trails can be changed only from the management "
        "account or a delegated administrator"
    )


def test_an_organization_run_refuses_an_unconfirmed_member_before_any_read(aws: None) -> None:
    clients = RecordingClients()
    organizations(clients).add_client_error("list_delegated_administrators", "AccessDeniedException")
    with pytest.raises(NotChangeableHere) as refused:
        engine.reconcile(
            declaration.parse({"Name": ORG_ARN, "IsLogging": True}),
            ORG_TRAIL,
            clients=clients,
            caller_account=MEMBER,
            deadline=Deadline(30),
            try_unconfirmed=False,
        )
    assert refused.value.message.endswith(f"may change it, not account {MEMBER}")
    assert [c.operation for c in clients.calls] == ["ListDelegatedAdministrators"]

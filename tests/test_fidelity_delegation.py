"""The local AWS models CloudTrail's delegated administrator (devkit/delegation.py, installed with devkit.fidelity):
each row of its table, against moto as it is (`bare`) where moto differs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from devkit import delegation, organization
from devkit import world as seeding
from moto import mock_aws

from tests.test_fidelity import bare  # noqa: F401 - a fixture: moto as it is

REGION = "us-east-1"


def code_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def message_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Message"])


def cloudtrail(account: str | None = None) -> Any:
    session = organization.session_in(account) if account else boto3.session.Session()
    return session.client("cloudtrail", region_name=REGION)


def organizations(account: str | None = None) -> Any:
    session = organization.session_in(account) if account else boto3.session.Session()
    return session.client("organizations", region_name=REGION)


def test_1_cloudtrail_and_organizations_register_one_administrator_from_the_management_account_only(
    org: organization.Organization,
) -> None:
    web, lab = org.members["web"], org.members["lab"]
    cloudtrail().register_organization_delegated_admin(MemberAccountId=web)
    assert delegation.administrators(org.management) == [web]
    listed = organizations().list_delegated_administrators(ServicePrincipal=delegation.CLOUDTRAIL)
    assert [a["Id"] for a in listed["DelegatedAdministrators"]] == [web]  # one registration, seen from Organizations
    assert code_of(lambda: cloudtrail().register_organization_delegated_admin(MemberAccountId=web)) == (
        "AccountRegisteredException"
    )
    assert code_of(lambda: cloudtrail().register_organization_delegated_admin(MemberAccountId=org.management)) == (
        "CannotDelegateManagementAccountException"
    )
    assert code_of(lambda: cloudtrail().register_organization_delegated_admin(MemberAccountId="111111111111")) == (
        "AccountNotFoundException"
    )
    assert code_of(lambda: cloudtrail(lab).register_organization_delegated_admin(MemberAccountId=lab)) == (
        "NotOrganizationManagementAccountException"
    )
    # Organizations' own call registers for CloudTrail too (moto rejects the service principal).
    organizations().register_delegated_administrator(AccountId=lab, ServicePrincipal=delegation.CLOUDTRAIL)
    assert sorted(delegation.administrators(org.management)) == sorted([web, lab])
    cloudtrail().deregister_organization_delegated_admin(DelegatedAdminAccountId=web)
    assert delegation.administrators(org.management) == [lab]


def test_1_at_most_three_administrators(org: organization.Organization) -> None:
    extra = organizations().create_account(Email="x@example.com", AccountName="x")["CreateAccountStatus"]["AccountId"]
    for account in [*org.members.values()]:
        cloudtrail().register_organization_delegated_admin(MemberAccountId=account)
    assert code_of(lambda: cloudtrail().register_organization_delegated_admin(MemberAccountId=extra)) == (
        "DelegatedAdminAccountLimitExceededException"
    )


def test_2_the_list_answers_the_management_account_and_administrators_and_refuses_plain_members(
    delegated: organization.Delegated,
) -> None:
    web = delegated.organization.members["web"]
    for account in (None, delegated.administrator):
        answer = organizations(account).list_delegated_administrators(ServicePrincipal=delegation.CLOUDTRAIL)
        assert [a["Id"] for a in answer["DelegatedAdministrators"]] == [delegated.administrator]
    assert code_of(
        lambda: organizations(web).list_delegated_administrators(ServicePrincipal=delegation.CLOUDTRAIL)
    ) == ("AccessDeniedException")


def test_2_an_account_in_no_organization_is_told_so(aws: None) -> None:
    assert code_of(lambda: organizations().list_delegated_administrators(ServicePrincipal=delegation.CLOUDTRAIL)) == (
        "AWSOrganizationsNotInUseException"
    )


def test_3_the_organization_trail_shows_in_every_account_under_its_owners_arn_and_names_find_own_trails_only(
    delegated: organization.Delegated,
) -> None:
    for account in (delegated.administrator, delegated.organization.members["web"]):
        listed = cloudtrail(account).describe_trails()["trailList"]
        (shown,) = [t for t in listed if t["Name"] == organization.ORGANIZATION_TRAIL]
        assert shown["TrailARN"] == delegated.trail_arn and shown["IsOrganizationTrail"] is True
        assert shown["HomeRegion"] == REGION
        assert [t["TrailARN"] for t in cloudtrail(account).list_trails()["Trails"]].count(delegated.trail_arn) == 1
        by_name = cloudtrail(account).describe_trails(trailNameList=[organization.ORGANIZATION_TRAIL])
        assert by_name["trailList"] == []
        by_arn = cloudtrail(account).describe_trails(trailNameList=[delegated.trail_arn])
        assert [t["TrailARN"] for t in by_arn["trailList"]] == [delegated.trail_arn]
    # In eu-west-1 the multi-region organization trail shows too; its owner's own name lookup finds it.
    assert delegated.trail_arn in [
        t["TrailARN"]
        for t in organization.session_in(delegated.administrator)
        .client("cloudtrail", region_name="eu-west-1")
        .describe_trails()["trailList"]
    ]
    owner = cloudtrail().describe_trails(trailNameList=[organization.ORGANIZATION_TRAIL])["trailList"]
    assert [t["TrailARN"] for t in owner] == [delegated.trail_arn]


def test_4_by_name_not_found_by_arn_changed_by_the_delegated_administrator(delegated: organization.Delegated) -> None:
    administrator = cloudtrail(delegated.administrator)
    assert message_of(lambda: administrator.start_logging(Name=organization.ORGANIZATION_TRAIL)) == (
        f"Unknown trail: arn:aws:cloudtrail:us-east-1:{delegated.administrator}:trail/org-trail "
        f"for the user: {delegated.administrator}"
    )
    arn = delegated.trail_arn
    administrator.update_trail(Name=arn, EnableLogFileValidation=True)
    administrator.start_logging(Name=arn)
    administrator.put_event_selectors(TrailName=arn, EventSelectors=[{"ReadWriteType": "WriteOnly"}])
    administrator.put_insight_selectors(TrailName=arn, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}])
    administrator.add_tags(ResourceId=arn, TagsList=[{"Key": "owner", "Value": "security"}])
    owner = cloudtrail()
    assert owner.get_trail(Name=arn)["Trail"]["LogFileValidationEnabled"] is True
    assert owner.get_trail_status(Name=arn)["IsLogging"] is True
    assert owner.get_event_selectors(TrailName=arn)["EventSelectors"][0]["ReadWriteType"] == "WriteOnly"
    assert owner.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [
        {"Key": "owner", "Value": "security"}
    ]
    assert administrator.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"] == [
        {"Key": "owner", "Value": "security"}
    ]
    administrator.remove_tags(ResourceId=arn, TagsList=[{"Key": "owner"}])
    administrator.stop_logging(Name=arn)
    assert owner.get_trail_status(Name=arn)["IsLogging"] is False
    # Home region still holds: a write from another region is refused, as for the owner.
    elsewhere = organization.session_in(delegated.administrator).client("cloudtrail", region_name="eu-west-1")
    assert code_of(lambda: elsewhere.start_logging(Name=arn)) == "InvalidHomeRegionException"


def test_5_a_plain_member_reads_by_arn_and_may_not_change_it(delegated: organization.Delegated) -> None:
    web = delegated.organization.members["web"]
    member, arn = cloudtrail(web), delegated.trail_arn
    assert member.get_trail_status(Name=arn)["IsLogging"] is False
    assert member.get_event_selectors(TrailName=arn)["EventSelectors"]
    for write in (
        lambda: member.update_trail(Name=arn, EnableLogFileValidation=True),
        lambda: member.start_logging(Name=arn),
        lambda: member.put_event_selectors(TrailName=arn, EventSelectors=[{"ReadWriteType": "All"}]),
        lambda: member.delete_trail(Name=arn),
    ):
        assert code_of(write) == delegation.MEMBER_WRITE_REFUSAL == "NotOrganizationMasterAccountException"
    assert code_of(lambda: member.list_tags(ResourceIdList=[arn])) == delegation.MEMBER_TAGS_REFUSAL
    assert message_of(lambda: member.add_tags(ResourceId=arn, TagsList=[{"Key": "a", "Value": "b"}])) == (
        f"AccountID in ARN is wrong, you can only access resources with AccountID {web}."
    )
    assert cloudtrail().get_trail(Name=arn)["Trail"]["LogFileValidationEnabled"] is False


def test_6_only_the_management_account_converts_an_organization_trail(delegated: organization.Delegated) -> None:
    arn = delegated.trail_arn
    assert code_of(lambda: cloudtrail(delegated.administrator).update_trail(Name=arn, IsOrganizationTrail=False)) == (
        "NotOrganizationMasterAccountException"
    )
    cloudtrail().update_trail(Name=arn, IsOrganizationTrail=False)
    assert cloudtrail().get_trail(Name=arn)["Trail"]["IsOrganizationTrail"] is False
    # No longer an organization trail: the other accounts no longer see it.
    listed = cloudtrail(delegated.administrator).describe_trails()["trailList"]
    assert arn not in [t["TrailARN"] for t in listed]


def test_bare_moto_has_none_of_it(bare: None) -> None:  # noqa: F811
    # moto as it is: what the layer is for (and proof that uninstalling gives it back).
    with mock_aws():
        organizations().create_organization(FeatureSet="ALL")
        member = organizations().create_account(Email="a@example.com", AccountName="a")["CreateAccountStatus"]
        with pytest.raises(NotImplementedError):
            cloudtrail().register_organization_delegated_admin(MemberAccountId=member["AccountId"])
        assert code_of(
            lambda: organizations().register_delegated_administrator(
                AccountId=member["AccountId"], ServicePrincipal=delegation.CLOUDTRAIL
            )
        ) == ("InvalidInputException")
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="org-logs")
        made = cloudtrail().create_trail(Name="org", S3BucketName="org-logs", IsOrganizationTrail=True)
        assert cloudtrail(member["AccountId"]).describe_trails()["trailList"] == []
        assert code_of(lambda: cloudtrail(member["AccountId"]).get_trail_status(Name=made["TrailARN"])) == (
            "TrailNotFoundException"
        )


def test_the_demo_world_seeds_an_administrator_and_its_trail(aws: None) -> None:
    seeding.seed()
    seeded = organization.seed_delegated(organization.seed())
    assert delegation.is_cloudtrail_administrator(seeded.administrator)
    assert cloudtrail(seeded.administrator).describe_trails(trailNameList=[seeded.trail_arn])["trailList"]

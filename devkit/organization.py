"""Seed a local AWS (moto) with an organization: OUs, member accounts, and trails in each account; and
CloudTrail's delegated administrator with the organization trail it manages for the management account.

moto's `create_account` makes each account with its OrganizationAccountAccessRole, and credentials
from `sts.assume_role` act in the account the role ARN names, so every account can be seeded and read
as in a real organization. Works in-process (`endpoint_url=None` inside `mock_aws()`) or on moto's server;
the delegated administrator needs devkit.fidelity (devkit/delegation.py) installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from devkit import world

MEMBERS = {"web": "prod", "payments": "payments", "lab": "sandbox"}  # account name -> its OU
REGIONAL = "eu-west-1"


@dataclass(frozen=True)
class Organization:
    management: str
    root: str
    ous: dict[str, str]  # OU name -> id
    members: dict[str, str]  # account name -> id


def session_in(account_id: str, endpoint_url: str | None = None) -> boto3.session.Session:
    """A session acting in `account_id` through its OrganizationAccountAccessRole."""
    arn = f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"
    sts = boto3.client("sts", region_name=world.HOME, endpoint_url=endpoint_url)
    issued = sts.assume_role(RoleArn=arn, RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        aws_session_token=issued["SessionToken"],
    )


def seed_member_trails(session: Any, account_id: str, endpoint_url: str | None = None) -> None:
    """`audit-trail` (us-east-1, multi-region) and `regional-trail` (eu-west-1) in one account."""
    bucket = f"trails-{account_id}"
    s3 = session.client("s3", region_name=world.HOME, endpoint_url=endpoint_url)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=world.bucket_policy(bucket, account_id))
    session.client("cloudtrail", region_name=world.HOME, endpoint_url=endpoint_url).create_trail(
        Name=world.TRAIL, S3BucketName=bucket, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True
    )
    session.client("cloudtrail", region_name=REGIONAL, endpoint_url=endpoint_url).create_trail(
        Name="regional-trail", S3BucketName=bucket
    )


def seed(endpoint_url: str | None = None) -> Organization:
    """An organization managed by moto's default account: OUs prod > payments and sandbox, three members."""
    organizations = boto3.client("organizations", region_name=world.HOME, endpoint_url=endpoint_url)
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    ous: dict[str, str] = {}
    for name, parent in (("prod", root), ("payments", "prod"), ("sandbox", root)):
        made = organizations.create_organizational_unit(ParentId=ous.get(parent, root), Name=name)
        ous[name] = made["OrganizationalUnit"]["Id"]
    members: dict[str, str] = {}
    for name, ou in MEMBERS.items():
        status = organizations.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        members[name] = status["AccountId"]
        organizations.move_account(AccountId=members[name], SourceParentId=root, DestinationParentId=ous[ou])
        seed_member_trails(session_in(members[name], endpoint_url), members[name], endpoint_url)
    return Organization(world.ACCOUNT, root, ous, members)


ORGANIZATION_TRAIL = "org-trail"
ADMINISTRATOR = "security"  # the account registered as CloudTrail's delegated administrator


@dataclass(frozen=True)
class Delegated:
    """An organization whose CloudTrail delegated administrator manages its organization trail."""

    organization: Organization
    administrator: str  # the delegated administrator's account id
    trail_arn: str  # the organization trail, owned by the management account


def organization_trail(endpoint_url: str | None = None, name: str = ORGANIZATION_TRAIL, **settings: Any) -> str:
    """An organization trail in the management account (multi-region, stopped, in the demo bucket); its ARN."""
    client = boto3.client("cloudtrail", region_name=world.HOME, endpoint_url=endpoint_url)
    made = client.create_trail(
        Name=name,
        S3BucketName=world.BUCKET,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        IsOrganizationTrail=True,
        **settings,
    )
    return str(made["TrailARN"])


def register_administrator(account_id: str, endpoint_url: str | None = None) -> None:
    """Make `account_id` CloudTrail's delegated administrator, as the management account does it."""
    boto3.client("cloudtrail", region_name=world.HOME, endpoint_url=endpoint_url).register_organization_delegated_admin(
        MemberAccountId=account_id
    )


def seed_delegated(organization: Organization, endpoint_url: str | None = None) -> Delegated:
    """A `security` account, registered as CloudTrail's delegated administrator, and the organization trail."""
    organizations = boto3.client("organizations", region_name=world.HOME, endpoint_url=endpoint_url)
    made = organizations.create_account(Email=f"{ADMINISTRATOR}@example.com", AccountName=ADMINISTRATOR)
    administrator = str(made["CreateAccountStatus"]["AccountId"])
    register_administrator(administrator, endpoint_url)
    members = {**organization.members, ADMINISTRATOR: administrator}
    seeded = Organization(organization.management, organization.root, organization.ous, members)
    return Delegated(seeded, administrator, organization_trail(endpoint_url))

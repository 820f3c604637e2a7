"""Seed a local AWS (moto) with an organization: OUs, member accounts, and trails in each account.

moto's `create_account` makes each account with its OrganizationAccountAccessRole, and credentials
from `sts.assume_role` act in the account the role ARN names, so every account can be seeded and read
as in a real organization. Works in-process (`endpoint_url=None` inside `mock_aws()`) or on moto's server.
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

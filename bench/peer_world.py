"""The peer benchmark's world on moto's server: N trails in each of R regions, in the caller's own account
or in each of A member accounts of an organization; every trail starts with the drift (log file
validation off, no key prefix, not logging: a trail made by the API starts so)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from devkit import world
from devkit.organization import session_in


@dataclass(frozen=True)
class Seeded:
    accounts: tuple[str, ...]  # the member accounts made; () for the caller's own account alone
    trail_arns: tuple[str, ...]


def _trails(session: Any, account: str, regions: tuple[str, ...], trails: int, url: str) -> list[str]:
    bucket = f"fleet-logs-{account}"
    session.client("s3", region_name=world.HOME, endpoint_url=url).create_bucket(Bucket=bucket)
    made = []
    for region in regions:
        cloudtrail = session.client("cloudtrail", region_name=region, endpoint_url=url)
        made += [cloudtrail.create_trail(Name=f"fleet-{i}", S3BucketName=bucket)["TrailARN"] for i in range(trails)]
    return made


def seed_account(url: str, regions: tuple[str, ...], trails: int) -> Seeded:
    """`trails` trails named fleet-0, fleet-1, ... in each region of the caller's own account."""
    return Seeded((), tuple(_trails(boto3.session.Session(), world.ACCOUNT, regions, trails, url)))


def seed_organization(url: str, accounts: int, regions: tuple[str, ...], trails: int) -> Seeded:
    """An organization with `accounts` member accounts (each with OrganizationAccountAccessRole), and
    `trails` trails in each region of each member."""
    organizations = boto3.client("organizations", region_name=world.HOME, endpoint_url=url)
    organizations.create_organization(FeatureSet="ALL")
    members: list[str] = []
    arns: list[str] = []
    for n in range(accounts):
        status = organizations.create_account(Email=f"member-{n}@example.com", AccountName=f"member-{n}")
        member = str(status["CreateAccountStatus"]["AccountId"])
        members.append(member)
        arns += _trails(session_in(member, url), member, regions, trails, url)
    return Seeded(tuple(members), tuple(arns))

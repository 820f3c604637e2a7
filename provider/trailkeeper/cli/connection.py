"""What every command starts from: the AWS session, the regions (refused at once when unknown), and one
identity call that proves AWS can be reached, within seconds when it cannot."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from trailkeeper.aws.calls import CLIENT_CONFIG, Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed, InvalidArguments, show
from trailkeeper.trail import arns
from trailkeeper.trail.declaration import Declaration

# A person at a terminal: an unreachable endpoint is reported after a few seconds, not a minute.
CLI_CONFIG = CLIENT_CONFIG.merge(Config(connect_timeout=3))


FIRST_CALL_ATTEMPTS = 2  # the identity check: the first call tells whether AWS can be reached at all


def _session(profile: str | None) -> boto3.session.Session:
    # A session of its own: the profile must not leak into the process-wide botocore session.
    try:
        return boto3.session.Session(profile_name=profile) if profile else boto3.session.Session()
    except ProfileNotFound as error:
        raise AwsCallFailed("ProfileNotFound", "configuration", f"{error}; check --profile or AWS_PROFILE") from error


def _credentials_present(session: boto3.session.Session) -> None:
    """Fail once, saying what to do, before any call would fail with botocore's NoCredentialsError."""
    try:
        found = session.get_credentials()
    except BotoCoreError as error:  # e.g. an expired SSO session, a broken credential_process
        raise AwsCallFailed(type(error).__name__, "configuration", f"cannot load credentials: {error}") from error
    if found is None:
        raise AwsCallFailed(
            "NoCredentials",
            "configuration",
            "no AWS credentials found: pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws configure` (or `aws sso login`)",
        )


def _known_regions(session: boto3.session.Session) -> set[str]:
    """Every region botocore knows CloudTrail in, across partitions."""
    return {
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("cloudtrail", partition_name=partition)
    }


def _check_regions(known: set[str], region: str, given: list[str], declarations: Sequence[Declaration]) -> None:
    """Refuse a region botocore does not know at once (it would be retried as unreachable for seconds)."""
    used = {name: "--region" for name in given}
    used.setdefault(region, "AWS_REGION (or the profile)")
    for declared in declarations:
        used.setdefault(arns.region_of(declared.name) or region, f"the ARN {declared.name}")
    unknown = [f"{show(name)} from {where}" for name, where in used.items() if name not in known]
    if unknown:
        raise InvalidArguments(f"unknown region {'; '.join(unknown)}: CloudTrail has no such region")


@dataclass(frozen=True)
class Connection:
    """What every command starts from: the caller's clients, checked to reach AWS, and where to call."""

    region: str  # where calls that are not per region go (STS, DescribeRegions)
    given: list[str]  # the regions named with --region, each once, in order ([]: those enabled)
    clients: Clients
    deadline: Deadline
    identity: Mapping[str, Any]  # GetCallerIdentity's answer


def connect(
    args: Any, declarations: Sequence[Declaration] = (), check: Callable[[set[str]], None] | None = None
) -> Connection:
    """The session, the regions (refused at once when unknown), `check`'s own flag problems, then one identity
    call, tried twice with a short connect timeout: an unreachable endpoint fails within seconds."""
    session = _session(args.profile)
    given: list[str] = list(dict.fromkeys(args.region or []))
    region = (given[0] if given else None) or os.environ.get("AWS_REGION") or session.region_name
    if not region:
        raise InvalidArguments("no region: pass --region or set AWS_REGION (or a region in your profile)")
    known = _known_regions(session)
    if check is not None:  # a command's own flags, every problem at once (its --region among them)
        check(known)
    _check_regions(known, region, given, declarations)
    _credentials_present(session)
    clients, deadline = Clients(session, config=CLI_CONFIG), Deadline()
    identity = call(
        "GetCallerIdentity",
        lambda: clients.client("sts", region).get_caller_identity(),
        deadline=deadline,
        attempts=FIRST_CALL_ATTEMPTS,
    )
    return Connection(region, given, clients, deadline, identity)

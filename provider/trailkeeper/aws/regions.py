"""The regions a run scans in an account: those given, else those an inventory lists for the account, else
those enabled for it, from one EC2 DescribeRegions *in that account* (`chosen`, `of_account`: plan, apply,
export and audit all decide so, in one account or in many).

Why EC2's DescribeRegions and not Account's ListRegions: without `AllRegions` it answers exactly the
regions enabled for the calling account (the default ones, and opt-in regions only once opted in),
every partition has it (Account Management is not in every partition), it is one read, and moto
implements it, so the tests run it (devkit.fidelity makes moto's answer the account's, as AWS does).
The OptInStatus filter is a second guard: a region not opted in cannot be called.
"""

from __future__ import annotations

from collections.abc import Sequence

from trailkeeper import botocore_model as model
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed

PERMISSIONS = ("ec2:DescribeRegions",)
ENABLED = frozenset({"opt-in-not-required", "opted-in"})
DENIED = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})  # EC2 says the first


def chosen(given: Sequence[str] | None, listed: Sequence[str] = ()) -> list[str] | None:
    """The regions named for an account: those given (--region, an event's `regions`: every account), else
    those its inventory entry lists (c7n-org's `regions`); None when neither names any: then the account's
    own enabled regions (`enabled`, asked with its own credentials: opt-in regions differ by account).

    >>> chosen(["eu-west-1", "eu-west-1"], ["us-east-1"]), chosen(None, ["us-east-1"]), chosen([], ())
    (['eu-west-1'], ['us-east-1'], None)
    """
    if given:
        return list(dict.fromkeys(given))
    if listed:
        return list(dict.fromkeys(listed))
    return None


def of_account(
    given: Sequence[str] | None, listed: Sequence[str], *, clients: Clients, region: str, deadline: Deadline
) -> list[str]:
    """The regions to scan in one account (`chosen`, else its enabled ones: one DescribeRegions with
    `clients`, which act in that account, asked in `region`)."""
    named = chosen(given, listed)
    return named if named is not None else enabled(clients, region, deadline)


def enabled(clients: Clients, region: str, deadline: Deadline) -> list[str]:
    """The account's enabled regions, sorted, asked in `region` (one call)."""
    try:
        answer = call(
            "DescribeRegions",
            lambda: clients.client("ec2", region).describe_regions(),
            deadline=deadline,
            facts={"region": region},
        )
    except AwsCallFailed as error:
        if error.aws_code not in DENIED:
            raise
        raise AwsCallFailed(
            error.aws_code,
            "DescribeRegions",
            "may not call ec2:DescribeRegions, which lists the regions enabled for the account (names and "
            "patterns are looked for in each): grant it, or name the regions (--region on the command line, "
            '"regions" in an audit event)',
        ) from error
    return sorted(
        str(r["RegionName"])
        for r in answer.get("Regions", [])
        if r.get("RegionName") and r.get("OptInStatus", "opt-in-not-required") in ENABLED
    )


def known() -> frozenset[str]:
    """Every region botocore knows CloudTrail in, across partitions (no call: botocore's endpoint data)."""
    session = model.botocore_session()
    return frozenset(
        name
        for partition in session.get_available_partitions()
        for name in session.get_available_regions("cloudtrail", partition_name=partition)
    )


def partition_of(region: str) -> str:
    """The partition a region is in (botocore's endpoint data; 'aws' for a region it does not know).

    >>> partition_of("cn-north-1"), partition_of("us-east-1")
    ('aws-cn', 'aws')
    """
    try:
        return str(model.botocore_session().get_partition_for_region(region))
    except Exception:  # botocore raises UnknownRegionError (or ValueError) for a name it does not know
        return "aws"

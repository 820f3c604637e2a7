"""Find a trail and its home region with one read.

An ARN names its region, so it is looked up there; a plain name is looked up from the caller's region,
shadow trails included, which also finds multi-region trails homed elsewhere. DescribeTrails returns
every setting and the `HomeRegion`, so this one read is all the provider needs before it writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AmbiguousTrailName, TrailkeeperError, TrailNotFound
from trailkeeper.trail import arns

Trail = Mapping[str, Any]

# DescribeTrails cannot be narrowed to trails in IAM: it needs Resource "*".
PERMISSIONS = ("cloudtrail:DescribeTrails",)


def lookup_region(name_or_arn: str, caller_region: str) -> str:
    """The region to read a trail from: the ARN's own, or the caller's for a plain name."""
    return arns.region_of(name_or_arn) if name_or_arn.startswith("arn:") else caller_region


def home_region(trail: Trail) -> str:
    return str(trail.get("HomeRegion") or arns.region_of(trail["TrailARN"]))


def pick(name_or_arn: str, trails: Iterable[Trail], region: str) -> Trail:
    """The one trail `name_or_arn` names among a DescribeTrails answer (which may hold more)."""
    if name_or_arn.startswith("arn:"):
        found = [t for t in trails if t.get("TrailARN") == name_or_arn]
    else:
        found = [t for t in trails if t.get("Name") == name_or_arn]
    if len(found) > 1:  # e.g. an organization trail's shadow with the same name as a local trail
        found = [t for t in found if home_region(t) == region] or found
    if not found:
        where = "its region" if name_or_arn.startswith("arn:") else f"{region} (shadow trails included)"
        raise TrailNotFound(f"no trail {name_or_arn!r} in {where}; check Name, or give the trail's ARN")
    if len(found) > 1:
        raise AmbiguousTrailName(
            f"{name_or_arn!r} names {len(found)} trails ({', '.join(t['TrailARN'] for t in found)}); give the ARN"
        )
    return found[0]


def describe(clients: Clients, region: str, names: Sequence[str], deadline: Deadline) -> list[Trail]:
    """One DescribeTrails call in `region` for all `names`, shadow trails included."""
    answer = call(
        "DescribeTrails",
        lambda: clients.cloudtrail(region).describe_trails(trailNameList=list(names), includeShadowTrails=True),
        deadline=deadline,
        facts={"region": region, "trail": ", ".join(names)},
    )
    return list(answer.get("trailList", []))


def find(clients: Clients, name_or_arn: str, caller_region: str, deadline: Deadline) -> Trail:
    """The trail `name_or_arn` names, with every setting and its HomeRegion, from one read."""
    region = lookup_region(name_or_arn, caller_region)
    return pick(name_or_arn, describe(clients, region, [name_or_arn], deadline), region)


def find_many(
    clients: Clients, names: Sequence[str], region: str, deadline: Deadline
) -> dict[str, Trail | TrailkeeperError]:
    """Each of `names` looked up in `region` with a single read; a name not found maps to its error."""
    trails = describe(clients, region, names, deadline)
    found: dict[str, Trail | TrailkeeperError] = {}
    for name in names:
        try:
            found[name] = pick(name, trails, region)
        except TrailkeeperError as error:
            found[name] = error
    return found

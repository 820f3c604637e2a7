"""Find a trail and its home region with one read.

An ARN names its region, so it is looked up there; a plain name is looked up from the caller's region,
shadow trails included, which also finds multi-region trails homed elsewhere, and an organization trail of
the management account seen from its delegated administrator (`find`). DescribeTrails returns
every setting and the `HomeRegion`, so this one read is all the provider needs before it writes.

The drift-fix pipelines `scan` instead: one DescribeTrails per region for every trail there (shadows
included), whatever the number of declarations, and `tags` for the few trails a pattern's Match.Tags
must look at (ListTags, at most 20 ARNs per call, in each trail's home region). Which declaration covers
which trail is decided by `fleet/matching.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AmbiguousTrailName, TrailkeeperError, TrailNotFound
from trailkeeper.trail import arns

Trail = Mapping[str, Any]

# DescribeTrails cannot be narrowed to trails in IAM: it needs Resource "*". ListTags: a pattern's Match.Tags.
PERMISSIONS = ("cloudtrail:DescribeTrails", "cloudtrail:ListTags")
LIST_TAGS_BATCH = 20  # ListTags takes at most 20 trail ARNs per call (botocore's docs)


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


def find(
    clients: Clients,
    name_or_arn: str,
    caller_region: str,
    deadline: Deadline,
    *,
    caller_account: str | None = None,
    caller_partition: str | None = None,
) -> Trail:
    """The trail `name_or_arn` names, with every setting and its HomeRegion, from one read.

    An ARN of another partition than the caller's is not looked for (its credentials cannot read there),
    and one of another account that is not found (another account's trail is seen only as an organization
    trail's copy) says so: TrailNotFound names the mismatch, not only the ARN.

    A name that read does not find may name an organization trail of another account: in `trailNameList`
    CloudTrail matches names against the caller's own trails only, so from the delegated administrator (or
    a member) it finds none. One more DescribeTrails, without names, lists the organization's trails under
    their owner's ARN, and the name is picked among them.
    """
    region = lookup_region(name_or_arn, caller_region)
    elsewhere = ""
    if name_or_arn.startswith("arn:"):
        elsewhere = arns.elsewhere(name_or_arn, account=caller_account, partition=caller_partition)
        if caller_partition and arns.partition_of(name_or_arn) != caller_partition:
            raise TrailNotFound(f"no trail {name_or_arn!r} can be read here: {elsewhere}")
    try:
        return pick(name_or_arn, describe(clients, region, [name_or_arn], deadline), region)
    except TrailNotFound:
        if elsewhere:
            raise TrailNotFound(f"no trail {name_or_arn!r} in {region}: {elsewhere}") from None
        if name_or_arn.startswith("arn:"):
            raise
        organization = [t for t in scan(clients, region, deadline) if t.get("IsOrganizationTrail")]
        return pick(name_or_arn, organization, region)


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


def scan(clients: Clients, region: str, deadline: Deadline) -> list[Trail]:
    """Every trail DescribeTrails shows in `region`: its own, and shadows of trails homed elsewhere."""
    answer = call(
        "DescribeTrails",
        lambda: clients.cloudtrail(region).describe_trails(includeShadowTrails=True),
        deadline=deadline,
        facts={"region": region},
    )
    return list(answer.get("trailList", []))


def tags(
    clients: Clients,
    trail_arns: Sequence[str],
    deadline: Deadline,
    before_read: Callable[[str], None] | None = None,
) -> dict[str, dict[str, str]]:
    """Each trail's tags (ARN -> {key: value}), with one ListTags per 20 trails of a home region."""
    by_home: dict[str, list[str]] = {}
    for arn in trail_arns:
        by_home.setdefault(arns.region_of(arn), []).append(arn)
    found: dict[str, dict[str, str]] = {}
    for region, listed in by_home.items():
        for start in range(0, len(listed), LIST_TAGS_BATCH):
            batch = listed[start : start + LIST_TAGS_BATCH]
            if before_read:
                before_read(region)
            answer = _list_tags(clients, region, batch, deadline)
            for item in answer.get("ResourceTagList", []):
                found[str(item["ResourceId"])] = {
                    str(t["Key"]): str(t.get("Value", "")) for t in item.get("TagsList", [])
                }
    return found


def _list_tags(clients: Clients, region: str, batch: Sequence[str], deadline: Deadline) -> Mapping[str, Any]:
    answer: Mapping[str, Any] = call(
        "ListTags",
        lambda: clients.cloudtrail(region).list_tags(ResourceIdList=list(batch)),
        deadline=deadline,
        facts={"region": region, "trail": ", ".join(batch)},
    )
    return answer

"""EC2 DescribeRegions as AWS answers it, for moto (devkit.fidelity installs it with the rest).

AWS answers (without AllRegions) the regions enabled for the calling account, in the caller's
partition only: the regions enabled by default, and an opt-in region once the account opted in
("opted-in"). moto 5.2.5 answers 38 regions of three partitions, marks opt-in regions such as
af-south-1 and eu-south-1 as not needing opt-in, and lists the others as "not-opted-in".

    with regions.opted_in("123456789012", "af-south-1"):
        ...  # DescribeRegions in that account now lists af-south-1 as "opted-in"
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from moto.ec2.models.availability_zones_and_regions import Region

# Commercial regions launched before March 2019: enabled in every account (AWS's "Managing AWS Regions").
ENABLED_BY_DEFAULT = (
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1",
    "us-east-1", "us-east-2", "us-west-1", "us-west-2",
)  # fmt: skip
OTHER_PARTITIONS = {"cn-": ("cn-north-1", "cn-northwest-1"), "us-gov-": ("us-gov-east-1", "us-gov-west-1")}
_OPTED_IN: dict[str, set[str]] = {}  # account -> opt-in regions it enabled


def describe_regions(backend: Any, region_names: list[str] | None = None) -> list[Region]:
    calling = str(backend.region_name)
    account = str(backend.account_id)
    for prefix, regions in OTHER_PARTITIONS.items():
        if calling.startswith(prefix):
            listed = [Region(r, f"ec2.{r}.amazonaws.com", "opt-in-not-required") for r in regions]
            break
    else:
        listed = [Region(r, f"ec2.{r}.amazonaws.com", "opt-in-not-required") for r in ENABLED_BY_DEFAULT]
        listed += [Region(r, f"ec2.{r}.amazonaws.com", "opted-in") for r in sorted(_OPTED_IN.get(account, ()))]
    return [r for r in listed if not region_names or r.name in region_names]


@contextlib.contextmanager
def opted_in(account: str, *regions: str) -> Iterator[None]:
    """The account has opted in to `regions` for the length of the block."""
    before = set(_OPTED_IN.get(account, set()))
    _OPTED_IN[account] = before | set(regions)
    try:
        yield
    finally:
        _OPTED_IN[account] = before

"""What an ARN says: partition, region and account. Used to decide where a trail lives."""

from __future__ import annotations

from dataclasses import dataclass

from trailkeeper import rules


@dataclass(frozen=True)
class TrailHome:
    """Where a trail lives: the partition, home region and account its ARN names."""

    partition: str
    region: str
    account: str
    name: str

    @classmethod
    def from_arn(cls, trail_arn: str) -> TrailHome:
        match = rules.TRAIL_ARN.match(trail_arn)
        if match is None:
            raise ValueError(f"not a trail ARN: {trail_arn!r}")
        return cls(match["partition"], match["region"], match["account"], match["name"])


def region_of(trail_arn: str) -> str:
    return TrailHome.from_arn(trail_arn).region


def account_of(arn: str) -> str:
    """The account field of any ARN ('' when it has none)."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def region_of_any(arn: str) -> str:
    """The region field of any ARN ('' when it has none)."""
    parts = arn.split(":", 5)
    return parts[3] if len(parts) == 6 else ""

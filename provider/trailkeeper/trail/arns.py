"""What an ARN says: partition, region and account. Used to decide where a trail lives."""

from __future__ import annotations

from dataclasses import dataclass

from trailkeeper.trail import rules


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


def _field(arn: str, index: int) -> str:
    parts = arn.split(":", 5)  # arn:partition:service:region:account:resource
    return parts[index] if len(parts) == 6 else ""


def account_of(arn: str) -> str:
    """The account field of any ARN ('' when it has none)."""
    return _field(arn, 4)


def region_of(arn: str) -> str:
    """The region field of any ARN ('' when it has none)."""
    return _field(arn, 3)

"""What an ARN says: partition, region and account. Used to decide where a trail lives."""

from __future__ import annotations

from trailkeeper.trail import rules
from trailkeeper.typed_tuple import TypedTuple


class TrailHome(TypedTuple):
    """Where a trail lives: the partition, home region and account its ARN names."""

    partition: str
    region: str
    account: str
    name: str

    @classmethod
    def from_arn(cls, trail_arn: str) -> TrailHome:
        parts = rules.trail_arn(trail_arn)
        if parts is None:
            raise ValueError(f"not a trail ARN: {trail_arn!r}")
        return cls(*parts)


def _field(arn: str, index: int) -> str:
    parts = arn.split(":", 5)  # arn:partition:service:region:account:resource
    return parts[index] if len(parts) == 6 else ""


def partition_of(arn: str) -> str:
    """The partition field of any ARN ('' when it has none)."""
    return _field(arn, 1)


def elsewhere(arn: str, *, account: str | None, partition: str | None) -> str:
    """Why the trail an ARN names cannot be among the caller's: it is in another partition or account
    ('' when neither, or when the caller's account or partition is not known). A reason says it.

    >>> elsewhere("arn:aws:cloudtrail:us-east-1:444455556666:trail/a", account="111122223333", partition="aws")[:72]
    'its ARN names account 444455556666, but these credentials act in account'
    """
    named_partition, named_account = partition_of(arn), account_of(arn)
    if partition and named_partition and named_partition != partition:
        return (
            f"its ARN is in partition {named_partition}, but these credentials act in partition {partition} "
            "(credentials act only in their own partition)"
        )
    if account and named_account and named_account != account:
        return (
            f"its ARN names account {named_account}, but these credentials act in account {account} (a trail is "
            "changed from its own account: run with that account's credentials, or --accounts / --organization)"
        )
    return ""


def account_of(arn: str) -> str:
    """The account field of any ARN ('' when it has none)."""
    return _field(arn, 4)


def region_of(arn: str) -> str:
    """The region field of any ARN ('' when it has none)."""
    return _field(arn, 3)

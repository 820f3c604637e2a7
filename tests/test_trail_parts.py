"""The small pure parts of the model of a trail: what an ARN says about where the trail lives.

No AWS: `trail/arns.py` decides from the ARN and the caller's account and partition alone, and the
reason it gives is the one TrailNotFound shows a person.
"""

from __future__ import annotations

import pytest

from trailkeeper.trail import arns

HERE = "arn:aws:cloudtrail:us-east-1:111122223333:trail/audit"
OTHER_ACCOUNT = "arn:aws:cloudtrail:us-east-1:444455556666:trail/audit"
OTHER_PARTITION = "arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/audit"
ACCOUNT_REASON = (
    "its ARN names account 444455556666, but these credentials act in account 111122223333 (a trail is "
    "changed from its own account: run with that account's credentials, or --accounts / --organization)"
)
PARTITION_REASON = (
    "its ARN is in partition aws-cn, but these credentials act in partition aws "
    "(credentials act only in their own partition)"
)


@pytest.mark.parametrize(
    ("arn", "account", "partition", "reason"),
    [
        (OTHER_ACCOUNT, "111122223333", "aws", ACCOUNT_REASON),
        (OTHER_ACCOUNT, "111122223333", None, ACCOUNT_REASON),
        (OTHER_PARTITION, "111122223333", "aws", PARTITION_REASON),
        (OTHER_PARTITION, None, "aws", PARTITION_REASON),
        (HERE, "111122223333", "aws", ""),  # the caller's own trail
        (OTHER_ACCOUNT, None, "aws", ""),  # the caller's account is not known: nothing to say
        (OTHER_ACCOUNT, None, None, ""),
        ("audit", "111122223333", "aws", ""),  # a name says no account or partition
    ],
    ids=[
        "other-account",
        "other-account-partition-unknown",
        "other-partition",
        "other-partition-account-unknown",
        "here",
        "account-unknown",
        "nothing-known",
        "a-name",
    ],
)
def test_an_arn_elsewhere_says_where_and_what_to_do_and_one_that_may_be_here_says_nothing(
    arn: str, account: str | None, partition: str | None, reason: str
) -> None:
    assert arns.elsewhere(arn, account=account, partition=partition) == reason

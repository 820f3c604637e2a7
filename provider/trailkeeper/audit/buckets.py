"""Read what the audit judges of a trail's log bucket: who owns it, whether it is public, whether access is logged.

Which account owns a bucket is not something S3 says to another account, so each account of the run
lists its own buckets once (ListBuckets); a log bucket none of them owns belongs to another account
(Control Tower's Log Archive, say) and is not judged. A bucket is read once per run, by its owner,
whatever the number of trails that deliver to it: GetBucketAcl, GetBucketPolicyStatus and
GetPublicAccessBlock for CloudTrail.6, GetBucketLogging for CloudTrail.7, GetBucketPolicy for the delivery
standard (does the policy let CloudTrail write: `audit/delivery.py`). "No policy" and "no public access
block" are answers (NoSuchBucketPolicy, NoSuchPublicAccessBlockConfiguration), not failures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from trailkeeper.audit.facts import BUCKET_LOGGING, BUCKET_PUBLIC, CHAIN_BUCKET, BucketFacts
from trailkeeper.aws import parallel
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed, TrailkeeperError

PERMISSIONS = (
    "s3:ListAllMyBuckets",  # ListBuckets
    "s3:GetBucketAcl",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",  # GetPublicAccessBlock
    "s3:GetBucketLogging",
    "s3:GetBucketPolicy",  # the delivery standard
)

PUBLIC_GROUPS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "everyone (AllUsers)",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "any AWS account (AuthenticatedUsers)",
}
NO_POLICY, NO_BLOCK = "NoSuchBucketPolicy", "NoSuchPublicAccessBlockConfiguration"
# Each read of a bucket: its operation, the error that means "nothing there" (an answer, not a failure), and
# the need that asks for it.
READS = (
    ("GetPublicAccessBlock", NO_BLOCK, BUCKET_PUBLIC),
    ("GetBucketAcl", "", BUCKET_PUBLIC),
    ("GetBucketPolicyStatus", NO_POLICY, BUCKET_PUBLIC),
    ("GetBucketLogging", "", BUCKET_LOGGING),
    ("GetBucketPolicy", NO_POLICY, CHAIN_BUCKET),
)


def owned(clients: Clients, region: str, deadline: Deadline) -> dict[str, str]:
    """The buckets the clients' account owns: name -> region ('' when S3 does not say), one call a page."""
    s3 = clients.client("s3", region)
    found: dict[str, str] = {}
    arguments: dict[str, Any] = {}
    while True:
        answer = _list(s3, arguments, deadline)
        for bucket in answer.get("Buckets", []):
            found[str(bucket["Name"])] = str(bucket.get("BucketRegion") or "")
        if not answer.get("ContinuationToken"):
            return found
        arguments = {"ContinuationToken": answer["ContinuationToken"]}


def _list(s3: Any, arguments: Mapping[str, Any], deadline: Deadline) -> Mapping[str, Any]:
    answer: Mapping[str, Any] = call("ListBuckets", lambda: s3.list_buckets(**arguments), deadline=deadline)
    return answer


def _get(
    clients: Clients, region: str, operation: str, bucket: str, *, deadline: Deadline, absent: str = ""
) -> Mapping[str, Any] | None:
    """One read of `bucket`; None when the error `absent` says there is nothing to read."""
    method = getattr(clients.client("s3", region), _snake(operation))
    try:
        answer: Mapping[str, Any] = call(
            operation, lambda: method(Bucket=bucket), deadline=deadline, facts={"bucket": bucket, "region": region}
        )
    except AwsCallFailed as error:
        if absent and error.aws_code == absent:
            return None
        raise
    return answer


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _public(
    block: Mapping[str, Any] | None, acl: Mapping[str, Any] | None, status: Mapping[str, Any] | None
) -> tuple[str, ...]:
    """What makes the bucket public, from its public access block, ACL and policy status (CloudTrail.6)."""
    config = (block or {}).get("PublicAccessBlockConfiguration") or {}
    found: list[str] = []
    for grant in (acl or {}).get("Grants", []):
        group = PUBLIC_GROUPS.get(str((grant.get("Grantee") or {}).get("URI", "")))
        if group and not config.get("IgnorePublicAcls"):
            found.append(f"its ACL grants {grant.get('Permission', '?')} to {group}")
    if (status or {}).get("PolicyStatus", {}).get("IsPublic") and not config.get("RestrictPublicBuckets"):
        found.append("its bucket policy is public (GetBucketPolicyStatus IsPublic)")
    return tuple(found)


def read(
    clients: Clients,
    bucket: str,
    region: str,
    needs: frozenset[str],
    deadline: Deadline,
    *,
    owner: str,
    partition: str = "aws",
) -> tuple[BucketFacts, TrailkeeperError | None]:
    """What the asked controls need of `bucket` (in `region`, owned by the clients' account), once.

    A read that fails leaves the bucket unavailable with AWS's reason (the controls say NOT_AVAILABLE),
    and is returned as the run's error; so does running out of time (the bucket reads come last: the
    trails' findings are kept, not lost with them).
    """
    asked = [(operation, absent) for operation, absent, need in READS if need in needs]
    with parallel.threads(len(asked)) as pool:  # S3 paces none of these: one latency for all, not five
        pending = [
            pool.submit(lambda o=o, a=a: _get(clients, region, o, bucket, deadline=deadline, absent=a))
            for o, a in asked
        ]
    answers: dict[str, Mapping[str, Any] | None] = {}
    for (operation, _), future in zip(asked, pending, strict=True):
        try:
            answers[operation] = future.result()
        except AwsCallFailed as error:  # the first failure in READS' order is the one said, as read in turn
            failed = f"{error.operation} failed: {error.reason}"
            return BucketFacts(bucket, partition, owner, unavailable=failed, region=region), error
        except TrailkeeperError as error:  # OutOfTime: no time left for the read
            return BucketFacts(bucket, partition, owner, unavailable=error.reason, region=region), error
    public = (
        _public(answers["GetPublicAccessBlock"], answers["GetBucketAcl"], answers["GetBucketPolicyStatus"])
        if BUCKET_PUBLIC in needs
        else ()
    )
    logging = bool((answers["GetBucketLogging"] or {}).get("LoggingEnabled")) if BUCKET_LOGGING in needs else None
    found = answers.get("GetBucketPolicy")
    text = str(found["Policy"]) if found is not None else None
    facts = BucketFacts(bucket, partition, owner, public=public, access_logging=logging, region=region)
    return dataclasses.replace(facts, policy=text, policy_read=CHAIN_BUCKET in needs), None

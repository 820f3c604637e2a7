"""Fake AWS clients for the benchmarks at organization scale (bench/org.py, bench/audit_export.py).

Every call waits a fixed latency, is counted by operation, then answers from a `FakeWorld`: the same
trails in every account (no moto: its in-process backends are neither thread-safe nor fast enough for
tens of thousands of reads). The code under test runs for real: account selection, AssumeRole through
`AccountSessions` and `calls.call`, the engines, the reports.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from devkit import world

from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.org.accounts import Account
from trailkeeper.org.credentials import AccountSessions

CALLER = "100000000000"
ASSUMED_KEY = "ASIA"  # + the account's id: which account a session's credentials act in


class Calls:
    """Counts calls by operation across threads, and the fake clients alive (the most at once: real
    clients, about 0.2 MB each, would hold that much memory)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.alive = 0
        self.most_alive = 0
        self._lock = threading.Lock()

    def made(self, operation: str) -> None:
        with self._lock:
            self.counts[operation] += 1

    def client(self, change: int) -> None:
        with self._lock:
            self.alive += change
            self.most_alive = max(self.most_alive, self.alive)


@dataclass(frozen=True)
class FakeWorld:
    """What every account holds: a single-region trail `audit` homed in each region, delivering to the
    account's bucket; with `everywhere`, also a multi-region trail homed in the first region that has
    custom event selectors (S3 data events), Insights and a tag (its shadows show in every region)."""

    regions: Sequence[str]
    everywhere: bool = False

    def bucket(self, account: str) -> str:
        return f"logs-{account}"

    def homed(self, account: str, region: str) -> list[dict[str, Any]]:
        """The trails homed in `region`."""
        trails = [_trail(account, region, "audit", self.bucket(account))]
        if self.everywhere and region == self.regions[0]:
            trails.append(
                _trail(
                    account,
                    region,
                    "everywhere",
                    self.bucket(account),
                    IsMultiRegionTrail=True,
                    HasCustomEventSelectors=True,
                    HasInsightSelectors=True,
                )
            )
        return trails

    def shown(self, account: str, region: str) -> list[dict[str, Any]]:
        """What DescribeTrails shows in `region`: its own trails and the shadows of multi-region ones."""
        shadows = [t for t in self.homed(account, self.regions[0]) if t["IsMultiRegionTrail"]]
        return self.homed(account, region) + ([] if region == self.regions[0] else shadows)


def _trail(account: str, region: str, name: str, bucket: str, **settings: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{region}:{account}:trail/{name}",
        "HomeRegion": region,
        "S3BucketName": bucket,
        "LogFileValidationEnabled": True,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "IsOrganizationTrail": False,
        "HasCustomEventSelectors": False,
        "HasInsightSelectors": False,
        **settings,
    }


DATA_EVENTS = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
    "ExcludeManagementEventSources": [],
}


class FakeClient:
    """A client for one account and region (any service): each call waits `latency`, then answers."""

    def __init__(self, account: str, region: str, latency: float, calls: Calls, world: FakeWorld) -> None:
        self._account, self._region, self._latency, self._calls, self._world = account, region, latency, calls, world
        calls.client(+1)

    def __del__(self) -> None:
        self._calls.client(-1)

    def _made(self, operation: str) -> None:
        self._calls.made(operation)
        if self._latency:  # no latency, no sleep: even sleep(0) is a system call (22 us of CPU here)
            time.sleep(self._latency)

    # STS
    def assume_role(self, RoleArn: str, **_: Any) -> dict[str, Any]:
        self._made("AssumeRole")
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        key = f"{ASSUMED_KEY}{RoleArn.split(':')[4]}"
        return {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s", "SessionToken": "t", "Expiration": expires}}

    # EC2
    def describe_regions(self, **_: Any) -> dict[str, Any]:
        self._made("DescribeRegions")
        return {"Regions": [{"RegionName": r, "OptInStatus": "opt-in-not-required"} for r in self._world.regions]}

    # CloudTrail
    def describe_trails(self, **_: Any) -> dict[str, Any]:  # every trail of the region, however asked
        self._made("DescribeTrails")
        return {"trailList": self._world.shown(self._account, self._region)}

    def get_trail_status(self, Name: str) -> dict[str, Any]:
        self._made("GetTrailStatus")
        return {"IsLogging": True}

    def get_event_selectors(self, TrailName: str) -> dict[str, Any]:
        self._made("GetEventSelectors")
        return {"TrailARN": TrailName, "EventSelectors": [DATA_EVENTS]}

    def get_insight_selectors(self, TrailName: str) -> dict[str, Any]:
        self._made("GetInsightSelectors")
        return {"TrailARN": TrailName, "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}

    def list_tags(self, ResourceIdList: list[str]) -> dict[str, Any]:
        self._made("ListTags")
        tags = [{"Key": "team", "Value": "security"}]
        return {"ResourceTagList": [{"ResourceId": arn, "TagsList": tags} for arn in ResourceIdList]}

    # S3 (the log bucket)
    def list_buckets(self, **_: Any) -> dict[str, Any]:
        self._made("ListBuckets")
        return {"Buckets": [{"Name": self._world.bucket(self._account), "BucketRegion": self._world.regions[0]}]}

    def get_public_access_block(self, Bucket: str) -> dict[str, Any]:
        self._made("GetPublicAccessBlock")
        flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        return {"PublicAccessBlockConfiguration": dict.fromkeys(flags, True)}

    def get_bucket_acl(self, Bucket: str) -> dict[str, Any]:
        self._made("GetBucketAcl")
        owner = {"ID": "owner", "Type": "CanonicalUser"}
        return {"Owner": owner, "Grants": [{"Grantee": owner, "Permission": "FULL_CONTROL"}]}

    def get_bucket_policy_status(self, Bucket: str) -> dict[str, Any]:
        self._made("GetBucketPolicyStatus")
        return {"PolicyStatus": {"IsPublic": False}}

    def get_bucket_logging(self, Bucket: str) -> dict[str, Any]:
        self._made("GetBucketLogging")
        return {"LoggingEnabled": {"TargetBucket": f"access-{Bucket}", "TargetPrefix": ""}}

    def get_bucket_policy(self, Bucket: str) -> dict[str, Any]:
        self._made("GetBucketPolicy")
        return {"Policy": world.bucket_policy(Bucket, self._account)}


class FakeSession:
    """Stands in for a boto3 session acting in one account (Clients only calls `.client`)."""

    def __init__(self, account: str, latency: float, calls: Calls, world: FakeWorld) -> None:
        self.account, self._latency, self._calls, self._world = account, latency, calls, world

    def client(self, service: str, region_name: str, **_: Any) -> FakeClient:
        return FakeClient(self.account, region_name, self._latency, self._calls, self._world)

    def like(self, account: str) -> FakeSession:
        """The same fake AWS, acting in `account`."""
        return FakeSession(account, self._latency, self._calls, self._world)

    def acting_as(self, session: Any) -> Clients:
        """Clients in the account a real session's assumed credentials act in (what AccountSessions made)."""
        key = str(session.get_credentials().access_key)
        acting: Any = self.like(key.removeprefix(ASSUMED_KEY))
        return Clients(acting)


class FakeSessions(AccountSessions):
    """The real AssumeRole path (`_fetch`: calls.call, counting, the reason); a fake session after it."""

    def __init__(self, caller: FakeSession) -> None:
        acting: Any = caller
        super().__init__(Clients(acting), "us-east-1", Deadline())
        self._fake = caller

    def session(self, account: Account) -> Any:
        self._fetch(account)
        return self._fake.like(account.id)

"""`trailkeeper audit` and `trailkeeper export` at scale: calls by operation beside the limit, wall time
beside the ideal, peak memory.

- One account, 17 regions x 5 trails, on moto with the fidelity layer, each call slowed by a latency
  (`fleet.SlowClients`): multi-region and single-region trails, basic and advanced custom selectors,
  Insights, tags, three log buckets. Audit runs as the CLI runs it (`audit_command.run`: the enabled
  regions from DescribeRegions, then `audit.run`), export as `export.export_account` (the CLI's call).
- 1,000 accounts x 17 regions on the fake clients of bench/fakes.py: audit through `audit_command.run`
  with an accounts file (the CLI's AssumeRole per account, then `audit.run` over 1,000 targets at the
  CLI's default --max-accounts), export through `org/export.py` at the same concurrency.

The limit is computed from the world, not written by hand: what the modules' docstrings promise (one
DescribeRegions; one DescribeTrails per account and region; per trail once GetTrailStatus, and
GetEventSelectors / GetInsightSelectors only when DescribeTrails says the trail has custom ones; ListTags
for twenty trails of a home region a call; per account one ListBuckets and each log bucket's five reads
once; the delivery chain's links once each, whatever the trails that use them: a key DescribeKey and
GetKeyPolicy, a log group DescribeLogGroups, a role GetRole, ListRolePolicies, ListAttachedRolePolicies and
GetRolePolicy per inline policy, a topic GetTopicAttributes). The ideal wall time is the schedule the code
is bound by: one latency per dependent step, and a home region's CloudTrail reads spaced by
`pacing.READ_INTERVAL_SECONDS`; everything else in parallel.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import yaml
from devkit import fidelity, world
from devkit import regions as enabled_regions
from moto import mock_aws

from bench import org, peer_inputs
from bench.common import Row
from bench.fakes import CALLER, Calls, FakeSession, FakeSessions, FakeWorld
from bench.fleet import REGIONS, SlowClients
from trailkeeper.audit import judge, reads
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.aws.locate import LIST_TAGS_BATCH
from trailkeeper.aws.pacing import READ_INTERVAL_SECONDS
from trailkeeper.cli import audit as audit_command
from trailkeeper.cli.main import _parser
from trailkeeper.export import read as export
from trailkeeper.org import export as org_export
from trailkeeper.org.accounts import Account, role_arn
from trailkeeper.org.reconcile import MAX_ACCOUNTS

Trail = Mapping[str, Any]
BUCKET_READS = ("GetPublicAccessBlock", "GetBucketAcl", "GetBucketPolicyStatus", "GetBucketLogging", "GetBucketPolicy")
ROLE_READS = ("GetRole", "ListRolePolicies", "ListAttachedRolePolicies")  # then GetRolePolicy per inline policy
REPEAT = 3  # runs of a few seconds: the median of three


# --- the limits and the ideal, from the world ---


def chain_limit(trails: Sequence[Trail], inline_policies: int = 1) -> Counter[str]:
    """The delivery chain's reads for `trails`: each key, log group, role and topic once, whoever uses it."""

    def distinct(field: str) -> int:
        return len({str(t[field]) for t in trails if t.get(field)})

    roles = distinct("CloudWatchLogsRoleArn")
    return +Counter(
        DescribeKey=distinct("KmsKeyId"),
        GetKeyPolicy=distinct("KmsKeyId"),
        DescribeLogGroups=distinct("CloudWatchLogsLogGroupArn"),
        GetTopicAttributes=distinct("SnsTopicARN"),
        GetRolePolicy=roles * inline_policies,
        **dict.fromkeys(ROLE_READS, roles),
    )


def limit(homes: Mapping[str, Sequence[Trail]], command: str, buckets: int = 0, accounts: int = 1) -> Counter[str]:
    """What `command` (audit or export) may call in one account whose trails, by home region, are `homes`
    (every region scanned is a key), times `accounts` alike. Each account's DescribeRegions is its own, once
    (opt-in regions differ by account: `aws.regions.of_account`)."""
    trails = [t for home in homes.values() for t in home]
    per_account = Counter(
        DescribeTrails=len(homes),
        GetTrailStatus=len(trails),
        GetEventSelectors=sum(1 for t in trails if t["HasCustomEventSelectors"]),
        ListTags=sum(math.ceil(len(home) / LIST_TAGS_BATCH) for home in homes.values()),
    )
    per_account.update(DescribeRegions=1)
    if command == "export":
        per_account.update(GetInsightSelectors=sum(1 for t in trails if t["HasInsightSelectors"]))
    else:
        per_account.update(ListBuckets=1, **dict.fromkeys(BUCKET_READS, buckets))
        per_account.update(chain_limit(trails))
    if accounts > 1:
        per_account.update(AssumeRole=1)
    return +Counter({operation: count * accounts for operation, count in per_account.items()})


def paced(reads: int, latency: float) -> float:
    """Seconds `reads` CloudTrail reads in one home region take, one after another, spaced by the pacer."""
    return (reads - 1) * max(READ_INTERVAL_SECONDS, latency) + latency if reads else 0.0


def busiest(homes: Mapping[str, Sequence[Trail]], command: str, latency: float) -> float:
    """The slowest home region's paced reads (per trail as `limit` counts them, then its ListTags)."""

    def reads(home: Sequence[Trail]) -> int:
        extra = "HasInsightSelectors" if command == "export" else ""
        per_trail = sum(1 + bool(t["HasCustomEventSelectors"]) + bool(extra and t[extra]) for t in home)
        return per_trail + math.ceil(len(home) / LIST_TAGS_BATCH)

    return max(paced(reads(home), latency) for home in homes.values())


def _verdict(counts: Counter[str], allowed: Counter[str]) -> str:
    over = {op: (counts[op], allowed[op]) for op in set(counts) | set(allowed) if counts[op] > allowed[op]}
    if over:
        return "CALLS OVER: " + ", ".join(f"{op} {n} > {m}" for op, (n, m) in sorted(over.items()))
    return "calls at the limit" if counts == allowed else "calls under the limit"


def _by_operation(counts: Counter[str]) -> str:
    return f"{sum(counts.values())}: " + ", ".join(f"{n} {op}" for op, n in counts.most_common())


# --- one account, 17 regions x 5 trails, on moto ---

BUCKETS = ("bench-logs-0", "bench-logs-1", "bench-logs-2")
INSIGHTS = {"InsightType": "ApiCallRateInsight"}
DATA_EVENTS = {"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
ADVANCED = [
    {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
    {
        "Name": "S3 writes",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "readOnly", "Equals": ["false"]},
        ],
    },
]


def seed_fleet(regions: Sequence[str], trails: int) -> dict[str, list[Trail]]:
    """`trails` trails homed in each of `regions`, of every shape the audit judges apart; returns the own
    trails of every region enabled for the account (the regions a run scans) as DescribeTrails reads them
    back: the world the limit is computed from."""
    s3 = boto3.client("s3", region_name=regions[0])
    for bucket in BUCKETS:
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=world.bucket_policy(bucket))
    chain = _chain(regions)
    for r, region in enumerate(regions):
        cloudtrail = boto3.client("cloudtrail", region_name=region)
        for index in range(trails):
            shape = index % 5
            multi = shape == 0 and r < 2  # two multi-region trails: every region shows their shadows
            arn = cloudtrail.create_trail(
                Name=f"fleet-{index}",
                S3BucketName=BUCKETS[(r + index) % len(BUCKETS)],
                IsMultiRegionTrail=multi,
                **_links(shape, region, chain),
            )["TrailARN"]
            if shape == 1:
                cloudtrail.put_event_selectors(TrailName=arn, EventSelectors=[DATA_EVENTS])
            elif shape == 2:
                cloudtrail.put_event_selectors(TrailName=arn, AdvancedEventSelectors=ADVANCED)
            elif shape == 3:
                cloudtrail.put_insight_selectors(
                    TrailName=arn, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
                )
            if shape in (0, 4):
                cloudtrail.add_tags(ResourceId=arn, TagsList=[{"Key": "team", "Value": "security"}])
            if shape != 3:
                cloudtrail.start_logging(Name=arn)
    return {
        region: boto3.client("cloudtrail", region_name=region).describe_trails(includeShadowTrails=False)["trailList"]
        for region in enabled_regions.ENABLED_BY_DEFAULT
    }


def _chain(regions: Sequence[str]) -> dict[str, str]:
    """The delivery chain's links the fleet shares: a key and a topic per region, one log group and role."""
    found: dict[str, str] = {}
    for region in regions:
        key = boto3.client("kms", region_name=region).create_key(Policy=world.key_policy())["KeyMetadata"]["Arn"]
        sns = boto3.client("sns", region_name=region)
        topic = sns.create_topic(Name="bench-deliveries")["TopicArn"]
        sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=world.topic_policy(topic))
        found |= {f"key {region}": key, f"topic {region}": topic}
    boto3.client("logs", region_name=regions[0]).create_log_group(logGroupName="bench-trails")
    trust = {"Statement": [{"Effect": "Allow", "Principal": world.CLOUDTRAIL, "Action": "sts:AssumeRole"}]}
    iam = boto3.client("iam", region_name=regions[0])
    role = iam.create_role(RoleName="bench-cloudtrail", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="bench-cloudtrail", PolicyName="logs", PolicyDocument=world.logs_policy("bench-trails")
    )
    group = f"arn:aws:logs:{regions[0]}:{world.ACCOUNT}:log-group:bench-trails:*"
    return found | {"group": group, "role": role}


def _links(shape: int, region: str, chain: Mapping[str, str]) -> dict[str, str]:
    """Which links a trail of `shape` delivers through: a key (shape 4), a topic (1), the log group (0)."""
    if shape == 4:
        return {"KmsKeyId": chain[f"key {region}"]}
    if shape == 1:
        return {"SnsTopicName": chain[f"topic {region}"].rsplit(":", 1)[-1]}  # moto takes a name only
    if shape == 0 and region == REGIONS[0]:  # a log group serves trails of its own region
        return {"CloudWatchLogsLogGroupArn": chain["group"], "CloudWatchLogsRoleArn": chain["role"]}
    return {}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        yield


def _one_account(command: str, latency: float, trace: bool = False) -> tuple[Counter[str], float, int]:
    """One run against the seeded moto: calls by operation, wall time (or with `trace`, the peak bytes the
    run allocated, its clients built), and the trails judged / exported."""
    clients = SlowClients(latency)
    for region in REGIONS:  # clients are built before the clock starts, as in a warm process
        clients.cloudtrail(region)
        clients.client("s3", region)
    clients.client("ec2", REGIONS[0])
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    with _quiet():
        if command == "audit":
            args = _parser().parse_args(["audit"])
            identity = {"Account": world.ACCOUNT, "Arn": f"arn:aws:iam::{world.ACCOUNT}:user/bench"}
            audited = audit_command.run(
                args, clients=clients, region=REGIONS[0], identity=identity, deadline=Deadline()
            )
            assert not audited.errors, audited.errors
            done = len({f.resource for f in audited.findings if ":trail/" in f.resource})
        else:
            exported = export.export_account(clients, None, account=world.ACCOUNT, default_region=REGIONS[0])
            assert exported.complete, exported.failures
            done = len(exported.trails)
    wall = time.perf_counter() - start
    if trace:
        wall = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Counter(c.operation for c in clients.calls), wall, done


def _peak(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def run_fleet(regions: int = 17, trails: int = 5, latency: float = 0.05, repeat: int = REPEAT) -> list[Row]:
    """Audit and export of one account, trails in `regions` regions x `trails`, each call `latency` seconds
    late. Both scan the 17 regions enabled for the account (a smaller world leaves some empty)."""
    world.use_local_credentials()
    rows = []
    section = f"Audit and export, one account ({latency * 1000:.0f} ms per call)"
    with fidelity.cloudtrail_as_aws(), mock_aws():
        homes = seed_fleet(REGIONS[:regions], trails)
        buckets = len({t["S3BucketName"] for home in homes.values() for t in home})
        total = sum(len(home) for home in homes.values())
        for command in ("audit", "export"):
            runs = [_one_account(command, latency) for _ in range(repeat)]
            counts, _, done = runs[0]
            wall = statistics.median(w for _, w, _ in runs)
            allowed = limit(homes, command, buckets)
            # DescribeRegions, then every region's DescribeTrails at once, then the busiest home region's reads.
            ideal = 2 * latency + busiest(homes, command, latency)
            peak = int(_one_account(command, latency, trace=True)[1])
            rows.append(
                Row(
                    section,
                    f"{command}: {regions} regions x {trails} trails ({buckets} log buckets)",
                    f"{_by_operation(counts)}; {wall:.2f} s; peak {peak / 1e6:.1f} MB",
                    f"{_by_operation(allowed)}; ideal {ideal:.2f} s",
                    f"{_verdict(counts, allowed)}; {done}/{total} trails; {wall / ideal:.2f}x the ideal",
                    {
                        "command": command,
                        "regions": regions,
                        "trails": total,
                        "buckets": buckets,
                        "operations": dict(counts),
                        "limit": dict(allowed),
                        "done": done,
                        "wall_s": wall,
                        "ideal_s": ideal,
                        "peak_bytes": peak,
                    },
                )
            )
    return rows


# --- 1,000 accounts x 17 regions, on fake clients ---


def _accounts(count: int) -> list[Account]:
    ids = [f"{200000000000 + n}" for n in range(count)]
    return [Account(i, f"member-{n}", role_arn("aws", i, "TrailkeeperMember")) for n, i in enumerate(ids)]


def _org_once(command: str, accounts: int, fake: FakeWorld, latency: float) -> tuple[Calls, float, int]:
    calls = Calls()
    caller = FakeSession(CALLER, latency, calls, fake)
    acting: Any = caller
    selected = _accounts(accounts)
    with tempfile.TemporaryDirectory() as folder, _quiet():
        start = time.perf_counter()
        if command == "audit":
            inventory = Path(folder) / "accounts.yml"
            inventory.write_text(
                yaml.safe_dump(peer_inputs.accounts_file([a.id for a in selected], "TrailkeeperMember"))
            )
            args = _parser().parse_args(["audit", "--accounts", str(inventory)])
            identity = {"Account": CALLER, "Arn": f"arn:aws:iam::{CALLER}:user/bench"}
            audited = audit_command.run(
                args,
                clients=Clients(acting),
                region=fake.regions[0],
                identity=identity,
                deadline=Deadline(),
                make_clients=caller.acting_as,
            )
            assert not audited.errors, audited.errors[:3]
            done = len(audited.accounts)
        else:
            exported = org_export.run(
                selected,
                clients=Clients(acting),
                regions_of=lambda _: None,  # the CLI without --region: each account's enabled regions
                region=fake.regions[0],
                max_accounts=MAX_ACCOUNTS,
                sessions=FakeSessions(caller),
            )
            assert exported.complete, exported.failures[:3]
            done = len({t.account for t in exported.trails})
        wall = time.perf_counter() - start
    return calls, wall, done


@contextlib.contextmanager
def _phases() -> Iterator[dict[str, float]]:
    """Wall seconds of the audit's phases (audit/judge.py's run, the log buckets, the chains, the judgement)."""
    spent: dict[str, float] = {}
    patched = [(judge, "run"), (reads, "read_buckets"), (judge, "_read_chains"), (judge, "_judge")]
    originals = [getattr(owner, name) for owner, name in patched]

    def timed(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def timer(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        return timer

    for (owner, name), original in zip(patched, originals, strict=True):
        setattr(owner, name, timed(name, original))
    try:
        yield spent
    finally:
        for (owner, name), original in zip(patched, originals, strict=True):
            setattr(owner, name, original)


def _audit_contributors(accounts: int, fake: FakeWorld, latency: float, section: str) -> list[Row]:
    """Where an organization audit's time goes, phase by phase, and its CPU per account-region."""
    cpu = time.process_time()
    with _phases() as spent:
        _, wall, _ = _org_once("audit", accounts, fake, latency)
    cpu = time.process_time() - cpu
    places = accounts * len(fake.regions)
    reading = spent["run"] - spent["read_buckets"] - spent["_read_chains"] - spent["_judge"]
    shares = [
        ("the roles assumed and the inventory read, before the audit", wall - spent["run"]),
        (f"every account's trails read, {MAX_ACCOUNTS} accounts at a time", reading),
        ("the log buckets: listed, then each bucket's reads, by its owner", spent["read_buckets"]),
        ("the delivery chains: keys, topics, log groups, roles", spent["_read_chains"]),
        ("judging every control on every trail, bucket and account", spent["_judge"]),
    ]
    rows = [Row(section, what, f"{seconds:.2f} s", f"of {wall:.2f} s", "", {"s": seconds}) for what, seconds in shares]
    rows.append(
        Row(section, "CPU per account-region, the whole audit", f"{cpu / places * 1e6:.0f} us", "", "", {"cpu_s": cpu})
    )
    return rows


def run_organization(accounts: int = 1000, regions: int = 17, latency: float = 0.02) -> list[Row]:
    """Audit and export across `accounts` accounts x `regions` regions, `MAX_ACCOUNTS` at a time.

    Peak memory is traced in a second run without latency (tracing slows Python several times; what is
    held at once does not depend on the latency). The fake clients cost nothing; real ones do (`org`'s
    measure, per region's client): the most clients alive at once, counted, says how much.
    """
    fake = FakeWorld(REGIONS[:regions], everywhere=True)
    homes = {r: fake.homed(CALLER, r) for r in fake.regions}
    rows = []
    section = f"Audit and export, organization ({latency * 1000:.0f} ms per call)"
    per_client = org._real_clients(regions)[0] / regions
    places = accounts * regions
    for command in ("audit", "export"):
        calls, wall, done = _org_once(command, accounts, fake, latency)
        counts = calls.counts
        allowed = limit(homes, command, buckets=1, accounts=accounts)
        waves = math.ceil(accounts / MAX_ACCOUNTS)
        # Per account AssumeRole, its own DescribeRegions, DescribeTrails, then its reads.
        ideal = waves * (3 * latency + busiest(homes, command, latency))
        peak = _peak(lambda c=command: _org_once(c, accounts, fake, 0.0))  # type: ignore[misc]
        real = peak + calls.most_alive * per_client
        rows.append(
            Row(
                section,
                f"{command}: {accounts} accounts x {regions} regions, {MAX_ACCOUNTS} at a time",
                f"{sum(counts.values()) / places:.2f} calls per account-region ({_by_operation(counts)}); "
                f"{wall:.1f} s; {peak / 1e6:.0f} MB traced, {calls.most_alive} clients alive at most",
                f"{sum(allowed.values()) / places:.2f} per account-region ({_by_operation(allowed)}); "
                f"ideal {ideal:.1f} s",
                f"{_verdict(counts, allowed)}; {done}/{accounts} accounts; {wall / ideal:.2f}x the ideal; "
                f"about {real / 1e6:.0f} MB with real clients ({per_client / 1e6:.2f} MB each)",
                {
                    "command": command,
                    "accounts": accounts,
                    "regions": regions,
                    "max_accounts": MAX_ACCOUNTS,
                    "operations": dict(counts),
                    "limit": dict(allowed),
                    "per_account_region": {op: n / places for op, n in counts.items()},
                    "done": done,
                    "wall_s": wall,
                    "ideal_s": ideal,
                    "peak_bytes": peak,
                    "clients_alive_at_most": calls.most_alive,
                    "real_client_bytes": per_client,
                    "real_bytes": real,
                },
            )
        )
    section = (
        f"Audit, organization: where the time goes ({min(accounts, 200)} accounts, {latency * 1000:.0f} ms per call)"
    )
    rows += _audit_contributors(min(accounts, 200), fake, latency, section)
    return rows

"""Plan and apply across several trails in several regions: one read per region, paced writes,
independent failures."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from typing import Any

import boto3
import pytest
from devkit import regions
from devkit import world as seeding

from tests.conftest import RecordingClients
from trailkeeper.aws.calls import Deadline
from trailkeeper.aws.pacing import Pacer
from trailkeeper.errors import ConflictingDeclarations
from trailkeeper.fleet import reconcile as fleet
from trailkeeper.fleet import state

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


class FakeClock:
    """Time that moves only when someone sleeps: pacing is measured on the calls, not by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


@pytest.fixture
def fleet_world(world: seeding.World) -> dict[str, list[str]]:
    """Three trails in each of three regions (plus the demo trail in us-east-1)."""
    made: dict[str, list[str]] = defaultdict(list)
    for region in REGIONS:
        for index in range(3):
            name = f"{region.replace('-', '')}-trail-{index}"
            seeding.add_trail(name, region)
            made[region].append(name)
    return made


def declared(names: dict[str, list[str]], **settings: object) -> list:
    entries = []
    for region, region_names in names.items():
        for name in region_names:
            entries.append({"Name": f"arn:aws:cloudtrail:{region}:123456789012:trail/{name}", **settings})
    return state.parse({"trails": entries})


def run(declarations: list, clients: RecordingClients, **options: object) -> Any:
    """fleet.run as every test here calls it: names looked up from us-east-1, moto's account."""
    return fleet.run(
        declarations, clients=clients, default_region="us-east-1", caller_account="123456789012", **options
    )


def test_plan_reads_each_region_once_and_writes_nothing(fleet_world: dict, clients: RecordingClients) -> None:
    result = run(declared(fleet_world, EnableLogFileValidation=True), clients, apply=False)
    assert result.summary() == {"trails": 9, "in_sync": 0, "drifted": 9, "fixed": 0, "failed": 0}
    reads = sorted(c.region for c in clients.named("DescribeTrails"))
    assert reads == sorted(REGIONS)
    assert clients.named("UpdateTrail") == []
    assert result.exit_code == 2


def _reconciled_in(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The names of the threads the engine reconciles trails in, as a run goes."""
    from trailkeeper import engine

    threads: set[str] = set()
    original = engine.reconcile

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.add(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "reconcile", recording)
    return threads


def test_a_plan_that_only_compares_reconciles_in_the_callers_thread(
    fleet_world: dict, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _reconciled_in(monkeypatch)
    run(declared(fleet_world, EnableLogFileValidation=True), clients, apply=False)
    assert threads == {threading.current_thread().name}  # DescribeTrails answered all: no thread would wait


@pytest.mark.parametrize(
    ("apply", "settings"),
    [(True, {"EnableLogFileValidation": True}), (False, {"IsLogging": True}), (False, {"KmsKeyId": "alias/audit"})],
    ids=["apply writes", "a read per trail", "an alias to resolve"],
)
def test_work_that_may_wait_on_aws_reconciles_on_the_kept_threads(
    fleet_world: dict,
    clients: RecordingClients,
    monkeypatch: pytest.MonkeyPatch,
    apply: bool,
    settings: dict[str, object],
) -> None:
    threads = _reconciled_in(monkeypatch)
    run(declared(fleet_world, **settings), clients, apply=apply, pacer=Pacer(0.0))
    assert threads and threading.current_thread().name not in threads  # on the kept threads


def test_apply_fixes_each_drifted_trail_once_in_its_home_region_then_finds_nothing(
    fleet_world: dict, clients: RecordingClients
) -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    states = declared(fleet_world, EnableLogFileValidation=True, S3KeyPrefix="fleet")
    result = run(states, clients, apply=True, pacer=pacer)
    assert result.summary()["fixed"] == 9 and result.exit_code == 0
    updates = clients.named("UpdateTrail")
    assert len(updates) == 9
    assert all(u.params["Name"].split(":")[3] == u.region for u in updates)  # home region only
    assert all(set(u.params) == {"Name", "EnableLogFileValidation", "S3KeyPrefix"} for u in updates)
    clients.calls.clear()
    again = run(states, clients, apply=True)
    assert again.summary()["in_sync"] == 9 and clients.named("UpdateTrail") == []


def test_writes_are_paced_to_one_per_second_per_region(fleet_world: dict, aws: None) -> None:
    clock = FakeClock()
    clients = RecordingClients(clock=clock)
    run(
        declared(fleet_world, S3KeyPrefix="paced"),
        clients,
        apply=True,
        pacer=Pacer(clock=clock, sleep=clock.sleep),
    )
    by_region: dict[str, list[float]] = defaultdict(list)
    for call in clients.named("UpdateTrail"):
        by_region[call.region].append(call.at)
    assert sorted(by_region) == sorted(REGIONS)
    for times in by_region.values():
        gaps = [b - a for a, b in zip(sorted(times), sorted(times)[1:], strict=False)]
        assert len(times) == 3 and all(gap >= 1.0 for gap in gaps), gaps


def test_a_slow_write_delays_the_next_so_the_server_sees_the_whole_interval(fleet_world: dict, aws: None) -> None:
    """CloudTrail counts a write when it arrives: spacing the starts let a write answered late (0.7 s here)
    reach the server 0.3 s before the next. Each write starts a whole interval after the previous one ended."""
    clock = FakeClock()
    clients = RecordingClients(clock=clock)
    ended: dict[str, list[float]] = defaultdict(list)

    def slow_answer(region: str) -> Any:
        def answered(**_: Any) -> None:
            clock.sleep(0.7)  # the write's round trip, on the test's clock
            ended[region].append(clock())

        return answered

    for region in REGIONS:
        clients.client("cloudtrail", region).meta.events.register(
            "after-call.cloudtrail.UpdateTrail", slow_answer(region)
        )
    run(
        declared({"us-east-1": fleet_world["us-east-1"]}, S3KeyPrefix="slow"),
        clients,
        apply=True,
        pacer=Pacer(clock=clock, sleep=clock.sleep),
    )
    started = [c.at for c in clients.named("UpdateTrail")]
    assert len(started) == 3 and len(ended["us-east-1"]) == 3
    gaps = [round(start - end, 3) for end, start in zip(ended["us-east-1"], started[1:], strict=False)]
    assert gaps == [1.0, 1.0]


def test_the_pacer_spaces_from_the_end_of_the_previous_write() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    starts = []
    for duration in (0.7, 2.5, 0.0):
        pacer.wait("a")
        starts.append(clock())
        clock.sleep(duration)
        pacer.done("a")
    pacer.wait("a")
    starts.append(clock())
    assert starts == [1000.0, 1001.7, 1005.2, 1006.2]


def test_the_pacer_spaces_writes_per_region_only() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    starts = []
    for region in ("a", "a", "b", "a", "b"):
        pacer.wait(region)
        starts.append((region, clock()))
    assert starts == [("a", 1000.0), ("a", 1001.0), ("b", 1001.0), ("a", 1002.0), ("b", 1002.0)]


def test_one_failure_does_not_stop_the_others(
    fleet_world: dict, world: seeding.World, clients: RecordingClients
) -> None:
    boto3.client("cloudtrail", region_name="us-east-1").update_trail(Name="useast1-trail-0", KmsKeyId=world.key_arn)
    entries = [
        {"Name": "useast1-trail-0", "KmsKeyId": "alias/does-not-exist"},
        {"Name": "useast1-trail-1", "S3KeyPrefix": "fine"},
        {"Name": "no-such-trail", "S3KeyPrefix": "x"},
        {"Name": "arn:aws:cloudtrail:eu-west-1:123456789012:trail/euwest1-trail-0", "S3KeyPrefix": "fine"},
    ]
    result = run(
        state.parse({"trails": entries}),
        clients,
        apply=True,
        pacer=Pacer(interval=0),
    )
    statuses = [(r.name.split("/")[-1], r.status, r.error.error_code if r.error else None) for r in result.results]
    assert statuses == [
        ("useast1-trail-0", "failed", "NotFoundException"),
        ("useast1-trail-1", "fixed", None),
        ("no-such-trail", "failed", "TrailNotFound"),
        ("euwest1-trail-0", "fixed", None),
    ]
    assert result.exit_code == 1
    # Names are looked for in every enabled region: one DescribeTrails each, shared by the three names
    # and the ARN (whose region is one of them), after the one DescribeRegions that lists them.
    assert len(clients.named("DescribeRegions")) == 1
    assert sorted(c.region for c in clients.named("DescribeTrails")) == sorted(regions.ENABLED_BY_DEFAULT)


def test_a_trail_declared_by_name_and_by_arn_with_different_values_is_refused_before_any_write(
    fleet_world: dict, clients: RecordingClients
) -> None:
    entries = [
        {"Name": "useast1-trail-0", "S3KeyPrefix": "a"},
        {"Name": "euwest1-trail-1", "S3KeyPrefix": "fine"},
        {"Name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/useast1-trail-0", "S3KeyPrefix": "b"},
    ]
    with pytest.raises(ConflictingDeclarations) as raised:
        run(state.parse({"trails": entries}), clients, apply=True, regions=list(REGIONS))
    (problem,) = raised.value.problems
    assert problem.startswith("trails[0] (useast1-trail-0) and trails[2] (arn:aws:cloudtrail:us-east-1:")
    assert "declare S3KeyPrefix differently ('a' vs 'b')" in problem
    assert [c.operation for c in clients.calls if not c.operation.startswith("Describe")] == []


def test_apply_progress_ticks_per_trail_while_a_region_is_still_working(
    fleet_world: dict, clients: RecordingClients
) -> None:
    clock = FakeClock()
    ticks: list[tuple[int, float]] = []
    states = declared({"us-east-1": fleet_world["us-east-1"]}, S3KeyPrefix="ticks")

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "apply trails":
            ticks.append((done, clock()))

    run(
        states,
        clients,
        apply=True,
        pacer=Pacer(clock=clock, sleep=clock.sleep),
        progress=progress,
    )
    # One tick per trail as it is written, a paced second apart; not all at once when the region ends.
    assert [done for done, _ in ticks] == [1, 2, 3]
    assert [round(b - a, 3) for (_, a), (_, b) in itertools.pairwise(ticks)] == [1.0, 1.0]


def test_progress_is_reported_per_region_and_per_trail(fleet_world: dict, clients: RecordingClients) -> None:
    seen: list[tuple[str, int, int]] = []
    run(
        declared(fleet_world),
        clients,
        apply=False,
        progress=lambda *a: seen.append(a),
    )
    assert [s for s in seen if s[0] == "read regions"][-1] == ("read regions", 3, 3)
    assert [s for s in seen if s[0] == "plan trails"][-1] == ("plan trails", 9, 9)


def test_with_nobody_watching_the_regions_are_collected_at_once(
    fleet_world: dict, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An organization run watches accounts, not regions: waking the account's thread for each region's answer
    # only cost CPU (bench/org.py, 64 accounts at a time). The answers are the same either way.
    watched = run(declared(fleet_world), clients, apply=False, progress=lambda *_: None)

    def one_by_one(*_: object) -> None:
        raise AssertionError("waited on each region's answer in turn, with nobody watching")

    monkeypatch.setattr(fleet, "as_completed", one_by_one)
    alone = run(declared(fleet_world), clients, apply=False)
    assert len(alone.results) == 9 and alone.to_dict() == watched.to_dict()


def test_no_time_left_means_no_write(fleet_world: dict, clients: RecordingClients) -> None:
    deadline = Deadline(30)
    states = declared({"us-east-1": fleet_world["us-east-1"]}, S3KeyPrefix="late")
    deadline.stop()
    result = run(states, clients, apply=True, deadline=deadline)
    assert {r.status for r in result.results} == {"failed"} and clients.calls == []


def test_one_alias_is_resolved_once_per_region_not_once_per_trail(
    fleet_world: dict, world: seeding.World, clients: RecordingClients
) -> None:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    for name in fleet_world["us-east-1"]:
        client.update_trail(Name=name, KmsKeyId=world.key_arn)  # as CloudTrail stores it: the ARN
    states = declared({"us-east-1": fleet_world["us-east-1"]}, KmsKeyId="alias/trailkeeper-demo")
    result = run(states, clients, apply=True)
    assert result.summary()["in_sync"] == 3
    assert len(clients.named("DescribeKey")) == 1 and clients.named("UpdateTrail") == []

"""`trailkeeper audit` at scale (bench/audit_export.py measured it): what would run one after another runs at
once, and an account's clients are let go once it is read.

Whether calls overlap is held without a clock: the calls named wait for one another at a barrier, so calls
made one after another never meet (the first waits alone until the barrier breaks, and the audit fails).
"""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from devkit import world as seeding

from tests.test_audit import HOME, IDENTITY, OTHER, _args, _log_archive, found, run, trail
from trailkeeper.audit import judge as audit
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.cli import audit as audit_command
from trailkeeper.errors import AwsCallFailed

MEET_WITHIN_SECONDS = 60  # generous on a loaded machine; only a run that never overlaps waits it out


class Meeting(Clients):
    """Clients whose calls of the operations given wait at `barriers` (service, operation) -> Barrier; every
    client built is remembered weakly, to see which are still alive."""

    def __init__(self, barriers: dict[tuple[str, str], threading.Barrier], session: Any = None) -> None:
        super().__init__(session or boto3.session.Session())
        self.barriers = barriers
        self.built: weakref.WeakSet[Any] = weakref.WeakSet()
        self._hooked = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        made = super().client(service, region)
        with self._hooked:  # threads may ask for a new client at once: hooked once, before any of them calls
            if made not in self.built:
                for (on, operation), barrier in self.barriers.items():
                    if on == service:
                        made.meta.events.register(f"before-call.{service}.{operation}", _waiter(barrier))
                self.built.add(made)
        return made


def _waiter(barrier: threading.Barrier) -> Any:
    """A client's first call of each request waits; a retry of it (moto may answer a busy STS with a
    retryable error) goes through, as it comes after the meeting."""
    seen: set[str] = set()
    lock = threading.Lock()

    def wait(params: dict[str, Any], **_: Any) -> None:
        request = f"{params.get('url')} {params.get('body')}"
        with lock:
            first = request not in seen
            seen.add(request)
        if first:
            barrier.wait()

    return wait


class FirstMeeting(threading.Barrier):
    """A barrier its parties meet at once; calls after that meeting go through."""

    met = False

    def wait(self, timeout: float | None = None) -> int:
        if self.met:
            return 0
        index = super().wait(timeout)
        self.met = True
        return index


def _inventory(folder: Any, accounts: Sequence[str]) -> Any:
    """An accounts.yml listing `accounts`, each audited through its role `Audit`."""
    inventory = folder / "accounts.yml"
    listed = "".join(f'  - account_id: "{a}"\n    role: arn:aws:iam::{a}:role/Audit\n' for a in accounts)
    inventory.write_text(f"accounts:\n{listed}")
    return inventory


def _meet(count: int) -> threading.Barrier:
    return threading.Barrier(count, timeout=MEET_WITHIN_SECONDS)


def test_each_home_regions_tags_are_read_in_that_regions_turn_not_one_region_after_another(
    world: seeding.World,
) -> None:
    trail("here", IsMultiRegionTrail=False)
    trail("there", IsMultiRegionTrail=False, region=OTHER)
    clients = Meeting({("cloudtrail", "ListTags"): _meet(2)})
    result = run(clients, regions=(HOME, OTHER))
    assert not result.errors
    assert {f.resource.rsplit("/", 1)[1] for f in result.findings if f.control == "CloudTrail.9"} >= {"here", "there"}


def test_accounts_list_and_read_their_log_buckets_at_once(aws: None) -> None:
    archive, session = _log_archive()
    boto3.client("s3", region_name=HOME).create_bucket(Bucket="audit-own-logs")
    for name, bucket in (("own", "audit-own-logs"), ("central", "log-archive-bucket")):
        boto3.client("cloudtrail", region_name=HOME).create_trail(Name=name, S3BucketName=bucket)
    barriers = {("s3", "ListBuckets"): _meet(2), ("s3", "GetBucketLogging"): _meet(2)}
    mine, theirs = Meeting(barriers), Meeting(barriers, session)
    result = run(mine, targets=[audit.Target(seeding.ACCOUNT, mine), audit.Target(archive, theirs)])
    assert not result.errors
    assert found(result, "CloudTrail.7", "arn:aws:s3:::log-archive-bucket").account == archive
    assert found(result, "CloudTrail.7", "arn:aws:s3:::audit-own-logs").account == seeding.ACCOUNT


def test_the_accounts_roles_are_assumed_at_once(tmp_path: Any, aws: None) -> None:
    inventory = _inventory(tmp_path, ("111111111111", "222222222222"))
    clients = Meeting({("sts", "AssumeRole"): _meet(2)})
    args = _args("--accounts", str(inventory), "--region", HOME)
    result = audit_command.run(args, clients=clients, region=HOME, identity=IDENTITY, deadline=Deadline())
    assert result.accounts == ("111111111111", "222222222222") and not result.errors


def test_the_first_account_is_read_while_the_last_roles_are_assumed(tmp_path: Any, aws: None) -> None:
    # One account at a time: the second account's clients are made only once the first account's trails are
    # being read. Were every role assumed before any read, the second would wait here until it gives up.
    inventory = _inventory(tmp_path, ("111111111111", "222222222222"))
    first_read = threading.Event()
    made: list[Clients] = []

    def make_clients(session: Any) -> Clients:
        if made:
            assert first_read.wait(MEET_WITHIN_SECONDS), "every role was assumed before any account was read"
        clients = Clients(session)
        clients.client("cloudtrail", HOME).meta.events.register(
            "before-call.cloudtrail.DescribeTrails", lambda **_: first_read.set()
        )
        made.append(clients)
        return clients

    args = _args("--accounts", str(inventory), "--region", HOME, "--max-accounts", "1")
    result = audit_command.run(
        args, clients=Clients(), region=HOME, identity=IDENTITY, deadline=Deadline(), make_clients=make_clients
    )
    assert result.accounts == ("111111111111", "222222222222") and not result.errors


def test_an_account_whose_role_cannot_be_assumed_fails_alone(tmp_path: Any, aws: None) -> None:
    inventory = _inventory(tmp_path, ("111111111111", "222222222222"))

    def make_clients(session: Any) -> Clients:
        if session.get_credentials().access_key and not made:
            made.append(session)
            raise AwsCallFailed("AccessDenied", "AssumeRole", "cannot assume role Audit")
        return Clients(session)

    made: list[Any] = []
    # One role at a time: the first one asked is the first account's, whichever thread the pool has.
    args = _args("--accounts", str(inventory), "--region", HOME, "--max-accounts", "1")
    result = audit_command.run(
        args, clients=Clients(), region=HOME, identity=IDENTITY, deadline=Deadline(), make_clients=make_clients
    )
    (error,) = result.errors
    assert (error.account, error.region, error.code) == ("111111111111", "", "AccessDenied")
    assert error.reason == "account 111111111111: AccessDenied: cannot assume role Audit"
    assert result.accounts == ("222222222222",) and "111111111111" not in result.clients
    assert {f.account for f in result.findings} == {"222222222222"}


@pytest.mark.parametrize("accounts", [1, 2])
def test_an_accounts_clients_are_let_go_once_it_is_read(world: seeding.World, accounts: int) -> None:
    trail("own", IsMultiRegionTrail=False)
    trail("there", IsMultiRegionTrail=False, region=OTHER)
    archive, session = _log_archive()
    everyone = [Meeting({}), Meeting({}, session)][:accounts]
    targets = [
        audit.Target(account, clients) for account, clients in zip((seeding.ACCOUNT, archive), everyone, strict=False)
    ]
    result = run(everyone[0], regions=(HOME, OTHER), targets=targets)
    assert not result.errors and len(result.accounts) == accounts
    gc.collect()
    alive = [[c.meta.service_model.service_name for c in clients.built] for clients in everyone]
    # A thousand accounts' clients held to the end would take gigabytes: none is left once the account's
    # trails and log buckets are read.
    assert alive == [[]] * accounts


def test_an_accounts_own_log_bucket_is_listed_and_read_while_its_trails_are(world: seeding.World) -> None:
    # The account's ListBuckets waits for its trail's GetTrailStatus: they meet only if made at once, in the
    # account's turn, not in a round of its own after every account's trails.
    trail("own", IsMultiRegionTrail=False)
    meeting = FirstMeeting(2, timeout=MEET_WITHIN_SECONDS)  # the world's other trails are read after, paced
    clients = Meeting({("s3", "ListBuckets"): meeting, ("cloudtrail", "GetTrailStatus"): meeting})
    result = run(clients, home_region=HOME)
    assert not result.errors
    assert any(f.resource.startswith("arn:aws:s3:::") for f in result.findings)  # its bucket judged


def test_a_bucket_read_in_its_owners_turn_is_judged_as_one_read_after(world: seeding.World) -> None:
    trail("own", IsMultiRegionTrail=False)
    trail("there", IsMultiRegionTrail=False, region=OTHER)
    archive, session = _log_archive()
    boto3.client("cloudtrail", region_name=HOME).create_trail(Name="archived", S3BucketName="log-archive-bucket")

    def audited(**kw: Any) -> list[Any]:
        targets = [audit.Target(seeding.ACCOUNT, Clients()), audit.Target(archive, Clients(session))]
        result = run(targets[0].clients, regions=(HOME, OTHER), targets=targets, **kw)
        assert not result.errors
        return sorted((f.control, f.resource, f.region, f.status, f.reason) for f in result.findings)

    in_turn, after = audited(home_region=HOME), audited()
    assert in_turn == after
    assert any("log-archive-bucket" in resource for _, resource, *_ in in_turn)


def test_a_run_that_ends_early_does_not_wait_for_the_roles_not_yet_asked(
    tmp_path: Any, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [f"{300000000000 + n}" for n in range(20)]
    inventory = _inventory(tmp_path, ids)
    made: list[Any] = []
    started, release = threading.Event(), threading.Event()

    def make_clients(session: Any) -> Clients:  # the first role waits until the run is interrupted
        made.append(session)
        started.set()
        assert release.wait(MEET_WITHIN_SECONDS)
        return Clients(session)

    def interrupted(*_: Any, **__: Any) -> None:  # once the first role is being assumed
        assert started.wait(MEET_WITHIN_SECONDS)
        release.set()
        raise KeyboardInterrupt

    monkeypatch.setattr(audit_command.judge, "run", interrupted)
    args = _args("--accounts", str(inventory), "--region", HOME, "--max-accounts", "1")
    with pytest.raises(KeyboardInterrupt):
        audit_command.run(
            args, clients=Clients(), region=HOME, identity=IDENTITY, deadline=Deadline(), make_clients=make_clients
        )
    assert len(made) == 1  # the role being assumed was let finish; the 19 not yet asked were dropped

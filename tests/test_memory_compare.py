"""The audit's memory between runs (`audit/memory.py`): the set of failures a run keeps, how it is written to
its 4 KB parameter and read back, and what a run tells as changed against it.

Pure, no AWS: a run here is what `track` does around its two calls, `compare` against the decoded parameter,
then `encode` of what the change says to remember. The scope a run judged (standards x accounts x regions)
decides what a remembered failure has become: passing again, still failing, kept unjudged (a read failed),
kept outside (not looked at this time), or first audited (a place no audit looked at before)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from trailkeeper.audit import memory
from trailkeeper.audit.facts import Status
from trailkeeper.audit.findings import Audit, AuditError, Finding
from trailkeeper.audit.memory import Change, Remembered, Unit

A, B = "111111111111", "222222222222"
EAST, WEST, SOUTH = "us-east-1", "eu-west-1", "ap-south-1"
BUCKET = "arn:aws:s3:::audit-logs"  # a log bucket's ARN names no account or region
ONLY_EAST: Mapping[str, tuple[str, ...]] = {A: (EAST,)}
BOTH: Mapping[str, tuple[str, ...]] = {A: (EAST, WEST)}


def trail(name: str, account: str = A, region: str = EAST) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


def finding(
    resource: str,
    status: Status = "FAIL",
    *,
    standard: str = "fsbp",
    control: str = "CloudTrail.4",
    account: str = A,
    region: str = EAST,
) -> Finding:
    return Finding(control, standard, status, resource, account, region, "title", f"{control} fails", "remedy")


def key(found: Finding) -> str:
    return f"{found.standard} {found.control} {found.where}"


def error(account: str, region: str, code: str = "AccessDeniedException") -> AuditError:
    return AuditError(account, region, code, "denied")


def error_key(account: str, region: str, code: str = "AccessDeniedException") -> str:
    return f"error {account} {region or '-'} {code}"


def audit(
    *found: Finding,
    errors: tuple[AuditError, ...] = (),
    scope: Mapping[str, tuple[str, ...]] = ONLY_EAST,
    standards: tuple[str, ...] = ("fsbp",),
    accounts: tuple[str, ...] = (),
) -> Audit:
    """One run's result: `scope` is each audited account's regions (an account in `accounts` but not in
    `scope` could not be audited at all)."""
    regions = tuple(sorted({region for regions in scope.values() for region in regions}))
    return Audit(standards, regions, found, errors, accounts or tuple(scope), scope=dict(scope))


def units(scope: Mapping[str, tuple[str, ...]], standards: tuple[str, ...] = ("fsbp",)) -> frozenset[Unit]:
    return frozenset(
        (s, account, region) for s in standards for account, regions in scope.items() for region in regions
    )


def remembered(keys: Iterable[str], scope: frozenset[Unit] | None, limit: int = memory.VALUE_LIMIT) -> Remembered:
    """The memory as the next run reads it from the parameter (scope None: one written before scopes were)."""
    decoded = memory.decode(memory.encode(keys, limit, scope))
    assert decoded is not None
    return decoded


def against(previous: Remembered | None, now: Audit) -> Change | None:
    return memory.compare(previous, memory.failing(now), memory.Judged.of(now))


def run(value: str, now: Audit) -> tuple[Change | None, str]:
    """One scheduled run against the parameter's `value`: what it tells, and the parameter's value after it."""
    change = against(memory.decode(value), now)
    if change is None:
        return None, value
    kept = change.remember if change.remember is not None else memory.failing(now)
    return change, memory.encode(kept, scope=change.scope)


T1, T2 = finding(trail("t1")), finding(trail("t2"))
WEST_TRAIL = finding(trail("w", region=WEST), region=WEST)
B_TRAIL = finding(trail("b", account=B), account=B)
CIS = finding(trail("t1"), standard="cis-6.0", control="3.5")
LOGS = finding(BUCKET, control="CloudTrail.7")
ACCOUNT_WEST = finding(f"AWS::::Account:{A}", control="CloudTrail.3", region=WEST)
DENIED_EAST, DENIED_WEST, DENIED_ACCOUNT = error_key(A, EAST), error_key(A, WEST), error_key(A, "")


def passing(found: Finding) -> Finding:
    return finding(found.resource, "PASS", standard=found.standard, control=found.control, region=found.region)


def unjudged(found: Finding) -> Finding:
    return finding(found.resource, "NOT_AVAILABLE", standard=found.standard, control=found.control)


# --- the keys: one per failing finding and per read that failed ------------------------------------------


@pytest.mark.parametrize(
    ("failed", "expected"),
    [
        (error(A, EAST), f"error {A} us-east-1 AccessDeniedException"),
        (error(A, ""), f"error {A} - AccessDeniedException"),  # the whole account could not be read
        (error("", EAST, "ExpiredToken"), "error - us-east-1 ExpiredToken"),
    ],
)
def test_a_read_that_failed_is_remembered_by_account_region_and_code_with_dashes_for_none(
    failed: AuditError, expected: str
) -> None:
    assert memory.failing(audit(errors=(failed,))) == {expected: "denied"}


@pytest.mark.parametrize(
    ("remembered_key", "expected"),
    [
        (key(T1), ("fsbp", A, EAST)),
        (key(CIS), ("cis-6.0", A, EAST)),
        (key(ACCOUNT_WEST), ("fsbp", A, WEST)),
        (DENIED_WEST, (None, A, WEST)),
        (DENIED_ACCOUNT, (None, A, "-")),
        (key(LOGS), None),  # a log bucket's ARN does not say
        ("fsbp CloudTrail.4", None),
    ],
)
def test_a_remembered_key_says_where_it_was_judged(
    remembered_key: str, expected: tuple[str | None, str, str] | None
) -> None:
    assert memory.unit_of(remembered_key) == expected


# --- the parameter's value: the digest, the scope, as many keys as fit -----------------------------------

# A value this release writes for {T1, DENIED_WEST} over fsbp in A's us-east-1 and eu-west-1. A deployed stack's
# parameter holds such a value when the function is updated: the same failures must still read as unchanged.
WRITTEN = (
    '{"version":2,"digest":"2035703515882ee12806372a3dbc638349b773bd8ea7031d93f49c2fe5dd2939","count":2,"kept":2,'
    '"keys":"eNpNjEEKgCAQAO+9Yj9gEXTaW1Q/6AObbiCIyq5Szw87OccZGBZJAnMHcDUPazEzrNay6s7Rsztey7n4FIdbrwxbSNWdQj6MC5BEpEfRNlm'
    'axKqGqU2wf+MfJ6rOlw+RKShC","scope":"eNpLK04qUDBEAgqppbrlqcUluoZcaRhypcW6qYkgOQCang7B"}'
)


def test_a_value_written_before_an_update_reads_back_and_the_same_failures_are_unchanged() -> None:
    previous = memory.decode(WRITTEN)
    wrote = frozenset({f"fsbp CloudTrail.4 arn:aws:cloudtrail:us-east-1:{A}:trail/audit", DENIED_WEST})
    assert previous == Remembered(memory.digest(wrote), 2, wrote, units(BOTH))
    assert memory.compare(previous, dict.fromkeys(wrote, "reason")) is None


def test_the_scope_is_remembered_beside_the_failures() -> None:
    scope = units({A: (EAST, WEST), B: (EAST,)}, ("fsbp", "cis-6.0"))
    assert remembered([key(T1)], scope) == Remembered(memory.digest([key(T1)]), 1, frozenset({key(T1)}), scope)


def _many_accounts(count: int) -> frozenset[Unit]:
    return units({f"{n:012d}": (EAST, WEST, SOUTH) for n in range(count)}, ("fsbp", "cis-6.0"))


def test_a_scope_is_recorded_while_it_takes_at_most_half_the_value() -> None:
    scope = _many_accounts(40)
    packed = json.loads(memory.encode([], scope=scope))["scope"]
    half = 2 * len(packed)  # the packed scope is exactly half of this limit
    assert remembered([key(T1)], scope, half) == Remembered(memory.digest([key(T1)]), 1, frozenset({key(T1)}), scope)
    over = remembered([key(T1)], scope, half - 2)  # half of it is one character short of the scope
    assert over == Remembered(memory.digest([key(T1)]), 1, frozenset({key(T1)}), None)  # unknown, not unreadable


def test_a_scope_too_large_for_the_value_is_read_back_as_unknown_and_the_failures_still_kept() -> None:
    value = memory.encode([key(T1), key(T2)], scope=_many_accounts(600))
    assert len(value) <= memory.VALUE_LIMIT
    assert memory.decode(value) == Remembered(memory.digest([key(T1), key(T2)]), 2, frozenset({key(T1), key(T2)}), None)


LONG = [  # trail names that hardly compress: each key takes a couple of hundred characters of the value
    key(finding(trail("".join(hashlib.sha256(f"{n}-{part}".encode()).hexdigest() for part in range(4)))))
    for n in range(3)
]


@pytest.mark.parametrize(("limit", "kept"), [(300, 0), (520, 1), (710, 2), (memory.VALUE_LIMIT, 3)])
def test_as_many_keys_are_kept_as_fit_the_limit_the_first_ones_in_sorted_order(limit: int, kept: int) -> None:
    value = memory.encode(LONG, limit)
    assert len(value) <= limit
    assert memory.decode(value) == Remembered(memory.digest(LONG), 3, frozenset(sorted(LONG)[:kept]))


@pytest.mark.parametrize("limit", [520, 710, memory.VALUE_LIMIT])
def test_a_value_exactly_as_long_as_the_limit_fits(limit: int) -> None:
    value = memory.encode(LONG, limit)
    assert memory.encode(LONG, len(value)) == value


def test_nothing_failing_is_remembered_as_an_empty_set_that_reads_back() -> None:
    assert remembered([], units(ONLY_EAST)) == Remembered(memory.digest([]), 0, frozenset(), units(ONLY_EAST))


def _value(**fields: object) -> str:
    document = json.loads(memory.encode([key(T1), key(T2)], scope=units(ONLY_EAST)))
    return json.dumps({**document, **fields})


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (_value(version=3), "not a remembered audit (its version or counts do not hold)"),
        (_value(kept=1), "not a remembered audit (its version or counts do not hold)"),
        (_value(count=1), "not a remembered audit (its version or counts do not hold)"),
        ("not json", "not a remembered audit (JSONDecodeError: Expecting value: line 1 column 1 (char 0))"),
        (_value(scope=None, digest=None, count="two"), "not a remembered audit (ValueError: invalid literal for int()"),
    ],
)
def test_a_value_not_ours_is_refused_saying_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError) as refused:
        memory.decode(value)
    assert str(refused.value).startswith(reason)


def test_keys_edited_outside_base64_are_refused_not_read_as_something_else() -> None:
    packed = json.loads(_value())["keys"]
    with pytest.raises(ValueError, match=r"^not a remembered audit \(Error: "):
        memory.decode(_value(keys=packed[:8] + "*" + packed[8:]))


# --- what a run tells against the memory -------------------------------------------------------------------


def test_a_first_run_tells_every_failure_and_remembers_the_scope_it_judged() -> None:
    now = audit(T1, B_TRAIL, passing(T2), scope={A: (EAST, WEST), B: (EAST,)})
    assert against(None, now) == Change(
        (key(T1), key(B_TRAIL)), (), None, 2, scope=units({A: (EAST, WEST), B: (EAST,)})
    )
    assert against(None, audit(passing(T1))) is None  # nothing fails: nothing to tell


def test_runs_tell_a_change_once_and_after_everything_passes_a_new_failure_is_newly_failing() -> None:
    told, value = run(memory.NOTHING_YET, audit(T1))
    assert told is not None and told.newly_failing == (key(T1),) and told.before is None
    assert run(value, audit(T1)) == (None, value)  # the same failures: nothing told, nothing written
    told, value = run(value, audit(passing(T1)))
    assert told is not None and told.passing_again == (key(T1),) and told.remember == frozenset()
    assert run(value, audit(passing(T1))) == (None, value)  # the empty set reads back: nothing changed
    told, _ = run(value, audit(T2))
    assert told is not None and (told.newly_failing, told.unknown) == ((key(T2),), 0)


def test_the_same_failures_over_a_wider_scope_are_remembered_but_not_told() -> None:
    previous = remembered([key(T1)], units(ONLY_EAST))
    grew = against(previous, audit(T1, scope=BOTH))
    assert grew == Change(
        (),
        (),
        1,
        1,
        scope_change="regions eu-west-1 audited for the first time",
        remember=frozenset({key(T1)}),
        scope=units(BOTH),
        exact=True,
        changed=False,
    )
    assert not grew.tells
    assert against(previous, audit(T1)) is None


# Each row: what was remembered (keys, scope: None when not recorded), this run, and what it tells.
SCENARIOS = [
    pytest.param([T1], ONLY_EAST, audit(passing(T1)), {"passing_again": (key(T1),)}, id="a failure that passes now"),
    pytest.param(
        [T1], ONLY_EAST, audit(T1, T2), {"newly_failing": (key(T2),)}, id="a new failure where the run looked before"
    ),
    pytest.param([T1], ONLY_EAST, audit(), {"passing_again": (key(T1),)}, id="a trail gone where the run looked"),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(unjudged(T1), T2),
        {"newly_failing": (key(T2),), "kept_unjudged": 1},
        id="a failure not available now is kept unjudged",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(errors=(error(A, EAST),)),
        {"newly_failing": (DENIED_EAST,), "kept_unjudged": 1},
        id="a read failed where the failure was",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(errors=(error(A, ""),)),
        {"newly_failing": (DENIED_ACCOUNT,), "kept_unjudged": 1},
        id="the whole account could not be read",
    ),
    pytest.param(
        [T1],
        BOTH,
        audit(errors=(error(A, WEST),), scope=BOTH),
        {"newly_failing": (DENIED_WEST,), "passing_again": (key(T1),)},
        id="a read failed in another region only",
    ),
    pytest.param(
        [WEST_TRAIL],
        BOTH,
        audit(errors=(error(A, WEST),)),
        {"newly_failing": (DENIED_WEST,), "kept_outside": 1, "scope_change": "regions eu-west-1 not audited this time"},
        id="a read failed in a region the run did not judge",
    ),
    pytest.param(
        [WEST_TRAIL, T1],
        BOTH,
        audit(passing(T1)),
        {"passing_again": (key(T1),), "kept_outside": 1, "scope_change": "regions eu-west-1 not audited this time"},
        id="a region left out",
    ),
    pytest.param(
        [T1, CIS],
        units(ONLY_EAST, ("fsbp", "cis-6.0")),
        audit(T1, T2),
        {"newly_failing": (key(T2),), "kept_outside": 1, "scope_change": "standards cis-6.0 not judged this time"},
        id="a standard left out",
    ),
    pytest.param(
        [LOGS], ONLY_EAST, audit(), {"passing_again": (key(LOGS),)}, id="a log bucket gone from the whole scope"
    ),
    pytest.param(
        [LOGS],
        BOTH,
        audit(T1),
        {"newly_failing": (key(T1),), "kept_outside": 1, "scope_change": "regions eu-west-1 not audited this time"},
        id="a log bucket gone from a narrower run",
    ),
    pytest.param(
        [LOGS],
        ONLY_EAST,
        audit(errors=(error(A, EAST),)),
        {"newly_failing": (DENIED_EAST,), "kept_outside": 1},
        id="a log bucket gone while a read failed",
    ),
    pytest.param(
        [LOGS],
        None,
        audit(T1),
        {"newly_failing": (key(T1),), "kept_outside": 1},
        id="a log bucket gone where the scope remembered is unknown",
    ),
    pytest.param(
        [LOGS],
        BOTH,
        audit(passing(LOGS)),
        {"passing_again": (key(LOGS),), "scope_change": "regions eu-west-1 not audited this time"},
        id="a log bucket judged passing by a narrower run",
    ),
    pytest.param(
        [DENIED_EAST], ONLY_EAST, audit(), {"passing_again": (DENIED_EAST,)}, id="a read error gone where it was"
    ),
    pytest.param(
        [DENIED_ACCOUNT], ONLY_EAST, audit(), {"passing_again": (DENIED_ACCOUNT,)}, id="an account's read error gone"
    ),
    pytest.param(
        [error_key(B, EAST)],
        {A: (EAST,), B: (EAST,)},
        audit(T1),
        {"newly_failing": (key(T1),), "kept_outside": 1, "scope_change": f"accounts {B} not audited this time"},
        id="a read error in an account not audited this time",
    ),
    pytest.param(
        [DENIED_WEST],
        BOTH,
        audit(T1),
        {"newly_failing": (key(T1),), "kept_outside": 1, "scope_change": "regions eu-west-1 not audited this time"},
        id="a read error in a region not audited this time",
    ),
    pytest.param(
        [DENIED_EAST],
        ONLY_EAST,
        audit(errors=(error(A, EAST, "ThrottlingException"),)),
        {"newly_failing": (error_key(A, EAST, "ThrottlingException"),), "passing_again": (DENIED_EAST,)},
        id="a read that fails again with another code",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(T1, WEST_TRAIL, scope=BOTH),
        {"first_audited": (key(WEST_TRAIL),), "scope_change": "regions eu-west-1 audited for the first time"},
        id="a failure in a region never audited",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(T1, B_TRAIL, scope={A: (EAST,), B: (EAST,)}),
        {"first_audited": (key(B_TRAIL),), "scope_change": f"accounts {B} audited for the first time"},
        id="a failure in an account never audited",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(T1, CIS, standards=("fsbp", "cis-6.0")),
        {"first_audited": (key(CIS),), "scope_change": "standards cis-6.0 judged for the first time"},
        id="a failure under a standard never judged",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(T1, errors=(error(A, WEST),), scope=BOTH),
        {"first_audited": (DENIED_WEST,), "scope_change": "regions eu-west-1 audited for the first time"},
        id="a read error in a region never audited",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(T1, ACCOUNT_WEST, scope=BOTH),
        {"first_audited": (key(ACCOUNT_WEST),), "scope_change": "regions eu-west-1 audited for the first time"},
        id="an account-level failure in a region never audited",
    ),
    pytest.param(
        [T1],
        BOTH,
        audit(T1, ACCOUNT_WEST, scope=BOTH),
        {"newly_failing": (key(ACCOUNT_WEST),)},
        id="an account-level failure in a region audited before",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(T1, errors=(error(A, ""),)),
        {"newly_failing": (DENIED_ACCOUNT,)},
        id="an account's read error where the account was audited",
    ),
    pytest.param(
        [T1],
        ONLY_EAST,
        audit(T1, LOGS),
        {"newly_failing": (key(LOGS),)},
        id="a new log bucket failure is newly failing",
    ),
    pytest.param(
        [T1], None, audit(T1, WEST_TRAIL, scope=BOTH), {"newly_failing": (key(WEST_TRAIL),)}, id="scope unknown before"
    ),
    pytest.param(
        [error_key(B, ""), T1],
        ONLY_EAST,
        audit(T1, T2, errors=(error(B, ""),), accounts=(A, B)),
        {"newly_failing": (key(T2),)},
        id="an account that could not be audited, still failing",
    ),
]


@pytest.mark.parametrize(("before", "scope", "now", "told"), SCENARIOS)
def test_what_a_run_tells_and_keeps_depends_on_what_it_judged(
    before: list[Finding | str],
    scope: Mapping[str, tuple[str, ...]] | frozenset[Unit] | None,
    now: Audit,
    told: dict[str, object],
) -> None:
    keys = frozenset(k if isinstance(k, str) else key(k) for k in before)
    previous_scope = scope if scope is None or isinstance(scope, frozenset) else units(scope)
    current = memory.failing(now)
    passing_again = told.get("passing_again", ())
    assert isinstance(passing_again, tuple)
    remember = frozenset(current) | (keys - set(passing_again))
    judged = memory.scope_of(now)
    expected: dict[str, Any] = {
        "newly_failing": (),
        "passing_again": (),
        "before": len(keys),
        "after": len(current),
        "remember": remember,
        "scope": judged if previous_scope is None else previous_scope | judged,
        "exact": True,
        "changed": remember != keys,
        **told,
    }
    assert against(remembered(keys, previous_scope), now) == Change(**expected)


@pytest.mark.parametrize(
    ("before", "now", "said"),
    [
        ({A: (EAST,)}, audit(LOGS, standards=("fsbp",)), ""),
        (
            units(ONLY_EAST, ("fsbp", "cis-5.0", "cis-6.0")),
            audit(LOGS),
            "standards cis-5.0, cis-6.0 not judged this time",
        ),
        (
            BOTH,
            audit(LOGS, scope={A: (EAST,), B: (EAST,)}),
            f"accounts {B} audited for the first time; regions eu-west-1 not audited this time",
        ),
        (
            ONLY_EAST,
            audit(LOGS, scope={A: (EAST, WEST, SOUTH)}),
            "regions ap-south-1, eu-west-1 audited for the first time",
        ),
        (
            {A: (EAST,), B: (WEST,)},
            audit(LOGS, scope={A: (WEST,), B: (EAST,)}),
            "2 account-region(s) left out, 2 new, per account",
        ),
    ],
)
def test_a_change_of_scope_is_said_in_words(
    before: Mapping[str, tuple[str, ...]] | frozenset[Unit], now: Audit, said: str
) -> None:
    scope = before if isinstance(before, frozenset) else units(before)
    change = against(remembered([], scope), now)
    assert change is not None and change.scope_change == said


def test_failures_past_the_last_one_remembered_are_counted_as_unknown_not_as_new() -> None:
    keys = [key(finding(trail(f"t-{n:03d}"))) for n in range(60)]
    previous = remembered(keys, None, 300)
    last = max(previous.keys)
    assert not previous.complete and last in keys
    between = key(finding(trail("t-000a")))  # sorts between the first two kept keys
    beyond = key(finding(trail("t-999")))
    current = dict.fromkeys([*keys[1:], between, beyond], "reason")
    change = memory.compare(previous, current)
    past = sum(1 for k in current if k > last)
    assert change == Change((between,), (keys[0],), 60, 61, unknown=past, remember=frozenset(current), changed=True)
    assert past == 60 - len(previous.keys) + 1  # the last kept key itself is known

"""The Lambda audit's edges (`audit/request.py`, `audit/answer.py`): each refusal's exact reason, the
bounded document filled to its limit and no further (errors and findings alike), the counts a metric and a
log line carry, and `answer.run` auditing exactly what it is asked (regions, standards, tags, partition,
where the buckets are listed, the deadline)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from botocore.exceptions import ClientError
from devkit import world as seeding
from devkit.recording import RecordingClients

from trailkeeper.audit import answer, controls, judge
from trailkeeper.audit import request as audit_request
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Options, Status
from trailkeeper.audit.findings import Audit, AuditError, Finding
from trailkeeper.audit.reads import Target
from trailkeeper.aws.calls import Deadline
from trailkeeper.errors import MalformedEvent
from trailkeeper.trail.tags import KEY_MAX

ACCOUNT, HOME, OTHER = seeding.ACCOUNT, seeding.HOME, "eu-west-1"


def refusal(event: Any) -> str:
    with pytest.raises(MalformedEvent) as raised:
        audit_request.parse(event)
    return str(raised.value)


# --- the request: each refusal says the field, the value and the rule, exactly ------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"action": "audt"}, "action='audt': must be 'audit'"),
        ({"standards": ["fsbp"]}, "action=None: must be 'audit'"),
        (
            {"action": "audit", "fix": "yes"},
            "fix='yes': the Lambda's audit is read-only (fixes are `trailkeeper audit --fix`, run by a person, "
            'or a declared state applied with {"action": "apply"})',
        ),
        (
            {"action": "audit", "required_tags": "owner"},
            "required_tags='owner': must be a non-empty list of strings (or left out)",
        ),
        (
            {"action": "audit", "required_tags": ["owner", 7]},
            "required_tags=['owner', 7]: every item must be a string, not 7",
        ),
        (
            {"action": "audit", "required_tags": [""]},
            f"required_tags: '' must be 1-{KEY_MAX} characters, not starting aws:",
        ),
        (
            {"action": "audit", "required_tags": ["AWS:Owner"]},
            f"required_tags: 'AWS:Owner' must be 1-{KEY_MAX} characters, not starting aws:",
        ),
        (
            {"action": "audit", "standards": ["pci"], "regions": ["mars-1"]},
            "standards: 'pci' is not a standard (fsbp, cis-5.0, cis-6.0, delivery); "
            "regions: 'mars-1' is not a region CloudTrail has",
        ),
    ],
)
def test_a_refusal_is_exactly_each_problem_joined_by_semicolons(event: Any, reason: str) -> None:
    assert refusal(event) == reason


@pytest.mark.parametrize("key", ["a", "k" * KEY_MAX, "owner", "Aws-owner"])
def test_a_required_tag_key_of_1_to_128_characters_not_reserved_is_taken(key: str) -> None:
    asked = audit_request.parse({"action": "audit", "required_tags": [key]})
    assert asked.required_tags == (key,)


@pytest.mark.parametrize(
    ("problems", "tail"),
    [
        (audit_request.MAX_PROBLEMS - 1, None),
        (audit_request.MAX_PROBLEMS, None),
        (audit_request.MAX_PROBLEMS + 1, "and 1 more"),
    ],
)
def test_up_to_max_problems_are_all_named_and_more_are_counted(problems: int, tail: str | None) -> None:
    reason = refusal({"action": "audit", **{f"k{n}": 1 for n in range(problems)}})
    parts = reason.split("; ")
    named = min(problems, audit_request.MAX_PROBLEMS)
    assert parts[:named] == [
        f"'k{n}': not a field of an audit (it takes action, standards, regions, required_tags)" for n in range(named)
    ]
    assert parts[named:] == ([tail] if tail else [])


# --- the counts a log line and the metrics carry ---------------------------------------------------------


def finding(control: str, status: Status, region: str = HOME, standard: str = "fsbp", name: str = "t") -> Finding:
    resource = f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"
    return Finding(control, standard, status, resource, ACCOUNT, region, "title", "reason", "remedy")


DENIED = AuditError(ACCOUNT, OTHER, "AccessDeniedException", "denied")


def test_the_log_lines_counts_are_the_audits() -> None:
    result = Audit(
        ("fsbp",),
        (HOME,),
        (
            finding("CloudTrail.1", FAIL),
            finding("CloudTrail.4", FAIL, name="u"),
            finding("CloudTrail.2", NOT_AVAILABLE),
        ),
        (DENIED,),
    )
    assert answer.summary_line(result) == {"findings": 3, PASS: 0, FAIL: 2, NOT_AVAILABLE: 1, "errors": 1}


def test_without_failed_reads_every_control_asked_has_a_count_by_its_id_in_its_standard() -> None:
    counts = answer.control_counts(Audit(("fsbp", "cis-6.0"), (HOME,), (finding("CloudTrail.4", FAIL),), ()))
    expected = {
        (standard, str(control.id_in(standard))): 0 for control, standard in controls.asked(["fsbp", "cis-6.0"])
    }
    assert counts == {**expected, ("fsbp", "CloudTrail.4"): 1}
    assert ("fsbp", "CloudTrail.1") in counts and ("cis-6.0", "4.1") in counts


def test_a_control_left_unjudged_does_not_hide_the_controls_judged_after_it() -> None:
    result = Audit(
        ("fsbp",),
        (HOME, OTHER),
        (
            finding("CloudTrail.1", NOT_AVAILABLE, OTHER),  # unjudged where the read failed: no count
            finding("CloudTrail.4", PASS),
            finding("CloudTrail.2", FAIL),
        ),
        (DENIED,),
    )
    assert answer.control_counts(result) == {("fsbp", "CloudTrail.4"): 0, ("fsbp", "CloudTrail.2"): 1}


# --- bounded: as much as fits with room for the largest counts, and not one item more ----------------------


def _size(value: Any) -> int:
    return len(json.dumps(value).encode())


def _room(whole: dict[str, Any], errors: int, findings: list[int], limit: int) -> int:
    """The limit a cut document keeping the first `errors` errors and `findings` (indexes) needs: its size with
    every `dropped` count at its largest (every finding, every error), and a separator counted for each item
    kept, the first of each list too."""
    summary = whole["summary"]
    dropped: dict[str, Any] = {
        "findings": summary["findings"],
        **{status: summary["findings"] for status in (PASS, FAIL, NOT_AVAILABLE)},
        "errors": summary["errors"],
        "reason": answer._reason(limit),
    }
    kept = {
        **whole,
        "findings": [whole["findings"][i] for i in sorted(findings)],
        "errors": whole["errors"][:errors],
        "dropped": dropped,
    }
    return _size(kept) + 2 * (bool(errors) + bool(findings))


def _assert_filled(result: Audit, limit: int) -> None:
    """Cut to `limit`: the errors in order while they fit, then the findings by rank (the audit's order kept),
    `dropped` counting the rest; what is kept fits (`_room`), and the next error or finding would not."""
    whole = result.to_dict()
    document = answer.bounded(result, limit)
    jsonschema.validate(document, answer.SCHEMA)
    assert _size(document) <= limit
    if _size(whole) <= limit:
        assert document == whole
        return
    errors, kept_errors = whole["errors"], document["errors"]
    assert kept_errors == errors[: len(kept_errors)]
    ranked = sorted(range(len(whole["findings"])), key=lambda i: answer.by_status(whole["findings"][i]))
    kept = ranked[: len(document["findings"])]
    assert document["findings"] == [whole["findings"][i] for i in sorted(kept)]
    left_out = [f for i, f in enumerate(whole["findings"]) if i not in kept]
    counted: dict[str, Any] = {
        "findings": len(left_out),
        **{status: sum(1 for f in left_out if f["status"] == status) for status in (PASS, FAIL, NOT_AVAILABLE)},
        "errors": len(errors) - len(kept_errors),
        "reason": answer._reason(limit),
    }
    assert document["dropped"] == counted
    e = len(kept_errors)
    if e or kept:
        assert _room(whole, e, kept, limit) <= limit
    if e < len(errors):
        assert _room(whole, e + 1, kept, limit) > limit
    elif len(kept) < len(ranked):
        assert _room(whole, e, ranked[: len(kept) + 1], limit) > limit


def _boundaries(result: Audit) -> list[int]:
    """The limits where one more item starts to fit, and one byte under each."""
    whole = result.to_dict()
    ranked = sorted(range(len(whole["findings"])), key=lambda i: answer.by_status(whole["findings"][i]))
    found = {_size(whole) - 1, _size(whole)}
    for probe in (1_000, 10_000):  # the room depends on the limit through its digits, in the reason
        rooms = [_room(whole, e, [], probe) for e in range(1, len(whole["errors"]) + 1)]
        rooms += [_room(whole, len(whole["errors"]), ranked[:k], probe) for k in range(1, len(ranked) + 1)]
        found |= {limit + d for limit in rooms for d in (-1, 0) if len(str(limit + d)) == len(str(probe))}
    return sorted(found)


def _findings(count: int) -> tuple[Finding, ...]:
    statuses: tuple[Status, ...] = (PASS, FAIL, NOT_AVAILABLE, PASS, FAIL)
    return tuple(
        Finding(
            "CloudTrail.4",
            "fsbp",
            statuses[i % 5],
            f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/t-{i:03d}",
            ACCOUNT,
            HOME,
            "title",
            "reason " * (20 + i % 7),
            "remedy",
        )
        for i in range(count)
    )


def _errors(count: int, words: int) -> tuple[AuditError, ...]:
    return tuple(
        AuditError(ACCOUNT, f"r-{i:03d}", "AccessDeniedException", "denied " * (words + i % 3)) for i in range(count)
    )


@pytest.mark.parametrize(
    ("findings", "errors"),
    [(_findings(40), ()), ((), _errors(60, 15)), (_findings(30), _errors(8, 60))],
    ids=["findings", "errors", "both"],
)
def test_a_cut_report_keeps_every_item_that_fits_and_not_one_more(
    findings: tuple[Finding, ...], errors: tuple[AuditError, ...]
) -> None:
    result = Audit(("fsbp",), (HOME,), findings, errors, (ACCOUNT,))
    limits = _boundaries(result)
    assert len([limit for limit in limits if limit >= 10_000]) > 20  # five digits, said in the reason: 1 more than None
    for limit in limits:
        _assert_filled(result, limit)


# --- answer.run: the audit asked, where it was asked, within its deadline ---------------------------------

ASKED = audit_request.AuditRequest(("fsbp", "cis-6.0"), None, ("owner",))


@pytest.fixture
def far(world: seeding.World) -> str:
    """A trail homed in eu-west-1, delivering to the demo bucket (so the bucket is judged from there too)."""
    return seeding.add_trail("far", OTHER)


def _run(clients: RecordingClients, **kw: Any) -> Audit:
    return answer.run([Target(ACCOUNT, clients)], ASKED, [OTHER], deadline=kw.pop("deadline", Deadline()), **kw)


def test_run_is_the_audit_the_request_asks_in_the_regions_given(far: str, clients: RecordingClients) -> None:
    result = _run(clients, partition="aws", home_region=HOME)
    expected = judge.run(
        [Target(ACCOUNT, RecordingClients())],
        [OTHER],
        standards=ASKED.standards,
        options=Options(ASKED.required_tags),
        home_region=HOME,
    )
    assert result.to_dict() == expected.to_dict()
    assert result.regions == (OTHER,) and result.standards == ("fsbp", "cis-6.0")
    tagged = [f for f in result.findings if f.control == "CloudTrail.9"]
    assert tagged and all("owner" in f.reason for f in tagged)  # the required tags reached CloudTrail.9


@pytest.mark.parametrize(
    ("partition", "prefix"), [({}, "arn:aws:s3:::"), ({"partition": "aws-us-gov"}, "arn:aws-us-gov:s3:::")]
)
def test_a_bucket_is_named_in_the_partition_given_else_aws(
    far: str, clients: RecordingClients, partition: dict[str, str], prefix: str
) -> None:
    result = _run(clients, home_region=HOME, **partition)
    buckets = [f.resource for f in result.findings if ":s3:::" in f.resource]
    assert buckets and all(resource.startswith(prefix) for resource in buckets)


@pytest.mark.parametrize(("home", "listed_in"), [({"home_region": HOME}, HOME), ({}, OTHER)])
def test_buckets_are_listed_in_the_functions_region_else_the_first_audited(
    far: str, clients: RecordingClients, home: dict[str, str], listed_in: str
) -> None:
    result = _run(clients, **home)
    assert {call.region for call in clients.named("ListBuckets")} == {listed_in}
    assert not result.errors


def test_buckets_are_judged_when_the_first_region_audited_cannot_list_them(far: str, clients: RecordingClients) -> None:
    """An opt-in region may refuse ListBuckets: asked in the function's region, the buckets are still judged."""

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListBuckets")

    clients.client("s3", OTHER).meta.events.register("before-call.s3.ListBuckets", refuse)
    result = _run(clients, home_region=HOME)
    assert not result.errors and any(f.control == "CloudTrail.6" and f.status == PASS for f in result.findings)


def test_an_expired_deadline_stops_the_reads(far: str, clients: RecordingClients) -> None:
    result = _run(clients, home_region=HOME, deadline=Deadline(0))
    assert result.errors and clients.named("DescribeTrails") == []

"""The audit's memory as a person meets it: the SNS message a change sends, word for word (its subject, its
sections, what it says it could not know), and the SSM parameter `track` reads before and writes after: what
is remembered, in which region the message goes out, and what is told when the memory cannot be read."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from devkit.recording import RecordingClients

from trailkeeper.audit import memory as audit_memory
from trailkeeper.audit.facts import Status
from trailkeeper.audit.findings import Audit, AuditError, Finding
from trailkeeper.aws.calls import Deadline

ACCOUNT = "123456789012"
HOME, OTHER = "us-east-1", "eu-west-1"
WHERE = f"account {ACCOUNT}"
TRAIL = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/audit-trail"
VALIDATION = f"fsbp CloudTrail.4 {TRAIL}"  # the keys `failing` makes: standard, control, resource
CIS = f"cis-6.0 4.2 {TRAIL}"
REASONS = {VALIDATION: "log file validation is off", CIS: "log file validation is off (CIS)"}


def _finding(
    control: str, standard: str, status: Status, reason: str = "", resource: str = TRAIL, region: str = HOME
) -> Finding:
    return Finding(control, standard, status, resource, ACCOUNT, region, "title", reason, "remedy")


# Two standards, two regions: the scope line joins both. Two controls fail, one passes.
RESULT = Audit(
    ("fsbp", "cis-6.0"),
    (HOME, OTHER),
    (
        _finding("CloudTrail.4", "fsbp", "FAIL", REASONS[VALIDATION]),
        _finding("4.2", "cis-6.0", "FAIL", REASONS[CIS]),
        _finding("CloudTrail.1", "fsbp", "PASS"),
    ),
    (),
    (ACCOUNT,),
)
SCOPE = "Standards fsbp, cis-6.0; 2 region(s): us-east-1, eu-west-1."
TAIL = [
    "Failing now, by control:",
    "  fsbp CloudTrail.4: 1 resource(s)",
    "  cis-6.0 4.2: 1 resource(s)",
    "",
    'Every finding: `trailkeeper audit --json`, or invoke the function with {"action": "audit"}.',
]
FIRST_SUBJECT = f"trailkeeper audit {WHERE}: 2 failing (first audit)"
FIRST_BODY = "\n".join(
    [
        f"First audit of {WHERE}: 2 failure(s).",
        SCOPE,
        "",
        "Newly failing (2):",
        f"  {CIS}: log file validation is off (CIS)",
        f"  {VALIDATION}: log file validation is off",
        "",
        *TAIL,
    ]
)

# --- the message, word for word ---------------------------------------------------------------------

NEW = f"fsbp CloudTrail.5 {TRAIL}"
GONE = f"fsbp CloudTrail.2 {TRAIL}"
FAR_TRAIL = f"arn:aws:cloudtrail:{OTHER}:{ACCOUNT}:trail/far"
FAR = f"fsbp CloudTrail.4 {FAR_TRAIL}"
TOLD_REASONS = {NEW: "no CloudWatch Logs", FAR: "log file validation is off", GONE: "not shown: it passes"}
SCOPE_SAID = (
    "This audit's scope differs from the last: regions eu-west-1 audited for the first time. Failures remembered "
    "where it did not look are kept, neither passing again nor forgotten; failures where no audit looked before "
    "are listed as first audited, not as newly failing."
)
UNKNOWN_SAID = (
    "The previous failures were too many to remember in full: whether 2 of today's (after the last one "
    "remembered, in sorted order) are new is not known, and some that pass again may not be listed."
)
CHANGES = {
    "everything at once": (
        audit_memory.Change(
            (NEW,),
            (GONE,),
            4,
            3,
            unknown=2,
            first_audited=(FAR,),
            kept_unjudged=1,
            kept_outside=2,
            scope_change="regions eu-west-1 audited for the first time",
            exact=True,
        ),
        f"trailkeeper audit {WHERE}: 1 newly failing, 1 passing again, 1 first audited",
        [
            f"The audit of {WHERE} changed: 3 failure(s) now, 4 before.",
            SCOPE,
            "",
            SCOPE_SAID,
            "",
            UNKNOWN_SAID,
            "",
            "Newly failing (1):",
            f"  {NEW}: no CloudWatch Logs",
            "",
            "First audited (1):",
            f"  {FAR}: log file validation is off",
            "",
            "Passing again (1):",
            f"  {GONE}",
            "",
            "1 remembered failure(s) could not be judged this time (NOT_AVAILABLE: a read failed, see the errors): "
            "kept as they were, not told as passing again.",
            "",
            "2 remembered failure(s) lie outside this audit's scope: kept, neither passing again nor forgotten.",
            "",
            *TAIL,
        ],
    ),
    "only a pass": (
        audit_memory.Change((), (GONE,), 3, 2, exact=True),
        f"trailkeeper audit {WHERE}: 0 newly failing, 1 passing again",
        [
            f"The audit of {WHERE} changed: 2 failure(s) now, 3 before.",
            SCOPE,
            "",
            "Passing again (1):",
            f"  {GONE}",
            "",
            *TAIL,
        ],
    ),
    "only a region audited for the first time": (
        audit_memory.Change((), (), 2, 3, first_audited=(FAR,), exact=True),
        f"trailkeeper audit {WHERE}: 0 newly failing, 0 passing again, 1 first audited",
        [
            f"The audit of {WHERE} changed: 3 failure(s) now, 2 before.",
            SCOPE,
            "",
            "First audited (1):",
            f"  {FAR}: log file validation is off",
            "",
            *TAIL,
        ],
    ),
    "a change among the failures not remembered": (
        audit_memory.Change((), (), 2, 2, unknown=2, exact=True),
        f"trailkeeper audit {WHERE}: 0 newly failing, 0 passing again",
        [
            f"The audit of {WHERE} changed: 2 failure(s) now, 2 before.",
            SCOPE,
            "",
            UNKNOWN_SAID,
            "",
            "What changed lies among the failures too many to remember.",
            "",
            *TAIL,
        ],
    ),
    "the first audit": (audit_memory.compare(None, REASONS), FIRST_SUBJECT, FIRST_BODY.split("\n")),
    "the first audit, the memory unreadable": (
        audit_memory.Change((CIS, VALIDATION), (), None, 2, unread="AccessDeniedException: no"),
        f"trailkeeper audit {WHERE}: 2 failing (previous audit unreadable)",
        [
            f"The audit of {WHERE}: 2 failure(s); the previous ones could not be read (AccessDeniedException: no), "
            "so every one is listed.",
            *FIRST_BODY.split("\n")[1:],
        ],
    ),
}


@pytest.mark.parametrize(("change", "subject", "lines"), CHANGES.values(), ids=CHANGES.keys())
def test_a_change_is_told_word_for_word(change: audit_memory.Change | None, subject: str, lines: list[str]) -> None:
    assert change is not None
    reasons = {**REASONS, **TOLD_REASONS}
    assert audit_memory.message(RESULT, change, reasons, WHERE) == (subject, "\n".join(lines))


PASSING = audit_memory.Change((), (GONE,), 3, 2)
READ_FAILED = (AuditError(ACCOUNT, OTHER, "AccessDeniedException", "denied"),)


@pytest.mark.parametrize(
    ("errors", "exact", "title"),
    [
        (READ_FAILED, False, "Passing again (or not judged: a read failed, see the errors) (1):"),
        (READ_FAILED, True, "Passing again (1):"),  # judged per key: a pass is a pass
        ((), False, "Passing again (1):"),  # no read failed: nothing was left unjudged
        ((), True, "Passing again (1):"),
    ],
    ids=["read failed, not per key", "read failed, per key", "not per key", "per key"],
)
def test_passing_again_says_it_may_only_be_unjudged_when_a_read_failed_and_the_comparison_was_not_per_key(
    errors: tuple[AuditError, ...], exact: bool, title: str
) -> None:
    result = Audit(RESULT.standards, RESULT.regions, RESULT.findings, errors, RESULT.accounts)
    change = audit_memory.Change(PASSING.newly_failing, PASSING.passing_again, 3, 2, exact=exact)
    _, body = audit_memory.message(result, change, {}, WHERE)
    lines = body.split("\n")
    assert lines[lines.index(f"  {GONE}") - 1] == title


def _trails(count: int) -> tuple[str, ...]:
    return tuple(f"fsbp CloudTrail.4 arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/t-{i:03d}" for i in range(count))


@pytest.mark.parametrize(
    ("count", "after_the_last_listed"),
    [
        (audit_memory.LISTED - 1, ""),
        (audit_memory.LISTED, ""),  # exactly as many as are listed: nothing more to count
        (audit_memory.LISTED + 1, "  ... and 1 more"),
        (audit_memory.LISTED + 25, "  ... and 25 more"),
    ],
    ids=["99", "100", "101", "125"],
)
def test_a_section_lists_the_first_hundred_and_counts_the_rest(count: int, after_the_last_listed: str) -> None:
    keys = _trails(count)
    change = audit_memory.Change(keys, (), None, count)
    _, body = audit_memory.message(RESULT, change, {}, WHERE)
    lines = body.split("\n")
    last = lines.index(f"  {keys[min(count, audit_memory.LISTED) - 1]}")
    assert lines[lines.index(f"Newly failing ({count}):") + 1 : last + 1] == [
        f"  {k}" for k in keys[: audit_memory.LISTED]
    ]
    assert lines[last + 1] == after_the_last_listed


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("short", ": short"),
        ("r" * audit_memory.REASON_SHOWN, ": " + "r" * audit_memory.REASON_SHOWN),
        ("r" * 1000, ": " + "r" * (audit_memory.REASON_SHOWN - 3) + "..."),  # an account-level reason: 400 shown
        ("", ""),  # no reason: the key alone
    ],
    ids=["short", "400", "1000", "none"],
)
def test_a_failures_reason_is_shown_up_to_four_hundred_characters(reason: str, shown: str) -> None:
    change = audit_memory.Change((VALIDATION,), (), None, 1)
    _, body = audit_memory.message(RESULT, change, {VALIDATION: reason}, WHERE)
    assert f"  {VALIDATION}{shown}" in body.split("\n")


@pytest.mark.parametrize(
    "where",
    [WHERE, "account " + "9" * 120, "the organization o-abcdefghij, " + "x" * 80],
    ids=["short", "long account", "long organization"],
)
def test_the_subject_is_cut_to_the_hundred_characters_sns_takes(where: str) -> None:
    change = audit_memory.Change((VALIDATION,), (), None, 1)
    subject, _ = audit_memory.message(RESULT, change, REASONS, where)
    whole = f"trailkeeper audit {where}: 1 failing (first audit)"
    assert subject == whole[:100] and len(subject) == min(len(whole), 100)


# --- track: the parameter read and written, the message sent ------------------------------------------
# Neither the memory's region nor the topic's is the process's default region (us-east-1): a call that
# forgot its region would go there, and be seen.

MEMORY_REGION, TOPIC_REGION = OTHER, "ap-southeast-2"
PARAMETER = "/trailkeeper/test/audit-state"


@pytest.fixture
def topic(clients: RecordingClients) -> str:
    """The stack as deployed with EnableAudit: the parameter as template.yaml creates it, and a topic."""
    boto3.client("ssm", region_name=MEMORY_REGION).put_parameter(
        Name=PARAMETER, Value=audit_memory.NOTHING_YET, Type="String"
    )
    return str(boto3.client("sns", region_name=TOPIC_REGION).create_topic(Name="audit")["TopicArn"])


def _track(result: Audit, clients: RecordingClients, topic: str) -> audit_memory.Change | None:
    return audit_memory.track(
        result,
        clients=clients,
        region=MEMORY_REGION,
        parameter=PARAMETER,
        topic=topic,
        where=WHERE,
        deadline=Deadline(),
    )


def _stored() -> dict[str, Any]:
    return dict(boto3.client("ssm", region_name=MEMORY_REGION).get_parameter(Name=PARAMETER)["Parameter"])


def _refuse_reads(clients: RecordingClients, code: str) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "GetParameter")

    clients.client("ssm", MEMORY_REGION).meta.events.register("before-call.ssm.GetParameter", refuse)


def test_the_first_run_sends_one_message_in_the_topics_region_and_remembers_the_failures_and_scope(
    clients: RecordingClients, topic: str
) -> None:
    change = _track(RESULT, clients, topic)
    assert change is not None and change.newly_failing == (CIS, VALIDATION)
    (published,) = clients.named("Publish")
    assert published.region == TOPIC_REGION
    assert published.params == {"TopicArn": topic, "Subject": FIRST_SUBJECT, "Message": FIRST_BODY}
    (written,) = clients.named("PutParameter")
    assert written.region == MEMORY_REGION
    stored = _stored()
    assert stored["Type"] == "String"
    remembered = audit_memory.decode(stored["Value"])
    assert remembered is not None and remembered.keys == {CIS, VALIDATION} and remembered.count == 2
    assert remembered.scope == audit_memory.scope_of(RESULT)


def test_the_same_failures_remembered_tell_nothing_and_write_nothing(clients: RecordingClients, topic: str) -> None:
    _track(RESULT, clients, topic)
    value = _stored()["Value"]
    assert _track(RESULT, clients, topic) is None
    assert len(clients.named("Publish")) == 1 and len(clients.named("PutParameter")) == 1
    assert [c.region for c in clients.named("GetParameter")] == [MEMORY_REGION, MEMORY_REGION]
    assert _stored()["Value"] == value


def test_a_missing_parameter_is_a_first_audit_and_is_created(clients: RecordingClients, topic: str) -> None:
    boto3.client("ssm", region_name=MEMORY_REGION).delete_parameter(Name=PARAMETER)
    _track(RESULT, clients, topic)
    (published,) = clients.named("Publish")
    assert published.params["Subject"] == FIRST_SUBJECT  # nothing remembered yet is not "unreadable"
    stored = _stored()
    assert stored["Type"] == "String"
    remembered = audit_memory.decode(stored["Value"])
    assert remembered is not None and remembered.keys == {CIS, VALIDATION}


@pytest.mark.parametrize(
    ("code", "why"),
    [
        (
            "AccessDeniedException",
            "AccessDeniedException: the caller (the function's role, or your credentials) may not call GetParameter: "
            "grant it (docs/iam.md)",
        ),
        (
            "UnrecognizedClientException",
            f"UnrecognizedClientException: the credentials are not valid in {MEMORY_REGION}",
        ),
        ("", "not a remembered audit (JSONDecodeError: Expecting value: line 1 column 1 (char 0))"),  # edited
    ],
    ids=["denied", "bad credentials", "edited by hand"],
)
def test_a_memory_that_cannot_be_read_tells_every_failure_and_says_why(
    clients: RecordingClients, topic: str, code: str, why: str
) -> None:
    if code:
        _refuse_reads(clients, code)
    else:
        boto3.client("ssm", region_name=MEMORY_REGION).put_parameter(
            Name=PARAMETER, Value="edited by hand", Overwrite=True
        )
    change = _track(RESULT, clients, topic)
    assert change is not None and change.unread == why
    (published,) = clients.named("Publish")
    assert published.params["Subject"] == f"trailkeeper audit {WHERE}: 2 failing (previous audit unreadable)"
    assert published.params["Message"].startswith(
        f"The audit of {WHERE}: 2 failure(s); the previous ones could not be read ({why}), so every one is listed.\n"
    )
    remembered = audit_memory.decode(_stored()["Value"])
    assert remembered is not None and remembered.keys == {CIS, VALIDATION}  # readable again next time


def test_an_unreadable_memory_with_nothing_failing_tells_nothing_and_does_not_raise(
    clients: RecordingClients, topic: str
) -> None:
    _refuse_reads(clients, "AccessDeniedException")
    clean = Audit(RESULT.standards, RESULT.regions, (_finding("CloudTrail.4", "fsbp", "PASS"),), (), (ACCOUNT,))
    assert _track(clean, clients, topic) is None
    assert clients.named("Publish") == [] and clients.named("PutParameter") == []


def test_a_grown_scope_with_the_same_failures_is_remembered_not_told(clients: RecordingClients, topic: str) -> None:
    home_only = Audit(RESULT.standards, (HOME,), RESULT.findings, (), (ACCOUNT,))
    _track(home_only, clients, topic)
    change = _track(RESULT, clients, topic)  # eu-west-1 audited too, and nothing fails there
    assert change is not None and not change.tells
    assert len(clients.named("Publish")) == 1 and len(clients.named("PutParameter")) == 2
    remembered = audit_memory.decode(_stored()["Value"])
    assert remembered is not None and remembered.scope == audit_memory.scope_of(RESULT)
    assert _track(RESULT, clients, topic) is None  # the wider scope remembered: nothing new to say


def test_a_failure_in_a_region_left_out_stays_remembered_and_is_not_told_again_when_it_returns(
    clients: RecordingClients, topic: str
) -> None:
    far = _finding("CloudTrail.4", "fsbp", "FAIL", "off", FAR_TRAIL, OTHER)
    both = Audit(RESULT.standards, (HOME, OTHER), (*RESULT.findings, far), (), (ACCOUNT,))
    _track(both, clients, topic)
    fixed = (RESULT.findings[0], _finding("4.2", "cis-6.0", "PASS"))
    change = _track(Audit(RESULT.standards, (HOME,), fixed, (), (ACCOUNT,)), clients, topic)  # eu-west-1 left out
    assert change is not None and change.passing_again == (CIS,) and change.kept_outside == 1
    remembered = audit_memory.decode(_stored()["Value"])
    assert remembered is not None and remembered.keys == {VALIDATION, FAR}  # FAR kept: not audited, not fixed
    assert _track(Audit(RESULT.standards, (HOME, OTHER), (*fixed, far), (), (ACCOUNT,)), clients, topic) is None
    assert len(clients.named("Publish")) == 2  # back in scope, still failing: not newly failing

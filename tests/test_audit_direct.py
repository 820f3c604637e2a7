"""The audit from the Lambda (`{"action": "audit"}`): validated before any call, the same document as
`trailkeeper audit --json` (bounded to a Lambda response), a metric per control, an SNS message only when
the failures change (remembered in SSM), read-only; and the template's schedule, memory and grants."""

from __future__ import annotations

import io
import json
import logging
from collections import Counter
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import events, template
from devkit import world as seeding
from devkit.lambda_context import LambdaContext
from devkit.recording import RecordingClients

from tests.conftest import metric_lines
from trailkeeper import handler, observability
from trailkeeper.audit import answer as audit_lambda
from trailkeeper.audit import controls as compliance
from trailkeeper.audit import facts, findings
from trailkeeper.audit import memory as audit_memory
from trailkeeper.audit import request as audit_request
from trailkeeper.audit.findings import Audit, AuditError, Finding
from trailkeeper.cli.main import main
from trailkeeper.errors import MalformedEvent
from trailkeeper.fleet.request import NOTIFY_TOPIC
from trailkeeper.invocations import audit_run as audit_direct

ACCOUNT, HOME = seeding.ACCOUNT, seeding.HOME
PARAMETER = "/trailkeeper/test/audit-state"
EVENT = {"action": "audit", "regions": [HOME]}


@pytest.fixture
def auditing(world: seeding.World, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch) -> RecordingClients:
    """A stack deployed with EnableAudit=true: the memory parameter as template.yaml creates it."""
    boto3.client("ssm", region_name=HOME).put_parameter(Name=PARAMETER, Value=audit_memory.NOTHING_YET, Type="String")
    monkeypatch.setenv(audit_memory.STATE_PARAMETER, PARAMETER)
    monkeypatch.setattr(audit_direct, "clients", lambda: clients)
    return clients


@pytest.fixture
def notifying(auditing: RecordingClients, world: seeding.World, monkeypatch: pytest.MonkeyPatch) -> RecordingClients:
    monkeypatch.setenv(NOTIFY_TOPIC, world.topic_arn)
    return auditing


def invoke(event: Any) -> dict[str, Any]:
    result = handler.lambda_handler(event, LambdaContext())
    jsonschema.validate(result, audit_lambda.SCHEMA)
    return result


def messages(clients: RecordingClients) -> list[dict[str, Any]]:
    return [c.params for c in clients.named("Publish")]


# --- the request: every field checked, and named, before any AWS call -----------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"action": "audit", "standards": ["pci"]},
            "standards: 'pci' is not a standard (fsbp, cis-5.0, cis-6.0, delivery)",
        ),
        ({"action": "audit", "standards": []}, "standards=[]: must be a non-empty list of strings"),
        ({"action": "audit", "regions": "us-east-1"}, "regions='us-east-1': must be a non-empty list of strings"),
        ({"action": "audit", "regions": ["mars-north-1"]}, "regions: 'mars-north-1' is not a region CloudTrail has"),
        ({"action": "audit", "regions": [1]}, "regions=[1]: every item must be a string, not 1"),
        ({"action": "audit", "required_tags": ["aws:owner"]}, "required_tags: 'aws:owner' must be 1-128 characters"),
        ({"action": "audit", "fix": True}, "fix=True: the Lambda's audit is read-only"),
        ({"action": "audit", "standard": ["fsbp"]}, "'standard': not a field of an audit (it takes action, standards"),
        (["audit"], "an audit invocation takes an object, not list"),
    ],
)
def test_an_invalid_request_names_the_field_value_and_rule_before_any_call(
    auditing: RecordingClients, event: Any, expected: str
) -> None:
    with pytest.raises(MalformedEvent) as raised:
        (audit_direct.handle if not isinstance(event, dict) else handler.lambda_handler)(event, LambdaContext())
    assert expected in str(raised.value)
    assert auditing.calls == []


def test_a_hostile_event_gets_a_short_reason_naming_the_first_problems_and_counting_the_rest() -> None:
    regions = [f"r{n}" for n in range(100_000)]
    with pytest.raises(MalformedEvent) as caught:
        audit_request.parse({"action": "audit", "regions": regions, **{f"k{n}": 1 for n in range(1000)}})
    reason = str(caught.value)
    assert len(reason) < 5_000 and "'k0': not a field of an audit" in reason
    assert f"and {1000 + 100_000 - audit_request.MAX_PROBLEMS} more" in reason


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(MalformedEvent) as raised:
        audit_request.parse({"action": "audit", "standards": ["pci"], "regions": ["mars-1"], "fix": True})
    assert str(raised.value).count("; ") == 2


def test_defaults_are_the_clis_and_the_request_round_trips() -> None:
    assert audit_request.parse({"action": "audit"}) == audit_request.AuditRequest(compliance.DEFAULT_STANDARDS)
    asked = audit_request.AuditRequest(("cis-5.0",), ("eu-west-1",), ("owner",))
    assert audit_request.parse(asked.to_event()) == asked
    assert audit_request.parse({"action": "audit", "account": "1"}, also=("account",)).regions is None


def test_a_stack_without_audit_refuses_before_any_call(
    world: seeding.World, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(audit_memory.STATE_PARAMETER, raising=False)
    monkeypatch.setattr(audit_direct, "clients", lambda: clients)
    with pytest.raises(MalformedEvent, match="EnableAudit=true"):
        handler.lambda_handler({"action": "audit"}, LambdaContext())
    assert clients.calls == []


# --- the report: the CLI's document, read-only ---------------------------------------------------


def test_the_sample_event_returns_the_same_document_as_the_cli(auditing: RecordingClients) -> None:
    result = invoke(events.load("audit"))
    jsonschema.validate(result, findings.AUDIT_SCHEMA)  # nothing dropped: exactly the --json document
    out = io.StringIO()
    code = main(
        ["audit", "--json", "--region", HOME, "--standard", "fsbp", "--standard", "cis-6.0", "--required-tag", "owner"],
        out=out,
        err=io.StringIO(),
    )
    assert code == 2 and result == json.loads(out.getvalue())
    assert result["accounts"] == [ACCOUNT] and result["summary"]["FAIL"] > 0
    tagged = [f for f in result["findings"] if f["control"] == "CloudTrail.9"]
    assert tagged and all("owner" in f["reason"] for f in tagged)  # required_tags reached CloudTrail.9


def test_the_audit_is_read_only_and_every_call_is_declared(auditing: RecordingClients) -> None:
    invoke(EVENT)
    made = Counter(c.operation for c in auditing.calls)
    writes = {op for op in made if not op.startswith(("Describe", "Get", "List"))}
    assert writes == {"PutParameter"}  # its memory, nothing else: no trail, bucket or anything is written
    action = {"ListBuckets": "ListAllMyBuckets", "GetPublicAccessBlock": "GetBucketPublicAccessBlock"}
    declared = {f"{c.service}:{action.get(c.operation, c.operation)}" for c in auditing.calls}
    assert declared <= set(audit_direct.PERMISSIONS)
    assert made["GetCallerIdentity"] == 1 and made["DescribeTrails"] == 1


def test_without_regions_every_enabled_region_is_audited(auditing: RecordingClients) -> None:
    result = invoke({"action": "audit", "standards": ["fsbp"]})
    assert len(result["regions"]) > 1 and HOME in result["regions"]
    assert len(auditing.named("DescribeRegions")) == 1


# --- bounded: a Lambda response is at most 6 MB ----------------------------------------------------


def _finding(index: int, status: facts.Status) -> Finding:
    resource = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/trail-{index:05d}"
    return Finding("CloudTrail.4", "fsbp", status, resource, ACCOUNT, HOME, "title", "reason " * 20, "remedy")


def _many(count: int) -> Audit:
    statuses: tuple[facts.Status, ...] = ("PASS", "FAIL", "NOT_AVAILABLE", "PASS")
    return Audit(("fsbp",), (HOME,), tuple(_finding(i, statuses[i % 4]) for i in range(count)), (), (ACCOUNT,))


def test_a_report_under_the_limit_is_the_whole_document() -> None:
    result = _many(40)
    assert audit_lambda.bounded(result) == result.to_dict()


def test_a_report_over_the_limit_keeps_the_summary_and_failures_and_says_what_was_dropped() -> None:
    result = _many(4000)  # 2,000 PASS, 1,000 FAIL, 1,000 NOT_AVAILABLE
    limit = 600_000
    assert len(json.dumps(result.to_dict())) > limit
    document = audit_lambda.bounded(result, limit)
    jsonschema.validate(document, audit_lambda.SCHEMA)
    assert len(json.dumps(document).encode()) <= limit
    assert document["summary"] == result.to_dict()["summary"]  # counts every finding
    kept = Counter(f["status"] for f in document["findings"])
    assert kept["FAIL"] == 1000 and kept["PASS"] < 2000  # failures first, passes dropped first
    dropped = document["dropped"]
    assert dropped["findings"] == 4000 - len(document["findings"]) == dropped["PASS"] + dropped["NOT_AVAILABLE"]
    assert dropped["FAIL"] == 0 and "600000 bytes" in dropped["reason"]
    order = [f["resource"] for f in document["findings"]]
    assert order == sorted(order)  # kept in the report's order


def test_when_even_the_failures_do_not_fit_the_first_ones_are_kept() -> None:
    document = audit_lambda.bounded(_many(4000), 100_000)
    assert len(json.dumps(document).encode()) <= 100_000
    assert {f["status"] for f in document["findings"]} == {"FAIL"}
    assert document["dropped"]["PASS"] == 2000 and document["dropped"]["FAIL"] > 0
    assert document["findings"][0]["resource"].endswith("trail-00001")


# --- metrics: one per control, so CloudWatch can alarm on any one ---------------------------------


def test_one_control_failing_datapoint_per_control_with_standard_and_control(
    auditing: RecordingClients, capsys: pytest.CaptureFixture[str]
) -> None:
    seeding.add_trail("second", HOME)  # two trails without validation: CloudTrail.4 fails twice
    capsys.readouterr()
    result = invoke(EVENT)
    documents = [d for d in metric_lines(capsys.readouterr().out) if observability.CONTROL_FAILING in d]
    values = {(d["Standard"], d["Control"]): d[observability.CONTROL_FAILING] for d in documents}
    asked = {(s, str(c.id_in(s))) for c, s in compliance.asked(compliance.DEFAULT_STANDARDS)}
    assert set(values) == asked and len(documents) == len(asked)  # every control, once
    assert values[("fsbp", "CloudTrail.4")] == [2.0] and values[("cis-6.0", "4.2")] == [2.0]
    counted = {(c["standard"], c["control"]): c["FAIL"] for c in result["summary"]["controls"]}
    assert all(values[key] == [float(n)] for key, n in counted.items())
    assert [0.0] in values.values()  # a passing control says so (an alarm sees it recover)
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Trailkeeper"
        assert directive["Dimensions"] == [["service", "Standard", "Control"]]


def test_a_control_left_unjudged_by_a_failed_read_has_no_datapoint_never_a_pass() -> None:
    """Reads that failed leave controls unjudged: their alarm must see missing data, not 0 (a pass)."""
    judged = Finding(
        "CloudTrail.4", "fsbp", "PASS", f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/t", ACCOUNT, HOME, "t", "ok", "r"
    )
    denied = AuditError(ACCOUNT, "eu-west-1", "AccessDeniedException", "denied")
    counts = audit_lambda.control_counts(Audit(("fsbp",), (HOME, "eu-west-1"), (judged,), (denied,)))
    assert counts == {("fsbp", "CloudTrail.4"): 0}  # judged where it could be; nothing else claims to pass
    nothing_read = audit_lambda.control_counts(Audit(("fsbp",), (HOME,), (), (denied,)))
    assert nothing_read == {}
    # Without failed reads, a control with nothing to judge (no trail) passes: 0.
    clean = audit_lambda.control_counts(Audit(("fsbp",), (HOME,), (), ()))
    assert clean and set(clean.values()) == {0}


def test_the_totals(auditing: RecordingClients, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    result = invoke(EVENT)
    (totals,) = [d for d in metric_lines(capsys.readouterr().out) if observability.FINDINGS_FAILING in d]
    assert totals[observability.FINDINGS_FAILING] == [float(result["summary"]["FAIL"])]
    failing_controls = sum(1 for c in result["summary"]["controls"] if c["FAIL"])
    assert totals[observability.CONTROLS_FAILING] == [float(failing_controls)]
    assert totals[observability.AUDIT_ERRORS] == [0.0]


# --- SNS when the failures change, remembered in SSM ----------------------------------------------


def test_the_first_run_tells_what_fails_and_the_same_failures_tell_nothing(notifying: RecordingClients) -> None:
    invoke(EVENT)
    (first,) = messages(notifying)
    assert first["Subject"].startswith(f"trailkeeper audit account {ACCOUNT}: ") and "(first audit)" in first["Subject"]
    assert f"fsbp CloudTrail.4 arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/audit-trail: " in first["Message"]
    writes = len(notifying.named("PutParameter"))
    invoke(EVENT)
    assert len(messages(notifying)) == 1  # same failures: no message
    assert len(notifying.named("PutParameter")) == writes == 1  # and nothing rewritten


def test_a_change_is_one_message_naming_what_newly_fails_and_what_passes_again(
    notifying: RecordingClients, world: seeding.World
) -> None:
    invoke(EVENT)
    boto3.client("cloudtrail", region_name=HOME).update_trail(Name=world.trail_arn, EnableLogFileValidation=True)
    second = seeding.add_trail("second", HOME, EnableLogFileValidation=True)
    invoke(EVENT)
    assert len(messages(notifying)) == 2
    text = messages(notifying)[1]["Message"]
    passing = text[text.index("Passing again") :]
    assert f"fsbp CloudTrail.4 {world.trail_arn}" in passing and f"cis-6.0 4.2 {world.trail_arn}" in passing
    newly = text[text.index("Newly failing") : text.index("Passing again")]
    assert f"fsbp CloudTrail.2 {second}: " in newly and world.trail_arn not in newly
    assert "newly failing" in messages(notifying)[1]["Subject"]


def test_nothing_failing_on_the_first_run_tells_nothing(notifying: RecordingClients) -> None:
    clean = Audit(("fsbp",), (HOME,), (_finding(1, "PASS"),), (), (ACCOUNT,))
    change = audit_memory.track(
        clean, clients=notifying, region=HOME, parameter=PARAMETER, topic="arn:x", where="a", deadline=_deadline()
    )
    assert change is None and messages(notifying) == [] and notifying.named("PutParameter") == []


def _deadline() -> Any:
    from trailkeeper.aws.calls import Deadline

    return Deadline()


def test_a_failed_write_of_the_memory_still_returns_logs_and_the_next_run_tells_again(
    notifying: RecordingClients, caplog: pytest.LogCaptureFixture
) -> None:
    stub = notifying.stub("ssm", HOME)
    stored = {"Parameter": {"Name": PARAMETER, "Value": audit_memory.NOTHING_YET, "Type": "String"}}
    stub.add_response("get_parameter", stored)
    stub.add_client_error("put_parameter", service_error_code="AccessDeniedException", service_message="denied")
    with caplog.at_level(logging.ERROR, logger="trailkeeper"):
        result = invoke(EVENT)
    assert result["summary"]["FAIL"] > 0  # the report still returns
    assert "could not remember the audit's failures" in caplog.text
    stub.deactivate()  # the parameter can be written again
    del notifying.stubbed[("ssm", HOME)]
    invoke(EVENT)
    assert len(messages(notifying)) == 2  # told again: nothing was remembered
    invoke(EVENT)
    assert len(messages(notifying)) == 2  # remembered now


def test_a_failed_publish_is_not_remembered_so_the_next_run_tells_again(
    notifying: RecordingClients, world: seeding.World, caplog: pytest.LogCaptureFixture
) -> None:
    stub = notifying.stub("sns", HOME)
    stub.add_client_error("publish", service_error_code="AuthorizationError", service_message="denied")
    with caplog.at_level(logging.ERROR, logger="trailkeeper"):
        invoke(EVENT)
    assert "could not publish the audit's change" in caplog.text and notifying.named("PutParameter") == []
    stub.deactivate()
    del notifying.stubbed[("sns", HOME)]
    invoke(EVENT)
    assert len(notifying.named("Publish")) == 2 and len(notifying.named("PutParameter")) == 1


def test_an_unreadable_memory_tells_every_failure_and_says_why(notifying: RecordingClients) -> None:
    boto3.client("ssm", region_name=HOME).put_parameter(Name=PARAMETER, Value="edited by hand", Overwrite=True)
    invoke(EVENT)
    (told,) = messages(notifying)
    assert (
        "previous audit unreadable" in told["Subject"]
        and "could not be read (not a remembered audit" in told["Message"]
    )


def test_without_a_topic_the_failures_are_still_remembered(auditing: RecordingClients) -> None:
    invoke(EVENT)
    assert auditing.named("Publish") == [] and len(auditing.named("PutParameter")) == 1
    value = boto3.client("ssm", region_name=HOME).get_parameter(Name=PARAMETER)["Parameter"]["Value"]
    remembered = audit_memory.decode(value)
    assert remembered is not None and remembered.complete and remembered.count > 0


# --- the memory compares only what this run judged: standards x accounts x regions (issue 23) -------------

OTHER = "eu-west-1"


def audited(regions: list[str], standards: tuple[str, ...] = ("fsbp", "cis-6.0")) -> None:
    invoke({"action": "audit", "regions": regions, "standards": list(standards)})


def test_a_region_left_out_of_a_run_is_neither_passing_again_nor_newly_failing_when_it_returns(
    notifying: RecordingClients,
) -> None:
    far = seeding.add_trail("far", OTHER)  # stopped, unvalidated, unencrypted: it fails in eu-west-1
    audited([HOME, OTHER])
    (first,) = messages(notifying)
    assert far in first["Message"]
    audited([HOME])  # eu-west-1 not audited: its failures are unknown, not fixed
    assert len(messages(notifying)) == 1, messages(notifying)[-1]["Message"]
    audited([HOME, OTHER])  # back: the same failures as remembered
    assert len(messages(notifying)) == 1, messages(notifying)[-1]["Message"]


def test_a_change_of_standards_is_not_told_as_failures_passing_again(
    notifying: RecordingClients, world: seeding.World
) -> None:
    audited([HOME])
    audited([HOME], ("fsbp",))  # CIS v6.0 not judged this time
    assert len(messages(notifying)) == 1
    boto3.client("cloudtrail", region_name=HOME).update_trail(Name=world.trail_arn, EnableLogFileValidation=True)
    audited([HOME], ("fsbp",))
    change = messages(notifying)[-1]
    assert len(messages(notifying)) == 2 and change["Subject"].endswith(": 0 newly failing, 1 passing again")
    text = change["Message"]
    passing = text[text.index("Passing again") :]
    assert f"fsbp CloudTrail.4 {world.trail_arn}" in passing and "cis-6.0" not in passing.split("Failing now")[0]
    # The change of scope is said as such.
    assert "This audit's scope differs from the last: standards cis-6.0 not judged this time" in text


def test_a_widened_scope_tells_its_failures_as_first_audited_not_newly_failing(
    notifying: RecordingClients,
) -> None:
    seeding.add_trail("far", OTHER)
    audited([HOME])
    audited([HOME, OTHER])
    (_, widened) = messages(notifying)
    assert "0 newly failing, 0 passing again" in widened["Subject"] and "first audited" in widened["Subject"]
    text = widened["Message"]
    assert "First audited (" in text and "Newly failing" not in text
    assert f"regions {OTHER} audited for the first time" in text


def test_a_failure_a_denied_read_leaves_not_available_is_kept_not_told_as_passing(
    notifying: RecordingClients,
) -> None:
    audited([HOME])  # CloudTrail.1 and .3 fail in us-east-1: the seeded trail is stopped and single-region
    from botocore.exceptions import ClientError

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetTrailStatus")

    notifying.client("cloudtrail", HOME).meta.events.register("before-call.cloudtrail.GetTrailStatus", refuse)
    audited([HOME])
    change = messages(notifying)[-1]
    passing = change["Message"].split("Passing again")[1] if "Passing again" in change["Message"] else ""
    assert f"CloudTrail.3 AWS::::Account:{ACCOUNT}" not in passing  # NOT_AVAILABLE now: not known to pass
    assert "newly failing" in change["Subject"]  # the read that failed is told
    assert "could not be judged this time" in change["Message"]


def test_a_memory_written_before_scopes_were_remembered_still_decodes_and_compares() -> None:
    import base64
    import zlib

    keys = sorted(_keys(3))
    packed = base64.b64encode(zlib.compress("\n".join(keys).encode(), 9)).decode()
    old = json.dumps(
        {"version": 1, "digest": audit_memory.digest(keys), "count": 3, "kept": 3, "keys": packed},
        separators=(",", ":"),
    )
    remembered = audit_memory.decode(old)
    assert remembered is not None and remembered.scope is None and remembered.keys == set(keys)
    assert json.loads(audit_memory.encode(dict.fromkeys(keys, "r")))["version"] == audit_memory.VERSION == 2


# --- the memory: 4 KB, a digest, as many keys as fit -----------------------------------------------


def _keys(count: int) -> dict[str, str]:
    return {f"fsbp CloudTrail.4 arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/t-{i:05d}": "r" for i in range(count)}


def test_thousands_of_failures_fit_a_standard_parameter_by_digest_and_a_prefix() -> None:
    keys = _keys(5000)
    value = audit_memory.encode(keys)
    assert len(value) <= audit_memory.VALUE_LIMIT
    remembered = audit_memory.decode(value)
    assert remembered is not None and remembered.count == 5000 and not remembered.complete
    assert len(remembered.keys) > 100  # trail ARNs compress well
    assert audit_memory.compare(remembered, keys) is None  # the digest says: unchanged
    fewer = dict(keys)
    gone = sorted(keys)[0]
    del fewer[gone]
    change = audit_memory.compare(remembered, fewer)
    assert change is not None and change.passing_again == (gone,) and change.newly_failing == ()
    assert change.unknown == 5000 - len(remembered.keys)  # after the last key kept: not known to be new
    subject, body = audit_memory.message(_many(1), change, fewer, "account 1")
    assert f"whether {change.unknown} of today's" in body and len(subject) <= 100
    last = max(remembered.keys)
    new_before = last[:-1] + chr(ord(last[-1]) - 1) + "~"  # sorts before the last key kept, not among them
    assert new_before not in keys and new_before < last
    change = audit_memory.compare(remembered, {**keys, new_before: "new"})
    assert change is not None and change.newly_failing == (new_before,)  # known exactly: it sorts within


def test_a_small_set_is_remembered_whole_and_compared_exactly() -> None:
    keys = _keys(20)
    remembered = audit_memory.decode(audit_memory.encode(keys))
    assert remembered is not None and remembered.complete and remembered.keys == set(keys)
    changed = {**{k: v for k, v in list(keys.items())[1:]}, "error 1 eu-west-1 AccessDenied": "denied"}
    change = audit_memory.compare(remembered, changed)
    assert change is not None and change.unknown == 0
    assert change.newly_failing == ("error 1 eu-west-1 AccessDenied",)
    assert change.passing_again == (sorted(keys)[0],)


@pytest.mark.parametrize(
    "value", ["", "{}", "not json", json.dumps({"version": 2, "keys": "", "digest": "", "count": 0})]
)
def test_a_value_not_ours_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a remembered audit"):
        audit_memory.decode(value)


def test_a_read_error_is_part_of_the_failures_told() -> None:
    result = Audit(("fsbp",), (HOME,), (), (AuditError(ACCOUNT, "eu-west-1", "AccessDeniedException", "denied"),))
    assert audit_memory.failing(result) == {f"error {ACCOUNT} eu-west-1 AccessDeniedException": "denied"}


def test_an_account_level_failure_is_remembered_per_region() -> None:
    """An account's resource (AWS::::Account:ID) is the same in every region: the region tells them apart."""

    def fails(region: str) -> Finding:
        return Finding(
            "CloudTrail.3", "fsbp", "FAIL", f"AWS::::Account:{ACCOUNT}", ACCOUNT, region, "t", "no trail logs", "r"
        )

    result = Audit(("fsbp",), (HOME, "eu-west-1"), (fails(HOME), fails("eu-west-1")), ())
    assert sorted(audit_memory.failing(result)) == [
        f"fsbp CloudTrail.3 AWS::::Account:{ACCOUNT} eu-west-1",
        f"fsbp CloudTrail.3 AWS::::Account:{ACCOUNT} {HOME}",
    ]


# --- template.yaml: the schedule, its permission, the memory ---------------------------------------


def _sub(value: Any, parameters: dict[str, list[str]]) -> str:
    """Resolve the schedule's `Fn::Sub [text, {name: Fn::Join [sep, Ref list]}]` with `parameters`."""
    text, variables = value["Fn::Sub"]
    for name, joined in variables.items():
        separator, reference = joined["Fn::Join"]
        text = text.replace("${" + name + "}", separator.join(parameters[reference["Ref"]]))
    return str(text)


def test_the_schedule_sends_an_audit_the_function_accepts() -> None:
    loaded = template.load()
    rule = loaded["Resources"]["ScheduledAuditRule"]
    assert rule["Condition"] == "HasAuditSchedule"
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "AuditSchedule"}
    (target,) = rule["Properties"]["Targets"]
    condition, with_tags, without_tags = target["Input"]["Fn::If"]
    assert condition == "HasAuditRequiredTags"
    standards = loaded["Parameters"]["AuditStandards"]
    assert standards["AllowedValues"] == list(compliance.STANDARDS)
    defaults = {"AuditStandards": standards["Default"].split(","), "AuditRequiredTags": ["owner", "cost-center"]}
    assert audit_request.parse(json.loads(_sub(with_tags, defaults))) == audit_request.AuditRequest(
        compliance.DEFAULT_STANDARDS, None, ("owner", "cost-center")
    )
    assert audit_request.parse(json.loads(_sub(without_tags, defaults))).required_tags == ()
    assert routing_kind(json.loads(_sub(without_tags, defaults))) == "audit run"
    permission = loaded["Resources"]["ScheduledAuditPermission"]
    assert permission["Condition"] == "HasAuditSchedule"
    assert permission["Properties"]["SourceArn"] == {"Fn::GetAtt": ["ScheduledAuditRule", "Arn"]}
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"


def routing_kind(event: Any) -> str:
    from trailkeeper import routing

    return routing.kind(event)


def test_the_memory_parameter_starts_with_nothing_remembered_and_the_function_is_told_its_name() -> None:
    loaded = template.load()
    parameter = loaded["Resources"]["AuditStateParameter"]
    assert parameter["Condition"] == "Audits"
    assert parameter["Properties"]["Value"] == audit_memory.NOTHING_YET
    assert audit_memory.decode(parameter["Properties"]["Value"]) is None
    variables = loaded["Resources"]["TrailSettingsFunction"]["Properties"]["Environment"]["Variables"]
    assert variables[audit_memory.STATE_PARAMETER] == {"Fn::If": ["Audits", {"Ref": "AuditStateParameter"}, ""]}
    assert loaded["Conditions"]["HasAuditSchedule"]["Fn::And"][0] == {"Condition": "Audits"}


def test_a_message_about_thousands_of_failures_stays_within_sns_and_ends_with_the_counts() -> None:
    reasons = {key: "a long account-level reason " * 400 for key in _keys(5000)}
    change = audit_memory.compare(None, reasons)
    assert change is not None
    subject, body = audit_memory.message(_many(8), change, reasons, "account 1")
    assert len(body.encode()) < audit_memory.MESSAGE_LIMIT and len(subject) <= 100
    assert body.count("\n  fsbp CloudTrail.4 ") == audit_memory.LISTED and "... and 4900 more" in body
    assert body.rstrip().endswith('{"action": "audit"}.') and "Failing now, by control:" in body

"""The delivery standard on the fidelity layer: a trail that is configured right and logging, whose logs do
not arrive. Each link of the chain broken the way it breaks in an account (a bucket policy replaced, a key
disabled, a role's trust lost, a topic deleted), judged from what CloudTrail reports and from the chain as
it stands; --fix appends CloudTrail's statements where that is safe and nothing else; each link is read
once, whatever the trails that use it."""

from __future__ import annotations

import dataclasses
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from devkit import world as seeding
from devkit.recording import RecordingClients

from trailkeeper.audit import chain_fix, delivery, findings
from trailkeeper.audit import judge as audit
from trailkeeper.audit.chain import Delivery, Link, Resource
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, Options, TrailFacts
from trailkeeper.audit.findings import Audit, Finding
from trailkeeper.audit.policy import parse as parse_policy
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.cli.main import main
from trailkeeper.trail.record import Record

ACCOUNT, HOME = seeding.ACCOUNT, seeding.HOME
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
CONTROLS = {f"Delivery.{n}": key for n, key in enumerate(delivery.APPLIES, start=1)}


def cloudtrail() -> Any:
    return boto3.client("cloudtrail", region_name=HOME)


def logging_trail(world: seeding.World, **settings: Any) -> str:
    if settings:
        cloudtrail().update_trail(Name=world.trail_arn, **settings)
    cloudtrail().start_logging(Name=world.trail_arn)
    return world.trail_arn


def run(clients: Clients, **kw: Any) -> Audit:
    targets = kw.pop("targets", None) or [audit.Target(ACCOUNT, clients)]
    return audit.run(targets, [HOME], standards=kw.pop("standards", ("delivery",)), **kw)


def found(result: Audit, control: str, resource: str) -> Finding:
    (finding,) = [f for f in result.findings if f.control == control and f.resource == resource]
    return finding


def statuses(result: Audit, resource: str) -> dict[str, str]:
    return {f.control: f.status for f in result.findings if f.resource == resource}


def cli(*argv: str) -> tuple[int, dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--standard", "delivery", "--region", HOME, "--json", *argv], out=out, err=err)
    document = json.loads(out.getvalue())
    jsonschema.validate(document, findings.AUDIT_SCHEMA)
    return code, document


def bucket_policy() -> str:
    return str(boto3.client("s3", region_name=HOME).get_bucket_policy(Bucket=seeding.BUCKET)["Policy"])


# --- a whole chain, then each link broken ------------------------------------------------------------------------


def test_a_whole_chain_passes_every_delivery_control_that_applies(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = logging_trail(world)
    assert statuses(run(clients), arn) == {"Delivery.1": PASS}  # no validation, group, topic or key: not judged
    logging_trail(
        world,
        EnableLogFileValidation=True,
        KmsKeyId=world.key_arn,
        CloudWatchLogsLogGroupArn=world.log_group_arn + ":*",
        CloudWatchLogsRoleArn=world.role_arn,
        SnsTopicName=world.topic_arn,
    )
    result = run(clients)
    assert statuses(result, arn) == dict.fromkeys(CONTROLS, PASS), [f.reason for f in result.findings]
    assert "CloudTrail delivered a log file at" in found(result, "Delivery.1", arn).reason
    assert "lets CloudTrail write there" in found(result, "Delivery.1", arn).reason


def test_a_replaced_bucket_policy_fails_with_both_kinds_of_evidence(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = logging_trail(world)
    unrelated = {"Sid": "ReadersOnly", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                 "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{seeding.BUCKET}/*"}  # fmt: skip
    boto3.client("s3").put_bucket_policy(Bucket=seeding.BUCKET, Policy=json.dumps({"Statement": [unrelated]}))
    finding = found(run(clients), "Delivery.1", arn)
    assert finding.status == FAIL
    assert "CloudTrail reports LatestDeliveryError AccessDenied" in finding.reason
    folder = f"legacy/AWSLogs/{ACCOUNT}/"  # the world's trail delivers under the prefix "legacy"
    assert f"PutObject of a log file under {folder}: the policy of bucket {seeding.BUCKET} does not allow it" in (
        finding.reason
    )
    assert finding.fix == {"PolicyOf": f"arn:aws:s3:::{seeding.BUCKET}", "Kind": "bucket", "Trail": arn}


def test_fix_appends_cloudtrails_statements_keeping_every_other_byte_then_writes_nothing(
    world: seeding.World,
) -> None:
    arn = logging_trail(world, EnableLogFileValidation=True)
    mine = '{\n    "Version": "2012-10-17",\n    "Statement": [\n        {"Sid": "Readers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::trailkeeper-demo-logs/*"}\n    ]\n}'  # noqa: E501
    boto3.client("s3").put_bucket_policy(Bucket=seeding.BUCKET, Policy=mine)
    code, planned = cli("--fix", "--dry-run")
    (edit,) = planned["fix"]["policies"]
    assert code == 2 and edit["status"] == "planned" and edit["trails"] == [arn]
    assert "+" in edit["diff"] and "TrailkeeperCloudTrailWrite" in edit["diff"]
    assert bucket_policy() == mine  # --dry-run writes nothing
    code, fixed = cli("--fix")
    assert [p["status"] for p in fixed["fix"]["policies"]] == ["written"] and code == 0
    after = bucket_policy()
    owners = mine[: mine.rindex("]")].rstrip()
    assert after.startswith(owners) and after.endswith("]\n}")  # the owner's bytes, all of them, where they were
    appended = json.loads(after)["Statement"][1:]
    assert [s["Sid"] for s in appended] == ["TrailkeeperCloudTrailAclCheck", "TrailkeeperCloudTrailWrite"]
    assert appended[1]["Condition"]["StringEquals"]["aws:SourceArn"] == arn  # scoped to the trail that needs it
    code, again = cli("--fix")
    assert code == 0 and again["fix"]["policies"] == [] and bucket_policy() == after
    assert {f["status"] for f in again["findings"]} == {PASS}


def test_a_policy_that_denies_cloudtrail_on_purpose_is_never_edited(world: seeding.World) -> None:
    arn = logging_trail(world)
    deny = {"Sid": "NoCloudTrail", "Effect": "Deny", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{seeding.BUCKET}/*"}  # fmt: skip
    policy = json.loads(seeding.bucket_policy(seeding.BUCKET))
    policy["Statement"].append(deny)
    boto3.client("s3").put_bucket_policy(Bucket=seeding.BUCKET, Policy=json.dumps(policy))
    code, document = cli("--fix")
    (finding,) = [f for f in document["findings"] if f["resource"] == arn and f["control"] == "Delivery.1"]
    assert finding["status"] == FAIL and "denies it (statement 'NoCloudTrail')" in finding["reason"]
    assert "not edited by --fix" in finding["reason"] and finding["fix"] is None
    assert code == 2 and document["fix"]["policies"] == [] and json.loads(bucket_policy()) == policy


def test_what_cannot_be_judged_is_not_available_never_a_pass(world: seeding.World, clients: RecordingClients) -> None:
    arn = logging_trail(world)
    policy = json.loads(seeding.bucket_policy(seeding.BUCKET))
    policy["Statement"][1]["Condition"]["StringEquals"]["aws:SourceVpce"] = "vpce-1234"
    boto3.client("s3").put_bucket_policy(Bucket=seeding.BUCKET, Policy=json.dumps(policy))
    finding = found(run(clients), "Delivery.1", arn)
    assert finding.status == NOT_AVAILABLE and "cannot be told from here" in finding.reason and finding.fix is None


def test_a_deleted_bucket_fails_and_is_no_fix_of_trailkeepers(world: seeding.World, clients: RecordingClients) -> None:
    arn = logging_trail(world)
    boto3.client("s3").delete_bucket(Bucket=seeding.BUCKET)
    finding = found(run(clients), "Delivery.1", arn)
    assert finding.status == FAIL and "LatestDeliveryError NoSuchBucket" in finding.reason and finding.fix is None


@pytest.mark.parametrize(
    ("break_it", "said"),
    [
        (lambda kms, key: kms.disable_key(KeyId=key), "is Disabled"),
        (lambda kms, key: kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7), "is PendingDeletion"),
    ],
    ids=["disabled", "pending deletion"],
)
def test_a_key_that_cannot_be_used_fails_and_is_never_re_enabled(
    world: seeding.World, clients: RecordingClients, break_it: Any, said: str
) -> None:
    arn = logging_trail(world, KmsKeyId=world.key_arn)
    kms = boto3.client("kms", region_name=HOME)
    break_it(kms, world.key_id)  # moto takes a bare key id here (a key ARN fails with a 500)
    result = run(clients)
    key = found(result, "Delivery.5", arn)
    assert key.status == FAIL and said in key.reason and key.fix is None
    # CloudTrail reports the key's error for log files too: Delivery.5's to fail (one cause, one failure); the
    # trail started logging a moment ago and has delivered nothing yet, which its first minutes allow.
    logs = found(result, "Delivery.1", arn)
    assert logs.status == NOT_AVAILABLE and "(the key's: Delivery.5 judges it)" in logs.warnings[0]


def test_a_key_policy_without_cloudtrail_is_fixed_by_appending(world: seeding.World) -> None:
    arn = logging_trail(world, KmsKeyId=world.key_arn)
    kms = boto3.client("kms", region_name=HOME)
    own = json.loads(seeding.key_policy())["Statement"][0]
    kms.put_key_policy(KeyId=world.key_id, PolicyName="default", Policy=json.dumps({"Statement": [own]}))
    code, document = cli("--fix")
    (finding,) = [f for f in document["findings"] if f["resource"] == arn and f["control"] == "Delivery.5"]
    assert finding["status"] == FAIL and "GenerateDataKey for a log file" in finding["reason"]
    assert [p["kind"] for p in document["fix"]["policies"]] == ["key"] and code == 0
    after = json.loads(kms.get_key_policy(KeyId=world.key_id, PolicyName="default")["Policy"])
    assert after["Statement"][0] == own and len(after["Statement"]) == 3
    assert cli()[1]["summary"][FAIL] == 0


def test_a_write_that_fails_says_which_and_why_and_the_next_edit_is_still_written(
    world: seeding.World, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = logging_trail(world, KmsKeyId=world.key_arn)
    kms = boto3.client("kms", region_name=HOME)
    own = json.loads(seeding.key_policy())["Statement"][0]
    kms.put_key_policy(KeyId=world.key_id, PolicyName="default", Policy=json.dumps({"Statement": [own]}))
    readers = {"Sid": "Readers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
               "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{seeding.BUCKET}/*"}  # fmt: skip
    boto3.client("s3").put_bucket_policy(Bucket=seeding.BUCKET, Policy=json.dumps({"Statement": [readers]}))
    make_api_call = BaseClient._make_api_call

    def refusing(self: Any, operation: str, params: Any) -> Any:
        if operation == "PutKeyPolicy":  # the key's policy may not be changed by this caller
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, operation)
        return make_api_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", refusing)
    code, document = cli("--fix")
    assert [p["kind"] for p in document["fix"]["policies"]] == ["key", "bucket"]  # the one that fails first
    key, bucket = document["fix"]["policies"]
    assert key["status"] == "failed" and bucket["status"] == "written" and key["trails"] == [arn]
    assert key["reason"].startswith("AccessDeniedException:") and "PutKeyPolicy" in key["reason"]
    assert code == 1  # a fix that failed is an error of the run
    after = json.loads(kms.get_key_policy(KeyId=world.key_id, PolicyName="default")["Policy"])
    assert after == {"Statement": [own]}  # left as it was
    assert len(json.loads(bucket_policy())["Statement"]) == 3  # the owner's, then CloudTrail's two


def test_the_cloudwatch_logs_path_group_role_trust_and_permissions(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = logging_trail(
        world, CloudWatchLogsLogGroupArn=world.log_group_arn + ":*", CloudWatchLogsRoleArn=world.role_arn
    )
    assert found(run(clients), "Delivery.3", arn).status == PASS
    iam = boto3.client("iam")
    iam.delete_role_policy(RoleName=seeding.ROLE, PolicyName="cloudtrail-logs")
    finding = found(run(clients), "Delivery.3", arn)
    assert finding.status == FAIL and "CreateLogStream to the log group" in finding.reason and finding.fix is None
    assert "LatestCloudWatchLogsDeliveryError AccessDeniedException" in finding.reason
    iam.put_role_policy(RoleName=seeding.ROLE, PolicyName="cloudtrail-logs", PolicyDocument=seeding.logs_policy())
    ec2_only = {  # this role trusts EC2 alone
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.update_assume_role_policy(RoleName=seeding.ROLE, PolicyDocument=json.dumps(ec2_only))
    assert "AssumeRole of the CloudWatch Logs role" in found(run(clients), "Delivery.3", arn).reason
    boto3.client("logs", region_name=HOME).delete_log_group(logGroupName=seeding.LOG_GROUP)
    gone = found(run(clients), "Delivery.3", arn)
    assert gone.status == FAIL and f"log group {seeding.LOG_GROUP} does not exist" in gone.reason


def test_the_topic_path_and_its_fix(world: seeding.World) -> None:
    arn = logging_trail(world, SnsTopicName=world.topic_arn)
    sns = boto3.client("sns", region_name=HOME)
    sns.set_topic_attributes(
        TopicArn=world.topic_arn, AttributeName="Policy", AttributeValue=json.dumps({"Statement": []})
    )
    code, document = cli("--fix")
    (finding,) = [f for f in document["findings"] if f["resource"] == arn and f["control"] == "Delivery.4"]
    assert finding["status"] == FAIL and "LatestNotificationError AuthorizationError" in finding["reason"]
    assert [p["status"] for p in document["fix"]["policies"]] == ["written"] and code == 0
    assert cli()[1]["summary"][FAIL] == 0
    sns.delete_topic(TopicArn=world.topic_arn)
    code, document = cli()
    (gone,) = [f for f in document["findings"] if f["control"] == "Delivery.4"]
    assert code == 2 and gone["status"] == FAIL and "does not exist" in gone["reason"] and gone["fix"] is None


def test_a_bucket_of_an_account_outside_the_run_is_not_available_and_judged_with_it(
    world: seeding.World, org: Any
) -> None:
    bucket = f"trails-{org.members['web']}"  # seeded in the member account, with CloudTrail's policy for it
    arn = logging_trail(world, S3BucketName=bucket)
    _, alone = cli()
    (finding,) = [f for f in alone["findings"] if f["resource"] == arn and f["control"] == "Delivery.1"]
    assert finding["status"] == NOT_AVAILABLE and "audit with that account too" in finding["reason"]
    _, together = cli("--organization")  # the member is in the run: its bucket is read by it, and judged
    (judged,) = [f for f in together["findings"] if f["resource"] == arn and f["control"] == "Delivery.1"]
    # The member's policy lets CloudTrail write for the member's own trails only: this one is refused.
    assert (
        judged["status"] == FAIL
        and f"AWSLogs/{seeding.ACCOUNT}/: the policy of bucket {bucket} does not allow it" in (judged["reason"])
    )
    assert judged["fix"] == {"PolicyOf": f"arn:aws:s3:::{bucket}", "Kind": "bucket", "Trail": arn}


# --- reads at the limit -----------------------------------------------------------------------------------------


def test_each_link_is_read_once_whatever_the_trails_that_use_it(
    world: seeding.World, clients: RecordingClients
) -> None:
    shared = {
        "KmsKeyId": world.key_arn,
        "SnsTopicName": seeding.TOPIC,
        "CloudWatchLogsLogGroupArn": world.log_group_arn + ":*",
        "CloudWatchLogsRoleArn": world.role_arn,
    }
    logging_trail(world, **shared)
    second = seeding.add_trail("second-trail", HOME, **shared)
    cloudtrail().start_logging(Name=second)
    result = run(clients)
    made = Counter(c.operation for c in clients.calls)
    once = ("GetBucketPolicy", "DescribeKey", "GetKeyPolicy", "GetTopicAttributes", "GetRole", "ListRolePolicies")
    for operation in (*once, "GetRolePolicy", "ListAttachedRolePolicies", "DescribeLogGroups"):
        assert made[operation] == 1, operation
    assert len({f.resource for f in result.findings}) == 2 and not result.errors


def test_a_bucket_many_trails_deliver_to_has_its_policy_parsed_once(
    world: seeding.World, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    logging_trail(world)
    for name in ("second-trail", "third-trail"):
        cloudtrail().start_logging(Name=seeding.add_trail(name, HOME))
    parsed: list[str] = []

    def counting(document: object, name: str = "the policy", **kw: Any) -> Any:
        parsed.append(name)
        return parse_policy(document, name, **kw)

    monkeypatch.setattr("trailkeeper.audit.chain_reads.policy.parse", counting)
    result = run(clients)
    assert parsed == [f"the policy of bucket {seeding.BUCKET}"]
    assert len({f.resource for f in result.findings}) == 3
    assert {f.status for f in result.findings if f.control == "Delivery.1"} == {PASS}


def test_no_chain_read_when_no_control_asked_needs_it(world: seeding.World, clients: RecordingClients) -> None:
    logging_trail(world, KmsKeyId=world.key_arn, SnsTopicName=world.topic_arn)
    run(clients, standards=("fsbp", "cis-6.0"))
    chain = {"GetBucketPolicy", "GetKeyPolicy", "GetTopicAttributes", "GetRole", "DescribeLogGroups"}
    assert not [c.operation for c in clients.calls if c.operation in chain]


# --- what CloudTrail reports, judged with an injected clock -------------------------------------------------------


def facts(status: dict[str, Any] | None, **delivery_settings: Any) -> TrailFacts:
    arn = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/t"
    settings: dict[str, Any] = {
        "trail": arn,
        "account": ACCOUNT,
        "home_region": HOME,
        "partition": "aws",
        "bucket": "b",
    }
    return TrailFacts(
        arn,
        ACCOUNT,
        HOME,
        Record.of({}),
        "b",
        status=status,
        delivery=Delivery(**{**settings, **delivery_settings}),
        chain={},
    )


def judged(status: dict[str, Any] | None, error: str, latest: str | None, window: float, grace: float) -> Any:
    evidence = delivery.Evidence()
    delivery.reported(
        facts(status),
        evidence,
        error=error,
        latest=latest,
        what="file",
        window=window,
        grace=grace,
        now=NOW.timestamp(),
    )
    return evidence


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ({"IsLogging": True, "LatestDigestDeliveryTime": NOW - timedelta(minutes=70)}, "good"),
        ({"IsLogging": True, "LatestDigestDeliveryTime": NOW - timedelta(hours=3)}, "failures"),
        ({"IsLogging": True, "StartLoggingTime": NOW - timedelta(minutes=30)}, "unknown"),  # digests: 2 h of grace
        ({"IsLogging": True, "StartLoggingTime": NOW - timedelta(hours=5)}, "failures"),
        ({"IsLogging": True, "LatestDigestDeliveryError": "AccessDenied"}, "failures"),
        ({"IsLogging": False, "LatestDigestDeliveryTime": NOW - timedelta(days=9)}, "good"),  # CloudTrail.3's business
        (None, "unknown"),
    ],
)
def test_digest_files_come_every_hour_so_two_hours_without_one_is_a_failure(
    status: dict[str, Any] | None, outcome: str
) -> None:
    evidence = judged(
        status, "LatestDigestDeliveryError", "LatestDigestDeliveryTime", delivery.DIGEST_WINDOW, delivery.DIGEST_GRACE
    )
    assert next(name for name in ("failures", "unknown", "good") if getattr(evidence, name)) == outcome


def test_log_files_come_only_with_activity_so_a_quiet_day_is_the_limit() -> None:
    def outcome(age: timedelta) -> list[str]:
        status = {"IsLogging": True, "LatestDeliveryTime": NOW - age}
        return judged(status, "LatestDeliveryError", "LatestDeliveryTime", delivery.LOG_WINDOW, delivery.GRACE).failures

    assert outcome(timedelta(hours=20)) == []
    (failure,) = outcome(timedelta(hours=30))
    assert failure == "the latest file was delivered at 2026-12-05 06:00 UTC, 30.0 h ago (more than 24.0 h)"


def test_a_stopped_trail_is_judged_by_its_chain_alone() -> None:
    options = Options(now=NOW.timestamp())
    verdict = delivery.logs(facts({"IsLogging": False, "LatestDeliveryError": "AccessDenied"}), options)
    assert verdict.status == FAIL  # the error is still reported (the last attempt failed)
    assert "not logging (CloudTrail.3 judges that)" not in verdict.reason  # failures say what failed, only


# --- the policy text, edited in place ------------------------------------------------------------------------------


STATEMENT = {"Sid": "TrailkeeperCloudTrailWrite", "Effect": "Allow"}


@pytest.mark.parametrize(
    "text",
    [
        '{"Statement": [{"Sid": "A"}]}',
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Sid": "A"}\n  ],\n  "Id": "x"\n}',
        '{"Statement": {"Sid": "A"}, "Version": "2012-10-17"}',
        '{"Statement": []}',
    ],
)
def test_appending_keeps_every_other_byte(text: str) -> None:
    after = chain_fix.append(text, [STATEMENT])
    start, end, _ = chain_fix.statement_span(text) or (0, 0, None)
    assert after[:start] == text[:start] and after.endswith(text[end:])  # around the list: untouched
    if '"Sid": "A"' in text:
        assert '{"Sid": "A"}' in after
    statements = json.loads(after)["Statement"]
    assert statements[-1] == STATEMENT and len(statements) == (2 if '"A"' in text else 1)


def test_appended_sids_never_clash_and_a_policy_without_statements_is_refused() -> None:
    text = json.dumps({"Statement": [STATEMENT]})
    assert json.loads(chain_fix.append(text, [STATEMENT]))["Statement"][1]["Sid"] == "TrailkeeperCloudTrailWrite2"
    with pytest.raises(ValueError, match="no Statement"):
        chain_fix.append('{"Version": "2012-10-17"}', [STATEMENT])
    assert json.loads(chain_fix.append(None, [STATEMENT])) == {"Version": "2012-10-17", "Statement": [STATEMENT]}


def test_a_key_must_live_where_the_bucket_lives_as_s3_says_it() -> None:
    key = f"arn:aws:kms:{HOME}:{ACCOUNT}:key/k"
    policy = json.loads(seeding.key_policy())
    chain = {
        "key": Resource(Link("key", key, ACCOUNT, HOME), policies=(parse_policy(policy),), state="Enabled"),
        "bucket": Resource(Link("bucket", "arn:aws:s3:::b", ACCOUNT, HOME), details={"located": "eu-west-1"}),
    }
    trail = dataclasses.replace(facts({"IsLogging": True}, key=key), chain=chain)
    verdict = delivery.encryption(trail, Options(now=NOW.timestamp()))
    assert verdict.status == FAIL and f"is in {HOME} but the bucket in eu-west-1" in verdict.reason
    unknown = dataclasses.replace(trail, chain={**chain, "bucket": Resource(Link("bucket", "arn:aws:s3:::b", "", ""))})
    assert delivery.encryption(unknown, Options(now=NOW.timestamp())).status == PASS  # S3 did not say: not judged


def test_an_edit_for_an_account_outside_the_run_is_refused_and_the_others_are_still_tried() -> None:
    def edit(account: str, status: Any = "planned") -> chain_fix.PolicyEdit:
        link = Link("key", f"arn:aws:kms:{HOME}:{account}:key/k-{account}", account, HOME)
        return chain_fix.PolicyEdit(link, ("arn:aws:cloudtrail:trail",), "{}", '{"Statement": []}', status)

    done = chain_fix.apply(
        [edit("111111111111"), edit("222222222222"), edit("333333333333", "refused")],
        lambda _account: None,  # none of them is in the run
        deadline=Deadline(),
    )
    assert [(e.link.account, e.status, e.reason) for e in done] == [
        ("111111111111", "refused", "account 111111111111 is not in this run"),
        ("222222222222", "refused", "account 222222222222 is not in this run"),
        ("333333333333", "refused", ""),  # not planned: passed on as it is
    ]


def test_a_key_and_a_topic_in_another_region_are_fixed_where_they_live(world: seeding.World) -> None:
    other = "eu-west-1"
    kms, sns = boto3.client("kms", region_name=other), boto3.client("sns", region_name=other)
    own = json.loads(seeding.key_policy())["Statement"][0]
    key = kms.create_key(Policy=json.dumps({"Statement": [own]}))["KeyMetadata"]["Arn"]
    topic = sns.create_topic(Name="far-topic")["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=seeding.topic_policy(topic))
    arn = seeding.add_trail("far", other, KmsKeyId=key)
    boto3.client("cloudtrail", region_name=other).update_trail(Name=arn, SnsTopicName=topic)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({"Statement": []}))
    boto3.client("cloudtrail", region_name=other).start_logging(Name=arn)
    _, document = cli("--fix", "--region", other)
    written = sorted((p["kind"], p["resource"], p["region"], p["status"]) for p in document["fix"]["policies"])
    assert ("key", key, other, "written") in written and ("topic", topic, other, "written") in written, written
    after = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    assert after["Statement"][0] == own and len(after["Statement"]) == 3
    assert json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])["Statement"]


def test_the_dry_runs_diff_shows_the_policy_laid_out_with_only_the_statements_added() -> None:
    link = Link("bucket", "arn:aws:s3:::logs", "", HOME)
    before = '{"Statement": [{"Sid": "Readers", "Effect": "Allow"}]}'
    after = '{"Statement": [{"Sid": "Readers", "Effect": "Allow"}, {"Sid": "CloudTrail"}]}'
    edit = chain_fix.PolicyEdit(link, ("arn:aws:cloudtrail:trail",), before, after)
    assert edit.diff() == (
        "--- bucket policy of logs (now)\n"
        "+++ bucket policy of logs (with --fix)\n"
        "@@ -3,6 +3,9 @@\n"
        "     {\n"
        '       "Sid": "Readers",\n'
        '       "Effect": "Allow"\n'
        "+    },\n"
        "+    {\n"
        '+      "Sid": "CloudTrail"\n'
        "     }\n"
        "   ]\n"
        " }\n"
    )
    # A bucket without a policy: every line is added; a text that is not JSON is shown as it is.
    new = chain_fix.PolicyEdit(link, (), None, after).diff()
    assert new.startswith("--- bucket policy of logs (now)\n+++ bucket policy of logs (with --fix)\n@@ -0,0 +1,")
    assert chain_fix.PolicyEdit(link, (), "not json", "not json\n").diff().endswith("-not json+not json\n")

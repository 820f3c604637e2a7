"""`trailkeeper audit` on the fidelity layer: every control's PASS and FAIL edges, judged by the events a
trail records (write-only, stopped, excluded sources, advanced selectors equivalent to the default, S3 data
events by basic and advanced selectors), the log bucket (public, access logging, in another account), the
calls at the limit, and the report's forms (JSON schema, OCSF, table, exit codes)."""

from __future__ import annotations

import dataclasses
import gc
import io
import json
import re
from collections import Counter
from typing import Any

import boto3
import jsonschema
import pytest
from devkit import world as seeding
from devkit.recording import RecordingClients

from trailkeeper.audit import controls as compliance
from trailkeeper.audit import findings, reads
from trailkeeper.audit import judge as audit
from trailkeeper.audit.facts import Options, TrailFacts
from trailkeeper.audit.findings import Audit, Finding
from trailkeeper.aws.calls import Clients, Deadline
from trailkeeper.cli.main import main
from trailkeeper.trail.record import Record

ACCOUNT, HOME, OTHER = seeding.ACCOUNT, seeding.HOME, "eu-west-1"
PLACE = f"AWS::::Account:{ACCOUNT}"  # Security Hub's Id of an account (its region is a field of its own)
ALL_S3 = [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]


def cloudtrail(region: str = HOME) -> Any:
    return boto3.client("cloudtrail", region_name=region)


def trail(name: str, *, logging: bool = True, region: str = HOME, **settings: Any) -> str:
    settings.setdefault("IsMultiRegionTrail", True)
    arn = seeding.add_trail(name, region, **settings)
    if logging:
        cloudtrail(region).start_logging(Name=arn)
    return arn


def selectors(arn: str, **put: Any) -> None:
    cloudtrail(arn.split(":")[3]).put_event_selectors(TrailName=arn, **put)


def management(read_only: str | None = None) -> dict[str, Any]:
    fields = [{"Field": "eventCategory", "Equals": ["Management"]}]
    if read_only is not None:
        fields.append({"Field": "readOnly", "Equals": [read_only]})
    return {"Name": "Management events", "FieldSelectors": fields}


def s3_data(read_only: str | None = None, arns: str | None = None) -> dict[str, Any]:
    fields = [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ]
    if read_only is not None:
        fields.append({"Field": "readOnly", "Equals": [read_only]})
    if arns is not None:
        fields.append({"Field": "resources.ARN", "StartsWith": [arns]})
    return {"Name": "S3", "FieldSelectors": fields}


def run(
    clients: Clients, regions: tuple[str, ...] = (HOME,), standards: tuple[str, ...] = ("fsbp", "cis-6.0"), **kw: Any
) -> Audit:
    targets = kw.pop("targets", None) or [audit.Target(ACCOUNT, clients)]
    return audit.run(targets, regions, standards=standards, **kw)


def found(result: Audit, control: str, resource: str = PLACE, region: str = HOME) -> Finding:
    (finding,) = [f for f in result.findings if f.control == control and f.resource == resource and f.region == region]
    return finding


# --- CloudTrail.1 / CIS 4.1 and CloudTrail.3: judged by what is recorded, not by names ----------------


def test_no_trail_fails_both_account_controls(aws: None, clients: RecordingClients) -> None:
    result = run(clients)
    assert found(result, "CloudTrail.1").status == "FAIL"
    assert "there is no trail" in found(result, "CloudTrail.1").reason
    assert found(result, "CloudTrail.3").status == "FAIL"


def test_a_logging_multi_region_trail_with_the_default_selector_passes(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("everywhere")
    result = run(clients)
    for control in ("CloudTrail.1", "4.1", "CloudTrail.3"):
        assert found(result, control).status == "PASS", control
    assert arn in found(result, "CloudTrail.1").reason


def test_a_stopped_multi_region_trail_does_not_satisfy_cloudtrail_1(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("everywhere", logging=False)
    result = run(clients)
    finding = found(result, "CloudTrail.1")
    assert finding.status == "FAIL" and f"{arn} is not logging" in finding.reason
    assert finding.fix == {"Name": arn, "IsLogging": True}
    assert found(result, "CloudTrail.3").fix in (
        {"Name": arn, "IsLogging": True},
        {"Name": world.trail_arn, "IsLogging": True},
    )


def test_a_write_only_multi_region_trail_does_not_satisfy_cloudtrail_1(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("writes")
    selectors(arn, EventSelectors=[{"ReadWriteType": "WriteOnly", "DataResources": ALL_S3}])
    result = run(clients)
    finding = found(result, "CloudTrail.1")
    assert finding.status == "FAIL" and "does not record read management events" in finding.reason
    assert found(result, "CloudTrail.3").status == "PASS"  # it is logging: CloudTrail.3 asks only that
    # The fix adds the management events and keeps the S3 data events.
    assert finding.fix is not None
    assert {"ReadWriteType": "All"} in finding.fix["EventSelectors"]
    assert any(s.get("DataResources") for s in finding.fix["EventSelectors"])


def test_excluded_management_sources_do_not_satisfy_cloudtrail_1(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("no-kms")
    selectors(arn, EventSelectors=[{"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]}])
    finding = found(run(clients), "CloudTrail.1")
    assert finding.status == "FAIL" and "excludes kms.amazonaws.com" in finding.reason


def test_a_logging_single_region_trail_passes_cloudtrail_3_but_not_cloudtrail_1(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("here-only", IsMultiRegionTrail=False)
    result = run(clients)
    assert found(result, "CloudTrail.3").status == "PASS"
    finding = found(result, "CloudTrail.1")
    assert finding.status == "FAIL" and f"{arn} is not multi-region" in finding.reason
    assert finding.fix == {"Name": arn, "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True}


def test_an_advanced_selector_equivalent_to_the_default_satisfies_cloudtrail_1(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("advanced")
    selectors(arn, AdvancedEventSelectors=[{"Name": "not the console's name", **management()}])
    assert found(run(clients), "CloudTrail.1").status == "PASS"


def test_an_advanced_selector_of_read_management_events_only_does_not(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("reads")
    selectors(arn, AdvancedEventSelectors=[management(read_only="true")])
    finding = found(run(clients), "CloudTrail.1")
    assert finding.status == "FAIL" and "does not record write management events" in finding.reason


def test_a_selector_narrowed_by_event_name_proves_nothing(world: seeding.World, clients: RecordingClients) -> None:
    arn = trail("narrow")
    narrowed = management()
    narrowed["FieldSelectors"].append({"Field": "eventName", "Equals": ["ConsoleLogin"]})
    selectors(arn, AdvancedEventSelectors=[narrowed])
    finding = found(run(clients), "CloudTrail.1")
    assert finding.status == "FAIL" and "cannot read exactly" in finding.reason


def test_a_multi_region_trail_homed_elsewhere_covers_the_region_through_its_shadow(
    world: seeding.World, clients: RecordingClients
) -> None:
    trail("everywhere")
    result = run(clients, regions=(OTHER,))
    assert found(result, "CloudTrail.1", region=OTHER).status == "PASS"
    assert {c.region for c in clients.named("GetTrailStatus")} == {HOME}  # read once, in its home region


# --- CloudTrail.1 as Security Hub judges it: AWS Config's multi-region-cloudtrail-enabled (issue 23) ------


@pytest.mark.parametrize(
    ("put", "rule_says"),
    [
        (
            # Every event is recorded (the second selector records kms.amazonaws.com), but a selector excludes it.
            {
                "EventSelectors": [
                    {"ReadWriteType": "All", "ExcludeManagementEventSources": ["kms.amazonaws.com"]},
                    {"ReadWriteType": "All", "DataResources": ALL_S3},
                ]
            },
            "excludes kms.amazonaws.com from management events in a selector, which another selector makes up for",
        ),
        (
            {"EventSelectors": [{"ReadWriteType": "ReadOnly"}, {"ReadWriteType": "WriteOnly"}]},
            "records read and write management events only in separate selectors",
        ),
        (
            {"AdvancedEventSelectors": [management("true"), management("false")]},
            "records read and write management events only in separate selectors",
        ),
    ],
    ids=["exclusion-made-up-by-another", "basic-read-and-write-apart", "advanced-read-and-write-apart"],
)
def test_cloudtrail_1_fails_as_the_config_rule_does_where_the_events_model_would_pass(
    world: seeding.World, clients: RecordingClients, put: dict[str, Any], rule_says: str
) -> None:
    arn = trail("apart")
    selectors(arn, **put)
    result = run(clients)
    for control in ("CloudTrail.1", "4.1"):
        finding = found(result, control)
        assert finding.status == "FAIL", (control, finding.reason)
        assert rule_says in finding.reason
        # Where trailkeeper's model of recorded events disagrees, the reason says so.
        assert "by the events its selectors record" in finding.reason and "records every read and write" in (
            finding.reason
        )


def test_an_advanced_management_selector_excluding_a_source_fails_cloudtrail_1(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("advanced-exclusion")
    excluding = management()
    excluding["FieldSelectors"].append({"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]})
    selectors(arn, AdvancedEventSelectors=[excluding])
    finding = found(run(clients), "CloudTrail.1")
    assert finding.status == "FAIL" and "excludes kms.amazonaws.com" in finding.reason


def test_s3_data_events_count_only_on_a_multi_region_trail(world: seeding.World, clients: RecordingClients) -> None:
    """AWS Config's cloudtrail-all-write-s3-data-event-check and CIS 4.8's audit both ask for a multi-region trail."""
    arn = trail("here-only", IsMultiRegionTrail=False)
    selectors(arn, EventSelectors=[{"ReadWriteType": "All", "DataResources": ALL_S3}])
    result = run(clients, standards=("cis-6.0",))
    for control in ("4.8", "4.9"):
        finding = found(result, control)
        assert finding.status == "FAIL" and f"{arn} is not multi-region" in finding.reason, finding.reason


# --- a read that was denied proves nothing: NOT_AVAILABLE, never FAIL (issue 23) ------------------------


def deny(clients: RecordingClients, operation: str, region: str = HOME) -> None:
    """`operation` refused (AccessDenied) to these clients in `region`, every other call answered."""
    from botocore.exceptions import ClientError

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, operation)

    clients.client("cloudtrail", region).meta.events.register(f"before-call.cloudtrail.{operation}", refuse)


def test_a_denied_get_event_selectors_leaves_the_s3_controls_not_available(
    world: seeding.World, clients: RecordingClients
) -> None:
    arn = trail("data")  # multi-region, logging: it does record S3 writes, but that cannot be read
    selectors(arn, EventSelectors=[{"ReadWriteType": "All", "DataResources": ALL_S3}])
    deny(clients, "GetEventSelectors")
    result = run(clients, standards=("cis-6.0", "fsbp"))
    for control in ("4.8", "4.9", "4.1", "CloudTrail.1"):
        finding = found(result, control)
        assert finding.status == "NOT_AVAILABLE", (control, finding.reason)
        assert arn in finding.reason and "AccessDeniedException" in finding.reason, finding.reason
    assert found(result, "CloudTrail.3").status == "PASS"  # its status was read: it is logging
    assert result.exit_code == 1  # a read failed: an error of the run, not a failure of a control


def test_a_denied_get_trail_status_leaves_the_logging_controls_not_available(
    world: seeding.World, clients: RecordingClients
) -> None:
    trail("everywhere")
    deny(clients, "GetTrailStatus")
    result = run(clients)
    for control in ("CloudTrail.1", "4.1", "CloudTrail.3"):
        finding = found(result, control)
        assert finding.status == "NOT_AVAILABLE", (control, finding.reason)
        assert "GetTrailStatus" in finding.reason and "no trail here is logging" not in finding.reason
    # Its metric gets no datapoint: an alarm sees missing data, never a 0 that reads as passing.
    from trailkeeper.audit import answer as audit_lambda

    counts = audit_lambda.control_counts(result)
    assert ("fsbp", "CloudTrail.1") not in counts and ("fsbp", "CloudTrail.3") not in counts
    assert counts[("fsbp", "CloudTrail.4")] == 2  # judged from DescribeTrails alone


def test_a_trail_known_to_fail_still_fails_when_another_reads_denied(
    world: seeding.World, clients: RecordingClients
) -> None:
    # The seeded trail is single-region: CloudTrail.1 fails it whatever its status says. With no other
    # trail, the region fails, read or not.
    deny(clients, "GetTrailStatus")
    result = run(clients, standards=("fsbp",))
    assert found(result, "CloudTrail.1").status == "FAIL"
    assert found(result, "CloudTrail.3").status == "NOT_AVAILABLE"


def test_a_denied_read_that_leaves_one_region_unknown_gives_the_control_no_datapoint() -> None:
    from trailkeeper.audit import answer as audit_lambda
    from trailkeeper.audit.findings import AuditError

    def finding(status: str, region: str) -> Finding:
        return Finding("CloudTrail.1", "fsbp", status, PLACE, ACCOUNT, region, "t", "why", "r")  # type: ignore[arg-type]

    denied = AuditError(ACCOUNT, OTHER, "AccessDeniedException", "denied")
    result = Audit(("fsbp",), (HOME, OTHER), (finding("PASS", HOME), finding("NOT_AVAILABLE", OTHER)), (denied,))
    assert ("fsbp", "CloudTrail.1") not in audit_lambda.control_counts(result)
    failing = Audit(("fsbp",), (HOME, OTHER), (finding("FAIL", HOME), finding("NOT_AVAILABLE", OTHER)), (denied,))
    assert audit_lambda.control_counts(failing)[("fsbp", "CloudTrail.1")] == 1  # failing is known


# --- CIS 4.8 / 4.9 (3.8 / 3.9 in v5.0): S3 object-level events for all buckets ----------------------


@pytest.mark.parametrize(
    ("put", "write", "read"),
    [
        ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": ALL_S3}]}, "PASS", "PASS"),
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "DataResources": ALL_S3}]}, "PASS", "FAIL"),
        ({"EventSelectors": [{"ReadWriteType": "ReadOnly", "DataResources": ALL_S3}]}, "FAIL", "PASS"),
        (
            {
                "EventSelectors": [
                    {"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::one-bucket/"]}]}
                ]
            },
            "FAIL",
            "FAIL",
        ),
        ({"AdvancedEventSelectors": [management(), s3_data()]}, "PASS", "PASS"),
        # Prowler passes this one for reads: readOnly = false records writes only.
        ({"AdvancedEventSelectors": [management(), s3_data(read_only="false")]}, "PASS", "FAIL"),
        ({"AdvancedEventSelectors": [management(), s3_data(read_only="true")]}, "FAIL", "PASS"),
        ({"AdvancedEventSelectors": [management(), s3_data(arns="arn:aws:s3:::")]}, "PASS", "PASS"),
        ({"AdvancedEventSelectors": [management(), s3_data(arns="arn:aws:s3:::one-bucket/")]}, "FAIL", "FAIL"),
    ],
    ids=[
        "basic-all",
        "basic-write",
        "basic-read",
        "basic-one-bucket",
        "adv-all",
        "adv-write",
        "adv-read",
        "adv-whole-service",
        "adv-one-bucket",
    ],
)
def test_s3_data_events_are_judged_by_what_the_selectors_record(
    world: seeding.World, clients: RecordingClients, put: dict[str, Any], write: str, read: str
) -> None:
    selectors(trail("data"), **put)
    result = run(clients, standards=("cis-6.0",))
    assert (found(result, "4.8").status, found(result, "4.9").status) == (write, read)


def test_s3_data_events_of_a_stopped_trail_are_not_recorded(world: seeding.World, clients: RecordingClients) -> None:
    selectors(trail("stopped", logging=False), EventSelectors=[{"ReadWriteType": "All", "DataResources": ALL_S3}])
    result = run(clients, standards=("cis-5.0",))
    assert found(result, "3.8").status == found(result, "3.9").status == "FAIL"
    assert "is not logging" in found(result, "3.8").reason


# --- trail level: KMS, validation, CloudWatch Logs, tags ----------------------------------------------


def test_trail_controls_fail_then_pass(world: seeding.World, clients: RecordingClients) -> None:
    result = run(clients)
    arn = world.trail_arn
    for control in ("CloudTrail.2", "4.5", "CloudTrail.4", "4.2", "CloudTrail.5", "CloudTrail.9"):
        assert found(result, control, arn).status == "FAIL", control
    assert found(result, "CloudTrail.4", arn).fix == {"Name": arn, "EnableLogFileValidation": True}
    assert found(result, "CloudTrail.2", arn).fix is None  # which key is the owner's choice
    cloudtrail().update_trail(
        Name=arn,
        KmsKeyId=world.key_arn,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=world.log_group_arn + ":*",
        CloudWatchLogsRoleArn=world.role_arn,
    )
    cloudtrail().add_tags(ResourceId=arn, TagsList=[{"Key": "owner", "Value": "security"}])
    result = run(clients)
    for control in ("CloudTrail.2", "4.5", "CloudTrail.4", "4.2", "CloudTrail.5", "CloudTrail.9"):
        assert found(result, control, arn).status == "PASS", control
        assert found(result, control, arn).fix is None


def test_cloudtrail_9_takes_the_required_keys(world: seeding.World, clients: RecordingClients) -> None:
    cloudtrail().add_tags(ResourceId=world.trail_arn, TagsList=[{"Key": "owner", "Value": "security"}])
    result = run(clients, options=Options(("owner", "cost-center")))
    finding = found(result, "CloudTrail.9", world.trail_arn)
    assert finding.status == "FAIL" and "cost-center" in finding.reason and "owner," not in finding.reason


def test_a_cloudwatch_delivery_error_is_a_warning_beside_a_pass() -> None:
    facts = TrailFacts(
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
        ACCOUNT,
        HOME,
        Record.of({"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g"}),
        "bucket",
        delivery_error="AccessDeniedException: role cannot write",
    )
    verdict = compliance.BY_KEY["cloudwatch-logs"].judge(facts, Options())
    assert verdict.status == "PASS"
    assert verdict.warnings == (
        "CloudTrail reports a delivery error to arn:aws:logs:us-east-1:123456789012:log-group:g: "
        "AccessDeniedException: role cannot write",
    )


# --- the log bucket: CloudTrail.6 and CloudTrail.7 / CIS 4.4 -----------------------------------------

BUCKET_ARN = f"arn:aws:s3:::{seeding.BUCKET}"
PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}],
}


def test_a_private_bucket_passes_and_access_logging_is_judged(world: seeding.World, clients: RecordingClients) -> None:
    result = run(clients)
    assert found(result, "CloudTrail.6", BUCKET_ARN).status == "PASS"
    assert found(result, "CloudTrail.7", BUCKET_ARN).status == found(result, "4.4", BUCKET_ARN).status == "FAIL"
    access_logging()
    assert found(run(clients), "CloudTrail.7", BUCKET_ARN).status == "PASS"


def test_a_public_acl_fails_unless_the_public_access_block_ignores_it(
    world: seeding.World, clients: RecordingClients
) -> None:
    s3 = boto3.client("s3", region_name=HOME)
    s3.put_bucket_acl(Bucket=seeding.BUCKET, GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
    finding = found(run(clients), "CloudTrail.6", BUCKET_ARN)
    assert finding.status == "FAIL" and "AllUsers" in finding.reason
    s3.put_public_access_block(Bucket=seeding.BUCKET, PublicAccessBlockConfiguration={"IgnorePublicAcls": True})
    assert found(run(clients), "CloudTrail.6", BUCKET_ARN).status == "PASS"


def test_a_public_policy_fails_unless_public_buckets_are_restricted(
    world: seeding.World, clients: RecordingClients
) -> None:
    s3 = boto3.client("s3", region_name=HOME)
    s3.put_bucket_policy(Bucket=seeding.BUCKET, Policy=json.dumps(PUBLIC_POLICY))
    finding = found(run(clients), "CloudTrail.6", BUCKET_ARN)
    assert finding.status == "FAIL" and "policy is public" in finding.reason
    s3.put_public_access_block(Bucket=seeding.BUCKET, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert found(run(clients), "CloudTrail.6", BUCKET_ARN).status == "PASS"


def test_running_out_of_time_at_the_bucket_reads_keeps_the_trails_findings(
    world: seeding.World, clients: RecordingClients
) -> None:
    """The bucket reads come last: time running out there is an error of the run, and the buckets'
    controls NOT_AVAILABLE, never the whole audit lost (the Lambda would publish nothing)."""

    class NoTimeAfterListBuckets(Deadline):
        def remaining(self) -> float:
            return 0.0 if clients.named("ListBuckets") else super().remaining()

    result = run(clients, deadline=NoTimeAfterListBuckets())
    assert found(result, "CloudTrail.4", world.trail_arn).status == "FAIL"  # the trail was judged
    bucket = found(result, "CloudTrail.6", BUCKET_ARN)
    assert bucket.status == "NOT_AVAILABLE" and "no time left" in bucket.reason
    assert [e.code for e in result.errors] == ["OutOfTime"]
    assert result.exit_code == 1


def test_the_bucket_list_is_asked_in_the_callers_region_not_the_first_audited(
    world: seeding.World, clients: RecordingClients
) -> None:
    """ListBuckets answers from any region; the first one asked may be an opt-in region the caller
    cannot reach, which would leave every bucket unjudged."""
    run(clients, regions=("eu-west-1", HOME), home_region=HOME)
    assert [c.region for c in clients.named("ListBuckets")] == [HOME]


def access_logging() -> None:
    """Server access logging on the demo bucket, to the other demo bucket."""
    s3 = boto3.client("s3", region_name=HOME)
    s3.put_bucket_acl(Bucket=seeding.NEW_BUCKET, ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket=seeding.BUCKET,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": seeding.NEW_BUCKET, "TargetPrefix": "access/"}},
    )


def _log_archive() -> tuple[str, boto3.session.Session]:
    """A bucket in another account (the Log Archive), and a session acting in that account."""
    credentials = boto3.client("sts", region_name=HOME).assume_role(
        RoleArn="arn:aws:iam::111111111111:role/audit", RoleSessionName="audit"
    )["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=HOME,
    )
    session.client("s3").create_bucket(Bucket="log-archive-bucket")
    return "111111111111", session


def test_a_bucket_in_another_account_is_not_available_unless_the_run_covers_it(
    aws: None, clients: RecordingClients
) -> None:
    archive, session = _log_archive()
    arn = cloudtrail().create_trail(Name="central", S3BucketName="log-archive-bucket", IsMultiRegionTrail=True)[
        "TrailARN"
    ]
    cloudtrail().start_logging(Name=arn)
    result = run(clients)
    arn = "arn:aws:s3:::log-archive-bucket"
    assert found(result, "CloudTrail.1").status == "PASS"
    for control in ("CloudTrail.6", "CloudTrail.7", "4.4"):
        finding = found(result, control, arn)
        assert finding.status == "NOT_AVAILABLE" and "another account" in finding.reason and finding.account == ""
    assert not result.errors and not clients.named("GetBucketAcl")  # not a failure, and not tried
    both = run(clients, targets=[audit.Target(ACCOUNT, clients), audit.Target(archive, Clients(session))])
    assert found(both, "CloudTrail.6", arn).status == "PASS"
    assert found(both, "CloudTrail.7", arn).status == "FAIL"
    assert found(both, "CloudTrail.7", arn).account == archive


# --- calls at the limit ---------------------------------------------------------------------------------


def test_calls_are_at_the_limit_and_only_for_the_standards_asked(
    world: seeding.World, clients: RecordingClients
) -> None:
    everywhere = trail("everywhere")  # default selectors: no GetEventSelectors needed
    custom = trail("custom", IsMultiRegionTrail=False)
    selectors(custom, EventSelectors=[{"ReadWriteType": "All", "DataResources": ALL_S3}])
    trail("over-there", IsMultiRegionTrail=False, region=OTHER)  # same bucket: still one read of it
    regions = (HOME, OTHER, "us-west-2")
    run(clients, regions=regions)
    calls = Counter(c.operation for c in clients.calls)
    assert calls["DescribeTrails"] == 3  # one per region, whatever the number of trails
    assert calls["GetTrailStatus"] == 4  # once per trail (the multi-region one once, not per region)
    assert calls["GetEventSelectors"] == 1  # only the trail DescribeTrails says has custom selectors
    assert calls["ListTags"] == 2  # one per home region with trails (up to 20 trails a call)
    assert calls["ListBuckets"] == 1
    for bucket_read in ("GetBucketAcl", "GetBucketPolicyStatus", "GetPublicAccessBlock", "GetBucketLogging"):
        assert calls[bucket_read] == 1, bucket_read
    assert all(c.operation.startswith(("Describe", "Get", "List")) for c in clients.calls)  # read-only
    assert everywhere

    clients.calls.clear()
    run(clients, regions=regions, standards=("cis-6.0",))
    calls = Counter(c.operation for c in clients.calls)
    assert "ListTags" not in calls  # CloudTrail.9 is FSBP's
    assert not {"GetBucketAcl", "GetBucketPolicyStatus", "GetPublicAccessBlock"} & set(calls)  # CloudTrail.6 too
    assert calls["GetBucketLogging"] == 1


def test_a_control_two_standards_share_is_judged_once_and_reported_under_each(
    world: seeding.World, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    trail("everywhere")
    judged: Counter[str] = Counter()

    def counted(control: compliance.Control) -> compliance.Control:
        def judge(subject: Any, options: Options) -> Any:
            judged[control.key] += 1
            return control.judge(subject, options)

        return dataclasses.replace(control, judge=judge)

    monkeypatch.setattr(compliance, "CONTROLS", tuple(counted(c) for c in compliance.CONTROLS))
    result = run(clients, regions=(HOME, OTHER))
    assert judged["multi-region"] == 2  # one place per region, for fsbp's CloudTrail.1 and CIS 4.1 both
    assert found(result, "CloudTrail.1", region=OTHER).reason == found(result, "4.1", region=OTHER).reason
    assert judged["encryption"] == 2  # CloudTrail.2 and CIS 4.5 on each of the two owned trails
    assert {f.control for f in result.findings if f.resource == world.trail_arn} >= {"CloudTrail.2", "4.5"}


def test_a_large_audit_is_judged_with_the_collector_paused(
    world: seeding.World, clients: RecordingClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    enabled: list[bool] = []

    def seen(control: compliance.Control) -> compliance.Control:
        def judge(subject: Any, options: Options) -> Any:
            enabled.append(gc.isenabled())
            return control.judge(subject, options)

        return dataclasses.replace(control, judge=judge)

    monkeypatch.setattr(compliance, "CONTROLS", tuple(seen(c) for c in compliance.CONTROLS))
    run(clients)
    assert enabled and all(enabled)  # one account: as it was
    monkeypatch.setattr("trailkeeper.collector.LARGE_RUN_ACCOUNTS", 1)
    enabled.clear()
    run(clients)
    assert enabled and not any(enabled)
    assert gc.isenabled()


def test_every_call_is_declared(world: seeding.World, clients: RecordingClients) -> None:
    action = {"ListBuckets": "ListAllMyBuckets", "GetPublicAccessBlock": "GetBucketPublicAccessBlock"}
    cloudtrail().put_insight_selectors(
        TrailName=world.trail_arn, InsightSelectors=[{"InsightType": "ApiCallRateInsight"}]
    )
    run(clients, export_trails=True)  # --fix --write-state: the export's reads too
    made = {f"{c.service}:{action.get(c.operation, c.operation)}" for c in clients.calls}
    assert "cloudtrail:GetInsightSelectors" in made
    assert made and made <= set(reads.PERMISSIONS)


def test_a_failed_region_is_an_error_and_the_rest_is_judged(world: seeding.World, clients: RecordingClients) -> None:
    stub = clients.stub("cloudtrail", OTHER)
    stub.add_client_error("describe_trails", service_error_code="AccessDeniedException", service_message="denied")
    result = run(clients, regions=(HOME, OTHER))
    assert result.exit_code == 1
    (error,) = result.errors
    assert (error.region, error.code) == (OTHER, "AccessDeniedException")
    assert found(result, "CloudTrail.3").status == "FAIL"  # us-east-1 is still judged
    assert not [f for f in result.findings if f.region == OTHER]


# --- the report: JSON schema, OCSF, table, exit codes -----------------------------------------------


def _compliant(world: seeding.World) -> str:
    """A trail that passes every CIS v6.0 control: multi-region, logging, KMS, validation, S3 events, access logs."""
    arn = trail("compliant", KmsKeyId=world.key_arn, EnableLogFileValidation=True)
    selectors(arn, AdvancedEventSelectors=[management(), s3_data()])
    cloudtrail().stop_logging(Name=world.trail_arn)
    boto3.client("cloudtrail", region_name=HOME).delete_trail(Name=world.trail_arn)
    access_logging()
    return arn


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), out=out, err=err), out.getvalue(), err.getvalue()


def test_exit_0_when_every_control_passes_and_2_when_one_fails(world: seeding.World) -> None:
    arn = _compliant(world)
    code, out, _ = cli("audit", "--standard", "cis-6.0", "--region", HOME, "--json")
    document = json.loads(out)
    jsonschema.validate(document, findings.AUDIT_SCHEMA)
    assert code == 0, [f for f in document["findings"] if f["status"] != "PASS"]
    assert document["summary"]["FAIL"] == 0 and document["summary"]["PASS"] == len(document["findings"]) == 6
    cloudtrail().update_trail(Name=arn, EnableLogFileValidation=False)
    code, out, _ = cli("audit", "--standard", "cis-6.0", "--region", HOME, "--format", "json")
    document = json.loads(out)
    jsonschema.validate(document, findings.AUDIT_SCHEMA)
    assert code == 2
    assert [(f["control"], f["fix"]) for f in document["findings"] if f["status"] == "FAIL"] == [
        ("4.2", {"Name": arn, "EnableLogFileValidation": True})
    ]


def test_the_table_groups_by_control_with_counts(world: seeding.World) -> None:
    trail("everywhere", EnableLogFileValidation=True)
    code, out, _ = cli("audit", "--region", HOME)
    assert code == 2
    head = out.splitlines()[0].split()
    assert head[:5] == ["CONTROL", "STANDARD", "PASS", "FAIL", "N/A"]
    row = next(line.split() for line in out.splitlines() if line.startswith("CloudTrail.4 "))
    assert row[1:5] == ["fsbp", "1", "1", "0"]  # everywhere passes, audit-trail fails
    assert "remedy        declare EnableLogFileValidation: true" in out
    assert "audit: " in out and " fail, " in out


def test_ocsf_documents_are_detection_findings(world: seeding.World) -> None:
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    code, out, _ = cli("audit", "--region", HOME, "--format", "ocsf")
    documents = json.loads(out)
    assert code == 2 and documents
    for document in documents:
        DetectionFinding.model_validate(document)  # the OCSF models of Prowler's team
        assert (document["class_uid"], document["category_uid"], document["type_uid"]) == (2004, 2, 200401)
        assert document["compliance"]["status_id"] in (0, 1, 3)
    statuses = {d["status_code"]: d["compliance"]["status"] for d in documents}
    assert statuses["FAIL"] == "Fail" and statuses["PASS"] == "Pass"
    assert len({d["finding_info"]["uid"] for d in documents}) == len(documents)  # stable, distinct ids


def test_an_account_level_finding_names_the_account_as_security_hub_does(world: seeding.World) -> None:
    # ASFF: Type AwsAccount, Id AWS::::Account:ID, the region beside it; not an ARN of no service's format.
    regions = ("--region", HOME, "--region", OTHER)
    code, out, _ = cli("audit", "--standard", "fsbp", *regions, "--json")
    document = json.loads(out)
    jsonschema.validate(document, findings.AUDIT_SCHEMA)
    assert code == 2
    places = [(f["resource"], f["region"]) for f in document["findings"] if f["control"] == "CloudTrail.1"]
    assert places == [(PLACE, HOME), (PLACE, OTHER)]
    wrong = dict(document["findings"][0], resource=f"{PLACE}:{HOME}")  # the region goes in its own field
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(dict(document, findings=[wrong]), findings.AUDIT_SCHEMA)

    _, table, _ = cli("audit", "--standard", "fsbp", *regions)
    assert f"  FAIL          {PLACE} {HOME}: no trail here records" in table
    assert f"  FAIL          {PLACE} {OTHER}: no trail here records" in table

    _, out, _ = cli("audit", "--standard", "fsbp", *regions, "--format", "ocsf")
    accounts = [d for d in json.loads(out) if d["compliance"]["control"] == "CloudTrail.1"]
    assert [(d["resources"][0]["uid"], d["resources"][0]["type"], d["resources"][0]["region"]) for d in accounts] == [
        (PLACE, "AwsAccount", HOME),
        (PLACE, "AwsAccount", OTHER),
    ]
    assert {d["resources"][0]["cloud_partition"] for d in accounts} == {"aws"}
    assert len({d["finding_info"]["uid"] for d in accounts}) == 2  # one account, two regions: two findings
    trails = [d for d in json.loads(out) if d["compliance"]["control"] == "CloudTrail.4"]
    assert [d["resources"][0]["type"] for d in trails] == ["AWS::CloudTrail::Trail"]
    assert trails[0]["resources"][0]["cloud_partition"] == "aws"


def test_usage_errors_exit_1_before_any_call(aws: None) -> None:
    code, out, err = cli("audit", "--region", "mars-north-1", "--required-tag", "aws:x", "--json")
    assert code == 1
    assert "mars-north-1" in err and "aws:x" in err
    assert json.loads(out)["error"]["code"] == "InvalidArguments"
    code, _, err = cli("audit", "--json", "--format", "table")
    assert code == 1 and "disagree" in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--standard", "cis-6.0", "--required-tag", "o"], "--required-tag o does nothing with --standard cis-6.0"),
        (["--standard", "cis-5.0", "--fix", "--tag", "o=s"], "--tag o=s does nothing with --standard cis-5.0"),
        (
            ["--standard", "cis-6.0", "--fix", "--log-group", "g", "--log-role", f"arn:aws:iam::{ACCOUNT}:role/r"],
            "--log-group g does nothing with --standard cis-6.0",
        ),
    ],
)
def test_a_flag_no_asked_control_uses_is_refused_naming_it_before_any_call(
    aws: None, argv: list[str], said: str
) -> None:
    """Silently ignored, `--required-tag` without FSBP read as if the tags had been checked (issue 23)."""
    code, out, err = cli("audit", "--region", HOME, *argv, "--json")
    assert code == 1 and said in err, err
    assert "fsbp CloudTrail." in err  # which control would use it, and so which standard to add
    assert json.loads(out)["error"]["code"] == "InvalidArguments"


def test_a_flag_some_asked_control_uses_is_taken(world: seeding.World) -> None:
    code, _, err = cli("audit", "--region", HOME, "--standard", "cis-6.0", "--standard", "fsbp", "--required-tag", "o")
    assert code == 2, err


# --- accounts and regions as plan chooses them ------------------------------------------------------


def _args(*argv: str) -> Any:
    from trailkeeper.cli.main import _parser

    return _parser().parse_args(["audit", *argv])


IDENTITY = {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/auditor"}


def test_by_default_every_enabled_region_is_scanned_once(world: seeding.World, clients: RecordingClients) -> None:
    from devkit.regions import ENABLED_BY_DEFAULT

    from trailkeeper.aws.calls import Deadline
    from trailkeeper.cli import audit as audit_command

    result = audit_command.run(_args(), clients=clients, region=HOME, identity=IDENTITY, deadline=Deadline())
    assert set(result.regions) == set(ENABLED_BY_DEFAULT)
    assert len(clients.named("DescribeRegions")) == 1
    assert sorted(c.region for c in clients.named("DescribeTrails")) == sorted(ENABLED_BY_DEFAULT)
    assert {f.region for f in result.findings if f.control == "CloudTrail.1"} == set(ENABLED_BY_DEFAULT)


def test_an_accounts_inventory_covers_the_log_archive_account(
    tmp_path: Any, aws: None, clients: RecordingClients
) -> None:
    from trailkeeper.aws.calls import Deadline
    from trailkeeper.cli import audit as audit_command

    archive, _ = _log_archive()
    arn = cloudtrail().create_trail(Name="central", S3BucketName="log-archive-bucket", IsMultiRegionTrail=True)
    cloudtrail().start_logging(Name=arn["TrailARN"])
    inventory = tmp_path / "accounts.yml"
    inventory.write_text(
        f'accounts:\n  - account_id: "{ACCOUNT}"\n    name: audit\n'
        f'  - account_id: "{archive}"\n    name: log-archive\n    role: arn:aws:iam::{archive}:role/Audit\n'
    )
    args = _args("--accounts", str(inventory), "--region", HOME)
    result = audit_command.run(args, clients=clients, region=HOME, identity=IDENTITY, deadline=Deadline())
    assert result.accounts == (ACCOUNT, archive) and not result.errors
    finding = found(result, "CloudTrail.7", "arn:aws:s3:::log-archive-bucket")
    assert (finding.status, finding.account) == ("FAIL", archive)  # read by its owner, once
    assert found(result, "CloudTrail.1", f"AWS::::Account:{archive}").status == "FAIL"  # no trail there
    assert len(clients.named("AssumeRole")) == 1


def test_docs_audit_lists_exactly_the_actions_the_audit_calls() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text()
    block = page[page.index("<!-- audit-permissions:start -->") : page.index("<!-- audit-permissions:end -->")]
    listed = set(re.findall(r"`([a-z0-9]+:[A-Za-z]+)`", block))
    assert listed == set(reads.PERMISSIONS)

"""Every remedy in the error table, rendered as a person reads it, naming the facts of *this* trail.

A remedy is a template; the test of the table (test_tables.py) checks that no placeholder is left. This
one checks which fact fills each: the bucket policy names the bucket and the path CloudTrail writes to,
a KMS error the key and its region, and so on, for UpdateTrail and for the other calls (DescribeTrails,
kms:DescribeKey, the credentials).
"""

# ruff: noqa: E501 - one remedy per line, as in error_table.py, reads better than wrapped strings

from __future__ import annotations

import pytest

from trailkeeper import errors
from trailkeeper.aws import error_table

FACTS = {
    "trail": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit",
    "region": "eu-west-1",
    "bucket": "audit-logs",
    "prefix": "org/audit",
    "log_path": "org/audit/AWSLogs/",
    "topic": "trail-deliveries",
    "key": "alias/audit",
}

REMEDIES = {
    ("CloudTrailARNInvalidException", "UpdateTrail"): (
        "the trail ARN arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit is malformed, or not of an account or region this call may reach (AWS says no)"
    ),
    ("CloudTrailAccessNotEnabledException", "UpdateTrail"): (
        "enable trusted access for CloudTrail in AWS Organizations, then retry"
    ),
    ("CloudTrailInvalidClientTokenIdException", "UpdateTrail"): (
        "the caller's credentials are not valid for this organization trail; use the management account"
    ),
    ("CloudWatchLogsDeliveryUnavailableException", "UpdateTrail"): (
        "CloudTrail cannot deliver to the log group now; check the group exists and the role is right, then retry"
    ),
    ("ConflictException", "UpdateTrail"): (
        "another change to trail arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit is in progress; retry in a minute"
    ),
    ("InsufficientDependencyServiceAccessPermissionException", "UpdateTrail"): (
        "the caller may not read AWS Organizations; organization trails need the management account's permissions"
    ),
    ("InsufficientEncryptionPolicyException", "UpdateTrail"): (
        "the policy of KMS key alias/audit must allow cloudtrail.amazonaws.com kms:GenerateDataKey* and kms:DescribeKey"
    ),
    ("InsufficientS3BucketPolicyException", "UpdateTrail"): (
        "the policy of bucket audit-logs must let cloudtrail.amazonaws.com call s3:GetBucketAcl on the bucket and s3:PutObject on org/audit/AWSLogs/*"
    ),
    ("InsufficientSnsTopicPolicyException", "UpdateTrail"): (
        "the policy of topic trail-deliveries must allow cloudtrail.amazonaws.com sns:Publish (and the topic must exist)"
    ),
    ("InvalidCloudWatchLogsLogGroupArnException", "UpdateTrail"): (
        "CloudWatchLogsLogGroupArn must be an existing log group of this account, its ARN ending ':*'"
    ),
    ("InvalidCloudWatchLogsRoleArnException", "UpdateTrail"): (
        "CloudWatchLogsRoleArn must be a role cloudtrail.amazonaws.com can assume, allowed logs:CreateLogStream and logs:PutLogEvents"
    ),
    ("InvalidEventSelectorsException", "UpdateTrail"): (
        "the trail's event selectors are invalid; fix them with PutEventSelectors"
    ),
    ("InvalidHomeRegionException", "UpdateTrail"): (
        "trail arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit must be changed from its home region; give its ARN as Name"
    ),
    ("InvalidKmsKeyIdException", "UpdateTrail"): (
        "KmsKeyId alias/audit is not usable: give a symmetric customer managed key in eu-west-1"
    ),
    ("InvalidParameterCombinationException", "UpdateTrail"): (
        "settings conflict: a multi-region trail must include global service events; log group and role go together (AWS says no)"
    ),
    ("InvalidParameterException", "UpdateTrail"): "CloudTrail rejected a parameter: AWS says no",
    ("InvalidS3BucketNameException", "UpdateTrail"): "S3BucketName audit-logs is not a valid bucket name",
    ("InvalidS3PrefixException", "UpdateTrail"): "S3KeyPrefix org/audit is not valid: at most 200 characters",
    ("InvalidSnsTopicNameException", "UpdateTrail"): ("SnsTopicName trail-deliveries is not a valid topic name or ARN"),
    ("InvalidTrailNameException", "UpdateTrail"): (
        "Name arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit is not a valid trail name or ARN"
    ),
    ("KmsException", "UpdateTrail"): (
        "KMS refused key alias/audit: check it is enabled and its policy allows CloudTrail"
    ),
    ("KmsKeyDisabledException", "UpdateTrail"): ("KMS key alias/audit is disabled: enable it or declare another key"),
    ("KmsKeyNotFoundException", "UpdateTrail"): (
        "KMS key alias/audit was not found in eu-west-1; the key must be in the trail's home region"
    ),
    ("NoManagementAccountSLRExistsException", "UpdateTrail"): (
        "create CloudTrail's service-linked role in the management account (iam:CreateServiceLinkedRole)"
    ),
    ("NotOrganizationMasterAccountException", "UpdateTrail"): (
        "organization trails can be changed only from the management account or a delegated administrator"
    ),
    ("OperationNotPermittedException", "UpdateTrail"): (
        "CloudTrail does not permit this change to arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit; another service may own the trail"
    ),
    ("OrganizationNotInAllFeaturesModeException", "UpdateTrail"): (
        "enable all features in AWS Organizations to use an organization trail"
    ),
    ("OrganizationsNotInUseException", "UpdateTrail"): (
        "this account is not in an organization: set IsOrganizationTrail to false"
    ),
    ("S3BucketDoesNotExistException", "UpdateTrail"): (
        "bucket audit-logs does not exist: create it or fix S3BucketName"
    ),
    ("ThrottlingException", "UpdateTrail"): (
        "CloudTrail kept throttling the call (about 1 write/s per region); retry later"
    ),
    ("TrailNotFoundException", "UpdateTrail"): (
        "trail arn:aws:cloudtrail:eu-west-1:111122223333:trail/audit was not found in eu-west-1: check Name, or give the trail's ARN"
    ),
    ("TrailNotProvidedException", "UpdateTrail"): "no trail was named: set Name",
    ("UnsupportedOperationException", "UpdateTrail"): "CloudTrail does not support this operation in eu-west-1",
    ("AccessDenied", "DescribeTrails"): (
        "the caller (the function's role, or your credentials) may not call DescribeTrails: grant it (docs/iam.md)"
    ),
    ("AccessDeniedException", "DescribeKey"): (
        "the caller (the function's role, or your credentials) may not call DescribeKey: grant it (docs/iam.md)"
    ),
    ("NotFoundException", "DescribeKey"): "KMS key alias/audit was not found in eu-west-1",
    ("DisabledException", "DescribeKey"): ("KMS key alias/audit is disabled: enable it or declare another key"),
    ("KMSInvalidStateException", "DescribeKey"): (
        "KMS key alias/audit is not usable in its current state (pending deletion?)"
    ),
    ("InvalidArnException", "DescribeKey"): "alias/audit is not a valid KMS ARN",
    ("UnrecognizedClientException", "DescribeTrails"): "the credentials are not valid in eu-west-1",
    ("ExpiredToken", "AssumeRole"): "the credentials have expired",
    ("ExpiredTokenException", "DescribeTrails"): "the credentials have expired",
    ("InvalidClientTokenId", "DescribeTrails"): "the credentials are not valid in eu-west-1",
}


def test_every_code_of_both_tables_has_its_remedy_here() -> None:
    assert {code for code, _ in REMEDIES} == set(error_table.UPDATE_TRAIL) | set(error_table.OTHER_CALLS)


@pytest.mark.parametrize(("code", "operation"), sorted(REMEDIES))
def test_each_remedy_names_the_facts_of_this_trail(code: str, operation: str) -> None:
    text = error_table.explain(code, operation, "AWS says no", FACTS)
    assert text == REMEDIES[(code, operation)]
    assert errors.AwsCallFailed(code, operation, text).reason == f"{code}: {text}"


def test_a_fact_nobody_knows_prints_as_a_question_mark() -> None:
    assert error_table.explain("KmsKeyNotFoundException", "UpdateTrail", "no", {"key": "alias/k"}) == (
        "KMS key alias/k was not found in ?; the key must be in the trail's home region"
    )
    assert error_table.explain("S3BucketDoesNotExistException", "UpdateTrail", "no") == (
        "bucket ? does not exist: create it or fix S3BucketName"
    )


def test_the_operation_is_named_even_when_facts_try_to_say_otherwise() -> None:
    text = error_table.explain("AccessDeniedException", "DescribeKey", "no", {"operation": "Other"})
    assert text.startswith("the caller (the function's role, or your credentials) may not call DescribeKey:")


def test_aws_words_are_kept_but_cut_to_100_characters_inside_a_remedy() -> None:
    words = "w" * 150
    text = error_table.explain("InvalidParameterException", "UpdateTrail", words, FACTS)
    assert text == "CloudTrail rejected a parameter: " + "w" * 97 + "..."


def test_an_unknown_code_keeps_aws_words_shortened_to_a_reason() -> None:
    text = error_table.explain("BrandNewException", "DescribeTrails", "m" * 400)
    assert text.startswith("DescribeTrails failed: mmm") and len(text) == errors.REASON_LIMIT


def test_a_code_two_calls_share_gets_the_remedy_of_the_call_that_raised_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # ThrottlingException from a read means something else than from UpdateTrail's 1 write/s limit.
    other = dict(error_table.OTHER_CALLS, ThrottlingException="{operation} was throttled; retry later")
    monkeypatch.setattr(error_table, "OTHER_CALLS", other)
    assert error_table.explain("ThrottlingException", "UpdateTrail", "m").startswith("CloudTrail kept throttling")
    assert (
        error_table.explain("ThrottlingException", "DescribeTrails", "m") == "DescribeTrails was throttled; retry later"
    )


@pytest.mark.parametrize(
    "code", ["TrailNotFoundException", "InvalidTrailNameException", "CloudTrailARNInvalidException"]
)
def test_an_update_trail_code_raised_by_a_read_gets_the_same_remedy(code: str) -> None:
    assert error_table.explain(code, "DescribeTrails", "AWS says no", FACTS) == REMEDIES[(code, "UpdateTrail")]

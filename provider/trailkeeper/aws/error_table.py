"""The error table: every AWS error code trailkeeper can meet, and what a person should do about it.

`UPDATE_TRAIL` covers exactly the codes botocore's model lists for UpdateTrail (a test keeps the two
equal). `ASPECT_CALLS` adds what the calls of the other aspects (logging, selectors, Insights, tags) can
raise, and `OTHER_CALLS` what DescribeTrails, kms:DescribeKey and the credentials can raise.
Remedies are templates: {trail}, {region}, {bucket}, {prefix}, {log_path}, {topic}, {key}, {message} are filled
in from what we know; anything unknown prints as "?".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from trailkeeper.errors import shorten

Caller = Literal["cli", "function"]
CALLERS: tuple[Caller, ...] = ("cli", "function")

_BUCKET_POLICY = (
    "the policy of bucket {bucket} must let cloudtrail.amazonaws.com call s3:GetBucketAcl on the bucket "
    "and s3:PutObject on {log_path}*"
)

UPDATE_TRAIL: Mapping[str, str] = {
    "CloudTrailARNInvalidException": "the trail ARN {trail} is malformed, or not of an account or region this call may reach ({message})",
    "CloudTrailAccessNotEnabledException": "enable trusted access for CloudTrail in AWS Organizations, then retry",
    "CloudTrailInvalidClientTokenIdException": "the caller's credentials are not valid for this organization trail; use the management account",
    "CloudWatchLogsDeliveryUnavailableException": "CloudTrail cannot deliver to the log group now; check the group exists and the role is right, then retry",
    "ConflictException": "another change to trail {trail} is in progress; retry in a minute",
    "InsufficientDependencyServiceAccessPermissionException": "the caller may not read AWS Organizations; organization trails need the management account's permissions",
    "InsufficientEncryptionPolicyException": "the policy of KMS key {key} must allow cloudtrail.amazonaws.com kms:GenerateDataKey* and kms:DescribeKey",
    "InsufficientS3BucketPolicyException": _BUCKET_POLICY,
    "InsufficientSnsTopicPolicyException": "the policy of topic {topic} must allow cloudtrail.amazonaws.com sns:Publish (and the topic must exist)",
    "InvalidCloudWatchLogsLogGroupArnException": "CloudWatchLogsLogGroupArn must be an existing log group of this account, its ARN ending ':*'",
    "InvalidCloudWatchLogsRoleArnException": "CloudWatchLogsRoleArn must be a role cloudtrail.amazonaws.com can assume, allowed logs:CreateLogStream and logs:PutLogEvents",
    "InvalidEventSelectorsException": "the trail's event selectors are invalid; fix them with PutEventSelectors",
    "InvalidHomeRegionException": "trail {trail} must be changed from its home region; give its ARN as Name",
    "InvalidKmsKeyIdException": "KmsKeyId {key} is not usable: give a symmetric customer managed key in {region}",
    "InvalidParameterCombinationException": "settings conflict: a multi-region trail must include global service events; log group and role go together ({message})",
    "InvalidParameterException": "CloudTrail rejected a parameter: {message}",
    "InvalidS3BucketNameException": "S3BucketName {bucket} is not a valid bucket name",
    "InvalidS3PrefixException": "S3KeyPrefix {prefix} is not valid: at most 200 characters",
    "InvalidSnsTopicNameException": "SnsTopicName {topic} is not a valid topic name or ARN",
    "InvalidTrailNameException": "Name {trail} is not a valid trail name or ARN",
    "KmsException": "KMS refused key {key}: check it is enabled and its policy allows CloudTrail",
    "KmsKeyDisabledException": "KMS key {key} is disabled: enable it or declare another key",
    "KmsKeyNotFoundException": "KMS key {key} was not found in {region}; the key must be in the trail's home region",
    "NoManagementAccountSLRExistsException": "create CloudTrail's service-linked role in the management account (iam:CreateServiceLinkedRole)",
    "NotOrganizationMasterAccountException": "organization trails can be changed only from the management account or a delegated administrator",
    "OperationNotPermittedException": "CloudTrail does not permit this change to {trail}; another service may own the trail",
    "OrganizationNotInAllFeaturesModeException": "enable all features in AWS Organizations to use an organization trail",
    "OrganizationsNotInUseException": "this account is not in an organization: set IsOrganizationTrail to false",
    "S3BucketDoesNotExistException": "bucket {bucket} does not exist: create it or fix S3BucketName",
    "ThrottlingException": "CloudTrail kept throttling the call (about 1 write/s per region); retry later",
    "TrailNotFoundException": "trail {trail} was not found in {region}: check Name, or give the trail's ARN",
    "TrailNotProvidedException": "no trail was named: set Name",
    "UnsupportedOperationException": "CloudTrail does not support this operation in {region}",
}

# The codes the aspects' calls (logging, selectors, Insights, tags) can raise beyond UpdateTrail's; the
# channel and event-data-store codes belong to CloudTrail Lake resources, which we never name.
ASPECT_CALLS: Mapping[str, str] = {
    "InvalidEventSelectorsException": "CloudTrail refused the event selectors of {trail}: {message}; fix EventSelectors or AdvancedEventSelectors",
    "InvalidInsightSelectorsException": "CloudTrail refused the Insights of {trail}: {message}; ApiCallRateInsight needs write management events, ApiErrorRateInsight read or write",
    "InsightNotEnabledException": "trail {trail} has no Insights (this means none; report it if you see it)",
    "TagsLimitExceededException": "trail {trail} would have more than 50 tags: declare fewer Tags",
    "InvalidTagParameterException": "CloudTrail refused a tag of {trail}: {message}; keys are 1-128 characters and may not start with aws:",
    "ResourceNotFoundException": "trail {trail} was not found in {region}: it may have been deleted",
    "ResourceTypeNotSupportedException": "{trail} is not a trail ARN CloudTrail can tag",
    "InvalidTokenException": "ListTags lost its place; retry",
    "ChannelARNInvalidException": "{trail} is not a trail ARN (CloudTrail read it as a channel)",
    "ChannelNotFoundException": "{trail} is not a trail ARN (CloudTrail read it as a channel)",
    "EventDataStoreARNInvalidException": "{trail} is not a trail ARN (CloudTrail read it as an event data store)",
    "EventDataStoreNotFoundException": "{trail} is not a trail ARN (CloudTrail read it as an event data store)",
    "InactiveEventDataStoreException": "{trail} is not a trail ARN (CloudTrail read it as an event data store)",
}

OTHER_CALLS: Mapping[str, str] = {
    "AccessDenied": "the caller (the function's role, or your credentials) may not call {operation}: grant it (docs/iam.md)",
    "AccessDeniedException": "the caller (the function's role, or your credentials) may not call {operation}: grant it (docs/iam.md)",
    "NotFoundException": "KMS key {key} was not found in {region}",
    "DisabledException": "KMS key {key} is disabled: enable it or declare another key",
    "KMSInvalidStateException": "KMS key {key} is not usable in its current state (pending deletion?)",
    "InvalidArnException": "{key} is not a valid KMS ARN",
    "UnrecognizedClientException": "the credentials are not valid in {region}",
    "ExpiredToken": "the credentials have expired",
    "ExpiredTokenException": "the credentials have expired",
    "InvalidClientTokenId": "the credentials are not valid in {region}",
}


# What CloudTrail answers an account that may not change an organization trail of another account (a member
# that is neither the management account nor CloudTrail's delegated administrator). No AWS document says which
# code a member's write gets; these are the ones botocore's model gives every write the engine makes
# (NotOrganizationMasterAccountException: "not the management account"; OperationNotPermittedException), the
# one ListTags is seen to answer a member ("CloudTrailARNInvalidException: AccountID in ARN is wrong", cloudquery
# #405, prowler #2025), and IAM's refusal of another account's trail ARN. Where Organizations could not say who
# the delegated administrator is, the engine leaves CloudTrail to decide and turns these, on such a trail only,
# into NotChangeableHere naming who may change it (trail/standing.py). tests/test_tables.py holds them to the model.
NOT_THIS_ACCOUNT = frozenset(
    {
        "NotOrganizationMasterAccountException",
        "OperationNotPermittedException",
        "CloudTrailARNInvalidException",
        "AccessDeniedException",
        "AccessDenied",
    }
)


# STS answers AccessDenied whether the target role is missing, does not trust the caller, or the caller
# may not call sts:AssumeRole; the first two are by far the usual ones (accounts invited into an
# organization have no OrganizationAccountAccessRole; a member role's trust names one principal).
# Short: the account and the role come first in the reason, and a reason keeps 256 characters.
BY_CALLER: Mapping[tuple[str, str], Mapping[Caller, str]] = {
    ("AssumeRole", "AccessDenied"): {
        "cli": "no such role there, or its trust policy does not trust your credentials (invited accounts "
        "lack OrganizationAccountAccessRole: deploy member-role.yaml, --role-name)",
        "function": "no such role there, or it does not trust this function's role: deploy member-role.yaml to "
        "the account (ReconcileRoleArn: this function's role)",
    },
}


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def explain(code: str, operation: str, message: str, facts: Mapping[str, str] | None = None) -> str:
    """What to tell a person about `code` from `operation`: the fix if we know it, AWS's words if not."""
    known = _Facts(facts or {})
    known["operation"] = operation
    known["message"] = shorten(message, 100)
    by_caller = BY_CALLER.get((operation, code), {})
    caller = known["caller"] if known["caller"] in by_caller else "function"
    template = by_caller.get(caller)  # type: ignore[call-overload]
    template = template or (UPDATE_TRAIL.get(code) if operation == "UpdateTrail" else None)
    template = template or ASPECT_CALLS.get(code) or OTHER_CALLS.get(code) or UPDATE_TRAIL.get(code)
    if template is None:
        return shorten(f"{operation} failed: {message}")
    return template.format_map(known)

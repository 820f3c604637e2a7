"""The documented rule behind each control's verdict, and where it is written. Pure data.

A control's status is the verdict its standard's own documented rule gives (Security Hub's controls are
AWS Config's rules with Security Hub's parameters; CIS v6.0 has no Security Hub standard, so its items
follow the CIS text). Where AWS does not publish how its rule reads something, `unpublished` says so and
what trailkeeper does; where trailkeeper's model of the events a trail records would judge otherwise,
`differs` says how (a finding's reason says it too). docs/controls.md renders this table (devkit/docs.py);
tests/test_docs.py holds the page to it, and a test holds it to `controls.CONTROLS`, one rule each.

Sources checked for issue 23 (/tmp/research/securityhub-parity.md kept the quotations): AWS Config's
developer guide, Security Hub's CloudTrail controls reference and its "Compliance details for control
findings", and the CIS v5.0 / v6.0 texts as Prowler's compliance files carry them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

CONFIG_GUIDE = "https://docs.aws.amazon.com/config/latest/developerguide/"
SECURITY_HUB = "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html"
CLOUDTRAIL_GUIDE = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
TRAIL_STATUS = "https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_GetTrailStatus.html"
OWN_RULE = "trailkeeper's own (no AWS standard judges delivery): CloudTrail's documented requirements"
CIS_V6 = "CIS AWS Foundations Benchmark v6.0.0 (no Security Hub standard: the CIS text is the rule)"


@dataclass(frozen=True)
class Rule:
    identifier: str  # the AWS Config rule (or Security Hub's own logic) that gives Security Hub's verdict
    says: str  # what the rule is documented to judge, in short
    sources: tuple[str, ...]  # where it is written
    unpublished: str = ""  # what AWS does not publish of it, and what trailkeeper does there
    differs: str = ""  # where trailkeeper's events model would judge otherwise (the status is the rule's)


RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "multi-region": Rule(
            "multi-region-cloudtrail-enabled (Security Hub sets readWriteType ALL, includeManagementEvents true)",
            "at least one multi-region trail with a selector of read and write management events; NON_COMPLIANT "
            "when ExcludeManagementEventSources is not empty, or management events such as KMS or RDS Data API "
            "are excluded",
            (f"{CONFIG_GUIDE}multi-region-cloudtrail-enabled.html", f"{SECURITY_HUB}#cloudtrail-1", CIS_V6),
            "how the rule reads advanced selectors: trailkeeper reads one on eventCategory Management without "
            "readOnly (nor any other condition) as ReadWriteType All, and eventSource NotEquals as an exclusion; "
            'whether a stopped trail fails: trailkeeper fails it (Security Hub: the control fails "if '
            'CloudTrail is disabled"; CIS 4.1 asks IsLogging); organization trails and shadows: a trail seen in '
            "the region counts",
            "the events model passes read and write management events recorded by two selectors (ReadOnly and "
            "WriteOnly), and an exclusion another selector makes up for; the rule fails both, and so does "
            "trailkeeper, saying in the reason that every event is recorded. --fix changes the selectors in "
            "place, so both agree after it",
        ),
        "logging": Rule(
            "cloudtrail-enabled",
            "NON_COMPLIANT if a trail is not enabled",
            (f"{CONFIG_GUIDE}cloudtrail-enabled.html", f"{SECURITY_HUB}#cloudtrail-3"),
            "whether enabled means logging: trailkeeper asks IsLogging (GetTrailStatus); organization trails and "
            "shadows: a trail seen in the region counts",
        ),
        "encryption": Rule(
            "cloud-trail-encryption-enabled",
            "COMPLIANT if the KmsKeyId is defined",
            (f"{CONFIG_GUIDE}cloud-trail-encryption-enabled.html", f"{SECURITY_HUB}#cloudtrail-2", CIS_V6),
        ),
        "validation": Rule(
            "cloud-trail-log-file-validation-enabled",
            "NON_COMPLIANT if log file validation is not enabled",
            (f"{CONFIG_GUIDE}cloud-trail-log-file-validation-enabled.html", f"{SECURITY_HUB}#cloudtrail-4", CIS_V6),
        ),
        "cloudwatch-logs": Rule(
            "cloud-trail-cloud-watch-logs-enabled (Security Hub sets no expectedDeliveryWindowAge)",
            "NON_COMPLIANT if the CloudWatchLogsLogGroupArn property of the trail is empty",
            (f"{CONFIG_GUIDE}cloud-trail-cloud-watch-logs-enabled.html", f"{SECURITY_HUB}#cloudtrail-5"),
            differs="a delivery error GetTrailStatus reports is shown as a warning beside the PASS, as the rule "
            "without expectedDeliveryWindowAge does not look at delivery",
        ),
        "tagged": Rule(
            "Security Hub's own rule of the AWS Resource Tagging standard (requiredTagKeys)",
            "without required keys, fails a trail with no tag key; with them, one missing any; aws: tags ignored",
            (f"{SECURITY_HUB}#cloudtrail-9",),
            "the rule's Config name and trigger (probably tagged-cloudtrail-trail)",
        ),
        "s3-write-events": Rule(
            "cloudtrail-all-write-s3-data-event-check",
            "NON_COMPLIANT if no multi-region trail logs all write S3 data event types for all current and "
            "future S3 buckets",
            (f"{CONFIG_GUIDE}cloudtrail-all-write-s3-data-event-check.html", CIS_V6),
            "how advanced selectors narrowed by resources.ARN or eventName are read: trailkeeper counts only "
            "every bucket (no narrowing, or StartsWith arn:aws:s3:::); whether enabled means logging: it does",
        ),
        "s3-read-events": Rule(
            "cloudtrail-all-read-s3-data-event-check",
            "NON_COMPLIANT if no multi-region trail logs all read S3 data event types for all current and "
            "future S3 buckets",
            (f"{CONFIG_GUIDE}cloudtrail-all-read-s3-data-event-check.html", CIS_V6),
            "as for write events; an advanced selector with readOnly = false records writes only, and fails",
        ),
        "bucket-not-public": Rule(
            "Security Hub's own logic finding the log bucket, then Config's managed rules on it (not named)",
            "fails when the trail's bucket is publicly accessible; other accounts and regions: No data",
            (f"{SECURITY_HUB}#cloudtrail-6",),
            "which managed rules: trailkeeper reads the ACL grants, the policy status and the public access "
            "block; a bucket in an account outside the run is NOT_AVAILABLE (Security Hub: No data there)",
        ),
        "bucket-access-logging": Rule(
            "Security Hub's own logic finding the log bucket, then Config's managed rule on it (not named)",
            "fails when server access logging is not enabled on the trail's bucket",
            (f"{SECURITY_HUB}#cloudtrail-7", CIS_V6),
            "which managed rule: trailkeeper reads GetBucketLogging; a bucket in an account outside the run is "
            "NOT_AVAILABLE (Security Hub: No data there)",
        ),
        # The delivery standard is trailkeeper's own: no AWS Config rule judges whether logs arrive. Its
        # rules are CloudTrail's documented requirements on each link, and GetTrailStatus's own report.
        "delivery-logs": Rule(
            OWN_RULE,
            "CloudTrail needs s3:GetBucketAcl on the bucket and s3:PutObject on its AWSLogs folder (with "
            "bucket-owner-full-control); GetTrailStatus reports LatestDeliveryError and LatestDeliveryTime",
            (f"{CLOUDTRAIL_GUIDE}create-s3-bucket-policy-for-cloudtrail.html", TRAIL_STATUS),
            "how late is too late: trailkeeper fails a logging trail with no log file within a day",
        ),
        "delivery-digests": Rule(
            OWN_RULE,
            "with log file validation on, CloudTrail writes a digest file every hour (SSE-S3), reported as "
            "LatestDigestDeliveryError and LatestDigestDeliveryTime",
            (f"{CLOUDTRAIL_GUIDE}create-s3-bucket-policy-for-cloudtrail.html", TRAIL_STATUS),
            "how late is too late: trailkeeper fails a digest older than two hours",
        ),
        "delivery-cloudwatch": Rule(
            OWN_RULE,
            "the role trusts cloudtrail.amazonaws.com and allows logs:CreateLogStream and logs:PutLogEvents on "
            "the group's streams; GetTrailStatus reports LatestCloudWatchLogsDeliveryError",
            (f"{CLOUDTRAIL_GUIDE}cloudtrail-required-policy-for-cloudwatch-logs.html", TRAIL_STATUS),
        ),
        "delivery-notifications": Rule(
            OWN_RULE,
            "the topic policy allows cloudtrail.amazonaws.com SNS:Publish; GetTrailStatus reports "
            "LatestNotificationError",
            (f"{CLOUDTRAIL_GUIDE}cloudtrail-permissions-for-sns-notifications.html", TRAIL_STATUS),
        ),
        "delivery-encryption": Rule(
            OWN_RULE,
            "the key policy allows CloudTrail kms:GenerateDataKey* in the trail's encryption context and "
            "kms:DescribeKey; a disabled key or one pending deletion stops delivery",
            (f"{CLOUDTRAIL_GUIDE}create-kms-key-policy-for-cloudtrail.html", TRAIL_STATUS),
        ),
    }
)

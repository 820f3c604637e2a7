"""Seed a local AWS (moto) with what the sample events refer to.

Works against moto in-process (`endpoint_url=None` inside `mock_aws()`) or moto's server.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import boto3

ACCOUNT = "123456789012"
HOME = "us-east-1"
BUCKET, NEW_BUCKET = "trailkeeper-demo-logs", "trailkeeper-demo-logs-2"
TOPIC = "trail-deliveries"
ALIAS = "alias/trailkeeper-demo"
LOG_GROUP = "trailkeeper-demo"
ROLE = "trailkeeper-demo-cloudwatch"
TRAIL = "audit-trail"


def use_local_credentials(endpoint_url: str | None = None) -> None:
    """Fake credentials and the home region for this process (and its children); never real AWS."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local-secret",
        AWS_REGION=HOME,
        AWS_DEFAULT_REGION=HOME,
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url  # every boto3 client, the provider's included
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request


@dataclass(frozen=True)
class World:
    trail_arn: str
    key_arn: str
    key_id: str
    topic_arn: str
    log_group_arn: str
    role_arn: str


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)


CLOUDTRAIL = {"Service": "cloudtrail.amazonaws.com"}


def bucket_policy(bucket: str, account: str = ACCOUNT) -> str:
    """The bucket policy AWS documents for CloudTrail, for every trail of `account` (any prefix, any trail)."""
    source = {"StringLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{account}:trail/*"}}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSCloudTrailAclCheck",
                    "Effect": "Allow",
                    "Principal": CLOUDTRAIL,
                    "Action": "s3:GetBucketAcl",
                    "Resource": f"arn:aws:s3:::{bucket}",
                    "Condition": source,
                },
                {
                    "Sid": "AWSCloudTrailWrite",
                    "Effect": "Allow",
                    "Principal": CLOUDTRAIL,
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                    "Condition": {**source, "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                },
            ],
        }
    )


def key_policy(account: str = ACCOUNT) -> str:
    """The account's own use of the key, and the two statements AWS documents for CloudTrail."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "Allow CloudTrail to encrypt logs",
                    "Effect": "Allow",
                    "Principal": CLOUDTRAIL,
                    "Action": "kms:GenerateDataKey*",
                    "Resource": "*",
                    "Condition": {
                        "StringLike": {
                            "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"
                        }
                    },
                },
                {
                    "Sid": "Allow CloudTrail access",
                    "Effect": "Allow",
                    "Principal": CLOUDTRAIL,
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                },
            ],
        }
    )


def topic_policy(topic_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AWSCloudTrailSNSPolicy",
                    "Effect": "Allow",
                    "Principal": CLOUDTRAIL,
                    "Action": "SNS:Publish",
                    "Resource": topic_arn,
                }
            ],
        }
    )


def logs_policy(group: str = LOG_GROUP, account: str = ACCOUNT) -> str:
    """What the CloudWatch Logs role must allow: CreateLogStream and PutLogEvents on the group's streams."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"arn:aws:logs:*:{account}:log-group:{group}:log-stream:*",
                }
            ],
        }
    )


def seed(endpoint_url: str | None = None, regions: tuple[str, ...] = (HOME,)) -> World:
    """Buckets, a topic, a KMS key with an alias, a log group, a role and the trail `audit-trail`: each with the
    policy AWS documents for CloudTrail, so that the trail delivers (devkit/delivery_world.py)."""
    s3 = _client("s3", HOME, endpoint_url)
    for bucket in (BUCKET, NEW_BUCKET):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(bucket))
    sns = _client("sns", HOME, endpoint_url)
    topic_arn = sns.create_topic(Name=TOPIC)["TopicArn"]
    sns.set_topic_attributes(TopicArn=topic_arn, AttributeName="Policy", AttributeValue=topic_policy(topic_arn))
    kms = _client("kms", HOME, endpoint_url)
    key = kms.create_key(Description="trailkeeper demo key", Policy=key_policy())["KeyMetadata"]
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key["KeyId"])
    logs = _client("logs", HOME, endpoint_url)
    logs.create_log_group(logGroupName=LOG_GROUP)
    group_arn = f"arn:aws:logs:{HOME}:{ACCOUNT}:log-group:{LOG_GROUP}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": CLOUDTRAIL}],
    }
    iam = _client("iam", HOME, endpoint_url)
    role_arn = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=ROLE, PolicyName="cloudtrail-logs", PolicyDocument=logs_policy())
    trail = _client("cloudtrail", HOME, endpoint_url).create_trail(
        Name=TRAIL, S3BucketName=BUCKET, S3KeyPrefix="legacy", IncludeGlobalServiceEvents=True
    )
    return World(trail["TrailARN"], key["Arn"], key["KeyId"], topic_arn, group_arn, role_arn)


def add_trail(name: str, region: str, endpoint_url: str | None = None, **settings: Any) -> str:
    """Another trail, homed in `region`, delivering to the demo bucket; returns its ARN."""
    client = _client("cloudtrail", region, endpoint_url)
    return str(client.create_trail(Name=name, S3BucketName=BUCKET, **settings)["TrailARN"])

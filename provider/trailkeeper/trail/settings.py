"""The one table of trail settings.

Each row says, for one UpdateTrail parameter: the DescribeTrails field it is read back from (the names
differ: you send EnableLogFileValidation and read LogFileValidationEnabled), its type, the rule its
value must follow, whether "" is allowed (it clears the setting), and the value CloudTrail assumes
when a read leaves the field out. Validation, normalisation, the plan, the docs' property table and
the tests all read from here.

The set of parameters and their types come from botocore's model, so a parameter AWS adds later is
accepted without a code change; the rules for the parameters known today stay explicit below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, wraps
from typing import Any, Literal, TypeVar, cast

from trailkeeper import botocore_model as model
from trailkeeper.trail import rules
from trailkeeper.typed_tuple import TypedTuple

T = TypeVar("T")
Kind = Literal["string", "boolean"]
Value = str | bool

# Properties of the custom resource that are not trail settings.
NAME = "Name"
NOT_SETTINGS = frozenset({"ServiceToken", "ServiceTimeout"})


class Setting(TypedTuple):
    name: str
    read_as: str | None  # the DescribeTrails field holding the current value; None: CloudTrail never says
    kind: Kind
    rule: str  # the rule in words, for errors and docs/properties.md
    check: rules.Check | None = None
    clearable: bool = True  # strings only: does "" clear the setting?
    default: Value | None = None  # what an absent field in a read means; None: unknown
    description: str = ""


def _bool(name: str, read_as: str, default: bool, description: str) -> Setting:
    return Setting(name, read_as, "boolean", "true or false", None, False, default, description)


# The settings known today, with their rules. Anything else UpdateTrail accepts gets a generic row.
KNOWN: Mapping[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "S3BucketName",
            "S3BucketName",
            "string",
            rules.BUCKET_RULE,
            rules.s3_bucket_name,
            clearable=False,
            description="Bucket that receives the log files.",
        ),
        Setting(
            "S3KeyPrefix",
            "S3KeyPrefix",
            "string",
            "at most 200 characters",
            rules.s3_key_prefix,
            default="",
            description="Key prefix in the bucket, before AWSLogs/.",
        ),
        Setting(
            "SnsTopicName",
            "SnsTopicARN",
            "string",
            "a topic name or ARN, at most 256 characters",
            rules.sns_topic,
            default="",
            description="Topic told of each log file delivery.",
        ),
        _bool(
            "IncludeGlobalServiceEvents",
            "IncludeGlobalServiceEvents",
            True,
            "Log events of global services such as IAM.",
        ),
        _bool("IsMultiRegionTrail", "IsMultiRegionTrail", False, "Log every region, not only the home region."),
        _bool(
            "EnableLogFileValidation",
            "LogFileValidationEnabled",
            False,
            "Write digest files that prove log files were not changed.",
        ),
        Setting(
            "CloudWatchLogsLogGroupArn",
            "CloudWatchLogsLogGroupArn",
            "string",
            "a log group ARN (':*' optional), declared together with CloudWatchLogsRoleArn",
            rules.log_group_arn,
            default="",
            description="Log group that also receives the events.",
        ),
        Setting(
            "CloudWatchLogsRoleArn",
            "CloudWatchLogsRoleArn",
            "string",
            "an IAM role ARN, declared together with CloudWatchLogsLogGroupArn",
            rules.iam_role_arn,
            default="",
            description="Role CloudTrail assumes to write to the log group.",
        ),
        Setting(
            "KmsKeyId",
            "KmsKeyId",
            "string",
            "alias/NAME, an alias ARN, a key ARN, a key id or an mrk- key id",
            rules.kms_key,
            default="",
            description="KMS key that encrypts log and digest files.",
        ),
        _bool(
            "IsOrganizationTrail", "IsOrganizationTrail", False, "Apply the trail to every account of the organization."
        ),
        _bool(
            "RecursiveLogging",
            "RecursiveLogging",
            True,
            "Log the events CloudTrail itself causes when it delivers logs.",
        ),
    )
}


def _generic(name: str, kind: str, readable: frozenset[str]) -> Setting | None:
    if kind not in ("string", "boolean"):
        return None  # a structure or list parameter needs rules of its own before we accept it
    read_as = name if name in readable else None
    rule = "true or false" if kind == "boolean" else "a string"
    return Setting(name, read_as, "boolean" if kind == "boolean" else "string", rule)


@cache
def table() -> Mapping[str, Setting]:
    """Every trail setting UpdateTrail accepts in the installed botocore, keyed by parameter name."""
    readable = model.trail_fields()
    rows: dict[str, Setting] = {}
    for name, kind in model.update_trail_parameters().items():
        if name == NAME:
            continue
        row = KNOWN.get(name) or _generic(name, kind, readable)
        if row is not None:
            rows[name] = row
    return rows


def of_table(work: Callable[[Mapping[str, Setting]], T]) -> Callable[[], T]:
    """`work` on the settings table, done once per table rather than once per event (a test that gives
    botocore a newer model clears `table`, and the next call works it out again).

    >>> names = of_table(lambda rows: tuple(rows))
    >>> names() is names() and "KmsKeyId" in names()
    True
    """
    done: list[Any] = []

    @wraps(work)
    def result() -> T:
        rows = table()
        if not done or done[0] is not rows:
            done[:] = [rows, work(rows)]
        return cast("T", done[1])

    return result

"""Offline checks of single values, with the documented rule each one enforces.

Each check returns None when the value is fine, or the rule it breaks, in words a person can act on.
They are pure: no AWS, no I/O. Cross-setting rules live in `declaration.py` and `consistency.py`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

Check = Callable[[str], "str | None"]

_PARTITION = r"aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_ACCOUNT = r"\d{12}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_MRK = r"mrk-[0-9a-fA-F]{32}"

TRAIL_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):cloudtrail:(?P<region>{_REGION}):(?P<account>{_ACCOUNT}):trail/(?P<name>.+)$"
)
KMS_KEY_ARN = re.compile(rf"^arn:{_PARTITION}:kms:{_REGION}:{_ACCOUNT}:key/(?:{_UUID}|{_MRK})$")
KMS_ALIAS_ARN = re.compile(rf"^arn:{_PARTITION}:kms:{_REGION}:{_ACCOUNT}:alias/[a-zA-Z0-9/_-]{{1,250}}$")
KMS_ALIAS_NAME = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")
KMS_KEY_ID = re.compile(rf"^(?:{_UUID}|{_MRK})$")
SNS_TOPIC_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):sns:(?P<region>{_REGION}):(?P<account>{_ACCOUNT}):(?P<name>[A-Za-z0-9_-]{{1,256}})$"
)
SNS_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
LOG_GROUP_ARN = re.compile(rf"^arn:{_PARTITION}:logs:{_REGION}:{_ACCOUNT}:log-group:[A-Za-z0-9._/#-]{{1,512}}(?::\*)?$")
IAM_ROLE_ARN = re.compile(rf"^arn:{_PARTITION}:iam::{_ACCOUNT}:role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{{1,64}}$")

TRAIL_NAME_RULE = (
    "a trail name is 3-128 characters: letters, digits, '.', '_' or '-', starting and ending with a "
    "letter or digit, with no two of '.', '_', '-' in a row, and not an IP address"
)


def _is_ip_address(value: str) -> bool:
    if ":" not in value and value.strip("0123456789."):
        return False  # neither IPv4 (digits and dots only) nor IPv6 (colons): no need to ask ipaddress
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def trail_name(value: str) -> str | None:
    if not 3 <= len(value) <= 128 or not re.fullmatch(r"[A-Za-z0-9._-]+", value):
        return TRAIL_NAME_RULE
    if not (value[0].isalnum() and value[-1].isalnum()):
        return TRAIL_NAME_RULE
    if re.search(r"[._-]{2}", value) or _is_ip_address(value):
        return TRAIL_NAME_RULE
    return None


def trail_name_or_arn(value: str) -> str | None:
    if value.startswith("arn:"):
        match = TRAIL_ARN.match(value)
        if match is None or trail_name(match["name"]) is not None:
            return f"a trail ARN is arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME, where {TRAIL_NAME_RULE}"
        return None
    return trail_name(value)


BUCKET_RULE = (
    "a bucket name is 3-63 of a-z 0-9 . -, starts and ends with a letter or digit, has no '..', is no IP "
    "address, and has no xn--/sthree- prefix or -s3alias/--ol-s3 suffix"
)


def s3_bucket_name(value: str) -> str | None:
    if not 3 <= len(value) <= 63 or not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", value):
        return BUCKET_RULE
    if ".." in value or _is_ip_address(value):
        return BUCKET_RULE
    if value.startswith(("xn--", "sthree-")) or value.endswith(("-s3alias", "--ol-s3")):
        return BUCKET_RULE
    return None


def s3_key_prefix(value: str) -> str | None:
    return "an S3 key prefix is at most 200 characters" if len(value) > 200 else None


def sns_topic(value: str) -> str | None:
    if len(value) > 256:
        return "an SNS topic name or ARN is at most 256 characters"
    if value.startswith("arn:"):
        return None if SNS_TOPIC_ARN.match(value) else "an SNS topic ARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME"
    if SNS_TOPIC_NAME.match(value):
        return None
    return "an SNS topic name is 1-256 letters, digits, '-' or '_' (or give the topic's ARN)"


def kms_key(value: str) -> str | None:
    if any(p.match(value) for p in (KMS_KEY_ARN, KMS_ALIAS_ARN, KMS_ALIAS_NAME, KMS_KEY_ID)):
        return None
    return "a KMS key is alias/NAME, an alias ARN, a key ARN, a key id (UUID) or a multi-Region key id (mrk-...)"


def log_group_arn(value: str) -> str | None:
    if LOG_GROUP_ARN.match(value):
        return None
    return "a CloudWatch Logs group ARN is arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME, with or without ':*'"


def iam_role_arn(value: str) -> str | None:
    return None if IAM_ROLE_ARN.match(value) else "an IAM role ARN is arn:PARTITION:iam::ACCOUNT:role/NAME"

"""Offline checks of single values, with the documented rule each one enforces.

Each check returns None when the value is fine, or the rule it breaks, in words a person can act on.
They are pure: no AWS, no I/O. Cross-setting rules live in `declaration.py` and `consistency.py`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

Check = Callable[[str], "str | None"]

# Each pattern is matched whole (`re.fullmatch`: `$` would let a trailing newline through) and in ASCII
# (`\d` and `\w` would take any script's digits and letters, which AWS refuses). Each is compiled by `re` at
# its first use, so a declaration pays only for the kinds of value it holds.
_PARTITION = r"aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
_KEY_ID = r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32}"
_ALIAS_NAME = r"alias/[a-zA-Z0-9/_-]{1,250}"
_TOPIC_NAME = r"[A-Za-z0-9_-]{1,256}"
_LOG_GROUP = r"log-group:[A-Za-z0-9._/#-]{1,512}(?::\*)?"
_ROLE = r"role/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,64}"


def _whole(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value, re.ASCII) is not None


def arn(value: str, service: str) -> tuple[str, str, str, str] | None:
    """The partition, region, account and resource of an ARN of `service`, or None when `value` is not
    one. IAM's ARNs have no region; every other service here has one.

    >>> arn("arn:aws:logs:us-east-1:111122223333:log-group:audit:*", "logs")
    ('aws', 'us-east-1', '111122223333', 'log-group:audit:*')
    >>> arn("arn:aws:iam:us-east-1:111122223333:role/audit", "iam") is None  # IAM's ARNs name no region
    True
    """
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != service:
        return None
    _, partition, _, region, account, resource = parts
    if not _whole(_PARTITION, partition) or not (len(account) == 12 and account.isascii() and account.isdigit()):
        return None
    has_region = _whole(_REGION, region) if service != "iam" else region == ""
    return (partition, region, account, resource) if has_region else None


def is_region(value: str) -> bool:
    """A region name, such as eu-west-1 or us-gov-west-1."""
    return _whole(_REGION, value)


def trail_arn(value: str) -> tuple[str, str, str, str] | None:
    """The partition, region, account and trail name of a trail ARN, or None."""
    parts = arn(value, "cloudtrail")
    if parts is None or not parts[3].startswith("trail/") or parts[3] == "trail/":
        return None
    return (*parts[:3], parts[3][len("trail/") :])


def sns_topic_arn(value: str) -> tuple[str, str, str, str] | None:
    """The partition, region, account and topic name of an SNS topic ARN, or None."""
    parts = arn(value, "sns")
    return parts if parts is not None and _whole(_TOPIC_NAME, parts[3]) else None


def is_kms_key_id(value: str) -> bool:
    """A key id: a UUID, or a multi-Region key's mrk-... id."""
    return _whole(_KEY_ID, value)


def is_kms_key_arn(value: str) -> bool:
    parts = arn(value, "kms")
    return parts is not None and parts[3].startswith("key/") and is_kms_key_id(parts[3][len("key/") :])


def _is_kms_alias(value: str) -> bool:
    parts = arn(value, "kms") if value.startswith("arn:") else ("", "", "", value)
    return parts is not None and _whole(_ALIAS_NAME, parts[3])


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
        parts = trail_arn(value)
        if parts is None or trail_name(parts[3]) is not None:
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
        return None if sns_topic_arn(value) else "an SNS topic ARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME"
    if _whole(_TOPIC_NAME, value):
        return None
    return "an SNS topic name is 1-256 letters, digits, '-' or '_' (or give the topic's ARN)"


def kms_key(value: str) -> str | None:
    if is_kms_key_id(value) or is_kms_key_arn(value) or _is_kms_alias(value):
        return None
    return "a KMS key is alias/NAME, an alias ARN, a key ARN, a key id (UUID) or a multi-Region key id (mrk-...)"


def log_group_arn(value: str) -> str | None:
    parts = arn(value, "logs")
    if parts is not None and _whole(_LOG_GROUP, parts[3]):
        return None
    return "a CloudWatch Logs group ARN is arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME, with or without ':*'"


def iam_role_arn(value: str) -> str | None:
    parts = arn(value, "iam")
    if parts is not None and _whole(_ROLE, parts[3]):
        return None
    return "an IAM role ARN is arn:PARTITION:iam::ACCOUNT:role/NAME"

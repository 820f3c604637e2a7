"""Offline checks of single values, with the documented rule each one enforces.

Each check returns None when the value is fine, or the rule it breaks, in words a person can act on.
They are pure: no AWS, no I/O. Cross-setting rules live in `declaration.py` and `consistency.py`.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable

Check = Callable[[str], "str | None"]

# Each documented pattern (tests/test_rules_whole.py keeps them) is checked as the set of characters each field
# may hold, whole and in ASCII: a regular expression's `$` lets a trailing newline through and its `\d` and `\w`
# take any script's digits and letters, which AWS refuses; and compiling the patterns was a millisecond of
# every cold start, while sets of characters cost nothing to build.
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
_ALNUM = _LOWER | _DIGITS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HEX = _DIGITS | frozenset("abcdefABCDEF")
_NAME = _ALNUM | frozenset("._-")  # a trail name's
_BUCKET = _LOWER | _DIGITS | frozenset(".-")
_TOPIC = _ALNUM | frozenset("_-")
_ALIAS = _ALNUM | frozenset("/_-")
_LOG_GROUP = _ALNUM | frozenset("._/#-")
_ROLE_NAME = _ALNUM | frozenset("_+=,.@-")
_ROLE_PATH = frozenset(chr(c) for c in range(0x21, 0x7F))  # printable ASCII but the space
_UUID_GROUPS = [8, 4, 4, 4, 12]


def _made_of(value: str, allowed: frozenset[str], most: int = 1 << 16) -> bool:
    """`value` has 1 to `most` characters, each of `allowed`."""
    return 0 < len(value) <= most and allowed.issuperset(value)


def is_partition(value: str) -> bool:
    """aws, or aws- and words of lower-case letters: aws-cn, aws-us-gov, aws-iso-b."""
    return value == "aws" or (value.startswith("aws-") and all(_made_of(w, _LOWER) for w in value[4:].split("-")))


def is_region(value: str) -> bool:
    """A region name: words of lower-case letters, the first of two to four, and a number (eu-west-1,
    us-gov-west-1, eusc-de-east-1 in the European Sovereign Cloud). Looser than botocore's pattern for each
    partition, which names the prefixes; every region botocore lists fits (tests/test_rules_whole.py)."""
    *words, number = value.split("-")
    return (
        len(words) >= 2
        and 2 <= len(words[0]) <= 4
        and "" not in words
        and _LOWER.issuperset("".join(words))
        and _made_of(number, _DIGITS)
    )


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
    if not (len(account) == 12 and _DIGITS.issuperset(account)) or not is_partition(partition):
        return None
    has_region = is_region(region) if service != "iam" else region == ""
    return (partition, region, account, resource) if has_region else None


def trail_arn(value: str) -> tuple[str, str, str, str] | None:
    """The partition, region, account and trail name of a trail ARN, or None. The name is taken as it is (an
    ARN AWS returned); a declared one is checked by `trail_name_or_arn`."""
    parts = arn(value, "cloudtrail")
    if parts is None or not parts[3].startswith("trail/") or parts[3] == "trail/":
        return None
    return (*parts[:3], parts[3][len("trail/") :])


def sns_topic_arn(value: str) -> tuple[str, str, str, str] | None:
    """The partition, region, account and topic name of an SNS topic ARN, or None."""
    parts = arn(value, "sns")
    return parts if parts is not None and _made_of(parts[3], _TOPIC, 256) else None


def is_kms_key_id(value: str) -> bool:
    """A key id: a UUID, or a multi-Region key's mrk- and 32 hexadecimal digits."""
    if value.startswith("mrk-"):
        return len(value) == 36 and _made_of(value[4:], _HEX)
    return [len(group) for group in value.split("-")] == _UUID_GROUPS and _made_of(value.replace("-", ""), _HEX)


def is_kms_key_arn(value: str) -> bool:
    parts = arn(value, "kms")
    return parts is not None and parts[3].startswith("key/") and is_kms_key_id(parts[3][len("key/") :])


def _is_kms_alias(value: str) -> bool:
    parts = arn(value, "kms") if value.startswith("arn:") else ("", "", "", value)
    return parts is not None and parts[3].startswith("alias/") and _made_of(parts[3][len("alias/") :], _ALIAS, 250)


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
    if not 3 <= len(value) <= 128 or not _NAME.issuperset(value):
        return TRAIL_NAME_RULE
    if not (value[0].isalnum() and value[-1].isalnum()):
        return TRAIL_NAME_RULE
    if any(a in "._-" and b in "._-" for a, b in itertools.pairwise(value)) or _is_ip_address(value):
        return TRAIL_NAME_RULE
    return None


def trail_name_or_arn(value: str) -> str | None:
    if value.startswith("arn:"):
        parts = trail_arn(value)
        if parts is None or trail_name(parts[3]) is not None:
            return f"a trail ARN is arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME, where {TRAIL_NAME_RULE}"
        return None
    return trail_name(value)


# The prefixes and suffixes S3 reserves (its bucket naming rules): no bucket a trail can write to has them. AWS's
# own examples name a bucket amzn-s3-demo-bucket, so a copied example is refused here, not at UpdateTrail.
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
BUCKET_RULE = (  # short enough that CloudFormation's 256-character reason keeps it whole with its property
    "a bucket name is 3-63 of a-z 0-9 . -, begins and ends with a-z or 0-9, has no '..', is no IP address, "
    f"has no prefix {'/'.join(_RESERVED_PREFIXES)} and no suffix {'/'.join(_RESERVED_SUFFIXES)}"
)


def s3_bucket_name(value: str) -> str | None:
    if not (3 <= len(value) <= 63 and _BUCKET.issuperset(value) and value[0].isalnum() and value[-1].isalnum()):
        return BUCKET_RULE
    if ".." in value or _is_ip_address(value):
        return BUCKET_RULE
    if value.startswith(_RESERVED_PREFIXES) or value.endswith(_RESERVED_SUFFIXES):
        return BUCKET_RULE
    return None


def s3_key_prefix(value: str) -> str | None:
    return "an S3 key prefix is at most 200 characters" if len(value) > 200 else None


def sns_topic(value: str) -> str | None:
    if len(value) > 256:
        return "an SNS topic name or ARN is at most 256 characters"
    if value.startswith("arn:"):
        return None if sns_topic_arn(value) else "an SNS topic ARN is arn:PARTITION:sns:REGION:ACCOUNT:NAME"
    if _made_of(value, _TOPIC, 256):
        return None
    return "an SNS topic name is 1-256 letters, digits, '-' or '_' (or give the topic's ARN)"


def kms_key(value: str) -> str | None:
    if is_kms_key_id(value) or is_kms_key_arn(value) or _is_kms_alias(value):
        return None
    return "a KMS key is alias/NAME, an alias ARN, a key ARN, a key id (UUID) or a multi-Region key id (mrk-...)"


def log_group_arn(value: str) -> str | None:
    group = parts[3].removesuffix(":*") if (parts := arn(value, "logs")) else ""
    if group.startswith("log-group:") and _made_of(group[len("log-group:") :], _LOG_GROUP, 512):
        return None
    return "a CloudWatch Logs group ARN is arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME, with or without ':*'"


def iam_role_arn(value: str) -> str | None:
    path, _, name = parts[3].rpartition("/") if (parts := arn(value, "iam")) else ("", "", "")
    if (path == "role" or (path.startswith("role/") and _made_of(path, _ROLE_PATH))) and _made_of(name, _ROLE_NAME, 64):
        return None
    return "an IAM role ARN is arn:PARTITION:iam::ACCOUNT:role/NAME"

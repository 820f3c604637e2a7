"""Put declared and current settings in one form, so that equal settings never look different.

- A KMS key in any form (alias name, alias ARN, key id, mrk- id, key ARN) compares as the key's ARN,
  which is how CloudTrail reads it back. Only an alias needs KMS to say which key it names, and only
  when the strings differ (`kms_key_arn` takes the lookup as an argument: this module stays pure).
- An SNS topic name compares as the topic ARN in the trail's region and account.
- A log group ARN compares without its ':*' suffix and is sent with it (CloudTrail requires it).
- An absent string setting and "" are the same: not set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from trailkeeper.trail import rules, settings
from trailkeeper.trail.arns import TrailHome
from trailkeeper.trail.settings import Value

KMS, SNS, LOG_GROUP = "KmsKeyId", "SnsTopicName", "CloudWatchLogsLogGroupArn"

Current = Mapping[str, Value | None]  # setting -> current value; None: CloudTrail did not say


def _strip_star(arn: str) -> str:
    return arn.removesuffix(":*")


def current_view(trail: Mapping[str, Any]) -> dict[str, Value | None]:
    """A DescribeTrails `Trail` as {setting: value}, in compare form, for every readable setting."""
    view: dict[str, Value | None] = {}
    for row in settings.table().values():
        if row.read_as is None:
            continue
        raw = trail.get(row.read_as)
        value: Value | None = row.default if raw is None else raw
        if row.name == LOG_GROUP and isinstance(value, str):
            value = _strip_star(value)
        view[row.name] = value
    return view


def kms_key_arn(declared: str, current: Value | None, home: TrailHome, describe_key: Callable[[str], str]) -> str:
    """The declared key in the form CloudTrail reads back (its ARN), as far as a comparison needs it.

    `describe_key(alias)` returns the key ARN an alias points to (kms:DescribeKey in the home region);
    it is called only for an alias that does not match the current setting literally while the trail
    has a key. A trail without a key differs from any declared key, so the alias is kept as it is
    (CloudTrail resolves it when it is sent): no lookup is needed to know it must be written.
    """
    if declared in ("", current) or rules.is_kms_key_arn(declared):
        return declared
    if rules.is_kms_key_id(declared):
        if isinstance(current, str) and current.endswith(f":key/{declared}"):
            return current  # a key id names one key, whatever account holds it (Security's, for an organization)
        return f"arn:{home.partition}:kms:{home.region}:{home.account}:key/{declared}"
    if not current:
        return declared
    return describe_key(declared)


def desired_view(declared: Mapping[str, Value], home: TrailHome) -> dict[str, Value]:
    """Declared settings in compare form. KmsKeyId must already be resolved by `kms_key_arn`."""
    view = dict(declared)
    topic = view.get(SNS)
    if isinstance(topic, str) and topic and not topic.startswith("arn:"):
        view[SNS] = f"arn:{home.partition}:sns:{home.region}:{home.account}:{topic}"
    group = view.get(LOG_GROUP)
    if isinstance(group, str):
        view[LOG_GROUP] = _strip_star(group)
    return view


def wire_value(name: str, value: Value, home: TrailHome) -> Value:
    """The value to send UpdateTrail for a setting, from its compare form."""
    if name == LOG_GROUP and isinstance(value, str) and value:
        return value + ":*"
    if name == SNS and isinstance(value, str):
        topic = rules.sns_topic_arn(value)
        if topic and topic[:3] == (home.partition, home.region, home.account):
            # A topic of the trail's own account and region is sent by name: CloudTrail resolves it
            # there to the same ARN (and moto, which tests run against, mishandles an ARN here).
            return topic[3]
    return value

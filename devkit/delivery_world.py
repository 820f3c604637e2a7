"""What CloudTrail's GetTrailStatus would say of a trail's delivery, derived from the local AWS's state.

moto reports every logging trail as delivering, now, on every call, and never an error (aws-facts.md,
"Delivery"). CloudTrail says what went wrong in `LatestDeliveryError`, `LatestDigestDeliveryError`,
`LatestCloudWatchLogsDeliveryError` and `LatestNotificationError`, and stops moving the matching time. The
fidelity layer (devkit/fidelity.py) answers GetTrailStatus through `DeliveredStatus`, which looks at the
world as CloudTrail's next delivery would meet it:

- log files: the bucket is gone (NoSuchBucket); no bucket policy statement lets cloudtrail.amazonaws.com
  PutObject (AccessDenied); the trail's key is gone, disabled or pending deletion, or its policy does not let
  CloudTrail GenerateDataKey (KMS.NotFoundException, KMS.DisabledException, KMS.KMSInvalidStateException,
  KMS.AccessDeniedException);
- digest files: as log files, the key aside (digests are SSE-S3);
- CloudWatch Logs: the group is gone (ResourceNotFoundException), or the role is gone, does not trust
  CloudTrail, or has no policy allowing logs:PutLogEvents (AccessDeniedException);
- notifications: the topic is gone (NotFound), or its policy lets no cloudtrail.amazonaws.com Publish
  (AuthorizationError).

The checks are deliberately simpler than trailkeeper's evaluator (audit/policy.py) and written apart from
it: a statement counts when its Effect, principal (`*` or the service) and action (exact, the service's
`*`, `*`) match, and a `StringEquals aws:SourceArn` it carries names the trail; a Deny with no condition that
matches stops it. The tests hold trailkeeper's verdicts against this world, not against itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

SERVICE = "cloudtrail.amazonaws.com"


def _statements(document: object) -> list[Mapping[str, Any]]:
    if isinstance(document, (bytes, str)):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    found = document.get("Statement", [])
    found = [found] if isinstance(found, Mapping) else found
    return [s for s in found if isinstance(s, Mapping)] if isinstance(found, list) else []


def _listed(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _for_cloudtrail(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, Mapping) and SERVICE in _listed(principal.get("Service"))


def _action(statement: Mapping[str, Any], action: str) -> bool:
    service = action.split(":", maxsplit=1)[0]
    wanted = {action.lower(), f"{service}:*", "*"}
    if action.endswith("GenerateDataKey"):
        wanted.add("kms:generatedatakey*")
    return any(a.lower() in wanted for a in _listed(statement.get("Action")))


def _names_trail(statement: Mapping[str, Any], trail_arn: str) -> bool:
    condition = statement.get("Condition") or {}
    equals = condition.get("StringEquals", {}) if isinstance(condition, Mapping) else {}
    named = {k.lower(): v for k, v in equals.items()} if isinstance(equals, Mapping) else {}
    return "aws:sourcearn" not in named or trail_arn in _listed(named["aws:sourcearn"])


def lets_cloudtrail(document: object, action: str, trail_arn: str, *, identity: bool = False) -> bool:
    """Whether a policy lets CloudTrail (or, `identity`, the role CloudTrail assumes) make `action`."""
    statements = _statements(document)
    denied = any(
        s.get("Effect") == "Deny" and not s.get("Condition") and (identity or _for_cloudtrail(s)) and _action(s, action)
        for s in statements
    )
    return not denied and any(
        s.get("Effect") == "Allow"
        and (identity or _for_cloudtrail(s))
        and _action(s, action)
        and _names_trail(s, trail_arn)
        for s in statements
    )


def _bucket(name: str) -> Any:
    from moto.s3.models import s3_backends

    found = s3_backends.bucket_accounts.get(name)
    if found is None:
        return None
    partition, account = found
    return s3_backends[account][partition].buckets.get(name)


def _key(arn: str) -> Any:
    from moto.kms.models import kms_backends

    parts = arn.split(":")
    if len(parts) < 6:
        return None
    backend = kms_backends[parts[4]][parts[3]]
    return backend.keys.get(parts[5].split("/", 1)[-1])


def _bucket_error(trail: Any) -> str:
    bucket = _bucket(trail.bucket_name)
    if bucket is None:
        return "NoSuchBucket"
    if not lets_cloudtrail(bucket.policy or b"{}", "s3:PutObject", trail.arn):
        return "AccessDenied"
    return ""


def _key_error(trail: Any) -> str:
    key = _key(trail.kms_key_id or "")
    if key is None:
        return "KMS.NotFoundException"
    if key.key_state == "Disabled":
        return "KMS.DisabledException"
    if key.key_state != "Enabled":
        return "KMS.KMSInvalidStateException"
    if not lets_cloudtrail(key.policy, "kms:GenerateDataKey", trail.arn):
        return "KMS.AccessDeniedException"
    return ""


def _role_documents(account: str, name: str) -> tuple[object, Iterable[object]] | None:
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    role = next((r for r in backend.roles.values() if r.name == name), None)
    if role is None:
        return None
    documents: list[object] = list(role.policies.values())
    documents += [v.document for p in role.managed_policies.values() for v in p.versions if v.is_default_version]
    return role.assume_role_policy_document, documents


def _logs_error(trail: Any) -> str:
    from moto.logs.models import logs_backends

    group = trail.cw_log_group_arn.removesuffix(":*")
    parts = group.split(":")
    name = group.split(":log-group:", 1)[-1]
    if len(parts) < 7 or name not in logs_backends[parts[4]][parts[3]].groups:
        return "ResourceNotFoundException"
    role = trail.cw_role_arn or ""
    found = _role_documents(role.split(":")[4], role.rsplit("/", 1)[-1]) if role.count(":") >= 5 else None
    if found is None:
        return "AccessDeniedException"
    trust, documents = found
    if not lets_cloudtrail(trust, "sts:AssumeRole", trail.arn):
        return "AccessDeniedException"
    if not any(lets_cloudtrail(d, "logs:PutLogEvents", trail.arn, identity=True) for d in documents):
        return "AccessDeniedException"
    return ""


def _topic_error(trail: Any) -> str:
    from moto.sns.models import sns_backends

    arn = trail.sns_topic_name if str(trail.sns_topic_name).startswith("arn:") else trail.topic_arn
    parts = str(arn).split(":")
    topic = sns_backends[parts[4]][parts[3]].topics.get(arn) if len(parts) >= 6 else None
    if topic is None:
        return "NotFound"
    if not lets_cloudtrail(topic.policy, "sns:Publish", trail.arn):
        return "AuthorizationError"
    return ""


class DeliveredStatus:
    """A trail's GetTrailStatus, with delivery as CloudTrail would report it from the world's state."""

    def __init__(self, trail: Any) -> None:
        self._trail = trail

    def description(self) -> dict[str, Any]:
        trail = self._trail
        answer: dict[str, Any] = trail.status.description()
        if not answer.get("IsLogging"):
            return answer
        now = answer.get("LatestDeliveryTime")
        errors = {"LatestDeliveryError": _bucket_error(trail) or (_key_error(trail) if trail.kms_key_id else "")}
        if trail.log_validation:
            errors["LatestDigestDeliveryError"] = _bucket_error(trail)
        if trail.cw_log_group_arn:
            errors["LatestCloudWatchLogsDeliveryError"] = _logs_error(trail)
        if trail.sns_topic_name:
            errors["LatestNotificationError"] = _topic_error(trail)
        times = {
            "LatestDeliveryError": "LatestDeliveryTime",
            "LatestDigestDeliveryError": "LatestDigestDeliveryTime",
            "LatestCloudWatchLogsDeliveryError": "LatestCloudWatchLogsDeliveryTime",
            "LatestNotificationError": "LatestNotificationTime",
        }
        for field, error in errors.items():
            if error:  # the error, and no delivery since logging started (the world has no history)
                answer[field] = error
                answer.pop(times[field], None)
            elif now is not None:
                answer[times[field]] = now
        return answer

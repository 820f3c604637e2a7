"""The Lambda audit's memory: which (standard, control, resource) failed last time, kept in an SSM
parameter between invocations, and the SNS message sent when that set changes.

- **Where**: the String parameter AUDIT_STATE_PARAMETER names (template.yaml creates it with the value
  `NOTHING_YET` and grants ssm:GetParameter and ssm:PutParameter on exactly it).
- **What**: a standard parameter holds 4 KB, and an account can fail thousands of findings. The value is
  a small JSON document: the SHA-256 digest of the whole set (the sorted keys), its size, and the keys
  themselves zlib-compressed (trail ARNs share long prefixes), as many as fit (`kept`). The digest
  alone says whether anything changed; the keys say what.
- **When to tell**: the first run (nothing remembered) tells if anything fails; the same set tells
  nothing and writes nothing; a different set tells what newly fails and what passes again (exactly
  when the whole set was remembered; when only its first keys in sorted order were, exactly up to the
  last of them, and the message counts the failures beyond it, whose newness is not known). A read that
  failed (`AuditErrors`) is part of the set too (`error ACCOUNT REGION CODE`), so an audit that could
  not look is told, not taken for a pass.
- **Order**: publish, then remember. A publish that failed leaves the memory as it was, so the next run
  tells again; a write that failed is logged, the run still returns its report, and the next run
  compares with the older memory, so it tells again too. Nothing is lost, at worst told twice.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trailkeeper.audit.facts import FAIL
from trailkeeper.audit.findings import Audit
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed, TrailkeeperError, shorten
from trailkeeper.trail import arns

log = logging.getLogger(__name__)

STATE_PARAMETER = "AUDIT_STATE_PARAMETER"
NOTHING_YET = "nothing remembered yet"  # the value template.yaml creates the parameter with
VALUE_LIMIT = 4096  # characters in a standard SSM parameter
VERSION = 1
LISTED = 100  # findings named per section of a message; the rest are counted
REASON_SHOWN = 400  # characters of a reason (an account-level one can name every trail's shortfall)
MESSAGE_LIMIT = 250_000  # SNS takes 256 KB


def failing(result: Audit) -> dict[str, str]:
    """The audit's failures, key -> reason: `STANDARD CONTROL RESOURCE` per failing finding (an account-level
    resource with its region: `Finding.where`), and
    `error ACCOUNT REGION CODE` per read that failed."""
    found = {f"{f.standard} {f.control} {f.where}": f.reason for f in result.findings if f.status == FAIL}
    for error in result.errors:
        found[f"error {error.account or '-'} {error.region or '-'} {error.code}"] = error.reason
    return found


def digest(keys: Any) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()


@dataclass(frozen=True)
class Remembered:
    digest: str
    count: int
    keys: frozenset[str]  # all of them when `complete`, else the first ones (sorted) that fit

    @property
    def complete(self) -> bool:
        return len(self.keys) == self.count

    def covers(self, key: str) -> bool:
        """Whether the memory knows if `key` failed: the kept keys are the first ones in sorted order, so
        every key up to the last one kept is known exactly."""
        return self.complete or (bool(self.keys) and key <= max(self.keys))


def encode(keys: Any, limit: int = VALUE_LIMIT) -> str:
    """The parameter's value for `keys`: the digest, the count, and as many keys (sorted) as fit in `limit`."""
    ordered = sorted(keys)
    whole = digest(ordered)

    def value(kept: int) -> str:
        packed = base64.b64encode(zlib.compress("\n".join(ordered[:kept]).encode(), 9)).decode()
        document = {"version": VERSION, "digest": whole, "count": len(ordered), "kept": kept, "keys": packed}
        return json.dumps(document, separators=(",", ":"))

    if len(value(len(ordered))) <= limit:
        return value(len(ordered))
    low, high = 0, len(ordered)  # value(low) fits (the keys-free document is ~150 characters), value(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(value(middle)) <= limit else (low, middle)
    return value(low)


def decode(text: str) -> Remembered | None:
    """What a parameter value remembers (None: nothing yet), or ValueError if it is not ours."""
    if text.strip() == NOTHING_YET:
        return None
    try:
        document = json.loads(text)
        packed = zlib.decompress(base64.b64decode(document["keys"], validate=True)).decode()
        keys = frozenset(packed.split("\n")) if packed else frozenset()
        remembered = Remembered(str(document["digest"]), int(document["count"]), keys)
    except (ValueError, KeyError, TypeError, zlib.error) as error:
        raise ValueError(f"not a remembered audit ({type(error).__name__}: {error})") from error
    if document.get("version") != VERSION or len(keys) != document.get("kept") or len(keys) > remembered.count:
        raise ValueError("not a remembered audit (its version or counts do not hold)")
    return remembered


@dataclass(frozen=True)
class Change:
    newly_failing: tuple[str, ...]
    passing_again: tuple[str, ...]
    before: int | None  # failures remembered; None: nothing was
    after: int
    unknown: int = 0  # failures now beyond what was remembered: whether they are new is not known
    unread: str = ""  # why the memory could not be read (then every failure is told as new)


def compare(previous: Remembered | None, current: Mapping[str, str]) -> Change | None:
    """What changed since `previous`; None when nothing did (or nothing fails on a first run)."""
    if previous is None:
        return Change(tuple(sorted(current)), (), None, len(current)) if current else None
    if previous.digest == digest(current):
        return None
    newly = tuple(sorted(k for k in current if k not in previous.keys and previous.covers(k)))
    again = tuple(sorted(previous.keys - set(current)))  # every kept key is known to have failed
    unknown = sum(1 for k in current if not previous.covers(k))
    return Change(newly, again, previous.count, len(current), unknown=unknown)


def _section(title: str, keys: tuple[str, ...], reasons: Mapping[str, str]) -> list[str]:
    if not keys:
        return []
    lines = [f"{title} ({len(keys)}):"]
    for key in keys[:LISTED]:
        reason = reasons.get(key)
        lines.append(f"  {key}" + (f": {shorten(reason, REASON_SHOWN)}" if reason else ""))
    if len(keys) > LISTED:
        lines.append(f"  ... and {len(keys) - LISTED} more")
    return [*lines, ""]


def message(result: Audit, change: Change, reasons: Mapping[str, str], where: str) -> tuple[str, str]:
    """(subject, body) of the SNS message telling `change`; `where` names what was audited (an account)."""
    if change.before is None:
        subject = f"trailkeeper audit {where}: {change.after} failing (first audit)"
        head = f"First audit of {where}: {change.after} failure(s)."
        if change.unread:
            subject = f"trailkeeper audit {where}: {change.after} failing (previous audit unreadable)"
            head = (
                f"The audit of {where}: {change.after} failure(s); the previous ones could not be read "
                f"({change.unread}), so every one is listed."
            )
    else:
        subject = (
            f"trailkeeper audit {where}: {len(change.newly_failing)} newly failing, "
            f"{len(change.passing_again)} passing again"
        )
        head = f"The audit of {where} changed: {change.after} failure(s) now, {change.before} before."
    scope = f"Standards {', '.join(result.standards)}; {len(result.regions)} region(s): {', '.join(result.regions)}."
    lines = [head, scope, ""]
    if change.unknown:
        lines += [
            f"The previous failures were too many to remember in full: whether {change.unknown} of today's "
            "(after the last one remembered, in sorted order) are new is not known, and some that pass again "
            "may not be listed.",
            "",
        ]
    lines += _section("Newly failing", change.newly_failing, reasons)
    again = "Passing again" + (" (or not judged: a read failed, see the errors)" if result.errors else "")
    lines += _section(again, change.passing_again, {})
    if change.before is not None and not change.newly_failing and not change.passing_again:
        lines += ["What changed lies among the failures too many to remember.", ""]
    by_control = [(c, s, row["FAIL"]) for c, s, row in result.by_control() if row["FAIL"]]
    if by_control:
        lines.append("Failing now, by control:")
        lines += [f"  {standard} {control}: {count} resource(s)" for control, standard, count in by_control]
        lines.append("")
    lines.append('Every finding: `trailkeeper audit --json`, or invoke the function with {"action": "audit"}.')
    return subject[:100], "\n".join(lines)[:MESSAGE_LIMIT]


def _read(clients: Clients, region: str, name: str, deadline: Deadline) -> tuple[Remembered | None, str]:
    """The remembered failures (None: nothing, or unreadable), and why not when it could not be read."""
    try:
        answer = call(
            "GetParameter",
            lambda: clients.client("ssm", region).get_parameter(Name=name),
            deadline=deadline,
            facts={"region": region},
        )
        return decode(str(answer["Parameter"]["Value"])), ""
    except AwsCallFailed as error:
        if error.aws_code == "ParameterNotFound":
            return None, ""
        log.error("could not read the audit's memory: every failure is told", extra={"reason": error.reason})
        return None, error.reason
    except (TrailkeeperError, ValueError) as error:
        log.error("could not read the audit's memory: every failure is told", extra={"reason": str(error)})
        return None, str(error)


def track(
    result: Audit,
    *,
    clients: Clients,
    region: str,
    parameter: str,
    topic: str,
    where: str,
    deadline: Deadline,
) -> Change | None:
    """Compare the audit's failures with the remembered ones; tell `topic` (if set) and remember them when
    they changed. Never raises: a failure here is logged, and the next run tells again."""
    current = failing(result)
    previous, unread = _read(clients, region, parameter, deadline)
    change = compare(previous, current)
    if change is not None and unread:
        change = dataclasses.replace(change, unread=unread)
    if change is None:
        log.info("audit failures unchanged: nothing told, nothing written", extra={"failing": len(current)})
        return None
    if topic:
        subject, body = message(result, change, current, where)
        try:
            call(
                "Publish",
                lambda: clients.client("sns", arns.region_of(topic) or region).publish(
                    TopicArn=topic, Subject=subject, Message=body
                ),
                deadline=deadline,
            )
        except Exception:  # the audit is done; not remembering means the next run tells again
            log.exception("could not publish the audit's change: it is not remembered, the next run tells again")
            return change
    try:
        call(
            "PutParameter",
            lambda: clients.client("ssm", region).put_parameter(
                Name=parameter, Value=encode(current), Type="String", Overwrite=True
            ),
            deadline=deadline,
            facts={"region": region},
        )
    except Exception:  # the report still returns; the older memory makes the next run tell again
        log.exception("could not remember the audit's failures: the next run tells this change again")
    return change

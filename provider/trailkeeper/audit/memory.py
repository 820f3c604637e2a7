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
- **Scope**: a run compares only what it judged, its standards x accounts x regions (each account in its
  own regions). The memory records the scope it covers (`VERSION` 2; a version 1 value, written before,
  still decodes, its scope unknown). A remembered failure this run did not judge is neither newly failing
  nor passing again: outside the scope (a region or standard left out this time), or NOT_AVAILABLE (a read
  failed), it is kept as it was, and counted in the message. A failure in a part of the scope never
  audited before is "first audited", not "newly failing", and a change of scope is said as such. A
  failure that is gone while its place was audited (a trail deleted) passes again; a log bucket's (its
  key names no account or region) only when this run covers the whole previous scope.
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

from trailkeeper.audit.facts import ACCOUNT_RESOURCE_PREFIX, FAIL, NOT_AVAILABLE, PASS
from trailkeeper.audit.findings import Audit
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import AwsCallFailed, TrailkeeperError, shorten
from trailkeeper.trail import arns

log = logging.getLogger(__name__)

STATE_PARAMETER = "AUDIT_STATE_PARAMETER"
NOTHING_YET = "nothing remembered yet"  # the value template.yaml creates the parameter with
VALUE_LIMIT = 4096  # characters in a standard SSM parameter
VERSION = 2  # 2: the scope is remembered beside the failures (1 still decodes)
VERSIONS = (1, 2)
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


Unit = tuple[str, str, str]  # (standard, account, region): the scope a run judged is a set of these


def scope_of(result: Audit) -> frozenset[Unit]:
    """What `result` judged: each standard in each account in that account's regions."""
    return frozenset(
        (standard, account, region)
        for standard in result.standards
        for account in result.accounts
        for region in result.regions_of(account)
    )


def unit_of(key: str) -> tuple[str | None, str, str] | None:
    """Where a remembered key was judged: (standard, or None for a read error; account; region), or None when
    its key does not say (a log bucket's ARN names no account or region)."""
    words = key.split(" ")
    if words[0] == "error" and len(words) >= 4:
        return None, words[1], words[2]
    if len(words) < 3:
        return None
    standard, resource = words[0], words[2]
    if resource.startswith(ACCOUNT_RESOURCE_PREFIX) and len(words) >= 4:
        return standard, resource.removeprefix(ACCOUNT_RESOURCE_PREFIX), words[3]
    if ":cloudtrail:" in resource:
        return standard, arns.account_of(resource), arns.region_of(resource)
    return None


@dataclass(frozen=True)
class Remembered:
    digest: str
    count: int
    keys: frozenset[str]  # all of them when `complete`, else the first ones (sorted) that fit
    scope: frozenset[Unit] | None = None  # what the remembered failures cover; None: not recorded (version 1)

    @property
    def complete(self) -> bool:
        return len(self.keys) == self.count

    def covers(self, key: str) -> bool:
        """Whether the memory knows if `key` failed: the kept keys are the first ones in sorted order, so
        every key up to the last one kept is known exactly."""
        return self.complete or (bool(self.keys) and key <= max(self.keys))


def _pack(lines: Any) -> str:
    return base64.b64encode(zlib.compress("\n".join(lines).encode(), 9)).decode()


def _unpack(packed: str) -> list[str]:
    text = zlib.decompress(base64.b64decode(packed, validate=True)).decode()
    return text.split("\n") if text else []


def encode(keys: Any, limit: int = VALUE_LIMIT, scope: frozenset[Unit] | None = None) -> str:
    """The parameter's value for `keys`: the digest, the count, the scope they cover, and as many keys (sorted)
    as fit in `limit`. The scope comes first (a few hundred bytes: standards x regions of one account); a
    scope too large to leave room for keys is not recorded, and the next run reads it as unknown."""
    ordered = sorted(keys)
    whole = digest(ordered)
    units = _pack(sorted(" ".join(unit) for unit in scope)) if scope is not None else None
    if units is not None and len(units) > limit // 2:
        units = None

    def value(kept: int) -> str:
        document: dict[str, Any] = {
            "version": VERSION,
            "digest": whole,
            "count": len(ordered),
            "kept": kept,
            "keys": _pack(ordered[:kept]),
            "scope": units,
        }
        return json.dumps(document, separators=(",", ":"))

    if len(value(len(ordered))) <= limit:
        return value(len(ordered))
    low, high = 0, len(ordered)  # value(low) fits (the keys-free document is small), value(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(value(middle)) <= limit else (low, middle)
    return value(low)


def decode(text: str) -> Remembered | None:
    """What a parameter value remembers (None: nothing yet), or ValueError if it is not ours. A version 1
    value (written before scopes were remembered) decodes with its scope unknown."""
    if text.strip() == NOTHING_YET:
        return None
    try:
        document = json.loads(text)
        keys = frozenset(_unpack(document["keys"]))
        scope: frozenset[Unit] | None = None
        if document.get("version") == VERSION and document["scope"] is not None:
            scope = frozenset(_unit(line) for line in _unpack(document["scope"]))
        remembered = Remembered(str(document["digest"]), int(document["count"]), keys, scope)
    except (ValueError, KeyError, TypeError, zlib.error) as error:
        raise ValueError(f"not a remembered audit ({type(error).__name__}: {error})") from error
    if document.get("version") not in VERSIONS or len(keys) != document.get("kept") or len(keys) > remembered.count:
        raise ValueError("not a remembered audit (its version or counts do not hold)")
    return remembered


def _unit(line: str) -> Unit:
    standard, account, region = line.split(" ")
    return standard, account, region


@dataclass(frozen=True)
class Judged:
    """What a run judged: its scope, every finding's status by key, and where its reads failed."""

    scope: frozenset[Unit]
    statuses: Mapping[str, str]  # key (as `failing` makes it) -> PASS, FAIL or NOT_AVAILABLE; read errors FAIL
    unread: frozenset[tuple[str, str]]  # (account, region) where a read failed ('' region: the whole account)

    @classmethod
    def of(cls, result: Audit) -> Judged:
        statuses = {f"{f.standard} {f.control} {f.where}": str(f.status) for f in result.findings}
        statuses.update(dict.fromkeys(failing(result).keys() - statuses.keys(), str(FAIL)))
        unread = frozenset((e.account, e.region) for e in result.errors)
        return cls(scope_of(result), statuses, unread)

    def covers(self, unit: tuple[str | None, str, str]) -> bool:
        standard, account, region = unit
        if standard is not None:
            return unit in self.scope
        return any(u[1] == account and (u[2] == region or region in ("", "-")) for u in self.scope)

    def read(self, account: str, region: str) -> bool:
        return (account, region) not in self.unread and (account, "") not in self.unread


@dataclass(frozen=True)
class Change:
    newly_failing: tuple[str, ...]
    passing_again: tuple[str, ...]
    before: int | None  # failures remembered; None: nothing was
    after: int
    unknown: int = 0  # failures now beyond what was remembered: whether they are new is not known
    unread: str = ""  # why the memory could not be read (then every failure is told as new)
    first_audited: tuple[str, ...] = ()  # failing where no audit remembered looked before (the scope grew)
    kept_unjudged: int = 0  # remembered failures NOT_AVAILABLE now (a read failed): kept, not told
    kept_outside: int = 0  # remembered failures outside this run's scope: kept, not told
    scope_change: str = ""  # how this run's scope differs from the remembered one, in words
    remember: frozenset[str] | None = None  # what to remember (this run's failures and those kept); None: them
    scope: frozenset[Unit] | None = None  # the scope to remember
    exact: bool = False  # judged per key: "passing again" is a pass, or gone where the run looked
    changed: bool = True  # the remembered set differs (else only the scope grew: written, not told)

    @property
    def tells(self) -> bool:
        return self.changed or self.before is None


def _scope_words(before: frozenset[Unit], now: frozenset[Unit]) -> str:
    """How `now` differs from `before`, by standards, accounts and regions ('' when it does not)."""
    if before == now:
        return ""
    parts = []
    for index, name, verb in ((0, "standards", "judged"), (1, "accounts", "audited"), (2, "regions", "audited")):
        was, cur = {u[index] for u in before}, {u[index] for u in now}
        if was - cur:
            parts.append(f"{name} {', '.join(sorted(was - cur))} not {verb} this time")
        if cur - was:
            parts.append(f"{name} {', '.join(sorted(cur - was))} {verb} for the first time")
    if not parts:
        parts.append(f"{len(before - now)} account-region(s) left out, {len(now - before)} new, per account")
    return "; ".join(parts)


def compare(previous: Remembered | None, current: Mapping[str, str], judged: Judged | None = None) -> Change | None:
    """What changed since `previous`; None when nothing did (or nothing fails on a first run).

    With `judged` (what this run judged), only what it judged is compared: a remembered failure outside its
    scope, or NOT_AVAILABLE now, is kept (neither passing again nor newly failing, see the module docstring).
    Without it, every remembered failure is taken as judged again (the comparison of a whole set).
    """
    scope = judged.scope if judged is not None else None
    if previous is None:
        return Change(tuple(sorted(current)), (), None, len(current), scope=scope) if current else None

    def compared(key: str) -> bool | None:
        """True: judged now; False: not judged (NOT_AVAILABLE, or its place's reads failed); None: outside."""
        if judged is None:
            return True
        status = judged.statuses.get(key)
        if status in (PASS, FAIL):
            return True
        if status == NOT_AVAILABLE:
            return False
        unit = unit_of(key)
        if unit is None:  # a log bucket's: gone from a run that covers all the last one did, else unknown
            whole = previous.scope is not None and previous.scope <= judged.scope and not judged.unread
            return True if whole else None
        if unit[0] is not None and not judged.read(unit[1], unit[2]):
            return False if judged.covers(unit) else None
        return True if judged.covers(unit) else None

    standing = {key: compared(key) for key in previous.keys}
    kept = frozenset(key for key, now in standing.items() if now is not True)
    remember = frozenset(current) | kept
    merged = scope if previous.scope is None or scope is None else previous.scope | scope
    changed = previous.digest != digest(remember)
    if not changed and (judged is None or merged == previous.scope):
        return None
    new = [k for k in current if k not in previous.keys and previous.covers(k)]

    def first(key: str) -> bool:
        unit = unit_of(key)
        return (
            previous.scope is not None
            and judged is not None
            and unit is not None
            and not any(
                u[1] == unit[1] and (u[2] == unit[2] or unit[2] in ("", "-")) and unit[0] in (None, u[0])
                for u in previous.scope
            )
        )

    return Change(
        tuple(sorted(k for k in new if not first(k))),
        tuple(sorted(k for k, now in standing.items() if now is True and k not in current)),
        previous.count,
        len(current),
        unknown=sum(1 for k in current if not previous.covers(k)),
        first_audited=tuple(sorted(k for k in new if first(k))),
        kept_unjudged=sum(1 for now in standing.values() if now is False),
        kept_outside=sum(1 for now in standing.values() if now is None),
        scope_change=_scope_words(previous.scope, scope) if previous.scope is not None and scope is not None else "",
        remember=remember,
        scope=merged,
        exact=judged is not None,
        changed=changed,
    )


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
        if change.first_audited:
            subject += f", {len(change.first_audited)} first audited"
        head = f"The audit of {where} changed: {change.after} failure(s) now, {change.before} before."
    scope = f"Standards {', '.join(result.standards)}; {len(result.regions)} region(s): {', '.join(result.regions)}."
    lines = [head, scope, ""]
    if change.scope_change:
        lines += [
            f"This audit's scope differs from the last: {change.scope_change}. Failures remembered where it did not "
            "look are kept, neither passing again nor forgotten; failures where no audit looked before are "
            "listed as first audited, not as newly failing.",
            "",
        ]
    if change.unknown:
        lines += [
            f"The previous failures were too many to remember in full: whether {change.unknown} of today's "
            "(after the last one remembered, in sorted order) are new is not known, and some that pass again "
            "may not be listed.",
            "",
        ]
    lines += _section("Newly failing", change.newly_failing, reasons)
    lines += _section("First audited", change.first_audited, reasons)
    not_judged = " (or not judged: a read failed, see the errors)" if result.errors and not change.exact else ""
    lines += _section("Passing again" + not_judged, change.passing_again, {})
    if change.kept_unjudged:
        lines += [
            f"{change.kept_unjudged} remembered failure(s) could not be judged this time (NOT_AVAILABLE: a read "
            "failed, see the errors): kept as they were, not told as passing again.",
            "",
        ]
    if change.kept_outside:
        lines += [
            f"{change.kept_outside} remembered failure(s) lie outside this audit's scope: kept, neither passing "
            "again nor forgotten.",
            "",
        ]
    told = change.newly_failing or change.passing_again or change.first_audited
    if change.before is not None and not told:
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
    change = compare(previous, current, Judged.of(result))
    if change is not None and unread:
        change = dataclasses.replace(change, unread=unread)
    if change is None:
        log.info("audit failures unchanged: nothing told, nothing written", extra={"failing": len(current)})
        return None
    if not change.tells:  # the same failures, the scope grown: remembered, nothing to tell
        log.info("audit scope grew, failures unchanged: remembered, nothing told", extra={"failing": len(current)})
    elif topic:
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
                Name=parameter,
                Value=encode(change.remember if change.remember is not None else current, scope=change.scope),
                Type="String",
                Overwrite=True,
            ),
            deadline=deadline,
            facts={"region": region},
        )
    except Exception:  # the report still returns; the older memory makes the next run tell again
        log.exception("could not remember the audit's failures: the next run tells this change again")
    return change

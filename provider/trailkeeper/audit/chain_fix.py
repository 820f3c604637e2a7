"""`audit --fix` for the delivery chain: CloudTrail's missing statements appended to a bucket, key or topic policy.

Only where a fix is safe, and only what CloudTrail needs:

- the statements AWS documents for CloudTrail (`chain.statements_for`), scoped with `aws:SourceArn` to the
  trails of the run that use the link and failed for it, appended to the existing policy: the text is
  edited in place, so every other statement stays byte for byte (a bucket without a policy gets one);
- never to a policy that cannot be read (it could hold anything), nor to one that denies CloudTrail
  explicitly (someone meant it): the finding says so and a person decides;
- never a deletion, a re-creation or a re-enabling (a deleted bucket, a disabled key, a deleted role: the
  remedy says what a person must decide), and never a role's policies (the owner's to write).

`plan` is pure (what would be written, with a diff to show); `apply` writes each edit with the clients of
the account that owns the link: PutBucketPolicy, PutKeyPolicy, SetTopicAttributes. A second `--fix` finds
CloudTrail allowed and writes nothing.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from trailkeeper.audit import chain
from trailkeeper.audit.chain import BUCKET, KEY, TOPIC, Delivery, Kind, Link, Resource
from trailkeeper.audit.facts import FAIL
from trailkeeper.aws.calls import Clients, Deadline, call
from trailkeeper.errors import TrailkeeperError

PERMISSIONS = ("s3:PutBucketPolicy", "kms:PutKeyPolicy", "sns:SetTopicAttributes")
# The most each service takes: a policy that would grow past it is refused, not truncated.
LIMITS: Mapping[str, int] = {BUCKET: 20 * 1024, KEY: 32 * 1024, TOPIC: 30 * 1024}
EditStatus = Literal["planned", "written", "refused", "failed"]


@dataclass(frozen=True)
class PolicyEdit:
    """One policy to extend, for the trails whose delivery it refuses."""

    link: Link
    trails: tuple[str, ...]
    before: str | None  # the policy as read (None: the bucket has none)
    after: str = ""  # the same text with CloudTrail's statements appended ("" when refused)
    status: EditStatus = "planned"
    reason: str = ""  # why it is refused, or why the write failed

    def diff(self) -> str:
        """The change as a unified diff of the policy laid out for reading (the text written is the policy's own,
        with the statements appended; laid out, only those show as added lines)."""
        before = _readable(self.before).splitlines(keepends=True)
        after = _readable(self.after).splitlines(keepends=True)
        name = f"{self.link.kind} policy of {self.link.name}"
        return "".join(difflib.unified_diff(before, after, f"{name} (now)", f"{name} (with --fix)"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "resource": self.link.arn,
            "kind": self.link.kind,
            "account": self.link.account,
            "region": self.link.region,
            "trails": list(self.trails),
            "status": self.status,
            "reason": self.reason,
            "diff": self.diff() if self.after else "",
        }


def _readable(text: str | None) -> str:
    """A policy laid out one element a line, for a diff a person can read; its text as it is if it is not JSON."""
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2) + "\n"
    except ValueError:
        return text


# --- editing the text ---------------------------------------------------------------------------------------


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def statement_span(text: str) -> tuple[int, int, Any] | None:
    """Where the top-level `Statement` value lies in a policy's text: (start, end, its value); None when the
    text is not a JSON object holding one. Only the top level is walked; the values are decoded by json."""
    decoder = json.JSONDecoder()
    at = _skip(text, 0)
    if not text.startswith("{", at):
        return None
    at = _skip(text, at + 1)
    found: tuple[int, int, Any] | None = None
    while at < len(text) and text[at] != "}":
        key, at = decoder.raw_decode(text, at)
        at = _skip(text, at)
        if not text.startswith(":", at):
            return None
        start = _skip(text, at + 1)
        value, end = decoder.raw_decode(text, start)
        if key == "Statement":
            found = (start, end, value)
        at = _skip(text, end)
        if text.startswith(",", at):
            at = _skip(text, at + 1)
    return found


def _unique_sids(statements: Sequence[Mapping[str, Any]], taken: set[str]) -> list[dict[str, Any]]:
    """`statements` with Sids no statement of the policy already has (a policy's Sids must be unique)."""
    named = []
    for statement in statements:
        sid, number = str(statement["Sid"]), 2
        while sid in taken:
            sid, number = f"{statement['Sid']}{number}", number + 1
        taken.add(sid)
        named.append({**statement, "Sid": sid})
    return named


def append(text: str | None, statements: Sequence[Mapping[str, Any]]) -> str:
    """`text` with `statements` appended to its Statement list, every other byte kept; a whole policy when
    there is none. Raises ValueError when the text has no Statement to append to."""
    if text is None:
        return json.dumps(chain.documented_policy(statements), indent=2)
    span = statement_span(text)
    if span is None:
        raise ValueError("it has no Statement to append to")
    start, end, value = span
    existing = value if isinstance(value, list) else [value]
    taken = {str(s.get("Sid")) for s in existing if isinstance(s, Mapping) and s.get("Sid")}
    added = ", ".join(json.dumps(s) for s in _unique_sids(statements, taken))
    if isinstance(value, list):
        close = text.rindex("]", start, end)
        body = text[start + 1 : close]
        joined = f"{body.rstrip()}, {added}" if body.strip() else added
        return text[: start + 1] + joined + text[close:]
    return text[:start] + "[" + text[start:end] + ", " + added + "]" + text[end:]


# --- planning ----------------------------------------------------------------------------------------------------


def _refusal(resource: Resource) -> str:
    problems = [p.problem for p in resource.policies if p.problem]
    if problems:
        return f"not edited: {problems[0]} (it could hold anything: a person must fix it)"
    return ""


def plan(
    failing: Sequence[tuple[str, Mapping[str, Any]]],
    deliveries: Mapping[str, Delivery],
    chains: Mapping[str, Mapping[Kind, Resource]],
) -> list[PolicyEdit]:
    """One edit per link whose policy lacks CloudTrail's grant: `failing` is (trail ARN, the finding's fix) for
    each failing delivery finding that has one (the judgement gives none for a Deny, a missing or disabled
    link, or a policy it cannot read)."""
    by_link: dict[str, list[str]] = {}
    kinds: dict[str, Kind] = {}
    for trail, fix in failing:
        arn = str(fix["PolicyOf"])
        by_link.setdefault(arn, [])
        if trail not in by_link[arn]:
            by_link[arn].append(trail)
        kinds[arn] = fix["Kind"]
    edits = []
    for arn, trails in sorted(by_link.items()):
        resource = chains[trails[0]][kinds[arn]]
        using = [deliveries[t] for t in trails]
        refused = _refusal(resource)
        if refused:
            edits.append(PolicyEdit(resource.link, tuple(trails), resource.text, status="refused", reason=refused))
            continue
        try:
            after = append(resource.text, chain.statements_for(resource.link, using))
        except ValueError as error:
            why = f"not edited: the policy of {resource.link.arn} {error}"
            edits.append(PolicyEdit(resource.link, tuple(trails), resource.text, status="refused", reason=why))
            continue
        limit = LIMITS.get(resource.link.kind, 20 * 1024)
        if len(after.encode()) > limit:
            why = f"not edited: with CloudTrail's statements the policy would pass {limit} bytes, the most AWS takes"
            edits.append(PolicyEdit(resource.link, tuple(trails), resource.text, status="refused", reason=why))
            continue
        edits.append(PolicyEdit(resource.link, tuple(trails), resource.text, after))
    return edits


def write(edit: PolicyEdit, clients: Clients, deadline: Deadline) -> None:
    """The one write an edit makes, in the link's region, with its owner's clients."""
    link = edit.link
    facts = {"region": link.region}
    if link.kind == BUCKET:
        s3 = clients.client("s3", link.region)
        call(
            "PutBucketPolicy",
            lambda: s3.put_bucket_policy(Bucket=link.name, Policy=edit.after),
            deadline=deadline,
            facts=facts,
        )
    elif link.kind == KEY:
        kms = clients.kms(link.region)
        call(
            "PutKeyPolicy",
            lambda: kms.put_key_policy(KeyId=link.arn, PolicyName="default", Policy=edit.after),
            deadline=deadline,
            facts=facts,
        )
    else:
        sns = clients.client("sns", link.region)
        call(
            "SetTopicAttributes",
            lambda: sns.set_topic_attributes(TopicArn=link.arn, AttributeName="Policy", AttributeValue=edit.after),
            deadline=deadline,
            facts=facts,
        )


def apply(
    edits: Sequence[PolicyEdit], clients_of: Callable[[str], Clients | None], deadline: Deadline
) -> list[PolicyEdit]:
    """Write each planned edit with the clients of the link's account; what could not be written says why."""
    done = []
    for edit in edits:
        if edit.status != "planned":
            done.append(edit)
            continue
        clients = clients_of(edit.link.account)
        if clients is None:
            done.append(replace(edit, status="refused", reason=f"account {edit.link.account} is not in this run"))
            continue
        try:
            write(edit, clients, deadline)
        except TrailkeeperError as error:
            done.append(replace(edit, status="failed", reason=error.reason))
            continue
        done.append(replace(edit, status="written"))
    return done


def failing_fixes(findings: Sequence[Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(trail ARN, fix) of each failing finding whose fix is a policy edit."""
    return [
        (str(f.fix["Trail"]), f.fix) for f in findings if f.status == FAIL and f.fix is not None and "PolicyOf" in f.fix
    ]

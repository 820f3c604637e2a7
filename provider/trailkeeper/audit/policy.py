"""IAM policy evaluation, as far as CloudTrail's own requests need it. Pure, three-valued.

CloudTrail delivers with a handful of requests (`audit/chain.py` lists them with their context): a
service principal, `cloudtrail.amazonaws.com`, asks S3, KMS and SNS, and the CloudWatch Logs role it
assumes asks CloudWatch Logs. Whether a policy lets such a request through is judged here with IAM's
own evaluation logic (an explicit Deny wins, then an Allow, else the implicit deny), but every part
of a statement (principal, action, resource, each condition) is MATCH, NO_MATCH or UNKNOWN, and an
UNKNOWN that could change the outcome makes the decision UNKNOWN: what cannot be told exactly never
passes, and never fails either.

What is judged exactly: `Principal` / `NotPrincipal` for the service principal (`"*"` and
`{"Service": ...}`; `{"AWS": "*"}` is UNKNOWN, since IAM does not say whether it covers service
principals), `Action` / `NotAction` and `Resource` / `NotResource` with IAM's wildcards (`*`, `?`; in an
ARN, `*` stays within its segment except in the last one, as IAM's reference says), and the condition
operators CloudTrail's documented policies and the usual guard rails use: String*, Arn*, Bool and Null,
with `...IfExists` and the `ForAnyValue:` / `ForAllValues:` set prefixes, under IAM's rule for a key the
request does not carry. A key the request's context neither gives nor declares absent, a Numeric, Date,
IP or Binary comparison on a present key, and a policy variable are UNKNOWN.

Wildcards are matched with a two-pointer scan, not a regular expression: a pattern is written by whoever
may edit the policy, and a translated regex backtracks catastrophically on `"*****Z*****"` (seconds per
match at six stars, minutes at ten), where the scan takes microseconds.

    >>> allow = {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
    ...          "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/AWSLogs/111122223333/*"}
    >>> put = Request("s3:PutObject", "arn:aws:s3:::logs/AWSLogs/111122223333/CloudTrail/x.json.gz", {})
    >>> evaluate([parse({"Statement": [allow]})], put).outcome
    'ALLOWED'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Truth = Literal["MATCH", "NO_MATCH", "UNKNOWN"]
MATCH: Truth = "MATCH"
NO_MATCH: Truth = "NO_MATCH"
UNKNOWN: Truth = "UNKNOWN"
Outcome = Literal["ALLOWED", "DENIED", "UNKNOWN"]
ALLOWED: Outcome = "ALLOWED"
DENIED: Outcome = "DENIED"
UNDECIDED: Outcome = "UNKNOWN"

SERVICE = "cloudtrail.amazonaws.com"
MAX_POLICY_BYTES = 64 * 1024  # S3 allows 20 KB, KMS 32 KB, IAM 10 KB: anything larger is not a real policy
MAX_STATEMENTS = 1000
SHOWN = 60  # characters of a statement id or value in a reason


@dataclass(frozen=True)
class Request:
    """One request CloudTrail's delivery makes, and what its context holds.

    `context` gives the keys the request carries (lower-case key -> its values); `absent` the keys it is
    known not to carry (a key ending in `/` stands for every key under it, `aws:principaltag/`); any other
    key cannot be told from here (UNKNOWN). `principal` is `SERVICE` for a resource policy's question, ""
    for an identity policy's (its statements name no principal: the role is the caller).
    """

    action: str
    resource: str
    context: Mapping[str, Sequence[str]]
    absent: frozenset[str] = frozenset()
    principal: str = SERVICE
    what: str = ""  # for reasons: "PutObject of a log file"

    def value(self, key: str) -> tuple[str, ...] | Literal["UNKNOWN"] | None:
        """The key's values, None when the request does not carry it, or UNKNOWN."""
        name = key.lower()
        if name in self.context:
            return tuple(self.context[name])
        if name in self.absent or any(name.startswith(p) for p in self.absent if p.endswith("/")):
            return None
        return "UNKNOWN"


@dataclass(frozen=True)
class Statement:
    raw: Mapping[str, Any]
    index: int
    trust: bool = False  # a role's trust policy: its statements name no resource (the role is it)

    @property
    def effect(self) -> str:
        return str(self.raw.get("Effect", ""))

    @property
    def label(self) -> str:
        sid = self.raw.get("Sid")
        return f"statement {_short(str(sid))!r}" if isinstance(sid, str) and sid else f"statement {self.index + 1}"


@dataclass(frozen=True)
class Policy:
    """A parsed policy document; `problem` says why it cannot be judged (then every question is UNKNOWN)."""

    name: str  # "the bucket policy of logs", "inline policy cwl of role ..."
    statements: tuple[Statement, ...] = ()
    problem: str = ""


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    statements: tuple[str, ...] = field(default=())  # the statements that decided it, e.g. the Deny that matched


def _short(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 3] + "..."


def parse(document: object, name: str = "the policy", *, trust: bool = False) -> Policy:
    """A policy from its JSON text or decoded document; never raises (what cannot be read says why).

    Resource and identity policies parse alike: a question's `Request.principal` says which kind it asks
    (a resource policy's statements name their principal, an identity policy's are the role's own).
    `trust`: a role's trust policy, whose statements name no resource.
    """
    if isinstance(document, (str, bytes)):
        if len(document) > MAX_POLICY_BYTES:
            return Policy(name, problem=f"{name} is larger than any policy AWS accepts")
        try:
            document = json.loads(document)
        except (ValueError, RecursionError) as error:
            return Policy(name, problem=f"{name} is not JSON ({_short(str(error))})")
    if not isinstance(document, Mapping):
        return Policy(name, problem=f"{name} is not a JSON object")
    raw = document.get("Statement")
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) or not all(isinstance(s, Mapping) for s in items):
        return Policy(name, problem=f"{name} has no Statement object or list")
    if len(items) > MAX_STATEMENTS:
        return Policy(name, problem=f"{name} has {len(items)} statements")
    for index, item in enumerate(items):
        if item.get("Effect") not in ("Allow", "Deny"):
            problem = f"{name}: statement {index + 1}'s Effect is {_short(repr(item.get('Effect')))}"
            return Policy(name, problem=problem)
    return Policy(name, tuple(Statement(s, i, trust) for i, s in enumerate(items)))


# --- three-valued logic -----------------------------------------------------------------------------------


def all_of(truths: Iterable[Truth]) -> Truth:
    """NO_MATCH as soon as one is (the rest, lazily given, are not worked out), else UNKNOWN if one is."""
    unknown = False
    for truth in truths:
        if truth == NO_MATCH:
            return NO_MATCH
        unknown = unknown or truth == UNKNOWN
    return UNKNOWN if unknown else MATCH


def any_of(truths: Iterable[Truth]) -> Truth:
    """MATCH as soon as one is (the rest are not worked out), else UNKNOWN if one is."""
    unknown = False
    for truth in truths:
        if truth == MATCH:
            return MATCH
        unknown = unknown or truth == UNKNOWN
    return UNKNOWN if unknown else NO_MATCH


def negate(truth: Truth) -> Truth:
    return {MATCH: NO_MATCH, NO_MATCH: MATCH, UNKNOWN: UNKNOWN}[truth]


def _truth(value: bool) -> Truth:
    return MATCH if value else NO_MATCH


# --- wildcards ------------------------------------------------------------------------------------------------


def glob(pattern: str, value: str) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one; everything else literal. Linear in practice.

    >>> glob("s3:Put*", "s3:PutObject"), glob("a?c", "abc"), glob("*Z*", "a" * 1000)
    (True, True, False)
    """
    # Most elements of a policy have no "?": a literal, "*", a prefix and a star, or an ARN with stars for its
    # region and its resource. Without "?", the pieces between stars match where each is first found after
    # the one before (str.find, in C: an audit asks tens of these per trail); the walk below is for "?".
    if "*" not in pattern and "?" not in pattern:
        return pattern == value
    if "?" not in pattern:
        first, *middle, last = pattern.split("*")
        if len(value) < len(first) + len(last) or not value.startswith(first) or not value.endswith(last):
            return False
        at, end = len(first), len(value) - len(last)
        for piece in middle:
            found = value.find(piece, at, end)
            if found < 0:
                return False
            at = found + len(piece)
        return True
    p = v = 0
    star, back = -1, 0
    while v < len(value):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == value[v]):
            p, v = p + 1, v + 1
        elif p < len(pattern) and pattern[p] == "*":
            star, back, p = p, v, p + 1
        elif star >= 0:
            back += 1
            v, p = back, star + 1
        else:
            return False
    return all(c == "*" for c in pattern[p:])


def _has_variable(text: str) -> bool:
    return "${" in text


def arn_matches(pattern: str, arn: str) -> Truth:
    """An ARN pattern against an ARN, segment by segment (`*` crosses `:` only in the last segment)."""
    if _has_variable(pattern):
        return UNKNOWN
    if pattern == "*":
        return MATCH
    wanted, have = pattern.split(":", 5), arn.split(":", 5)
    if len(have) < 6 or wanted[0] != "arn":
        return NO_MATCH
    if len(wanted) < 6:  # "arn:aws:s3:*": a trailing star in a last segment reaches beyond the colons
        if not wanted[-1].endswith("*"):
            return NO_MATCH
        head = len(wanted) - 1
        return _truth(
            all(glob(w, h) for w, h in zip(wanted[:head], have[:head], strict=False))
            and glob(wanted[-1], ":".join(have[head:]))
        )
    return _truth(all(glob(w, h) for w, h in zip(wanted, have, strict=True)))


# --- the parts of a statement ------------------------------------------------------------------------------


def _strings(value: object) -> list[str] | None:
    """A policy element as a list of strings (a string alone is a list of one), or None when it is not."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _principal(statement: Statement, request: Request) -> Truth:
    raw = statement.raw
    if not request.principal:  # an identity policy: the caller is the identity it is attached to
        return UNKNOWN if ("Principal" in raw or "NotPrincipal" in raw) else MATCH
    element = raw.get("Principal", raw.get("NotPrincipal"))
    if element is None:
        return UNKNOWN  # a resource policy statement names its principal; one that does not is not judged
    if element == "*":
        named = MATCH
    elif isinstance(element, Mapping):
        parts: list[Truth] = []
        for kind, value in element.items():
            names = _strings(value)
            if names is None:
                return UNKNOWN
            if kind == "Service":
                parts.append(_truth(any(n.lower() == request.principal for n in names)))
            elif kind == "AWS":
                parts.append(UNKNOWN if "*" in names else NO_MATCH)
            else:  # Federated, CanonicalUser: never a service
                parts.append(NO_MATCH)
        named = any_of(parts)
    else:
        return UNKNOWN
    return negate(named) if "NotPrincipal" in raw and "Principal" not in raw else named


def _action(statement: Statement, request: Request) -> Truth:
    raw = statement.raw
    key = "Action" if "Action" in raw else "NotAction" if "NotAction" in raw else None
    names = _strings(raw.get(key)) if key else None
    if names is None:
        return UNKNOWN
    listed = any(glob(n.lower(), request.action.lower()) for n in names)
    return _truth(listed if key == "Action" else not listed)


def _resource(statement: Statement, request: Request) -> Truth:
    raw = statement.raw
    key = "Resource" if "Resource" in raw else "NotResource" if "NotResource" in raw else None
    if key is None:  # a trust policy's statements are about the role itself; elsewhere IAM requires a resource
        return MATCH if statement.trust else UNKNOWN
    patterns = _strings(raw.get(key))
    if patterns is None:
        return UNKNOWN
    listed = any_of(arn_matches(p, request.resource) for p in patterns)
    return listed if key == "Resource" else negate(listed)


# --- conditions -------------------------------------------------------------------------------------------------

_POSITIVE: Mapping[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": glob,
    "ArnEquals": lambda p, v: arn_matches(p, v) == MATCH,
    "ArnLike": lambda p, v: arn_matches(p, v) == MATCH,
    "Bool": lambda p, v: p.lower() == v.lower(),
}
_NEGATED: Mapping[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
# Operators whose comparison is not judged here: only a key the request does not carry is decided.
_NOT_JUDGED = frozenset(
    {
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "IpAddress",
        "BinaryEquals",
    }
)
_NOT_JUDGED_NEGATED = frozenset({"NotIpAddress"})


def _policy_values(raw: object) -> list[str] | None:
    if isinstance(raw, (str, bool, int, float)):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, (str, bool, int, float)) for v in raw):
        return None
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in raw]


def _null(values: Sequence[str], absent: bool) -> Truth:
    """`Null`: "true" holds when the request lacks the key, "false" when it carries it."""
    if any(v.lower() not in ("true", "false") for v in values):
        return UNKNOWN
    return any_of(_truth(absent == (v.lower() == "true")) for v in values)


def _one(operator: str, key: str, raw_values: object, request: Request) -> Truth:
    """One operator on one key, under IAM's rules for multiple values and for a key the request lacks."""
    values = _policy_values(raw_values)
    if values is None or any(_has_variable(v) for v in values):
        return UNKNOWN
    prefix, _, name = operator.rpartition(":")
    if prefix not in ("", "ForAnyValue", "ForAllValues"):
        return UNKNOWN
    if_exists = name.endswith("IfExists")
    base = name.removesuffix("IfExists")
    have = request.value(key)
    if have == "UNKNOWN":
        return UNKNOWN
    if base == "Null":
        return _null(values, have is None) if not (prefix or if_exists) else UNKNOWN
    negated = base in _NEGATED or base in _NOT_JUDGED_NEGATED
    if base not in _POSITIVE and base not in _NEGATED and base not in _NOT_JUDGED and not negated:
        return UNKNOWN  # an operator IAM does not have, or a spelling it would refuse
    if have is None:  # the request does not carry the key
        if prefix == "ForAllValues":
            return MATCH
        if prefix == "ForAnyValue":
            return NO_MATCH
        return MATCH if if_exists or negated else NO_MATCH
    if base in _NOT_JUDGED or base in _NOT_JUDGED_NEGATED:
        return UNKNOWN
    compare = _POSITIVE[_NEGATED.get(base, base)]

    def matches(value: str) -> bool:
        listed = any(compare(p, value) for p in values)  # several values: OR (negated: NOR)
        return not listed if negated else listed

    if prefix == "ForAllValues":
        return _truth(all(matches(v) for v in have))
    if prefix == "ForAnyValue":
        return _truth(any(matches(v) for v in have))
    if len(have) != 1:
        return UNKNOWN  # a single-valued operator on a key with several values
    return _truth(matches(have[0]))


def _condition(statement: Statement, request: Request) -> Truth:
    block = statement.raw.get("Condition")
    if block is None:
        return MATCH
    if not isinstance(block, Mapping):
        return UNKNOWN
    parts: list[Truth] = []
    for operator, keys in block.items():
        if not isinstance(operator, str) or not isinstance(keys, Mapping):
            return UNKNOWN
        parts += [_one(operator, str(key), values, request) for key, values in keys.items()]
    return all_of(parts)  # every operator and every key: AND


def applies(statement: Statement, request: Request) -> Truth:
    """Whether `statement` covers `request`: principal, action, resource and every condition."""
    # The cheap checks first: a statement for another action is settled before its conditions are read.
    return all_of(check(statement, request) for check in (_action, _principal, _resource, _condition))


# --- the decision ----------------------------------------------------------------------------------------------


def evaluate(policies: Sequence[Policy], request: Request) -> Decision:
    """IAM's decision over `policies` together: an explicit Deny wins, then an Allow, else the implicit deny.

    UNKNOWN whenever a policy cannot be read or a statement whose effect could decide cannot be told.
    """
    what = request.what or f"{request.action} on {request.resource}"
    unreadable = [p for p in policies if p.problem]
    if unreadable:
        return Decision(UNDECIDED, f"{what}: {unreadable[0].problem}")
    judged = [(p, s, applies(s, request)) for p in policies for s in p.statements]
    denies = [(p, s, t) for p, s, t in judged if s.effect == "Deny"]
    allows = [(p, s, t) for p, s, t in judged if s.effect == "Allow"]
    matched = [(p, s) for p, s, t in denies if t == MATCH]
    if matched:
        policy, statement = matched[0]
        return Decision(DENIED, f"{what}: {policy.name} denies it ({statement.label})", (statement.label,))
    unsure = [(p, s) for p, s, t in denies if t == UNKNOWN]
    if unsure:
        policy, statement = unsure[0]
        return Decision(
            UNDECIDED, f"{what}: whether {policy.name}'s Deny ({statement.label}) applies cannot be told from here"
        )
    allowing = [(p, s) for p, s, t in allows if t == MATCH]
    if allowing:
        policy, statement = allowing[0]
        return Decision(ALLOWED, f"{what}: {policy.name} allows it ({statement.label})", (statement.label,))
    maybe = [(p, s) for p, s, t in allows if t == UNKNOWN]
    if maybe:
        policy, statement = maybe[0]
        return Decision(
            UNDECIDED, f"{what}: whether {policy.name}'s Allow ({statement.label}) applies cannot be told from here"
        )
    names = " or ".join(dict.fromkeys(p.name for p in policies)) or "no policy"
    return Decision(DENIED, f"{what}: {names} does not allow it")

"""The declared state for drift-fix pipelines: a YAML or JSON document with a `trails:` list.

Each entry has the custom resource's properties and goes through the same parser and rules
(`declaration.parse`), so a file and a template can never disagree about what is valid. Every
problem in the file is reported at once (file, trail, property, rule), before any AWS call.

    trails:
      - Name: audit-trail
        EnableLogFileValidation: true
        KmsKeyId: alias/audit
      - Name: arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-audit
        IsMultiRegionTrail: true
      - Name: "*"                      # a pattern: every trail (docs/fleet.md)
        Match: {Tags: {env: prod}}
        IsLogging: true

Files, standard input and the SSM parameter all go through one loader (`loads`), which:
- refuses a document over `MAX_BYTES`, nested deeper than `MAX_DEPTH`, or with more than `MAX_NODES`
  values once aliases are expanded, while it is being composed: nine nested YAML aliases ("billion
  laughs") take 341 bytes and would otherwise cost gigabytes the moment anything walks the value;
- refuses duplicate keys (a merge mistake would otherwise keep the last value silently);
- reads only `true`/`false` as booleans (YAML 1.2's core schema, as the custom resource does), so
  YAML 1.1's `yes`/`no`/`on`/`off` stay strings and are refused by the property rules, and dates
  stay strings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from trailkeeper.errors import InvalidProperties, InvalidState, shorten, show
from trailkeeper.trail import declaration
from trailkeeper.trail.declaration import Declaration

# A fleet of 5,000 trails with a dozen settings each fits; Lambda's 256 MB does too.
MAX_BYTES = 1024 * 1024
MAX_NODES = 200_000  # scalars, lists and objects, counting each use of an alias in full
MAX_DEPTH = 16  # trails -> entry -> value is 3 deep; nothing legitimate comes close
_BOOL = "tag:yaml.org,2002:bool"


class _TooBig(yaml.YAMLError):  # type: ignore[misc]
    """The document is beyond the loader's bounds; raised during composition, before building anything."""


class _StateLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader with bounds on size, depth and alias expansion, no duplicate keys and 1.2 booleans."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0
        self._open_anchors: set[str] = set()
        self._measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded nodes, depth)

    def _count(self, nodes: int, depth: int) -> None:
        self._nodes += nodes
        if depth > MAX_DEPTH:
            raise _TooBig(f"too deep: nested more than {MAX_DEPTH} levels")
        if self._nodes > MAX_NODES:
            raise _TooBig(f"too large: more than {MAX_NODES} values once aliases are expanded")

    def _measure(self, node: yaml.Node) -> tuple[int, int]:
        """(values, depth) of `node` with every alias in it expanded; memoised, so linear in the text."""
        known = self._measured.get(id(node))
        if known is not None:
            return known
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = []
        nodes, depth = 1, 0
        for child in children:
            child_nodes, child_depth = self._measure(child)
            nodes, depth = nodes + child_nodes, max(depth, child_depth)
            if nodes > MAX_NODES:
                break
        self._measured[id(node)] = (nodes, depth + 1)
        return nodes, depth + 1

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise _TooBig(f"recursive alias: *{event.anchor} is used inside the value it names")
            target = self.anchors.get(event.anchor)
            if target is not None:
                nodes, depth = self._measure(target)
                self._count(nodes, self._depth + depth)
            return super().compose_node(parent, index)
        anchor = getattr(event, "anchor", None)
        self._depth += 1
        self._count(1, self._depth)
        if anchor:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor:
                self._open_anchors.discard(anchor)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # an unhashable key: SafeConstructor reports it below
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {show(key)}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> bool | str:
        value = self.construct_scalar(node)
        lowered = str(value).lower()
        return lowered == "true" if lowered in ("true", "false") else str(value)  # `!!bool yes` stays a string


# YAML 1.2 core schema booleans and no timestamps, instead of YAML 1.1's yes/no/on/off and dates.
_StateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StateLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_StateLoader.add_constructor(_BOOL, _StateLoader.construct_yaml_bool)
BoundedLoader = _StateLoader  # for other files read with the same bounds (org.inventory)


def empty_warning(source: str) -> str:
    """What to say when a state lists no trails: an emptied file or parameter must not pass silently."""
    return f"{source} declares no trails: nothing was checked (an emptied file or parameter?)"


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"duplicate key {show(key)}")
        document[key] = value
    return document


def _check_bounds(document: object) -> None:
    """The YAML loader's bounds, for JSON (which has no aliases): walked without recursion."""
    pending, nodes = [(document, 1)], 0
    while pending:
        value, depth = pending.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise _TooBig(f"too deep: nested more than {MAX_DEPTH} levels")
        if nodes > MAX_NODES:
            raise _TooBig(f"too large: more than {MAX_NODES} values")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        pending.extend((child, depth + 1) for child in children)


def _entry_label(index: int, entry: object) -> str:
    name = entry.get("Name") if isinstance(entry, dict) else None
    return f"trails[{index}]" + (f" ({show(name)[1:-1]})" if isinstance(name, str) and name else "")


def parse(document: object, source: str = "<state>") -> list[Declaration]:
    """Declarations from an already-loaded document; InvalidState lists every problem."""
    if not isinstance(document, dict) or not isinstance(document.get("trails"), list):
        raise InvalidState([f"{source}: the document must be an object with a `trails:` list"])
    unknown = sorted((key for key in document if key not in ("trails", "version")), key=repr)
    problems = [f"{source}: unknown top-level key {show(key)} (expected `trails`)" for key in unknown]
    declarations: list[Declaration] = []
    seen: dict[tuple[str, object, object], str] = {}
    for index, entry in enumerate(document["trails"]):
        label = _entry_label(index, entry)
        try:
            declared = declaration.parse(entry)
        except InvalidProperties as error:
            problems.extend(f"{source}: {label}: {problem}" for problem in error.problems)
            continue
        # A name once (a merge mistake otherwise); a pattern may repeat with another Match (e.g. per tag).
        key = (declared.name, tuple(sorted(declared.match.tags.items())), tuple(sorted(declared.match.regions)))
        if key in seen:
            first = seen[key]
            also = " with the same Match" if declared.is_pattern else ""
            problems.append(f"{source}: {label}: Name {show(declared.name)} is already declared by {first}{also}")
            continue
        seen[key] = label
        declarations.append(declared)
    if problems:
        raise InvalidState(problems)
    return declarations


def loads(text: str, source: str = "<state>") -> list[Declaration]:
    """Parse YAML or JSON text (JSON is YAML; a .json file gets JSON's stricter parser)."""
    return parse(document(text, source), source)


def document(text: str, source: str, loader: type[BoundedLoader] | None = None) -> Any:
    """The YAML or JSON document in `text`, within the bounds above; InvalidState if it is not one.

    Every file trailkeeper reads goes through here: state files, and the organization's account
    inventories (`org.inventory`, with a loader of its own that keeps account ids as written).
    """
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise InvalidState([f"{source}: larger than {MAX_BYTES} bytes; split the declared state"])
    kind = "JSON" if source.endswith(".json") else "YAML"
    try:
        if kind == "JSON":
            loaded: Any = json.loads(text, object_pairs_hook=_json_object)
            _check_bounds(loaded)
        else:
            loaded = yaml.load(text, Loader=loader or BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooBig as error:
        raise InvalidState([f"{source}: {error}"]) from None
    except RecursionError:
        raise InvalidState([f"{source}: too deep: nested more than {MAX_DEPTH} levels"]) from None
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidState([f"{source}: not valid {kind}: {_one_line(error)}"]) from None
    return loaded


def _one_line(error: Exception) -> str:
    """The parser's complaint in one bounded line: what is wrong, and where."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem:
        mark = error.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        text = f"{error.context + ': ' if error.context else ''}{error.problem}{where}"
    else:
        text = str(error)
    return shorten(" ".join(text.split()), 200)


def decode(data: bytes, source: str) -> str:
    """Text of a state file: UTF-8 (a byte-order mark is allowed), whatever the locale says."""
    if len(data) > MAX_BYTES:
        raise InvalidState([f"{source}: larger than {MAX_BYTES} bytes; split the declared state"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidState(
            [f"{source}: not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} ({error.reason})"]
        ) from None


def read(stream: BinaryIO, source: str = "<stdin>") -> list[Declaration]:
    """Declarations from a binary stream (standard input), read no further than the size limit."""
    return loads(decode(stream.read(MAX_BYTES + 1), source), source)


def read_file(path: str | Path) -> str:
    """A file's text, read no further than the size limit; InvalidState naming the file if it cannot be."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise InvalidState([f"{path}: cannot read: {error.strerror or error}"]) from None
    except ValueError as error:  # e.g. a NUL byte in the name
        raise InvalidState([f"{show(str(path))}: cannot read: {error}"]) from None
    return decode(data, str(path))


def load(path: str | Path) -> list[Declaration]:
    return loads(read_file(path), str(path))

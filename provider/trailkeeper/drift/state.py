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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from trailkeeper.errors import InvalidProperties, InvalidState
from trailkeeper.trail import declaration
from trailkeeper.trail.declaration import Declaration


def _entry_label(index: int, entry: object) -> str:
    name = entry.get("Name") if isinstance(entry, dict) else None
    return f"trails[{index}]" + (f" ({name})" if isinstance(name, str) and name else "")


def parse(document: object, source: str = "<state>") -> list[Declaration]:
    """Declarations from an already-loaded document; InvalidState lists every problem."""
    if not isinstance(document, dict) or not isinstance(document.get("trails"), list):
        raise InvalidState([f"{source}: the document must be an object with a `trails:` list"])
    unknown = sorted(set(document) - {"trails", "version"})
    problems = [f"{source}: unknown top-level key {key!r} (expected `trails`)" for key in unknown]
    declarations: list[Declaration] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(document["trails"]):
        label = _entry_label(index, entry)
        try:
            declared = declaration.parse(entry)
        except InvalidProperties as error:
            problems.extend(f"{source}: {label}: {problem}" for problem in error.problems)
            continue
        if declared.name in seen:
            problems.append(f"{source}: {label}: Name {declared.name!r} is already declared by {seen[declared.name]}")
            continue
        seen[declared.name] = label
        declarations.append(declared)
    if problems:
        raise InvalidState(problems)
    return declarations


def loads(text: str, source: str = "<state>") -> list[Declaration]:
    """Parse YAML or JSON text (JSON is YAML; a .json file gets JSON's stricter parser)."""
    try:
        document: Any = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise InvalidState(
            [f"{source}: not valid {'JSON' if source.endswith('.json') else 'YAML'}: {error}"]
        ) from error
    return parse(document, source)


def load(path: str | Path) -> list[Declaration]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise InvalidState([f"{path}: cannot read: {error.strerror or error}"]) from error
    return loads(text, str(path))

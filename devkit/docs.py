"""Render README's property reference from the settings table, so the two never disagree.

`python -m devkit.docs` prints the table; tests/test_docs.py checks README.md holds exactly it.
"""

from __future__ import annotations

from trailkeeper.trail import settings


def _empty_string(row: settings.Setting) -> str:
    if row.kind == "boolean":
        return "error (not a boolean)"
    if not row.clearable:
        return "error (cannot be cleared)"
    if row.name.startswith("CloudWatchLogs"):
        return "clears it (clear both)"
    return "clears it"


def property_table() -> str:
    lines = [
        '| Property | Type | Rule | `""` | Read back from | What it does |',
        "|---|---|---|---|---|---|",
        "| `Name` (required) | string | a trail name (3-128 characters: letters, digits, `.` `_` `-`, starting "
        "and ending with a letter or digit, no two punctuation marks in a row, not an IP address) or a trail "
        "ARN | error | `Name`, `TrailARN` | The trail to manage; an ARN also says its home region. |",
    ]
    for row in settings.KNOWN.values():
        rule = row.rule.replace("|", "\\|")
        lines.append(
            f"| `{row.name}` | {row.kind} | {rule} | {_empty_string(row)} | `{row.read_as}` | {row.description} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(property_table())

"""Render the generated tables of the docs from the code, so they never disagree.

docs/properties.md: the settings table and the aspects. docs/guard.md: what the guard protects (the model of
what a trail records, trail/record.py) and what moves audit logs. docs/controls.md: the controls the audit
judges (audit/controls.py). docs/iam.md and docs/organizations.md: the IAM actions, from the permissions
the code declares. `python -m devkit.docs` prints every table, `--write` puts each in its page;
tests/test_docs.py checks the pages hold exactly them.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from trailkeeper import permissions
from trailkeeper.audit import controls, facts, sources
from trailkeeper.trail import aspects, guard, record, settings


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


def aspect_table() -> str:
    """The properties beyond UpdateTrail's: each aspect's, then the declaration's own controls."""
    lines = [
        "| Property | Type | Rule | Read with | Written with | What it does |",
        "|---|---|---|---|---|---|",
    ]
    for aspect in aspects.OTHERS:
        calls = [action.split(":", 1)[1] for action in aspect.permissions]
        read = ", ".join(f"`{c}`" for c in calls if c.startswith(("Get", "List")))
        if aspect.known({"HasCustomEventSelectors": False, "HasInsightSelectors": False}) is not None:
            read += " (none when DescribeTrails says there are none)"
        written = ", ".join(f"`{c}`" for c in calls if not c.startswith(("Get", "List")))
        for doc in aspect.docs:
            rule = doc.rule.replace("|", "\\|")
            lines.append(f"| `{doc.name}` | {doc.type} | {rule} | {read} | {written} | {doc.description} |")
    weakenable = ", ".join(f"`{name}`" for name in sorted(guard.weakenable()))
    lines += [
        f"| `{guard.ALLOW}` | boolean or list | true, or the properties that may weaken audit: {weakenable} "
        "| - | - | Lets the change weaken audit ([the guard](guard.md)); false or left out: refused. |",
        "| `DryRun` | boolean | true or false | - | - | Read and plan, write nothing; Data carries `Plan`. |",
        "| `TrailName`, `KMSKeyId` | string | as `Name`, `KmsKeyId` | - | - | The native "
        "AWS::CloudTrail::Trail spellings, accepted as aliases (both spellings with different values: error). |",
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def guard_table() -> str:
    """docs/guard.md: each dimension of a trail's record, what weakens it, and the control that breaks."""
    lines = [
        "| What the trail records or protects | Declared as | Weakens audit when | Breaks |",
        "|---|---|---|---|",
    ]
    for dimension in record.DIMENSIONS:
        names = ", ".join(f"`{p}`" for p in dimension.properties)
        what = f"**{dimension.name}**: {dimension.records}"
        lines.append(f"| {_cell(what)} | {names} | {_cell(dimension.weakens_when)} | {_cell(dimension.control)} |")
    for name in record.switches():
        row = settings.table()[name]
        what = f"**switch**: {row.description or name}"
        lines.append(f"| {_cell(what)} | `{name}` | true -> false | {_cell(record.switch_control(name))} |")
    return "\n".join(lines)


def moves_table() -> str:
    """docs/guard.md: the settings whose change moves audit logs (marked, not refused)."""
    lines = ["| Property | Where the logs go |", "|---|---|"]
    lines += [f"| `{name}` | {what} |" for name, what in record.PLACES.items()]
    return "\n".join(lines)


# --- IAM: who needs which action, from the PERMISSIONS tuples beside the code (trailkeeper.permissions) ---

# The engine in one account: find the trails, read and write their aspects. The CLI runs it with your
# credentials, the organization reconcile with the member role it assumes in each account.
ENGINE = ("trailkeeper.aws.locate", "trailkeeper.aws.regions", "trailkeeper.engine")
# Who CloudTrail's delegated administrator is: asked by whoever runs (the CLI, the functions), never through a
# member role (an organization run asks once, as the caller, for every account).
ASKS = (*ENGINE, "trailkeeper.aws.delegation")
# (who, where the grant lives, the modules whose calls it makes)
PRINCIPALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Provider function",
        "`template.yaml`",
        permissions.MODULES
        + permissions.PROVIDER_MODULES
        + permissions.AUDIT_MODULES
        + permissions.GUARD_MODULES
        + permissions.REPAIR_MODULES,
    ),
    ("Reconcile function", "`org-reconcile.yaml`", permissions.MODULES + permissions.ORG_MODULES),
    ("Member role", "`member-role.yaml`", ENGINE + permissions.MEMBER_MODULES),
    ("CLI, one account", "your identity", ASKS),
    ("CLI, `--organization`", "your identity", (*ASKS, "trailkeeper.org.accounts", "trailkeeper.org.credentials")),
    ("CLI, `--accounts`", "your identity", (*ASKS, "trailkeeper.org.credentials")),
)


def _declared_in() -> dict[str, list[str]]:
    """Each action, and the files whose PERMISSIONS declare it (as a path under provider/trailkeeper/)."""
    found: dict[str, list[str]] = {}
    everything = (
        permissions.MODULES
        + permissions.PROVIDER_MODULES
        + permissions.AUDIT_MODULES
        + permissions.GUARD_MODULES
        + permissions.REPAIR_MODULES
        + permissions.ORG_MODULES
    )
    for module in dict.fromkeys(everything):
        path = module.removeprefix("trailkeeper.").replace(".", "/") + ".py"
        for action in importlib.import_module(module).PERMISSIONS:
            found.setdefault(action, []).append(path)
    return found


def iam_table() -> str:
    """Every action the code calls, where it is declared, and which principal needs it."""
    columns = [f"{who} ({where})" for who, where, _ in PRINCIPALS]
    lines = [
        f"| Action | Declared in | {' | '.join(columns)} |",
        "|---|---|" + "---|" * len(columns),
    ]
    needs = [permissions.required(modules) for _, _, modules in PRINCIPALS]
    for action, files in sorted(_declared_in().items()):
        marks = " | ".join("yes" if action in needed else "-" for needed in needs)
        lines.append(f"| `{action}` | {', '.join(f'`{f}`' for f in files)} | {marks} |")
    return "\n".join(lines)


def principal_table() -> str:
    """Per principal: where its grant lives and every action it needs (docs/organizations.md)."""
    lines = ["| Who | Granted in | Needs |", "|---|---|---|"]
    for who, where, modules in PRINCIPALS:
        actions = sorted(permissions.required(modules))
        lines.append(f"| {who} | {where} | {len(actions)}: {', '.join(f'`{a}`' for a in actions)} |")
    return "\n".join(lines)


def controls_table() -> str:
    """docs/controls.md: each control's id in every standard, its level, what it judges, its reads, the remedy."""
    standards = list(controls.STANDARDS)
    lines = [
        f"| {' | '.join(f'`{s}`' for s in standards)} | Level | Title | What trailkeeper judges | Reads | Remedy |",
        "|" + "---|" * (len(standards) + 5),
    ]
    for control in controls.CONTROLS:
        ids = " | ".join(control.id_in(s) or "-" for s in standards)
        reads = "; ".join(facts.READS[need] for need in sorted(control.needs)) or "DescribeTrails only"
        cells = (control.title, control.judges, reads, control.remedy)
        lines.append(f"| {ids} | {control.level} | {' | '.join(_cell(c) for c in cells)} |")
    return "\n".join([*lines, "", rules_table()])


def rules_table() -> str:
    """docs/controls.md: the documented rule behind each control's verdict, its sources, what AWS does not
    publish of it, and where trailkeeper's events model would judge otherwise (audit/sources.py)."""
    lines = [
        "| Control | The rule that gives the verdict | What it is documented to judge | Sources | Not published "
        "(what trailkeeper does) | Where the events model differs |",
        "|---|---|---|---|---|---|",
    ]
    for control in controls.CONTROLS:
        rule = sources.RULES[control.key]
        ids = " / ".join(f"{s} {control.id_in(s)}" for s in controls.STANDARDS if control.id_in(s))
        cited = "; ".join(f"<{source}>" if source.startswith("https://") else source for source in rule.sources)
        cells = (ids, rule.identifier, rule.says, cited, rule.unpublished or "-", rule.differs or "-")
        lines.append(f"| {' | '.join(_cell(c) for c in cells)} |")
    return "\n".join(lines)


# Each generated block: its page, its marker, and what renders it (`python -m devkit.docs --write`).
BLOCKS = (
    ("docs/properties.md", "property-table", property_table),
    ("docs/properties.md", "aspect-table", aspect_table),
    ("docs/guard.md", "guard-table", guard_table),
    ("docs/guard.md", "moves-table", moves_table),
    ("docs/iam.md", "iam-table", iam_table),
    ("docs/organizations.md", "principal-table", principal_table),
    ("docs/controls.md", "controls-table", controls_table),
)


def write(root: Path) -> list[str]:
    """Put every generated block in its page; the pages changed."""
    changed = []
    for page, marker, render in BLOCKS:
        path = root / page
        text = path.read_text()
        start = text.index("\n", text.index(f"<!-- {marker}:start")) + 1
        end = text.index(f"<!-- {marker}:end -->")
        new = text[:start] + render().strip() + "\n" + text[end:]
        if new != text:
            path.write_text(new)
            changed.append(f"{page} ({marker})")
    return changed


if __name__ == "__main__" and "--write" in sys.argv:
    print("\n".join(write(Path(__file__).resolve().parent.parent)) or "every generated table is current")
elif __name__ == "__main__":
    print(property_table())
    print()
    print(aspect_table())
    print()
    print(guard_table())
    print()
    print(moves_table())
    print()
    print(iam_table())
    print()
    print(principal_table())
    print()
    print(controls_table())

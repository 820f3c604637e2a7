"""The audit report as one HTML page for people (`trailkeeper audit --format html -o report.html`). Pure.

One self-contained file: the style and the small script are inline (`report_html_assets.py`), nothing is
fetched (a Content-Security-Policy forbids every load), and every value is escaped: trail names, tags,
bucket names and reasons come from the accounts audited, and an attacker may choose them.

The page, top to bottom:

- the run: when, standards, accounts, regions, the totals and the exit code's meaning;
- a summary per standard: each control with its PASS / FAIL / NOT_AVAILABLE counts;
- with several accounts (`--organization`, `--accounts`), each account's totals, worst first;
- the matrix: one row per account and region, one column per control, each cell the worst status of the
  findings there (a trail-level control in its home region, a bucket in its own), so failures show at a
  glance;
- every finding that did not pass, with its reason, the remedy and the fix `--fix` would declare;
- the read errors, and what `--fix` did when it ran.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape

from trailkeeper import __version__
from trailkeeper.audit import controls
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS, STATUSES
from trailkeeper.audit.findings import Audit, Finding
from trailkeeper.audit.report_html_assets import CONTENT_SECURITY_POLICY, SCRIPT, STYLE
from trailkeeper.fleet import report

SHOWN: dict[str, str] = {PASS: "PASS", FAIL: "FAIL", NOT_AVAILABLE: "N/A", "NONE": "nothing to judge"}
CELL = {PASS: "\u2713", NOT_AVAILABLE: "?"}  # a FAIL cell shows how many failed there
OUTSIDE = "(outside the run)"  # a bucket no account of the run owns


def e(value: object) -> str:
    """Every value goes through here: text and attribute values alike (quotes escaped too)."""
    return escape(str(value), quote=True)


def _row(cells: Iterable[str], attributes: str = "") -> str:
    return f"<tr{attributes}>" + "".join(cells) + "</tr>"


def _th(text: str, *, sortable: bool = False, number: bool = False, extra: str = "") -> str:
    classes = " ".join(c for c in ("sortable" if sortable else "", "num" if number else "", extra) if c)
    attributes = f' class="{e(classes)}"' if classes else ""
    return f'<th scope="col"{attributes}>{e(text)}</th>'


def _td(text: object, css: str = "", sort: object = None) -> str:
    attributes = (f' class="{e(css)}"' if css else "") + (f' data-sort="{e(sort)}"' if sort is not None else "")
    return f"<td{attributes}>{e(text)}</td>"


def _table(headings: Sequence[str], rows: Sequence[str], *, css: str = "", numbers: int = 0, label: str = "") -> str:
    """A sortable table: the last `numbers` columns are counts."""
    head = "".join(_th(h, sortable=True, number=i >= len(headings) - numbers) for i, h in enumerate(headings))
    caption = f'<caption class="hidden">{e(label)}</caption>' if label else ""
    return (
        f'<div class="scroll"><table class="sorted {e(css)}">{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _counts(findings: Iterable[Finding]) -> Counter[str]:
    return Counter(f.status for f in findings)


def _totals(result: Audit) -> str:
    items = [
        f"{len(result.findings)} finding(s)",
        *(f"{result.count(status)} {SHOWN[status]}" for status in STATUSES),
        f"{len(result.errors)} read error(s)",
    ]
    return '<ul class="totals">' + "".join(f"<li>{e(item)}</li>" for item in items) + "</ul>"


def _outcome(result: Audit) -> str:
    meaning = {
        report.EXIT_OK: "no control fails",
        report.EXIT_DRIFT: "some control fails",
        report.EXIT_FAILED: "an error: a read failed (what could be read is judged below)",
    }
    return f"exit code {result.exit_code}: {meaning[result.exit_code]}"


def _standards(result: Audit) -> str:
    parts = []
    by_control = {(control, standard): row for control, standard, row in result.by_control()}
    for standard in result.standards:
        rows = []
        for control, _ in controls.asked([standard]):
            identifier = str(control.id_in(standard))
            row = by_control.get((identifier, standard), dict.fromkeys(STATUSES, 0))
            worst = FAIL if row[FAIL] else NOT_AVAILABLE if row[NOT_AVAILABLE] else PASS if row[PASS] else "NONE"
            cells = [
                _td(identifier, sort=_order(identifier)),
                _td(control.title),
                _td(SHOWN[worst], worst),
                *(_td(row[status], "num") for status in STATUSES),
            ]
            rows.append(_row(cells))
        failing = sum(
            1
            for control, _ in controls.asked([standard])
            if by_control.get((str(control.id_in(standard)), standard), {}).get(FAIL)
        )
        parts.append(
            f"<h3>{e(controls.STANDARDS[standard])} <small>({e(standard)}: {failing} control(s) failing)</small></h3>"
            + _table(["Control", "Title", "Status", "PASS", "FAIL", "N/A"], rows, numbers=3, label=standard)
        )
    return "".join(parts)


def _order(identifier: str) -> str:
    """A control id sorted as people count (CloudTrail.10 after CloudTrail.9, 4.10 after 4.9)."""
    return ".".join(f"{int(part):04d}" if part.isdigit() else part for part in identifier.split("."))


def _accounts(result: Audit) -> str:
    if len({*result.accounts, *(error.account for error in result.errors if error.account)}) < 2:
        return ""
    by_account: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_account[finding.account].append(finding)
    errors = Counter(error.account for error in result.errors)
    accounts = list(dict.fromkeys([*result.accounts, *errors]))
    ranked = sorted(accounts, key=lambda a: (-_counts(by_account[a])[FAIL], a))
    rows = []
    for account in ranked:
        counts = _counts(by_account[account])
        name = result.names.get(account, "")
        cells = [
            _td(account),
            _td(name),
            _td(
                len(result.regions_of(account)) if account in result.scope or not result.scope else "not audited", "num"
            ),
            *(_td(counts[status], "num") for status in (FAIL, NOT_AVAILABLE, PASS)),
            _td(errors[account], "num"),
        ]
        rows.append(_row(cells))
    headings = ["Account", "Name", "Regions", "FAIL", "N/A", "PASS", "Read errors"]
    return '<h2 id="accounts">Accounts, worst first</h2>' + _table(headings, rows, numbers=5, label="accounts")


def _worst(findings: Sequence[Finding]) -> tuple[str, str]:
    """A matrix cell: (text, css class) of the findings of one control in one account and region."""
    counts = _counts(findings)
    if counts[FAIL]:
        return f"\u2717 {counts[FAIL]}", FAIL
    if counts[NOT_AVAILABLE]:
        return CELL[NOT_AVAILABLE], NOT_AVAILABLE
    if counts[PASS]:
        return CELL[PASS], PASS
    return "\u2013", "NONE"


def _matrix(result: Audit) -> str:
    columns = [(str(control.id_in(standard)), standard) for control, standard in controls.asked(result.standards)]
    places: dict[tuple[str, str], dict[tuple[str, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for account in result.accounts:
        for region in result.regions_of(account):
            places[(account, region)]  # every place audited has its row, findings or not
    for finding in result.findings:
        places[(finding.account or OUTSIDE, finding.region)][(finding.control, finding.standard)].append(finding)
    head = _th("Account / region", extra="where") + "".join(
        f'<th scope="col" title="{e(standard)}">{e(identifier)}<br><small>{e(standard)}</small></th>'
        for identifier, standard in columns
    )
    accounts = list(dict.fromkeys([*result.accounts, *sorted(a for a, _ in places)]))
    audited = {account: list(result.regions_of(account)) for account in result.accounts}

    def order(place: tuple[str, str]) -> tuple[int, int, str]:
        """The run's accounts in its order, each in its regions' order; what else holds findings after."""
        account, region = place
        regions = audited.get(account, [])
        return accounts.index(account), regions.index(region) if region in regions else len(regions), region

    rows = []
    for (account, region), found in sorted(places.items(), key=lambda item: order(item[0])):
        cells = [f'<th scope="row" class="where">{e(account)} {e(region)}</th>']
        for column in columns:
            text, css = _worst(found.get(column, []))
            title = ", ".join(f"{n} {SHOWN[s]}" for s, n in sorted(_counts(found.get(column, [])).items())) or "none"
            cells.append(f'<td class="{e(css)}" title="{e(title)}">{e(text)}</td>')
        rows.append(_row(cells))
    legend = (
        '<p class="legend"><span>\u2713 passes</span><span>\u2717 n: n resources fail</span>'
        "<span>? could not be judged (NOT_AVAILABLE)</span><span>\u2013 nothing there to judge</span></p>"
    )
    return (
        '<h2 id="matrix">Where the failures are: accounts \u00d7 regions \u00d7 controls</h2>'
        + legend
        + f'<div class="scroll"><table class="matrix"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}'
        "</tbody></table></div>"
    )


def _fix(finding: Finding) -> str:
    if finding.fix is None:
        return "<td>no fix without your choice (see the remedy)</td>"
    return f"<td><pre>{e(json.dumps(dict(finding.fix), indent=2, ensure_ascii=False))}</pre></td>"


def _findings(result: Audit) -> str:
    shown = [f for f in result.findings if f.status != PASS]
    if not shown:
        return '<h2 id="findings">Findings that did not pass</h2><p>None: every control judged passes.</p>'
    standards = "".join(f'<option value="{e(s)}">{e(s)}</option>' for s in result.standards)
    filters = (
        '<div id="filters" class="filters hidden"><label>Filter <input id="filter-text" type="search" '
        'placeholder="resource, reason, control..."></label><label>Status <select id="filter-status">'
        '<option value="">any</option><option value="FAIL">FAIL</option><option value="NOT_AVAILABLE">N/A'
        '</option></select></label><label>Standard <select id="filter-standard"><option value="">any</option>'
        f"{standards}</select></label></div>"
    )
    rows = []
    for finding in sorted(shown, key=lambda f: (f.status != FAIL, f.standard, _order(f.control), f.resource)):
        warnings = "".join(f"<br><em>warning: {e(w)}</em>" for w in finding.warnings)
        cells = [
            _td(SHOWN[finding.status], finding.status),
            _td(f"{finding.standard} {finding.control}", sort=f"{finding.standard} {_order(finding.control)}"),
            _td(finding.resource, "resource"),
            _td(finding.account or OUTSIDE),
            _td(finding.region),
            f'<td class="reason">{e(finding.reason)}{warnings}</td>',
            _td(finding.remedy, "reason"),
            _fix(finding),
        ]
        attributes = f' class="finding" data-status="{e(finding.status)}" data-standard="{e(finding.standard)}"'
        rows.append(_row(cells, attributes))
    headings = ["Status", "Control", "Resource", "Account", "Region", "Reason", "Remedy", "The fix --fix declares"]
    return f'<h2 id="findings">Findings that did not pass ({len(shown)})</h2>{filters}' + _table(
        headings, rows, label="findings"
    )


def _errors(result: Audit) -> str:
    if not result.errors:
        return ""
    rows = [_row([_td(x.account), _td(x.region or "-"), _td(x.code), _td(x.reason, "reason")]) for x in result.errors]
    return '<h2 id="errors">Reads that failed</h2>' + _table(["Account", "Region", "Code", "Reason"], rows)


def _fixed(result: Audit) -> str:
    if result.fix is None:
        return ""
    if result.fix.state_file is not None:
        said = f"wrote {result.fix.state_trails} trail(s) to {result.fix.state_file}; nothing was applied"
    elif result.fix.report is None:
        said = "nothing --fix can fix"
    else:
        said = report.table(result.fix.report)
    return f'<h2 id="fix">--fix</h2><pre>{e(said)}</pre>'


def render(result: Audit, *, generated: datetime, title: str = "trailkeeper audit") -> str:
    """The whole page (UTF-8 text) for `result`, dated `generated`."""
    where = f"{len(result.accounts)} account(s), {len(result.regions)} region(s)"
    meta = (
        f"{generated.strftime('%Y-%m-%d %H:%M:%S %Z').strip()} \u00b7 trailkeeper {__version__} \u00b7 standards "
        f"{', '.join(result.standards)} \u00b7 {where} \u00b7 {_outcome(result)}"
    )
    body = "".join(
        [
            f'<header><h1>{e(title)}</h1><p class="meta">{e(meta)}</p>{_totals(result)}</header>',
            '<h2 id="standards">Summary per standard</h2>',
            _standards(result),
            _accounts(result),
            _matrix(result),
            _findings(result),
            _errors(result),
            _fixed(result),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{e(CONTENT_SECURITY_POLICY)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}: {e(where)}</title><style>{STYLE}</style></head>"
        f"<body>{body}<script>{SCRIPT}</script></body></html>\n"
    )

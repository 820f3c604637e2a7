"""`trailkeeper audit --format html`: one self-contained page (nothing fetched), read back with a real HTML
parser (the standard library's): the summary per standard, the accounts x regions x controls matrix, every
failure with its reason, remedy and fix, values escaped, usable without its script, and printable."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from devkit import world as seeding
from devkit.recording import RecordingClients

from trailkeeper.audit import judge, report_html
from trailkeeper.audit.facts import FAIL, NOT_AVAILABLE, PASS
from trailkeeper.audit.findings import Audit, AuditError, Finding
from trailkeeper.cli.main import main

ACCOUNT, HOME, OTHER = seeding.ACCOUNT, seeding.HOME, "eu-west-1"
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
VOID = {"meta", "br", "input", "link", "img", "hr", "col", "source", "wbr", "area", "base", "embed"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.parts) + "".join(child.text() for child in self.children)

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, tag: str, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.walk()
            if n.tag == tag and all(value in (n.attrs.get(key) or "").split() for key, value in attrs.items())
        ]

    def by_id(self, identifier: str) -> Node:
        (found,) = [n for n in self.walk() if n.attrs.get("id") == identifier]
        return found


class Tree(HTMLParser):
    """The page as a tree of nodes; fails on a closing tag that closes nothing open (a broken page)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.open[-1].children.append(node)
        if tag not in VOID:
            self.open.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert tag in [n.tag for n in self.open], f"</{tag}> closes nothing open"
        while self.open[-1].tag != tag:
            self.open.pop()
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.open[-1].parts.append(data)


def parse(page: str) -> Node:
    tree = Tree()
    tree.feed(page)
    tree.close()
    assert [n.tag for n in tree.open] == ["#document"], "elements left open"
    return tree.root


def finding(control: str, status: Any, resource: str, region: str = HOME, **kw: Any) -> Finding:
    account = kw.pop("account", ACCOUNT)
    return Finding(control, kw.pop("standard", "fsbp"), status, resource, account, region, "title", "why", "do", **kw)


def trail_arn(name: str, region: str = HOME, account: str = ACCOUNT) -> str:
    return f"arn:aws:cloudtrail:{region}:{account}:trail/{name}"


# --- on a real audit (moto and the fidelity layer) ---------------------------------------------------


@pytest.fixture
def audited(world: seeding.World, clients: RecordingClients) -> Audit:
    seeding.add_trail("far", OTHER)
    return judge.run([judge.Target(ACCOUNT, clients)], [HOME, OTHER], standards=("fsbp", "cis-6.0"), home_region=HOME)


def test_the_page_is_one_self_contained_file(audited: Audit) -> None:
    page = report_html.render(audited, generated=NOW)
    document = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    # Nothing to fetch: no element loads anything, and the policy forbids loads should one slip through.
    assert not [n.tag for n in document.walk() if "src" in n.attrs or n.tag in ("link", "iframe", "object", "embed")]
    assert not [n for n in document.find("a") if not (n.attrs.get("href") or "#").startswith("#")]
    (policy,) = [n for n in document.find("meta") if n.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in str(policy.attrs["content"])
    (style,) = document.find("style")
    assert "url(" not in style.text() and "@import" not in style.text() and "@font-face" not in style.text()
    (script,) = document.find("script")
    assert "fetch(" not in script.text() and "XMLHttpRequest" not in script.text()
    # Readable at a laptop's width, and on paper.
    assert any(n.attrs.get("name") == "viewport" for n in document.find("meta"))
    assert "@media print" in style.text() and "overflow-x: auto" in style.text()
    assert [n.attrs.get("charset") for n in document.find("meta") if "charset" in n.attrs] == ["utf-8"]


def test_the_summary_per_standard_counts_every_control(audited: Audit) -> None:
    document = parse(report_html.render(audited, generated=NOW))
    tables = {n.text(): n for n in document.find("caption")}
    for standard in ("fsbp", "cis-6.0"):
        table = next(n for n in document.find("table") if any(c.text() == standard for c in n.find("caption")))
        rows = {r.find("td")[0].text(): [c.text() for c in r.find("td")] for r in table.find("tbody")[0].find("tr")}
        for control, judged, counts in audited.by_control():
            if judged == standard:
                assert rows[control][-3:] == [str(counts[PASS]), str(counts[FAIL]), str(counts[NOT_AVAILABLE])]
    assert tables  # captions name each table for a screen reader


def test_the_matrix_shows_each_account_and_region_and_where_failures_are(audited: Audit) -> None:
    document = parse(report_html.render(audited, generated=NOW))
    (matrix,) = document.find("table", **{"class": "matrix"})
    columns = [h.text() for h in matrix.find("thead")[0].find("th")][1:]
    rows = {r.find("th")[0].text(): r.find("td") for r in matrix.find("tbody")[0].find("tr")}
    assert set(rows) == {f"{ACCOUNT} {HOME}", f"{ACCOUNT} {OTHER}"}
    for f in audited.findings:
        cell = rows[f"{f.account} {f.region}"][columns.index(f"{f.control}{f.standard}")]
        if f.status == FAIL:
            failing = sum(
                1
                for g in audited.findings
                if (g.account, g.region, g.control, g.standard, g.status)
                == (f.account, f.region, f.control, f.standard, FAIL)
            )
            assert cell.text() == f"\u2717 {failing}" and "FAIL" in str(cell.attrs["class"])


def test_every_failure_is_listed_with_its_reason_remedy_and_fix(audited: Audit) -> None:
    document = parse(report_html.render(audited, generated=NOW))
    rows = document.find("tr", **{"class": "finding"})
    failing = [f for f in audited.findings if f.status == FAIL]
    assert len([r for r in rows if r.attrs["data-status"] == FAIL]) == len(failing) > 0
    texts = [r.text() for r in rows]
    for f in failing:
        (row,) = [t for t in texts if f.resource in t and f"{f.standard} {f.control}" in t and f.region in t]
        assert f.reason in row and f.remedy in row
        if f.fix is not None:
            assert json.dumps(dict(f.fix), indent=2) in row


def test_without_its_script_every_finding_is_shown_and_nothing_is_left_to_it(audited: Audit) -> None:
    document = parse(report_html.render(audited, generated=NOW))
    assert not [r for r in document.find("tr", **{"class": "finding"}) if "hidden" in str(r.attrs["class"])]
    assert "hidden" in str(document.by_id("filters").attrs["class"])  # the filters appear with the script only


# --- escaping: trail names, tags, reasons are chosen by whoever controls the audited account --------------

HOSTILE = "<script>alert(1)</script>\"><img src=x onerror=alert(2)> ' onmouseover='alert(3)"


def test_every_value_is_escaped() -> None:
    bad = finding(
        "CloudTrail.9",
        FAIL,
        trail_arn("t"),
        fix={"Name": trail_arn("t"), "Tags": [{"Key": "owner", "Value": HOSTILE}]},
        warnings=(HOSTILE,),
    )
    bad = Finding(
        bad.control, bad.standard, bad.status, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, bad.fix, (HOSTILE,)
    )
    result = Audit(
        ("fsbp",),
        (HOME,),
        (bad,),
        (AuditError(HOSTILE, HOSTILE, HOSTILE, HOSTILE),),
        (ACCOUNT, "444455556666"),
        names={ACCOUNT: HOSTILE},
    )
    page = report_html.render(result, generated=NOW, title=HOSTILE)
    document = parse(page)
    assert len(document.find("script")) == 1 and not document.find("img")
    assert not [n for n in document.walk() if any(a.startswith("on") for a in n.attrs)]
    assert HOSTILE in document.text()  # shown as text, whole
    assert page.count("<script>") == 1


# --- several accounts: the organization's page ----------------------------------------------------------


def test_an_organization_page_ranks_its_accounts_worst_first() -> None:
    quiet, noisy = "111122223333", "444455556666"
    findings = (
        finding("CloudTrail.4", PASS, trail_arn("a", account=quiet), account=quiet),
        finding("CloudTrail.4", FAIL, trail_arn("b", account=noisy), account=noisy),
        finding("CloudTrail.2", FAIL, trail_arn("b", account=noisy), account=noisy),
    )
    result = Audit(
        ("fsbp",),
        (HOME, OTHER),
        findings,
        (AuditError("777788889999", "", "AccessDenied", "cannot assume its role"),),
        (quiet, noisy),
        scope={quiet: (HOME,), noisy: (HOME, OTHER)},
        names={noisy: "payments"},
    )
    document = parse(report_html.render(result, generated=NOW))
    table = next(n for n in document.find("table") if any(c.text() == "accounts" for c in n.find("caption")))
    rows = [[c.text() for c in r.find("td")] for r in table.find("tbody")[0].find("tr")]
    assert rows[0][:2] == [noisy, "payments"] and rows[0][3] == "2"  # the most failures first
    assert [r[0] for r in rows] == [noisy, quiet, "777788889999"]
    (matrix,) = document.find("table", **{"class": "matrix"})
    places = [r.find("th")[0].text() for r in matrix.find("tbody")[0].find("tr")]
    assert places == [f"{quiet} {HOME}", f"{noisy} {HOME}", f"{noisy} {OTHER}"]  # each account's own regions


# --- the command ---------------------------------------------------------------------------------------


def test_the_command_writes_the_page_and_says_where(world: seeding.World, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "--region", HOME, "--format", "html", "-o", str(target)], out=out, err=err)
    assert code == 2 and out.getvalue() == ""
    said = err.getvalue()
    assert said.startswith(f"trailkeeper: wrote the audit report (html) to {target}: ")
    assert re.search(r"\d+ pass, \d+ fail, 0 not available, 0 read error\(s\)", said)
    document = parse(target.read_text(encoding="utf-8"))
    assert document.find("table", **{"class": "matrix"})


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["-o", "/nonexistent-folder/report.html"], "does not exist"),
        (["-o", "/"], "is a directory"),
        (["--format", "pdf"], "invalid choice"),
    ],
)
def test_a_bad_output_is_refused_before_any_call(aws: None, argv: list[str], said: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["audit", "--region", HOME, "--format", "html", *argv], out=out, err=err) == 1
    assert said in err.getvalue()

"""README and docs/ stay true to the code: the property tables are the ones the code renders, every link
of the README and of every docs page resolves (files and anchors), and the README stays a front page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from devkit.docs import (
    aspect_table,
    controls_table,
    guard_table,
    iam_table,
    moves_table,
    principal_table,
    property_table,
)

from trailkeeper import __version__, permissions
from trailkeeper.trail import guard, record

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]
DEVELOPMENT = (ROOT / "docs" / "development.md").read_text()
README_LIMIT = 12 * 1024  # a front page: what it is, the quick start, the three ways in; the rest is in docs/
PROPERTIES = (ROOT / "docs" / "properties.md").read_text()
BENCHMARKS = (ROOT / "docs" / "benchmarks.md").read_text()
GUARD = (ROOT / "docs" / "guard.md").read_text()
IAM = (ROOT / "docs" / "iam.md").read_text()
ORGANIZATIONS = (ROOT / "docs" / "organizations.md").read_text()
CONTROLS = (ROOT / "docs" / "controls.md").read_text()


def generated(page: str, marker: str) -> str:
    """What a page holds between `<!-- marker:start ... -->` and `<!-- marker:end -->`."""
    start = page.index(f"<!-- {marker}:start")
    start = page.index("\n", start) + 1
    return page[start : page.index(f"<!-- {marker}:end -->")].strip()


def test_readme_property_table_matches_the_settings_table() -> None:
    start = PROPERTIES.index("<!-- property-table:start")
    start = PROPERTIES.index("\n", start) + 1
    end = PROPERTIES.index("<!-- property-table:end -->")
    assert PROPERTIES[start:end].strip() == property_table().strip(), "run: python -m devkit.docs"


def test_readme_aspect_table_matches_the_aspects() -> None:
    start = PROPERTIES.index("<!-- aspect-table:start")
    start = PROPERTIES.index("\n", start) + 1
    end = PROPERTIES.index("<!-- aspect-table:end -->")
    assert PROPERTIES[start:end].strip() == aspect_table().strip(), "run: python -m devkit.docs"


def test_the_guard_page_shows_what_the_model_protects_and_what_moves_logs() -> None:
    """Issue 15: docs/guard.md says what the guard protects, from the model (trail/record.py)."""
    assert generated(GUARD, "guard-table") == guard_table().strip(), "run: python -m devkit.docs"
    assert generated(GUARD, "moves-table") == moves_table().strip(), "run: python -m devkit.docs"
    table = guard_table()
    for name in guard.weakenable():  # every property AllowWeakening may name has its row, and no other
        assert f"`{name}`" in table, name
    for dimension in record.DIMENSIONS:
        assert f"**{dimension.name}**" in table
    assert "[docs/guard.md](guard.md)" in PROPERTIES


def test_readme_gives_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_readme_shows_the_latest_benchmark_table() -> None:
    results = (Path(__file__).resolve().parent.parent / "bench" / "results.md").read_text()
    start = BENCHMARKS.index("<!-- bench:start")
    start = BENCHMARKS.index("\n", start) + 1
    end = BENCHMARKS.index("<!-- bench:end -->")
    assert BENCHMARKS[start:end].strip() == results.strip(), "copy bench/results.md into docs/benchmarks.md"


def test_every_page_the_readme_links_exists() -> None:
    links = re.findall(r"\]\(((?:docs|examples)/[^)#]+)\)", README)
    assert {"docs/properties.md", "docs/organizations.md", "docs/benchmarks.md"} <= set(links)
    for link in links:
        assert (ROOT / link).exists(), link


def test_the_readme_is_a_front_page_that_links_every_docs_page() -> None:
    assert len(README.encode()) <= README_LIMIT, f"README.md is {len(README.encode())} bytes: move detail to docs/"
    linked = set(re.findall(r"\]\((docs/[^)#]+\.md)", README))
    assert {f"docs/{page.name}" for page in DOCS} <= linked


@pytest.mark.parametrize("page", DOCS, ids=lambda p: p.name)
def test_every_docs_page_links_back_to_the_readme(page: Path) -> None:
    assert "](../README.md)" in page.read_text().split("\n\n", 2)[1]  # right under its title


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", page.read_text())  # a `# comment` in a code block is no heading
    found: set[str] = set()
    for heading in re.findall(r"(?m)^#{1,6} (.+)$", text):
        slug, n = _slug(heading), 1
        while slug in found:  # GitHub numbers repeated headings
            slug, n = f"{_slug(heading)}-{n}", n + 1
        found.add(slug)
    return found


def _links(page: Path) -> list[str]:
    text = re.sub(r"(?ms)^```.*?^```", "", page.read_text())
    return [link for link in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_resolves_to_a_file_and_anchor(page: Path) -> None:
    links = _links(page)
    assert links  # at least the way back to the README, or the pages it leads to
    for link in links:
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {link}"
        if anchor:
            assert anchor in _anchors(target), f"{page.name}: {link}: no heading with that anchor"


def test_the_link_check_would_catch_a_broken_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## What the provider may do (IAM)\n\n```sh\n# not a heading\n```\n")
    assert _anchors(page) == {"title", "what-the-provider-may-do-iam"}


def test_no_page_says_apply_makes_one_updatetrail_per_trail() -> None:
    for page in PAGES:
        text = " ".join(page.read_text().split())
        assert "at most one `UpdateTrail`" not in text and "one minimal UpdateTrail" not in text, page.name


def test_the_versions_the_docs_show_are_the_packages() -> None:
    shown = {
        match
        for page in [
            *PAGES,
            ROOT / "examples" / "ci" / "github-actions.yml",
            ROOT / "examples" / "ci" / "buildspec.yml",
        ]
        for match in re.findall(
            r"(?:SemanticVersion: |--semantic-version |trailkeeper-|trailkeeper@v)(\d+\.\d+\.\d+)", page.read_text()
        )
    }
    assert shown == {__version__}


def test_the_development_tree_names_every_module_of_the_package() -> None:
    start = DEVELOPMENT.index("provider/trailkeeper/   the Lambda code")
    tree = DEVELOPMENT[start : DEVELOPMENT.index("```", start)]
    package = ROOT / "provider" / "trailkeeper"
    listed = {line.split()[0] for line in tree.splitlines()[1:] if line.strip()}
    modules = {p.name for p in package.rglob("*.py") if p.name != "__init__.py"}
    folders = {f"{p.name}/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules | folders <= listed, f"add to docs/development.md's tree: {sorted((modules | folders) - listed)}"


def test_the_iam_page_lists_every_action_the_code_declares() -> None:
    assert generated(IAM, "iam-table") == iam_table(), "run: python -m devkit.docs"
    everything = permissions.required(
        permissions.MODULES
        + permissions.PROVIDER_MODULES
        + permissions.AUDIT_MODULES
        + permissions.GUARD_MODULES
        + permissions.REPAIR_MODULES
        + permissions.ORG_MODULES
    )
    listed = {line.split("`")[1] for line in generated(IAM, "iam-table").splitlines()[2:]}
    assert listed == everything  # not four of them: every one, each once


def test_the_organization_pages_iam_lists_are_the_codes() -> None:
    assert generated(ORGANIZATIONS, "principal-table") == principal_table(), "run: python -m devkit.docs"
    rows = {row.split(" | ")[0].lstrip("| "): row for row in principal_table().splitlines()[2:]}
    provider = permissions.required(
        permissions.MODULES
        + permissions.PROVIDER_MODULES
        + permissions.AUDIT_MODULES
        + permissions.GUARD_MODULES
        + permissions.REPAIR_MODULES
    )
    assert rows["Provider function"].split(" | ")[2].startswith(f"{len(provider)}: ")
    accounts = rows["CLI, `--accounts`"]
    assert "`sts:AssumeRole`" in accounts and "organizations:ListAccounts" not in accounts


def test_the_controls_page_holds_the_control_table() -> None:
    assert generated(CONTROLS, "controls-table") == controls_table().strip(), "run: python -m devkit.docs"


def test_every_control_names_the_rule_behind_its_verdict_and_its_source() -> None:
    from trailkeeper.audit import controls, sources

    assert set(sources.RULES) == {control.key for control in controls.CONTROLS}
    for key, rule in sources.RULES.items():
        assert rule.identifier and rule.says and rule.sources, key
        assert all(s.startswith("https://docs.aws.amazon.com/") or s == sources.CIS_V6 for s in rule.sources), key
        assert all(source in CONTROLS for source in rule.sources if source.startswith("https://")), key

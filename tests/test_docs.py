"""README and docs/ stay true to the code: the property tables are the ones the code renders, and every
page the README links exists."""

from __future__ import annotations

from pathlib import Path

from devkit.docs import aspect_table, iam_table, principal_table, property_table

from trailkeeper import permissions

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PROPERTIES = (ROOT / "docs" / "properties.md").read_text()
BENCHMARKS = (ROOT / "docs" / "benchmarks.md").read_text()
IAM = (ROOT / "docs" / "iam.md").read_text()
ORGANIZATIONS = (ROOT / "docs" / "organizations.md").read_text()


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


def test_readme_gives_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_readme_shows_the_latest_benchmark_table() -> None:
    results = (Path(__file__).resolve().parent.parent / "bench" / "results.md").read_text()
    start = BENCHMARKS.index("<!-- bench:start")
    start = BENCHMARKS.index("\n", start) + 1
    end = BENCHMARKS.index("<!-- bench:end -->")
    assert BENCHMARKS[start:end].strip() == results.strip(), "copy bench/results.md into docs/benchmarks.md"


def test_every_page_the_readme_links_exists() -> None:
    import re

    links = re.findall(r"\]\(((?:docs|examples)/[^)#]+)\)", README)
    assert {"docs/properties.md", "docs/organizations.md", "docs/benchmarks.md"} <= set(links)
    for link in links:
        assert (ROOT / link).exists(), link


def test_the_development_tree_names_every_module_of_the_package() -> None:
    start = README.index("provider/trailkeeper/   the Lambda code")
    tree = README[start : README.index("```", start)]
    package = ROOT / "provider" / "trailkeeper"
    listed = {line.split()[0] for line in tree.splitlines()[1:] if line.strip()}
    modules = {p.name for p in package.rglob("*.py") if p.name != "__init__.py"}
    folders = {f"{p.name}/" for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert modules | folders <= listed, f"add to README's Development tree: {sorted((modules | folders) - listed)}"


def test_the_iam_page_lists_every_action_the_code_declares() -> None:
    assert generated(IAM, "iam-table") == iam_table(), "run: python -m devkit.docs"
    everything = permissions.required(permissions.MODULES + permissions.ORG_MODULES)
    listed = {line.split("`")[1] for line in generated(IAM, "iam-table").splitlines()[2:]}
    assert listed == everything  # not four of them: every one, each once


def test_the_organization_pages_iam_lists_are_the_codes() -> None:
    assert generated(ORGANIZATIONS, "principal-table") == principal_table(), "run: python -m devkit.docs"
    rows = {row.split(" | ")[0].lstrip("| "): row for row in principal_table().splitlines()[2:]}
    assert rows["Provider function"].split(" | ")[2].startswith(f"{len(permissions.required())}: ")
    assert "`sts:AssumeRole`" in rows["CLI, `--accounts`"] and "organizations:" not in rows["CLI, `--accounts`"]

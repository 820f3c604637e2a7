"""README and docs/ stay true to the code: the property tables are the ones the code renders, and every
page the README links exists."""

from __future__ import annotations

from pathlib import Path

from devkit.docs import aspect_table, guard_table, moves_table, property_table

from trailkeeper.trail import guard, record

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PROPERTIES = (ROOT / "docs" / "properties.md").read_text()
BENCHMARKS = (ROOT / "docs" / "benchmarks.md").read_text()
GUARD = (ROOT / "docs" / "guard.md").read_text()


def generated(page: str, marker: str) -> str:
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


def test_the_controls_page_holds_the_control_table() -> None:
    from devkit.docs import controls_table

    page = (ROOT / "docs" / "controls.md").read_text()
    start = page.index("\n", page.index("<!-- controls-table:start")) + 1
    end = page.index("<!-- controls-table:end -->")
    assert page[start:end].strip() == controls_table().strip(), "run: python -m devkit.docs"

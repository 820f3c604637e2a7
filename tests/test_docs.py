"""README stays true to the code: its property table is the one the settings table renders."""

from __future__ import annotations

from pathlib import Path

from devkit.docs import aspect_table, property_table

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_property_table_matches_the_settings_table() -> None:
    start = README.index("<!-- property-table:start")
    start = README.index("\n", start) + 1
    end = README.index("<!-- property-table:end -->")
    assert README[start:end].strip() == property_table().strip(), "run: python -m devkit.docs"


def test_readme_aspect_table_matches_the_aspects() -> None:
    start = README.index("<!-- aspect-table:start")
    start = README.index("\n", start) + 1
    end = README.index("<!-- aspect-table:end -->")
    assert README[start:end].strip() == aspect_table().strip(), "run: python -m devkit.docs"


def test_readme_gives_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def test_readme_shows_the_latest_benchmark_table() -> None:
    results = (Path(__file__).resolve().parent.parent / "bench" / "results.md").read_text()
    start = README.index("<!-- bench:start")
    start = README.index("\n", start) + 1
    end = README.index("<!-- bench:end -->")
    assert README[start:end].strip() == results.strip(), "copy bench/results.md into README after make bench"

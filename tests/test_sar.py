"""template.yaml can be published to the AWS Serverless Application Repository: its
`AWS::ServerlessRepo::Application` metadata has every field, each within SAR's rules, and its version is the
package's one version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from devkit import template

from trailkeeper import __version__

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# SAR's rules for each field (the SAM developer guide's "Metadata section properties").
RULES = {
    "Name": (140, r"[a-zA-Z0-9\-]+"),
    "Description": (256, r"(?s).+"),
    "Author": (127, r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?"),
    "SpdxLicenseId": (64, r"[A-Za-z0-9.\-+]+"),
    "LicenseUrl": (1024, r"\S+"),
    "ReadmeUrl": (1024, r"\S+"),
    "HomePageUrl": (1024, r"https://\S+"),
    "SourceCodeUrl": (1024, r"https://\S+"),
    "SemanticVersion": (64, r"\d+\.\d+\.\d+"),
}
LABEL = re.compile(r"[a-zA-Z0-9+\-_:/@]+")


@pytest.fixture(scope="module")
def listing() -> dict[str, Any]:
    found: dict[str, Any] = template.load()["Metadata"]["AWS::ServerlessRepo::Application"]
    return found


def test_every_field_is_there_and_within_sars_rules(listing: dict[str, Any]) -> None:
    assert set(listing) == {*RULES, "Labels"}
    for field, (longest, pattern) in RULES.items():
        value = listing[field]
        assert isinstance(value, str), f"{field}: SAR takes no intrinsic functions here"
        assert 1 <= len(value) <= longest and re.fullmatch(pattern, value), (field, value)
    labels = listing["Labels"]
    assert 1 <= len(labels) <= 10 and all(isinstance(x, str) and len(x) <= 127 and LABEL.fullmatch(x) for x in labels)


def test_the_version_is_the_packages_version(listing: dict[str, Any]) -> None:
    assert listing["SemanticVersion"] == __version__


def test_licence_and_readme_are_the_repositorys_files(listing: dict[str, Any]) -> None:
    assert listing["SpdxLicenseId"] == PYPROJECT["project"]["license"] == "Apache-2.0"
    licence = (ROOT / listing["LicenseUrl"]).read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence  # the whole text, not a pointer to it
    assert (ROOT / listing["ReadmeUrl"]) == ROOT / "README.md"


def test_the_urls_are_the_packages_urls(listing: dict[str, Any]) -> None:
    urls = PYPROJECT["project"]["urls"]
    assert (listing["HomePageUrl"], listing["SourceCodeUrl"]) == (urls["Homepage"], urls["Source"])


def test_the_rules_would_refuse_a_bad_listing() -> None:
    assert not re.fullmatch(RULES["Author"][1], "trailkeeper maintainers")  # SAR refuses spaces
    assert not re.fullmatch(RULES["SemanticVersion"][1], "0.1")
    assert not LABEL.fullmatch("custom resource")

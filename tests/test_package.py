"""`make package`: reproducible, small, and complete enough to run on its own."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from devkit import package

from trailkeeper.aws.calls import SERVICES

pytestmark = pytest.mark.slow  # the Lambda artifact built and run: make test-fast leaves it out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    return package.build(tmp_path_factory.mktemp("one") / "provider.zip")


def test_the_artifact_is_reproducible(built: tuple[Path, int, str], tmp_path: Path) -> None:
    again = package.build(tmp_path / "provider.zip")
    assert again[1:] == built[1:]  # same size, same sha256


def test_the_artifact_is_small_and_holds_only_what_lambda_loads(built: tuple[Path, int, str]) -> None:
    path, size, _ = built
    assert size < 5_000_000
    names = zipfile.ZipFile(path).namelist()
    assert "trailkeeper/handler.py" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "devkit/"))]
    models = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 2}
    assert models == set(SERVICES)
    versions = {tuple(n.split("/")[2:4]) for n in names if n.startswith("botocore/data/") and n.count("/") > 3}
    assert len(versions) == len(SERVICES)  # the newest API version of each: the one botocore loads


def test_the_artifact_runs_on_its_own(built: tuple[Path, int, str], tmp_path: Path) -> None:
    zipfile.ZipFile(built[0]).extractall(tmp_path)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import boto3, trailkeeper.handler as h;"
        "from trailkeeper.aws.calls import SERVICES;"
        "[boto3.client(s, region_name='us-east-1') for s in SERVICES];"
        "from trailkeeper.trail import settings; print(len(settings.table()))"
    )
    # -S: no site-packages, so every import must come from the artifact itself.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "11"


def test_the_license_is_an_spdx_expression_that_the_build_backend_accepts() -> None:
    """A `{text = ...}` table makes setuptools warn on every install; the string needs setuptools 77 (PEP 639)."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert project["build-system"]["requires"] == ["setuptools>=77"]

"""`make package`: reproducible, small, and complete enough to run on its own."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import boto3
import pytest
from devkit import package

from trailkeeper.aws.calls import SERVICES

REGIONS = ("us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1")
pytestmark = pytest.mark.slow  # the Lambda artifact built and run: make test-fast leaves it out


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    return package.build(tmp_path_factory.mktemp("one") / "provider.zip")


def test_the_artifact_is_reproducible(built: tuple[Path, int, str], tmp_path: Path) -> None:
    again = package.build(tmp_path / "provider.zip")
    assert again[1:] == built[1:]  # same size, same sha256


def test_the_artifact_is_small_and_holds_only_what_lambda_loads(built: tuple[Path, int, str]) -> None:
    path, size, _ = built
    assert size < 8_000_000  # 15 % of Lambda's 50 MB; the bytecode is about half of it
    names = zipfile.ZipFile(path).namelist()
    assert "trailkeeper/handler.py" in names
    assert not [n for n in names if n.startswith(("tests/", "devkit/"))]
    assert not [n for n in names if n.endswith(".pyc") and ".cpython-313" not in n]  # only Lambda's Python's
    models = {n.split("/")[2] for n in names if n.startswith("botocore/data/") and n.count("/") > 2}
    assert models == set(SERVICES)
    versions = {tuple(n.split("/")[2:4]) for n in names if n.startswith("botocore/data/") and n.count("/") > 3}
    assert len(versions) == len(SERVICES)  # the newest API version of each: the one botocore loads
    assert zipfile.ZipFile(path).getinfo("botocore/data/endpoints.json").file_size < 100_000  # of 1.2 MB


def test_the_artifact_runs_on_its_own(built: tuple[Path, int, str], tmp_path: Path) -> None:
    zipfile.ZipFile(built[0]).extractall(tmp_path)
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import boto3, trailkeeper.handler as h;"
        "from trailkeeper.aws.calls import SERVICES;"
        f"print([boto3.client(s, region_name=r).meta.endpoint_url for s in SERVICES for r in {REGIONS}]);"
        "from trailkeeper.trail import settings; print(len(settings.table()))"
    )
    # -S: no site-packages, so every import must come from the artifact itself.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # Its trimmed endpoints.json sends every client where botocore's whole file does.
    everywhere = [boto3.client(s, region_name=r).meta.endpoint_url for s in SERVICES for r in REGIONS]
    assert result.stdout.split("\n")[:2] == [str(everywhere), "11"]


def test_every_module_ships_its_bytecode_for_lambdas_python_and_lambda_never_compiles(
    built: tuple[Path, int, str], tmp_path: Path
) -> None:
    """Lambda unpacks the artifact read-only: a module without bytecode is compiled at every cold start."""
    python = package.runtime_python()
    if python is None:
        pytest.skip("no python3.13 on this machine: the artifact is built without bytecode")
    names = set(zipfile.ZipFile(built[0]).namelist())
    sources = [n for n in names if n.endswith(".py")]
    missing = [n for n in sources if _cached(n) not in names]
    assert sources and not missing
    zipfile.ZipFile(built[0]).extractall(tmp_path)
    # -B: nothing written, as on Lambda's read-only disk; every module the custom resource imports must come
    # from its bytecode, not from compiling its source (importlib's SourceLoader.source_to_code).
    script = (
        "import sys, importlib.machinery as m; sys.path.insert(0, sys.argv[1]); compiled = [];"
        "original = m.SourceFileLoader.source_to_code;"
        "m.SourceFileLoader.source_to_code = lambda self, data, path, **k:"
        " compiled.append(path) or original(self, data, path, **k);"
        "import trailkeeper.handler, boto3; boto3.client('cloudtrail', region_name='us-east-1');"
        "print(len(sys.modules), compiled)"
    )
    command = [python, "-I", "-S", "-B", "-c", script, str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    modules, compiled = result.stdout.split(" ", 1)
    assert int(modules) > 300 and compiled.strip() == "[]"
    # tracebacks name the file where Lambda unpacks it, not this machine's build folder
    pyc = (tmp_path / _cached("trailkeeper/handler.py")).read_bytes()
    assert b"/var/task/trailkeeper/handler.py" in pyc


def _cached(source: str) -> str:
    folder, _, name = source.rpartition("/")
    return f"{folder}/__pycache__/{name[:-3]}.cpython-313.pyc".lstrip("/")


def test_the_license_is_an_spdx_expression_that_the_build_backend_accepts() -> None:
    """A `{text = ...}` table makes setuptools warn on every install; the string needs setuptools 77 (PEP 639)."""
    import tomllib

    project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert project["build-system"]["requires"] == ["setuptools>=77"]

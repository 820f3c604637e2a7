"""The CLI on its own: one version in one place, `trailkeeper --version` that says it, a help text that says
what apply writes, and a wheel that installs and runs in a fresh virtualenv without the dev environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

from trailkeeper import __version__
from trailkeeper.cli.main import main
from trailkeeper.fleet import report

ROOT = Path(__file__).resolve().parent.parent


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines where it likes


def test_version_prints_the_packages_one_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert re.fullmatch(
        r"\d+\.\d+\.\d+", __version__
    )  # SemanticVersion, as the Serverless Application Repository wants
    assert _help(["--version"], capsys) == f"trailkeeper {__version__}"


def test_the_version_is_declared_once() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "trailkeeper.__version__"}


@pytest.mark.parametrize("argv", [["--help"], ["apply", "--help"]], ids=["trailkeeper", "apply"])
def test_help_says_apply_writes_once_per_aspect_that_differs(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help(argv, capsys)
    assert "one write per aspect that differs" in text
    assert "one minimal UpdateTrail per drifted trail" not in text


# What the wheel needs to build: the package, its metadata and the files pyproject.toml names.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "provider/trailkeeper")
NO_AWS = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
# What runs in the fresh virtualenv must find the installed wheel, not these sources on PYTHONPATH.
ALONE = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources, installed with its runtime dependencies (pinned as the
    Lambda artifact pins them) in a fresh virtualenv. Returns that virtualenv's bin/ folder."""
    work = tmp_path_factory.mktemp("wheel")
    for name in SOURCES:
        source, target = ROOT / name, work / "src" / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(work / "dist"), str(work / "src")], check=True)
    (wheel,) = (work / "dist").glob("trailkeeper-*.whl")
    assert wheel.name == f"trailkeeper-{__version__}-py3-none-any.whl"
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / "bin"
    constraints = ["-c", str(ROOT / "provider" / "requirements.txt")]
    subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "--quiet", *constraints, str(wheel)], env=ALONE, check=True
    )
    return bin_dir


@pytest.mark.installs
def test_the_wheel_installs_alone_and_prints_its_version(installed: Path) -> None:
    def run(*argv: str | Path) -> str:
        return subprocess.run(argv, capture_output=True, text=True, env=ALONE, check=True).stdout.strip()

    assert run(installed / "trailkeeper", "--version") == f"trailkeeper {__version__}"
    loaded = Path(run(installed / "python", "-c", "import trailkeeper; print(trailkeeper.__file__)"))
    assert loaded.is_relative_to(installed.parent)  # the wheel's copy, in the virtualenv's site-packages
    listed = run(installed / "python", "-m", "pip", "list", "--format=freeze")
    names = {line.split("==")[0].lower().replace("_", "-") for line in listed.splitlines()}
    assert {"boto3", "crhelper", "aws-lambda-powertools", "pyyaml"} <= names
    assert not names & {"pytest", "moto", "mypy", "ruff", "cfn-lint", "hypothesis"}  # no dev environment


@pytest.mark.installs
def test_the_installed_cli_runs_a_plan_up_to_asking_for_credentials(installed: Path, tmp_path: Path) -> None:
    """The whole command path loads from the wheel: the state file is read and checked, then the missing
    credentials are reported as the README says (no AWS is reached)."""
    env = {k: v for k, v in ALONE.items() if not k.startswith("AWS_")} | NO_AWS
    state = ROOT / "examples" / "drift" / "desired-state.yaml"
    result = subprocess.run(
        [installed / "trailkeeper", "plan", "-f", str(state), "--region", "us-east-1", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == report.EXIT_FAILED, result.stderr
    assert "no AWS credentials found" in result.stderr
    assert '"code": "NoCredentials"' in result.stdout

"""`make package`: the Lambda deployment artifact, built reproducibly without Docker.

Installs provider/requirements.txt for Lambda's platform (python3.13, arm64) next to the `trailkeeper`
package, drops what Lambda never loads (caches, botocore's models of services the provider does not
call and their entries in endpoints.json, boto3's resource models, PyYAML's optional C accelerator),
compiles every module to Lambda's Python's bytecode, and zips it with fixed timestamps, permissions and
order: the same sources always give the same bytes (the sha256 printed shows it).

The bytecode is the cold start: Lambda unpacks the artifact read-only, so an artifact without
`__pycache__` has every module of boto3, botocore and trailkeeper compiled from source at every cold start
(importing the handler and building a client took 2.7 times as long: bench/size.py measures it). Compiled
by a python3.13 found on this machine (the bytecode of 3.13.0 is that of every 3.13), with unchecked-hash
headers (PEP 552: no timestamps, so the bytes repeat) and the paths Lambda loads them from (/var/task) in
tracebacks; without a python3.13 here the artifact is built without bytecode and says so.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROVIDER = ROOT / "provider"
BUILD = ROOT / "build"
ARTIFACT = BUILD / "trailkeeper-provider.zip"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
RUNTIME = (3, 13)  # template.yaml's Runtime: python3.13
TASK_ROOT = "/var/task"  # where Lambda unpacks a function's code

# botocore models the provider needs: the services it builds clients for (trailkeeper.aws.calls.SERVICES).
from trailkeeper.aws.calls import SERVICES  # noqa: E402


def _install(target: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            "--target",
            str(target),
            "--platform",
            "manylinux2014_aarch64",
            "--python-version",
            "3.13",
            "--implementation",
            "cp",
            "--only-binary=:all:",
            "-r",
            str(PROVIDER / "requirements.txt"),
        ],
        check=True,
    )


def _trim(target: Path) -> None:
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache)
    for metadata in target.glob("*.dist-info"):
        for extra in metadata.iterdir():  # keep METADATA and licences; RECORD lists absolute-free hashes anyway
            if extra.name not in ("METADATA", "LICENSE", "LICENSE.txt", "NOTICE", "licenses", "RECORD"):
                shutil.rmtree(extra) if extra.is_dir() else extra.unlink()
    data = target / "botocore" / "data"
    for service in data.iterdir():
        if service.is_dir() and service.name not in SERVICES:
            shutil.rmtree(service)
        elif service.is_dir():
            # botocore loads a service's newest API version; EC2 (DescribeRegions) keeps eight older ones, 1.3 MB.
            versions = sorted(v for v in service.iterdir() if v.is_dir())
            for older in versions[:-1]:
                shutil.rmtree(older)
    _trim_endpoints(data)
    shutil.rmtree(target / "boto3" / "data", ignore_errors=True)  # resource models: we use clients only
    shutil.rmtree(target / "bin", ignore_errors=True)
    # PyYAML's C accelerator (2.7 MB): the state documents are a few KB and safe_load runs in pure
    # Python when the extension is absent.
    for accelerator in (target / "yaml").glob("_yaml*.so"):
        accelerator.unlink()


def endpoint_prefixes(data: Path) -> frozenset[str]:
    """The endpoint prefixes (the keys of endpoints.json) of the services whose models `data` holds."""
    prefixes = set()
    for model in data.glob("*/*/service-2.json*"):
        raw = model.read_bytes()
        metadata = json.loads(gzip.decompress(raw) if model.suffix == ".gz" else raw)["metadata"]
        prefixes.add(metadata["endpointPrefix"])
    return frozenset(prefixes)


def trimmed_endpoints(endpoints: dict[str, Any], prefixes: frozenset[str]) -> dict[str, Any]:
    """botocore's endpoints.json with only the services of `prefixes` in each partition; everything else
    (partitions, their regions, defaults and variants) as it was."""
    partitions = [
        {**partition, "services": {k: v for k, v in partition["services"].items() if k in prefixes}}
        for partition in endpoints["partitions"]
    ]
    return {**endpoints, "partitions": partitions}


def _trim_endpoints(data: Path) -> None:
    """endpoints.json (1.2 MB) is parsed when the first client is built, 12 ms of a cold start on Lambda's
    Python; the services the artifact has models for are a few KB of it. Their entries are kept whole."""
    path = data / "endpoints.json"
    endpoints = json.loads(path.read_bytes())
    trimmed = trimmed_endpoints(endpoints, endpoint_prefixes(data))
    path.write_text(json.dumps(trimmed, separators=(",", ":")))


@functools.cache  # asked once per process: every build and the benchmark's cold starts share the answer
def runtime_python() -> str | None:
    """An interpreter of Lambda's Python version on this machine (on PATH, or installed by pyenv), or None."""
    version = "{}.{}".format(*RUNTIME)
    name = f"python{version}"
    pyenv = sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version}*/bin/{name}"))
    candidates = [shutil.which(name), *pyenv]
    probe = f"import sys; print(sys.version_info[:2] == {RUNTIME})"
    for candidate in filter(None, candidates):
        answer = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, check=False)
        if answer.returncode == 0 and answer.stdout.strip() == "True":
            return candidate
    return None


def _compile(target: Path, python: str) -> None:
    """Every module's bytecode for Lambda's Python, in __pycache__ beside it, the same bytes on every build."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [python, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash"]
    command += ["-s", str(target), "-p", TASK_ROOT, str(target)]
    subprocess.run(command, check=True, env=env)


def _zip(source: Path, artifact: Path) -> None:
    with zipfile.ZipFile(artifact, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for path in sorted(source.rglob("*")):
            if path.is_dir():
                continue
            info = zipfile.ZipInfo(str(path.relative_to(source)), date_time=FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes(), compresslevel=9)


def build(artifact: Path = ARTIFACT, trim: bool = True, bytecode: bool = True) -> tuple[Path, int, str]:
    """Build the artifact; return (path, size in bytes, sha256). trim=False keeps everything (for comparison);
    bytecode=False leaves the modules to be compiled at every cold start (for comparison too)."""
    staging = artifact.parent / "package"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _install(staging)
    shutil.copytree(PROVIDER / "trailkeeper", staging / "trailkeeper", ignore=shutil.ignore_patterns("__pycache__"))
    if trim:
        _trim(staging)
    python = runtime_python() if bytecode else None
    if python:
        _compile(staging, python)
    elif bytecode:
        print("make package: no python{}.{} here: the artifact has no bytecode (slower cold starts)".format(*RUNTIME))
    artifact.unlink(missing_ok=True)
    _zip(staging, artifact)
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    return artifact, artifact.stat().st_size, digest


def unzipped_size(staging: Path = BUILD / "package") -> int:
    """Bytes of the last build's staging folder (what Lambda unpacks)."""
    return sum(p.stat().st_size for p in staging.rglob("*") if p.is_file())


if __name__ == "__main__":
    path, size, digest = build()
    print(f"{path.relative_to(ROOT)}: {size / 1e6:.2f} MB zipped, {unzipped_size() / 1e6:.2f} MB unzipped")
    print(f"sha256 {digest}")

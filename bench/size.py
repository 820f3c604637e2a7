"""Package size: the deployment artifact beside Lambda's limits and beside the untrimmed build; and the
artifact's own cold start under Lambda's Python, with its bytecode beside the same artifact without it."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path

from devkit import package

from bench.common import Row

MIB = 1024 * 1024
ZIP_LIMIT = 50 * MIB  # Lambda: direct upload of a .zip
UNZIPPED_LIMIT = 250 * MIB  # Lambda: unzipped function and layers


def _mib(size: int) -> str:
    return f"{size / MIB:.2f} MiB"


# What Lambda does first in a new environment, from the unpacked artifact only (-I -S), writing nothing (-B)
# as its read-only /var/task cannot: import the handler and build the CloudTrail client.
_COLD = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); start = time.perf_counter();"
    "import boto3, trailkeeper.handler; boto3.client('cloudtrail', region_name='us-east-1');"
    "print(time.perf_counter() - start)"
)


def _cold_starts(python: str, folders: dict[str, Path], repeat: int) -> dict[str, float]:
    """Median seconds per variant, the variants taking turns so that the machine's load falls on each alike."""
    samples: dict[str, list[float]] = {name: [] for name in folders}
    for _ in range(repeat):
        for name, folder in folders.items():
            command = [python, "-I", "-S", "-B", "-c", _COLD, str(folder)]
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            samples[name].append(float(out.stdout))
    return {name: statistics.median(values) for name, values in samples.items()}


def _bytecode_row(folder: Path, shipped: Path, repeat: int) -> Row:
    python = package.runtime_python()
    measure = "the artifact's cold start under Lambda's Python, read-only: import the handler, build a client"
    if python is None:
        return Row("Package size", measure, "not measured: no python3.13 here", "", "")
    bare, _, _ = package.build(folder / "no-bytecode" / "provider.zip", bytecode=False)
    times = _cold_starts(python, {"shipped": shipped, "bare": bare.parent / "package"}, repeat)
    return Row(
        "Package size",
        measure,
        f"{times['shipped'] * 1000:.0f} ms with the bytecode it ships",
        f"the same artifact without bytecode (compiled at every cold start): {times['bare'] * 1000:.0f} ms",
        f"{times['bare'] / times['shipped']:.1f}x faster; {(times['bare'] - times['shipped']) * 1000:.0f} ms less",
        {"shipped_s": times["shipped"], "bare_s": times["bare"]},
    )


def run(repeat: int = 7) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        sizes = {}
        for variant, trim in (("untrimmed", False), ("shipped", True)):
            path, zipped, digest = package.build(Path(folder) / variant / "provider.zip", trim=trim)
            sizes[variant] = (zipped, package.unzipped_size(path.parent / "package"), digest)
        cold = _bytecode_row(Path(folder), Path(folder) / "shipped" / "package", repeat)
    zipped, unzipped, digest = sizes["shipped"]
    full_zipped, full_unzipped, _ = sizes["untrimmed"]
    return [
        Row(
            "Package size",
            "deployment artifact (make package)",
            f"{_mib(zipped)} zipped, {_mib(unzipped)} unzipped",
            f"Lambda limits: {_mib(ZIP_LIMIT)} zipped, {_mib(UNZIPPED_LIMIT)} unzipped",
            f"{zipped / ZIP_LIMIT:.1%} / {unzipped / UNZIPPED_LIMIT:.1%} of the limits",
            {"zipped": zipped, "unzipped": unzipped, "sha256": digest},
        ),
        Row(
            "Package size",
            "before trimming (every botocore model, boto3 resources, PyYAML's C extension)",
            f"{_mib(full_zipped)} zipped, {_mib(full_unzipped)} unzipped",
            f"shipped: {_mib(zipped)} zipped",
            f"{full_zipped / zipped:.1f}x larger",
            {"zipped": full_zipped, "unzipped": full_unzipped},
        ),
        cold,
    ]

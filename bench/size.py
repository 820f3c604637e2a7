"""Package size: the deployment artifact beside Lambda's limits and beside the untrimmed build."""

from __future__ import annotations

import tempfile
from pathlib import Path

from devkit import package

from bench.common import Row

MIB = 1024 * 1024
ZIP_LIMIT = 50 * MIB  # Lambda: direct upload of a .zip
UNZIPPED_LIMIT = 250 * MIB  # Lambda: unzipped function and layers


def _mib(size: int) -> str:
    return f"{size / MIB:.2f} MiB"


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        sizes = {}
        for variant, trim in (("untrimmed", False), ("shipped", True)):
            path, zipped, digest = package.build(Path(folder) / variant / "provider.zip", trim=trim)
            sizes[variant] = (zipped, package.unzipped_size(path.parent / "package"), digest)
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
    ]

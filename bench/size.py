"""Package size: the deployment artifact beside Lambda's limits and beside the untrimmed build."""

from __future__ import annotations

import tempfile
from pathlib import Path

from devkit import package

from bench.common import Row

MIB = 1024 * 1024
ZIP_LIMIT = 50 * 1024 * 1024  # Lambda: direct upload of a .zip
UNZIPPED_LIMIT = 250 * 1024 * 1024  # Lambda: unzipped function and layers


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
            f"{zipped / 1e6:.2f} MB zipped, {unzipped / 1e6:.1f} MB unzipped",
            f"Lambda limits: {ZIP_LIMIT / 1e6:.0f} MB zipped, {UNZIPPED_LIMIT / 1e6:.0f} MB unzipped",
            f"{zipped / ZIP_LIMIT:.1%} / {unzipped / UNZIPPED_LIMIT:.1%} of the limits",
            {"zipped": zipped, "unzipped": unzipped, "sha256": digest},
        ),
        Row(
            "Package size",
            "before trimming (all botocore models, boto3 resources)",
            f"{full_zipped / MIB:.2f} MiB zipped, {full_unzipped / MIB:.1f} MiB unzipped",
            f"shipped: {zipped / MIB:.2f} MiB zipped",
            f"{full_zipped / zipped:.1f}x larger",
            {"zipped": full_zipped, "unzipped": full_unzipped},
        ),
    ]

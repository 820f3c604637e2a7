"""The artifact's endpoints.json keeps only the services it has models for, and resolves them exactly as
botocore's whole file does (`devkit/package.py`: 1.2 MB parsed at every cold start became a few KB)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import botocore
import botocore.session
import pytest
from botocore.exceptions import NoRegionError
from botocore.regions import EndpointResolver
from devkit import package

from trailkeeper.aws.calls import SERVICES

DATA = Path(botocore.__file__).parent / "data"
SESSION = botocore.session.get_session()
PREFIXES = frozenset(SESSION.get_service_model(name).endpoint_prefix for name in SERVICES)
FULL = json.loads((DATA / "endpoints.json").read_bytes())
TRIMMED = package.trimmed_endpoints(FULL, PREFIXES)


def test_the_prefixes_are_read_from_the_models_the_artifact_keeps(tmp_path: Path) -> None:
    for name in ("cloudtrail", "logs"):
        newest = sorted(p for p in (DATA / name).iterdir() if p.is_dir())[-1]
        shutil.copytree(newest, tmp_path / name / newest.name)
    assert package.endpoint_prefixes(tmp_path) == {"cloudtrail", "logs"}


def test_a_plain_json_model_is_read_as_well_as_a_gzipped_one(tmp_path: Path) -> None:
    model = tmp_path / "example" / "2020-01-01"
    model.mkdir(parents=True)
    (model / "service-2.json").write_text(json.dumps({"metadata": {"endpointPrefix": "plain"}}))
    (tmp_path / "other" / "2021-01-01").mkdir(parents=True)
    packed = gzip.compress(json.dumps({"metadata": {"endpointPrefix": "packed"}}).encode())
    (tmp_path / "other" / "2021-01-01" / "service-2.json.gz").write_bytes(packed)
    assert package.endpoint_prefixes(tmp_path) == {"plain", "packed"}


def test_only_the_kept_services_remain_and_every_partition_is_whole() -> None:
    assert len(json.dumps(TRIMMED)) < len(json.dumps(FULL)) / 10
    assert [p["partition"] for p in TRIMMED["partitions"]] == [p["partition"] for p in FULL["partitions"]]
    for full, trimmed in zip(FULL["partitions"], TRIMMED["partitions"], strict=True):
        assert {k: v for k, v in trimmed.items() if k != "services"} == {
            k: v for k, v in full.items() if k != "services"
        }
        assert trimmed["services"] == {k: v for k, v in full["services"].items() if k in PREFIXES}
    assert {"cloudtrail", "sts", "logs", "s3"} <= set(TRIMMED["partitions"][0]["services"])


def _resolve(resolver: EndpointResolver, prefix: str, region: str, **variant: bool) -> Any:
    try:
        return resolver.construct_endpoint(prefix, region, **variant)
    except (NoRegionError, botocore.exceptions.EndpointVariantError) as error:
        return type(error).__name__


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_every_kept_service_resolves_as_with_the_whole_file_in_every_region_and_variant(prefix: str) -> None:
    full, trimmed = EndpointResolver(FULL), EndpointResolver(TRIMMED)
    variants = [{}, {"use_fips_endpoint": True}, {"use_dualstack_endpoint": True}]
    for partition in FULL["partitions"]:
        regions = [*partition["regions"], "aws-global", "us-gov-global", "xx-nowhere-9"]
        for region in regions:
            for variant in variants:
                assert _resolve(trimmed, prefix, region, **variant) == _resolve(full, prefix, region, **variant)
        name = partition["partition"]
        assert trimmed.get_available_endpoints(prefix, name) == full.get_available_endpoints(prefix, name)
    assert trimmed.get_available_partitions() == full.get_available_partitions()
    for region in ("us-east-1", "cn-north-1", "us-gov-west-1", "eu-central-2"):
        assert trimmed.get_partition_for_region(region) == full.get_partition_for_region(region)

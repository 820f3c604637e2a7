"""`make render`: a transform-free CloudFormation template of the provider, for service-managed StackSets.

Service-managed StackSets refuse templates with transforms (SAM's included), so this runs the SAM
transform here (aws-sam-translator, the code CloudFormation itself runs) and points the function's code
at an S3 object in each target region: `<ArtifactBucketPrefix>-<region>/<ArtifactKey>`. The key names
the artifact's sha256, so a new build is a new key and StackSets update the function.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

from devkit import package, template

RENDERED = package.BUILD / "trailkeeper-provider.template.json"


class _NoManagedPolicies(ManagedPolicyLoader):  # type: ignore[misc]
    """The template names no managed policies, so the translator must never need to look one up."""

    def __init__(self) -> None:
        super().__init__(iam_client=None)

    def load(self) -> dict[str, str]:
        return {}


def render(artifact_key: str) -> dict[str, Any]:
    source = copy.deepcopy(template.load())
    source["Parameters"]["ArtifactBucketPrefix"] = {
        "Type": "String",
        "AllowedPattern": "^[a-z0-9][a-z0-9.-]{1,40}$",
        "Description": "Buckets holding the provider's code: <prefix>-<region>, one per target region.",
    }
    source["Parameters"]["ArtifactKey"] = {
        "Type": "String",
        "Default": artifact_key,
        "Description": "Key of the provider's code in each bucket (`make render` names it after its sha256).",
    }
    function = source["Resources"]["TrailSettingsFunction"]["Properties"]
    function["CodeUri"] = {
        "Bucket": {"Fn::Sub": "${ArtifactBucketPrefix}-${AWS::Region}"},
        "Key": {"Ref": "ArtifactKey"},
    }
    # The translator insists on a region to pick a partition; the output names neither (tested).
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    rendered: dict[str, Any] = transform(source, {}, _NoManagedPolicies())
    if "Transform" in rendered:
        raise RuntimeError("the rendered template still declares a transform")
    return rendered


def main() -> Path:
    artifact, size, digest = package.build()
    key = f"trailkeeper/provider-{digest[:16]}.zip"
    RENDERED.write_text(json.dumps(render(key), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{RENDERED.relative_to(package.ROOT)}: transform-free template")
    print(
        f"{artifact.relative_to(package.ROOT)}: {size / 1e6:.2f} MB -> upload to s3://<ArtifactBucketPrefix>-<region>/{key}"
    )
    return RENDERED


if __name__ == "__main__":
    main()

"""Read template.yaml (CloudFormation's short-form tags included) to find what Lambda would load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A YAML loader that keeps !Ref, !Sub, !GetAtt... as {"Fn::X": value} instead of failing on them."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # a SafeLoader subclass
    return loaded


def provider_function(template: dict[str, Any] | None = None) -> tuple[Path, str]:
    """(code directory, "module.function") of the custom resource provider, as SAM would package it."""
    template = template or load()
    globals_ = template.get("Globals", {}).get("Function", {})
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            props = {**globals_, **resource["Properties"]}
            return ROOT / props["CodeUri"], props["Handler"]
    raise LookupError("no AWS::Serverless::Function in template.yaml")

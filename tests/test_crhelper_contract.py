"""What our crhelper subclass relies on: its attributes, and that building it makes no AWS clients."""

from __future__ import annotations

import logging
from importlib.metadata import version
from typing import Any

import boto3
import pytest
from crhelper import CfnResource

from trailkeeper.cfn.resource import TrailSettingsResource


def test_the_pinned_crhelper_is_the_one_we_subclass() -> None:
    assert version("crhelper") == "2.0.12"


def test_we_set_every_attribute_crhelper_would(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SAM_LOCAL", "1")  # so crhelper's own constructor builds no clients
    root_level = logging.getLogger().level
    theirs = set(vars(CfnResource()))
    logging.getLogger().setLevel(root_level)  # crhelper just moved the root logger to DEBUG
    ours = set(vars(TrailSettingsResource()))
    assert theirs - ours == set()


def test_construction_builds_no_clients_and_leaves_the_root_logger_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []
    monkeypatch.setattr(boto3, "client", lambda *a, **k: made.append(a))
    before = logging.getLogger().level
    resource = TrailSettingsResource()
    assert made == [] and logging.getLogger().level == before
    assert resource._sleep_on_delete == 0

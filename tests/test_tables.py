"""The settings table and the error tables, held against botocore's CloudTrail model."""

from __future__ import annotations

import botocore.session
import pytest

from trailkeeper import botocore_model as model
from trailkeeper import errors
from trailkeeper.aws import error_table as aws_errors
from trailkeeper.trail import settings

MODEL = botocore.session.get_session().get_service_model("cloudtrail")
UPDATE = MODEL.operation_model("UpdateTrail")
TRAIL = MODEL.shape_for("Trail")


def test_the_table_has_exactly_the_update_trail_parameters_but_name() -> None:
    assert set(settings.table()) == set(UPDATE.input_shape.members) - {"Name"}
    assert "RecursiveLogging" in settings.table()  # newer than most docs


@pytest.mark.parametrize("row", list(settings.table().values()), ids=lambda r: r.name)
def test_each_row_reads_a_real_trail_field_and_has_the_model_type(row: settings.Setting) -> None:
    assert row.read_as in TRAIL.members, f"{row.name} is read from {row.read_as}, which DescribeTrails never returns"
    assert row.kind == UPDATE.input_shape.members[row.name].type_name
    assert TRAIL.members[row.read_as].type_name == row.kind


def test_the_names_that_differ_between_write_and_read_are_mapped() -> None:
    table = settings.table()
    assert table["EnableLogFileValidation"].read_as == "LogFileValidationEnabled"
    assert table["SnsTopicName"].read_as == "SnsTopicARN"  # the response's SnsTopicName is deprecated


def test_every_known_setting_has_an_explicit_rule() -> None:
    for row in settings.KNOWN.values():
        assert row.rule and row.description
        assert row.kind == "boolean" or row.check is not None


def test_a_parameter_aws_adds_later_is_accepted_from_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    params = dict(model.update_trail_parameters(), FutureToggle="boolean", FutureText="string", FutureList="list")
    monkeypatch.setattr(model, "update_trail_parameters", lambda: params)
    settings.table.cache_clear()
    try:
        table = settings.table()
        assert table["FutureToggle"].kind == "boolean" and table["FutureToggle"].read_as is None
        assert table["FutureText"].kind == "string"
        assert "FutureList" not in table  # needs rules of its own first
    finally:
        settings.table.cache_clear()


def test_the_error_table_covers_exactly_the_modeled_update_trail_errors() -> None:
    modeled = {shape.name for shape in UPDATE.error_shapes}
    assert len(modeled) == 33
    assert set(aws_errors.UPDATE_TRAIL) == modeled
    assert model.update_trail_error_codes() == modeled


@pytest.mark.parametrize("code", sorted(aws_errors.UPDATE_TRAIL))
def test_every_remedy_renders_short_and_names_the_code_context(code: str) -> None:
    facts = {
        "trail": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit",
        "bucket": "logs",
        "key": "k",
        "prefix": "p",
        "log_path": "p/AWSLogs/",
        "topic": "t",
        "region": "us-east-1",
    }
    text = aws_errors.explain(code, "UpdateTrail", "AWS says no", facts)
    assert "{" not in text and "?" not in text and len(text) < 200  # every placeholder has a fact
    reason = errors.AwsCallFailed(code, "UpdateTrail", text).reason
    assert reason.startswith(f"{code}: ") and len(reason) <= errors.REASON_LIMIT


def test_an_unknown_code_keeps_aws_words() -> None:
    assert aws_errors.explain("WeirdError", "UpdateTrail", "details here") == "UpdateTrail failed: details here"


def test_our_error_codes_are_unique_and_each_has_a_class() -> None:
    codes = [cls.code for cls in errors.ALL_CODES]
    assert len(codes) == len(set(codes))
    assert all(issubclass(cls, errors.TrailkeeperError) for cls in errors.ALL_CODES)

    def subclasses(cls: type) -> set[type]:
        return {sub for direct in cls.__subclasses__() for sub in {direct} | subclasses(direct)}

    assert subclasses(errors.TrailkeeperError) == set(errors.ALL_CODES)


def _aspect_operations() -> list[str]:
    from trailkeeper.trail import aspects

    return sorted({action.split(":", 1)[1] for a in aspects.OTHERS for action in a.permissions})


@pytest.mark.parametrize("operation", _aspect_operations())
def test_every_error_the_aspects_calls_can_raise_has_a_remedy(operation: str) -> None:
    modeled = {
        shape.error_code or shape.name for shape in model.cloudtrail_model().operation_model(operation).error_shapes
    }
    missing = modeled - set(aws_errors.UPDATE_TRAIL) - set(aws_errors.ASPECT_CALLS)
    assert not missing, f"{operation} can raise {sorted(missing)}: add remedies to ASPECT_CALLS"


def test_the_aspect_remedies_are_exactly_the_codes_their_calls_add() -> None:
    modeled = {
        shape.error_code or shape.name
        for operation in _aspect_operations()
        for shape in model.cloudtrail_model().operation_model(operation).error_shapes
    }
    # Every code only they can raise, and none they cannot (InvalidEventSelectorsException is UpdateTrail's
    # too, with a remedy worded for UpdateTrail; the aspect's call gets its own).
    assert modeled - set(aws_errors.UPDATE_TRAIL) <= set(aws_errors.ASPECT_CALLS) <= modeled


@pytest.mark.parametrize("code", sorted(aws_errors.ASPECT_CALLS))
def test_every_aspect_remedy_names_the_trail_or_what_to_do(code: str) -> None:
    trail = "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit"
    text = aws_errors.explain(code, "PutEventSelectors", "AWS says no", {"trail": trail, "region": "us-east-1"})
    assert "{" not in text and "?" not in text and len(text) < 200
    assert trail in text or code == "InvalidTokenException"

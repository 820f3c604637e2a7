"""Declared values coerced one way for every aspect: what a user sees when one is wrong."""

from __future__ import annotations

import pytest

from trailkeeper.trail.values import boolean, string_list, unknown_keys


@pytest.mark.parametrize(
    ("raw", "value"),
    [(True, True), (False, False), ("true", True), ("False", False), (" TRUE\n", True), ("\tfalse ", False)],
)
def test_booleans_are_true_or_false_in_any_case_and_spacing(raw: object, value: bool) -> None:
    assert boolean("IsLogging", raw) == (value, None)


@pytest.mark.parametrize(("raw", "shown"), [("yes", "'yes'"), ("1", "'1'"), (1, "1"), (None, "None"), ("", "''")])
def test_anything_else_is_refused_naming_the_property_and_the_value(raw: object, shown: str) -> None:
    assert boolean("Tags[0].IsLogging", raw) == (None, f"Tags[0].IsLogging={shown}: must be true or false")


def test_a_string_list_is_taken_up_to_its_limit_and_copied() -> None:
    raw = ["Management", "Data"]
    listed, problem = string_list("EventCategories", raw, 2)
    assert (listed, problem) == (["Management", "Data"], None)
    assert listed is not raw  # the declaration is never shared with what is written
    assert string_list("EventCategories", [], 2) == ([], None)


def test_a_string_list_problem_names_the_path_the_value_and_the_rule() -> None:
    assert string_list("X.EventCategories", "Data", 2) == (None, "X.EventCategories='Data': must be a list")
    assert string_list("X.EventCategories", ["a", "b", "c"], 2) == (None, "X.EventCategories: 3 items; at most 2")
    assert string_list("X.EventCategories", ["a", 7, None], 3) == (None, "X.EventCategories: 7 must be a string")


def test_a_none_item_is_not_a_string() -> None:
    assert string_list("X", ["Data", None], 2) == (None, "X: None must be a string")


def test_each_unknown_key_is_named_with_what_is_allowed() -> None:
    item: dict[object, object] = {"Key": "k", "Valeu": "v", 3: "x"}
    assert unknown_keys("Tags[1]", item, ("Key", "Value")) == [
        "Tags[1].Valeu: unknown key; expected Key, Value",
        "Tags[1].3: unknown key; expected Key, Value",
    ]
    assert unknown_keys("Tags[1]", {"Key": "k", "Value": "v"}, ("Key", "Value")) == []


def test_a_huge_key_that_is_not_a_string_is_shown_bounded() -> None:
    (problem,) = unknown_keys("Tags[0]", {10**100: "v"}, ("Key", "Value"))
    assert problem.startswith("Tags[0].1000") and "..." in problem and len(problem) < 120

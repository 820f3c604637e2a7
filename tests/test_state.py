"""Declared-state files: the custom resource's rules, every problem listed with file, trail and property."""

from __future__ import annotations

from pathlib import Path

import pytest

from trailkeeper.errors import InvalidState
from trailkeeper.fleet import state


def problems(text: str, source: str = "desired.yaml") -> tuple[str, ...]:
    with pytest.raises(InvalidState) as caught:
        state.loads(text, source)
    return caught.value.problems


def test_yaml_and_json_give_the_same_declarations() -> None:
    from_yaml = state.loads("trails:\n  - Name: audit\n    EnableLogFileValidation: true\n    KmsKeyId: alias/audit\n")
    from_json = state.loads(
        '{"trails": [{"Name": "audit", "EnableLogFileValidation": "true", "KmsKeyId": "alias/audit"}]}', "desired.json"
    )
    assert from_yaml == from_json
    assert dict(from_yaml[0].settings) == {"EnableLogFileValidation": True, "KmsKeyId": "alias/audit"}


def test_every_problem_names_file_trail_property_and_rule() -> None:
    found = problems(
        "trails:\n"
        "  - Name: audit\n    S3BucketName: Bad_Bucket\n    Typo: 1\n"
        "  - Name: ok-trail\n"
        "  - Name: x\n"
        "  - EnableLogFileValidation: maybe\n"
    )
    assert found[0].startswith("desired.yaml: trails[0] (audit): S3BucketName='Bad_Bucket': a bucket name is")
    assert found[1] == "desired.yaml: trails[0] (audit): Typo: unknown property; known: " + found[1].split("known: ")[1]
    assert found[2].startswith("desired.yaml: trails[2] (x): Name='x': a trail name is 3-128")
    assert found[3] == "desired.yaml: trails[3]: Name: required: the trail's name or ARN"
    assert found[4].startswith("desired.yaml: trails[3]: EnableLogFileValidation='maybe': must be true or false")
    assert len(found) == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- Name: audit\n", "desired.yaml: the document must be an object with a `trails:` list"),
        ("trails: audit\n", "desired.yaml: the document must be an object with a `trails:` list"),
        ("trails: []\nextra: 1\n", "desired.yaml: unknown top-level key 'extra' (expected `trails`)"),
        ("trails: [Name: a\n", "desired.yaml: not valid YAML"),
        (
            "trails:\n  - Name: audit\n  - Name: audit\n",
            "desired.yaml: trails[1] (audit): Name 'audit' is already declared by trails[0] (audit)",
        ),
    ],
)
def test_structural_problems(text: str, expected: str) -> None:
    assert problems(text)[0].startswith(expected)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidState) as caught:
        state.load(tmp_path / "nope.yaml")
    assert caught.value.problems[0].endswith("nope.yaml: cannot read: No such file or directory")


def laughs(levels: int) -> str:
    """The "billion laughs": each level a list of nine aliases of the level below (9**levels values)."""
    lines = ["a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]"]
    for level in range(1, levels + 1):
        this, below = "abcdefghij"[level], "abcdefghij"[level - 1]
        lines.append(f"{this}: &{this} [{','.join([f'*{below}'] * 9)}]")
    return "trails:\n  - Name: audit\n    S3KeyPrefix: {" + ", ".join(lines) + "}\n"


def test_a_billion_laughs_is_refused_while_it_is_composed() -> None:
    text = laughs(8)
    assert len(text) < 400
    assert problems(text) == (f"desired.yaml: too large: more than {state.MAX_NODES} values once aliases are expanded",)


def test_a_shared_value_within_the_limits_is_shown_bounded() -> None:
    (problem,) = problems(laughs(4))  # 9**5 values: allowed, but never rendered in full
    assert problem.startswith("desired.yaml: trails[0] (audit): S3KeyPrefix={'a': ['lol', 'lol', 'lol', 'lol', ...]")
    assert problem.endswith(": must be a string") and len(problem) < 200


@pytest.mark.parametrize(
    ("text", "source", "expected"),
    [
        ("trails: &a [*a]\n", "desired.yaml", "desired.yaml: recursive alias: *a is used inside the value it names"),
        ("trails: " + "[" * 40 + "]" * 40, "desired.yaml", "desired.yaml: too deep: nested more than 16 levels"),
        ('{"trails": ' + "[" * 40 + "]" * 40 + "}", "d.json", "d.json: too deep: nested more than 16 levels"),
        ('{"trails": ' + "[" * 600_000 + "]" * 600_000 + "}", "d.json", "d.json: larger than"),
        ("trails: " + "[" * 5000, "desired.yaml", "desired.yaml: too deep: nested more than 16 levels"),
    ],
)
def test_documents_too_deep_or_large_are_refused(text: str, source: str, expected: str) -> None:
    (problem,) = problems(text, source)
    assert problem.startswith(expected)


def test_a_document_over_the_byte_limit_is_refused_before_parsing() -> None:
    text = "trails: []\n#" + "x" * state.MAX_BYTES
    assert problems(text) == (f"desired.yaml: larger than {state.MAX_BYTES} bytes; split the declared state",)


TWICE = '{"trails": [{"Name": "a-trail", "Name": "b-trail"}]}'


@pytest.mark.parametrize(
    ("text", "source", "expected"),
    [
        (
            "trails:\n  - Name: audit\n    EnableLogFileValidation: true\n    EnableLogFileValidation: false\n",
            "desired.yaml",
            "desired.yaml: not valid YAML: duplicate key 'EnableLogFileValidation' (line 4, column 5)",
        ),
        ("trails: []\ntrails: []\n", "desired.yaml", "desired.yaml: not valid YAML: duplicate key 'trails' (line 2"),
        (TWICE, "d.json", "d.json: not valid JSON: duplicate key 'Name'"),
        (TWICE, "<ssm>", "<ssm>: not valid YAML: duplicate key 'Name'"),
    ],
)
def test_duplicate_keys_are_errors(text: str, source: str, expected: str) -> None:
    (problem,) = problems(text, source)
    assert problem.startswith(expected)


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "OFF", "!!bool yes"])
def test_only_true_and_false_are_booleans_as_in_the_custom_resource(word: str) -> None:
    (problem,) = problems(f"trails:\n  - Name: audit\n    EnableLogFileValidation: {word}\n")
    shown = word.removeprefix("!!bool ")
    assert problem == f"desired.yaml: trails[0] (audit): EnableLogFileValidation={shown!r}: must be true or false"


@pytest.mark.parametrize("word", ["true", "True", "TRUE", "false", "False", "FALSE"])
def test_yaml_core_booleans_are_booleans(word: str) -> None:
    (declared,) = state.loads(f"trails:\n  - Name: audit\n    EnableLogFileValidation: {word}\n")
    assert declared.settings["EnableLogFileValidation"] is (word.lower() == "true")


def test_a_date_stays_a_string() -> None:
    (declared,) = state.loads("trails:\n  - Name: audit\n    S3KeyPrefix: 2026-11-27\n")
    assert declared.settings["S3KeyPrefix"] == "2026-11-27"


def test_a_file_that_is_not_utf8_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("trails:\n  - Name: audit\n    S3KeyPrefix: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(InvalidState) as caught:
        state.load(path)
    assert caught.value.problems == (f"{path}: not UTF-8 text: byte 0xe9 at offset 44 (invalid continuation byte)",)


def test_files_are_read_as_utf8_whatever_the_locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import locale

    monkeypatch.setattr(locale, "getpreferredencoding", lambda *_: "latin-1")
    monkeypatch.setattr(locale, "getencoding", lambda: "latin-1", raising=False)
    path = tmp_path / "desired.yaml"
    path.write_bytes("\ufefftrails:\n  - Name: caf\u00e9\n".encode())
    with pytest.raises(InvalidState) as caught:
        state.load(path)
    assert "Name='caf\u00e9'" in caught.value.problems[0]  # decoded as UTF-8 (BOM dropped), not as Latin-1


def test_standard_input_is_read_as_a_binary_stream() -> None:
    import io

    (declared,) = state.read(io.BytesIO(b"trails:\n  - Name: audit\n"))
    assert declared.name == "audit"
    with pytest.raises(InvalidState, match="<stdin>: not UTF-8 text"):
        state.read(io.BytesIO(b"\xff"))


# --- the bounds, exactly: at the limit is read, one past it is refused ------------------------------------------


def nested(levels: int, json_text: bool = False) -> str:
    """A document `levels` deep: the root object (1), `trails` (2), then lists down to a scalar."""
    inner = "0"
    for _ in range(levels - 2):
        inner = f"[{inner}]"
    return f'{{"trails": {inner}}}' if json_text else f"trails: {inner}\n"


@pytest.mark.parametrize(("source", "json_text"), [("desired.yaml", False), ("desired.json", True)])
def test_a_document_exactly_as_deep_as_the_limit_is_read_and_one_level_more_is_not(
    source: str, json_text: bool
) -> None:
    assert state.document(nested(state.MAX_DEPTH, json_text), source)["trails"]
    assert problems(nested(state.MAX_DEPTH + 1, json_text), source) == (
        f"{source}: too deep: nested more than {state.MAX_DEPTH} levels",
    )


def test_a_json_document_of_exactly_the_limits_values_is_read_and_one_more_is_not() -> None:
    # The root object, its `trails` list and the list's items: 2 + items values.
    at_limit = '{"trails": [' + ",".join(["0"] * (state.MAX_NODES - 2)) + "]}"
    assert len(state.document(at_limit, "desired.json")["trails"]) == state.MAX_NODES - 2
    over = at_limit.replace("[", "[0,", 1)
    assert problems(over, "desired.json") == (f"desired.json: too large: more than {state.MAX_NODES} values",)


def aliased(items: int, uses: int, padding: int) -> str:
    """`base` holds `items` scalars under an anchor; `copies` uses it `uses` times beside `padding` scalars.

    Values once aliases are expanded: the root, two keys, `base` and its items, `copies` and its padding,
    and each use in full (the list and its items)."""
    text = f"base: &x [{', '.join(['0'] * items)}]\ncopies: [{', '.join(['*x'] * uses + ['0'] * padding)}]\n"
    assert 5 + items + padding + uses * (items + 1) in (state.MAX_NODES, state.MAX_NODES + 1)
    return text


def test_a_yaml_document_of_exactly_the_limits_values_with_aliases_expanded_is_read_and_one_more_is_not() -> None:
    items, uses = 999, 198
    padding = state.MAX_NODES - (5 + items + uses * (items + 1))
    assert len(state.document(aliased(items, uses, padding), "desired.yaml")["copies"]) == uses + padding
    assert problems(aliased(items, uses, padding + 1)) == (
        f"desired.yaml: too large: more than {state.MAX_NODES} values once aliases are expanded",
    )


def test_an_aliased_object_counts_its_keys_and_values() -> None:
    # Each use of the object is 1 + 2 * 2 values; besides them: the root, two keys, the object itself (5
    # values) and `copies`.
    fixed = 1 + 2 + 5 + 1
    uses = (state.MAX_NODES - fixed) // 5
    padding = state.MAX_NODES - fixed - 5 * uses
    body = ", ".join(["*m"] * uses + ["0"] * padding)
    at_limit = f"base: &m {{a: 1, b: 2}}\ncopies: [{body}]\n"
    assert len(state.document(at_limit, "desired.yaml")["copies"]) == uses + padding
    assert problems(at_limit.replace("[", "[0, ", 1)) == (
        f"desired.yaml: too large: more than {state.MAX_NODES} values once aliases are expanded",
    )


def test_an_alias_counts_as_deep_as_its_value_reaches_where_it_is_used_however_often() -> None:
    # `base` is 4 deep itself (three lists and a scalar): used in a list at depth 12 its scalar is at 16.
    def used_at(depth: int) -> str:
        return "base: &x [[[0]]]\ncopies: [*x, " + "[" * (depth - 2) + "*x" + "]" * (depth - 2) + "]\n"

    assert state.document(used_at(state.MAX_DEPTH - 4), "desired.yaml")["copies"]
    # The first use (shallow) is measured and kept; the second, deeper one must still count in full.
    assert problems(used_at(state.MAX_DEPTH - 3)) == (
        f"desired.yaml: too deep: nested more than {state.MAX_DEPTH} levels",
    )


def test_a_parser_complaint_is_one_line_of_at_most_200_characters() -> None:
    (problem,) = problems("trails: [" + "a, " * 300 + "b: {")
    assert problem.startswith("desired.yaml: not valid YAML: ")
    assert "\n" not in problem and len(problem) <= len("desired.yaml: not valid YAML: ") + 200
    marked = state.yaml.MarkedYAMLError(
        context="while parsing a flow mapping", problem="expected ',' or '}'", problem_mark=None
    )
    assert state._one_line(marked) == "while parsing a flow mapping: expected ',' or '}'"
    unmarked = state.yaml.MarkedYAMLError(problem="found a tab")
    assert state._one_line(unmarked) == "found a tab"
    assert state._one_line(ValueError("x  " * 300)) == "x " * 98 + "x..."  # spaces folded, then cut to 200


def test_standard_input_is_read_up_to_the_byte_limit_exactly_and_named_in_problems() -> None:
    import io

    head = "trails:\n  - Name: first\n#"
    tail = "\n  - Name: last"  # its last byte too: one byte less would declare "las"
    text = head + "x" * (state.MAX_BYTES - len(head) - len(tail)) + tail
    assert len(text.encode()) == state.MAX_BYTES
    assert [d.name for d in state.read(io.BytesIO(text.encode()))] == ["first", "last"]
    with pytest.raises(InvalidState) as caught:
        state.read(io.BytesIO(b"trails: 1\n"))
    assert caught.value.problems[0].startswith("<stdin>: ")


def test_a_file_of_exactly_the_byte_limit_is_read_whole_and_one_byte_more_is_not(tmp_path: Path) -> None:
    head, tail = "trails:\n  - Name: first\n#", "\n  - Name: last"
    path = tmp_path / "desired.yaml"
    path.write_text(head + "x" * (state.MAX_BYTES - len(head) - len(tail)) + tail)
    assert [d.name for d in state.load(path)] == ["first", "last"]
    path.write_text(head + "x" * (state.MAX_BYTES - len(head) - len(tail) + 1) + tail)
    with pytest.raises(InvalidState) as caught:
        state.load(path)
    assert caught.value.problems == (f"{path}: larger than {state.MAX_BYTES} bytes; split the declared state",)


def test_standard_input_over_the_byte_limit_is_refused_naming_it() -> None:
    import io

    with pytest.raises(InvalidState) as caught:
        state.read(io.BytesIO(b"#" * (state.MAX_BYTES + 1)))
    assert caught.value.problems == (f"<stdin>: larger than {state.MAX_BYTES} bytes; split the declared state",)


def test_a_file_name_that_cannot_be_opened_is_named_as_given() -> None:
    with pytest.raises(InvalidState) as caught:
        state.load("desired\x00.yaml")
    assert caught.value.problems == ("'desired\\x00.yaml': cannot read: embedded null byte",)


def test_the_loaders_booleans_are_yaml_1_2s_and_a_tagged_word_stays_a_string() -> None:
    text = "a: true\nb: FALSE\nc: True\nd: !!bool yes\ne: !!bool false\nf: yes\n"
    assert state.document(text, "desired.yaml") == {
        "a": True,
        "b": False,
        "c": True,
        "d": "yes",
        "e": False,
        "f": "yes",
    }


def test_a_merge_key_merges_and_the_keys_after_it_are_still_checked_for_duplicates() -> None:
    base = "base: &b {a: 1, c: 0}\n"
    assert state.document(base + "x: {<<: *b, c: 2}\n", "desired.yaml")["x"] == {"a": 1, "c": 2}
    assert problems(base + "x: {<<: *b, c: 1, c: 2}\n")[0].startswith("desired.yaml: not valid YAML: duplicate key 'c'")


def test_keys_after_an_unhashable_key_are_still_checked_for_duplicates() -> None:
    assert problems("x: {[a]: 1, b: 1, b: 2}\n")[0].startswith("desired.yaml: not valid YAML: duplicate key 'b'")


# --- what a problem names: the source, the entry, and every problem once -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trails: [audit]\n", ("<state>: trails[0]: properties must be an object, not str",)),
        ("trails:\n  - Name: 12345\n", ("<state>: trails[0]: Name=12345: must be a string",)),
        (
            "trails: []\n1: x\nb: y\n",  # keys of different types, in a stable order
            (
                "<state>: unknown top-level key 'b' (expected `trails`)",
                "<state>: unknown top-level key 1 (expected `trails`)",
            ),
        ),
        (
            "trails:\n  - Name: audit\n  - Name: audit\n  - Name: audit-2\n    IsLogging: maybe\n",
            (
                "<state>: trails[1] (audit): Name 'audit' is already declared by trails[0] (audit)",
                "<state>: trails[2] (audit-2): IsLogging='maybe': must be true or false",
            ),
        ),
    ],
)
def test_each_problem_is_named_by_its_source_and_entry_exactly(text: str, expected: tuple[str, ...]) -> None:
    with pytest.raises(InvalidState) as caught:
        state.loads(text)
    assert caught.value.problems == expected
    with pytest.raises(InvalidState) as parsed:
        state.parse(state.document(text, "<state>"))
    assert parsed.value.problems == expected


def test_a_pattern_repeated_with_the_same_match_says_so() -> None:
    text = "trails:\n  - Name: aud*\n    IsLogging: true\n  - Name: aud*\n    IsLogging: true\n"
    assert problems(text) == (
        "desired.yaml: trails[1] (aud*): Name 'aud*' is already declared by trails[0] (aud*) with the same Match",
    )


def test_a_version_key_is_allowed_beside_the_trails() -> None:
    assert [d.name for d in state.loads("version: 1\ntrails:\n  - Name: audit\n")] == ["audit"]


def test_a_file_names_itself_in_the_problems_of_its_trails(tmp_path: Path) -> None:
    path = tmp_path / "desired.yaml"
    path.write_text("trails:\n  - Name: x\n")
    with pytest.raises(InvalidState) as caught:
        state.load(path)
    assert caught.value.problems[0].startswith(f"{path}: trails[0] (x): Name='x': a trail name is 3-128")


# --- the bounds, however the document is laid out ----------------------------------------------------------------


def test_text_within_the_character_limit_but_over_the_byte_limit_is_refused() -> None:
    text = "trails: []\n#" + "\u00e9" * (state.MAX_BYTES // 2)  # two bytes each in UTF-8
    assert len(text) < state.MAX_BYTES
    assert problems(text) == (f"desired.yaml: larger than {state.MAX_BYTES} bytes; split the declared state",)


def test_a_deep_document_is_refused_even_when_each_level_has_a_value_before_the_next() -> None:
    deep = "0"
    for _ in range(state.MAX_DEPTH):
        deep = f"[0, {deep}]"
    assert problems(f"trails: {deep}\n") == (f"desired.yaml: too deep: nested more than {state.MAX_DEPTH} levels",)


def test_json_nested_past_pythons_recursion_limit_is_too_deep_not_a_crash() -> None:
    text = '{"trails": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert problems(text, "d.json") == (f"d.json: too deep: nested more than {state.MAX_DEPTH} levels",)

"""Every record of the package (a `TypedTuple`) behaves as its twin, a `typing.NamedTuple` made from the same class
body in the same module: built, read, compared, hashed, replaced, copied and matched alike."""

from __future__ import annotations
import __future__

import ast
import copy
import functools
import importlib
import inspect
import pickle
import pkgutil
import re
import sys
import textwrap
from pathlib import Path
from types import FunctionType
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trailkeeper
from trailkeeper.trail.selectors import Selectors
from trailkeeper.typed_tuple import TypedTuple

PACKAGE = Path(trailkeeper.__file__).parent


def _records() -> list[type[Any]]:
    for module in pkgutil.walk_packages([str(PACKAGE)], "trailkeeper."):
        importlib.import_module(module.name)
    found: list[type[Any]] = []
    pending: list[type[Any]] = [TypedTuple]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if TypedTuple in sub.__bases__ and sub.__module__.startswith("trailkeeper."):
                found.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


RECORDS = _records()


def _class_statement(record: type[Any]) -> tuple[ast.Module, ast.ClassDef, dict[str, ast.AnnAssign]]:
    """The record's class statement, parsed from its source, and its fields that have a default, by name."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(record)))
    (body,) = tree.body
    assert isinstance(body, ast.ClassDef) and [ast.unparse(b) for b in body.bases] == ["TypedTuple"]
    defaulted = {}
    for statement in body.body:
        if isinstance(statement, ast.AnnAssign) and statement.value is not None:
            assert isinstance(statement.target, ast.Name)
            defaulted[statement.target.id] = statement
    return tree, body, defaulted


@functools.cache
def _twin(record: type[Any]) -> type[Any]:
    """The record's own class body, with `typing.NamedTuple` for its base, run in its module's namespace. Each
    default is the record's own object (a lambda made twice is two objects); `_source_defaults` checks the values."""
    tree, body, defaulted = _class_statement(record)
    body.bases = [ast.Name("NamedTuple", ast.Load())]
    for field, statement in defaulted.items():
        statement.value = ast.Subscript(ast.Name("__record_defaults__", ast.Load()), ast.Constant(field), ast.Load())
    namespace = {**vars(sys.modules[record.__module__]), "NamedTuple": NamedTuple}
    namespace["__record_defaults__"] = record._field_defaults
    exec(compile(ast.fix_missing_locations(tree), "<twin>", "exec", __future__.annotations.compiler_flag), namespace)
    twin: type[Any] = namespace[record.__name__]
    return twin


def _source_defaults(record: type[Any]) -> dict[str, Any]:
    """Each default as the class body writes it, evaluated again in the record's module (a function: its code)."""
    module = vars(sys.modules[record.__module__])
    return {
        field: _plain(eval(ast.unparse(statement.value), module))
        for field, statement in _class_statement(record)[2].items()
    }


def _plain(value: Any) -> Any:
    return value.__code__.co_code if isinstance(value, FunctionType) else value


def _hash(value: object) -> int | str:
    try:
        return hash(value)
    except TypeError:
        return "unhashable"


VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.tuples(st.integers()))


def test_the_package_s_records_are_typed_tuples_and_none_is_a_named_tuple_any_more() -> None:
    names = {f"{r.__module__}.{r.__qualname__}" for r in RECORDS}
    assert {"trailkeeper.engine.Outcome", "trailkeeper.trail.aspect.Change", "trailkeeper.errors.Writes"} <= names
    defined = sum(len(re.findall(r"^class \w+\(TypedTuple\):", p.read_text(), re.M)) for p in PACKAGE.rglob("*.py"))
    assert len(RECORDS) == defined >= 20  # every record the source defines is held to its twin below
    for record in RECORDS:
        assert {f: _plain(v) for f, v in record._field_defaults.items()} == _source_defaults(record), record
    for path in PACKAGE.rglob("*.py"):
        if path.name != "typed_tuple.py":
            assert not re.search(r"class \w+\(NamedTuple\)|import [^\n]*\bNamedTuple\b", path.read_text()), path


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__qualname__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_record_is_built_read_and_compared_as_its_named_tuple_twin(record: type[Any], data: st.DataObject) -> None:
    twin, fields = _twin(record), record._fields
    values = data.draw(st.lists(VALUES, min_size=len(fields), max_size=len(fields)))
    required = len(fields) - len(record._field_defaults)
    positional = data.draw(st.integers(0, len(fields)))
    keywords = {f: v for f, v in zip(fields[positional:], values[positional:], strict=True)}
    optional = fields[max(required, positional) :]
    for name in data.draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []:
        del keywords[name]  # left to its default
    ours, theirs = record(*values[:positional], **keywords), twin(*values[:positional], **keywords)
    assert type(ours) is record
    assert tuple(ours) == tuple(theirs) and ours == theirs
    assert _hash(ours) == _hash(theirs)  # a default may be unhashable (a read-only mapping): both are then
    assert repr(ours) == repr(theirs)
    assert list(ours._asdict().items()) == list(theirs._asdict().items())
    assert [getattr(ours, f) for f in fields] == [getattr(theirs, f) for f in fields]
    assert (record._fields, record._field_defaults, record.__match_args__) == (
        twin._fields,
        twin._field_defaults,
        twin.__match_args__,
    )
    field, value = data.draw(st.sampled_from(fields)), data.draw(VALUES)
    assert tuple(ours._replace(**{field: value})) == tuple(theirs._replace(**{field: value}))
    assert type(ours._replace(**{field: value})) is record
    assert record._make(values) == twin._make(values)
    assert ours.__replace__(**{field: value}) == ours._replace(**{field: value})  # copy.replace, Python 3.13


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__qualname__)
def test_a_call_that_does_not_fit_is_refused_as_the_twin_refuses_it(record: type[Any]) -> None:
    twin, fields = _twin(record), record._fields
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((0,) * (len(fields) + 1), {}),  # too many
        ((0,) * len(fields), {"not_a_field": 1}),
        ((0,) * len(fields), {fields[0]: 1}),  # twice
    ]
    if len(record._field_defaults) < len(fields):
        calls.append(((), {}))  # a required field missing
    for args, kwargs in calls:
        with pytest.raises(TypeError):
            twin(*args, **kwargs)
        with pytest.raises(TypeError):
            record(*args, **kwargs)
    instance = record(*range(len(fields)))
    with pytest.raises((TypeError, ValueError)):  # ValueError before Python 3.13
        twin(*range(len(fields)))._replace(not_a_field=1)
    with pytest.raises(TypeError):
        instance._replace(not_a_field=1)
    with pytest.raises(TypeError):
        record._make(range(len(fields) + 1))


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.__qualname__)
def test_a_record_is_immutable_slotted_copied_and_matched(record: type[Any]) -> None:
    fields = record._fields
    instance = record(*(f"v{i}" for i in range(len(fields))))
    assert not hasattr(instance, "__dict__")
    with pytest.raises(AttributeError):
        setattr(instance, fields[0], "other")
    with pytest.raises(AttributeError):
        instance.not_a_field = "other"
    for copied in (pickle.loads(pickle.dumps(instance)), copy.deepcopy(instance), copy.copy(instance)):
        assert type(copied) is record and copied == instance
    match instance:
        case record(first):
            assert first == "v0"
        case _:
            pytest.fail("the positional pattern did not match")


def test_a_record_s_subclass_keeps_its_fields_and_its_own_new() -> None:
    with pytest.raises(ValueError, match="never both"):
        Selectors(frozenset({1}), frozenset({2}))
    empty = Selectors(frozenset(), frozenset())
    assert Selectors._fields == ("basic", "advanced") and not hasattr(empty, "__dict__")
    with pytest.raises(ValueError, match="never both"):
        empty._replace(basic=frozenset({1}))._replace(advanced=frozenset({2}))


def test_a_record_that_breaks_a_named_tuple_rule_is_refused_where_it_is_defined() -> None:
    namespace: dict[str, Any] = {"TypedTuple": TypedTuple, "__name__": "probe"}
    for body, error in (
        ("class A(TypedTuple):\n    _a: int\n", ValueError),  # underscore: _fields, _replace...
        ("class A(TypedTuple):\n    a: int = 0\n    b: int\n", TypeError),  # no default after a default
        ("class A(TypedTuple):\n    pass\n", TypeError),  # no field
        ("class M:\n    pass\nclass A(TypedTuple, M):\n    a: int\n", TypeError),  # another base
    ):
        with pytest.raises(error):
            exec("from __future__ import annotations\n" + body, namespace)
    exec("from __future__ import annotations\nclass A(TypedTuple):\n    a: int\n    b: str = 'x'\n", namespace)
    assert namespace["A"](1) == (1, "x") and namespace["A"].__module__ == "probe"


def test_a_field_may_be_named_as_the_methods_name_their_first_argument() -> None:
    namespace: dict[str, Any] = {"TypedTuple": TypedTuple, "__name__": "probe"}
    exec("from __future__ import annotations\nclass A(TypedTuple):\n    cls: int\n    self: int = 0\n", namespace)
    built = namespace["A"](cls=1, self=2)
    assert built == (1, 2) and built._replace(self=3) == (1, 3)

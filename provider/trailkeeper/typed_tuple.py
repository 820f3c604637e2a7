"""Typed tuples that compile nothing when defined: `typing.NamedTuple` to mypy, and at run time a tuple whose
fields are read from the class's annotations.

Why: on Lambda's Python a `typing.NamedTuple` class takes about 0.1 ms to define. `collections.namedtuple`
writes its `__new__` as source and compiles it, and `typing` checks each annotation. The custom resource's cold
path defines fifteen records, so that was a fifth of trailkeeper's own share of a cold start. A class of this
kind takes about 11 us (docs/benchmarks.md).

Its instances are what a NamedTuple's are: fields by name and by position, defaults, `_replace`, `_asdict`,
`_make` and `_fields`; equal to and hashed as the tuple of their values; immutable, with no `__dict__`.
`tests/test_typed_tuple.py` holds every record of the package to a `typing.NamedTuple` made from the same class
body. What differs, none of it relied on here:
- speed: a call by position, the rest left to their defaults, costs 0.1-0.2 us more than a NamedTuple's; a call
  with keywords binds them in Python, about 1 us more (the hot paths build their records by position);
- a record's body may define `__new__` or `_make`, which `typing` refuses (a subclass may, in both);
- a record without a docstring has none (namedtuple writes one), and `inspect.signature` shows `(*args, **kwargs)`;
- `_replace` with a name that is not a field raises TypeError, as a NamedTuple does from Python 3.13 (ValueError
  before).
Fields are read from `__annotations__`, so a module of records says `from __future__ import annotations`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["TypedTuple"]

if TYPE_CHECKING:
    from typing import NamedTuple as TypedTuple
else:
    from collections import _tuplegetter  # the C field reader namedtuple uses (with its own fallback)

    class _Fields(type):
        """Makes each direct subclass of TypedTuple a record of the fields its annotations name, in order."""

        def __new__(mcls, name, bases, namespace, **kwargs):
            root = globals().get("TypedTuple")  # None while TypedTuple itself is made
            if root is None or root not in bases:  # the root, or a subclass of a record (which adds no field)
                return super().__new__(mcls, name, bases, namespace, **kwargs)
            if bases != (root,):
                raise TypeError(f"{name}: a TypedTuple has no other base")
            fields = tuple(namespace.get("__annotations__", ()))
            if not fields:
                raise TypeError(
                    f"{name}: a TypedTuple names its fields as annotations (in a module with the __future__ import)"
                )
            defaults = {}
            for index, field in enumerate(fields):
                if field.startswith("_"):
                    raise ValueError(f"{name}: a field name cannot start with an underscore: {field!r}")
                if field in namespace:
                    defaults[field] = namespace[field]
                elif defaults:
                    raise TypeError(f"{name}: field {field!r} without a default cannot follow one with a default")
                namespace[field] = _tuplegetter(index, f"Alias for field number {index}")
            namespace.update(__slots__=(), _fields=fields, _field_set=frozenset(fields), _field_defaults=defaults)
            namespace.update(_default_values=tuple(defaults.values()), __match_args__=fields)
            return super().__new__(mcls, name, bases, namespace, **kwargs)

    class TypedTuple(tuple, metaclass=_Fields):
        __slots__ = ()

        def __new__(cls, /, *args, **kwargs):  # positional-only: a field may be named cls
            left = len(cls._fields) - len(args)  # the fast ways: every field by position, or the rest defaults
            if kwargs or not 0 <= left <= len(cls._default_values):
                args = _bind(cls, args, kwargs)
            elif left:
                args += cls._default_values[-left:]
            return tuple.__new__(cls, args)

        @classmethod
        def _make(cls, iterable):
            result = tuple.__new__(cls, iterable)
            if len(result) != len(cls._fields):
                raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
            return result

        def _replace(self, /, **changes):
            result = self._make(map(changes.pop, self._fields, self))
            if changes:
                raise TypeError(f"Got unexpected field names: {list(changes)!r}")
            return result

        def _asdict(self):
            return dict(zip(self._fields, self, strict=True))

        def __repr__(self):
            values = ", ".join(f"{field}={value!r}" for field, value in zip(self._fields, self, strict=True))
            return f"{type(self).__name__}({values})"

        def __getnewargs__(self):
            return tuple(self)

        __replace__ = _replace  # copy.replace (Python 3.13), as a namedtuple has it

    def _bind(cls, args, kwargs):
        """The values of a call with keywords or with defaults left out, in field order; a call that does not fit
        is refused with a TypeError, as Python refuses it."""
        fields = cls._fields
        if len(args) > len(fields):
            raise TypeError(f"{cls.__name__}() takes {len(fields)} positional arguments but {len(args)} were given")
        if kwargs.keys() - cls._field_set:
            raise TypeError(
                f"{cls.__name__}() got an unexpected keyword argument {min(kwargs.keys() - cls._field_set)!r}"
            )
        if args and not kwargs.keys().isdisjoint(fields[: len(args)]):
            twice = min(kwargs.keys() & set(fields[: len(args)]))
            raise TypeError(f"{cls.__name__}() got multiple values for argument {twice!r}")
        given = {**cls._field_defaults, **kwargs}
        try:
            return (*args, *[given[field] for field in fields[len(args) :]])
        except KeyError as missing:
            raise TypeError(f"{cls.__name__}() missing required argument: {missing.args[0]!r}") from None

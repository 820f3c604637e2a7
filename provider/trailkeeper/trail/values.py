"""Coerce one declared value to its type, the one way for every aspect. Pure.

CloudFormation sends every scalar as a string, nested ones too ("true", "false"); state files may hold
real booleans. Only true/false (any case, surrounding spaces ignored) are booleans: "yes" or "1" is an
error, as it is for the custom resource.
"""

from __future__ import annotations

from trailkeeper.errors import show


def boolean(path: str, raw: object) -> tuple[bool | None, str | None]:
    """(value, None) or (None, problem) for a declared boolean at `path`.

    >>> boolean("IsLogging", "TRUE")
    (True, None)
    >>> boolean("IsLogging", "yes")[1]
    "IsLogging='yes': must be true or false"
    """
    if isinstance(raw, bool):
        return raw, None
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true", None
    return None, f"{path}={show(raw)}: must be true or false"


def string_list(path: str, raw: object, limit: int) -> tuple[list[str] | None, str | None]:
    """A declared list of strings of at most `limit` items, or the problem with it."""
    if not isinstance(raw, list):
        return None, f"{path}={show(raw)}: must be a list"
    if len(raw) > limit:
        return None, f"{path}: {len(raw)} items; at most {limit}"
    bad = [item for item in raw if not isinstance(item, str)]
    if bad:  # a list, not next(..., None): a None item is as wrong as any other
        return None, f"{path}: {show(bad[0])} must be a string"
    return list(raw), None


def unknown_keys(path: str, item: dict[object, object], allowed: tuple[str, ...]) -> list[str]:
    """A problem for each key of `item` that is not in `allowed`."""
    return [
        f"{path}.{show(key) if not isinstance(key, str) else key}: unknown key; expected {', '.join(allowed)}"
        for key in item
        if key not in allowed
    ]

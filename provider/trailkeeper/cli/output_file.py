"""Where the CLI writes a file (`export -o`, `audit --fix --write-state`): checked before any AWS call, replaced whole.

A run that reads for minutes must not fail at the end because its output cannot be written, so the
path is checked first (a probe file is made and removed beside it, never the file itself); the text
then replaces the file through a new file beside it, so a reader never sees half of it and a failed
write keeps the old one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from trailkeeper.errors import InvalidArguments, show


def now() -> datetime:
    """When a file is made (its header says so); tests replace it."""
    return datetime.now(UTC)


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.trailkeeper-tmp")


def _probe(folder: Path, probe: Path, flag: str, path: str) -> None:
    try:  # the file is replaced through a new one beside it: try that now, not after the reads
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise InvalidArguments(
            f"{flag} {show(path)}: cannot write in {show(str(folder))}: {error.strerror or error}"
        ) from None


def check(path: str | None, flag: str, *, yaml: bool = True) -> None:
    """Refuse a file `path` (given with `flag`) that could not be written, without creating it; a YAML one
    (`yaml`, the state files and templates) also by a `.json` name."""
    if path is None:
        return
    target = Path(path)
    if yaml and target.suffix.lower() == ".json":
        raise InvalidArguments(f"{flag} {show(path)}: trailkeeper writes YAML (with a header comment); name it .yaml")
    if target.is_dir():
        raise InvalidArguments(f"{flag} {show(path)}: is a directory; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise InvalidArguments(f"{flag} {show(path)}: folder {show(str(folder))} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise InvalidArguments(f"{flag} {show(path)}: not writable (check its permissions)")
    _probe(folder, _temporary(target), flag, path)


def check_folder(path: str, flag: str) -> None:
    """Refuse a folder `path` (given with `flag`) that files could not be written in; a missing one is made
    when written to (`write`), and its parent must exist."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise InvalidArguments(f"{flag} {show(path)}: is a file; give a folder (one file is written per account)")
    where = folder if folder.is_dir() else folder.parent
    if not where.is_dir():
        raise InvalidArguments(f"{flag} {show(path)}: folder {show(str(where))} does not exist")
    _probe(where, where / f".{folder.name}.trailkeeper-probe", flag, path)


def write(path: str, text: str, flag: str) -> None:
    """Replace `path` whole: a reader never sees half of it, and a failed write keeps the old one."""
    target = Path(path)
    temporary = _temporary(target)
    try:
        target.parent.mkdir(exist_ok=True)  # a folder `check_folder` accepted, made now that there is output
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InvalidArguments(f"{flag} {show(path)}: cannot write: {error.strerror or error}") from None

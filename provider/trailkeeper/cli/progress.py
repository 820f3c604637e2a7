"""One self-overwriting status line on a terminal, for long runs (plan, apply, export, audit)."""

from __future__ import annotations

from typing import TextIO


class TerminalProgress:
    """One self-overwriting status line on a terminal; cleared when the run ends."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, stage: str, done: int, total: int) -> None:
        self._stream.write(f"\r\x1b[K{stage}: {done}/{total}")
        self._stream.flush()

    def clear(self) -> None:
        self._stream.write("\r\x1b[K")
        self._stream.flush()

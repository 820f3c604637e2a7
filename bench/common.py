"""Helpers shared by the benchmark sections."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the results table: a figure, its yardstick, and how they compare."""

    section: str
    measure: str
    figure: str
    yardstick: str
    verdict: str
    data: dict[str, Any] = field(default_factory=dict)


def median_time(function: Callable[[], Any], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def python(
    script: str, env: dict[str, str] | None = None, interpreter: str = sys.executable, flags: tuple[str, ...] = ()
) -> str:
    """Run `script` in a fresh interpreter (a cold process; `interpreter` with `flags`, else this one) and
    return what it printed."""
    done = subprocess.run(
        [interpreter, *flags, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return done.stdout


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            memory = f"{int(info.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
    }

"""The benchmark keeps running (a quick pass); it reports, it never judges speed here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_quick_benchmark_runs_and_writes_its_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    sections = {row["section"] for row in results["rows"]}
    assert {"AWS calls per event", "Cold start", "Warm overhead per event", "Package size"} <= sections
    assert any(s.startswith("Fleet apply") for s in sections)
    organization = [row for row in results["rows"] if row["section"].startswith("Organization plan")]
    assert organization and organization[0]["verdict"].startswith("calls at the limit")  # counts, not timings
    calls = [row for row in results["rows"] if row["section"] == "AWS calls per event"]
    assert all(row["verdict"].startswith("within") for row in calls)  # counts are exact, not timings
    assert {"IsLogging: start a stopped trail", "Every aspect declared, in sync"} <= {row["measure"] for row in calls}
    whole = [row for row in results["rows"] if row["section"].startswith("Fleet, every aspect declared")]
    assert len(whole) == 3 and all(row["verdict"].startswith("calls at the limit") for row in whole)
    assert "| Section | Measure |" in (tmp_path / "results.md").read_text()

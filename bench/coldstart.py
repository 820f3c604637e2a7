"""Cold start: import the handler and serve the first event, in fresh interpreters, beside a bare
`import boto3` plus one client; and where the time goes."""

from __future__ import annotations

import json
import os
import statistics
import urllib.request
from typing import Any

from devkit import world
from devkit.cfn_server import ResponseServer
from devkit.local import local_aws

from bench.common import Row, python

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "RESULT:"

PROVIDER = f"""
import json, os, sys, time
t0 = time.perf_counter()
import trailkeeper.handler as handler
{{extra_import}}
t1 = time.perf_counter()
from devkit.events import load
from devkit.lambda_context import LambdaContext
event = load("create", os.environ["BENCH_RESPONSE_URL"])
t2 = time.perf_counter()
handler.lambda_handler(event, LambdaContext())
t3 = time.perf_counter()
print("{MARK}" + json.dumps({{"import": t1 - t0, "first_event": t3 - t2, "total": (t1 - t0) + (t3 - t2),
      "xray": "aws_xray_sdk" in sys.modules, "yaml": "yaml" in sys.modules}}))
"""
BASELINE = f"""
import json, time
t0 = time.perf_counter()
import boto3
boto3.client("cloudtrail", region_name="us-east-1")
print("{MARK}" + json.dumps({{"total": time.perf_counter() - t0}}))
"""
STEPS = (
    ("boto3 + botocore", "import boto3"),
    ("first client (loads the CloudTrail model)", "boto3.client('cloudtrail', region_name='us-east-1')"),
    ("crhelper", "import crhelper"),
    ("Powertools Logger + Metrics", "from aws_lambda_powertools import Logger, Metrics"),
    ("trailkeeper (custom resource path)", "import trailkeeper.handler"),
    ("drift path (fleet, report, PyYAML): now lazy", "import trailkeeper.invocations.direct_run"),
)
CONSTRUCTORS = f"""
import json, os, time
from crhelper import CfnResource
from trailkeeper.cfn.resource import TrailSettingsResource
t0 = time.perf_counter(); CfnResource(); t1 = time.perf_counter()
TrailSettingsResource(); t2 = time.perf_counter()
print("{MARK}" + json.dumps({{"crhelper": t1 - t0, "ours": t2 - t1}}))
"""


def _result(output: str) -> Any:
    line = next(line for line in output.splitlines() if line.startswith(MARK))
    return json.loads(line[len(MARK) :])


def _env(endpoint: str, cfn: ResponseServer) -> dict[str, str]:
    return {
        "PYTHONPATH": os.pathsep.join([os.path.join(ROOT, "provider"), ROOT]),
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench-secret",
        "AWS_REGION": world.HOME,
        "AWS_DEFAULT_REGION": world.HOME,
        "AWS_ENDPOINT_URL": endpoint,
        "SSL_CERT_FILE": str(cfn.ca_file),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


def _contributors(repeat: int = 5) -> list[tuple[str, float]]:
    """Each step's own import time, in order, in fresh interpreters (median of `repeat`)."""
    lines = ["import json, time", "times = []"]
    for label, statement in STEPS:
        lines += ["t = time.perf_counter()", statement, f"times.append(({label!r}, time.perf_counter() - t))"]
    lines.append(f"print('{MARK}' + json.dumps(times))")
    env = {"PYTHONPATH": os.path.join(ROOT, "provider"), "AWS_REGION": world.HOME}
    samples: dict[str, list[float]] = {}
    for _ in range(repeat):
        for label, seconds in _result(python("\n".join(lines), env)):
            samples.setdefault(label, []).append(seconds)
    return [(label, statistics.median(values)) for label, values in samples.items()]


def run(repeat: int = 7) -> list[Row]:
    with local_aws() as (endpoint, cfn):
        env = _env(endpoint, cfn)
        samples: dict[str, list[dict[str, Any]]] = {"after": [], "before": [], "baseline": []}
        for _ in range(repeat):  # interleaved, so machine noise hits every variant alike
            for variant, extra in (("after", ""), ("before", "import trailkeeper.invocations.direct_run")):
                urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
                world.seed(endpoint)
                env["BENCH_RESPONSE_URL"] = cfn.url()
                samples[variant].append(_result(python(PROVIDER.replace("{extra_import}", extra), env)))
            samples["baseline"].append(_result(python(BASELINE, env)))
        constructors = [_result(python(CONSTRUCTORS, env)) for _ in range(repeat)]

    def median(variant: str, key: str) -> float:
        return float(statistics.median(sample[key] for sample in samples[variant]))

    baseline = median("baseline", "total")
    after, before = median("after", "total"), median("before", "total")
    rows = [
        Row(
            "Cold start",
            "import handler + serve first Create (7 changes, local AWS)",
            f"{after * 1000:.0f} ms (import {median('after', 'import') * 1000:.0f} ms, "
            f"event {median('after', 'first_event') * 1000:.0f} ms)",
            f"import boto3 + 1 client: {baseline * 1000:.0f} ms",
            f"{after / baseline:.2f}x",
            {
                "after_s": after,
                "baseline_s": baseline,
                "import_s": median("after", "import"),
                "first_event_s": median("after", "first_event"),
                "xray_imported": any(s["xray"] for s in samples["after"]),
                "yaml_imported": any(s["yaml"] for s in samples["after"]),
            },
        ),
        Row(
            "Cold start",
            "before: drift path imported eagerly",
            f"{before * 1000:.0f} ms",
            f"after: {after * 1000:.0f} ms",
            f"{before / baseline:.2f}x -> {after / baseline:.2f}x of boto3",
            {"before_s": before},
        ),
    ]
    crhelper = statistics.median(c["crhelper"] for c in constructors)
    ours = statistics.median(c["ours"] for c in constructors)
    rows.append(
        Row(
            "Cold start",
            "resource construction (crhelper builds 3 clients for polling)",
            f"ours: {ours * 1e6:.0f} us",
            f"crhelper's CfnResource(): {crhelper * 1000:.0f} ms",
            f"{crhelper / ours:.0f}x less",
            {"crhelper_s": crhelper, "ours_s": ours},
        )
    )
    xray = "imported" if rows[0].data["xray_imported"] else "not imported (Tracer unused)"
    for label, seconds in _contributors():
        rows.append(Row("Cold start: contributors", label, f"{seconds * 1000:.1f} ms", "", ""))
    rows.append(Row("Cold start: contributors", "X-Ray SDK", xray, "", ""))
    return rows

"""Cold start: import the handler and serve the first event, in fresh interpreters, beside a bare
`import boto3` plus one client; and where the time goes."""

from __future__ import annotations

import compileall
import json
import os
import shutil
import statistics
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import botocore
from devkit import package, world
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
parts = {{}}
def timed(owner, name, label):
    original = getattr(owner, name)
    def timer(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            parts[label] = parts.get(label, 0.0) + time.perf_counter() - start
    setattr(owner, name, timer)
import botocore.client
from trailkeeper import botocore_model
from trailkeeper.aws import calls
from trailkeeper.cfn import response
from trailkeeper.trail import declaration, guard
timed(declaration, "parse", "parse")
timed(botocore_model, "cloudtrail_model", "model")
timed(calls.Clients, "client", "client")
timed(botocore.client.BaseClient, "_make_api_call", "calls")
timed(guard, "setting_effects", "guard")
timed(response.Sender, "send", "answer")
event = load("create", os.environ["BENCH_RESPONSE_URL"])
t2 = time.perf_counter()
handler.lambda_handler(event, LambdaContext())
t3 = time.perf_counter()
print("{MARK}" + json.dumps({{"import": t1 - t0, "first_event": t3 - t2, "total": (t1 - t0) + (t3 - t2),
      "parts": parts, "xray": "aws_xray_sdk" in sys.modules, "yaml": "yaml" in sys.modules}}))
"""
BASELINE = f"""
import json, os, time
t0 = time.perf_counter()
import boto3
boto3.client("cloudtrail", region_name="us-east-1")
print("{MARK}" + json.dumps({{"total": time.perf_counter() - t0}}))
"""
# The same cold start's work done bare: boto3, one client, the event's two calls, the answer's PUT. Every script
# loads json, os, sys and time before its clock starts (to print its result) and everything else after: the modules
# the PUT needs are boto3's too (ssl, http.client: 24 ms on Lambda's Python), so loading them first hid that
# much of the bare work.
BARE_EVENT = f"""
import json, os, time
t0 = time.perf_counter()
import http.client, ssl, urllib.parse
import boto3
client = boto3.client("cloudtrail", region_name="us-east-1")
client.describe_trails(trailNameList=["audit-trail"], includeShadowTrails=True)
client.update_trail(Name="audit-trail", EnableLogFileValidation=True)
url = urllib.parse.urlsplit(os.environ["BENCH_RESPONSE_URL"])
put = http.client.HTTPSConnection(url.hostname, url.port, context=ssl.create_default_context())
put.request("PUT", url.path + "?" + url.query, body=b'{{"Status": "SUCCESS"}}', headers={{"Content-Type": ""}})
put.getresponse().read()
print("{MARK}" + json.dumps({{"total": time.perf_counter() - t0}}))
"""
# The floor of any provider built on our dependencies: the same bare work, plus crhelper's import and Powertools'
# Logger and Metrics made as observability.py makes them. What the deployment takes above it is trailkeeper's.
BARE_FLOOR = BARE_EVENT.replace(
    "import boto3\n",
    "import boto3\nimport crhelper\nfrom aws_lambda_powertools import Logger, Metrics\n"
    "Logger(service='floor'); Metrics(namespace='floor')\n",
    1,
)
OWN_IMPORT = "trailkeeper (custom resource path)"
STEPS = (
    ("boto3 + botocore", "import boto3"),
    ("first client (loads the CloudTrail model)", "boto3.client('cloudtrail', region_name='us-east-1')"),
    ("crhelper", "import crhelper"),
    (
        "Powertools Logger + Metrics, made as observability.py makes them",
        "from aws_lambda_powertools import Logger, Metrics; Logger(service='x'); Metrics(namespace='x')",
    ),
    (OWN_IMPORT, "import trailkeeper.handler"),
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


def _contributors(repeat: int = 5, run: Callable[[str], str] | None = None) -> dict[str, float]:
    """Each step's own import time, in order, in fresh interpreters (median of `repeat`); `run` runs a
    script in one (this venv's interpreter by default)."""
    lines = ["import json, time", "times = []"]
    for label, statement in STEPS:
        lines += ["t = time.perf_counter()", statement, f"times.append(({label!r}, time.perf_counter() - t))"]
    lines.append(f"print('{MARK}' + json.dumps(times))")
    env = {"PYTHONPATH": os.path.join(ROOT, "provider"), "AWS_REGION": world.HOME}
    samples: dict[str, list[float]] = {}
    for _ in range(repeat):
        output = run("\n".join(lines)) if run else python("\n".join(lines), env)
        for label, seconds in _result(output):
            samples.setdefault(label, []).append(seconds)
    return {label: statistics.median(values) for label, values in samples.items()}


def _own_share(where: str, samples: list[dict[str, Any]], own_import: float) -> Row:
    """trailkeeper's own share of a cold start: its own import (after its dependencies') and what the first
    event spends outside the CloudTrail model's load, the client, the two calls and the answer's PUT (crhelper's
    and Powertools' part of the event included, so it is an upper bound)."""

    def median(values: Iterable[float]) -> float:
        return float(statistics.median(values))

    others = median(sum(s["parts"].get(key, 0.0) for key in ("model", "client", "calls", "answer")) for s in samples)
    event_own = median(s["first_event"] for s in samples) - others
    own, total = own_import + event_own, median(s["total"] for s in samples)
    return Row(
        "Cold start",
        f"trailkeeper's own share of that cold start ({where})",
        f"{own * 1000:.1f} ms (import {own_import * 1000:.1f} ms, first event {event_own * 1000:.1f} ms)",
        f"the whole cold start: {total * 1000:.0f} ms",
        f"{own / total:.1%}",
        {"own_s": own, "own_import_s": own_import, "own_event_s": event_own, "total_s": total},
    )


def _fresh_bytecode() -> None:
    """Compile trailkeeper's modules first: a stale .pyc (a source edited since, with PYTHONDONTWRITEBYTECODE
    set, as on CI) would be compiled again in every measured interpreter, a cost no deployment pays (the
    artifact ships its bytecode: the size section measures that). boto3's was written when pip installed it."""
    for folder in ("provider/trailkeeper", "devkit"):
        compileall.compile_dir(os.path.join(ROOT, folder), quiet=1)


def run(repeat: int = 7) -> list[Row]:
    _fresh_bytecode()
    with local_aws() as (endpoint, cfn):
        env = _env(endpoint, cfn)
        samples: dict[str, list[dict[str, Any]]] = {"after": [], "before": [], "baseline": [], "bare": []}
        for _ in range(repeat):  # interleaved, so machine noise hits every variant alike
            for variant, extra in (("after", ""), ("before", "import trailkeeper.invocations.direct_run")):
                urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
                world.seed(endpoint)
                env["BENCH_RESPONSE_URL"] = cfn.url()
                samples[variant].append(_result(python(PROVIDER.replace("{extra_import}", extra), env)))
            samples["baseline"].append(_result(python(BASELINE, env)))
            env["BENCH_RESPONSE_URL"] = cfn.url()
            samples["bare"].append(_result(python(BARE_EVENT, env)))
        constructors = [_result(python(CONSTRUCTORS, env)) for _ in range(repeat)]

    def median(variant: str, key: str) -> float:
        return float(statistics.median(sample[key] for sample in samples[variant]))

    baseline, bare = median("baseline", "total"), median("bare", "total")
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
            "the same, beside the same work done bare",
            f"{after * 1000:.0f} ms",
            f"import boto3 + 1 client + DescribeTrails + UpdateTrail + the answer's PUT: {bare * 1000:.0f} ms",
            f"{after / bare:.2f}x",
            {"bare_s": bare},
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
    contributors = _contributors()
    rows.append(_own_share("the venv", samples["after"], contributors[OWN_IMPORT]))
    rows += _under_the_runtime(repeat)
    xray = "imported" if rows[0].data["xray_imported"] else "not imported (Tracer unused)"
    for label, seconds in contributors.items():
        rows.append(Row("Cold start: contributors", label, f"{seconds * 1000:.1f} ms", "", ""))
    rows.append(Row("Cold start: contributors", "X-Ray SDK", xray, "", ""))
    rows += _first_event(samples["after"])
    return rows


FIRST_EVENT = (
    ("parse", "declaration.parse: the properties checked (loads the CloudTrail model for the settings table)"),
    ("model", "of which the CloudTrail model's load (the client would load it otherwise)"),
    ("client", "the CloudTrail client built (its endpoints and rules; the model is loaded already)"),
    ("calls", "DescribeTrails and UpdateTrail, to the local AWS"),
    ("guard", "the guard weighs the changes (loads the model of what a trail records)"),
    ("answer", "the answer's PUT to the CloudFormation stand-in (TLS)"),
)


def _first_event(samples: list[dict[str, Any]]) -> list[Row]:
    """Where the first event's time goes (medians of each part), and what none of the parts covers."""

    def part(key: str) -> float:
        return float(statistics.median(s["parts"].get(key, 0.0) for s in samples))

    event = float(statistics.median(s["first_event"] for s in samples))
    rows = [
        Row("Cold start: the first event", label, f"{part(key) * 1000:.1f} ms", "", "", {"s": part(key)})
        for key, label in FIRST_EVENT
    ]
    rest = event - sum(part(key) for key, _ in FIRST_EVENT if key != "model")  # the model's load is in parse
    rows.append(
        Row(
            "Cold start: the first event",
            "the rest (engine, crhelper, Powertools, logs)",
            f"{rest * 1000:.1f} ms",
            "",
            "",
        )
    )
    return rows


def _under_the_runtime(repeat: int) -> list[Row]:
    """The same cold start as Lambda runs it: the artifact `make package` builds (its bytecode included), on
    Lambda's Python, with nothing else on the path (no site-packages: -S) and no bytecode written (-B, as
    /var/task is read-only); the yardsticks on the same artifact's boto3, turn about."""
    measure = "the same, from the artifact under Lambda's Python (the deployment's cold start)"
    interpreter = package.runtime_python()
    if interpreter is None:
        return [Row("Cold start", measure, "not measured: no Lambda Python here", "", "")]
    samples: dict[str, list[float]] = {"after": [], "baseline": [], "bare": [], "floor": [], "whole_endpoints": []}
    provider: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder, local_aws() as (endpoint, cfn):
        artifact, _, _ = package.build(Path(folder) / "provider.zip")
        env = _env(endpoint, cfn)
        # The artifact, then devkit's event loader and Lambda context (read after the clock stops).
        env["PYTHONPATH"] = os.pathsep.join([str(artifact.parent / "package"), ROOT])
        # Before: botocore's whole endpoints.json (the same botocore's, found first on AWS_DATA_PATH).
        whole = Path(folder) / "whole"
        whole.mkdir()
        shutil.copy(Path(botocore.__file__).parent / "data" / "endpoints.json", whole)
        script = PROVIDER.replace("{extra_import}", "")
        for _ in range(repeat):
            urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
            world.seed(endpoint)
            env["BENCH_RESPONSE_URL"] = cfn.url()
            provider.append(_result(_cold(interpreter, script, env)))
            samples["after"].append(provider[-1]["total"])
            env["BENCH_RESPONSE_URL"] = cfn.url()
            whole_env = {**env, "AWS_DATA_PATH": str(whole)}
            samples["whole_endpoints"].append(_result(_cold(interpreter, script, whole_env))["total"])
            env["BENCH_RESPONSE_URL"] = cfn.url()
            samples["bare"].append(_result(_cold(interpreter, BARE_EVENT, env))["total"])
            samples["baseline"].append(_result(_cold(interpreter, BASELINE, env))["total"])
            env["BENCH_RESPONSE_URL"] = cfn.url()
            samples["floor"].append(_result(_cold(interpreter, BARE_FLOOR, env))["total"])
        imports = _contributors(repeat, lambda script: _cold(interpreter, script, env))
    after, baseline, bare, floor, before = (
        statistics.median(samples[k]) for k in ("after", "baseline", "bare", "floor", "whole_endpoints")
    )
    return [
        Row(
            "Cold start",
            measure,
            f"{after * 1000:.0f} ms",
            f"import boto3 + 1 client: {baseline * 1000:.0f} ms; the same work done bare: {bare * 1000:.0f} ms",
            f"{after / baseline:.2f}x; {after / bare:.2f}x the work done bare",
            {"runtime_after_s": after, "runtime_baseline_s": baseline, "runtime_bare_s": bare},
        ),
        Row(
            "Cold start",
            "the floor there: the same work done bare, plus crhelper's import and Powertools' Logger and Metrics "
            "(what any provider on these dependencies pays)",
            f"{floor * 1000:.0f} ms",
            f"import boto3 + 1 client: {baseline * 1000:.0f} ms",
            f"{floor / baseline:.2f}x; the deployment is {after / floor:.2f}x of the floor",
            {"runtime_floor_s": floor},
        ),
        Row(
            "Cold start",
            "the same, before: botocore's whole endpoints.json (1.2 MB; the artifact keeps its services' entries)",
            f"{before * 1000:.0f} ms",
            f"after: {after * 1000:.0f} ms",
            f"{(before - after) * 1000:.0f} ms less",
            {"runtime_whole_endpoints_s": before},
        ),
        _own_share("the artifact under Lambda's Python", provider, imports[OWN_IMPORT]),
    ]


def _cold(interpreter: str, script: str, env: dict[str, str]) -> str:
    return python(script, env, interpreter, flags=("-S", "-B"))

"""The Lambda's routing: one module decides what an invocation is and hands it to its door; the doors do not
import each other (no import circle anywhere in the package); a custom resource's cold start loads no door
but its own."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from devkit import events

import trailkeeper
from trailkeeper import routing
from trailkeeper.invocations import audit_run as audit_direct
from trailkeeper.invocations import direct_run as direct
from trailkeeper.invocations import organization_step as invocations

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(trailkeeper.__file__).resolve().parent  # wherever it is imported from (the mutation run stages it)
CLOUDTRAIL_EVENTS = sorted((ROOT / "events" / "cloudtrail").glob("*.json"))


@pytest.mark.parametrize("name", events.names())
def test_every_sample_custom_resource_event_is_a_custom_resource(name: str) -> None:
    assert routing.kind(events.load(name)) == routing.CUSTOM_RESOURCE


def test_a_response_url_makes_a_custom_resource_however_malformed_the_rest() -> None:
    assert routing.kind({"ResponseURL": "https://example.com", "action": "list-accounts"}) == routing.CUSTOM_RESOURCE


def test_the_direct_samples_are_what_they_ask() -> None:
    assert events.direct_names() == ["audit"]  # and `names()` holds only custom resource requests
    assert routing.kind(events.load("audit")) == routing.AUDIT_RUN


@pytest.mark.parametrize("path", CLOUDTRAIL_EVENTS, ids=lambda p: p.stem)
def test_every_sample_cloudtrail_event_is_a_trail_change(path: Path) -> None:
    event = json.loads(path.read_text())
    assert "account" in event  # EventBridge says which account: it must not pass for an organization step
    assert routing.kind(event) == routing.TRAIL_CHANGE


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"action": "list-accounts", "bucket": "b", "key": "k"}, routing.ORGANIZATION_STEP),
        ({"action": "summarise", "result_writer": {}}, routing.ORGANIZATION_STEP),
        ({"action": "plan", "account": "111122223333"}, routing.ORGANIZATION_STEP),
        ({"account": "111122223333"}, routing.ORGANIZATION_STEP),
        ({"action": "audit"}, routing.AUDIT_RUN),
        ({"action": "audit", "standards": ["fsbp"], "regions": ["us-east-1"]}, routing.AUDIT_RUN),
        ({"action": "audit", "account": "111122223333"}, routing.ORGANIZATION_STEP),  # the organization's audit
        ({"detail-type": "Scheduled Event", "action": "audit"}, routing.DIRECT_RUN),
        ({"action": "plan", "trails": []}, routing.DIRECT_RUN),
        ({"action": "apply"}, routing.DIRECT_RUN),
        ({"detail-type": "Scheduled Event", "account": "111122223333", "detail": {}}, routing.DIRECT_RUN),
        ({"detail-type": "Something Else", "action": "summarise"}, routing.DIRECT_RUN),
        ({}, routing.DIRECT_RUN),
        ("plan", routing.DIRECT_RUN),
        (["plan"], routing.DIRECT_RUN),
        (None, routing.DIRECT_RUN),
    ],
)
def test_what_each_invocation_is(event: Any, expected: str) -> None:
    assert routing.kind(event) == expected


def test_each_kind_goes_to_its_door_and_only_there(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, Any]] = []

    def direct_door(event: Any, context: Any, trail_change: bool = False) -> dict[str, Any]:
        seen.append(("trail change" if trail_change else "direct", event))
        return {"door": "direct"}

    def organization_door(event: Any, context: Any) -> dict[str, Any]:
        seen.append(("organization", event))
        return {"door": "organization"}

    def audit_door(event: Any, context: Any) -> dict[str, Any]:
        seen.append(("audit", event))
        return {"door": "audit"}

    def custom_resource() -> Any:
        return lambda event, context: seen.append(("custom resource", event))

    monkeypatch.setattr(direct, "handle", direct_door)
    monkeypatch.setattr(audit_direct, "handle", audit_door)
    monkeypatch.setattr(invocations, "handle", organization_door)
    trail_change = json.loads(CLOUDTRAIL_EVENTS[0].read_text())
    cases = [
        (events.load("create"), None, "custom resource"),
        (trail_change, {"door": "direct"}, "trail change"),
        ({"action": "summarise"}, {"door": "organization"}, "organization"),
        ({"action": "plan", "trails": []}, {"door": "direct"}, "direct"),
        (events.load("audit"), {"door": "audit"}, "audit"),
        ({"action": "audit", "account": "111122223333"}, {"door": "organization"}, "organization"),
    ]
    for event, answer, door in cases:
        seen.clear()
        assert routing.route(event, None, custom_resource) == answer
        assert seen == [(door, event)]


def _imports(path: Path) -> set[str]:
    """The trailkeeper modules `path` imports, at the top or inside a function (lazy imports count)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (submodule.replace(".", "/") + ".py")).exists()
                found.add(submodule if is_module else node.module)
    return {
        name
        for name in found
        if name.startswith("trailkeeper.") and not (PACKAGE.parent / name.replace(".", "/")).is_dir()
    }


def _graph() -> dict[str, set[str]]:
    modules = {
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts): p
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py"
    }
    return {name: _imports(path) & modules.keys() for name, path in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import path that comes back to where it started (depth-first, each loop reported once)."""
    circles: list[list[str]] = []
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        for target in sorted(graph[name]):
            if target in path:
                circles.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(name)

    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    return circles


def test_the_package_has_no_import_circle() -> None:
    graph = _graph()
    assert (
        graph["trailkeeper.invocations.direct_run"] and graph["trailkeeper.invocations.organization_step"]
    )  # the graph was read
    assert _circles(graph) == []


def test_the_circle_check_would_find_the_old_circle() -> None:
    graph = _graph()
    graph["trailkeeper.invocations.direct_run"] = graph["trailkeeper.invocations.direct_run"] | {
        "trailkeeper.invocations.organization_step"
    }
    graph["trailkeeper.invocations.organization_step"] = graph["trailkeeper.invocations.organization_step"] | {
        "trailkeeper.invocations.direct_run"
    }
    assert [
        "trailkeeper.invocations.direct_run",
        "trailkeeper.invocations.organization_step",
        "trailkeeper.invocations.direct_run",
    ] in _circles(graph)


def test_the_doors_import_neither_each_other_nor_the_router() -> None:
    graph = _graph()
    doors = {
        "trailkeeper.invocations.direct_run",
        "trailkeeper.invocations.audit_run",
        "trailkeeper.invocations.organization_step",
        "trailkeeper.cfn.resource",
    }
    for door in doors:
        assert not graph[door] & (doors | {"trailkeeper.routing", "trailkeeper.handler"}), door
    assert doors - {"trailkeeper.cfn.resource"} <= graph["trailkeeper.routing"]


# What a custom resource's cold start imports: the handler, the custom resource and what every Create, Update
# or Delete needs. Nothing of the drift path, the audit, the export, the organization layer or YAML; nor the
# model of what a trail records (events, record, selectors), which loads when a change is first weighed.
COLD_START_MODULES = {
    "trailkeeper",
    "trailkeeper.aws",
    "trailkeeper.aws.calls",
    "trailkeeper.aws.delegation",
    "trailkeeper.aws.error_table",
    "trailkeeper.aws.locate",
    "trailkeeper.botocore_model",
    "trailkeeper.cfn",
    "trailkeeper.cfn.events",
    "trailkeeper.cfn.resource",
    "trailkeeper.cfn.response",
    "trailkeeper.cfn.watchdog",
    "trailkeeper.collector",
    "trailkeeper.engine",
    "trailkeeper.errors",
    "trailkeeper.handler",
    "trailkeeper.observability",
    "trailkeeper.redaction",
    "trailkeeper.routing",
    "trailkeeper.trail",
    "trailkeeper.trail.arns",
    "trailkeeper.trail.aspect",
    "trailkeeper.trail.aspects",
    "trailkeeper.trail.consistency",
    "trailkeeper.trail.declaration",
    "trailkeeper.trail.guard",
    "trailkeeper.trail.insights",
    "trailkeeper.trail.normalise",
    "trailkeeper.trail.plan",
    "trailkeeper.trail.rules",
    "trailkeeper.trail.selector_aspect",
    "trailkeeper.trail.settings",
    "trailkeeper.trail.standing",
    "trailkeeper.trail.status",
    "trailkeeper.trail.tags",
    "trailkeeper.trail.values",
    "trailkeeper.typed_tuple",
}
COVERAGE_MODEL = {"trailkeeper.trail.events", "trailkeeper.trail.record", "trailkeeper.trail.selectors"}


def _loaded_after(statements: str) -> set[str]:
    script = (
        f"import sys\n{statements}\nprint(' '.join(m for m in sys.modules if m.startswith(('trailkeeper', 'yaml'))))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "provider")])}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return set(result.stdout.split())


def test_a_custom_resource_cold_start_imports_exactly_what_every_request_needs() -> None:
    loaded = _loaded_after("import trailkeeper.handler")
    assert loaded == COLD_START_MODULES, (
        f"imported at cold start but not listed: {sorted(loaded - COLD_START_MODULES)}; "
        f"listed but not imported: {sorted(COLD_START_MODULES - loaded)}"
    )


SELECTOR_MODEL = COVERAGE_MODEL - {"trailkeeper.trail.record"}


def test_the_model_of_what_a_trail_records_loads_when_a_change_is_first_weighed() -> None:
    weigh = (
        "from trailkeeper.trail import guard\n"
        "unchanged = guard.setting_effects({}, {'EnableLogFileValidation': True})\n"
        "loaded_before = 'trailkeeper.trail.record' in sys.modules\n"
        "guard.setting_effects({'EnableLogFileValidation': False}, {'EnableLogFileValidation': True})\n"
        "assert not loaded_before"
    )
    # A change of settings alone weighs settings: the model of what selectors record stays unloaded (2 ms of a
    # cold start on Lambda's Python, docs/benchmarks.md) until selectors are weighed.
    weighed = _loaded_after(weigh)
    assert "trailkeeper.trail.record" in weighed and not SELECTOR_MODEL & weighed
    selectors_too = (
        f"{weigh}\nfrom trailkeeper.trail import declaration, aspects\n"
        "declared = declaration.parse({'Name': 'audit', 'EventSelectors': []}).aspects[aspects.SELECTORS_ASPECT.name]\n"
        "aspects.SELECTORS_ASPECT.weakenings(declared, declared)"
    )
    assert _loaded_after(selectors_too) >= COVERAGE_MODEL
    parse = "from trailkeeper.trail import declaration\ndeclaration.parse({'Name': 'audit', 'IsLogging': 'true'})"
    assert not COVERAGE_MODEL & _loaded_after(parse)
    parse_selectors = f"{parse}\ndeclaration.parse({{'Name': 'audit', 'EventSelectors': []}})"
    assert "trailkeeper.trail.selectors" in _loaded_after(parse_selectors)


def _run(statements: str) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "provider")])}
    result = subprocess.run([sys.executable, "-c", statements], capture_output=True, text=True, env=env, check=True)
    return result.stdout.strip()


def test_the_cold_start_imports_pause_the_collector_and_set_their_objects_aside() -> None:
    # The handler's imports run with the collector paused; what they made is frozen, the collector is back on
    # and collects what events make.
    script = (
        "import gc\n"
        "import trailkeeper.handler\n"
        "frozen = gc.get_freeze_count()\n"
        "loop = []; loop.append(loop); del loop\n"
        "print(gc.isenabled(), frozen > 20000, gc.collect() >= 1)"
    )
    assert _run(script) == "True True True"


def test_a_failed_cold_start_import_still_turns_the_collector_back_on() -> None:
    script = (
        "import gc, sys\n"
        "sys.modules['trailkeeper.observability'] = None\n"
        "try:\n    import trailkeeper.handler\n"
        "except ImportError:\n    print(gc.isenabled(), gc.get_freeze_count() > 0)"
    )
    assert _run(script) == "True True"


def _patterns_compiled(statements: str) -> list[str]:
    """The regular expressions that trailkeeper's own code compiled while `statements` ran, after the imports of
    its dependencies (theirs are not ours to count)."""
    script = (
        "import json, re, sys\n"
        "import boto3, botocore.session, crhelper, aws_lambda_powertools\n"
        "from re import _compiler\n"
        "compiled = []\n"
        "compile = _compiler.compile\n"
        "def counting(pattern, flags=0):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame.f_globals.get('__name__', '') in ('re', 're._compiler', 're._parser'):\n"
        "        frame = frame.f_back\n"
        "    if frame.f_globals.get('__name__', '').startswith('trailkeeper'):\n"
        "        compiled.append(str(pattern))\n"
        "    return compile(pattern, flags)\n"
        "_compiler.compile = counting\n"
        f"{statements}\n"
        "print(json.dumps(compiled))"
    )
    return list(json.loads(_run(script).splitlines()[-1]))


def test_the_cold_start_compiles_only_the_patterns_its_request_holds() -> None:
    # Each pattern costs 20-300 us to compile on Lambda's Python; the rules' and the redaction's were about 1.3 ms
    # of the cold start (docs/benchmarks.md). A declaration pays only for a pattern of trail names it holds.
    assert _patterns_compiled("import trailkeeper.handler") == []
    parse = "from trailkeeper.trail import declaration\ndeclaration.parse({'Name': 'audit', 'SnsTopicName': 'alerts'})"
    assert _patterns_compiled(parse) == []  # the rules check sets of characters
    pattern = "from trailkeeper.trail import declaration\ndeclaration.parse({'Name': 'audit-*'})"
    assert _patterns_compiled(pattern) == ["[A-Za-z0-9._*?-]{1,128}"]
    assert _patterns_compiled("import trailkeeper.trail.selectors") != []  # the count sees a module's own


def _records_defined(statements: str) -> list[Any]:
    """What `statements` printed (each line JSON), then, last, the trailkeeper dataclasses and named tuples
    (`typing.NamedTuple` makes them through `collections.namedtuple`) defined while they ran."""
    script = (
        "import collections, dataclasses, json, sys\n"
        "defined = []\n"
        "process, namedtuple = dataclasses._process_class, collections.namedtuple\n"
        "def counting(cls, *args, **kwargs):\n"
        "    if cls.__module__.startswith('trailkeeper'):\n"
        "        defined.append(f'dataclass {cls.__module__}.{cls.__qualname__}')\n"
        "    return process(cls, *args, **kwargs)\n"
        "def counting_tuples(name, fields, **kwargs):\n"
        "    module = kwargs.get('module') or sys._getframe(1).f_globals.get('__name__', '')\n"
        "    if module.startswith('trailkeeper'):\n"
        "        defined.append(f'namedtuple {module}.{name}')\n"
        "    return namedtuple(name, fields, **kwargs)\n"
        "dataclasses._process_class, collections.namedtuple = counting, counting_tuples\n"
        f"{statements}\n"
        "print(json.dumps(defined))"
    )
    return [json.loads(line) for line in _run(script).splitlines()]


def test_the_cold_path_defines_no_dataclass_or_named_tuple_and_loads_no_difflib() -> None:
    # A frozen dataclass costs about half a millisecond to define (dataclasses writes and compiles its methods), a
    # NamedTuple a fifth of that (collections.namedtuple compiles its __new__, typing each string annotation): the
    # records a Create defines are TypedTuples, a few microseconds each (docs/benchmarks.md). difflib is for
    # refusals only.
    create = (
        "import trailkeeper.handler\n"
        "from trailkeeper.trail import declaration, guard\n"
        "declaration.parse({'Name': 'audit', 'EnableLogFileValidation': 'true', 'EventSelectors': []})\n"
        "guard.setting_effects({'EnableLogFileValidation': False}, {'EnableLogFileValidation': True})\n"
        "print(json.dumps(['difflib' in sys.modules, 'trailkeeper.trail.record' in sys.modules]))"
    )
    assert _records_defined(create) == [[False, True], []]


def test_the_record_count_sees_the_audit_s_dataclasses_and_a_named_tuple() -> None:
    defined = _records_defined(
        "import trailkeeper.audit.findings\n"
        "from typing import NamedTuple\n"
        "exec('class Probe(NamedTuple):\\n    a: int', {'__name__': 'trailkeeper.probe', 'NamedTuple': NamedTuple})"
    )
    assert "namedtuple trailkeeper.probe.Probe" in defined[-1]
    assert "dataclass trailkeeper.audit.findings.Finding" in defined[-1]

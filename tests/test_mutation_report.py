"""`make mutate`'s report: a line of tests/mutation/equivalent.md is stale only when its module was tested."""

from __future__ import annotations

from devkit.mutation import Mutant, report

RUN = [
    Mutant("trailkeeper.cfn.events.x_stack_status__mutmut_1", "killed"),
    Mutant("trailkeeper.cfn.events.x_stack_status__mutmut_2", "survived"),
    Mutant("trailkeeper.audit.ocsf.x_ocsf__mutmut_9", "not checked"),  # a partial run: not run, no verdict
]


def stale_lines(text: str) -> list[str]:
    heading = "## Listed as equivalent but killed or gone (update the list)"
    return [line for line in text.split(heading, 1)[1].splitlines() if line.startswith("- ")] if heading in text else []


def test_a_listed_mutant_of_a_tested_module_that_no_longer_survives_is_flagged() -> None:
    listed = {
        "trailkeeper.cfn.events.x_stack_status__mutmut_2": "equivalent",
        "trailkeeper.cfn.events.x_stack_status__mutmut_1": "was equivalent; a test kills it now",
    }
    text = report(RUN, listed)
    assert stale_lines(text) == ["- `trailkeeper.cfn.events.x_stack_status__mutmut_1`"]
    assert "| trailkeeper.cfn.events | 2 | 1 | 0 | 0 | 1 | 100.0 % |" in text


def test_a_listed_mutant_of_a_module_the_run_did_not_test_is_not_flagged() -> None:
    listed = {
        "trailkeeper.cfn.events.x_stack_status__mutmut_2": "equivalent",
        "trailkeeper.audit.ocsf.x_ocsf__mutmut_9": "equivalent, judged in another run",
        "trailkeeper.audit.delivery.x_notifications__mutmut_*": "equivalent, judged in another run",
    }
    text = report(RUN, listed)
    assert stale_lines(text) == []
    assert "1 mutants were not run" in text

"""`python -m devkit.mutant`: one mutant of a staged run, put in place of its function and always put back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from devkit import mutant

ORIGINAL = '''"""A module."""


class Seen:
    @classmethod
    def of(cls, names: list[str]) -> int:
        """How many."""
        return len(names) + 1


def double(value: int) -> int:
    return value * 2
'''

STAGED = '''class Seen:
    def xǁSeenǁof__mutmut_orig(cls, names: list[str]) -> int:
        """How many."""
        return len(names) + 1

    def xǁSeenǁof__mutmut_1(cls, names: list[str]) -> int:
        """How many."""
        return len(names) - 1


def x_double__mutmut_orig(value: int) -> int:
    return value * 2


def x_double__mutmut_1(value: int) -> int:
    return value / 2
'''

METHOD = "trailkeeper.pkg.mod.xǁSeenǁof__mutmut_1"
FUNCTION = "trailkeeper.pkg.mod.x_double__mutmut_1"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A root with provider/trailkeeper/pkg/mod.py and its staged run in stage/mutants/."""
    code = tmp_path / "provider" / "trailkeeper" / "pkg" / "mod.py"
    code.parent.mkdir(parents=True)
    code.write_text(ORIGINAL)
    staged = tmp_path / "stage" / "mutants" / "trailkeeper" / "pkg" / "mod.py"
    staged.parent.mkdir(parents=True)
    staged.write_text(STAGED)
    return tmp_path


def code(tree: Path) -> str:
    return (tree / "provider" / "trailkeeper" / "pkg" / "mod.py").read_text()


@pytest.mark.parametrize(
    ("name", "before", "after"),
    [
        (METHOD, "        return len(names) + 1\n", "        return len(names) - 1\n"),
        (FUNCTION, "    return value * 2\n", "    return value / 2\n"),
    ],
    ids=["a-method-under-its-decorator", "a-function"],
)
def test_a_mutant_takes_its_functions_place_and_restore_puts_the_code_back(
    tree: Path, name: str, before: str, after: str
) -> None:
    applied = tree / "applied.json"
    mutant.apply(name, tree, tree / "stage", applied)
    assert code(tree) == ORIGINAL.replace(before, after)
    assert mutant.restore(applied) == name
    assert code(tree) == ORIGINAL and not applied.exists()
    assert mutant.restore(applied) is None


def test_show_gives_the_mutants_diff_under_the_functions_own_name(tree: Path) -> None:
    assert mutant.show(FUNCTION, tree / "stage").splitlines()[2:] == [
        "@@ -1,2 +1,2 @@",
        " def double(value: int) -> int:",
        "-    return value * 2",
        "+    return value / 2",
    ]


def test_a_function_changed_since_the_run_is_refused_and_left_alone(tree: Path) -> None:
    changed = ORIGINAL.replace("value * 2", "value * 3")
    (tree / "provider" / "trailkeeper" / "pkg" / "mod.py").write_text(changed)
    with pytest.raises(mutant.Refused, match="is not the function the run mutated"):
        mutant.apply(FUNCTION, tree, tree / "stage", tree / "applied.json")
    assert code(tree) == changed and not (tree / "applied.json").exists()


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("trailkeeper.pkg.mod.double", "is not a mutant's name"),
        ("trailkeeper.pkg.mod.x_double__mutmut_9", "has no mutant trailkeeper.pkg.mod.x_double__mutmut_9"),
        ("trailkeeper.pkg.other.x_double__mutmut_1", "no staged run holds trailkeeper/pkg/other.py"),
    ],
)
def test_an_unknown_mutant_is_refused(tree: Path, name: str, refusal: str) -> None:
    with pytest.raises(mutant.Refused, match=refusal):
        mutant.apply(name, tree, tree / "stage", tree / "applied.json")
    assert code(tree) == ORIGINAL


def test_a_second_mutant_waits_for_the_first_to_be_restored(tree: Path) -> None:
    applied = tree / "applied.json"
    mutant.apply(FUNCTION, tree, tree / "stage", applied)
    with pytest.raises(mutant.Refused, match="a mutant is still applied"):
        mutant.apply(METHOD, tree, tree / "stage", applied)
    mutant.restore(applied)
    assert code(tree) == ORIGINAL


def run_in(tree: Path, tests: Sequence[str], runner: Callable[[Sequence[str], Path], int]) -> bool:
    """`mutant.run` of FUNCTION in the fixture's tree and its staged run."""
    return mutant.run(FUNCTION, tests, root=tree, stage=tree / "stage", applied=tree / "applied.json", runner=runner)


@pytest.mark.parametrize(("exit_code", "killed"), [(0, False), (1, True), (2, True)])
def test_run_says_whether_the_tests_failed_with_the_mutant_in_place_and_always_restores(
    tree: Path, exit_code: int, killed: bool
) -> None:
    seen: list[str] = []

    def runner(tests: Sequence[str], root: Path) -> int:
        seen.append(code(root))
        assert list(tests) == ["tests/test_mod.py"]
        return exit_code

    assert run_in(tree, ["tests/test_mod.py"], runner) is killed
    assert seen == [ORIGINAL.replace("value * 2", "value / 2")] and code(tree) == ORIGINAL


@pytest.mark.parametrize("exit_code", [3, 4, 5])
def test_run_refuses_a_verdict_when_no_test_judged_the_mutant(tree: Path, exit_code: int) -> None:
    # 4: a test path that does not exist, 5: no test collected; neither says the mutant was killed.
    with pytest.raises(mutant.Refused, match=f"pytest exited {exit_code}"):
        run_in(tree, ["tests/nowhere.py"], lambda _tests, _root: exit_code)
    assert code(tree) == ORIGINAL


def test_run_restores_the_code_when_the_tests_are_interrupted(tree: Path) -> None:
    def interrupted(_tests: Sequence[str], _root: Path) -> int:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_in(tree, [], interrupted)
    assert code(tree) == ORIGINAL


def test_the_command_line_refuses_with_exit_code_2_and_runs_with_0_or_1(
    tree: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(mutant, "STAGE", tree / "nowhere")
    assert mutant.main(["show", FUNCTION]) == 2
    assert "refused: no staged run holds trailkeeper/pkg/mod.py" in capsys.readouterr().err
    monkeypatch.setattr(mutant, "APPLIED", tree / "applied.json")
    assert mutant.main(["restore"]) == 0
    assert capsys.readouterr().out == "nothing was applied\n"

"""Every chapter and solution notebook runs to the end on this backend (quick
profile) through papermill, and passes `pytest --nbval-lax` in its kernel."""

import os
import subprocess
import sys

import pytest

from conftest import BACKEND, ROOT
from kerasdl import batch

NOTEBOOKS = sorted(
    p for folder in ("chapters", "solutions") for p in (ROOT / folder).glob("*.ipynb")
)
IDS = [f"{p.parent.name}/{p.name}" for p in NOTEBOOKS]

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_runs_to_the_end_with_papermill(notebook, tmp_path):
    before = notebook.read_bytes()
    result = batch.execute(notebook, tmp_path / notebook.name, BACKEND, profile="quick", timeout=600)
    assert result.status == "passed", f"{notebook.name} on {BACKEND}: {result.cell}: {result.reason}"
    assert notebook.read_bytes() == before
    if "backend" in result.metrics:
        assert result.metrics["backend"] == BACKEND


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_checked_outputs_match_with_nbval(notebook):
    env = dict(os.environ, KERASDL_PROFILE="quick")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-kernel-name", f"kerasdl-{BACKEND}", "--nbval-cell-timeout", "600",
         str(notebook)],
        cwd=notebook.parent, env=env, capture_output=True, text=True, timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def test_exercises_are_generated_from_the_current_solutions():
    from kerasdl import exercises

    messages = []
    outcome = exercises.build(ROOT / "solutions", ROOT / "exercises", check=True, echo=messages.append)
    assert sorted(p.name for p in outcome) == sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
    assert set(outcome.values()) <= {"up to date"}, messages


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.name for p in EXERCISES])
def test_an_unsolved_exercise_scores_nothing_and_says_not_attempted(exercise):
    from kerasdl import grading

    before = exercise.read_bytes()
    grade = grading.grade(exercise, BACKEND, profile="quick", timeout=600, solutions=ROOT / "solutions")
    assert grade.items, f"{exercise.name}: no answer key"
    assert grade.score == 0
    assert {item.status for item in grade.items} == {grading.NOT_ATTEMPTED}, grade.as_dict()
    assert exercise.read_bytes() == before

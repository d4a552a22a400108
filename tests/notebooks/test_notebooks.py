"""Every notebook, executed once per backend (quick profile):

- chapters/ run to the end with papermill; their checked cells (`# NBVAL_CHECK_OUTPUT`)
  print what the stored notebook says, compared as `pytest --nbval-lax` would;
- solutions/ pass `pytest --nbval-lax` in the backend's kernel (the learner's contract);
- no cell of either writes to stderr unless tagged `expected-stderr`, and no output
  shows a framework log line or a site-packages path;
- exercises/ are generated from the current solutions, and unsolved they grade 0 (each
  on one backend, in turn).
"""

import json
import os

import nbformat
import pytest

from kerasdl.course import runner

from helpers import BACKEND, EXPECTED_STDERR, ROOT, code_cells, comparable, noise_in, run_nbval

CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[p.name for p in CHAPTERS])
def test_chapter_runs_to_the_end_quietly_and_its_checked_cells_match(notebook, tmp_path):
    before = notebook.read_bytes()
    result = runner.execute(notebook, tmp_path / notebook.name, BACKEND, profile="quick", timeout=600)
    assert result.status == "passed", f"{notebook.name} on {BACKEND}: {result.failure()}"
    assert notebook.read_bytes() == before
    if "backend" in result.metrics:
        assert result.metrics["backend"] == BACKEND
    stored = code_cells(nbformat.reads(before.decode(), as_version=4))
    executed = code_cells(nbformat.read(tmp_path / notebook.name, as_version=4))
    assert [c["source"] for c in stored] == [c["source"] for c in executed]
    mismatches = []
    for number, (old, new) in enumerate(zip(stored, executed), 1):
        if old["checked"] and comparable(old["outputs"]) != comparable(new["outputs"]):
            mismatches.append(
                f"code cell {number}: stored {comparable(old['outputs'])} != executed {comparable(new['outputs'])}"
            )
    assert not mismatches, "\n".join(mismatches)
    assert not noise_in(executed), "\n".join(noise_in(executed))


@pytest.mark.parametrize("notebook", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_solution_passes_nbval_quietly(notebook, tmp_path):
    outputs = tmp_path / "outputs.json"
    env = dict(
        os.environ,
        KERASDL_PROFILE="quick",
        KERASDL_NBVAL_OUTPUTS=str(outputs),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "tests" / "notebooks"), os.environ.get("PYTHONPATH")])),
    )
    options = ["-p", "nbval_outputs", "--nbval-cell-timeout", "600"]
    done = run_nbval(notebook, notebook.parent, *options, env=env, timeout=1800)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    cells = json.loads(outputs.read_text())
    assert len(cells) == sum(c["cell_type"] == "code" for c in nbformat.read(notebook, as_version=4).cells)
    assert not noise_in(cells), "\n".join(noise_in(cells))


def test_noise_and_mismatch_detection_reject_what_they_should():
    quiet = [{"source": "x = 1", "tags": [], "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]}]
    loud = [
        {
            "source": "import keras",
            "tags": [],
            "outputs": [
                {
                    "output_type": "stream",
                    "name": "stderr",
                    "text": "W0000 00:00 port.cc:153] oneDNN custom operations\n",
                }
            ],
        }
    ]
    tagged = [{**loud[0], "tags": [EXPECTED_STDERR]}]
    path = [
        {
            "source": "f()",
            "tags": [],
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": "/x/site-packages/keras/src/a.py:3: UserWarning\n"}
            ],
        }
    ]
    assert noise_in(quiet) == []
    assert len(noise_in(loud)) == 1 and "stderr" in noise_in(loud)[0]
    assert (
        len(noise_in(tagged)) == 1 and "noise" in noise_in(tagged)[0]
    )  # tagged stderr still may not be framework noise
    assert len(noise_in(path)) == 1
    logged = [
        {
            "source": "fit()",
            "tags": [],
            "outputs": [
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": "INFO:tensorflow:Using MirroredStrategy with devices\n",
                }
            ],
        }
    ]
    assert len(noise_in(logged)) == 1
    printed = [{"output_type": "stream", "name": "stdout", "text": "ok: True\n"}]
    assert comparable(printed) == comparable([dict(printed[0])])
    assert comparable(printed) != comparable([{"output_type": "stream", "name": "stdout", "text": "ok: False\n"}])
    assert comparable(printed) != comparable(printed + [{"output_type": "stream", "name": "stderr", "text": "warn\n"}])


def test_exercises_are_generated_from_the_current_solutions():
    from kerasdl.course import exercises

    messages = []
    outcome = exercises.build(ROOT / "solutions", ROOT / "exercises", check=True, echo=messages.append)
    assert sorted(p.name for p in outcome) == sorted(p.name for p in (ROOT / "solutions").glob("*.ipynb"))
    assert set(outcome.values()) <= {"up to date"}, messages


def _graded_on(index):
    """Return the one backend an unsolved exercise is graded on: they take turns, jax, torch, tensorflow."""
    return ("jax", "torch", "tensorflow")[index % 3]


@pytest.mark.parametrize("exercise", EXERCISES, ids=[p.name for p in EXERCISES])
def test_an_unsolved_exercise_scores_nothing_and_says_not_attempted(exercise):
    # Its stubs raise the same NotImplementedError on every backend, and the solution's
    # cells run on every backend through nbval above; so each exercise is graded on one
    # backend, the exercises taking turns, and the three passes together cover all three.
    on = _graded_on(EXERCISES.index(exercise))
    if BACKEND != on:
        pytest.skip(f"graded unsolved in the {on} pass")
    from kerasdl.course import grader

    before = exercise.read_bytes()
    grade = grader.grade(exercise, BACKEND, profile="quick", timeout=600, solutions=ROOT / "solutions")
    assert grade.items, f"{exercise.name}: no answer key"
    assert grade.score == 0
    assert {item.status for item in grade.items} == {grader.NOT_ATTEMPTED}, grade.as_dict()
    assert exercise.read_bytes() == before

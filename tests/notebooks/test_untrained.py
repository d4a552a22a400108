"""Checks that can fail: with training switched off, every check of a trained result prints False.

Each chapter that trains has a papermill parameter `train = True`; with `train = False` it
still runs to the end but no weights change. Its check cells of trained results are tagged
`trained-check` and print one claim per line, ending ": True" in the stored answer key; run
untrained, each such line must end ": False", while every other check cell still prints its
stored output. Run once, on JAX (the fastest backend for these notebooks): the targets are the
same numbers on every backend.
"""

import re

import nbformat
import pytest

from kerasdl.course import evidence, runner

from helpers import BACKEND, ROOT

TAG = "trained-check"
TRAIN_PARAMETER = re.compile(r"^train\s*=\s*True\b", re.M)
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def _parameters(notebook):
    return next((c.source for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), "")


def trains(path):
    """Return True when a chapter has the `train = True` parameter."""
    return bool(TRAIN_PARAMETER.search(_parameters(nbformat.read(path, as_version=4))))


TRAINED = [p for p in CHAPTERS if trains(p)]


def tagged_cells(notebook):
    """Return the numbers (among code cells, from 1) of the cells tagged trained-check."""
    code = [
        c for c in notebook.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]
    return {n for n, c in enumerate(code, 1) if TAG in c.metadata.get("tags", [])}


def untrained_problems(stored, executed, tagged):
    """Return a line per way an untrained run breaks the rule (both notebooks as nbformat nodes)."""
    expected, printed = dict(evidence.check_lines(stored)), dict(evidence.check_lines(executed))
    found = [f"code cell {n} is tagged {TAG} but is no check cell" for n in sorted(tagged - set(expected))]
    for number, lines in expected.items():
        got = printed.get(number, [])
        if number not in tagged:
            if got != lines:
                found.append(f"code cell {number} (not trained) printed {got!r}, stores {lines!r}")
            continue
        if not lines or not all(line.endswith(": True") for line in lines):
            found.append(f"code cell {number}: a trained check stores one claim per line ending ': True': {lines!r}")
        if len(got) != len(lines) or not all(line.endswith(": False") for line in got):
            found.append(f"code cell {number}: untrained, it printed {got!r}; every line should end ': False'")
    return found


def test_every_chapter_that_fits_a_model_can_switch_training_off_and_tags_its_trained_checks():
    fitting = [p for p in CHAPTERS if ".fit(" in p.read_text() and not p.name.startswith("06_")]
    assert fitting, "no chapter fits a model?"
    missing = [p.name for p in fitting if p not in TRAINED]
    assert not missing, f"chapters that train without a `train = True` parameter: {missing}"
    untagged = [p.name for p in TRAINED if not tagged_cells(nbformat.read(p, as_version=4))]
    assert not untagged, f"chapters with `train` but no cell tagged {TAG}: {untagged}"


def _notebook(*cells):
    node = nbformat.v4.new_notebook()
    for source, tags, text in cells:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": tags})
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)] if text is not None else []
        node.cells.append(cell)
    return node


def test_the_rule_rejects_a_trained_check_that_still_passes_and_a_changed_untrained_one():
    check = "# NBVAL_CHECK_OUTPUT\nprint(...)"
    stored = _notebook(
        ("x = 1", [], None),
        (check, [TAG], "accuracy above chance: True\nloss below the bar: True\n"),
        (check, [], "the layer has 10 parameters: True\n"),
    )
    honest = _notebook(
        ("x = 1", [], None),
        (check, [TAG], "accuracy above chance: False\nloss below the bar: False\n"),
        (check, [], "the layer has 10 parameters: True\n"),
    )
    assert untrained_problems(stored, honest, tagged_cells(stored)) == []
    vacuous = _notebook(
        ("x = 1", [], None),
        (check, [TAG], "accuracy above chance: False\nloss below the bar: True\n"),
        (check, [], "the layer has 10 parameters: False\n"),
    )
    found = untrained_problems(stored, vacuous, tagged_cells(stored))
    assert len(found) == 2 and "every line should end ': False'" in found[0] and "not trained" in found[1], found
    crashed = _notebook(("x = 1", [], None), (check, [TAG], None), (check, [], None))
    assert len(untrained_problems(stored, crashed, tagged_cells(stored))) == 2


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", TRAINED, ids=[p.name for p in TRAINED])
@pytest.mark.once  # the bars are the same on every backend
def test_with_training_off_every_trained_check_prints_false(notebook, tmp_path):
    result = runner.execute(notebook, tmp_path / notebook.name, BACKEND, "quick", 600, parameters={"train": False})
    assert result.status == "passed", f"{notebook.name} untrained: {result.failure()}"
    stored = nbformat.read(notebook, as_version=4)
    executed = nbformat.read(tmp_path / notebook.name, as_version=4)
    found = untrained_problems(stored, executed, tagged_cells(stored))
    assert not found, "\n".join(found)

"""`kerasdl grade`: a folder of submissions scored item by item, partial credit, files left untouched.

The fixture notebooks import only kerasdl.checks (no keras), so each run costs a
kernel start; the whole folder is graded once per module.
"""

import contextlib
import io
import json
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from conftest import BACKEND
from kerasdl.course import cli, exercises, grader

ADD_CHECK = ('# NBVAL_CHECK_OUTPUT\nfrom kerasdl import checks\n'
             '_ = checks.check("add returns the sum", lambda: add(2, 3) == 5, hint="return a plus b")\n'
             '_ = checks.check("add works on negatives", lambda: add(-2, -3) == -5, hint="no abs()")')
MUL_CHECK = '# NBVAL_CHECK_OUTPUT\n_ = checks.verdict("mul multiplies", mul(2, 3) == 6, hint="use *")'


def solution():
    """Two parts, each followed by its check cell, whose stored outputs are the answer key."""
    return new_notebook(cells=[
        new_markdown_cell("# Arithmetic"),
        new_code_cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"),
        new_code_cell(ADD_CHECK, outputs=[
            new_output("stream", name="stdout", text="✔ add returns the sum\n✔ add works on negatives\n")]),
        new_code_cell("def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION"),
        new_code_cell(MUL_CHECK, outputs=[new_output("stream", name="stdout", text="✔ mul multiplies\n")]),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def variant(exercise, add=None, mul=None):
    """Return a copy of `exercise` with the add and/or mul cell replaced, as a learner would."""
    notebook = nbformat.from_dict(json.loads(json.dumps(exercise)))
    if add is not None:
        notebook.cells[1].source = add
    if mul is not None:
        notebook.cells[3].source = mul
    return notebook


def run_cli(*args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(list(map(str, args)))
    return code, out.getvalue()


def rows(text):
    """Return {notebook: (marks, score)} from the printed table."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0].endswith(".ipynb") and len(parts) >= 3 and parts[1] == BACKEND:
            found[parts[0].split("/")[-1]] = (" ".join(parts[2:-1]), parts[-1])
    return found


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("kit")
    (root / "solutions").mkdir()
    nbformat.write(solution(), root / "solutions" / "arith.ipynb")
    exercises.build(root / "solutions", root / "exercises", echo=lambda line: None)
    exercise = nbformat.read(root / "exercises" / "arith.ipynb", as_version=4)
    submissions = root / "submissions"
    submissions.mkdir()
    shutil.copy(root / "solutions" / "arith.ipynb", submissions / "solved.ipynb")
    shutil.copy(root / "exercises" / "arith.ipynb", submissions / "unsolved.ipynb")
    solved_add = "def add(a, b):\n    return a + b"
    learners = {
        "partial": variant(exercise, add=solved_add),
        "wrong": variant(exercise, add="def add(a, b):\n    return a - b", mul="def mul(a, b):\n    return a / 0"),
        "crashing": variant(exercise, add="import os\nos._exit(1)"),
        "hanging": variant(exercise, add=solved_add, mul="import time\ntime.sleep(60)"),
    }
    for name, notebook in learners.items():
        nbformat.write(notebook, submissions / f"{name}.ipynb")
    return root


@pytest.fixture(scope="module")
def graded(kit):
    """Grade the submissions folder once: (exit code, printed text, JSON grades, bytes before)."""
    before = {p: p.read_bytes() for p in (kit / "submissions").iterdir()}
    report = kit / "grades.json"
    code, text = run_cli("grade", kit / "submissions", "--backend", BACKEND, "--timeout", 3,
                         "--solutions", kit / "solutions", "--json", report)
    grades = {g["notebook"].split("/")[-1]: g for g in json.loads(report.read_text())}
    return code, text, grades, before


def test_the_table_scores_each_item_of_each_submission(graded):
    code, text, _, _ = graded
    assert code == 1
    assert rows(text) == {
        "solved.ipynb": ("✔ ✔ ✔", "3/3"),
        "unsolved.ipynb": ("– – –", "0/3"),
        "partial.ipynb": ("✔ ✔ –", "2/3"),
        "wrong.ipynb": ("✘ ✘ !", "0/3"),
        "crashing.ipynb": ("! ! !", "0/3"),
        "hanging.ipynb": ("✔ ✔ !", "2/3"),
    }
    assert "  1  add returns the sum" in text and "  3  mul multiplies" in text
    assert "1 of 6 notebooks got full marks" in text


def test_each_item_says_what_went_wrong(graded):
    grades = graded[2]
    status = {name: [(i["status"], i["detail"]) for i in g["items"]] for name, g in grades.items()}
    assert status["partial.ipynb"][2] == ("not attempted", "NotImplementedError (code cell 4)")
    assert status["wrong.ipynb"] == [("failed", "return a plus b"), ("failed", "no abs()"),
                                     ("error", "ZeroDivisionError: division by zero (code cell 4)")]
    assert all(s == "error" and d.startswith("DeadKernelError") and d.endswith("(code cell 1)")
               for s, d in status["crashing.ipynb"])
    assert status["hanging.ipynb"][2][0] == "error"
    assert status["hanging.ipynb"][2][1].startswith("CellTimeoutError: still running after 3 s")
    assert [g["score"] for g in grades.values()].count(3) == 1


def test_grading_leaves_the_submissions_byte_identical(graded, kit):
    before = graded[3]
    assert {p: p.read_bytes() for p in (kit / "submissions").iterdir()} == before


def test_full_marks_exit_zero(kit):
    code, text = run_cli("grade", kit / "submissions" / "solved.ipynb", "--backend", BACKEND)
    assert code == 0, text
    assert rows(text) == {"solved.ipynb": ("✔ ✔ ✔", "3/3")}


def test_cleared_outputs_fall_back_to_the_solution_and_deleted_checks_count(kit):
    exercise = nbformat.read(kit / "exercises" / "arith.ipynb", as_version=4)
    cleared = variant(exercise, add="def add(a, b):\n    return a + b")
    for cell in cleared.cells:
        if cell.cell_type == "code":
            cell.outputs = []  # Kernel > Restart and Clear All Outputs
    deleted = variant(exercise, add="def add(a, b):\n    return a + b")
    del deleted.cells[4]  # the unsolved part's check cell, gone
    for folder, notebook in [("cleared", cleared), ("deleted", deleted)]:
        (kit / folder).mkdir()
        nbformat.write(notebook, kit / folder / "arith.ipynb")  # named like its solution
    paths = [kit / "cleared" / "arith.ipynb", kit / "deleted" / "arith.ipynb"]
    grades = grader.grade_all(paths, [BACKEND], solutions=kit / "solutions", echo=lambda line: None)
    assert [(g.score, g.total) for g in grades] == [(2, 3), (2, 3)]
    assert grades[0].items[2].status == "not attempted"
    assert (grades[1].items[2].status, grades[1].items[2].detail) == (
        "error", "its check cell is missing from the notebook")

    without = grader.grade(paths[0], BACKEND, solutions=kit / "nowhere")
    assert [(i.status, i.detail) for i in without.items] == [
        ("error", "no answer key: its stored output was cleared and there is no " + str(kit / "nowhere" / "arith.ipynb"))] * 2
    assert not without.full_marks


def test_bad_input_exits_two(kit, capsys):
    assert cli.main(["grade", str(kit / "no-such-folder")]) == 2
    assert "no such notebook or folder" in capsys.readouterr().err
    assert cli.main(["grade", str(kit / "submissions"), "--backend", "theano"]) == 2
    assert cli.main(["grade", str(kit / "submissions"), "--timeout", "0"]) == 2


class _Result:
    def __init__(self, status="failed", reason=None):
        self.status, self.reason = status, reason


def _executed(*cells):
    """An executed notebook: each cell is (source, stdout, error name or None, started)."""
    notebook = new_notebook()
    for source, stdout, ename, started in cells:
        cell = new_code_cell(source)
        if stdout:
            cell.outputs.append(new_output("stream", name="stdout", text=stdout))
        if ename:
            cell.outputs.append(new_output("error", ename=ename, evalue="boom", traceback=[]))
        cell.metadata["papermill"] = {"start_time": "2026-01-01" if started else None}
        notebook.cells.append(cell)
    return notebook


def test_items_not_printed_are_classified_by_the_error_that_stopped_them():
    check = "# NBVAL_CHECK_OUTPUT\n"
    executed = _executed(
        ("model = build()", "", "NotImplementedError", True),
        (check + "a", "", "NameError", True),  # cascade of the stub above: not attempted
        ("x = 1", "", None, True),
        (check + "b", "✔ b1\n", "ValueError", True),  # printed one item, then crashed
        (check + "c", "", None, True),  # ran cleanly but did not print its item
        ("import time", "", None, True),
        (check + "d", "", None, False),  # never ran: the run stopped at cell 6
    )
    key = [(1, ["a1"]), (3, ["b1", "b2"]), (4, ["c1"]), (6, ["d1"])]
    items = grader.score(executed, key, _Result(reason="CellTimeoutError: still running after 3 s"))
    assert [(i.name, i.status, i.detail) for i in items] == [
        ("a1", "not attempted", "NotImplementedError (code cell 1)"),
        ("b1", "passed", ""),
        ("b2", "error", "ValueError: boom (code cell 4)"),
        ("c1", "error", "its check cell ran but did not print this item"),
        ("d1", "error", "CellTimeoutError: still running after 3 s (code cell 6)"),
    ]


def test_the_submissions_stored_verdicts_are_the_answer_key():
    notebook = solution()
    notebook.cells[4].outputs[0].text = "✘ mul multiplies — use *\n✔ mul handles zero\n"  # a learner's clean run
    key, errors, notes = grader.answer_key(notebook, solution())
    assert key == [(1, ["add returns the sum", "add works on negatives"]), (3, ["mul multiplies", "mul handles zero"])]
    assert errors == [] and notes == []

    error = new_output("error", ename="NotImplementedError", evalue="", traceback=[])
    notebook.cells[4].outputs = [error]  # a learner's run of the unsolved part replaced the key
    key, errors, _ = grader.answer_key(notebook, solution())
    assert key[1] == (3, ["mul multiplies"]) and errors == []
    key, errors, _ = grader.answer_key(notebook)
    assert len(key) == 1 and [(e.name, e.status) for e in errors] == [("check in code cell 4", "error")]

    notebook.cells[4].outputs = [new_output("stream", name="stdout", text="✔ mul multiplies\n"), error]
    key, errors, notes = grader.answer_key(notebook)
    assert key[1] == (3, ["mul multiplies"]) and len(notes) == 1 and "may be incomplete" in notes[0]

"""`kerasdl grade`: the instructor's key, a folder of learners graded item by item, the gradebook, bad input.

The fixture notebooks import only kerasdl.checks (no framework), so a run costs a
kernel start in a sandbox. Tests that run kernels do not depend on the backend
(the kernel only sets KERAS_BACKEND), so they run once, in the jax pass of the
suite; the rest are plain functions and run everywhere.
"""

import copy
import csv
import io
import json
import shutil

import nbformat
import pytest
from grading import ADD_CHECK, exercise_of, make_kit, needs_bwrap, once, run_cli, solution, stream, variant
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kerasdl.course import answer_key, gradebook, grader, guard, runner, sandbox
from kerasdl.errors import KerasdlError


def rows(text):
    """Return {learner: (marks, score)} from the printed table."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0].endswith(".ipynb") and len(parts) >= 3 and parts[1] == "jax" and "not" not in parts:
            found[parts[0].split("/")[-2]] = (" ".join(parts[2:-1]), parts[-1])
    return found


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("kit")
    exercise = make_kit(root)
    solved_add = "def add(a, b):\n    return a + b"
    learners = {
        "solved": nbformat.read(root / "solutions" / "arith.ipynb", as_version=4),
        "unsolved": exercise,
        "partial": variant(exercise, add=solved_add),
        "wrong": variant(
            exercise, add="def add(a, b):\n    return a - b", mul="def mul(a, b):\n    return a / 0", why="why = ''"
        ),
        "crashing": variant(exercise, add="import os\nos._exit(1)"),
        "hanging": variant(exercise, add=solved_add, mul="import time\ntime.sleep(60)"),
    }
    for name, notebook in learners.items():
        (root / "submissions" / name).mkdir(parents=True)
        nbformat.write(notebook, root / "submissions" / name / "arith.ipynb")
    (root / "submissions" / "nameless").mkdir()
    nameless = copy.deepcopy(learners["solved"])
    del nameless.metadata["kerasdl"]
    nbformat.write(nameless, root / "submissions" / "nameless" / "homework.ipynb")
    return root


@pytest.fixture(scope="module")
def graded(kit):
    """Grade the submissions folder once: (exit code, printed text, JSON grades, gradebook rows, bytes before)."""
    before = {p: p.read_bytes() for p in (kit / "submissions").rglob("*") if p.is_file()}
    code, text, err = run_cli(
        "grade",
        kit / "submissions",
        "--backend",
        "jax",
        "--timeout",
        8,
        "-j",
        2,
        "--solutions",
        kit / "solutions",
        "--csv",
        kit / "grades.csv",
    )
    assert err == "", err
    grades = {g["learner"]: g for g in json.loads((kit / "grades.json").read_text())}
    book = list(csv.reader(io.StringIO((kit / "grades.csv").read_text())))
    return code, text, grades, book, before


@once
@needs_bwrap
def test_the_table_scores_each_item_of_each_learner(graded):
    code, text, _, _, _ = graded
    assert code == 1
    assert rows(text) == {
        "solved": ("✔ ✔ ✔ ✎", "3/3"),
        "unsolved": ("– – – –", "0/3"),
        "partial": ("✔ ✔ – –", "2/3"),
        "wrong": ("✘ ✘ ! ✘", "0/3"),
        "crashing": ("! ! ! !", "0/3"),
        "hanging": ("✔ ✔ ! !", "2/3"),
    }
    assert "exercise arith" in text and "  1  add returns the sum" in text and "  4  why multiply" in text
    assert "homework.ipynb" in text and "not graded: no exercise id in its notebook metadata" in text
    assert "1 of 7 notebooks got full marks" in text


@once
@needs_bwrap
def test_each_item_says_what_went_wrong(graded):
    grades = graded[2]
    status = {name: [(i["status"], i["detail"]) for i in g["items"]] for name, g in grades.items()}
    assert status["partial"][2:] == [
        ("not attempted", "NotImplementedError (code cell 5)"),
        ("not attempted", "NotImplementedError (code cell 6)"),
    ]
    assert status["wrong"][:3] == [
        ("failed", "return a plus b"),
        ("failed", "no abs()"),
        ("error", "ZeroDivisionError: division by zero (code cell 5)"),
    ]
    assert status["wrong"][3][0] == "failed" and "write your answer" in status["wrong"][3][1]
    assert all(
        s == "error" and d.startswith("DeadKernelError") and d.endswith("(code cell 2)") for s, d in status["crashing"]
    )
    assert [s for s, _ in status["hanging"][2:]] == ["error", "error"]
    assert status["hanging"][2][1].startswith("CellTimeoutError: still running after 8 s")
    assert not any(g["tampered"] for g in grades.values())


@once
@needs_bwrap
def test_written_answers_are_listed_beside_the_model_answer_and_not_scored(graded):
    code, text, grades, _, _ = graded
    why = grades["solved"]["items"][3]
    assert (why["status"], why["scored"]) == ("recorded", False)
    assert (why["answer"], why["model_answer"]) == ("it adds a number to itself", "multiplying is repeated adding")
    assert (grades["solved"]["score"], grades["solved"]["total"], grades["solved"]["full_marks"]) == (3, 3, True)
    assert "written answers, recorded for the instructor" in text
    assert "    answer: it adds a number to itself" in text
    assert "    model answer: multiplying is repeated adding" in text
    # an unanswered written question is shown, costs no point, but is not full marks
    assert grades["partial"]["items"][3]["status"] == "not attempted" and not grades["partial"]["full_marks"]


@once
@needs_bwrap
def test_the_gradebook_has_a_row_per_learner(graded):
    book = graded[3]
    assert book[0] == ["learner", "arith score", "arith total", "tampered", "not graded"]
    found = {row[0]: row[1:] for row in book[1:]}
    assert found["solved"] == ["3", "3", "", ""]
    assert found["partial"] == ["2", "3", "", ""]
    assert found["nameless"] == ["", "3", "", "homework.ipynb (not graded: no exercise id in its notebook metadata)"]
    assert len(book) == 8


@once
@needs_bwrap
def test_grading_leaves_the_submissions_byte_identical(graded, kit):
    before = graded[4]
    assert {p: p.read_bytes() for p in (kit / "submissions").rglob("*") if p.is_file()} == before


def test_reports_and_copies_are_not_written_over_other_files(tmp_path):
    make_kit(tmp_path)
    (tmp_path / "subs" / "jax").mkdir(parents=True)  # a learner named like a backend
    notebook = tmp_path / "subs" / "jax" / "arith.ipynb"
    shutil.copy(tmp_path / "solutions" / "arith.ipynb", notebook)
    before = notebook.read_bytes()
    for flag in ("--json", "--csv"):
        code, _, err = run_cli("grade", notebook, "--solutions", tmp_path / "solutions", flag, notebook)
        assert code == 2 and err.count("\n") == 1 and "kerasdl did not write it" in err and "--force" in err
    code, out, err = run_cli(
        "grade", notebook, "--solutions", tmp_path / "solutions", "--out", tmp_path / "subs", "--force"
    )
    assert code == 2 and err.count("\n") == 1 and "would overwrite the source notebook" in err
    (tmp_path / "subs" / "torch").mkdir()
    (tmp_path / "subs" / "torch" / "arith.ipynb").write_text("{}")  # not an executed copy
    code, out, err = run_cli(
        "grade", notebook, "--solutions", tmp_path / "solutions", "--out", tmp_path / "subs", "--backend", "torch"
    )
    assert code == 2 and "kerasdl did not write it" in err
    assert notebook.read_bytes() == before and (tmp_path / "subs" / "torch" / "arith.ipynb").read_text() == "{}"


@once
@needs_bwrap
def test_force_overwrites_a_report_and_a_grades_file_is_rewritten(kit, tmp_path):
    notebook = kit / "submissions" / "solved" / "arith.ipynb"
    (tmp_path / "mine.json").write_text("[1, 2]")
    code, _, err = run_cli(
        "grade", notebook, "--solutions", kit / "solutions", "--json", tmp_path / "mine.json", "--force"
    )
    assert code == 0, err
    assert gradebook.is_grades(tmp_path / "mine.json")
    code, _, err = run_cli("grade", notebook, "--solutions", kit / "solutions", "--json", tmp_path / "mine.json")
    assert code == 0, err  # a grades file kerasdl wrote is rewritten without --force


def test_bad_arguments_are_one_line(tmp_path):
    make_kit(tmp_path)
    solutions = tmp_path / "solutions"
    for args, words in [
        (["grade", tmp_path / "nowhere"], "no such notebook or folder"),
        (["grade", tmp_path, "--solutions", solutions, "--backend", "theano"], "unknown backend"),
        (["grade", tmp_path, "--solutions", solutions, "--timeout", "0"], "timeout must be a positive number"),
        (["grade", tmp_path, "--solutions", solutions, "--timeout", "nan"], "timeout must be a positive number"),
        (["grade", tmp_path, "--solutions", solutions, "-j", "0"], "-j must be"),
        (["grade", tmp_path, "--solutions", solutions, "--memory", "lots"], "is not a size like 4G"),
        (["grade", tmp_path, "--solutions", tmp_path / "nope"], "no solutions folder"),
        (["grade", tmp_path, "--solutions", solutions, "--csv", tmp_path], "is a folder: give a file name"),
        (["grade", tmp_path, "--solutions", solutions, "--out", solutions / "arith.ipynb"], "is a file: give a folder"),
    ]:
        code, out, err = run_cli(*args)
        assert code == 2 and err.count("\n") == 1 and words in err, (args, err)


def test_a_fractional_timeout_is_rounded_up():
    assert runner.seconds(30.5) == 31 and runner.seconds("2") == 2 and runner.seconds(0.1) == 1
    with pytest.raises(KerasdlError, match="positive"):
        runner.seconds(float("inf"))


def test_one_wall_clock_per_notebook_whatever_its_cells(tmp_path, monkeypatch):
    make_kit(tmp_path)
    long = nbformat.read(tmp_path / "exercises" / "arith.ipynb", as_version=4)
    long.cells += [new_code_cell("pass") for _ in range(50)]
    nbformat.write(long, tmp_path / "long.ipynb")
    specs = []
    monkeypatch.setattr(sandbox, "run", lambda spec: specs.append(spec) or {"records": [], "reason": "not run"})
    for wall in ({}, {"notebook_timeout": 20}):
        grader.grade_all(
            [tmp_path / "long.ipynb"], ["jax"], timeout=8, solutions=tmp_path / "solutions", no_sandbox=True, **wall
        )
    assert [spec["wall"] for spec in specs] == [sandbox.DEFAULT_WALL, 20]  # not 8 s x 57 cells + 120 s


def test_memory_sizes_are_read_and_checked():
    assert sandbox.parse_memory("4G") == 4 * 2**30 and sandbox.parse_memory("512m") == 512 * 2**20
    assert sandbox.parse_memory("1.5GiB") == int(1.5 * 2**30) and sandbox.parse_memory("1073741824") == 2**30
    for bad in ("", "4X", "G", "10M"):
        with pytest.raises(ValueError):
            sandbox.parse_memory(bad)


def test_without_bwrap_the_grader_refuses_unless_told(tmp_path, monkeypatch):
    make_kit(tmp_path)
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    code, out, err = run_cli("grade", tmp_path / "exercises", "--solutions", tmp_path / "solutions")
    assert code == 2 and err.count("\n") == 1 and "bubblewrap (bwrap) is not installed" in err
    assert "--no-sandbox" in err and out == ""
    assert sandbox.require(no_sandbox=True) is None


@once
def test_no_sandbox_grades_with_a_warning(tmp_path, monkeypatch):
    make_kit(tmp_path)
    monkeypatch.setattr(sandbox, "bwrap", lambda: None)
    shutil.copy(tmp_path / "solutions" / "arith.ipynb", tmp_path / "mine.ipynb")
    code, out, err = run_cli("grade", tmp_path / "mine.ipynb", "--solutions", tmp_path / "solutions", "--no-sandbox")
    assert code == 0, out + err
    assert out.startswith("kerasdl grade: --no-sandbox: each notebook runs with your user's rights")
    assert "1 of 1 notebooks got full marks" in out


# ------------------------------------------------------------------ the key, the copy, the score (no kernel)


def test_the_key_comes_from_the_solutions_and_a_bad_solution_blocks_only_its_own(tmp_path):
    make_kit(tmp_path)
    exercises_, problems = answer_key.load(tmp_path / "solutions")
    key = exercises_["arith"]
    assert problems == [] and key.problem is None
    assert [c.items for c in key.checks] == [
        ["add returns the sum", "add works on negatives"],
        ["mul multiplies"],
        ["why multiply"],
    ]
    assert key.checks[2].written == ["why multiply"] and key.total == 3
    assert key.checks[2].model_answers == {"why multiply": "multiplying is repeated adding"}
    assert key.checks[0].aliases == {"checks": ("kerasdl", "checks")}

    def broken(change, words, name="other"):
        notebook = solution()
        notebook.metadata["kerasdl"]["exercise"] = name
        change(notebook)
        folder = tmp_path / words[:8].replace(" ", "_")
        folder.mkdir()
        nbformat.write(solution(), folder / "arith.ipynb")
        nbformat.write(notebook, folder / "other.ipynb")
        found, problems = answer_key.load(folder)
        assert len(problems) == 1 and words in problems[0] and "\n" not in problems[0], problems
        assert found["arith"].problem is None or name == "arith"
        return found

    broken(lambda nb: nb.metadata.pop("kerasdl"), "has no exercise id")
    assert broken(lambda nb: None, "have the same exercise id 'arith'", name="arith")["arith"].problem
    assert broken(lambda nb: nb.cells[3].outputs.clear(), "has no verdicts")["other"].problem
    assert broken(lambda nb: setattr(nb.cells[5].outputs[0], "text", "✘ mul multiplies\n"), "fails its own check")[
        "other"
    ].problem
    (tmp_path / "empty").mkdir()
    with pytest.raises(KerasdlError, match="no solution notebooks"):
        answer_key.load(tmp_path / "empty")


def test_a_submission_of_an_exercise_whose_solution_is_broken_is_listed_not_graded(tmp_path):
    make_kit(tmp_path)
    notebook = solution()
    notebook.metadata["kerasdl"]["exercise"] = "other"
    notebook.cells[3].outputs.clear()
    nbformat.write(notebook, tmp_path / "solutions" / "other.ipynb")
    nbformat.write(notebook, tmp_path / "mine.ipynb")
    lines = []
    grades = grader.grade_all(
        [tmp_path / "mine.ipynb"], ["jax"], solutions=tmp_path / "solutions", no_sandbox=True, echo=lines.append
    )
    assert grades[0].reason.startswith("not graded: ") and "has no verdicts" in grades[0].reason
    assert grades[0].items == [] and not grades[0].full_marks
    assert lines[0].endswith("its submissions are not graded") and "other.ipynb, code cell 3" in lines[0]


def test_align_finds_checks_by_source_then_id_then_position():
    notebook = solution()
    exercise = exercise_of(notebook)
    cells = copy.deepcopy(notebook.cells)
    assert grader.align(cells, exercise) == ({1: 3, 2: 5, 3: 8}, [], [])
    cells[3].source = "# NBVAL_CHECK_OUTPUT\nprint('✔ add returns the sum')"  # edited in place: same id
    cells[5].id = "other"
    cells[5].source = "# NBVAL_CHECK_OUTPUT\nprint('✔ mul multiplies')"  # edited, new id: by position
    cells.insert(4, new_code_cell("# NBVAL_CHECK_OUTPUT\nprint('✔ bonus')"))  # all checks found: an extra one
    assert grader.align(cells, exercise) == ({1: 3, 2: 6, 3: 9}, [1, 2], [4])
    del cells[9]  # the written answer's check, deleted: put back at the end
    prepared, found = grader.prepare(new_notebook(cells=cells, metadata=notebook.metadata), exercise, "abc")
    assert found == [
        "check 1 (code cell 3) was edited: the instructor's check ran instead",
        "check 2 (code cell 6) was edited: the instructor's check ran instead",
        "check 3 was deleted: the instructor's check was put back",
        "code cell 4 is an extra check cell (# NBVAL_CHECK_OUTPUT): its output was ignored",
    ]
    roles = [c.metadata.get(grader.ROLE) for c in prepared.cells if c.cell_type == "code"]
    assert roles == [
        {"guard": True},
        {"cell": 1},
        {"cell": 2},
        {"check": 1, "cell": 3},
        {"after": 1},
        {"cell": 4, "added": True},
        {"cell": 5},
        {"check": 2, "cell": 6},
        {"after": 2},
        {"cell": 7},
        {"check": 3, "cell": None},
        {"after": 3},
    ]
    sources = [c.source for c in prepared.cells if c.cell_type == "code"]
    assert sources[3].startswith(guard.MARKER) and sources[3].endswith(ADD_CHECK)
    assert all("raises-exception" in c.metadata["tags"] for c in prepared.cells if c.cell_type == "code")


def _records(*cells):
    """Records of a run: each cell is (index, stdout, error name or None)."""
    found = []
    for index, text, ename in cells:
        outputs = [stream(text)] if text else []
        if ename:
            outputs.append(new_output("error", ename=ename, evalue="boom", traceback=[]))
        found += [{"start": index}, {"cell": index, "outputs": outputs}]
    return found


def test_verdicts_count_only_when_tagged_and_snapshots_must_match():
    notebook = solution()
    exercise = exercise_of(notebook)
    prepared, _ = grader.prepare(notebook, exercise, "n0")
    tag = "\u27e6n0\u27e7 "
    state = {"modules": {"kerasdl.checks": "a"}, "environment": {"stdout": "s"}}
    changed = {
        "modules": {"kerasdl.checks": "b"},
        "environment": {"stdout": "s"},
        "changed": ["kerasdl.checks.verdict"],
    }

    def line(kind, data):
        return f"{tag}{kind} {json.dumps(data)}\n"

    roles = [c.metadata.get(grader.ROLE, {}) for c in prepared.cells]
    check, after = ({r[key]: i for i, r in enumerate(roles) if key in r} for key in ("check", "after"))
    records = _records(
        (0, line("guard", state), None),
        (check[1], line("before", state) + f"{tag}✔ add returns the sum\n✔ add works on negatives\n", None),
        (after[1], line("after", state), None),
        (check[2], line("before", changed) + f"{tag}✔ mul multiplies\n", None),
        (after[2], line("after", state), None),
        (check[3], line("before", state), "NotImplementedError"),
        (after[3], line("after", state), None),
    )
    items, tampered, notes = grader.score(prepared, {"records": records}, exercise, "n0")
    assert [(i.status, i.detail) for i in items] == [
        ("passed", ""),
        ("error", "its check cell ran but did not print this item"),  # printed without the tag: ignored
        ("tampered", "before it ran, changed kerasdl.checks.verdict"),
        ("not attempted", "NotImplementedError (code cell 7)"),
    ]
    assert tampered == ["check 2: before it ran, changed kerasdl.checks.verdict"]
    stopped = {
        "records": records[:6] + [{"start": check[2] - 1}],
        "reason": "CellTimeoutError: still running after 3 s",
    }
    items, _, _ = grader.score(prepared, stopped, exercise, "n0")
    assert [i.status for i in items] == ["passed", "error", "error", "error"]
    assert items[2].detail == "CellTimeoutError: still running after 3 s (code cell 4)"


def test_snapshot_differences_are_named():
    reference = {
        "modules": {"builtins": "1", "kerasdl.checks": "2"},
        "environment": {"stdout": "a", "transformers": [], "shell": [], "trace": "None", "profile": "None"},
    }
    same = json.loads(json.dumps(reference))
    assert guard.differences(reference, same) == []
    other = json.loads(json.dumps(reference))
    other["modules"]["builtins"] = "9"
    other["changed"] = ["builtins.print"]
    other["environment"]["transformers"] = ["x.rewrite"]
    assert guard.differences(reference, other) == [
        "changed builtins.print",
        "IPython's input or AST transformers changed",
    ]
    assert guard.differences(reference, {"error": "the guard's reference is gone"}) == ["the guard's reference is gone"]


def test_aliases_are_the_solutions_imports_used_by_the_check():
    sources = [
        "import numpy as np\nfrom kerasdl.checks import char_rnn\nfrom kerasdl import checks, data\n"
        "import os.path\ndata = 3",
        "%matplotlib inline\nimport keras",
    ]
    assert guard.aliases(sources, "char_rnn.check(np.ones(2), data, os.sep, keras)") == {
        "char_rnn": ("kerasdl.checks", "char_rnn"),
        "np": ("numpy", None),
        "os": ("os", None),
        "keras": ("keras", None),
    }


def test_learners_are_named_by_their_folder_and_hidden_folders_are_skipped(tmp_path):
    for path in ("ann/a.ipynb", "ann/.ipynb_checkpoints/a-checkpoint.ipynb", "bob/sub/b.ipynb", "c.ipynb"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("{}")
    found = grader.find_submissions([tmp_path])
    assert [(s.path.relative_to(tmp_path).as_posix(), s.learner) for s in found] == [
        ("ann/a.ipynb", "ann"),
        ("bob/sub/b.ipynb", "bob"),  # the first folder under the root, however deep
        ("c.ipynb", tmp_path.name),
    ]


def test_the_gradebook_keeps_each_learners_best_notebook():
    def grade(learner, exercise, score, tampered=()):
        g = grader.Grade(
            f"{learner}/{exercise}.ipynb", "jax", "quick", learner=learner, exercise=exercise, tampered=list(tampered)
        )
        g.items = [grader.Item(str(n), 1, grader.PASSED if n < score else grader.FAILED) for n in range(3)]
        return g

    exercises_ = {"a": answer_key.Exercise("a", None, []), "b": answer_key.Exercise("b", None, [])}
    text = gradebook.gradebook([grade("ann", "a", 1), grade("ann", "a", 2), grade("bob", "a", 3, ["x"])], exercises_)
    assert text.splitlines() == ["learner,a score,a total,tampered,not graded", "ann,2,3,,", "bob,3,3,a (jax),"]


def test_a_kit_changed_while_grading_is_an_error_not_tampering():
    reference = {"modules": {"kerasdl.checks": "1"}, "environment": {}, "kit": "a"}
    later = {"modules": {"kerasdl.checks": "2"}, "environment": {}, "kit": "b", "changed": ["kerasdl.checks.check"]}
    assert guard.differences(reference, later) == [guard.KIT_CHANGED]
    notebook = solution()
    exercise = exercise_of(notebook)
    prepared, _ = grader.prepare(notebook, exercise, "n1")
    first = next(i for i, c in enumerate(prepared.cells) if c.metadata.get(grader.ROLE, {}).get("check") == 1)
    tag = "\u27e6n1\u27e7 "
    records = _records(
        (0, f"{tag}guard {json.dumps(reference)}\n", None),
        (first, f"{tag}before {json.dumps(later)}\n{tag}✔ add returns the sum\n", None),
    )
    items, tampered, notes = grader.score(prepared, {"records": records}, exercise, "n1")
    assert tampered == [] and notes[0] == f"check 1: {guard.KIT_CHANGED}"
    assert (items[0].status, items[0].detail) == ("error", guard.KIT_CHANGED)


def test_a_cell_that_printed_too_much_comes_back_cut_short():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "x" * (3 * 2**20)},
        {"output_type": "display_data", "data": {"image/png": "a" * 100}, "metadata": {}},
        {"output_type": "error", "ename": "E", "evalue": "", "traceback": list("abcdefgh")},
    ]
    short = sandbox._shortened(outputs)
    assert [o["output_type"] for o in short] == ["stream", "error"]
    assert len(short[0]["text"]) < 2**20 + 100 and short[0]["text"].endswith("cut short by kerasdl grade]\n")
    assert short[1]["traceback"] == list("defgh")

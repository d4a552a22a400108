"""The instructor's loop around `kerasdl grade`: points, review files of written answers, feedback, Canvas, similarity.

Most tests build grades by hand (no kernel): each shows a right thing kept and a
wrong thing refused. The two that grade the arithmetic kit in sandboxes run once,
in the jax pass; the similarity report reads the kit's own solutions, no kernel.
"""

import copy
import csv
import io
import json

import nbformat
import pytest
from grading import exercise_of, make_kit, needs_bwrap, once, review_rows, run_cli, score, solution
from nbformat.v4 import new_code_cell

from kerasdl.course import (
    answer_key,
    discovery,
    feedback,
    gradebook,
    grader,
    review,
    runner,
    sample_class,
    similarity,
    text,
)
from kerasdl.course.grades import FAILED, NOT_ATTEMPTED, PASSED, RECORDED, Grade, Item
from kerasdl.errors import KerasdlError

from helpers import ROOT

WHY = "why multiply"
HOSTILE = '=HYPERLINK("evil")<script>alert(1)'  # a folder name: no slash


def weighted():
    notebook = solution()
    notebook.metadata["kerasdl"]["points"] = {"add returns the sum": 2, WHY: 3}
    return notebook


def graded(learner, passed=True, answer="it adds a number to itself", notebook=None):
    """Return a Grade of the arithmetic exercise, as the grader makes one."""
    grade = Grade(notebook or f"submissions/{learner}/arith.ipynb", "jax", "quick", learner=learner, exercise="arith")
    grade.items = [
        Item("add returns the sum", 1, PASSED if passed else FAILED, "" if passed else "return a plus b", points=2),
        Item("add works on negatives", 1, PASSED),
        Item("mul multiplies", 2, NOT_ATTEMPTED, "NotImplementedError (code cell 4)"),
        Item(WHY, 3, RECORDED, scored=False, answer=answer, model_answer="repeated adding", points=3),
    ]
    return grade


# ------------------------------------------------------------------ points


def test_points_come_from_the_solutions_metadata_and_default_to_one():
    exercise = exercise_of(weighted())
    assert (exercise.total, exercise.written_total) == (2 + 1 + 1, 3)
    assert exercise_of(solution()).total == 3 and exercise.points("add works on negatives") == 1
    grade = graded("ann")
    assert (grade.score, grade.total, grade.written, grade.written_total) == (3, 4, None, 3)


@pytest.mark.parametrize(
    "points, words",
    [
        ({"no such item": 2}, "which no check cell prints"),
        ({"mul multiplies": -1}, "must be a positive number"),
        ({"mul multiplies": "two"}, "must be a positive number"),
        ([1, 2], "must map item names to numbers"),
    ],
)
def test_points_that_cannot_be_used_block_only_their_own_exercise(tmp_path, points, words):
    notebook = solution()
    notebook.metadata["kerasdl"]["points"] = points
    (tmp_path / "solutions").mkdir()
    nbformat.write(notebook, tmp_path / "solutions" / "arith.ipynb")
    exercises, problems = answer_key.load(tmp_path / "solutions")
    assert len(problems) == 1 and words in problems[0] and "\n" not in problems[0]
    assert exercises["arith"].problem == problems[0]


def test_the_gradebook_totals_points_per_exercise_and_learner():
    exercises = {"arith": exercise_of(weighted())}
    ann, bob = graded("ann"), graded("bob", passed=False)
    ann.items[-1].awarded = 2.5
    book = list(csv.DictReader(io.StringIO(gradebook.gradebook([ann, bob], exercises, reviewed=True))))
    assert [
        (r["learner"], r["arith score"], r["arith total"], r["arith written"], r["arith points"]) for r in book
    ] == [
        ("ann", "3", "4", "2.5", "5.5"),
        ("bob", "1", "4", "", "1"),
    ]
    assert [(r["points"], r["possible"], r["to review"]) for r in book] == [("5.5", "7", "0"), ("1", "7", "1")]


# ------------------------------------------------------------------ export


def test_the_canvas_file_has_canvas_columns_a_points_possible_row_and_no_formula():
    exercises = {"arith": exercise_of(weighted())}
    ann, evil = graded("ann"), graded(HOSTILE)
    ann.items[-1].awarded = 3
    rows = list(csv.reader(io.StringIO(gradebook.canvas([ann, evil], exercises, reviewed=True))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "arith"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "7"]
    assert rows[2][0] == "'" + HOSTILE and rows[2][-1] == "3"  # shown as text, never run
    assert rows[3] == ["ann", "", "", "", "", "6"]


# ------------------------------------------------------------------ review files of written answers


def test_a_review_file_lists_the_written_answers_and_its_scores_survive_a_regrade(tmp_path):
    exercises = {"arith": exercise_of(weighted())}
    lines = review.merge([graded("ann"), graded("bob")], tmp_path, exercises, {})
    path = review.path_for(tmp_path, "arith")
    assert lines == [f"review {path}: 2 written answers, 2 waiting for your score"]
    rows = review_rows(path)
    assert [(r["learner"], r["item"], r["points"], r["score"], r["answer"]) for r in rows] == [
        ("ann", WHY, "3", "", "it adds a number to itself"),
        ("bob", WHY, "3", "", "it adds a number to itself"),
    ]
    score(path, "ann", "2.5", "good, but say why")
    regraded = [graded("ann"), graded("bob")]  # a new run: fresh grades, the same answers
    lines = review.merge(regraded, tmp_path, exercises, review.load(tmp_path, exercises))
    assert lines == [f"review {path}: 2 written answers, 1 waiting for your score"]
    assert regraded[0].items[-1].awarded == 2.5 and regraded[0].items[-1].comment == "good, but say why"
    assert regraded[1].items[-1].awarded is None
    again = {r["learner"]: r for r in review_rows(path)}
    assert (again["ann"]["score"], again["ann"]["comment"]) == ("2.5", "good, but say why")


def test_a_scored_answer_that_changed_keeps_its_score_and_says_so(tmp_path):
    exercises = {"arith": exercise_of(weighted())}
    review.merge([graded("ann")], tmp_path, exercises, {})
    path = review.path_for(tmp_path, "arith")
    score(path, "ann", "1")
    changed = [graded("ann", answer="a new answer")]
    lines = review.merge(changed, tmp_path, exercises, review.load(tmp_path, exercises))
    assert "ann changed the answer to 'why multiply' since you scored it: your score stands" in lines[0]
    assert changed[0].items[-1].awarded == 1
    assert review_rows(path)[0]["answer"] == "it adds a number to itself"  # the row the score belongs to


def test_a_forged_score_for_an_unknown_learner_is_reported_kept_and_not_counted(tmp_path):
    exercises = {"arith": exercise_of(weighted())}
    review.merge([graded("ann")], tmp_path, exercises, {})
    path = review.path_for(tmp_path, "arith")
    with open(path, "a") as file:
        file.write(f"mallory,{WHY},3,3,,forged,,\n")
    grades = [graded("ann"), graded("bob")]
    lines = review.merge(grades, tmp_path, exercises, review.load(tmp_path, exercises))
    assert lines[0] == f"review {path}: mallory ({WHY}) matches no notebook graded now: kept in the file, not counted"
    assert all(g.items[-1].awarded is None for g in grades)
    assert "mallory" in {r["learner"] for r in review_rows(path)}  # the instructor's row is not deleted


@pytest.mark.parametrize(
    "value, words",
    [
        ("two", "the score 'two' of ann (why multiply) is not a number: write a number from 0 to 3"),
        ("2,5", "is not a number: write a number from 0 to 3 (a point, not a comma, before decimals)"),
        ("4", "the score 4 of ann (why multiply) is more than the 3 points the item is worth"),
        ("-1", "is below 0"),
        ("nan", "the score 'nan' of ann (why multiply) is not a number"),
    ],
)
def test_a_score_that_is_not_a_number_in_range_is_one_line_naming_its_row(tmp_path, value, words):
    exercises = {"arith": exercise_of(weighted())}
    review.merge([graded("ann")], tmp_path, exercises, {})
    score(review.path_for(tmp_path, "arith"), "ann", value)
    with pytest.raises(KerasdlError) as error:
        review.load(tmp_path, exercises)
    message = str(error.value)
    assert f"arith.csv line 2: {words}" in message or ("line 2: " in message and words in message)
    assert "\n" not in message


def test_a_file_kerasdl_did_not_write_is_refused_not_overwritten(tmp_path):
    exercises = {"arith": exercise_of(weighted())}
    path = review.path_for(tmp_path, "arith")
    path.write_text("my own notes\n")
    with pytest.raises(KerasdlError, match="is not a review file kerasdl wrote"):
        review.load(tmp_path, exercises)
    assert path.read_text() == "my own notes\n"


# ------------------------------------------------------------------ feedback


def test_feedback_pages_escape_what_the_learner_controls_and_need_no_network(tmp_path):
    evil = graded(HOSTILE, passed=False, answer='<img src=x onerror="alert(1)">')
    evil.tampered = ["check 2: <b>the verdict printer was replaced</b>"]
    evil.items[-1].awarded, evil.items[-1].comment = 1, "see <i>me</i>"
    stray = Grade(f"submissions/{HOSTILE}/notes.ipynb", "jax", "quick", learner=HOSTILE, reason="not a <notebook>")
    pages = feedback.write([evil, stray, graded("ann")], tmp_path)
    assert len(pages) == 3 and all(p.parent.parent == tmp_path for p in pages)
    page = feedback.path_for(tmp_path, HOSTILE, "arith").read_text()
    for raw in ["<script>", "<img", "<b>the", "<i>me"]:
        assert raw not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "return a plus b" in page and "1 of 3" in page and "see &lt;i&gt;me&lt;/i&gt;" in page
    assert "tampering: check 2" in page
    assert "http" not in page.lower() and "<link" not in page and "src=" not in page.replace("src=x", "")
    assert "not a &lt;notebook&gt;" in feedback.path_for(tmp_path, HOSTILE, "not-graded").read_text()


def test_a_feedback_page_kerasdl_did_not_write_is_not_overwritten(tmp_path):
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "arith.html").write_text("<p>my notes</p>")
    with pytest.raises(KerasdlError, match="kerasdl did not write it"):
        feedback.check_folder(tmp_path)
    feedback.check_folder(tmp_path, force=True)
    feedback.write([graded("ann")], tmp_path / "new")
    feedback.check_folder(tmp_path / "new")  # its own pages may be written again


# ------------------------------------------------------------------ similarity


def test_near_copies_are_listed_and_template_or_reference_code_is_not(tmp_path):
    name = "02_bptt_by_hand.ipynb"
    plan = {"ann": {name: "solved"}, "ben": {name: "solved"}, "cy": {name: "solved"}, "dee": {name: "unsolved"}}
    plan.update({"eve": {name: "unsolved"}, "fay": {name: "solved"}})
    sample_class.make_class(tmp_path, plan)
    for learner, source in [("ann", sample_class.SHARED_CELL), ("ben", sample_class.SHARED_CELL.replace("rows", "r"))]:
        notebook = nbformat.read(tmp_path / learner / name, as_version=4)
        notebook.cells.insert(3, new_code_cell(source))
        nbformat.write(notebook, tmp_path / learner / name)
    notebook = nbformat.read(tmp_path / "fay" / name, as_version=4)  # code of her own, like no one's
    notebook.cells.insert(3, new_code_cell("def mine(values):\n    return sorted(set(values), key=len)[::-1]\n" * 3))
    nbformat.write(notebook, tmp_path / "fay" / name)
    report, pairs = similarity.report([tmp_path], ROOT / "solutions")
    assert pairs == [("bptt_by_hand", "ann", "ben")], report
    assert report.startswith(similarity.HEADER)
    assert "ann/02_bptt_by_hand.ipynb (cells 2) and " in report  # the cell that matches, in code-cell numbers
    reference = report.split("pairs of learners")[0]
    assert "cy/02_bptt_by_hand.ipynb" in reference and "dee/" not in reference and "eve/" not in reference
    assert similarity.report([tmp_path], ROOT / "solutions", threshold=1.0)[1] == pairs  # renaming hides nothing


# ------------------------------------------------------------------ the shared helpers


def test_run_and_grade_share_one_set_of_notebook_helpers():
    course = ROOT / "kerasdl" / "course"
    sources = {
        path.name: path.read_text()
        for path in course.glob("*.py")
        if path.name not in ("text.py", "discovery.py", "evidence.py")
    }
    for defined in ["def _label", "def _first_line(error)", "def find_notebooks", "def find_submissions", "def _walk"]:
        assert [name for name, source in sources.items() if defined in source] == [], defined
    for idiom in ["splitlines() or [", ".splitlines()[0]", "{job.backend:<10} {job.label:<{width}}"]:
        assert [name for name, source in sources.items() if idiom in source] == [], idiom
    assert grader.find_submissions is discovery.find_submissions and runner.find_notebooks is discovery.find_notebooks
    assert "def add_parser" not in sources["grader.py"] and "def add_parser" in sources["grade_command.py"]
    assert text.progress(3, 10, "jax", "a.ipynb", 8, "2/3  1.0 s") == "[3/10] jax        a.ipynb   2/3  1.0 s"
    assert text.first_line(ValueError("\n  bad value\nmore")) == "bad value" and text.first_line("", default="x") == "x"
    assert text.error_line(KeyError()) == "KeyError" and text.error_line(ValueError("a\nb")) == "ValueError: a"
    assert text.table(["a", "bb"], [["ccc", "d"]]) == ["a    bb", "ccc  d"]


# ------------------------------------------------------------------ the command, in sandboxes


@pytest.fixture(scope="module")
def weighted_kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("weighted")
    exercise = make_kit(root)
    nbformat.write(weighted(), root / "solutions" / "arith.ipynb")
    solved = copy.deepcopy(weighted())
    for learner, notebook in {"ann": solved, HOSTILE: solved, "bob": exercise}.items():
        (root / "submissions" / learner).mkdir(parents=True)
        nbformat.write(notebook, root / "submissions" / learner / "arith.ipynb")
    return root


def grade(kit, *paths, expect=(0, 1)):
    code, out, err = run_cli(
        "grade",
        *(paths or [kit / "submissions"]),
        "--solutions",
        kit / "solutions",
        "--csv",
        kit / "grades.csv",
        "--canvas",
        kit / "canvas.csv",
        "--review",
        kit / "review",
        "--feedback",
        kit / "feedback",
        "--similarity",
        kit / "similarity.txt",
        "--timeout",
        120,
    )
    assert code in expect, out + err
    return code, out, err


@once
@needs_bwrap
def test_score_regrade_and_the_scores_are_still_there(weighted_kit):
    kit = weighted_kit
    code, out, err = grade(kit)
    path = review.path_for(kit / "review", "arith")
    assert f"review {path}: 3 written answers, 3 waiting for your score" in out
    score(path, "ann", "2", "clear")
    before = path.read_text()
    code, out, err = grade(kit)
    assert f"review {path}: 3 written answers, 2 waiting for your score" in out
    rows = {r["learner"]: r for r in csv.DictReader(io.StringIO((kit / "grades.csv").read_text()))}
    assert (rows["ann"]["arith score"], rows["ann"]["arith written"], rows["ann"]["arith points"]) == ("4", "2", "6")
    assert rows["bob"]["arith written"] == "" and rows["'" + HOSTILE]["arith score"] == "4"
    assert path.read_text() == before  # the regrade found the same answers: the file is as the instructor left it
    canvas = list(csv.reader(io.StringIO((kit / "canvas.csv").read_text())))
    assert canvas[1][-1] == "7" and ["ann", "", "", "", "", "6"] in canvas
    page = feedback.path_for(kit / "feedback", "ann", "arith").read_text()
    assert "2 of 3" in page and "clear" in page
    assert feedback.path_for(kit / "feedback", HOSTILE, "arith").exists()
    assert (kit / "similarity.txt").read_text().startswith(similarity.HEADER)
    graded_items = json.loads((kit / "grades.json").read_text())
    assert {g["learner"]: g["written"] for g in graded_items}["ann"] == 2


def test_a_bad_score_stops_the_command_in_one_line_before_any_notebook_runs(weighted_kit, tmp_path):
    kit = weighted_kit
    (tmp_path / "review").mkdir()
    path = review.path_for(tmp_path / "review", "arith")
    path.write_text(",".join(review.FIELDS) + f"\nann,{WHY},3,lots,,,,\n")
    code, out, err = run_cli(
        "grade", kit / "submissions", "--solutions", kit / "solutions", "--review", tmp_path / "review"
    )
    assert code == 2 and out == ""
    assert err == f"kerasdl: error: {path} line 2: the score 'lots' of ann ({WHY}) is not a number: " + (
        "write a number from 0 to 3 (a point, not a comma, before decimals), or leave it empty\n"
    )


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--threshold", "abc", "--threshold must be a share from 0 to 1 (or a percentage like 60%), got 'abc'"),
        ("--threshold", "150%", "--threshold must be a share from 0 to 1"),
        ("--review", "afile", "afile is a file: give a folder"),
        ("--feedback", "afile", "afile is a file: give a folder"),
    ],
)
def test_bad_options_of_the_loop_are_one_line(tmp_path, option, value, words):
    (tmp_path / "afile").write_text("mine\n")
    make_kit(tmp_path)
    value = tmp_path / value if value == "afile" else value
    code, out, err = run_cli("grade", tmp_path / "exercises", "--solutions", tmp_path / "solutions", option, value)
    assert code == 2 and out == "" and err.startswith("kerasdl: error: ") and words in err and err.count("\n") == 1
    assert (tmp_path / "afile").read_text() == "mine\n"

"""A generated class graded in one command, with the trouble a real class brings.

kerasdl.course.sample_class.demo_class writes it: a malformed notebook, a symbolic
link, a nested folder, a learner folder named like a spreadsheet formula and two
near-copies. One `kerasdl grade` writes the gradebook, the Canvas file, the review
files, the feedback pages and the similarity report; then an instructor scores a
written answer and two learners are graded again, and the score is still there.
make test grades 6 learners x 2 exercises (every kind of trouble is in it);
`tools/grade_demo.py` grades the full 30 x 3 (about 24 minutes on 2 cores). It runs
once, in the jax pass.
"""

import csv
import io

import pytest
from grading import needs_bwrap, run_cli, score

from kerasdl.course import feedback, review, sample_class, similarity

from helpers import ROOT

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.once,
    needs_bwrap,
]
# The demo's class at the size make test can afford (tools/grade_demo.py grades all 30 x 3):
# every kind of trouble is in it; exercise 02 comes second, so the near-copies are in it.
LEARNERS = 6
EXERCISES = ("05_rnn_concepts.ipynb", "02_bptt_by_hand.ipynb")
OUTPUTS = ("--csv", "grades.csv", "--canvas", "canvas.csv", "--review", "review", "--feedback", "feedback")


def grade(folder, *paths):
    outputs = [folder / value if i % 2 else value for i, value in enumerate(OUTPUTS)]
    return run_cli(
        "grade",
        *paths,
        "-j",
        2,
        "--solutions",
        ROOT / "solutions",
        *outputs,
        "--similarity",
        folder / "similarity.txt",
        "--timeout",
        300,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("thirty")
    written = sample_class.demo_class(folder / "submissions", learners=LEARNERS, names=EXERCISES)
    code, out, err = grade(folder, folder / "submissions")
    return folder, written, code, out, err


def book(path):
    return {row["learner"]: row for row in csv.DictReader(io.StringIO(path.read_text()))}


def test_every_learner_has_a_row_and_the_trouble_is_its_own(graded):
    folder, written, code, out, err = graded
    assert code == 1 and err == "", err
    rows = book(folder / "grades.csv")
    learners = {path.relative_to(folder / "submissions").parts[0] for path in written}
    assert len(learners) == LEARNERS and {r.lstrip("'") for r in rows} == learners
    assert "'" + sample_class.FORMULA_LEARNER in rows  # shown as text, never run
    assert rows["learner01"]["not graded"].startswith("malformed.ipynb (not a readable notebook: cell ")
    assert rows["learner02"]["not graded"] == "link.ipynb (not graded: a symbolic link, not followed)"
    assert rows["nested"]["bptt_by_hand score"] != ""  # its notebooks lie in nested/week-1/
    assert rows["copy-ann"]["bptt_by_hand score"] == rows["copy-ann"]["bptt_by_hand total"]
    canvas = list(csv.reader(io.StringIO((folder / "canvas.csv").read_text())))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and len(canvas) == LEARNERS + 2


def test_the_near_copies_are_listed_by_the_similarity_report(graded):
    report = (graded[0] / "similarity.txt").read_text()
    assert report.startswith(similarity.HEADER)
    pairs = report.split("exercise bptt_by_hand")[1].split("pairs of learners")[1].split("exercise")[0]
    assert "copy-ann/02_bptt_by_hand.ipynb" in pairs and "copy-ben/02_bptt_by_hand.ipynb" in pairs


def test_everyone_has_feedback(graded):
    folder, written, *_ = graded
    for path in written:
        learner = path.relative_to(folder / "submissions").parts[0]
        assert any(feedback.path_for(folder / "feedback", learner, "x").parent.glob("*.html")), learner
    page = feedback.path_for(folder / "feedback", sample_class.FORMULA_LEARNER, "bptt_by_hand").read_text()
    assert "=HYPERLINK(&quot;example.invalid&quot;" in page and "<a " not in page


def test_written_answer_scores_survive_a_regrade(graded):
    folder = graded[0]
    path = review.path_for(folder / "review", "rnn_concepts")
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert {r["learner"] for r in rows} >= {"copy-ann", "copy-ben", "'" + sample_class.FORMULA_LEARNER}
    score(path, "copy-ann", "1", "clear and short")
    code, out, err = grade(folder, folder / "submissions" / "copy-ann", folder / "submissions" / "learner02")
    assert err == "", err
    rows = {(r["learner"], r["item"]): r for r in csv.DictReader(io.StringIO(path.read_text()))}
    scored = [r for (learner, _), r in rows.items() if learner == "copy-ann" and r["score"]]
    assert scored and all((r["score"], r["comment"]) == ("1", "clear and short") for r in scored)
    assert any(learner == "copy-ben" for learner, _ in rows)  # not graded this time: kept
    assert book(folder / "grades.csv")["copy-ann"]["rnn_concepts written"] == str(len(scored))

"""kerasdl.course.grades: the grades' data model is a leaf that the grader and the reports both import."""

import ast
from pathlib import Path

from kerasdl.course import gradebook, grader, grades


def imports(module):
    tree = ast.parse(Path(module.__file__).read_text())
    found = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    found |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return found


def test_the_data_model_imports_no_other_part_of_the_course_wing():
    assert not {name for name in imports(grades) if name.startswith("kerasdl.course")}
    assert "kerasdl.course.grader" not in imports(gradebook)  # the reports need only the model
    assert grader.Grade is grades.Grade and grader.Item is grades.Item and grader.SYMBOLS is grades.SYMBOLS


def test_a_grade_counts_scored_items_and_full_marks_needs_every_answer_recorded():
    grade = grades.Grade("ann/a.ipynb", "jax", "quick", learner="ann", exercise="a")
    grade.items = [
        grades.Item("sum", 1, grades.PASSED),
        grades.Item("why", 2, grades.RECORDED, scored=False),
    ]
    assert (grade.score, grade.total, grade.full_marks) == (1, 1, True)
    grade.items[1].status = grades.NOT_ATTEMPTED
    assert not grade.full_marks and grade.as_dict()["score"] == 1

"""What `kerasdl grade` reports: a table per exercise, a CSV gradebook, and the grades item by item as JSON.

The gradebook has one row per learner (the first folder under the submissions
folder, `submissions/<learner>/.../<exercise>.ipynb`) and, per exercise (and per
backend when several were graded), a score and a total column; a learner's best
notebook counts when they handed in several for one exercise. The JSON lists
every notebook's items with their details, written answers beside the model
answers, and any tampering: what an appeal needs.
"""

import csv
import io
import json
from pathlib import Path

from kerasdl.course.grades import PASSED, RECORDED, SYMBOLS
from kerasdl.course.text import shown
from kerasdl.course.text import table as text_table

SCORE_LIMIT = 300  # characters of a written answer shown in the printed report (the JSON has it all)
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that starts with one of these


def neutral(value):
    """Return a gradebook cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    if isinstance(value, str):
        value = shown(value)
        return "'" + value if value.startswith(FORMULA) else value
    return value


def _names(items):
    """Return the column names of an exercise's items; a name two checks print gets its check number."""
    counts = {}
    for item in items:
        counts[item.name] = counts.get(item.name, 0) + 1
    return [f"{item.name} (check {item.check})" if counts[item.name] > 1 else item.name for item in items]


def table(grades):
    """Return the printed report: per exercise a notebook x item table, then what went wrong, item by item."""
    lines = []
    exercises = list(dict.fromkeys(g.exercise for g in grades if g.exercise))
    for exercise in exercises:
        block = [g for g in grades if g.exercise == exercise]
        names = _names(max(block, key=lambda g: len(g.items)).items)
        header = ["notebook", "backend", *map(str, range(1, len(names) + 1)), "score"]
        rows = [
            [
                g.notebook,
                g.backend,
                *[SYMBOLS[i.status] for i in g.items],
                *[""] * (len(names) - len(g.items)),
                f"{g.score}/{g.total}" + (" T" if g.tampered else ""),
            ]
            for g in block
        ]
        lines += [f"exercise {exercise}", *text_table(header, rows), ""]
        lines += [f"{n:>3}  {name}" for n, name in enumerate(names, 1)] + [""]
    others = [g for g in grades if not g.exercise]
    if others:
        lines += [
            "not graded",
            *text_table(["notebook", "backend", "why"], [[g.notebook, g.backend, g.reason or ""] for g in others]),
            "",
        ]
    lines.append("     " + "  ".join(f"{symbol} {status}" for status, symbol in SYMBOLS.items()))
    details, answers = [], []
    for g in grades:
        where = f"{g.notebook} ({g.backend})"
        names = _names(g.items)
        same = {}
        for n, item in enumerate(g.items, 1):
            if item.status not in (PASSED, RECORDED) and item.detail:
                same.setdefault((item.status, item.detail), []).append(str(n))
        details += [f"{where} {','.join(ns)} {status}: {detail}" for (status, detail), ns in same.items()]
        details += [f"{where} tampered: {finding}" for finding in g.tampered]
        reported = [str(n) for n, item in enumerate(g.items, 1) if item.reported]
        if reported:
            details.append(f"{where} {','.join(reported)} reported: judged on the numbers the learner's cells computed")
        details += [f"{where}: {note}" for note in g.notes]
        for name, item in zip(names, g.items):
            if item.status == RECORDED:
                answers += [
                    f"{where} ✎ {name}",
                    f"    answer: {_short(item.answer)}",
                    f"    model answer: {_short(item.model_answer)}",
                ]
    if details:
        lines += ["", *details]
    if answers:
        lines += ["", "written answers, recorded for the instructor (not scored):", *answers]
    return "\n".join(shown(line) for line in lines)  # a name or a message with a newline forges no line


def _short(text):
    text = " ".join(str(text or "").split())
    return text if len(text) <= SCORE_LIMIT else text[: SCORE_LIMIT - 3] + "..."


def number(value):
    """Return points as a gradebook shows them: 3, 2.5 (never 3.0 or 2.5000001)."""
    value = round(float(value), 4)
    return int(value) if value.is_integer() else value


def best(grades):
    """Return {(learner, exercise id, backend): the Grade that counts}: a learner's best notebook of an exercise."""
    chosen = {}
    for g in grades:
        key = (g.learner, g.exercise, g.backend)
        if g.exercise and (key not in chosen or _rank(g) > _rank(chosen[key])):
            chosen[key] = g
    return chosen


def _rank(grade):
    return (grade.score + (grade.written or 0), -len(grade.tampered))


def _columns(grades, exercises):
    """Return [(exercise, backend, suffix)]: the gradebook's exercise columns, the backend named when several."""
    backends = list(dict.fromkeys(g.backend for g in grades))
    graded = [e for e in exercises.values() if any(g.exercise == e.id for g in grades)]
    return [(e, b, f" ({b})" if len(backends) > 1 else "") for e in graded for b in backends]


def gradebook(grades, exercises, reviewed=False):
    """Return the CSV gradebook text: a row per learner; per exercise (and backend) its points; the learner's total.

    `X score` and `X total` are the points of the items the grader scores. With `reviewed` (the written answers
    went through review files), an exercise with written answers adds `X written` (the instructor's points,
    empty until one is scored) and `X points` (the two together), and `to review` counts the written answers
    not scored yet. `points` and `possible` sum a learner's exercises, when there are several or `reviewed`.
    """
    backends = list(dict.fromkeys(g.backend for g in grades))
    columns = _columns(grades, exercises)
    header = ["learner"]
    for exercise, _, suffix in columns:
        header += [f"{exercise.id} score{suffix}", f"{exercise.id} total{suffix}"]
        if reviewed and exercise.written_total:
            header += [f"{exercise.id} written{suffix}", f"{exercise.id} points{suffix}"]
    totals = reviewed or len(columns) > 1
    header += ["points", "possible"] * totals + ["to review"] * reviewed + ["tampered", "not graded"]
    chosen = best(grades)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutral(cell) for cell in header])
    for learner in sorted({g.learner for g in grades}):
        row, points, possible, unreviewed = [learner], 0, 0, 0
        for exercise, name, _ in columns:
            g = chosen.get((learner, exercise.id, name))
            row += [number(g.score) if g else "", number(g.total if g else exercise.total)]
            if reviewed and exercise.written_total:
                written = g.written if g else None
                row += ["" if written is None else number(written), number(g.score + (written or 0)) if g else ""]
            points += (g.score + (g.written or 0)) if g else 0
            possible += exercise.total + (exercise.written_total if reviewed else 0)
            unreviewed += g.unreviewed if g else 0
        row += [number(points), number(possible)] * totals + [unreviewed] * reviewed
        row.append("; ".join(f"{g.exercise} ({g.backend})" for g in grades if g.learner == learner and g.tampered))
        row.append(
            "; ".join(
                f"{Path(g.notebook).name} ({g.reason})"
                for g in grades
                if g.learner == learner and not g.exercise and g.backend == backends[0]
            )
        )
        writer.writerow([neutral(cell) for cell in row])
    return out.getvalue()


# Canvas's gradebook import takes the CSV its own export writes: the columns Student, ID, SIS User ID,
# SIS Login ID and Section, then one column per assignment, and under the header a "Points Possible" row
# (https://nemogb-dev.github.io/nemogb-r/articles/detailed-canvas-export-info.html describes the export;
# https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades
# the import: one of Student, ID or SIS User ID identifies the student, and a column whose name is no
# assignment's yet makes a new assignment).
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's own export writes it, indented


def canvas(grades, exercises, reviewed=False):
    """Return the gradebook as a Canvas gradebook import CSV: a row per learner (Student), a column per exercise.

    Each exercise column holds a learner's points (the grader's, and the instructor's for written answers);
    the Points Possible row holds what the exercise is worth (its written answers too when `reviewed`).
    ID and SIS User ID are left empty: Canvas matches the Student column, so name the learner folders as
    Canvas shows the students.
    """
    columns = _columns(grades, exercises)
    chosen = best(grades)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CANVAS_HEADER + [neutral(f"{exercise.id}{suffix}") for exercise, _, suffix in columns])
    writer.writerow(
        [CANVAS_POINTS_POSSIBLE, "", "", "", ""]
        + [number(exercise.total + (exercise.written_total if reviewed else 0)) for exercise, _, _ in columns]
    )
    for learner in sorted({g.learner for g in grades}):
        row = [neutral(learner), "", "", "", ""]
        for exercise, name, _ in columns:
            g = chosen.get((learner, exercise.id, name))
            row.append(number(g.score + (g.written or 0)) if g else "")
        writer.writerow(row)
    return out.getvalue()


def is_canvas(path):
    """Return True if the file at `path` is a Canvas import file this module wrote."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.readline().startswith(",".join(CANVAS_HEADER))
    except (OSError, UnicodeDecodeError):
        return False


def grades_json(grades):
    """Return every grade, item by item, as JSON text."""
    return json.dumps([g.as_dict() for g in grades], indent=1, ensure_ascii=False) + "\n"


def is_gradebook(path):
    """Return True if the file at `path` is a gradebook this module wrote (its header starts with `learner,`)."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.readline().startswith("learner,")
    except (OSError, UnicodeDecodeError):
        return False


def is_grades(path):
    """Return True if the file at `path` holds grades as this module writes them (a JSON list of grades)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, list) and all(
        isinstance(g, dict) and {"notebook", "backend", "items"} <= set(g) for g in data
    )

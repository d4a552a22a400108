"""Written answers (✎): one review file per exercise that the instructor scores; the scores join the gradebook.

`kerasdl grade --review FOLDER` writes FOLDER/<exercise id>.csv with a row per
learner and written answer: the learner's answer, the model answer, what the item
is worth, and two empty columns for the instructor, `score` (a number from 0 to
`points`) and `comment`. Fill them in a spreadsheet, save as CSV, and grade again
with the same `--review FOLDER`: the scores are read before any notebook runs (a
score that is not a number, or above the item's points, stops the command with one
line naming the row), then merged into the gradebook and the feedback.

Regrading never overwrites what the instructor wrote: a row with a score or a
comment is kept as it is, even when the learner's answer has changed since (that is
reported), and a row that matches no learner graded now is kept in the file and
reported, never counted. Only rows nobody has touched are refreshed; the rows of
learners not graded this time (a regrade of a few folders) are kept.
"""

import csv
import io
import math
import os
import re
from pathlib import Path

from kerasdl.course.gradebook import best, neutral, number
from kerasdl.course.grades import RECORDED
from kerasdl.errors import KerasdlError

FIELDS = ["learner", "item", "points", "score", "comment", "answer", "model answer", "notebook"]
YOURS = ("score", "comment")  # the instructor's columns


def path_for(folder, exercise_id):
    """Return the review file of an exercise in `folder`."""
    return Path(folder) / (re.sub(r"[^A-Za-z0-9._-]", "_", exercise_id).lstrip(".") + ".csv")


def read(path, exercise):
    """Return {(learner, item): row} of a review file (cells as written), or raise one line about the bad row."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a spreadsheet may add a byte-order mark
    except UnicodeDecodeError:
        raise KerasdlError(f"{path} is not UTF-8 text: save it from your spreadsheet as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or list(reader.fieldnames)[: len(FIELDS)] != FIELDS:
        raise KerasdlError(
            f"{path} is not a review file kerasdl wrote (its first line is not {','.join(FIELDS)}): "
            "move it away or choose another --review folder"
        )
    rows, items = {}, {item: exercise.points(item) for check in exercise.checks for item in check.written}
    for row in reader:
        row = {field: (row.get(field) or "") for field in FIELDS}
        where = f"{path} line {reader.line_num}"
        key = (row["learner"], row["item"])
        if key in rows:
            raise KerasdlError(f"{where}: a second row for {row['learner']} ({row['item']}): delete one of them")
        if row["score"].strip():
            _score(row["score"], items.get(_plain(row["item"])), where, row)
        rows[key] = row
    return rows


def _plain(cell):
    """Return a cell as it was before `neutral` quoted it."""
    return cell[1:] if cell.startswith("'") else cell


def _score(text, points, where, row):
    """Return the score written in a row as a number, or raise one line saying what to write instead."""
    wanted = f"write a number from 0 to {number(points)}" if points is not None else "write a number"
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise KerasdlError(
            f"{where}: the score {text.strip()!r} of {row['learner']} ({row['item']}) is not a number: "
            f"{wanted} (a point, not a comma, before decimals), or leave it empty"
        )
    if value < 0:
        raise KerasdlError(f"{where}: the score {text.strip()} of {row['learner']} is below 0: {wanted}")
    if points is not None and value > points:
        raise KerasdlError(
            f"{where}: the score {text.strip()} of {row['learner']} ({row['item']}) is more than the "
            f"{number(points)} points the item is worth: {wanted}"
        )
    return value


def load(folder, exercises):
    """Return {exercise id: rows} of the review files already in `folder`; raise one line on a bad one."""
    found = {}
    for key, exercise in exercises.items():
        path = path_for(folder, key)
        if path.exists() and exercise.checks:
            found[key] = read(path, exercise)
    return found


def check_folder(folder):
    """Raise one line unless `folder` is (or can be made) a folder kerasdl can write review files in."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise KerasdlError(f"--review {folder} is a file: give a folder")


def merge(grades, folder, exercises, existing):
    """Write the review files of the exercises graded, keeping the instructor's rows; set the scores on `grades`.

    `existing` is what `load` read before grading. Returns the lines to print: scores kept for no one graded
    now, answers changed since they were scored, and the files written.
    """
    lines, backend = [], next((g.backend for g in grades), None)
    chosen = {key: g for key, g in best(grades).items() if key[2] == backend}
    for key, exercise in exercises.items():
        if not exercise.written_total or not any(g.exercise == key for g in grades):
            continue
        path, old = path_for(folder, key), existing.get(key, {})
        fresh = {}
        for (learner, exercise_id, _), grade in sorted(chosen.items()):
            if exercise_id != key:
                continue
            for item in (i for i in grade.items if not i.scored):
                answer = item.answer if item.status == RECORDED else f"(no answer: {item.status})"
                row = {
                    "learner": neutral(learner),
                    "item": neutral(item.name),
                    "points": number(item.points),
                    "score": "",
                    "comment": "",
                    "answer": neutral(answer or ""),
                    "model answer": neutral(item.model_answer or ""),
                    "notebook": neutral(grade.notebook),
                }
                fresh[(row["learner"], row["item"])] = row
        rows = dict(fresh)
        for row_key, row in old.items():
            touched = any(row[field].strip() for field in YOURS)
            if row_key in fresh and not touched:
                continue  # untouched: refreshed from this run
            rows[row_key] = row  # the instructor's row, or a learner not graded this time: it stands
            if row_key not in fresh and row["score"].strip():
                lines.append(
                    f"review {path}: {row['learner']} ({row['item']}) matches no notebook graded now: "
                    "kept in the file, not counted"
                )
            elif row_key in fresh and " ".join(row["answer"].split()) != " ".join(fresh[row_key]["answer"].split()):
                lines.append(
                    f"review {path}: {row['learner']} changed the answer to {row['item']!r} since you scored it: "
                    "your score stands; clear it to review the new answer"
                )
        scores = {
            row_key: (_score(row["score"], exercise.points(_plain(row["item"])), path, row), row["comment"])
            for row_key, row in rows.items()
            if row["score"].strip() and row_key in fresh
        }
        for grade in grades:
            if grade.exercise != key:
                continue
            for item in (i for i in grade.items if not i.scored):
                found = scores.get((neutral(grade.learner), neutral(item.name)))
                if found:
                    item.awarded, item.comment = found
                elif (neutral(grade.learner), neutral(item.name)) in rows:
                    item.comment = rows[(neutral(grade.learner), neutral(item.name))]["comment"]
        _write(path, sorted(rows.values(), key=lambda row: (row["learner"], row["item"])))
        waiting = sum(not row["score"].strip() for row_key, row in rows.items() if row_key in fresh)
        lines.append(f"review {path}: {len(rows)} written answers, {waiting} waiting for your score")
    return lines


def _write(path, rows):
    """Write a review file whole, or not at all (a temporary file renamed over it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.kerasdl-tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)

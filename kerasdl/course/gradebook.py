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

SCORE_LIMIT = 300  # characters of a written answer shown in the printed report (the JSON has it all)
FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that starts with one of these


def shown(text):
    """Return `text` with control characters escaped (\\n, \\x1b, \\u2028): one line, nothing a terminal obeys."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char == " " else char.encode("unicode_escape").decode("ascii") for char in text
    )


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


def _rows(header, rows):
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]


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
        lines += [f"exercise {exercise}", *_rows(header, rows), ""]
        lines += [f"{n:>3}  {name}" for n, name in enumerate(names, 1)] + [""]
    others = [g for g in grades if not g.exercise]
    if others:
        lines += [
            "not graded",
            *_rows(["notebook", "backend", "why"], [[g.notebook, g.backend, g.reason or ""] for g in others]),
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


def gradebook(grades, exercises):
    """Return the CSV gradebook text: a row per learner, a score and a total column per exercise (and backend)."""
    backends = list(dict.fromkeys(g.backend for g in grades))
    graded = [e for e in exercises.values() if any(g.exercise == e.id for g in grades)]
    columns = [(e, b) for e in graded for b in backends]
    suffix = (lambda b: f" ({b})") if len(backends) > 1 else (lambda b: "")
    header = ["learner"]
    for exercise, name in columns:
        header += [f"{exercise.id} score{suffix(name)}", f"{exercise.id} total{suffix(name)}"]
    header += ["tampered", "not graded"]
    best = {}
    for g in grades:
        key = (g.learner, g.exercise, g.backend)
        rank = (g.score, -len(g.tampered))
        if g.exercise and (key not in best or rank > (best[key].score, -len(best[key].tampered))):
            best[key] = g
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutral(cell) for cell in header])
    for learner in sorted({g.learner for g in grades}):
        row = [learner]
        for exercise, name in columns:
            g = best.get((learner, exercise.id, name))
            row += [g.score if g else "", g.total if g else exercise.total]
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

"""Feedback: one HTML page per learner and exercise, readable offline, with what the grader found.

`kerasdl grade --feedback FOLDER` writes FOLDER/<learner>/<exercise id>.html: each
item's verdict and hint, the learner's written answers (✎) with the instructor's
score and comment from the review file, and what the grader noticed (tampering,
errors, limits hit). A learner whose notebooks were not graded gets
FOLDER/<learner>/not-graded.html saying why. The pages need nothing but a browser:
the style is inline, there are no scripts, fonts or images to fetch. Every name,
answer and message the learner controls is escaped.
"""

import hashlib
import html
import re
from pathlib import Path

from kerasdl.course.gradebook import number
from kerasdl.course.grades import PASSED, RECORDED, SYMBOLS
from kerasdl.errors import KerasdlError

MARK = '<meta name="generator" content="kerasdl grade feedback">'
STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
.passed { color: #1a7f37; } .failed, .tampered, .error { color: #b42318; } .recorded { color: #0550ae; }
.answer { white-space: pre-wrap; background: #f6f8fa; padding: .5rem; border-radius: 4px; }
.noticed { background: #fff4e5; padding: .5rem 1rem; border-left: 4px solid #f59e0b; }
"""


def safe_name(text):
    """Return a file name for a learner or exercise: letters, digits, `._-`; a short hash when anything changed."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", text).lstrip(".")[:80]
    if name != text or not name:
        name = f"{name or 'learner'}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return name


def path_for(folder, learner, exercise_id):
    """Return where the feedback of `learner` on an exercise goes (`not-graded` for notebooks not graded)."""
    return Path(folder) / safe_name(learner) / f"{safe_name(exercise_id)}.html"


def check_folder(folder, force=False):
    """Raise one line unless every page in `folder` is one kerasdl wrote (or `force`), so none is overwritten."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise KerasdlError(f"--feedback {folder} is a file: give a folder")
    if force or not folder.is_dir():
        return
    for page in folder.glob("*/*.html"):
        if not _ours(page):
            raise KerasdlError(
                f"{page} exists and kerasdl did not write it: choose another --feedback folder, "
                "or pass --force to overwrite it"
            )


def _ours(page):
    try:
        with open(page, encoding="utf-8") as file:
            return MARK in file.read(2000)
    except (OSError, UnicodeDecodeError):
        return False


def _e(value):
    return html.escape(str(value), quote=True)


REPORTED = " (judged on the numbers your own cells computed)"


def _item_rows(grade):
    rows = []
    for number_, item in enumerate(grade.items, 1):
        points = f"{number(item.points)}" if item.scored else f"{number(item.points)} (scored by your instructor)"
        if item.scored:
            got = number(item.points) if item.status == PASSED else 0
        else:
            got = "waiting for review" if item.awarded is None else number(item.awarded)
        rows.append(
            f"<tr><td>{number_}</td><td>{_e(item.name)}</td>"
            f'<td class="{_e(item.status.replace(" ", "-"))}">{_e(SYMBOLS[item.status])} {_e(item.status)}</td>'
            f"<td>{_e(got)} / {_e(points)}</td><td>{_e(item.detail)}{REPORTED if item.reported else ''}</td></tr>"
        )
    return rows


def _section(grade):
    """Return the HTML of one graded notebook."""
    written = grade.written
    parts = [
        f"<h2>{_e(grade.notebook)} <small>({_e(grade.backend)}, profile {_e(grade.profile)})</small></h2>",
        f"<p><strong>{_e(number(grade.score))} of {_e(number(grade.total))} points</strong> from the checks"
        + (
            f"; written answers: {_e(number(written)) if written is not None else 'not scored yet'} of "
            f"{_e(number(grade.written_total))} points"
            if grade.written_total
            else ""
        )
        + "</p>",
    ]
    noticed = [f"tampering: {finding}" for finding in grade.tampered] + list(grade.notes)
    if grade.reason:
        noticed.insert(0, f"the run stopped early: {grade.reason}")
    if noticed:
        parts.append(
            '<div class="noticed"><p>The grader noticed:</p><ul>'
            + "".join(f"<li>{_e(line)}</li>" for line in noticed)
            + "</ul></div>"
        )
    parts.append(
        "<table><tr><th>#</th><th>item</th><th>verdict</th><th>points</th><th>hint or reason</th></tr>"
        + "".join(_item_rows(grade))
        + "</table>"
    )
    answers = [item for item in grade.items if not item.scored]
    if answers:
        parts.append("<h3>Your written answers</h3>")
        for item in answers:
            text = item.answer if item.status == RECORDED and item.answer else f"(no answer: {item.status})"
            score = "not scored yet" if item.awarded is None else f"{number(item.awarded)} of {number(item.points)}"
            parts.append(
                f"<h4>✎ {_e(item.name)}</h4><div class='answer'>{_e(text)}</div>"
                f"<p>Score: {_e(score)}" + (f" — {_e(item.comment)}" if item.comment else "") + "</p>"
            )
    return "\n".join(parts)


def page(learner, title, grades):
    """Return the HTML page of `learner`'s notebooks of one exercise (or of the ones not graded)."""
    body = []
    for grade in grades:
        if grade.exercise:
            body.append(_section(grade))
        else:
            body.append(f"<h2>{_e(grade.notebook)}</h2><p class='noticed'>Not graded: {_e(grade.reason)}</p>")
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">{MARK}\n'
        f"<title>{_e(title)} — {_e(learner)}</title><style>{STYLE}</style></head>\n<body>\n"
        f"<h1>{_e(title)}</h1><p>Feedback for <strong>{_e(learner)}</strong></p>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def write(grades, folder):
    """Write a page per learner and exercise (and one for the notebooks not graded); return the paths written."""
    groups = {}
    for grade in grades:
        groups.setdefault((grade.learner, grade.exercise or "not-graded"), []).append(grade)
    written = []
    for (learner, exercise_id), block in sorted(groups.items()):
        block.sort(key=lambda g: (-(g.score + (g.written or 0)), g.notebook, g.backend))  # the best first
        title = f"Exercise {exercise_id}" if exercise_id != "not-graded" else "Notebooks not graded"
        path = path_for(folder, learner, exercise_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(page(learner, title, block), encoding="utf-8")
        except OSError as error:
            raise KerasdlError(f"cannot write {path}: {error.strerror or error}") from None
        written.append(path)
    return written

"""The instructor's answer key: each exercise of solutions/, found by the id in its notebook metadata.

An exercise notebook carries `"kerasdl": {"exercise": "<id>"}` in its notebook
metadata; `kerasdl exercises build` copies it from the solution, and Jupyter keeps
it when a learner saves. The grader looks a submission up by that id, never by
its file name, and takes from the solution alone: the check cells' sources, and
the items each one prints (the `✔` / `✎` lines of its stored output, which
`pytest --nbval-lax` keeps equal to a fresh run). An item the solution prints
with `✎` is a written answer recorded for the instructor: shown, scored by the
instructor in a review file (review), never by the grader.

Each item is worth 1 point unless the solution's notebook metadata says otherwise:
`"kerasdl": {"exercise": "<id>", "points": {"<item>": 2, "<written item>": 3}}`.
"""

import dataclasses
import numbers
from pathlib import Path

from kerasdl import checks
from kerasdl.course import guard
from kerasdl.course.exercises import is_check_cell
from kerasdl.course.text import first_line
from kerasdl.errors import KerasdlError

METADATA = "kerasdl"  # notebook metadata key; its "exercise" entry is the id


@dataclasses.dataclass
class Check:
    """One check cell of a solution; `number` counts check cells from 1, `cell` code cells from 1."""

    number: int
    cell: int
    source: str
    items: list
    written: list  # the items recorded for the instructor (✎), a subset of items
    model_answers: dict
    cell_id: str | None
    aliases: dict  # names its source uses that the solution imports: {name: (module, attribute)}
    points: dict = dataclasses.field(default_factory=dict)  # {item: points} where not 1


@dataclasses.dataclass
class Exercise:
    """An exercise's id, its solution notebook and its check cells, in order."""

    id: str
    path: Path
    checks: list
    problem: str | None = None  # why this solution cannot serve as a key

    @property
    def total(self):
        """The points of the scored items (written answers are scored by the instructor, apart)."""
        return sum(c.points.get(item, 1) for c in self.checks for item in c.items if item not in c.written)

    @property
    def written_total(self):
        """The points of the written answers."""
        return sum(c.points.get(item, 1) for c in self.checks for item in c.written)

    def points(self, item):
        """Return what the item called `item` is worth (1 unless the solution's metadata says otherwise)."""
        return next((c.points.get(item, 1) for c in self.checks if item in c.items), 1)


def exercise_id(notebook):
    """Return the exercise id in a notebook's metadata, or None."""
    value = notebook.get("metadata", {}).get(METADATA) or {}
    value = value.get("exercise") if isinstance(value, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def stdout(cell):
    """Return what a code cell printed to stdout."""
    parts = [
        o.get("text", "")
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream" and o.get("name") == "stdout"
    ]
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts)


def answers(outputs):
    """Return {item: {"answer", "model_answer"}} from the answer bundles in `outputs` (data or metadata)."""
    found = {}
    for output in outputs or []:
        texts = {}
        for place in ("data", "metadata"):
            value = (output.get(place) or {}).get(checks.ANSWER_MIME)
            if isinstance(value, dict):
                texts.update({k: v for k, v in value.items() if v is not None})
        if isinstance(texts.get("item"), str):
            found[texts["item"]] = {"answer": texts.get("answer"), "model_answer": texts.get("model_answer")}
    return found


def _points(path, notebook, found):
    """Set each check's `points` from the solution's metadata; raise one line when they are not usable."""
    value = (notebook.get("metadata", {}).get(METADATA) or {}).get("points", {})
    if not isinstance(value, dict):
        raise KerasdlError(f'{path}: "points" in its {METADATA} metadata must map item names to numbers')
    items = {item: check for check in found for item in check.items}
    for item, points in value.items():
        if item not in items:
            raise KerasdlError(f"{path}: points are given for {item!r}, which no check cell prints; fix the name")
        if isinstance(points, bool) or not isinstance(points, numbers.Real) or not 0 < points < 10**6:
            raise KerasdlError(f"{path}: the points of {item!r} must be a positive number, not {points!r}")
        items[item].points[item] = points
    return found


def _exercise(path, notebook):
    code = [c for c in notebook.cells if c.cell_type == "code"]
    sources = [c.source for c in code]
    found = []
    for number, cell in enumerate(code, 1):
        if not is_check_cell(cell):
            continue
        where = f"{path}, code cell {number}"
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            raise KerasdlError(f"{where}: its stored output is an error; run the solution and save it")
        verdicts = checks.parse(stdout(cell))
        if not verdicts:
            raise KerasdlError(f"{where}: its stored output has no verdicts (✔ lines); run the solution and save it")
        wrong = [item for item, passed in verdicts if passed is False]
        if wrong:
            raise KerasdlError(f"{where}: the solution fails its own check ({wrong[0]}); fix it and save it")
        items = list(dict.fromkeys(item for item, _ in verdicts))
        written = [item for item, passed in verdicts if passed is None]
        model = {item: texts.get("model_answer") for item, texts in answers(cell.get("outputs")).items()}
        found.append(
            Check(
                len(found) + 1,
                number,
                cell.source,
                items,
                written,
                model,
                cell.get("id"),
                guard.aliases(sources, cell.source),
            )
        )
    if not found:
        raise KerasdlError(f"{path} has no check cells (# NBVAL_CHECK_OUTPUT): it cannot be graded")
    return _points(path, notebook, found)


def load(folder):
    """Return ({exercise id: Exercise}, [problems]) for the solution notebooks in `folder`.

    A solution that cannot serve as a key (unreadable, without an id, without verdicts in a
    check cell, failing its own check, sharing its id) is a one-line problem: its id, when it
    has one, maps to an Exercise whose `problem` says why, so only its own submissions go
    ungraded. Raises KerasdlError when there is no solutions folder or no notebook in it.
    """
    import nbformat

    folder = Path(folder)
    if not folder.is_dir():
        raise KerasdlError(
            f"no solutions folder {folder}: grading needs the instructor's solutions (pass --solutions FOLDER)"
        )
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise KerasdlError(f"no solution notebooks (*.ipynb) in {folder}")
    exercises, problems = {}, []
    for path in paths:
        try:
            notebook = nbformat.read(path, as_version=4)
        except Exception as error:
            problems.append(first_line(f"{path} is not a readable notebook: {error}"))
            continue
        key = exercise_id(notebook)
        if key is None:
            problems.append(
                f'{path} has no exercise id: add "{METADATA}": {{"exercise": "<id>"}} to its notebook metadata'
            )
            continue
        if key in exercises:
            problem = f"{path} and {exercises[key].path} have the same exercise id {key!r}"
            exercises[key].problem = problem
            problems.append(problem)
            continue
        try:
            exercises[key] = Exercise(key, path, _exercise(path, notebook))
        except KerasdlError as error:
            exercises[key] = Exercise(key, path, [], problem=str(error))
            problems.append(str(error))
    return exercises, problems

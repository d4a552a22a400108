"""`kerasdl grade`: run submitted exercise notebooks and score the verdicts their check cells print.

The answer key is the set of items (`✔ item` / `✘ item — hint` lines, see
kerasdl.checks) in the stored outputs of the submission's check cells
(`# NBVAL_CHECK_OUTPUT`), which exercises ship with. Where a check cell's stored
output is gone or came from a failed run (no verdicts, or an error output), the
items of the matching check cell in solutions/<same name> are used instead, and
that solution's check cells missing from the submission count as errors.

Partial credit: papermill stops at the first failing cell, so an unsolved first
part would hide every later one. Measured with papermill 2.7 / nbclient 0.11:
a code cell tagged `raises-exception` (like nbclient's `allow_errors=True`, which
papermill passes through as an engine keyword) lets execution go on to the end,
but papermill still raises PapermillExecutionError for the first error once
every cell has run, and writes the executed notebook first; a cell timeout
(CellTimeoutError) or a dead kernel (DeadKernelError) still stops the run,
tagged or not. So the grader executes, with runner.execute, a copy of the
submission with every code cell tagged `raises-exception`, in a temporary
folder (which is the notebook's working directory); the submission is only
read. Every check cell runs, and a run stopped by a timeout or a dead kernel is
graded as far as it got.

Each item is "passed" (✔ printed), "failed" (✘ printed), "not attempted" (not
printed, and its check cell raised NotImplementedError or the first error since
the previous check cell was one) or "error" (anything else: a crash, a timeout,
a dead kernel, with the reason).
"""

import copy
import dataclasses
import json
import os
import tempfile
from pathlib import Path

from kerasdl import checks, runtime
from kerasdl.course import runner, kernels
from kerasdl.backend import BACKENDS, DEFAULT, normalize
from kerasdl.errors import KerasdlError
from kerasdl.course.exercises import is_check_cell

DEFAULT_TIMEOUT = 600  # seconds per cell
PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"
SYMBOLS = {PASSED: checks.PASSED, FAILED: checks.FAILED, NOT_ATTEMPTED: "–", ERROR: "!"}
_STOPPERS = ("CellTimeoutError", "DeadKernelError")


@dataclasses.dataclass
class Item:
    """One answer-key item of one notebook; `cell` is its check cell's 1-based number among code cells."""

    name: str
    cell: int
    status: str = ERROR
    detail: str = ""


@dataclasses.dataclass
class Grade:
    """The items of one notebook graded on one backend."""

    notebook: str
    backend: str
    profile: str
    items: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    reason: str | None = None  # why the run failed, if it did
    notes: list = dataclasses.field(default_factory=list)
    output: str = ""

    @property
    def score(self):
        return sum(item.status == PASSED for item in self.items)

    @property
    def total(self):
        return len(self.items)

    @property
    def full_marks(self):
        return self.total > 0 and self.score == self.total

    def as_dict(self):
        """Return the grade as plain JSON-ready data."""
        data = dataclasses.asdict(self)
        data.update(score=self.score, total=self.total)
        return data


def _code_cells(notebook):
    return [c for c in notebook.cells if c.cell_type == "code"
            and "injected-parameters" not in c.metadata.get("tags", [])]


def _text(cell):
    """Return what a code cell printed to stdout or displayed as plain text."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            parts.append(output.get("text", ""))
        elif "text/plain" in output.get("data", {}):
            parts.append(output["data"]["text/plain"])
    return "".join(part if isinstance(part, str) else "".join(part) for part in parts)


def _error(cell):
    """Return (ename, first line of evalue) of the cell's first error output, or None."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            lines = str(output.get("evalue", "")).strip().splitlines()
            return output.get("ename", "Error"), lines[0][:120] if lines else ""
    return None


def _describe(error, number):
    ename, evalue = error
    return f"{ename}: {evalue} (code cell {number})" if evalue else f"{ename} (code cell {number})"


def _names(cell):
    return list(dict.fromkeys(name for name, _ in checks.parse(_text(cell))))


def _match(cells, solution_cells):
    """Return {submission check-cell index: solution check cell}, by identical source, then by position."""
    pairs, used = {}, set()
    for index, cell in cells:
        for j, candidate in enumerate(solution_cells):
            if j not in used and candidate.source.strip() == cell.source.strip():
                pairs[index] = candidate
                used.add(j)
                break
    for position, (index, _) in enumerate(cells):
        if index not in pairs and position < len(solution_cells) and position not in used:
            pairs[index] = solution_cells[position]
            used.add(position)
    return pairs, [c for j, c in enumerate(solution_cells) if j not in used]


def answer_key(submission, solution=None, solution_label="the solution"):
    """Return ([(check cell index among code cells, [item names])], [Items already in error], [notes])."""
    cells = [(i, c) for i, c in enumerate(_code_cells(submission)) if is_check_cell(c)]
    solution_cells = [c for c in _code_cells(solution) if is_check_cell(c)] if solution else []
    pairs, missing = _match(cells, solution_cells)
    key, errors, notes = [], [], []
    for index, cell in cells:
        names = _names(cell)
        if names and _error(cell) is None:
            key.append((index, names))
            continue
        if index in pairs:
            names = list(dict.fromkeys(_names(pairs[index]) + names))
        elif names:
            notes.append(f"code cell {index + 1}: the stored output comes from a failed run and there is "
                         f"no {solution_label}, so its answer key may be incomplete")
        else:
            errors.append(Item(f"check in code cell {index + 1}", index + 1, ERROR,
                               f"no answer key: its stored output was cleared and there is no {solution_label}"))
            continue
        key.append((index, names))
    for cell in missing:
        for name in _names(cell):
            errors.append(Item(name, 0, ERROR, "its check cell is missing from the notebook"))
    return key, errors, notes


def score(executed, key, result):
    """Return the Items of `key` graded from `executed` (the run's notebook, or None) and batch `result`."""
    cells = _code_cells(executed) if executed is not None else []
    started = [bool(c.metadata.get("papermill", {}).get("start_time")) for c in cells]
    stopped = None  # index of the cell where a timeout, dead kernel or failed start ended the run
    if result.status != "passed" and (not all(started) or str(result.reason).startswith(_STOPPERS)):
        stopped = max((i for i, s in enumerate(started) if s), default=-1)
    check_indexes = [i for i, c in enumerate(cells) if is_check_cell(c)]
    items = []
    for index, names in key:
        cell = cells[index] if index < len(cells) else None
        verdicts = {}
        for name, passed in checks.parse(_text(cell)) if cell is not None else []:
            verdicts[name] = verdicts.get(name, True) and passed
        hints = checks.hints(_text(cell)) if cell is not None else {}
        for name in names:
            item = Item(name, index + 1)
            if name in verdicts:
                item.status = PASSED if verdicts[name] else FAILED
                item.detail = "" if verdicts[name] else hints.get(name, "")
            elif cell is None or (stopped is not None and index >= stopped):
                where = f" (code cell {stopped + 1})" if stopped is not None and stopped >= 0 else ""
                item.detail = f"{result.reason or 'the notebook did not run'}{where}"
            else:
                item.status, item.detail = _unprinted(cells, index, check_indexes)
            items.append(item)
    return items


def _unprinted(cells, index, check_indexes):
    """Return (status, detail) for an item that the check cell at `index` ran but did not print."""
    own = _error(cells[index])
    previous = max((i for i in check_indexes if i < index), default=-1)
    first = next(((i, e) for i in range(previous + 1, index + 1) if (e := _error(cells[i]))), None)
    for where, error in [(index, own), first or (None, None)]:
        if error and error[0] == "NotImplementedError":
            return NOT_ATTEMPTED, f"NotImplementedError (code cell {where + 1})"
    if first:
        return ERROR, _describe(first[1], first[0] + 1)
    return ERROR, "its check cell ran but did not print this item"


def _tagged(notebook):
    """Return a copy of `notebook` whose code cells are all tagged raises-exception."""
    tagged = copy.deepcopy(notebook)
    for cell in tagged.cells:
        if cell.cell_type == "code":
            tags = cell.metadata.setdefault("tags", [])
            if "raises-exception" not in tags:
                tags.append("raises-exception")
    return tagged


def _label(path):
    relative = os.path.relpath(path, Path.cwd())
    return str(path) if relative.startswith("..") else relative


def grade(path, backend=DEFAULT, profile="quick", timeout=DEFAULT_TIMEOUT, solutions="solutions",
          output=None, label=None):
    """Execute the notebook at `path` on `backend` and return its Grade; the notebook is only read.

    `output` is where the executed copy goes (default: a temporary folder, deleted).
    Raises KerasdlError only for bad arguments or a missing kernel.
    """
    import nbformat

    path = Path(path)
    label = label or _label(path)
    name = normalize(backend)
    result_grade = Grade(label, name, profile)
    try:
        submission = nbformat.read(path, as_version=4)
    except Exception as error:
        result_grade.reason = f"not a readable notebook: {error}".splitlines()[0]
        return result_grade
    solution_path = Path(solutions) / path.name
    solution = None
    if solutions and solution_path.is_file() and solution_path.resolve() != path.resolve():
        try:
            solution = nbformat.read(solution_path, as_version=4)
        except Exception:
            result_grade.notes.append(f"{solution_path} is not a readable notebook: ignored")
    key, errors, notes = answer_key(submission, solution, str(solution_path))
    result_grade.notes += notes
    with tempfile.TemporaryDirectory(prefix="kerasdl-grade-") as folder:
        copy_path = Path(folder) / path.name
        nbformat.write(_tagged(submission), copy_path)
        target = Path(output) if output else Path(folder) / "executed" / path.name
        result = runner.execute(copy_path, target, name, profile=profile, timeout=timeout)
        executed = None
        if target.is_file():
            try:
                executed = nbformat.read(target, as_version=4)
            except Exception:
                executed = None
        if executed is not None and len(_code_cells(executed)) != len(_code_cells(submission)):
            executed = None  # cannot line the cells up: grade nothing as passed
        result_grade.items = score(executed, key, result) + errors
    result_grade.seconds = result.seconds
    result_grade.reason = result.reason
    result_grade.output = str(output) if output else ""
    if not result_grade.items:
        result_grade.notes.append("no answer key: no check cell (# NBVAL_CHECK_OUTPUT) printed verdicts "
                                  f"and there is no {solution_path}")
    return result_grade


def _display_names(grades):
    """Return {(grade index, item index): column name}; a name used by two check cells gets its cell number."""
    names = {}
    for g, grade_ in enumerate(grades):
        counts = {}
        for item in grade_.items:
            counts[item.name] = counts.get(item.name, 0) + 1
        for i, item in enumerate(grade_.items):
            names[g, i] = f"{item.name} (code cell {item.cell})" if counts[item.name] > 1 else item.name
    return names


def table(grades):
    """Return the notebook x item score table, its legend and the details of what went wrong."""
    names = _display_names(grades)
    columns = list(dict.fromkeys(names[key] for key in sorted(names)))
    number = {column: n for n, column in enumerate(columns, 1)}
    header = ["notebook", "backend", *map(str, range(1, len(columns) + 1)), "score"]
    rows = []
    for g, grade_ in enumerate(grades):
        marks = [""] * len(columns)
        for i, item in enumerate(grade_.items):
            marks[number[names[g, i]] - 1] = SYMBOLS[item.status]
        rows.append([grade_.notebook, grade_.backend, *marks, f"{grade_.score}/{grade_.total}"])
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.append("")
    lines += [f"{n:>3}  {column}" for n, column in enumerate(columns, 1)]
    lines.append("     " + "  ".join(f"{symbol} {status}" for status, symbol in SYMBOLS.items()))
    details = []
    for g, grade_ in enumerate(grades):
        where, same = f"{grade_.notebook} ({grade_.backend})", {}
        for i, item in enumerate(grade_.items):  # items that went wrong the same way share a line
            if item.status != PASSED and item.detail:
                same.setdefault((item.status, item.detail), []).append(str(number[names[g, i]]))
        details += [f"{where} {','.join(ns)} {status}: {detail}" for (status, detail), ns in same.items()]
        details += [f"{where}: {note}" for note in grade_.notes]
        if not grade_.items and grade_.reason:
            details.append(f"{where}: {grade_.reason}")
    if details:
        lines += ["", *details]
    return "\n".join(lines)


def grade_all(paths, backends=(DEFAULT,), profile="quick", timeout=DEFAULT_TIMEOUT, solutions="solutions",
              out=None, echo=lambda line: print(line, flush=True)):
    """Grade every notebook in `paths` (files or folders) on each backend, printing progress; return the Grades."""
    if profile not in runtime.PROFILES:
        raise KerasdlError(f"profile {profile!r} is not one of {', '.join(runtime.PROFILES)}")
    if not timeout > 0:
        raise KerasdlError(f"timeout must be a positive number of seconds, got {timeout!r}")
    notebooks = runner.find_notebooks(paths)
    backends = [normalize(name) for name in backends]
    for name in backends:
        kernels.require(name)
    if out:  # runner.plan names the outputs OUT/<backend>/<name> and refuses to overwrite a submission
        jobs = [(j.source, j.backend, j.label, j.output) for j in runner.plan(notebooks, backends, out)]
    else:
        jobs = [(source, name, _label(source), None) for name in backends for source in notebooks]
    grades, width = [], max(len(job[2]) for job in jobs)
    for n, (source, name, label, output) in enumerate(jobs, 1):
        result = grade(source, name, profile, timeout, solutions, output=output, label=label)
        grades.append(result)
        echo(f"[{n}/{len(jobs)}] {name:<10} {label:<{width}}  {result.score}/{result.total}  {result.seconds:.1f} s")
    return grades


def _command(args):
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    grades = grade_all(args.paths, backends, args.profile, args.timeout, args.solutions, args.out)
    print()
    print(table(grades))
    if args.json:
        Path(args.json).write_text(json.dumps([g.as_dict() for g in grades], indent=1, ensure_ascii=False) + "\n")
    full = sum(g.full_marks for g in grades)
    print(f"\n{full} of {len(grades)} notebooks got full marks", flush=True)
    return 0 if full == len(grades) else 1


def add_parser(commands):
    """Add the `grade` command to the kerasdl command line."""
    p = commands.add_parser("grade", help="run exercise notebooks and score their checks",
                            description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", metavar="PATH", help="notebooks, or folders of notebooks (submissions)")
    p.add_argument("--backend", default=DEFAULT, help=f"{', '.join(BACKENDS)} or all (default {DEFAULT})")
    p.add_argument("--profile", default="quick", choices=runtime.PROFILES, help="KERASDL_PROFILE (default quick)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                   help=f"seconds a single cell may run (default {DEFAULT_TIMEOUT})")
    p.add_argument("--solutions", default="solutions",
                   help="folder of solution notebooks, the answer key when a check cell's output is gone (default solutions)")
    p.add_argument("--out", help="keep the executed notebooks in this folder (default: a temporary one)")
    p.add_argument("--json", metavar="FILE", help="also write the grades as JSON to FILE")
    p.set_defaults(func=_command)
    return p

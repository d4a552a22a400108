"""`kerasdl grade`: run submitted exercise notebooks, each in a sandbox, against the instructor's checks.

The answer key is the instructor's: a submission is matched to its solution by
the exercise id in its notebook metadata (answer_key), and the check cells that
run are the solution's, whatever the submission holds. Before execution the
grader builds a copy of the submission: a guard cell first (guard), then the
learner's cells, where each check cell (`# NBVAL_CHECK_OUTPUT`) is replaced by
the instructor's — matched by identical source, then cell id, then position —
followed by a snapshot cell. A check cell the learner deleted is put back
before the next one; one they edited runs as the instructor wrote it; one they
added runs as their code and its output is ignored; all three are reported as
tampering. Verdicts count only from lines that the kit's own code printed in
the grader's check cells (tagged by guard); a snapshot that differs from the
guard's (checks or the verdict printer replaced, input transformers, a new
stdout) turns that check's items into "tampered".

An exercise whose checks are all probes and judges (probed: exercise 02) is
graded without a guard: its check cells arm the probes with seeds drawn for
this run, the sandbox holds the probes but no judge, and score_probed judges
the probes' data here, in the grader's process. No verdict is computed where
the learner's code runs.

Every code cell of the copy is tagged `raises-exception`, so an unfinished part
does not hide the later ones. The copy runs in a bubblewrap sandbox (sandbox),
-j N at once here, or on Dask workers with --scheduler; the submission itself
is only read.

Each item is "passed" (✔), "failed" (✘), "recorded" (✎ a written answer, shown to
the instructor, not scored), "not attempted" (its check cell, or the learner's
cells since the previous check, stopped at a NotImplementedError), "tampered",
or "error" (a crash, a timeout, a dead kernel, the memory limit, with the reason).
Learners are named by the first folder under the submissions folder, however
deep a notebook lies: `submissions/<learner>/.../<any name>.ipynb`. Whatever a
submission is (a link, a device, unreadable, malformed, too large, another
exercise), its trouble is its own row, never the end of the class.
"""

import copy
import dataclasses
import json
import os
import stat
import time
from pathlib import Path

from kerasdl import checks, runtime
from kerasdl.backend import DEFAULT, normalize
from kerasdl.course import answer_key, discovery, guard, kernels, probed, runner, sandbox
from kerasdl.course.discovery import find_submissions
from kerasdl.course.exercises import is_check_cell
from kerasdl.course.grades import (  # noqa: F401 (the data model, also imported from here)
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    PASSED,
    RECORDED,
    SYMBOLS,
    TAMPERED,
    Grade,
    Item,
)
from kerasdl.course.text import error_line, first_line, progress, shown
from kerasdl.errors import KerasdlError

DEFAULT_TIMEOUT = 600  # seconds per cell
ROLE = "kerasdl_grade"  # cell metadata key of the grader's copy
MAX_NOTEBOOK_BYTES = 64 * 2**20  # a larger submission is not read
SIMILAR_CHARACTERS = 4000  # of a check cell's source, compared to find an edited check
SIMILAR_CANDIDATES = 100  # check-marked cells compared per check, at most


# ------------------------------------------------------------------ the grader's copy of a submission


def _normal(source):
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _trigrams(text):
    """Return the set of 3-character pieces of the first SIMILAR_CHARACTERS characters of `text`."""
    text = text[:SIMILAR_CHARACTERS]
    return {text[i : i + 3] for i in range(max(1, len(text) - 2))}


def _similarity(first, second):
    """Return how alike two sources are, 0 to 1: the Jaccard index of their trigrams (linear, bounded)."""
    return len(first & second) / max(1, len(first | second))


def align(cells, exercise):
    """Return ({check number: cell index}, [numbers of edited checks], [indexes of added check cells]).

    A check is found by identical source, then by the solution's cell id, then as the unmatched
    `# NBVAL_CHECK_OUTPUT` cell most like it between its matched neighbours (alike: sharing the most
    3-character pieces of their first SIMILAR_CHARACTERS characters; among at most SIMILAR_CANDIDATES
    cells, so that the work per submission is bounded whatever it holds).
    """
    code = [i for i, cell in enumerate(cells) if cell.cell_type == "code"]
    marked = [i for i in code if is_check_cell(cells[i])]
    normal = {i: _normal(cells[i].source) for i in code}
    waiting = {}
    for check in exercise.checks:
        waiting.setdefault(_normal(check.source), []).append(check.number)
    matches, used = {}, set()
    for i in code:
        if waiting.get(normal[i]):  # the first check with this source not found yet
            matches[waiting[normal[i]].pop(0)] = i
            used.add(i)
    ids = {check.cell_id: check.number for check in exercise.checks if check.cell_id}
    for i in code:
        number = ids.get(cells[i].get("id"))
        if i not in used and number and number not in matches:
            matches[number] = i
            used.add(i)
    pieces = {}
    for check in exercise.checks:
        if check.number in matches:
            continue
        low = max((i for n, i in matches.items() if n < check.number), default=-1)
        high = min((i for n, i in matches.items() if n > check.number), default=len(cells))
        candidates = [i for i in marked if i not in used and low < i < high][:SIMILAR_CANDIDATES]
        reference = _trigrams(_normal(check.source))
        candidate = max(
            candidates,
            default=None,
            key=lambda i: _similarity(pieces.setdefault(i, _trigrams(normal[i])), reference),
        )  # the likeliest edit of it
        if candidate is not None:
            matches[check.number] = candidate
            used.add(candidate)
    changed = sorted(n for n, i in matches.items() if normal[i] != _normal(exercise.checks[n - 1].source))
    return matches, changed, [i for i in marked if i not in used]


def prepare(submission, exercise, run_nonce, seeds=None):
    """Return (the notebook to execute, [tampering found in its check cells]) for a submission.

    With `seeds` ({check number: {probe name: seed}}, an exercise graded by probes: see probed) the check cells run
    the probes on those seeds, and no guard or snapshot cell is added: no verdict is computed in the kernel.
    """
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

    cells = submission.cells
    matches, changed, added = align(cells, exercise)
    at = {i: n for n, i in matches.items()}
    put_back = {}
    for check in exercise.checks:
        if check.number not in matches:
            later = min((i for n, i in matches.items() if n > check.number), default=len(cells))
            put_back.setdefault(later, []).append(check.number)
    prepared = new_notebook(
        metadata={
            "kernelspec": spec if isinstance(spec := submission.metadata.get("kernelspec"), dict) else {},
            ROLE: {"exercise": exercise.id, "solution": exercise.path.name},
        }
    )

    def grader_cell(source, role):
        return new_code_cell(source, metadata={ROLE: role, "tags": ["raises-exception"]})

    def add_check(number, cell_number):
        check = exercise.checks[number - 1]
        if seeds is not None:
            source = probed.check_cell(guard.MARKER, number, seeds[number], check.source, check.aliases)
            prepared.cells.append(grader_cell(source, {"check": number, "cell": cell_number}))
            return
        prepared.cells.append(
            grader_cell(
                guard.check_cell(run_nonce, number, check.source, check.aliases), {"check": number, "cell": cell_number}
            )
        )
        prepared.cells.append(grader_cell(guard.after_cell(run_nonce, number), {"after": number}))

    if seeds is None:
        prepared.cells.append(grader_cell(guard.guard_cell(run_nonce), {"guard": True}))
    number, numbers = 0, {}
    for index, cell in enumerate([*cells, None]):
        for missing in put_back.get(index, []):
            add_check(missing, None)
        if cell is None:
            break
        tags = [t for t in cell.metadata.get("tags", []) if isinstance(t, str)]
        if cell.cell_type == "code":
            number += 1
            numbers[index] = number
            if index in at:
                add_check(at[index], number)
                continue
            role = {"cell": number, **({"added": True} if index in added else {})}
            prepared.cells.append(
                new_code_cell(cell.source, metadata={ROLE: role, "tags": sorted({*tags, "raises-exception"})})
            )
        elif cell.cell_type == "markdown":
            prepared.cells.append(new_markdown_cell(cell.source, metadata={"tags": tags}))
        else:
            prepared.cells.append(new_raw_cell(cell.source, metadata={"tags": tags}))
    found = [
        f"check {n} (code cell {numbers[matches[n]]}) was edited: the instructor's check ran instead" for n in changed
    ]
    found += [
        f"check {n} was deleted: the instructor's check was put back"
        for n in sorted(n for numbers in put_back.values() for n in numbers)
    ]
    found += [
        f"code cell {numbers[i]} is an extra check cell (# NBVAL_CHECK_OUTPUT): its output was ignored" for i in added
    ]
    return prepared, found


# ------------------------------------------------------------------ reading a run


def _error(outputs):
    """Return (ename, first line of evalue) of the first error output, or None."""
    for output in outputs or []:
        if output.get("output_type") == "error":
            return str(output.get("ename", "Error")), first_line(output.get("evalue", ""), 120)
    return None


def _stdout(outputs):
    return answer_key.stdout({"outputs": outputs or []})


class _Run:
    """What one execution of a prepared notebook left: outputs per cell, started cells, why it stopped."""

    def __init__(self, prepared, result):
        records = result.get("records", [])
        self.roles = [cell.metadata.get(ROLE, {}) for cell in prepared.cells]
        self.outputs = {r["cell"]: r.get("outputs") or [] for r in records if isinstance(r.get("cell"), int)}
        self.started = {r["start"] for r in records if isinstance(r.get("start"), int)}
        end = next((r for r in records if "end" in r), {})
        self.reason = result.get("reason") or end.get("reason")
        self.stopped = max(self.started, default=-1) if self.reason else None

    def where(self, index):
        role = self.roles[index] if 0 <= index < len(self.roles) else {}
        if "cell" in role and role["cell"]:
            return f"code cell {role['cell']}"
        if "check" in role:
            return f"check {role['check']}"
        if "after" in role:
            return f"after check {role['after']}"
        return "the grader's first cell" if role.get("guard") else "before the first cell"

    def stop_detail(self):
        return f"{self.reason} ({self.where(self.stopped)})" if self.stopped is not None else str(self.reason)


def _merge(verdicts):
    merged = {}
    for name, passed in verdicts:
        if name not in merged or merged[name] is True or passed is False:
            merged[name] = passed if merged.get(name) is not False else False
    return merged


def _unprinted(run, index, previous):
    """Return (status, detail) for an item that the check cell at `index` ran without printing."""
    own = _error(run.outputs.get(index))
    first = next(
        (
            (i, e)
            for i in range(previous + 1, index + 1)
            if "after" not in run.roles[i] and (e := _error(run.outputs.get(i)))
        ),
        None,
    )
    for where, error in [(index, own), first or (None, None)]:
        if error and error[0] == "NotImplementedError":
            return NOT_ATTEMPTED, f"NotImplementedError ({run.where(where)})"
    if own and own[0] == "NameError":  # a name an unfinished part would have defined (a check put back late)
        stub = max(
            (
                i
                for i in range(index)
                if "cell" in run.roles[i]
                and "check" not in run.roles[i]
                and (_error(run.outputs.get(i)) or ("",))[0] == "NotImplementedError"
            ),
            default=None,
        )
        if stub is not None:
            return NOT_ATTEMPTED, f"NotImplementedError ({run.where(stub)})"
    if first:
        ename, evalue = first[1]
        return ERROR, f"{ename}: {evalue} ({run.where(first[0])})" if evalue else f"{ename} ({run.where(first[0])})"
    return ERROR, "its check cell ran but did not print this item"


def score(prepared, result, exercise, run_nonce):
    """Return (items, [tampering found while running], [notes]) for one run of a prepared notebook."""
    run = _Run(prepared, result)
    check_at = {role["check"]: i for i, role in enumerate(run.roles) if "check" in role}
    after_at = {role["after"]: i for i, role in enumerate(run.roles) if "after" in role}
    reference = next(
        (data for kind, data in guard.tagged_lines(_stdout(run.outputs.get(0)), run_nonce) if kind == "guard"), None
    )
    failure = None
    if reference is None:
        guard_error = _error(run.outputs.get(0))
        failure = (
            run.stop_detail()
            if run.reason and run.stopped in (None, -1, 0)
            else "the grader's first cell failed" + (f": {guard_error[0]}: {guard_error[1]}" if guard_error else "")
        )
    items, tampered, notes, previous = [], [], [], 0
    for check in exercise.checks:
        index, after = check_at[check.number], after_at[check.number]
        problems = []
        if reference is not None and index in run.started:
            found = guard.tagged_lines(_stdout(run.outputs.get(index)), run_nonce)
            before = next((d for k, d in found if k == "before"), None)
            if before is None and run.stopped != index:
                problems.append("the grader's lines at its start did not run (an input transformer?)")
            elif before is not None:
                problems += [f"before it ran, {d}" for d in guard.differences(reference, before)]
            if after in run.started:
                later = next(
                    (d for k, d in guard.tagged_lines(_stdout(run.outputs.get(after)), run_nonce) if k == "after"), None
                )
                if later is None and run.stopped != after:
                    problems.append("the snapshot after it did not run")
                elif later is not None:
                    problems += [f"while it ran, {d}" for d in guard.differences(reference, later)]
        else:
            found = []
        lines = "\n".join(rest for kind, rest in found if kind == "line")
        verdicts, hints = _merge(checks.parse(lines)), checks.hints(lines)
        texts = answer_key.answers(run.outputs.get(index))
        kit_changed = any(guard.KIT_CHANGED in problem for problem in problems)
        if kit_changed:
            notes.append(f"check {check.number}: {guard.KIT_CHANGED}")
        elif problems:
            tampered.append(f"check {check.number}: " + "; ".join(problems))
        for name in check.items:
            item = Item(name, check.number, scored=name not in check.written, points=check.points.get(name, 1))
            if failure or kit_changed:
                item.detail = failure or guard.KIT_CHANGED
            elif problems:
                item.status, item.detail = TAMPERED, "; ".join(problems)
            elif name in verdicts:
                passed = verdicts[name]
                item.status = {True: PASSED, False: FAILED, None: RECORDED}[passed]
                item.detail = hints.get(name, "") if passed is False else ""
            elif index not in run.started or run.stopped == index:
                item.detail = run.stop_detail() if run.reason else "the check did not run"
            else:
                item.status, item.detail = _unprinted(run, index, previous)
            if not item.scored:
                item.model_answer = (texts.get(name) or {}).get("model_answer") or check.model_answers.get(name)
                if item.status == RECORDED:
                    item.answer = (texts.get(name) or {}).get("answer")
            items.append(item)
        previous = after
    names = {name for check in exercise.checks for name in check.items}
    for index, outputs in sorted(run.outputs.items()):
        if "cell" in run.roles[index] and "check" not in run.roles[index]:
            own = [n for n, _ in checks.parse(_stdout(outputs)) if n in names]
            if own:
                notes.append(
                    f"{run.where(index)} printed {len(own)} verdict line(s) of its own: ignored "
                    "(only the grader's check cells count)"
                )
    if failure and reference is None:
        notes.append(failure)
    return items, tampered, notes


def score_probed(prepared, result, exercise, plan, seeds):
    """Return (items, [tampering found], [notes]) for one run of a notebook prepared with probes (see probed).

    Every verdict is computed here, by the judges, from the probe bundles each check cell displayed; nothing the
    learner's code printed counts.
    """
    run = _Run(prepared, result)
    check_at = {role["check"]: i for i, role in enumerate(run.roles) if "check" in role}
    items, tampered, notes, previous = [], [], [], 0
    for check in exercise.checks:
        index = check_at[check.number]
        outputs = run.outputs.get(index)
        lines, trouble, found = probed.judge(plan, check.number, seeds[check.number], outputs)
        if found:
            tampered.append(f"check {check.number}: " + "; ".join(found))
        notes += [f"check {check.number}, {name}: {why}" for name, why in trouble.items()]
        text = "\n".join(line for name in lines for line in lines[name])
        verdicts, hints = _merge(checks.parse(text)), checks.hints(text)
        reported = {
            item
            for name in lines
            if plan.checks[name].probe.reported
            for item, _ in checks.parse("\n".join(lines[name]))
        }
        for name in check.items:
            item = Item(name, check.number, scored=name not in check.written, points=check.points.get(name, 1))
            if found:
                item.status, item.detail = TAMPERED, "; ".join(found)
            elif name in verdicts:
                item.status = {True: PASSED, False: FAILED, None: RECORDED}[verdicts[name]]
                item.detail = hints.get(name, "") if verdicts[name] is False else ""
                item.reported = name in reported
            elif trouble:
                item.status, item.detail = FAILED, "; ".join(trouble.values())
            elif index not in run.started or run.stopped == index:
                item.detail = run.stop_detail() if run.reason else "the check did not run"
            else:
                item.status, item.detail = _unprinted(run, index, previous)
            items.append(item)
        previous = index
    for index, outputs in sorted(run.outputs.items()):
        error = _error(outputs)
        if "check" not in run.roles[index] and error and probed.STANDIN_NOTE in error[1]:
            notes.append(f"{run.where(index)}: {error[0]}: {error[1]}")
    return items, tampered, notes


def executed_notebook(prepared, result):
    """Return the prepared notebook with the outputs of its run filled in."""
    import nbformat

    notebook = copy.deepcopy(prepared)
    records = {r["cell"]: r for r in result.get("records", []) if isinstance(r.get("cell"), int)}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and index in records:
            cell.outputs = [nbformat.from_dict(o) for o in records[index].get("outputs") or [] if isinstance(o, dict)]
            if isinstance(records[index].get("execution"), dict):
                cell.metadata["execution"] = records[index]["execution"]
    notebook.metadata[ROLE]["executed"] = True
    return notebook


# ------------------------------------------------------------------ grading a class


@dataclasses.dataclass
class _Job:
    source: Path
    backend: str
    label: str
    output: Path | None
    grade: Grade
    exercise: answer_key.Exercise | None = None
    prepared: object = None
    nonce: str = ""
    spec: dict | None = None
    plan: probed.Plan | None = None  # an exercise graded by probes, and this run's seeds
    seeds: dict | None = None


def _read(path):
    """Return (the notebook at `path`, None) or (None, why it is not graded: one line).

    Only a regular file is opened (a symbolic link, a device or a pipe is not), without following a link, and
    at most MAX_NOTEBOOK_BYTES of it are read; its JSON is parsed without nbformat's reader (whose errors quote
    the file) and its cells are checked for what the grader uses.
    """
    import nbformat

    megabytes = f"larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return None, "not graded: a symbolic link, not followed"
        if not stat.S_ISREG(info.st_mode):
            return None, "not graded: not a regular file (a folder, a device, a pipe or a socket), not opened"
        if info.st_size > MAX_NOTEBOOK_BYTES:
            return None, f"not graded: {megabytes}"
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):  # replaced since the lstat
                return None, "not graded: not a regular file, not read"
            data = file.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as error:
        return None, f"not graded: cannot be read ({error.strerror or type(error).__name__})"
    if len(data) > MAX_NOTEBOOK_BYTES:
        return None, f"not graded: {megabytes}"
    try:
        content = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not a readable notebook: not UTF-8 text"
    except ValueError as error:  # the position, never the text
        where = getattr(error, "pos", "?")
        return None, f"not a readable notebook: not JSON ({type(error).__name__} at character {where})"
    except RecursionError:
        return None, "not a readable notebook: its JSON is nested too deeply"
    problem = _malformed(content)
    if problem:
        return None, f"not a readable notebook: {problem}"
    try:
        notebook = nbformat.from_dict(content)
        if notebook.nbformat != 4:
            notebook = nbformat.convert(notebook, 4)
    except Exception as error:  # an old format nbformat cannot convert
        return None, f"not a readable notebook: {type(error).__name__} converting it to nbformat 4"
    problem = _malformed(notebook)
    return (None, f"not a readable notebook: {problem}") if problem else (notebook, None)


def _malformed(notebook):
    """Return what in a notebook's JSON the grader cannot use (one line), or None."""
    if not isinstance(notebook, dict):
        return "its JSON is not an object"
    if not isinstance(notebook.get("nbformat"), int) or notebook["nbformat"] not in (3, 4):
        return "not nbformat 4 (no nbformat number, or another one)"
    if not isinstance(notebook.get("metadata", {}), dict):
        return "its metadata is not an object"
    cells = notebook.get("cells") if notebook["nbformat"] == 4 else [{"cell_type": "markdown", "source": ""}]
    if not isinstance(cells, list):
        return "its cells are not a list"
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            return f"cell {number} is not an object"
        kind, source, metadata = cell.get("cell_type"), cell.get("source", ""), cell.get("metadata", {})
        if kind not in ("code", "markdown", "raw"):
            return f"cell {number} has no known cell_type (code, markdown or raw)"
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(x, str) for x in source))):
            return f"cell {number} ({kind}): its source is {type(source).__name__}, not text"
        if isinstance(source, list):
            cell["source"] = "".join(source)
        if not isinstance(metadata, dict) or not isinstance(metadata.get("tags", []), list):
            return f"cell {number} ({kind}): its metadata or tags are not an object and a list"
        if "id" in cell and not isinstance(cell["id"], str):
            return f"cell {number} ({kind}): its id is not text"
    return None


def _plan(paths, backends, profile, timeout, exercises, out, force, options):
    """Return a _Job per notebook and backend; `options` go into each sandbox job (limits, the wall clock).

    Whatever a submission holds, its trouble (unreadable, malformed, too large, another exercise, a failure
    while preparing it) is the `reason` of its own jobs, never an exception that stops the class.
    """

    submissions = find_submissions(paths)
    notebooks = [s.path for s in submissions]
    outputs = {}
    if out:
        names = runner.output_names(notebooks)
        outputs = {(source, name): Path(out) / name / names[source] for name in backends for source in notebooks}
        sources = [path.resolve() for path in notebooks]
        runner.check_outputs(out, outputs.values(), sources, force, runner.is_executed_notebook)
    read = {s.path: _read(s.path) for s in submissions}
    jobs, plans, staged = [], {}, {}
    for name in backends:
        for found in submissions:
            source, label = found.path, shown(discovery.label(found.path))
            grade_ = Grade(label, name, profile, learner=shown(found.learner), sandboxed=not options["no_sandbox"])
            job = _Job(source, name, label, outputs.get((source, name)), grade_)
            jobs.append(job)
            submission, grade_.reason = read[source]
            if submission is None:
                continue
            try:
                key = answer_key.exercise_id(submission)
                if key is None or key not in exercises:
                    grade_.reason = (
                        "not graded: no exercise id in its notebook metadata"
                        if key is None
                        else f"not graded: exercise id {shown(key[:80])!r} is not one of the solutions'"
                    )
                    continue
                if exercises[key].problem:
                    grade_.reason = f"not graded: {exercises[key].problem}"
                    continue
                nonce = guard.nonce()
                if key not in plans:
                    plans[key] = probed.plan(exercises[key])
                    staged[key] = plans[key].sandbox() if plans[key] else None
                seeds = probed.draw(plans[key]) if plans[key] else None
                prepared, tampered = prepare(submission, exercises[key], nonce, seeds)
                spec = {
                    "notebook": json.dumps(prepared),
                    "backend": name,
                    "profile": profile,
                    "timeout": timeout,
                    **options,
                    **({"graded": staged[key]} if staged[key] else {}),
                }
            except Exception as error:  # a notebook this grader did not foresee: its own row, not the class's end
                grade_.reason = f"not graded: the grader could not prepare it ({shown(error_line(error))})"
                continue
            job.exercise, grade_.exercise, job.nonce = exercises[key], key, nonce
            job.prepared, grade_.tampered, job.spec = prepared, tampered, spec
            job.plan, job.seeds = plans[key], seeds
    return jobs


def _finish(job, result):
    grade_ = job.grade
    grade_.seconds = result.get("seconds", 0.0)
    grade_.peak_memory = result.get("peak_memory", 0)
    grade_.cpu_seconds = result.get("cpu_seconds", 0.0)
    try:
        if job.plan is not None:
            items, tampered, notes = score_probed(job.prepared, result, job.exercise, job.plan, job.seeds)
        else:
            items, tampered, notes = score(job.prepared, result, job.exercise, job.nonce)
        reason = _Run(job.prepared, result).reason
    except Exception as error:  # records this grader did not foresee: this notebook's error, not the class's end
        reason = f"the grader could not read this run ({shown(error_line(error))})"
        items = [
            Item(name, check.number, ERROR, reason, scored=name not in check.written, points=check.points.get(name, 1))
            for check in job.exercise.checks
            for name in check.items
        ]
        tampered, notes = [], []
    grade_.items, grade_.notes = items, grade_.notes + notes
    grade_.tampered += tampered
    grade_.reason = reason
    if job.output is not None:
        import nbformat

        try:
            job.output.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(executed_notebook(job.prepared, result), job.output)
            grade_.output = str(job.output)
        except (OSError, ValueError) as error:  # the grade stands without its executed copy
            grade_.notes.append(first_line(f"the executed copy could not be written to {job.output}: {error}"))
    return grade_


def _local(specs, workers):
    """Yield (index, result) as local sandboxes finish, `workers` at a time."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(sandbox.run, spec): index for index, spec in specs}
        for future in as_completed(futures):
            yield futures[future], _outcome(future)


def _distributed(specs, address):
    """Yield (index, result) as Dask workers finish; each worker runs sandbox.run on its own machine."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise KerasdlError("--scheduler needs Dask: pip install 'kerasdl[grade]' (dask[distributed])") from None
    try:
        client = Client(address, timeout="20s")
    except Exception as error:
        message = first_line(error, 160, default=type(error).__name__)
        raise KerasdlError(f"cannot reach the Dask scheduler at {address}: {message}") from None
    with client:
        futures = {
            client.submit(
                sandbox.run, spec, pure=False, key=f"kerasdl-grade-{index}-{spec['backend']}-{time.time_ns()}"
            ): index
            for index, spec in specs
        }
        for future in as_completed(futures):
            yield futures[future], _outcome(future)


def _outcome(future):
    try:
        return future.result()
    except Exception as error:  # the worker could not run it: bwrap or a kernel missing there, a lost worker
        return {"records": [], "reason": f"not run: {first_line(error, 200, default=type(error).__name__)}"}


def grade_all(
    paths,
    backends=(DEFAULT,),
    profile="quick",
    timeout=DEFAULT_TIMEOUT,
    solutions="solutions",
    out=None,
    jobs=1,
    scheduler=None,
    no_sandbox=False,
    memory=None,
    force=False,
    echo=lambda line: print(line, flush=True),
    notebook_timeout=sandbox.DEFAULT_WALL,
):
    """Grade every notebook in `paths` (files or folders) on each backend, printing progress; return the Grades.

    `timeout` bounds each cell, `notebook_timeout` each notebook as a whole (its sandbox's start included).
    """
    if profile not in runtime.PROFILES:
        raise KerasdlError(f"profile {profile!r} is not one of {', '.join(runtime.PROFILES)}")
    timeout = runner.seconds(timeout)
    wall = runner.seconds(notebook_timeout)
    if not (isinstance(jobs, int) and jobs >= 1):
        raise KerasdlError(f"-j must be a whole number of at least 1, got {jobs!r}")
    backends = [normalize(name) for name in backends]
    exercises, problems = answer_key.load(solutions)
    for problem in problems:
        echo(f"{problem}: its submissions are not graded")
    options = {
        "no_sandbox": bool(no_sandbox),
        "memory": memory or sandbox.DEFAULT_MEMORY,
        "processes": sandbox.DEFAULT_PROCESSES,
        "wall": wall,
        "threads": None if scheduler else max(1, (os.cpu_count() or 1) // jobs),
    }
    planned = _plan(paths, backends, profile, timeout, exercises, out, force, options)
    if not scheduler:  # Dask workers check their own machine
        sandbox.require(no_sandbox)
        for name in backends:
            kernels.require(name)
    specs = [(index, job.spec) for index, job in enumerate(planned) if job.spec is not None]
    width, done = max(len(job.label) for job in planned), 0
    for job in planned:
        if job.spec is None:
            done += 1
            echo(progress(done, len(planned), job.backend, job.label, width, shown(job.grade.reason)))
    results = _distributed(specs, scheduler) if scheduler else _local(specs, jobs)
    for index, result in results:
        job = planned[index]
        grade_ = _finish(job, result)
        done += 1
        flag = "  tampered" if grade_.tampered else ""
        echo(
            progress(
                done,
                len(planned),
                job.backend,
                job.label,
                width,
                f"{grade_.score}/{grade_.total}  {grade_.seconds:.1f} s{flag}",
            )
        )
    return [job.grade for job in planned]


def grade(
    path,
    backend=DEFAULT,
    profile="quick",
    timeout=DEFAULT_TIMEOUT,
    solutions="solutions",
    no_sandbox=False,
    memory=None,
    notebook_timeout=sandbox.DEFAULT_WALL,
):
    """Execute the notebook at `path` on `backend` and return its Grade; the notebook is only read."""
    return grade_all(
        [path],
        [backend],
        profile,
        timeout,
        solutions,
        no_sandbox=no_sandbox,
        memory=memory,
        echo=lambda line: None,
        notebook_timeout=notebook_timeout,
    )[0]

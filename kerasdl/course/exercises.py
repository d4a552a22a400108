"""`kerasdl exercises build`: generate exercises/ from solutions/ by replacing solution regions with stubs.

A region is the lines between nbgrader's `### BEGIN SOLUTION` and `### END SOLUTION`
(any line containing BEGIN SOLUTION / END SOLUTION counts, as in nbgrader, here in
any letter case). A line that looks like a marker but is not one (`### BEGIN
SOLUTON`, `# BEGIN_SOLUTION`, `## end-solution`) is an error, so a misspelt marker
cannot leak a solution. In a code cell a region becomes
`raise NotImplementedError("write your solution here")` at the marker's
indentation; in a markdown cell, `*Write your answer here.*`; in a raw cell,
`Write your answer here.` Check cells (code cells containing `# NBVAL_CHECK_OUTPUT`)
keep their stored outputs; every other output and every execution count is removed.

The generator never overwrites an exercise a learner has edited: it records the
SHA-256 of each file it writes in exercises/.generated.json, and a file whose
hash differs from the record is kept (`--force` backs it up, then regenerates).
"""

import difflib
import hashlib
import json
import re
import time
from pathlib import Path

from kerasdl.course.text import first_line
from kerasdl.errors import KerasdlError

BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
CODE_STUB = 'raise NotImplementedError("write your solution here")'
MARKDOWN_STUB = "*Write your answer here.*"
RAW_STUB = "Write your answer here."
_MARKER = re.compile(r"\b(begin|end)\s+solution\b", re.I)
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
RECORD = ".generated.json"
_RUN_METADATA = ("execution", "papermill", "ExecuteTime")  # per-run cell metadata from Jupyter and papermill


def is_check_cell(cell):
    """Return True for a code cell whose stored output is an answer key (`# NBVAL_CHECK_OUTPUT`)."""
    return cell.get("cell_type") == "code" and CHECK_MARK in cell.get("source", "")


def _near_marker(line):
    """Return True for a comment or heading that looks like a solution marker without being one (a typo)."""
    text = line.strip()
    words = re.findall(r"[a-z]+", text.lower())
    if not text.startswith("#") or not words or len(words) > 3:
        return False

    def like(word, model, ratio):
        return difflib.SequenceMatcher(None, word, model).ratio() >= ratio

    if len(words) == 1:  # BEGINSOLUTION, END-SOLUTON...
        return like(words[0], "beginsolution", 0.85) or like(words[0], "endsolution", 0.85)
    edge, rest = words[0], words[1]
    return (like(edge, "begin", 0.75) or like(edge, "end", 0.75)) and (
        rest.startswith("sol") or like(rest, "solution", 0.75)
    )


def _strip_regions(source, stub, where):
    """Return `source` with each marked region replaced by `stub`, and how many there were."""
    lines, out, inside, begun, count = source.splitlines(), [], False, 0, 0
    for number, line in enumerate(lines, 1):
        marker = _MARKER.search(line)
        kind = marker.group(1).upper() if marker else None
        if kind is None and _near_marker(line):
            raise KerasdlError(
                f"{where}: line {number} `{line.strip()[:60]}` looks like a solution marker but "
                f"is not one: write `### {BEGIN}` or `### {END}`"
            )
        if kind == "BEGIN":
            if inside:
                raise KerasdlError(
                    f"{where}: `### {BEGIN}` on line {number} is nested inside the region "
                    f"opened on line {begun}: close each region before opening another"
                )
            inside, begun, count = True, number, count + 1
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + stub)
        elif kind == "END":
            if not inside:
                raise KerasdlError(f"{where}: `### {END}` on line {number} has no `### {BEGIN}` before it")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise KerasdlError(f"{where}: `### {BEGIN}` on line {begun} has no `### {END}` after it")
    if not count:
        return source, 0
    return "\n".join(out) + ("\n" if source.endswith("\n") else ""), count


def _blank_recorded_answers(cell):
    """Drop the solution's written answer and model answer from a check cell's stored outputs.

    They sit in output metadata (nbval does not compare it); an exercise keeps only the item.
    """
    from kerasdl.checks import ANSWER_MIME

    for output in cell.get("outputs", []):
        texts = (output.get("metadata") or {}).get(ANSWER_MIME)
        if isinstance(texts, dict):
            output["metadata"][ANSWER_MIME] = {"item": texts.get("item")}


def generate(solution, label="solution"):
    """Return the exercise (a new nbformat notebook) for `solution` (a notebook node); raise on bad markers."""
    import copy

    notebook = copy.deepcopy(solution)
    regions = 0
    for index, cell in enumerate(notebook.cells, 1):
        where = f"{label}, cell {index}"
        if "BEGIN HIDDEN TESTS" in cell.get("source", ""):
            raise KerasdlError(f"{where}: hidden tests are not supported; move them to a check module")
        if cell.cell_type == "code":
            cell.source, count = _strip_regions(cell.source, CODE_STUB, where)
            if not is_check_cell(cell):
                # A check cell keeps its count: nbval rejects stored outputs without one.
                cell.execution_count = None
                cell.outputs = []
            else:
                _blank_recorded_answers(cell)
        elif cell.cell_type == "markdown":
            cell.source, count = _strip_regions(cell.source, MARKDOWN_STUB, where)
        else:
            cell.source, count = _strip_regions(cell.source, RAW_STUB, where)
        regions += count
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
    if not regions:
        raise KerasdlError(
            f"{label} has no `### {BEGIN}` / `### {END}` regions: "
            "mark what the learner should write, or move it out of solutions/"
        )
    return notebook


def render(solution_path):
    """Return the exercise for the solution notebook at `solution_path`, as the bytes to write."""
    import nbformat

    path = Path(solution_path)
    try:
        solution = nbformat.read(path, as_version=4)
    except Exception as error:
        raise KerasdlError(first_line(f"{path} is not a readable notebook: {error}")) from None
    return (nbformat.writes(generate(solution, str(path))) + "\n").encode()


def digest(data):
    """Return the SHA-256 hex digest of `data` (bytes)."""
    return hashlib.sha256(data).hexdigest()


def _read_record(folder):
    path = folder / RECORD
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise KerasdlError(f"{path} is not valid JSON: delete it, then rebuild with --force") from None


def _write_record(folder, record):
    (folder / RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def _backup(path):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target, n = path.with_name(f"{path.name}.bak-{stamp}"), 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.bak-{stamp}-{n}"), n + 1
    path.rename(target)
    return target


def _writing(what):
    """Return a context manager that turns an OSError into a one-line KerasdlError about `what`."""
    import contextlib

    @contextlib.contextmanager
    def guarded():
        try:
            yield
        except OSError as error:
            raise KerasdlError(f"cannot write {what}: {error.strerror or error}") from None

    return guarded()


def build(solutions="solutions", exercises="exercises", check=False, force=False, echo=print):
    """Generate an exercise per solution notebook; return {exercise path: what happened}.

    What happened is "created", "updated", "up to date", "kept" (edited by a learner,
    left alone), "backed up to <file>" (with `force`), or with `check` (writes
    nothing) "missing" / "out of date".
    """
    solutions, exercises = Path(solutions), Path(exercises)
    if not solutions.is_dir():
        raise KerasdlError(f"no solutions folder {solutions}: run this in the kit's folder or pass --solutions")
    sources = sorted(p for p in solutions.glob("*.ipynb") if p.is_file())
    if not sources:
        echo(f"no solution notebooks (*.ipynb) in {solutions}: nothing to build")
        return {}
    rendered = {source.name: render(source) for source in sources}  # every error before any write
    record = _read_record(exercises) if exercises.is_dir() else {}
    outcome = {}
    for name, data in rendered.items():
        target = exercises / name
        current = target.read_bytes() if target.is_file() else None
        if current == data:
            outcome[target] = "up to date"
            record[name] = digest(data)
            continue
        if check:
            outcome[target] = "missing" if current is None else "out of date"
            echo(f"{target}: {outcome[target]} (generated from {solutions / name})")
            continue
        if current is None:
            outcome[target] = "created"
        elif record.get(name) == digest(current):
            outcome[target] = "updated"
        elif force:
            with _writing(target):
                outcome[target] = f"backed up to {_backup(target).name}"
        else:
            outcome[target] = "kept"
            echo(
                f"{target}: kept, it was edited since it was generated; to regenerate it, "
                f"run `kerasdl exercises build --force` (your file is saved as {name}.bak-<time>)"
            )
            continue
        with _writing(target):
            exercises.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        record[name] = digest(data)
        echo(f"{target}: {outcome[target]}")
    if not check and any(v != "kept" for v in outcome.values()):
        with _writing(exercises / RECORD):
            exercises.mkdir(parents=True, exist_ok=True)
            _write_record(exercises, dict(sorted(record.items())))
    return outcome


def _command(args):
    if args.action != "build":  # argparse's choices already refuse anything else
        raise KerasdlError(f"unknown action {args.action!r}")
    if args.check and args.force:
        raise KerasdlError("--check writes nothing, so it cannot be combined with --force")
    outcome = build(args.solutions, args.exercises, check=args.check, force=args.force)
    current = sum(v == "up to date" for v in outcome.values())
    if args.check:
        stale = len(outcome) - current
        print(
            f"{current} of {len(outcome)} exercises up to date"
            + ("; run `kerasdl exercises build` to regenerate" if stale else "")
        )
        return 1 if stale else 0
    kept = sum(v == "kept" for v in outcome.values())
    print(f"{len(outcome)} exercises: {len(outcome) - current - kept} written, {current} up to date, {kept} kept")
    return 1 if kept else 0


def add_parser(commands):
    """Add the `exercises` command to the kerasdl command line."""
    p = commands.add_parser(
        "exercises", help="generate exercises/ from solutions/", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("action", choices=["build"])
    p.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 listing exercises that are missing or out of date"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="regenerate exercises a learner edited, after backing each up to <name>.ipynb.bak-<time>",
    )
    p.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default solutions)")
    p.add_argument("--exercises", default="exercises", help="folder to write exercises to (default exercises)")
    p.set_defaults(func=_command)
    return p

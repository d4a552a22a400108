"""`kerasdl run`: execute notebooks with papermill on one or more backends and tabulate the results.

Each notebook runs in the backend's Jupyter kernel (`kerasdl-<backend>`), in its
own folder, with KERASDL_PROFILE set; the executed copy goes to
OUT/<backend>/<name>.ipynb, and OUT/report.json and OUT/report.md hold a row per
notebook and backend. papermill and nbclient are imported only when a notebook runs.

What papermill 2.7 / nbclient 0.11 do when a notebook fails (measured):
  cell error   PapermillExecutionError; the output is written, the cell's
               metadata.papermill.status is "failed", and two markdown cells tagged
               papermill-error-cell-tag are inserted (so count code cells, not cells).
  cell timeout nbclient CellTimeoutError; the output is written, the cell is marked
               "completed" (!) with a KeyboardInterrupt output; later cells have no start_time.
  dead kernel  nbclient DeadKernelError("Kernel died"); the output is written, the
               cell is marked "completed" with no output; later cells have no start_time.
  raises-exception  a tagged cell's error lets the run go on; at the end papermill raises
               PapermillExecutionError for the first cell with an error output, whose
               status stays "completed".
So a cell error is located by its error output, a timeout or dead kernel by the last
code cell that has a start_time; cells are numbered among code cells, from 1.
"""

import contextlib
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from kerasdl import results, runtime
from kerasdl.backend import BACKENDS, DEFAULT, normalize
from kerasdl.course import evidence, kernels
from kerasdl.course.discovery import find_notebooks, label
from kerasdl.course.text import error_line, first_line, progress
from kerasdl.course.text import table as text_table
from kerasdl.errors import KerasdlError

DEFAULT_TIMEOUT = 900  # seconds per cell
# Lines the kernel and nbclient write to stderr on every run or failure: not a reason.
_NOISE = ("running over TCP without encryption", "waiting for execute reply")


@dataclasses.dataclass
class Result:
    """One notebook run on one backend; `cell` is the 1-based number among code cells."""

    notebook: str
    backend: str
    profile: str
    status: str  # "passed" or "failed"
    seconds: float
    cell: int | None = None
    code: str | None = None  # first line of the failing cell's source
    reason: str | None = None
    metrics: dict = dataclasses.field(default_factory=dict)
    output: str = ""

    def failure(self):
        """Return e.g. "code cell 2 `x = 1 / 0`: ZeroDivisionError: division by zero", or "" if it passed."""
        if self.status == "passed":
            return ""
        where = f"code cell {self.cell} `{self.code}`: " if self.cell else ""
        return where + str(self.reason)

    def summary(self):
        """Return e.g. "passed 41.2 s" or "FAILED (code cell 2 `x = 1 / 0`: ZeroDivisionError: ...)"."""
        return f"passed {self.seconds:.1f} s" if self.status == "passed" else f"FAILED ({self.failure()})"


@dataclasses.dataclass(frozen=True)
class Job:
    source: Path  # resolved
    output: Path
    backend: str
    kernel: str
    label: str  # how reports name the notebook
    parameters: dict = dataclasses.field(default_factory=dict)  # papermill's -p values


@contextlib.contextmanager
def _environment(**values):
    """Set environment variables (inherited by the kernel papermill starts) and restore them after."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _captured_stderr():
    """Send file descriptor 2, which the kernel inherits, to a temporary file; yield the file.

    ipykernel warns on every start and tracebacks on a timed-out shutdown; a
    crashing kernel's last words land here too and go into the failure reason.
    """
    with tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to capture
            yield log
            return
        os.dup2(log.fileno(), 2)
        try:
            yield log
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _last_words(log):
    """Return the telling line of a kernel's stderr, or None."""
    log.seek(0)
    lines = [line.strip() for line in log.read().decode(errors="replace").splitlines()]
    lines = [line for line in lines if line and not any(noise in line for noise in _NOISE)]
    fatal = [line for line in lines if line.startswith("Fatal Python error")]
    line = fatal[0] if fatal else lines[-1] if lines else None
    return line[:160] if line else None


def _failed_cell(notebook, cell_error):
    """Return (number, first source line) of the code cell where the run stopped, or (None, None).

    For a cell error that is the first code cell with an error output (papermill
    raises for that one, also after a `raises-exception` cell let the run go on);
    for a timeout or a dead kernel, the last code cell that started.
    """
    found = (None, None)
    cells = [
        c for c in notebook.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]
    for number, cell in enumerate(cells, 1):
        if cell_error:
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                return number, _first_line(cell.source)
        elif cell.metadata.get("papermill", {}).get("start_time"):
            found = (number, _first_line(cell.source))
    return found


def _first_line(source):
    line = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


def _run(job, profile, timeout):
    """Execute one job with papermill and return its Result; notebook failures never raise."""
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    job.output.parent.mkdir(parents=True, exist_ok=True)
    error = None
    start = time.perf_counter()
    with _environment(KERASDL_PROFILE=profile), _captured_stderr() as log:
        try:
            papermill.execute_notebook(
                str(job.source),
                str(job.output.absolute()),
                kernel_name=job.kernel,
                parameters=dict(job.parameters),
                cwd=str(job.source.parent),
                execution_timeout=timeout,
                progress_bar=False,
                log_output=False,
            )
        except Exception as exc:  # any failure belongs to this notebook only
            error = exc
        seconds = time.perf_counter() - start
        stderr = _last_words(log) if error is not None else None

    result = Result(
        job.label,
        job.backend,
        profile,
        "passed" if error is None else "failed",
        round(seconds, 2),
        output=str(job.output),
    )
    executed = None
    if job.output.exists():
        try:
            executed = nbformat.read(job.output, as_version=4)
            result.metrics = results.read(executed)
        except Exception:  # a half-written notebook: report the run, not this
            executed = None
    if error is None:
        return result
    if executed is not None:
        result.cell, result.code = _failed_cell(executed, isinstance(error, PapermillExecutionError))
    if isinstance(error, PapermillExecutionError):
        if result.cell is None:
            result.cell, result.code = error.exec_count, _first_line(error.source)
        evalue = first_line(error.evalue)
        result.reason = f"{error.ename}: {evalue}" if evalue else error.ename
    elif isinstance(error, CellTimeoutError):
        result.reason = f"CellTimeoutError: still running after {timeout:g} s (the per-cell timeout)"
    elif isinstance(error, DeadKernelError):
        result.reason = "DeadKernelError: the kernel died (os._exit, a crash, or out of memory)"
    else:
        result.reason = error_line(error, limit=None)
    if stderr and not isinstance(error, (PapermillExecutionError, CellTimeoutError)):
        result.reason += f"; kernel stderr: {stderr}"
    return result


def seconds(timeout):
    """Return a per-cell timeout as whole seconds, rounded up (nbclient takes integers); raise if not positive."""
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        value = float("nan")
    if not (value > 0 and math.isfinite(value)):
        raise KerasdlError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return math.ceil(value)


def _check_profile_timeout(profile, timeout):
    """Return the timeout in whole seconds (None stays None); raise on a bad profile or timeout."""
    if profile not in runtime.PROFILES:
        raise KerasdlError(f"profile {profile!r} is not one of {', '.join(runtime.PROFILES)}")
    return None if timeout is None else seconds(timeout)


def is_executed_notebook(path):
    """Return True if the notebook at `path` is an executed copy that kerasdl wrote (papermill's or the grader's)."""
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return False
    return "papermill" in metadata or bool((metadata.get("kerasdl_grade") or {}).get("executed"))


def is_report(path):
    """Return True if `path` is a report.json or report.md that `kerasdl run` wrote."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if Path(path).suffix == ".md":
        return text.startswith("| notebook |")
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, list) and all(
        isinstance(r, dict) and {"notebook", "backend", "status"} <= set(r) for r in data
    )


def check_target(path, force=False, ours=lambda path: False, what="output"):
    """Raise a one-line KerasdlError unless the file `path` can be written without destroying anything.

    Its folder must be writable (or creatable), and an existing file must be one kerasdl
    wrote (`ours`) unless `force`.
    """
    path = Path(path)
    if path.is_dir():
        raise KerasdlError(f"{what} {path} is a folder: give a file name")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise KerasdlError(f"cannot write {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise KerasdlError(f"cannot write {path}: {parent} is read-only")
    if path.exists() and not force and not ours(path):
        raise KerasdlError(
            f"{path} exists and kerasdl did not write it: choose another {what}, or pass --force to overwrite it"
        )


def check_outputs(out, outputs, sources, force=False, ours=is_executed_notebook):
    """Raise a one-line KerasdlError before a run unless every file of `outputs` (in folder `out`) can be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise KerasdlError(f"--out {out} is a file: give a folder")
    for output in outputs:
        _refuse_overwrite(output, sources)
        check_target(output, force, ours, what="--out folder")


def _refuse_overwrite(output, sources):
    for source in sources:
        if output.resolve() == source or (output.exists() and os.path.samefile(output, source)):
            raise KerasdlError(f"output {output} would overwrite the source notebook {source}: choose another --out")


def execute(source, output, backend, profile="quick", timeout=None, parameters=None):
    """Run notebook `source` in the kerasdl kernel for `backend`, write it to `output`; return a Result.

    `timeout` is papermill's per-cell limit in seconds (None: no limit); `parameters`
    override the notebook's `parameters` cell (papermill's -p). Raises
    KerasdlError only for bad arguments or a missing kernel, never for the notebook.
    """
    source = Path(source)
    if not source.is_file() or source.suffix != ".ipynb":
        raise KerasdlError(f"{source} is not a notebook file (.ipynb)")
    name = normalize(backend)
    timeout = _check_profile_timeout(profile, timeout)
    kernel = kernels.require(name)
    output = Path(output)
    _refuse_overwrite(output, [source.resolve()])
    return _run(Job(source.resolve(), output, name, kernel, str(source), dict(parameters or {})), profile, timeout)


def output_names(sources):
    """Return {source: relative output path}: the file name, plus parent folders where names clash."""
    names = {}
    for source in sources:
        clash = [s for s in sources if s.name == source.name]
        depth = 1
        while len({s.parts[1:][-depth:] for s in clash}) < len(clash):
            depth += 1
        names[source] = Path(*source.parts[1:][-depth:])
    return names


def plan(notebooks, backends, out):
    """Return the Jobs that run each notebook on each backend into `out`; raise before any would overwrite a source."""
    names = output_names(notebooks)
    jobs = [
        Job(source, Path(out) / name / names[source], name, kernels.kernel_name(name), label(source))
        for name in backends
        for source in notebooks
    ]
    for job in jobs:
        _refuse_overwrite(job.output, notebooks)
    return jobs


def _line(index, total, job, width, text):
    print(progress(index, total, job.backend, job.label, width, text), flush=True)


def run_all(jobs, profile, timeout, workers=1):
    """Run every job (in `workers` processes when > 1), printing progress; return the Results in job order."""
    total, width = len(jobs), max(len(job.label) for job in jobs)
    done = [None] * total

    def finish(index, result):
        done[index] = result
        status = "passed" if result.status == "passed" else "FAILED"
        _line(index + 1, total, jobs[index], width, f"{status}  {result.seconds:.1f} s  {result.failure()}".rstrip())

    if workers == 1:
        for index, job in enumerate(jobs):
            _line(index + 1, total, job, width, "started")
            finish(index, _run(job, profile, timeout))
        return done

    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    waiting = list(enumerate(jobs))[::-1]
    running = {}
    # spawn: fresh workers that share no zmq sockets or threads with this process
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        while waiting or running:
            while waiting and len(running) < workers:  # submit only when a worker is free
                index, job = waiting.pop()
                _line(index + 1, total, job, width, "started")
                running[pool.submit(_run, job, profile, timeout)] = index
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                index = running.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # the worker process itself died
                    job = jobs[index]
                    result = Result(
                        job.label,
                        job.backend,
                        profile,
                        "failed",
                        0.0,
                        reason=f"{type(exc).__name__}: {exc}",
                        output=str(job.output),
                    )
                finish(index, result)
    return done


def _metrics(metrics):
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items())


def _rows(outcomes):
    """Return the header and rows of the notebooks x backends table."""
    backends = list(dict.fromkeys(r.backend for r in outcomes))
    notebooks = list(dict.fromkeys(r.notebook for r in outcomes))
    cells = {(r.notebook, r.backend): r for r in outcomes}
    rows = []
    for notebook in notebooks:
        row = [notebook]
        for name in backends:
            r = cells.get((notebook, name))
            row.append("" if r is None else " ".join(filter(None, [r.summary(), _metrics(r.metrics)])))
        rows.append(row)
    return ["notebook", *backends], rows


def table(outcomes):
    """Return the results as an aligned plain-text table."""
    return "\n".join(text_table(*_rows(outcomes)))


def markdown(outcomes):
    """Return the results as a Markdown table."""
    header, rows = _rows(outcomes)
    esc = [[c.replace("|", "\\|") for c in row] for row in [header, *rows]]
    lines = ["| " + " | ".join(row) + " |" for row in esc]
    lines.insert(1, "|" + "---|" * len(header))
    return "\n".join(lines) + "\n"


def write_evidence(jobs, outcomes):
    """Write the evidence file of each full run of a kit chapter or solution; print where."""
    import nbformat

    devices, written = {}, []
    for job, result in zip(jobs, outcomes):
        name = evidence.relative(job.source)
        if name is None:
            continue
        if job.backend not in devices:
            devices[job.backend] = evidence.device_of(job.backend)
        device, description = devices[job.backend]
        try:
            executed = nbformat.read(job.output, as_version=4) if job.output.exists() else None
        except Exception:  # a half-written notebook: its checks count as not printed
            executed = None
        source = nbformat.read(job.source, as_version=4)
        record = evidence.build(source, executed, result, device, description, runtime.versions(), name)
        path = evidence.path_for(job.source, job.backend, device)
        evidence.write(record, path)
        written.append(path)
    if written:
        print(f"\nevidence: {len(written)} files under {', '.join(sorted({str(p.parent.parent) for p in written}))}")
        print("  `kerasdl evidence --write` regenerates EVIDENCE.md and the README's run-time table")


def _command(args):
    backends = BACKENDS if args.backend == "all" else (normalize(args.backend),)
    timeout = _check_profile_timeout(args.profile, args.timeout)
    if args.jobs < 1:
        raise KerasdlError(f"-j must be at least 1, got {args.jobs}")
    notebooks = find_notebooks(args.paths or ["chapters"])
    for name in backends:
        kernels.require(name)
    out = Path(args.out)
    jobs = plan(notebooks, backends, out)
    check_outputs(out, [job.output for job in jobs], notebooks, args.force)
    for report in ("report.json", "report.md"):
        check_target(out / report, args.force, is_report, what="--out folder")
    outcomes = run_all(jobs, args.profile, timeout, args.jobs)

    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(json.dumps([dataclasses.asdict(r) for r in outcomes], indent=1) + "\n")
        (out / "report.md").write_text(markdown(outcomes))
    except OSError as error:
        raise KerasdlError(f"cannot write the report in {out}: {error.strerror or error}") from None
    if args.profile == "full" and not args.no_evidence:
        write_evidence(jobs, outcomes)
    failed = sum(r.status != "passed" for r in outcomes)
    print()
    print(table(outcomes))
    print(
        f"\n{len(outcomes) - failed} passed, {failed} failed (profile {args.profile}); report: {out / 'report.md'}",
        flush=True,
    )
    return 1 if failed else 0


def add_parser(commands):
    """Add the `run` command to the kerasdl command line."""
    p = commands.add_parser(
        "run", help="execute notebooks with papermill on one or more backends", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="notebooks or folders of notebooks (default: chapters)")
    p.add_argument("--backend", default=DEFAULT, help=f"{', '.join(BACKENDS)} or all (default {DEFAULT})")
    p.add_argument(
        "--profile", default="full", choices=runtime.PROFILES, help="KERASDL_PROFILE for the kernels (default full)"
    )
    p.add_argument("--out", default="runs", help="folder for executed notebooks and the report (default runs)")
    p.add_argument(
        "-j", "--jobs", type=int, default=1, help="notebooks to run at once, each in its own process (default 1)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds a single cell may run, rounded up to a whole number (default {DEFAULT_TIMEOUT})",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite files in --out that kerasdl did not write (never a source notebook)",
    )
    p.add_argument(
        "--no-evidence",
        action="store_true",
        help="with --profile full, do not write the evidence files of the kit's chapters and solutions",
    )
    p.set_defaults(func=_command)
    return p

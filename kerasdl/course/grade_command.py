"""The `kerasdl grade` command line: its options, the files it writes, and the instructor's loop around the grader.

One command grades a class (grader) and writes what the instructor asked for:
the gradebook as CSV (gradebook) and as a Canvas import file, every item as JSON,
the review files of the written answers with the instructor's scores merged back
(review), a feedback page per learner and exercise (feedback) and a similarity
report (similarity). Every file it would overwrite is checked before any notebook
runs, and so are the instructor's review files: a mistake in them is one line, not
an hour of grading lost.
"""

from pathlib import Path

from kerasdl import runtime
from kerasdl.backend import BACKENDS, DEFAULT
from kerasdl.course import answer_key, feedback, gradebook, grader, review, runner, sandbox, similarity
from kerasdl.errors import KerasdlError


def _write(path, text):
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise KerasdlError(f"cannot write {path}: {error.strerror or error}") from None


def _threshold(text):
    try:
        value = float(str(text).rstrip("%")) / (100 if str(text).endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise KerasdlError(f"--threshold must be a share from 0 to 1 (or a percentage like 60%), got {text!r}")
    return value


def _command(args):
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    try:
        memory = sandbox.parse_memory(args.memory) if args.memory else None
    except ValueError as error:
        raise KerasdlError(str(error)) from None
    threshold = _threshold(args.threshold)
    details = args.json or (str(Path(args.csv).with_suffix(".json")) if args.csv else None)
    if args.csv:
        runner.check_target(args.csv, args.force, gradebook.is_gradebook, what="--csv file")
    if details:
        runner.check_target(details, args.force, gradebook.is_grades, what="--json file")
    if args.canvas:
        runner.check_target(args.canvas, args.force, gradebook.is_canvas, what="--canvas file")
    if args.similarity:
        runner.check_target(args.similarity, args.force, similarity.is_report, what="--similarity file")
        similarity.require()
    if args.feedback:
        feedback.check_folder(args.feedback, args.force)
    reviews = {}
    if args.review:
        review.check_folder(args.review)
        reviews = review.load(args.review, answer_key.load(args.solutions)[0])  # before an hour of grading
    if args.no_sandbox:
        print("kerasdl grade: --no-sandbox: each notebook runs with your user's rights, files and network", flush=True)
    elif not args.scheduler and sandbox.bwrap():  # Dask workers find their own limits
        print(f"kerasdl grade: {sandbox.describe(memory or sandbox.DEFAULT_MEMORY, args.notebook_timeout)}", flush=True)
    grades = grader.grade_all(
        args.paths,
        backends,
        args.profile,
        args.timeout,
        args.solutions,
        args.out,
        args.jobs,
        args.scheduler,
        args.no_sandbox,
        memory,
        args.force,
        notebook_timeout=args.notebook_timeout,
    )
    exercises = answer_key.load(args.solutions)[0]
    merged = review.merge(grades, args.review, exercises, reviews) if args.review else []
    print()
    print(gradebook.table(grades))
    if merged:
        print()
        for line in merged:
            print(gradebook.shown(line))
    written = []
    if args.csv:
        _write(args.csv, gradebook.gradebook(grades, exercises, reviewed=bool(args.review)))
        written.append(f"gradebook {args.csv}")
    if details:
        _write(details, gradebook.grades_json(grades))
        written.append(f"items {details}")
    if args.canvas:
        _write(args.canvas, gradebook.canvas(grades, exercises, reviewed=bool(args.review)))
        written.append(f"Canvas import {args.canvas}")
    if args.feedback:
        pages = feedback.write(grades, args.feedback)
        written.append(f"{len(pages)} feedback pages in {args.feedback}")
    if args.similarity:
        text, pairs = similarity.report(args.paths, args.solutions, threshold)
        _write(args.similarity, text)
        written.append(f"similarity {args.similarity} ({len(pairs)} pairs listed, for you to read)")
    full = sum(g.full_marks for g in grades)
    tampered = sum(bool(g.tampered) for g in grades)
    print(
        f"\n{full} of {len(grades)} notebooks got full marks"
        + (f"; {tampered} tampered" if tampered else "")
        + "".join(f"; {w}" for w in written),
        flush=True,
    )
    return 0 if full == len(grades) else 1


def add_parser(commands):
    """Add the `grade` command to the kerasdl command line."""
    p = commands.add_parser(
        "grade",
        help="run exercise notebooks in a sandbox and score them with the instructor's checks",
        description=grader.__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="notebooks, or folders of them: submissions/<learner>/<exercise>.ipynb"
    )
    p.add_argument("--backend", default=DEFAULT, help=f"{', '.join(BACKENDS)} or all (default {DEFAULT})")
    p.add_argument("--profile", default="quick", choices=runtime.PROFILES, help="KERASDL_PROFILE (default quick)")
    p.add_argument(
        "--timeout",
        type=float,
        default=grader.DEFAULT_TIMEOUT,
        help=f"seconds a single cell may run, rounded up to a whole number (default {grader.DEFAULT_TIMEOUT})",
    )
    p.add_argument(
        "--notebook-timeout",
        type=float,
        default=sandbox.DEFAULT_WALL,
        metavar="SECONDS",
        help="seconds a whole notebook may run, its kernel's start included; then everything in its sandbox is "
        f"killed, stopped processes too (default {sandbox.DEFAULT_WALL})",
    )
    p.add_argument(
        "--solutions",
        default="solutions",
        help="folder of the instructor's solution notebooks: the answer key (default solutions)",
    )
    p.add_argument("-j", "--jobs", type=int, default=1, help="notebooks to run at once on this machine (default 1)")
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the notebooks on a Dask cluster instead, e.g. tcp://host:8786 "
        "(workers started with `dask worker ADDRESS` where the kit is installed)",
    )
    p.add_argument(
        "--memory",
        metavar="SIZE",
        help="memory limit of each notebook's processes together, e.g. 4G "
        f"(default {sandbox.DEFAULT_MEMORY // 2**30}G)",
    )
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run without bubblewrap, with your own rights (only for notebooks you trust)",
    )
    p.add_argument("--out", help="keep the executed notebooks in this folder (default: none kept)")
    p.add_argument(
        "--csv",
        metavar="FILE",
        help="write the gradebook (a row per learner) to FILE, and the items to FILE with .json",
    )
    p.add_argument("--json", metavar="FILE", help="write every notebook's items, as JSON, to FILE")
    p.add_argument("--canvas", metavar="FILE", help="write the gradebook as a Canvas gradebook import CSV to FILE")
    p.add_argument(
        "--review",
        metavar="FOLDER",
        help="the written answers of each exercise in FOLDER/<exercise>.csv, for you to score; "
        "your scores there are read back into the gradebook, and never overwritten",
    )
    p.add_argument(
        "--feedback", metavar="FOLDER", help="write a feedback page per learner and exercise: FOLDER/<learner>/*.html"
    )
    p.add_argument(
        "--similarity",
        metavar="FILE",
        help="write a report of the code cells that match across the class or the reference solution "
        "(copydetect; for a person to read, never a grade)",
    )
    p.add_argument(
        "--threshold",
        default=str(similarity.THRESHOLD),
        help=f"the share of a notebook's own code that must match for --similarity to list it "
        f"(default {similarity.THRESHOLD})",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="overwrite --csv, --json, --canvas, --similarity, --feedback and --out files that kerasdl did not write",
    )
    p.set_defaults(func=_command)
    return p

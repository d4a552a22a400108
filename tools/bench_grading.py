"""Benchmark `kerasdl grade`: a generated class, graded with -j 1 and -j 2, in notebooks per minute.

    .venv/bin/python tools/bench_grading.py                     # 20 learners x 5 exercises, jax, quick
    .venv/bin/python tools/bench_grading.py --learners 4 --backend torch --jobs 2

The class is generated from solutions/ and exercises/ by kerasdl.course.sample_class:
learner i hands in, for exercise j, the kind KINDS[(i + j) % 5] — solved (the solution), unsolved (the
exercise), partial (the first half of the solution's regions filled in), printed
(each check cell replaced by prints of its stored verdicts) or monkeypatch (the
checks replaced in an early cell) — so every kind meets every exercise. Prints
the wall and CPU time of each run, notebooks per minute, and the time a class
of 300 learners x 5 exercises x 3 backends would take at that rate. A
benchmark, not a test: nothing is asserted.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kerasdl.course.sample_class import make_class, mixed_plan

ROOT = Path(__file__).resolve().parents[1]


def _grade(folder, backend, profile, jobs, out):
    """Run `kerasdl grade` on `folder`; return (wall seconds, CPU seconds of the sandboxes, grades)."""
    start = time.perf_counter()
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "kerasdl"),
            "grade",
            str(folder),
            "--backend",
            backend,
            "--profile",
            profile,
            "-j",
            str(jobs),
            "--solutions",
            str(ROOT / "solutions"),
            "--csv",
            str(out / f"grades-j{jobs}.csv"),
            "--force",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"kerasdl grade failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    grades = json.loads((out / f"grades-j{jobs}.json").read_text())
    return wall, sum(g["cpu_seconds"] for g in grades), grades


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--backend", default="jax", help="jax, torch, tensorflow or all")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="the -j values to time (default 1 2)")
    parser.add_argument(
        "--exercises",
        nargs="+",
        metavar="NAME",
        help="exercise file names (default: every solution that has an exercise)",
    )
    parser.add_argument("--keep", help="write the class and the gradebooks here (default: a temporary folder)")
    args = parser.parse_args(argv)

    folder = Path(args.keep or tempfile.mkdtemp(prefix="kerasdl-bench-"))
    names = args.exercises or sorted(
        p.name for p in (ROOT / "solutions").glob("*.ipynb") if (ROOT / "exercises" / p.name).is_file()
    )
    written = make_class(folder / "class", mixed_plan(args.learners, names))
    backends = 3 if args.backend == "all" else 1
    count = len(written) * backends
    print(
        f"{len(written)} notebooks ({args.learners} learners x {len(names)} exercises) on {args.backend}, "
        f"profile {args.profile}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start"
    )
    for jobs in args.jobs:
        wall, cpu, grades = _grade(folder / "class", args.backend, args.profile, jobs, folder)
        rate = count / (wall / 60)
        per_kind = {}
        for g in grades:
            kind = written.get((ROOT / g["notebook"]).resolve(), written.get(Path(g["notebook"]).resolve(), "?"))
            per_kind.setdefault(kind, []).append((g["seconds"], g["cpu_seconds"]))
        kinds = ", ".join(
            f"{k} {sum(s for s, _ in v) / len(v):.0f} s ({sum(c for _, c in v) / len(v):.0f} s CPU)"
            for k, v in sorted(per_kind.items())
        )
        print(
            f"-j {jobs}: {count} notebooks in {wall:.0f} s, {cpu:.0f} s of CPU in the sandboxes: "
            f"{rate:.2f} notebooks per minute; load average {os.getloadavg()[0]:.1f} at the end"
        )
        print(f"      grading time per notebook: {wall / count:.1f} s of wall clock, {cpu / count:.1f} s of CPU")
        print(f"      mean per notebook: {kinds}")
        print(
            f"      300 learners x 5 exercises x 3 backends (4500 notebooks) at this rate: "
            f"{4500 / rate / 60:.1f} hours; CPU-bound on 2 idle cores: {4500 * cpu / count / 2 / 3600:.1f} hours"
        )
    if not args.keep:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())

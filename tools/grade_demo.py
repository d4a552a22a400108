"""A demo of the instructor's loop: a class of 30 learners x 3 exercises graded in one `kerasdl grade`.

    .venv/bin/python tools/grade_demo.py demo/            # then look in demo/
    .venv/bin/python tools/grade_demo.py demo/ --jobs 1 --backend torch

The class (kerasdl.course.sample_class.demo_class) brings a malformed notebook, a
symbolic link, a nested folder, a learner folder named like a spreadsheet formula
and two near-copies. The command writes the gradebook, the Canvas import file, a
review file per exercise with written answers, a feedback page per learner and
exercise, and the similarity report. Score a row of demo/review/rnn_concepts.csv
and run the printed command again: your score joins the gradebook and stays.
"""

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from kerasdl.course.sample_class import demo_class

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="an empty or new folder for the class and what grading writes")
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    folder = Path(args.folder)
    if (folder / "submissions").exists():
        print(f"{folder / 'submissions'} exists: grading it again (delete it for a fresh class)")
    else:
        demo_class(folder / "submissions", learners=args.learners)
    command = [
        str(Path(sys.executable).parent / "kerasdl"),
        "grade",
        str(folder / "submissions"),
        "--backend",
        args.backend,
        "-j",
        str(args.jobs),
        "--solutions",
        str(ROOT / "solutions"),
        "--csv",
        str(folder / "grades.csv"),
        "--canvas",
        str(folder / "canvas.csv"),
        "--review",
        str(folder / "review"),
        "--feedback",
        str(folder / "feedback"),
        "--similarity",
        str(folder / "similarity.txt"),
    ]
    print("$ " + shlex.join(command), flush=True)
    code = subprocess.run(command).returncode
    print(f"\nin {folder}: grades.csv, canvas.csv, review/, feedback/, similarity.txt")
    return 0 if code in (0, 1) else code


if __name__ == "__main__":
    sys.exit(main())

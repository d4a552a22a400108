"""What the grading tests share (tests/course): the arithmetic kit, the command line, the sandbox's watchers.

The arithmetic kit is a three-part exercise whose notebooks import only kerasdl.checks (no
framework), so grading one costs a kernel start in a sandbox. Test files import from here,
never from each other.
"""

import contextlib
import copy
import csv
import io
import os
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kerasdl import checks
from kerasdl.course import answer_key, cli, exercises, review, sandbox

# KERASDL_SANDBOX_REQUIRED=1 (tools/test_matrix.sh, where /usr/bin/bwrap exists): a missing bwrap fails the tests.
REQUIRED = os.environ.get("KERASDL_SANDBOX_REQUIRED") == "1"
needs_bwrap = pytest.mark.skipif(
    sandbox.bwrap() is None and not REQUIRED,
    reason="bubblewrap (bwrap) is not installed (with KERASDL_SANDBOX_REQUIRED=1 that fails)",
)

once = pytest.mark.once

ADD_CHECK = (
    "# NBVAL_CHECK_OUTPUT\n"
    '_ = checks.check("add returns the sum", lambda: add(2, 3) == 5, hint="return a plus b")\n'
    '_ = checks.check("add works on negatives", lambda: add(-2, -3) == -5, hint="no abs()")'
)
MUL_CHECK = '# NBVAL_CHECK_OUTPUT\n_ = checks.verdict("mul multiplies", mul(2, 3) == 6, hint="use *")'
WHY_CHECK = '# NBVAL_CHECK_OUTPUT\nchecks.record_answer("why multiply", why, "multiplying is repeated adding")'
RECORDED_LINE = f"{checks.RECORDED} why multiply{checks.DASH}{checks.RECORDED_NOTE}\n"


def stream(text):
    return new_output("stream", name="stdout", text=text)


def solution():
    """Three parts, each followed by its check cell: two scored, one a written answer."""
    data, metadata = checks.answer_bundle(
        "why multiply", "it adds a number to itself", "multiplying is repeated adding"
    )
    return new_notebook(
        cells=[
            new_markdown_cell("# Arithmetic"),
            new_code_cell("from kerasdl import checks"),
            new_code_cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION"),
            new_code_cell(ADD_CHECK, outputs=[stream("✔ add returns the sum\n✔ add works on negatives\n")]),
            new_code_cell("def mul(a, b):\n    ### BEGIN SOLUTION\n    return a * b\n    ### END SOLUTION"),
            new_code_cell(MUL_CHECK, outputs=[stream("✔ mul multiplies\n")]),
            new_markdown_cell("Why does `mul` work?"),
            new_code_cell('### BEGIN SOLUTION\nwhy = "it adds a number to itself"\n### END SOLUTION'),
            new_code_cell(
                WHY_CHECK, outputs=[stream(RECORDED_LINE), new_output("display_data", data=data, metadata=metadata)]
            ),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "kerasdl": {"exercise": "arith"},
        },
    )


def variant(notebook, **sources):
    """Return a copy of `notebook` with the add, mul and/or why cell replaced, as a learner would."""
    notebook = copy.deepcopy(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    for name, source in sources.items():
        code[{"add": 1, "mul": 3, "why": 5}[name]].source = source
    return notebook


def exercise_of(notebook):
    return answer_key.Exercise("arith", Path("arith.ipynb"), answer_key._exercise("arith.ipynb", notebook))


def run_cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(map(str, args)))
    return code, out.getvalue(), err.getvalue()


def make_kit(root):
    (root / "solutions").mkdir()
    nbformat.write(solution(), root / "solutions" / "arith.ipynb")
    exercises.build(root / "solutions", root / "exercises", echo=lambda line: None)
    return nbformat.read(root / "exercises" / "arith.ipynb", as_version=4)


def review_rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


def score(path, learner, value, comment=""):
    """Fill in a score as an instructor would in a spreadsheet: edit the cells, save the file."""
    rows = review_rows(path)
    for row in rows:
        if row["learner"] == learner:
            row["score"], row["comment"] = value, comment
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, review.FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


class Watcher:
    """Record the host PIDs (and host uids) of processes whose command line holds `marker`, while a run goes on."""

    def __init__(self, marker):
        self.marker, self.pids, self.uids, self.done = marker, set(), set(), threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self.done.is_set():
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if self.marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                            self.pids.add(int(entry.name))
                            status = (entry / "status").read_text().splitlines()
                            uids = next(line.split()[1:] for line in status if line.startswith("Uid:"))
                            self.uids.update(map(int, uids))
                    except (OSError, ValueError):
                        pass
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def alive(pid):
    """Return True if process `pid` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())

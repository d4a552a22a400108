"""`kerasdl grade` before any sandbox: one bad file in a class is its own row, never the end of the class.

What a hostile class can hand in that the grader reads on the host: a notebook whose
JSON is valid but not a notebook the grader can use, symbolic links (to a device that
blocks, to a host file, to the kit's own solution), pipes, nested folders, names
that a spreadsheet runs or that forge a console line, and cells made to cost the
grader minutes. None of these needs a kernel, so the sandbox's run is replaced by a
stub and every test takes a second or two.
"""

import contextlib
import copy
import csv
import io
import json
import os
import signal
import time

import nbformat
import pytest
from grading import exercise_of, make_kit, run_cli, solution
from nbformat.v4 import new_code_cell

from kerasdl.course import gradebook, grader, sandbox

SECRET = "TOP-SECRET-host-file-contents"


@contextlib.contextmanager
def deadline(seconds):
    """Raise TimeoutError in the block after `seconds` (a grader that hangs fails the test instead)."""

    def expired(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def stub(monkeypatch):
    """Replace the sandbox's run: record each job, run nothing."""
    jobs = []

    def run(job):
        jobs.append(job)
        return {"records": [], "reason": "not run: this test grades without a sandbox"}

    monkeypatch.setattr(sandbox, "run", run)
    return jobs


def grade_class(kit, *extra):
    """Grade kit/submissions with --no-sandbox and the stub: (exit code, console, error, CSV rows, JSON grades)."""
    with deadline(60):
        code, out, err = run_cli(
            "grade",
            kit / "submissions",
            "--solutions",
            kit / "solutions",
            "--no-sandbox",
            "--csv",
            kit / "grades.csv",
            *extra,
        )
    book = list(csv.reader(io.StringIO((kit / "grades.csv").read_text()))) if (kit / "grades.csv").exists() else []
    grades = json.loads((kit / "grades.json").read_text()) if (kit / "grades.json").exists() else []
    return code, out, err, book, grades


def hand_in(kit, relative, notebook):
    path = kit / "submissions" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, bytes):
        path.write_bytes(notebook)
    else:
        nbformat.write(notebook, path)
    return path


@pytest.fixture
def kit(tmp_path):
    make_kit(tmp_path)
    hand_in(tmp_path, "honest/arith.ipynb", nbformat.read(tmp_path / "exercises" / "arith.ipynb", as_version=4))
    return tmp_path


def row(book, learner):
    return next(r for r in book[1:] if r[0] == learner)


def test_a_code_cell_whose_source_is_a_number_is_its_own_row(kit, stub):
    broken = json.loads(nbformat.writes(solution()))
    broken["cells"][1]["source"] = 42
    hand_in(kit, "mallory/arith.ipynb", json.dumps(broken).encode())
    code, out, err, book, grades = grade_class(kit)
    assert code == 1 and err == "", err
    assert "Traceback" not in out
    reason = "not a readable notebook: cell 2 (code): its source is int, not text"
    assert row(book, "mallory")[-1] == f"arith.ipynb ({reason})"
    assert row(book, "honest")[1:3] == ["0", "3"]  # the honest notebook beside it was graded
    assert [job["backend"] for job in stub] == ["jax"]


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda nb: nb.update(cells={"a": 1}), "its cells are not a list"),
        (lambda nb: nb["cells"].append(7), "cell 10 is not an object"),
        (lambda nb: nb["cells"][1].update(cell_type="python"), "cell 2 has no known cell_type"),
        (lambda nb: nb["cells"][1].update(metadata=[]), "cell 2 (code): its metadata or tags"),
        (lambda nb: nb["cells"][1].update(id=3), "cell 2 (code): its id is not text"),
        (lambda nb: nb.update(metadata="x"), "its metadata is not an object"),
        (lambda nb: nb.update(nbformat="4"), "not nbformat 4"),
    ],
)
def test_every_malformed_notebook_is_named_in_one_line(tmp_path, change, words):
    notebook = json.loads(nbformat.writes(solution()))
    change(notebook)
    (tmp_path / "x.ipynb").write_text(json.dumps(notebook))
    found, reason = grader._read(tmp_path / "x.ipynb")
    assert found is None and words in reason and "\n" not in reason, reason


def test_unreadable_oversized_and_not_json_files_are_their_own_rows(kit, stub, monkeypatch):
    monkeypatch.setattr(grader, "MAX_NOTEBOOK_BYTES", 2**20)
    big = solution()
    big.cells.append(new_code_cell("# " + "x" * 2**20))
    hand_in(kit, "big/arith.ipynb", big)
    hand_in(kit, "text/arith.ipynb", f"{SECRET} is not JSON".encode())
    hand_in(kit, "binary/arith.ipynb", b"\xff\xfe" + SECRET.encode())
    (kit / "submissions" / "folder" / "arith.ipynb").mkdir(parents=True)  # a folder named like a notebook
    other = solution()
    other.metadata["kerasdl"]["exercise"] = "geometry"
    hand_in(kit, "lost/arith.ipynb", other)
    code, out, err, book, grades = grade_class(kit)
    assert err == "" and SECRET not in out + json.dumps(grades) + str(book)
    assert row(book, "big")[-1] == "arith.ipynb (not graded: larger than 1 MB)"
    assert row(book, "text")[-1].startswith("arith.ipynb (not a readable notebook: not JSON (JSONDecodeError at ")
    assert row(book, "binary")[-1] == "arith.ipynb (not a readable notebook: not UTF-8 text)"
    assert row(book, "lost")[-1] == "arith.ipynb (not graded: exercise id 'geometry' is not one of the solutions')"
    assert row(book, "honest")[1:3] == ["0", "3"] and len(book) == 6  # "folder": a folder, so not a notebook


def test_a_symlink_to_a_device_that_blocks_is_reported_never_opened(kit, stub):
    (kit / "submissions" / "mallory").mkdir()
    (kit / "submissions" / "mallory" / "x.ipynb").symlink_to("/proc/kmsg")  # reading it blocks (and eats the log)
    os.mkfifo(kit / "submissions" / "mallory" / "y.ipynb")  # a pipe: opening it blocks
    start = time.perf_counter()
    code, out, err, book, grades = grade_class(kit)
    assert time.perf_counter() - start < 30 and err == ""
    assert row(book, "mallory")[-1] == (
        "x.ipynb (not graded: a symbolic link, not followed); "
        "y.ipynb (not graded: not a regular file (a folder, a device, a pipe or a socket), not opened)"
    )


def test_a_symlink_to_a_host_file_leaks_nothing(kit, stub, tmp_path_factory):
    host = tmp_path_factory.mktemp("host") / "secret.txt"
    host.write_text(SECRET)
    (kit / "submissions" / "mallory").mkdir()
    (kit / "submissions" / "mallory" / "x.ipynb").symlink_to(host)
    (kit / "submissions" / "eve").symlink_to(host.parent, target_is_directory=True)  # a learner's folder, linked
    code, out, err, book, grades = grade_class(kit)
    assert SECRET not in out + err + (kit / "grades.csv").read_text() + (kit / "grades.json").read_text()
    assert row(book, "mallory")[-1] == "x.ipynb (not graded: a symbolic link, not followed)"
    assert row(book, "eve")[-1] == "eve (not graded: a symbolic link, not followed)"


def test_a_symlink_to_the_kits_solution_is_not_graded_as_a_learner_called_solutions(kit, stub):
    (kit / "submissions" / "mallory").mkdir()
    (kit / "submissions" / "mallory" / "arith.ipynb").symlink_to(kit / "solutions" / "arith.ipynb")
    code, out, err, book, grades = grade_class(kit)
    assert {r[0] for r in book[1:]} == {"honest", "mallory"}
    assert row(book, "mallory")[1:] == ["", "3", "", "arith.ipynb (not graded: a symbolic link, not followed)"]
    assert len(stub) == 1  # only the honest notebook ran


def test_the_learner_is_the_first_folder_under_the_submissions_root(kit, stub):
    solved = solution()
    hand_in(kit, "bob/arith.ipynb", nbformat.read(kit / "exercises" / "arith.ipynb", as_version=4))
    hand_in(kit, "mallory/bob/arith.ipynb", solved)  # full marks for bob, were he its learner
    hand_in(kit, "mallory/alice/arith.ipynb", solved)
    code, out, err, book, grades = grade_class(kit)
    learners = {g["notebook"].split("submissions/")[-1]: g["learner"] for g in grades}
    assert learners == {
        "bob/arith.ipynb": "bob",
        "honest/arith.ipynb": "honest",
        "mallory/alice/arith.ipynb": "mallory",
        "mallory/bob/arith.ipynb": "mallory",
    }
    assert {r[0] for r in book[1:]} == {"bob", "honest", "mallory"}  # no row for alice


@pytest.mark.parametrize("name", ['=1+HYPERLINK("x","appeal")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_learner_named_like_a_formula_reaches_the_gradebook_as_text(kit, stub, name):
    hand_in(kit, f"{name}/arith.ipynb", solution())
    code, out, err, book, grades = grade_class(kit)
    cells = [cell for r in book for cell in r]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], cells
    assert gradebook.neutral(name) in [r[0] for r in book]
    assert gradebook.neutral(name) in ("'" + name, gradebook.shown(name))  # quoted, or escaped: \\t, \\r


def test_a_file_name_with_a_newline_forges_no_console_line(kit, stub):
    hand_in(kit, "bob/x\n[9/9] jax        submissions/bob/forged.ipynb  3/3  1.0 s.ipynb", solution())
    hand_in(kit, "bob/\x1b[2Kred\u2028.ipynb", b"{}")
    code, out, err, book, grades = grade_class(kit)
    assert not any(line.startswith("[9/9]") for line in out.splitlines()), out
    assert "\x1b" not in out + (kit / "grades.csv").read_text() and "\u2028" not in out
    assert "bob/x\\n[9/9] jax" in out and "\\x1b[2Kred\\u2028.ipynb" in out
    assert [r[0] for r in book[1:]].count("bob") == 1


def test_matching_edited_check_cells_is_bounded_work():
    notebook = solution()
    exercise = exercise_of(notebook)
    cells = [c for c in copy.deepcopy(notebook.cells) if "NBVAL_CHECK_OUTPUT" not in c.source]  # checks deleted
    cells.insert(3, new_code_cell("# NBVAL_CHECK_OUTPUT\n" + "\n".join(f"x{i} = foo({i})" for i in range(150_000))))
    cells += [new_code_cell(f"# NBVAL_CHECK_OUTPUT\nprint({i})") for i in range(2000)]
    start = time.process_time()
    matches, changed, added = grader.align(cells, exercise)
    assert time.process_time() - start < 2.0  # difflib took about 3 CPU-seconds per MB compared, each check
    assert len(matches) == 3 and len(added) == 2001 - 3

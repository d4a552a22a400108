"""`kerasdl exercises build`: stubs replace solutions, check cells keep their answer key, learners' edits survive."""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kerasdl.course import cli, exercises
from kerasdl.errors import KerasdlError

STUB = 'raise NotImplementedError("write your solution here")'
CHECK = (
    "# NBVAL_CHECK_OUTPUT\nfrom kerasdl import checks\n"
    '_ = checks.check("add returns the sum", lambda: add(2, 3) == 5, hint="return a plus b")'
)


def solution(add_body="return a + b"):
    """Return a small solution notebook: a function, a top-level region, a markdown answer, a check cell."""
    cells = [
        new_markdown_cell("# Adding numbers"),
        new_code_cell(
            f"def add(a, b):\n    total = None\n    ### BEGIN SOLUTION\n    {add_body}\n"
            "    ### END SOLUTION\n\nprint('defined add')",
            execution_count=1,
            outputs=[new_output("stream", name="stdout", text="defined add\n")],
        ),
        new_code_cell(
            "### BEGIN SOLUTION\nanswer = add(40, 2)\n### END SOLUTION\nanswer",
            execution_count=2,
            outputs=[new_output("execute_result", {"text/plain": "42"}, execution_count=2)],
        ),
        new_markdown_cell("Why is addition commutative?\n\n### BEGIN SOLUTION\nBecause it is.\n### END SOLUTION\n"),
        new_code_cell(
            CHECK,
            execution_count=3,
            outputs=[
                new_output("stream", name="stdout", text="✔ add returns the sum\n"),
                new_output("execute_result", {"text/plain": "True"}, execution_count=3),
            ],
        ),
    ]
    cells[1].metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00"}
    return new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "course": {"chapter": 3},
        },
    )


@pytest.fixture
def kit(tmp_path, monkeypatch):
    """A kit folder with solutions/add.ipynb, run from inside it (the command's defaults are relative)."""
    (tmp_path / "solutions").mkdir()
    nbformat.write(solution(), tmp_path / "solutions" / "add.ipynb")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def build(*args):
    return cli.main(["exercises", "build", *args])


def test_regions_become_stubs_and_only_check_cells_keep_outputs(kit):
    assert build() == 0
    exercise = nbformat.read(kit / "exercises" / "add.ipynb", as_version=4)
    cells = exercise.cells
    assert cells[1].source == f"def add(a, b):\n    total = None\n    {STUB}\n\nprint('defined add')"
    assert cells[2].source == f"{STUB}\nanswer"
    assert cells[3].source == "Why is addition commutative?\n\n*Write your answer here.*\n"
    assert cells[4].source == CHECK
    assert [c.get("outputs") for c in cells[1:3]] == [[], []]
    assert [o.get("text") for o in cells[4].outputs] == ["✔ add returns the sum\n", None]
    # nbval rejects a cell with stored outputs but no execution count ("Unrun reference cell")
    assert [c.execution_count for c in cells if c.cell_type == "code"] == [None, None, 3]
    assert cells[4].outputs[1].execution_count == 3
    assert "execution" not in cells[1].metadata
    assert exercise.metadata["course"] == {"chapter": 3}
    assert exercise.metadata["kernelspec"]["name"] == "python3"
    text = (kit / "exercises" / "add.ipynb").read_text()
    assert "SOLUTION" not in text and "return a + b" not in text and "Because it is" not in text


def test_stubs_raise_not_implemented_when_run(kit):
    build()
    cells = nbformat.read(kit / "exercises" / "add.ipynb", as_version=4).cells
    namespace = {}
    exec(cells[1].source, namespace)  # defining add works...
    with pytest.raises(NotImplementedError, match="write your solution here"):
        namespace["add"](2, 3)  # ...calling it does not
    with pytest.raises(NotImplementedError, match="write your solution here"):
        exec(cells[2].source, namespace)
    solved = {}
    exec(solution().cells[1].source, solved)  # the solution itself is fine
    assert solved["add"](2, 3) == 5


def test_output_is_deterministic(kit, tmp_path_factory):
    build()
    first = (kit / "exercises" / "add.ipynb").read_bytes()
    record = (kit / "exercises" / ".generated.json").read_bytes()
    other = tmp_path_factory.mktemp("other")
    assert build("--exercises", str(other)) == 0
    assert (other / "add.ipynb").read_bytes() == first
    (kit / "exercises" / "add.ipynb").unlink()
    assert build() == 0
    assert (kit / "exercises" / "add.ipynb").read_bytes() == first
    assert (kit / "exercises" / ".generated.json").read_bytes() == record
    assert exercises.render(kit / "solutions" / "add.ipynb") == first
    assert json.loads(record) == {"add.ipynb": exercises.digest(first)}


def test_check_passes_when_current_and_fails_when_stale_or_missing(kit, capsys):
    assert build("--check") == 1  # nothing built yet
    assert "exercises/add.ipynb: missing" in capsys.readouterr().out
    assert not (kit / "exercises").exists()
    build()
    capsys.readouterr()
    assert build("--check") == 0
    assert "1 of 1 exercises up to date" in capsys.readouterr().out

    nbformat.write(solution("return b + a"), kit / "solutions" / "add.ipynb")
    before = {p.name: p.read_bytes() for p in (kit / "exercises").iterdir()}
    assert build("--check") == 1
    assert "exercises/add.ipynb: out of date" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (kit / "exercises").iterdir()} == before  # wrote nothing
    assert build() == 0  # unedited, so regenerated
    assert "exercises/add.ipynb: updated" in capsys.readouterr().out
    assert build("--check") == 0


def test_an_edited_exercise_is_kept_and_backed_up_with_force(kit, capsys):
    build()
    target = kit / "exercises" / "add.ipynb"
    edited = target.read_text().replace(STUB.replace('"', '\\"'), "return a + b  # mine")
    assert edited != target.read_text()
    target.write_text(edited)
    nbformat.write(solution("return b + a"), kit / "solutions" / "add.ipynb")
    capsys.readouterr()

    assert build() == 1
    out = capsys.readouterr().out
    assert "exercises/add.ipynb: kept" in out and "--force" in out
    assert target.read_text() == edited
    assert not list((kit / "exercises").glob("*.bak-*"))

    assert build("--force") == 0
    backups = list((kit / "exercises").glob("add.ipynb.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == edited
    assert target.read_bytes() == exercises.render(kit / "solutions" / "add.ipynb")
    assert build("--check") == 0


def test_a_file_not_written_by_the_generator_counts_as_edited(kit):
    (kit / "exercises").mkdir()
    (kit / "exercises" / "add.ipynb").write_text("{}")
    assert build() == 1
    assert (kit / "exercises" / "add.ipynb").read_text() == "{}"


@pytest.mark.parametrize(
    "source, message",
    [
        (
            "x = 1\n### BEGIN SOLUTION\nx = 2",
            "cell 2: `### BEGIN SOLUTION` on line 2 has no `### END SOLUTION` after it",
        ),
        ("x = 1\n### END SOLUTION", "cell 2: `### END SOLUTION` on line 2 has no `### BEGIN SOLUTION` before it"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION\n### END SOLUTION",
            "cell 2: `### BEGIN SOLUTION` on line 2 is nested inside the region opened on line 1",
        ),
    ],
)
def test_bad_markers_are_a_one_line_error_naming_notebook_and_cell(kit, capsys, source, message):
    notebook = solution()
    notebook.cells.insert(1, new_code_cell(source))
    nbformat.write(notebook, kit / "solutions" / "bad.ipynb")
    with pytest.raises(KerasdlError) as caught:
        exercises.build()
    assert str(caught.value).startswith(f"solutions/bad.ipynb, {message}")
    assert "\n" not in str(caught.value)
    assert build() == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasdl: error: solutions/bad.ipynb, cell 2") and err.count("\n") == 1
    assert not (kit / "exercises").exists()  # the good notebook was not written either


def test_unbalanced_markers_in_markdown_are_errors_too(kit):
    notebook = solution()
    notebook.cells[3].source = "Why?\n\n### BEGIN SOLUTION\nBecause."
    nbformat.write(notebook, kit / "solutions" / "add.ipynb")
    with pytest.raises(KerasdlError, match="cell 4: `### BEGIN SOLUTION` on line 3 has no"):
        exercises.build()


def test_a_solution_without_markers_is_an_error(kit):
    plain = new_notebook(cells=[new_code_cell("x = 1")])
    nbformat.write(plain, kit / "solutions" / "plain.ipynb")
    with pytest.raises(KerasdlError, match=r"solutions/plain.ipynb has no `### BEGIN SOLUTION`"):
        exercises.build()


def test_missing_solutions_folder_and_check_with_force_are_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert build() == 2
    assert "no solutions folder solutions" in capsys.readouterr().err
    assert build("--check", "--force") == 2
    (tmp_path / "solutions").mkdir()
    assert build("--check") == 0  # an empty course is up to date
    assert "nothing to build" in capsys.readouterr().out
    assert not (tmp_path / "exercises").exists()


def test_markers_are_matched_in_any_letter_case(kit):
    notebook = solution()
    notebook.cells[2].source = "### begin solution\nanswer = add(40, 2)\n### End Solution\nanswer"
    nbformat.write(notebook, kit / "solutions" / "add.ipynb")
    assert build() == 0
    cells = nbformat.read(kit / "exercises" / "add.ipynb", as_version=4).cells
    assert cells[2].source == f"{STUB}\nanswer"
    assert "add(40, 2)" not in (kit / "exercises" / "add.ipynb").read_text()


@pytest.mark.parametrize(
    "line",
    [
        "### BEGIN SOLUTON",
        "# BEGIN_SOLUTION",
        "### begin solutons",
        "## END-SOLUTION",
        "### BEGINSOLUTION",
        "### BEGIN SOLUTIONS",
    ],
)
def test_a_misspelt_marker_is_a_one_line_error_and_nothing_is_written(kit, capsys, line):
    notebook = solution()
    notebook.cells[2].source = f"{line}\nanswer = add(40, 2)\n### END SOLUTION\nanswer"
    nbformat.write(notebook, kit / "solutions" / "add.ipynb")
    assert build() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "solutions/add.ipynb, cell 3: line 1" in err
    assert "looks like a solution marker" in err or "has no `### BEGIN SOLUTION`" in err
    assert not (kit / "exercises").exists()


def test_headings_about_solutions_are_not_markers(kit):
    notebook = solution()
    notebook.cells.insert(1, new_markdown_cell("## Solutions\n\n# the solution begins here\n### End of the solution"))
    nbformat.write(notebook, kit / "solutions" / "add.ipynb")
    assert build() == 0


def test_a_marker_in_a_raw_cell_is_stripped_too(kit):
    notebook = solution()
    notebook.cells.insert(4, nbformat.v4.new_raw_cell("Notes\n### BEGIN SOLUTION\nthe secret answer\n### END SOLUTION"))
    nbformat.write(notebook, kit / "solutions" / "add.ipynb")
    assert build() == 0
    exercise = nbformat.read(kit / "exercises" / "add.ipynb", as_version=4)
    assert exercise.cells[4].source == f"Notes\n{exercises.RAW_STUB}"
    assert "secret" not in (kit / "exercises" / "add.ipynb").read_text()


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap makes a read-only view, even for root")
def test_a_read_only_exercises_folder_is_a_one_line_error(kit):
    (kit / "exercises").mkdir()
    # a read-only view of the whole filesystem: refused even when the tests run as root
    done = subprocess.run(
        [
            "bwrap",
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--chdir",
            str(kit),
            "--",
            sys.executable,
            "-m",
            "kerasdl.course.cli",
            "exercises",
            "build",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "kerasdl: error: cannot write exercises/add.ipynb: Read-only file system"
    ]
    assert list((kit / "exercises").iterdir()) == []


def test_a_recorded_answer_keeps_its_item_but_not_the_solution_or_model_answer(tmp_path):
    from kerasdl import checks

    data, metadata = checks.answer_bundle("why RNNs forget", "the solution's own words", "the model answer")
    notebook = solution()
    check = new_code_cell(
        "# NBVAL_CHECK_OUTPUT\nchecks.record_answer('why RNNs forget', answer, MODEL)",
        execution_count=4,
        outputs=[
            new_output("stream", name="stdout", text="✎ why RNNs forget — recorded for your instructor\n"),
            new_output("display_data", data, metadata=metadata),
        ],
    )
    notebook.cells.append(check)
    text = json.dumps(exercises.generate(notebook, "answers"))
    assert "the solution's own words" not in text and "the model answer" not in text
    generated = exercises.generate(notebook, "answers").cells[-1]
    assert checks.answers(generated.outputs) == [{"item": "why RNNs forget", "answer": None, "model_answer": None}]
    assert generated.outputs[0]["text"].startswith("✎ why RNNs forget")  # the answer key line stays

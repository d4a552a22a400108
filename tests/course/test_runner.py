"""`kerasdl run` and kerasdl.course.runner.execute, on the backend named by KERAS_BACKEND."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kerasdl.course import cli, kernels, runner
from kerasdl.errors import KerasdlError

BACKEND = os.environ.get("KERAS_BACKEND", "jax")

RECORD = (
    "import os, kerasdl\n"
    "kerasdl.record(score=0.75, profile=os.environ['KERASDL_PROFILE'], "
    "folder=os.path.basename(os.getcwd()))"
)
NOTEBOOKS = {  # name: code cells (each notebook also opens with a markdown cell)
    "passing.ipynb": [RECORD],
    "zero.ipynb": ["import kerasdl\nkerasdl.record(partial=1)", "y = 1 / 0\nprint(y)", "z = 3"],
    "sleepy.ipynb": ["import time", "time.sleep(30)", "z = 3"],
    "dead.ipynb": ["import os", "os._exit(1)", "z = 3"],
    # papermill runs on past a cell tagged raises-exception, then fails the run for it
    "tagged.ipynb": ["x = 1", new_code_cell("1 / 0", metadata={"tags": ["raises-exception"]}), "z = 3"],
}


def write(folder, name, cells):
    """Write a notebook with a title and `cells` as code cells; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    code = [new_code_cell(c) if isinstance(c, str) else c for c in cells]
    notebook = new_notebook(cells=[new_markdown_cell("# fixture"), *code])
    nbformat.write(notebook, folder / name)
    return folder / name


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def report(out):
    return {Path(r["notebook"]).name: r for r in json.loads((out / "report.json").read_text())}


@pytest.mark.notebook
def test_passing_notebook_runs_its_backend_and_reports_metrics(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERASDL_PROFILE", "full")  # --profile must win over the caller's environment
    cells = [RECORD.replace("kerasdl.record(", "import keras\nkerasdl.record(backend=keras.config.backend(), ")]
    source = write(tmp_path / "src", "good.ipynb", cells)
    out = tmp_path / "out"
    code = cli.main(["run", str(source), "--backend", BACKEND, "--profile", "quick", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"[1/1] {BACKEND}" in printed and "passed" in printed
    record = report(out)["good.ipynb"]
    assert record["status"] == "passed" and record["backend"] == BACKEND and record["profile"] == "quick"
    # the kernel ran this backend, inherited the profile, and ran in the notebook's folder
    assert record["metrics"] == {"backend": BACKEND, "score": 0.75, "profile": "quick", "folder": "src"}
    assert Path(record["output"]) == out / BACKEND / "good.ipynb"
    assert (out / BACKEND / "good.ipynb").exists()
    table = (out / "report.md").read_text()
    assert f"| notebook | {BACKEND} |" in table and "score=0.75" in table and f"backend={BACKEND}" in table


@pytest.mark.notebook
def test_failures_are_isolated_classified_and_located(tmp_path, capsys):
    src = tmp_path / "src"
    for name, cells in NOTEBOOKS.items():
        write(src, name, cells)
    before = snapshot(src)
    out = tmp_path / "out"
    code = cli.main(
        ["run", str(src), "--backend", BACKEND, "--profile", "quick", "--out", str(out), "--timeout", "3", "-j", "2"]
    )
    printed = capsys.readouterr().out
    assert code == 1, printed
    records = report(out)
    assert records["passing.ipynb"]["status"] == "passed"
    assert records["passing.ipynb"]["metrics"]["score"] == 0.75
    expected = {
        "zero.ipynb": ("y = 1 / 0", "ZeroDivisionError: division by zero"),
        "sleepy.ipynb": ("time.sleep(30)", "CellTimeoutError"),
        "dead.ipynb": ("os._exit(1)", "DeadKernelError"),
        "tagged.ipynb": ("1 / 0", "ZeroDivisionError: division by zero"),
    }
    for name, (line, reason) in expected.items():
        record = records[name]
        assert record["status"] == "failed", record
        assert (record["cell"], record["code"]) == (2, line), record
        assert record["reason"].startswith(reason), record
        assert re.search(rf"{name} +FAILED .* code cell 2 `{re.escape(line)}`: {reason}", printed), printed
        assert (out / BACKEND / name).exists()  # papermill still wrote the executed notebook
    assert records["zero.ipynb"]["metrics"] == {"partial": 1}  # recorded before the failing cell
    assert "FAILED (code cell 2 `y = 1 / 0`: ZeroDivisionError: division by zero)" in (out / "report.md").read_text()
    assert snapshot(src) == before


@pytest.mark.notebook
def test_execute_returns_a_result_and_raises_only_for_bad_arguments(tmp_path, monkeypatch):
    source = write(tmp_path, "zero.ipynb", NOTEBOOKS["zero.ipynb"])
    monkeypatch.delenv("KERASDL_PROFILE", raising=False)
    result = runner.execute(source, tmp_path / "out" / "zero.ipynb", BACKEND, timeout=60)
    assert (result.status, result.cell, result.reason) == ("failed", 2, "ZeroDivisionError: division by zero")
    assert result.backend == BACKEND and result.profile == "quick" and result.metrics == {"partial": 1}
    assert Path(result.output).exists()
    assert "KERASDL_PROFILE" not in os.environ  # set for the kernel only, then removed again
    with pytest.raises(KerasdlError, match="overwrite"):
        runner.execute(source, source, BACKEND)
    with pytest.raises(KerasdlError, match="not a notebook"):
        runner.execute(tmp_path / "missing.ipynb", tmp_path / "x.ipynb", BACKEND)


@pytest.mark.notebook
def test_out_equal_to_the_source_folder_overwrites_nothing(tmp_path, capsys):
    src = tmp_path / "src"
    write(src, "passing.ipynb", NOTEBOOKS["passing.ipynb"])
    before = snapshot(src)
    assert cli.main(["run", str(src), "--backend", BACKEND, "--profile", "quick", "--out", str(src)]) == 0
    after = snapshot(src)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {Path(BACKEND, "passing.ipynb"), Path("report.json"), Path("report.md")}
    # running the executed copy into the same place would overwrite it: refused before anything runs
    executed = src / BACKEND / "passing.ipynb"
    capsys.readouterr()
    assert cli.main(["run", str(executed), "--backend", BACKEND, "--out", str(src)]) == 2
    err = capsys.readouterr().err
    assert "would overwrite the source notebook" in err and len(err.strip().splitlines()) == 1
    assert snapshot(src) == after


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda tmp: tmp / "nowhere", "no such notebook or folder"),
        (lambda tmp: (tmp / "notes.txt").write_text("x") and tmp / "notes.txt", "is not a notebook"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "no notebooks"),
    ],
)
def test_bad_paths_fail_in_one_line_before_running(tmp_path, capsys, make, words):
    path = make(tmp_path)
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--backend", BACKEND, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kerasdl: error:") and words in err[0] and str(path) in err[0]
    assert not out.exists()


def test_missing_kernel_fails_with_the_fix(tmp_path, capsys, monkeypatch):
    source = write(tmp_path, "passing.ipynb", NOTEBOOKS["passing.ipynb"])
    monkeypatch.setattr(kernels, "installed", lambda: {})
    assert cli.main(["run", str(source), "--backend", BACKEND, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"kerasdl-{BACKEND}" in err[0] and "kerasdl kernels install" in err[0]
    assert not (tmp_path / "out").exists()


def test_backend_all_checks_all_three_kernels_first(tmp_path, capsys, monkeypatch):
    source = write(tmp_path, "passing.ipynb", NOTEBOOKS["passing.ipynb"])
    only = kernels.kernel_name(BACKEND)
    folder = kernels.installed()[only]
    monkeypatch.setattr(kernels, "installed", lambda: {only: folder})
    assert cli.main(["run", str(source), "--backend", "all", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    others = [kernels.kernel_name(name) for name in ("jax", "torch", "tensorflow") if name != BACKEND]
    assert "is not installed" in err and any(repr(kernel) in err for kernel in others)
    assert not (tmp_path / "out").exists()


def test_folders_expand_sorted_and_clashing_names_keep_their_folder(tmp_path):
    for folder in ("a", "b"):
        write(tmp_path / folder, "same.ipynb", ["1"])
    write(tmp_path / "a", "first.ipynb", ["1"])
    write(tmp_path / "a" / ".ipynb_checkpoints", "first-checkpoint.ipynb", ["1"])
    (tmp_path / "a" / "notes.md").write_text("x")
    (tmp_path / "b" / "folder.ipynb").mkdir()  # a folder, not a notebook
    found = runner.find_notebooks([tmp_path / "a", tmp_path / "b", tmp_path / "a" / "same.ipynb"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/first.ipynb", "a/same.ipynb", "b/same.ipynb"]
    jobs = runner.plan(found, ("jax", "torch"), tmp_path / "out")
    outputs = [job.output.relative_to(tmp_path / "out").as_posix() for job in jobs]
    assert outputs == [
        "jax/first.ipynb",
        "jax/a/same.ipynb",
        "jax/b/same.ipynb",
        "torch/first.ipynb",
        "torch/a/same.ipynb",
        "torch/b/same.ipynb",
    ]


def test_importing_batch_imports_no_framework():
    code = (
        "import sys, kerasdl.course.runner; "
        "print(sorted(m for m in ('keras', 'jax', 'torch', 'tensorflow', 'papermill') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.notebook
def test_a_fractional_timeout_is_rounded_up_and_the_notebook_runs(tmp_path, capsys):
    source = write(tmp_path / "src", "passing.ipynb", NOTEBOOKS["passing.ipynb"])
    out = tmp_path / "out"
    assert (
        cli.main(
            ["run", str(source), "--backend", BACKEND, "--profile", "quick", "--out", str(out), "--timeout", "30.5"]
        )
        == 0
    ), capsys.readouterr()
    assert report(out)["passing.ipynb"]["status"] == "passed"


def test_out_must_be_a_writable_folder_and_reports_of_others_are_kept(tmp_path, capsys):
    source = write(tmp_path / "src", "passing.ipynb", NOTEBOOKS["passing.ipynb"])
    (tmp_path / "file").write_text("mine")
    assert cli.main(["run", str(source), "--backend", BACKEND, "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"kerasdl: error: --out {tmp_path / 'file'} is a file: give a folder"
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.md").write_text("# my own notes\n")
    assert cli.main(["run", str(source), "--backend", BACKEND, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "report.md exists and kerasdl did not write it" in err and "--force" in err
    assert (out / "report.md").read_text() == "# my own notes\n" and sorted(out.iterdir()) == [out / "report.md"]
    (out / BACKEND).mkdir()
    (out / BACKEND / "passing.ipynb").write_text("{}")  # a notebook kerasdl did not execute
    (out / "report.md").unlink()
    assert cli.main(["run", str(source), "--backend", BACKEND, "--out", str(out)]) == 2
    assert "passing.ipynb exists and kerasdl did not write it" in capsys.readouterr().err
    assert runner.is_report(tmp_path / "file") is False and runner.is_executed_notebook(source) is False


@pytest.mark.notebook
def test_a_second_run_rewrites_its_own_reports_and_force_overwrites_others(tmp_path, capsys):
    source = write(tmp_path / "src", "passing.ipynb", NOTEBOOKS["passing.ipynb"])
    out = tmp_path / "out"
    for extra in ([], []):  # the second run finds its own reports and executed copy: no refusal
        assert (
            cli.main(["run", str(source), "--backend", BACKEND, "--profile", "quick", "--out", str(out), *extra]) == 0
        )
    assert runner.is_report(out / "report.md") and runner.is_report(out / "report.json")
    assert runner.is_executed_notebook(out / BACKEND / "passing.ipynb")
    (out / "report.json").write_text("{}")
    assert cli.main(["run", str(source), "--backend", BACKEND, "--profile", "quick", "--out", str(out)]) == 2
    assert cli.main(["run", str(source), "--backend", BACKEND, "--profile", "quick", "--out", str(out), "--force"]) == 0
    assert runner.is_report(out / "report.json")


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap makes a read-only view, even for root")
def test_a_read_only_out_folder_is_a_one_line_error(tmp_path):
    source = write(tmp_path / "src", "passing.ipynb", NOTEBOOKS["passing.ipynb"])
    (tmp_path / "out").mkdir()
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
            "--tmpfs",
            "/var/tmp",
            "--setenv",
            "TMPDIR",
            "/var/tmp",
            "--",
            sys.executable,
            "-m",
            "kerasdl.course.cli",
            "run",
            str(source),
            "--backend",
            BACKEND,
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr  # (IPython may warn that ~/.ipython is read-only: not ours)
    assert [line for line in done.stderr.splitlines() if line.startswith("kerasdl")] == [
        f"kerasdl: error: cannot write {tmp_path / 'out' / BACKEND / 'passing.ipynb'}: {tmp_path / 'out'} is read-only"
    ]
    assert list((tmp_path / "out").iterdir()) == []

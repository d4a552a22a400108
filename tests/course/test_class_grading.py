"""A generated class graded with `kerasdl grade --backend all -j 2 --csv`, then on JAX through a local Dask cluster.

The class comes from solutions/ and exercises/ (kerasdl.course.sample_class makes it):
three learners, one solving exercise 01 (CNN arithmetic, a small Keras model) and
exercise 02 (BPTT by hand, NumPy only), one cheating and one half done on 02,
plus a notebook without an exercise id.
It grades on all three backends, so it runs once, in the jax pass of the suite;
the 20-learner class is the benchmark's (tools/bench_grading.py).
"""

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from grading import needs_bwrap, run_cli

from kerasdl.course import answer_key, sample_class

from helpers import ROOT

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.once,
    needs_bwrap,
]
PLAN = {
    "ada": {"01_cnn_arithmetic.ipynb": "solved", "02_bptt_by_hand.ipynb": "solved"},
    "ben": {"02_bptt_by_hand.ipynb": "printed"},
    "cy": {"02_bptt_by_hand.ipynb": "partial"},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    sample_class.make_class(folder / "submissions", PLAN)
    stray = nbformat.read(folder / "submissions" / "ben" / "02_bptt_by_hand.ipynb", as_version=4)
    del stray.metadata["kerasdl"]
    nbformat.write(stray, folder / "submissions" / "ben" / "scratch.ipynb")
    code, text, err = run_cli(
        "grade",
        folder / "submissions",
        "--backend",
        "all",
        "-j",
        2,
        "--solutions",
        ROOT / "solutions",
        "--csv",
        folder / "grades.csv",
        "--timeout",
        300,
    )
    return folder, code, text, err


def gradebook(path):
    return {row["learner"]: row for row in csv.DictReader(io.StringIO(Path(path).read_text()))}


def test_the_class_is_graded_on_every_backend_into_a_gradebook(graded):
    folder, code, text, err = graded
    assert code == 1 and err == "", err
    assert "exercise cnn_arithmetic" in text and "exercise bptt_by_hand" in text
    assert "6 of 15 notebooks got full marks; 3 tampered" in text
    book = gradebook(folder / "grades.csv")
    totals = {key: str(e.total) for key, e in answer_key.load(ROOT / "solutions")[0].items()}
    assert set(book) == {"ada", "ben", "cy"}
    for backend in ("jax", "torch", "tensorflow"):
        for exercise in ("cnn_arithmetic", "bptt_by_hand"):  # honest and solved: full marks
            assert book["ada"][f"{exercise} score ({backend})"] == totals[exercise]
            assert book["ada"][f"{exercise} total ({backend})"] == totals[exercise]
        assert book["ben"][f"bptt_by_hand score ({backend})"] == "0"
        assert book["ben"][f"cnn_arithmetic score ({backend})"] == ""  # handed in nothing
        assert 0 < int(book["cy"][f"bptt_by_hand score ({backend})"]) < int(totals["bptt_by_hand"])
    assert book["ada"]["tampered"] == book["cy"]["tampered"] == ""
    assert book["ben"]["tampered"] == "bptt_by_hand (jax); bptt_by_hand (torch); bptt_by_hand (tensorflow)"
    assert book["ben"]["not graded"] == "scratch.ipynb (not graded: no exercise id in its notebook metadata)"
    items = json.loads((folder / "grades.json").read_text())
    assert len(items) == 15 and all("items" in g for g in items)


def _start(args, log):
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "dask"), *args], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def test_a_local_dask_cluster_gives_the_same_gradebook(graded, tmp_path):
    folder = graded[0]
    scheduler_file = tmp_path / "scheduler.json"
    with open(tmp_path / "dask.log", "w") as log:
        processes = [
            _start(["scheduler", "--scheduler-file", str(scheduler_file), "--port", "0", "--no-dashboard"], log)
        ]
        try:
            deadline = time.time() + 60
            while not scheduler_file.exists() and time.time() < deadline:
                time.sleep(0.5)
            address = json.loads(scheduler_file.read_text())["address"]
            processes.append(_start(["worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], log))
            code, text, err = run_cli(
                "grade",
                folder / "submissions",
                "--backend",
                "jax",
                "--scheduler",
                address,
                "--solutions",
                ROOT / "solutions",
                "--csv",
                tmp_path / "grades.csv",
                "--timeout",
                300,
            )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
    assert code == 1 and err == "", err + (tmp_path / "dask.log").read_text()[-2000:]
    # The same class on one backend: the JAX columns of the local gradebook, row for row.
    local, remote = gradebook(folder / "grades.csv"), gradebook(tmp_path / "grades.csv")
    assert set(remote) == set(local) == {"ada", "ben", "cy"}
    # one backend: the columns carry no "(jax)"
    scores = [name for name in remote["ada"] if name.endswith((" score", " total"))]
    assert len(scores) == 4 and not [name for name in remote["ada"] if "(" in name]
    for learner, row in remote.items():
        assert {name: row[name] for name in scores} == {name: local[learner][f"{name} (jax)"] for name in scores}, (
            learner
        )
    assert remote["ben"]["tampered"] == "bptt_by_hand (jax)" and remote["ada"]["tampered"] == ""
    assert remote["ben"]["not graded"] == local["ben"]["not graded"]

    def statuses(path):
        return sorted(
            (g["notebook"], g["backend"], [(i["name"], i["status"]) for i in g["items"]])
            for g in json.loads(Path(path).read_text())
            if g["backend"] == "jax"
        )

    assert len(statuses(tmp_path / "grades.json")) == 5
    assert statuses(tmp_path / "grades.json") == statuses(folder / "grades.json")

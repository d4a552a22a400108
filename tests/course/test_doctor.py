import json
import os
import subprocess
import sys

import pytest

from kerasdl.course import doctor, kernels

# The doctor probes every framework in its own process whatever KERAS_BACKEND says.
once = pytest.mark.once


def run_doctor(**env):
    environment = dict(os.environ, **env)
    done = subprocess.run(
        [sys.executable, "-m", "kerasdl.course.cli", "doctor", "--json"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.fixture(scope="module")
def healthy():
    return run_doctor()


@once
def test_a_healthy_environment_has_no_problems(healthy):
    status, rows, err = healthy
    assert status == 0, err
    assert [r for r in rows if r["status"] == "PROBLEM"] == []
    areas = {r["area"] for r in rows}
    assert {"python", "keras", "backend", "jax", "torch", "tensorflow", "kernel", "data"} <= areas


@once
def test_every_framework_row_lists_its_devices(healthy):
    _, rows, _ = healthy
    frameworks = [r for r in rows if r["area"] in ("jax", "torch", "tensorflow")]
    assert len(frameworks) == 3
    assert all("CPU" in r["detail"] or "GPU" in r["detail"] for r in frameworks), frameworks


@once
def test_offline_datasets_are_reported_with_the_offline_alternative(healthy, tmp_path):
    _, rows, _ = healthy
    digits = next(r for r in rows if r["item"].startswith("digits"))
    assert digits["status"] == "ok" and digits["detail"].startswith("1797 images")
    text = next(r for r in rows if r["item"] == "Python docs text")
    assert text["status"] == "ok"


@once
def test_problems_come_with_a_fix():
    status, rows, _ = run_doctor(KERASDL_PROFILE="fastest", KERAS_BACKEND="mxnet")
    assert status == 1
    problems = {r["area"]: r for r in rows if r["status"] == "PROBLEM"}
    assert set(problems) == {"backend", "profile"}
    assert all(r["fix"] for r in problems.values())


def test_missing_kernels_are_problems_with_the_install_command(monkeypatch):
    monkeypatch.setattr(kernels, "installed", lambda: {})
    monkeypatch.setattr(doctor, "_probe", lambda name: {"devices": [["CPU", "test"]]})
    rows = doctor.checks()
    kernel_rows = [r for r in rows if r[0] == "kernel"]
    assert len(kernel_rows) == 3
    assert all(r[2] == doctor.PROBLEM and r[4] == "run `kerasdl kernels install`" for r in kernel_rows)


def test_a_framework_that_fails_to_import_is_a_problem(monkeypatch):
    monkeypatch.setattr(
        doctor,
        "_probe",
        lambda name: (
            {"error": "ModuleNotFoundError: No module named 'torch'"}
            if name == "torch"
            else {"devices": [["CPU", "test"]]}
        ),
    )
    rows = doctor.checks()
    torch_row = next(r for r in rows if r[0] == "torch")
    assert torch_row[2] == doctor.PROBLEM and "No module named 'torch'" in torch_row[3]
    assert next(r for r in rows if r[0] == "jax")[2] == doctor.OK

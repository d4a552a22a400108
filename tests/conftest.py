import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("KERAS_BACKEND", "jax")
os.environ.setdefault("KERASDL_PROFILE", "quick")


def pytest_report_header(config):
    return f"kerasdl: backend {BACKEND}, profile {os.environ['KERASDL_PROFILE']}, python {sys.executable}"


@pytest.fixture
def backend_name():
    return BACKEND


# The longest work first, so that the two workers of `make test` finish together
# (longest processing time first). Under `--dist loadgroup` (tools/test_matrix.sh) each
# module stays on one worker, so its module fixtures (a class graded, a batch of attacks)
# run once; the notebooks are independent and long, so they are spread one by one.
LONGEST_FIRST = (
    "test_class_grading.py", "test_grader_attacks.py", "test_only_jax.py", "test_notebooks.py",
    "test_grader.py", "test_doctor.py", "test_runner.py", "test_bench.py", "test_crossbackend.py",
    "test_checks_residual.py", "test_checks_attention.py", "test_sandbox.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable within a module
    for item in items:
        if item.path.name != "test_notebooks.py":
            item.add_marker(pytest.mark.xdist_group(item.path.stem))

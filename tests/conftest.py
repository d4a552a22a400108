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


def verdicts(capsys):
    """Return ({item: passed}, {item: hint}) for what the checks printed since the last call."""
    from kerasdl import checks

    out = capsys.readouterr().out
    return dict(checks.parse(out)), checks.hints(out)


def assert_items(capsys, expected):
    """Assert the printed verdicts are `expected` ({item prefix: passed}); return {prefix: hint}."""
    found, hints = verdicts(capsys)
    assert len(found) == len(expected), found
    for prefix, passed in expected.items():
        matches = [name for name in found if name.startswith(prefix)]
        assert len(matches) == 1, (prefix, found)
        assert found[matches[0]] is passed, (matches[0], hints.get(matches[0]))
    return {prefix: next((h for n, h in hints.items() if n.startswith(prefix)), "") for prefix in expected}


# The longest work first, so that the two workers of `make test` finish together
# (longest processing time first). Under `--dist loadgroup` (tools/test_matrix.sh) each
# module stays on one worker, so its module fixtures (a class graded, a batch of attacks)
# run once; the notebooks are independent and long, so they are spread one by one.
LONGEST_FIRST = (
    "test_class_grading.py",
    "test_grader_attacks.py",
    "test_only_jax.py",
    "test_notebooks.py",
    "test_untrained.py",
    "test_grader.py",
    "test_doctor.py",
    "test_runner.py",
    "test_bench.py",
    "test_crossbackend.py",
    "test_checks_residual.py",
    "test_checks_attention.py",
    "test_sandbox.py",
)


# Independent notebook runs, spread one by one over the workers.
UNGROUPED = ("test_notebooks.py", "test_untrained.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable within a module
    for item in items:
        if item.path.name not in UNGROUPED:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))

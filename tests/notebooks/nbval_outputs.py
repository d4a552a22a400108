"""A pytest plugin for nbval runs: write each executed cell's outputs to $KERASDL_NBVAL_OUTPUTS (JSON).

nbval compares only the cells marked `# NBVAL_CHECK_OUTPUT`; the notebook tests
also need to see every other cell's output (no stderr, no framework paths)
without executing the notebook a second time. Load with `-p nbval_outputs`.
"""

import json
import os

import pytest

_CELLS = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.when == "call" and getattr(item, "test_outputs", None) is not None:
        _CELLS.append(
            {
                "source": item.cell.source,
                "tags": list(item.cell.metadata.get("tags", [])),
                "outputs": [dict(o) for o in item.test_outputs],
            }
        )


def pytest_sessionfinish(session):
    path = os.environ.get("KERASDL_NBVAL_OUTPUTS")
    if path:
        with open(path, "w") as file:
            json.dump(_CELLS, file, default=str)

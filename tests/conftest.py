import json
import os
import re
import sys

import matplotlib
import pytest

from helpers import BACKEND, ROOT

os.environ.setdefault("KERASDL_PROFILE", "quick")
# The plot tests draw off screen. In this process only: an MPLBACKEND variable would reach
# the notebook kernels and replace their inline figures (the browser tests look for them).
matplotlib.use("Agg")

# How long each test took in the last run, per backend: the run rewrites it, and the
# next run starts the longest work first from it (longest processing time first), so
# that the two workers of `make test` finish together. A test it does not know yet
# counts one second.
DURATIONS = ROOT / "tests" / "durations.json"

# Independent notebook runs, spread one by one over the workers; every other module
# stays on one worker (`--dist loadgroup`), so its module fixtures run once.
UNGROUPED = ("test_notebooks.py", "test_untrained.py")


# Tests marked `once` do not depend on the backend (the grader, the sandbox, code that starts
# its own processes per backend). tools/test_matrix.sh names the pass that runs them; run
# directly, pytest runs them on whatever backend it has.
ONCE_PASS = os.environ.get("KERASDL_ONCE_PASS")


def pytest_runtest_setup(item):
    if ONCE_PASS and ONCE_PASS != BACKEND and item.get_closest_marker("once"):
        pytest.skip(f"does not depend on the backend: runs once, in the {ONCE_PASS} pass")


def pytest_report_header(config):
    return f"kerasdl: backend {BACKEND}, profile {os.environ['KERASDL_PROFILE']}, python {sys.executable}"


@pytest.fixture
def backend_name():
    return BACKEND


def last_durations():
    try:
        table = json.loads(DURATIONS.read_text()).get(BACKEND, {})
    except (OSError, ValueError, AttributeError):
        return {}
    return table if isinstance(table, dict) else {}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the xdist_group marks added here
def pytest_collection_modifyitems(config, items):
    seconds = last_durations()
    unit_of = {}
    for item in items:
        if item.path.name in UNGROUPED:
            unit_of[item.nodeid] = item.nodeid
        else:
            unit_of[item.nodeid] = item.path.stem
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
    cost = {}
    for item in items:
        unit = unit_of[item.nodeid]
        cost[unit] = cost.get(unit, 0.0) + float(seconds.get(item.nodeid, 1.0))
    # Stable: a module's tests keep their order inside it.
    items.sort(key=lambda item: -cost[unit_of[item.nodeid]])


class DurationLog:
    """Sums setup, call and teardown per test on the controlling process and writes DURATIONS."""

    def __init__(self):
        self.seconds = {}

    def pytest_runtest_logreport(self, report):
        nodeid = re.sub(r"@[\w.-]+$", "", report.nodeid)  # without the "@group" that --dist loadgroup adds
        self.seconds[nodeid] = self.seconds.get(nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session, exitstatus):
        # A partial run (-k, a path, a failure) adds what it measured to what was known.
        try:
            table = json.loads(DURATIONS.read_text())
            table = table if isinstance(table, dict) else {}
        except (OSError, ValueError):
            table = {}
        known = table.get(BACKEND, {}) if isinstance(table.get(BACKEND), dict) else {}
        known.update({nodeid: round(s, 1) for nodeid, s in self.seconds.items()})
        table[BACKEND] = dict(sorted(known.items()))
        try:
            DURATIONS.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")
        except OSError:
            pass  # a read-only checkout still runs its tests


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller only, never an xdist worker
        config.pluginmanager.register(DurationLog(), "kerasdl-durations")

#!/usr/bin/env bash
# Runs the whole test suite once per backend in the quick profile, then the
# browser tests (tests/browser/) once when Chromium is installed, and prints
# how long each part took. Extra arguments go to pytest (e.g. -k data) and
# leave the browser tests out; TEST_WORKERS sets how many pytest-xdist workers
# share the cores (default 2).
set -uo pipefail
cd "$(dirname "$0")/.."

BACKENDS=${BACKENDS:-"jax torch tensorflow"}
# Tests marked `once` (backend-independent) run in the first pass only.
export KERASDL_ONCE_PASS=${KERASDL_ONCE_PASS:-${BACKENDS%% *}}
export KERASDL_PROFILE=quick TF_CPP_MIN_LOG_LEVEL=3 XLA_PYTHON_CLIENT_PREALLOCATE=false
# The grader tests fail instead of skipping where bubblewrap is installed (CI installs it).
[ -x /usr/bin/bwrap ] && export KERASDL_SANDBOX_REQUIRED=1
# Two workers share the cores: one OpenMP thread each, or PyTorch's spinning
# threads slow every step many times over when the cores are oversubscribed.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
reports=$(mktemp -d)
# JAX: one persistent compilation cache shared by this run's processes (pytest workers,
# notebook kernels, fresh crossbackend processes), so a model compiled in one notebook run
# is loaded, not compiled again, by the next run of the same model (an LSTM's training step:
# 14 s cold, 1.7 s from the cache). It starts empty on every run and is removed at the end.
# Sandboxed grading kernels start with an empty environment and never see it.
export JAX_COMPILATION_CACHE_DIR=$reports/jax-cache
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=-1
summary=()
failed=0
all_start=$(date +%s)

# Style first: ruff's lint and format check, a few seconds: the Python files at 120
# columns (pyproject.toml [tool.ruff]), the notebooks' code cells at 88 (tools/ruff_notebooks.toml).
echo "=== lint (ruff) ==="
start=$(date +%s)
lint_status=0
notebooks="--config tools/ruff_notebooks.toml chapters solutions exercises"
{ .venv/bin/ruff check kerasdl tests tools && .venv/bin/ruff format --check kerasdl tests tools &&
    .venv/bin/ruff check $notebooks && .venv/bin/ruff format --check $notebooks; } || lint_status=$?
[ "$lint_status" = 0 ] || { failed=1; echo "lint: ruff found the problems above; 'make lint' shows them; '.venv/bin/ruff format kerasdl tests tools' and '.venv/bin/ruff format $notebooks' fix the format"; }
lint_seconds=$(( $(date +%s) - start ))

for name in $BACKENDS; do
    echo
    echo "=== tests on $name ==="
    start=$(date +%s)
    # loadgroup: a module's tests share a worker (tests/conftest.py puts the longest first)
    KERAS_BACKEND=$name .venv/bin/python -m pytest -q -n "${TEST_WORKERS:-2}" --ignore=tests/browser \
        --dist loadgroup --no-loadscope-reorder --durations=20 --durations-min=5 \
        --junitxml="$reports/$name.xml" "$@"
    status=$?
    seconds=$(( $(date +%s) - start ))
    [ "$status" = 0 ] || failed=1
    summary+=("$name|$status|$seconds")
done

# JupyterLab in headless Chromium, once: the tests pick each backend's kernel themselves.
chromium=${KERASDL_CHROMIUM:-/usr/bin/chromium}
echo
if [ $# -gt 0 ]; then
    echo "browser tests: skipped (pytest arguments given; run them with: .venv/bin/python -m pytest tests/browser)"
elif [ ! -x "$chromium" ]; then
    echo "browser tests: skipped (no Chromium at $chromium; install it with: apt-get install chromium)"
else
    echo "=== browser tests (screenshots in ${KERASDL_SCREENSHOTS:-runs/browser}/) ==="
    start=$(date +%s)
    KERASDL_BROWSER_REQUIRED=1 .venv/bin/python -m pytest -q --junitxml="$reports/browser.xml" tests/browser
    status=$?
    seconds=$(( $(date +%s) - start ))
    [ "$status" = 0 ] || failed=1
    summary+=("browser|$status|$seconds")
fi

echo
echo "=== test timings ==="
printf '%-11s %5d s  %s\n' lint "$lint_seconds" "$([ "$lint_status" = 0 ] && echo ok || echo FAILED)"
.venv/bin/python - "$reports" "${summary[@]}" <<'PY'
import sys
import xml.etree.ElementTree as ET

folder, rows = sys.argv[1], sys.argv[2:]
totals = {"passed": 0, "failed": 0, "skipped": 0}
for row in rows:
    name, status, seconds = row.split("|")
    try:
        suite = ET.parse(f"{folder}/{name}.xml").getroot().find("testsuite")
        tests, fails = int(suite.get("tests")), int(suite.get("failures")) + int(suite.get("errors"))
        skipped = int(suite.get("skipped"))
    except (OSError, ET.ParseError, AttributeError):
        tests, fails, skipped = 0, 1, 0
    totals["passed"] += tests - fails - skipped
    totals["failed"] += fails
    totals["skipped"] += skipped
    verdict = "ok" if status == "0" else f"FAILED (pytest exit {status})"
    print(f"{name:<11} {int(seconds):>5} s  {tests - fails - skipped:>4} passed  {fails:>3} failed  {skipped:>3} skipped  {verdict}")
print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
PY
echo "all backends: $(( $(date +%s) - all_start )) s"
rm -rf "$reports"
exit $failed

"""What the test files share: the repository root, the backend under test, and
readers for the verdict lines the checks print. Test files import it as
`from helpers import ...` (pyproject's `pythonpath` puts tests/ on the path);
nothing imports conftest."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = os.environ.get("KERAS_BACKEND", "jax")


def verdicts(capsys, only=False):
    """Return ([(item, passed)], {item: hint}) for the verdict lines printed since the last call.

    With only=True, fail when anything other than verdict lines was printed
    (a learner's function or a check that talks too much)."""
    from kerasdl import checks

    out = capsys.readouterr().out
    if only:
        lines = out.splitlines()
        assert lines and all(checks.parse(line) for line in lines), out
    return checks.parse(out), checks.hints(out)


def assert_items(capsys, expected):
    """Assert the printed verdicts are `expected` ({item prefix: passed}); return {prefix: hint}."""
    found, hints = verdicts(capsys)
    assert len(found) == len(expected), found
    for prefix, passed in expected.items():
        matches = [(name, ok) for name, ok in found if name.startswith(prefix)]
        assert len(matches) == 1, (prefix, found)
        assert matches[0][1] is passed, (matches[0], hints.get(matches[0][0]))
    return {prefix: next((h for n, h in hints.items() if n.startswith(prefix)), "") for prefix in expected}


def failed_items(capsys):
    """Return {item: hint} of the ✘ lines printed since the last call."""
    found, hints = verdicts(capsys)
    return {item: hints.get(item, "") for item, passed in found if not passed}


def use_agg():
    """Draw off screen: the plot tests run without a display."""
    import matplotlib

    matplotlib.use("Agg")


# ---------------------------------------------------------------- executed notebooks

EXPECTED_STDERR = "expected-stderr"
# What leaks from frameworks into a cell: absl/C++ log lines, oneDNN notes, warnings with paths.
NOISE = re.compile(
    r"site-packages|dist-packages|absl::|oneDNN|^[IWE]\d{4} |cuda_|TF_ENABLE_ONEDNN|^(INFO|WARNING):tensorflow", re.M
)


def output_text(output):
    if output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = output.get("data", {}).get("text/plain", "") if output.get("output_type") != "error" else ""
    return text if isinstance(text, str) else "".join(text)


def comparable(outputs):
    """Return what nbval --nbval-lax compares in a checked cell: stdout, stderr and plain-text results."""
    streams, results = {"stdout": "", "stderr": ""}, []
    for output in outputs:
        if output.get("output_type") == "stream":
            streams[output.get("name", "stdout")] += output_text(output)
        elif output.get("output_type") in ("execute_result", "display_data"):
            if "text/plain" in output.get("data", {}) and "image/png" not in output.get("data", {}):
                results.append(output_text(output))
        elif output.get("output_type") == "error":
            results.append(f"error: {output.get('ename')}")
    return streams, results


def noise_in(cells):
    """Return a line per cell that wrote to stderr (untagged) or shows framework noise."""
    found = []
    for number, cell in enumerate(cells, 1):
        first = next((line for line in cell["source"].splitlines() if line.strip()), "")[:60]
        for output in cell["outputs"]:
            text = output_text(output)
            if output.get("name") == "stderr" and EXPECTED_STDERR not in cell["tags"]:
                found.append(f"code cell {number} `{first}` wrote to stderr: {text.strip()[:200]!r}")
            elif NOISE.search(text):
                found.append(f"code cell {number} `{first}` shows framework noise: {text.strip()[:200]!r}")
    return found


def code_cells(notebook):
    from kerasdl.course.exercises import is_check_cell

    return [
        {
            "source": c.source,
            "tags": c.metadata.get("tags", []),
            "outputs": c.get("outputs", []),
            "checked": is_check_cell(c),
        }
        for c in notebook.cells
        if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]


def run_nbval(notebook, cwd, *options, env=None, timeout=300):
    """Return the finished `pytest --nbval-lax` run of `notebook` in the backend's kernel (stdout, stderr as text)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, "--nbval-lax"]
    command += ["--nbval-kernel-name", f"kerasdl-{BACKEND}", str(notebook)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)

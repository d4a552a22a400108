"""kerasdl.course.sandbox: what a notebook run by `kerasdl grade` can see, write, reach and leave behind.

Each test runs a small notebook (no framework) in the sandbox and reads what it
observed from its output. The sandbox does not depend on the backend, so these
run once, in the jax pass of the suite.
"""

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from conftest import BACKEND, ROOT
from nbformat.v4 import new_code_cell, new_notebook

from kerasdl.course import sandbox

pytestmark = [
    pytest.mark.skipif(BACKEND != "jax", reason="the sandbox is the same for every backend: tested once, with jax"),
    pytest.mark.skipif(sandbox.bwrap() is None, reason="bubblewrap (bwrap) is not installed"),
]

OBSERVE = """
import glob, json, os, socket

def readable(path):
    try:
        with open(path, "rb") as file:
            file.read(1)
        return True
    except OSError:
        return False

def writable(path):
    existed = os.path.exists(path)
    try:
        with open(path, "a"):
            pass
    except OSError:
        return False
    if not existed:
        os.remove(path)
    return True

def connect(host, port):
    with socket.socket() as s:
        s.settimeout(3)
        return s.connect_ex((host, port))

cmdlines = []
for path in glob.glob("/proc/[0-9]*/cmdline"):
    try:
        cmdlines.append(open(path).read().replace("\\0", " "))
    except OSError:
        pass
seen = {
    "read solution": readable(SOLUTION), "solutions folder": os.path.exists(os.path.dirname(SOLUTION)),
    "read sibling": readable(SIBLING), "sibling folder": os.path.exists(os.path.dirname(SIBLING)),
    "kit solutions": os.path.exists(KIT_SOLUTIONS), "read kit": readable(CHECKS_SOURCE),
    "write kit": writable(os.path.join(os.path.dirname(CHECKS_SOURCE), "planted.py")),
    "write venv": writable(VENV_FILE), "write outside": writable(OUTSIDE),
    "write own folder": writable("mine.txt"), "write /tmp": writable("/tmp/mine.txt"),
    "cmdlines": cmdlines, "host port": connect("127.0.0.1", PORT), "internet": connect("192.0.2.1", 80),
    "secret": os.environ.get("KERASDL_TEST_SECRET"),
    "capabilities": [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0],
}
print(json.dumps(seen))
"""


def notebook(*sources):
    return nbformat.writes(new_notebook(cells=[new_code_cell(s) for s in sources]))


def printed(result, index):
    """Return what code cell `index` of a sandbox run printed to stdout."""
    cell = next(r for r in result["records"] if r.get("cell") == index)
    return "".join(o.get("text", "") for o in cell["outputs"] if o.get("name") == "stdout")


def run(source_notebook, **job):
    return sandbox.run({"notebook": source_notebook, "backend": "jax", "profile": "quick", "timeout": 30, **job})


class Watcher:
    """Record the host PIDs of processes whose command line holds `marker`, while a run goes on."""

    def __init__(self, marker):
        self.marker, self.pids, self.done = marker, set(), threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self.done.is_set():
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if self.marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                            self.pids.add(int(entry.name))
                    except OSError:
                        pass
            time.sleep(0.2)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def alive(pid):
    """Return True if process `pid` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())


def test_a_notebook_sees_only_its_folder_and_the_kit_and_reaches_no_network(tmp_path, monkeypatch):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "x.ipynb").write_text("{}")
    (tmp_path / "submissions" / "bob").mkdir(parents=True)
    (tmp_path / "submissions" / "bob" / "x.ipynb").write_text("{}")
    import kerasdl.checks

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    monkeypatch.setenv("KERASDL_TEST_SECRET", "the grader's environment")
    names = {
        "SOLUTION": str(tmp_path / "solutions" / "x.ipynb"),
        "SIBLING": str(tmp_path / "submissions" / "bob" / "x.ipynb"),
        "KIT_SOLUTIONS": str(ROOT / "solutions"),
        "CHECKS_SOURCE": kerasdl.checks.__file__,
        "VENV_FILE": str(Path(sys.prefix) / "pyvenv.cfg"),
        "OUTSIDE": str(tmp_path / "outside.txt"),
        "PORT": listener.getsockname()[1],
    }
    setup = "\n".join(f"{name} = {value!r}" for name, value in names.items())
    before = {path: Path(path).stat().st_mtime for path in (names["CHECKS_SOURCE"], names["VENV_FILE"])}
    try:
        result = run(notebook(setup, OBSERVE))
    finally:
        listener.close()
    assert result["reason"] is None and result["sandboxed"], result
    seen = json.loads(printed(result, 1))
    assert {k: v for k, v in seen.items() if k not in ("cmdlines", "host port", "internet")} == {
        "read solution": False,
        "solutions folder": False,
        "read sibling": False,
        "sibling folder": False,
        "kit solutions": False,
        "read kit": True,
        "write kit": False,
        "write venv": False,
        "write outside": False,
        "write own folder": True,
        "write /tmp": True,
        "secret": None,
        "capabilities": "0000000000000000",
    }
    assert seen["host port"] != 0 and seen["internet"] != 0  # refused / unreachable: a network of its own
    assert not any("pytest" in line or str(tmp_path) in line for line in seen["cmdlines"]), seen["cmdlines"]
    assert len(seen["cmdlines"]) <= 4  # bwrap's init, the worker, the kernel (and the shell it may start)
    assert not (tmp_path / "outside.txt").exists()
    assert not Path(kerasdl.checks.__file__).with_name("planted.py").exists()
    assert before == {path: Path(path).stat().st_mtime for path in before}


def test_nothing_it_started_survives_a_timeout_checked_by_pid():
    marker = f"kerasdl-sandbox-test-{os.getpid()}-{time.time_ns()}"
    cells = [
        "import subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {marker!r}],\n"
        "                         start_new_session=True)\n"
        "forked = subprocess.Popen([sys.executable, '-c', 'import os, time; os.fork(); time.sleep(600)', "
        f"{marker!r}])\nprint(child.pid)",
        "import time\ntime.sleep(600)",
    ]
    with Watcher(marker) as watcher:
        result = run(notebook(*cells), timeout=4)
    assert result["reason"] is None  # the worker reported the timeout itself
    end = next(r for r in result["records"] if "end" in r)
    assert end["reason"].startswith("CellTimeoutError: still running after 4 s")
    assert len(watcher.pids) >= 2, "the processes it started were never seen"
    assert [pid for pid in watcher.pids if alive(pid)] == []


def test_the_memory_limit_stops_a_notebook_that_grows():
    grow = (
        "import time\nblocks = []\nfor _ in range(64):\n"
        "    blocks.append(bytearray(b'x' * (32 * 2**20)))\n    time.sleep(0.05)\nprint('still here')"
    )
    result = run(notebook(grow), memory=256 * 2**20)
    assert result["reason"].startswith("MemoryError: the notebook's processes used more than 0.2 GB"), result
    assert 256 * 2**20 < result["peak_memory"] < 2**31
    assert all("still here" not in printed(result, r["cell"]) for r in result["records"] if "cell" in r)

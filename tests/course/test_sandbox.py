"""kerasdl.course.sandbox: what a notebook run by `kerasdl grade` can see, write, reach and leave behind.

Each test runs a small notebook (no framework) in the sandbox and reads what it
observed from its output. The sandbox does not depend on the backend, so these
run once, in the jax pass of the suite.
"""

import json
import os
import socket
import sys
import time
from pathlib import Path

import nbformat
import pytest
from grading import Watcher, alive, needs_bwrap
from nbformat.v4 import new_code_cell, new_notebook

from kerasdl.course import sandbox

from helpers import ROOT

pytestmark = [
    pytest.mark.once,
    needs_bwrap,
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
    assert 0.9 * 256 * 2**20 < result["peak_memory"] < 2**31  # a cgroup's peak stops at its limit
    assert all("still here" not in printed(result, r["cell"]) for r in result["records"] if "cell" in r)


def test_bubblewrap_is_installed_where_it_is_required():
    assert sandbox.bwrap() is not None, "KERASDL_SANDBOX_REQUIRED=1 but bubblewrap (bwrap) is not installed"


# ------------------------------------------------------------------ the sandbox, from inside, with the grader as root

IDENTITY = """
import glob, json, os, subprocess, sys

def opens_for_writing(path):  # opened, never written
    try:
        os.close(os.open(path, os.O_WRONLY))
        return True
    except OSError:
        return False

environments = []
for path in glob.glob("/proc/[0-9]*/environ"):
    try:
        environments.append(open(path, "rb").read().decode(errors="replace"))
    except OSError:
        pass
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
mounts = {fields[4]: fields[5].split(",") for fields in (line.split() for line in open("/proc/self/mountinfo"))}
marked = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(20)", MARKER])
print(json.dumps({
    "uid": status["Uid"].split(), "gid": status["Gid"].split(), "groups": status["Groups"].split(),
    "uid_map": open("/proc/self/uid_map").read().split(), "capabilities": status["CapEff"].strip(),
    "core_pattern": opens_for_writing("/proc/sys/kernel/core_pattern"),
    "sysrq": opens_for_writing("/proc/sysrq-trigger"), "oom_score_adj": opens_for_writing("/proc/self/oom_score_adj"),
    "proc": mounts.get("/proc"), "environments": environments, "own": dict(os.environ),
}))
"""
FILL = """
import json, os, time

def fill(folder, most=384 * 2**20):
    written, chunk = 0, b"x" * (16 * 2**20)
    try:
        with open(os.path.join(folder, "fill.bin"), "wb", buffering=0) as file:
            while written < most:
                written += file.write(chunk)
    except OSError:
        pass
    return written

filled = {place: fill(place) for place in ("/dev/shm", "/tmp", ".")}
time.sleep(2)  # held while the grader measures
print(json.dumps(filled))
"""
SPAWN = """
import json, os, subprocess
for place in ("/dev/shm", "/tmp", "."):
    os.remove(os.path.join(place, "fill.bin"))
started, error = [], None
for _ in range(200):
    try:
        started.append(subprocess.Popen(["sleep", "30"]))
    except OSError as problem:
        error = type(problem).__name__
        break
for process in started:
    process.kill()
    process.wait()
print(json.dumps({"started": len(started), "error": error}))
"""
LIMITED = {"memory": 2**30, "processes": 64}


@pytest.fixture(scope="module", params=["found", "rlimits"])
def inside(request, tmp_path_factory):
    """One sandbox run that looks around, fills its tmpfs and starts processes: (limits, result, watcher, secret).

    Run twice: with the limits this machine offers (a cgroup where it can), and with the fallback forced.
    """
    marker = f"kerasdl-inside-{os.getpid()}-{time.time_ns()}"
    secret = f"grader-secret-{time.time_ns()}"
    saved = {name: os.environ.get(name) for name in ("KERASDL_SANDBOX_LIMITS", "KERASDL_TEST_SECRET")}
    os.environ["KERASDL_TEST_SECRET"] = secret
    if request.param == "rlimits":
        os.environ["KERASDL_SANDBOX_LIMITS"] = "rlimits"
    try:
        with Watcher(marker) as watcher:
            result = run(notebook(f"MARKER = {marker!r}", IDENTITY, FILL, SPAWN), **LIMITED)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    assert result["reason"] is None, result
    return request.param, result, watcher, secret


def test_the_learners_code_never_runs_as_host_root(inside):
    _, result, watcher, _ = inside
    seen = json.loads(printed(result, 1))
    assert "0" not in seen["uid"] and "0" not in seen["gid"] and "0" not in seen["groups"], seen
    assert seen["capabilities"] == "0000000000000000"
    assert watcher.uids and 0 not in watcher.uids, watcher.uids  # seen from the host
    if os.geteuid() == 0:  # no user namespace, so the map is the host's: "0 0 1" made the sandbox's root the host's
        uid, numbers = int(seen["uid"][0]), list(map(int, seen["uid_map"]))
        lines = [numbers[i : i + 3] for i in range(0, len(numbers), 3)]
        start, outside, _ = next(line for line in lines if line[0] <= uid < line[0] + line[2])
        assert outside + uid - start == sandbox.USER and watcher.uids == {sandbox.USER}, seen["uid_map"]


def test_proc_sys_and_the_rest_of_proc_are_read_only(inside):
    seen = json.loads(printed(inside[1], 1))
    assert (seen["core_pattern"], seen["sysrq"], seen["oom_score_adj"]) == (False, False, False)
    assert "ro" in seen["proc"], seen["proc"]


def test_nothing_of_the_graders_environment_is_readable_inside(inside):
    _, result, _, secret = inside
    seen = json.loads(printed(result, 1))
    assert seen["environments"], "no process environment was readable: the test saw nothing"
    assert not any(secret in text for text in seen["environments"])  # /proc/1/environ (bwrap) included
    assert secret not in json.dumps(seen["own"])
    given = {*sandbox.PASSED_THROUGH, *sandbox._environment({"profile": "quick"}, "", ""), "KERAS_BACKEND"}
    leaked = {name for name, value in seen["own"].items() if name not in given and os.environ.get(name) == value}
    assert not leaked, leaked


def test_tmp_shm_and_the_submissions_folder_are_capped_in_memory(inside):
    _, result, _, _ = inside
    filled = json.loads(printed(result, 2).splitlines()[-1])
    tmp, shm = sandbox.tmpfs_sizes(LIMITED["memory"])
    assert filled["/dev/shm"] <= shm and filled["/tmp"] + filled["."] <= tmp, filled
    assert filled["/dev/shm"] >= shm // 2 and filled["/tmp"] >= tmp // 2, filled  # writable, up to the cap


def test_the_memory_limit_counts_what_the_tmpfs_hold(inside):
    kind, result, _, _ = inside
    filled = json.loads(printed(result, 2).splitlines()[-1])
    assert result["peak_memory"] >= sum(filled.values()), (result["peak_memory"], filled)
    assert result["limits"] == ("rlimits" if kind == "rlimits" else sandbox.limits()[0])


def test_the_processes_of_a_notebook_are_limited(inside):
    spawned = json.loads(printed(inside[1], 3).splitlines()[-1])  # after IPython's note on a full disk
    assert spawned["started"] < LIMITED["processes"] and spawned["error"], spawned


def test_a_stopped_notebook_is_ended_at_its_deadline():
    marker = f"kerasdl-stopped-{os.getpid()}-{time.time_ns()}"
    stop = (
        "import os, signal, subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {marker!r}])\n"
        "os.kill(os.getppid(), signal.SIGSTOP)  # the worker that runs the notebook\n"
        "os.kill(os.getpid(), signal.SIGSTOP)"
    )
    start = time.perf_counter()
    with Watcher(marker) as watcher:
        result = run(notebook(stop), timeout=120, wall=15)
    assert result["reason"] == "TimeoutError: the whole notebook ran longer than 15 s and was stopped", result
    assert time.perf_counter() - start < 25
    assert watcher.pids and [pid for pid in watcher.pids if alive(pid)] == []

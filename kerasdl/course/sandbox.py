"""Execute one prepared notebook in a bubblewrap sandbox and stream back what each cell printed.

`run(job)` is what the grader calls for every submission, on this machine (`-j N`
runs N at once) or on a Dask worker (`--scheduler`). It starts

    bwrap ... -- python -I -m kerasdl.course.sandbox      (the worker, inside)
                  └─ the backend's Jupyter kernel          (the learner's code)

The sandbox (bubblewrap, `bwrap`) has no network (its own empty network
namespace), its own process namespace (nothing outside is visible, so neither
the grader's command line nor other submissions' processes), no capabilities,
and a filesystem of read-only system folders, the Python installation, the
virtual environment, the kerasdl package and the kernel's folder, plus one
writable folder: a fresh temporary folder of this submission, mounted as /tmp
(the notebook runs in /tmp/submission, HOME is /tmp/home). solutions/, other
submissions, the kit's other folders and the caller's environment variables are
not there. Every process in it dies with it: bwrap is killed at the end, at the
wall-clock limit, or when the resident memory of its process tree passes the
limit (polled every half second), and a process namespace does not outlive its
first process.

The worker gets the notebook on stdin and writes JSON lines to a copy of its
stdout that the kernel does not inherit; it makes itself non-dumpable, so the
kernel (same user) cannot open that pipe through /proc or ptrace it. Lines:
{"start": i} when code cell i starts, {"cell": i, "outputs": [...]} when it
ends (or was cut short), and last {"end": ..., "reason": ...}.

Without bwrap the grader refuses unless told `--no-sandbox`; then the worker runs
as a plain child process in its own session, which is killed with every
descendant it can still find (a double-forked process can escape).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kerasdl.errors import KerasdlError

DEFAULT_MEMORY = 8 * 2**30  # bytes of resident memory for a submission's whole process tree
POLL_SECONDS = 0.5
STARTUP_SECONDS = 120  # on top of the per-cell timeouts: starting Python, the kernel, the imports
MAX_RECORD = 64 * 2**20  # a JSON line longer than this (huge outputs) is dropped
# Environment variables the notebook may see, when the caller sets them (threads, logs, devices).
PASSED_THROUGH = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_CPP_MIN_LOG_LEVEL",
    "XLA_FLAGS",
    "XLA_PYTHON_CLIENT_PREALLOCATE",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_TF32_OVERRIDE",
    "JAX_DEFAULT_MATMUL_PRECISION",
    "JAX_PLATFORMS",
    "KERAS_HOME",
    "TZ",
)
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32")
_ETC = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "mime.types",
    "alternatives",
    "fonts",
)


def bwrap():
    """Return the path of the bwrap executable, or None when bubblewrap is not installed."""
    return shutil.which("bwrap")


def require(no_sandbox=False):
    """Return the bwrap path (None with `no_sandbox`), or raise a one-line KerasdlError when it is missing."""
    if no_sandbox:
        return None
    path = bwrap()
    if path is None:
        raise KerasdlError(
            "bubblewrap (bwrap) is not installed, so submissions cannot be sandboxed: install it "
            "(`apt-get install bubblewrap`), or pass --no-sandbox to run them with your own rights"
        )
    return path


def parse_memory(text):
    """Return a memory size such as "8G", "512M" or "1073741824" in bytes; raise ValueError otherwise."""
    units = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    value = str(text).strip().upper().removesuffix("B").removesuffix("I")
    number, unit = (value[:-1], value[-1]) if value[-1:] in units and value[-1:] else (value, "")
    try:
        size = float(number) * units[unit]
    except (ValueError, KeyError):
        raise ValueError(f"memory limit {text!r} is not a size like 4G or 512M") from None
    if size < 64 * 2**20:
        raise ValueError(f"memory limit {text!r} is below 64M: a kernel alone needs more")
    return int(size)


def _kernel_paths(kernel):
    """Return (kernel folder, the Python its kernel.json starts) for an installed kernel name."""
    from kerasdl.course import kernels

    folder = Path(kernels.installed()[kernel])
    python = Path(kernels.read_spec(folder)["argv"][0])
    return folder, python


def _environment(job, home, runtime_dir):
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_RUNTIME_DIR": runtime_dir,
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "KERASDL_PROFILE": job["profile"],
    }
    env.update({name: os.environ[name] for name in PASSED_THROUGH if name in os.environ})
    if job.get("threads"):
        env.setdefault("OMP_NUM_THREADS", str(job["threads"]))
    return env


def command(job, folder, executable):
    """Return the bwrap command line that runs the worker with `folder` (a fresh host folder) as /tmp."""
    import kerasdl

    kernel_folder, kernel_python = _kernel_paths(job["kernel"])
    read_only = [
        *_SYSTEM,
        *(f"/etc/{name}" for name in _ETC),
        sys.base_prefix,
        sys.prefix,
        str(Path(kerasdl.__file__).parent),
        str(kernel_folder),
        str(kernel_python.parent.parent),
    ]
    argv = [
        executable,
        "--die-with-parent",
        "--new-session",
        "--unshare-all",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(folder),
        "/tmp",
    ]
    for path in dict.fromkeys(read_only):
        argv += ["--ro-bind-try", path, path]
    argv += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    for device in sorted(Path("/dev").glob("nvidia*")):  # a GPU, where there is one
        argv += ["--dev-bind", str(device), str(device)]
    argv += ["--chdir", "/tmp/submission", "--clearenv"]
    for name, value in _environment(job, "/tmp/home", "/tmp/runtime").items():
        argv += ["--setenv", name, value]
    return argv + ["--", sys.executable, "-I", "-m", "kerasdl.course.sandbox"]


def _hidden_options(argv):
    """Return (command line, fd): bwrap's options moved to a pipe (`--args FD`), out of /proc/<pid>/cmdline."""
    split = argv.index("--")
    read, write = os.pipe()
    os.write(write, b"".join(a.encode() + b"\0" for a in argv[1:split]))
    os.close(write)
    return [argv[0], "--args", str(read), *argv[split:]], read


def _descendants(root):
    """Return the PIDs of every living descendant of process `root` (from /proc)."""
    children = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _usage(pids, cpu):
    """Return the resident bytes of the processes `pids` together; record their CPU seconds in `cpu`."""
    total, page, tick = 0, os.sysconf("SC_PAGE_SIZE"), os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[pid] = max(cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / tick)  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def _kill(process):
    """Kill `process`, its session and every descendant still found; wait for it."""
    remaining = _descendants(process.pid)
    for kill in (lambda: os.killpg(process.pid, signal.SIGKILL), process.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    for pid in remaining:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    process.wait()


def _gib(size):
    return f"{size / 2**30:.1f} GB"


def run(job):
    """Execute the prepared notebook of `job` (a dict, see grader) and return what it printed, cell by cell.

    Returns {"records": [...], "reason": str or None, "seconds", "peak_memory", "cpu_seconds", "stderr"}; a reason
    set by this function (memory, wall clock, a worker that died) takes precedence over the worker's.
    """
    start = time.perf_counter()
    sandboxed = not job.get("no_sandbox")
    executable = require(not sandboxed)
    from kerasdl.course import kernels

    job = dict(job, kernel=kernels.require(job["backend"]))
    with tempfile.TemporaryDirectory(prefix="kerasdl-sandbox-") as folder:
        for name in ("submission", "home", "runtime"):
            Path(folder, name).mkdir()
        passed = ()
        if sandboxed:
            (argv, fd), env, cwd = _hidden_options(command(job, folder, executable)), None, None
            passed = (fd,)
        else:
            argv = [sys.executable, "-I", "-m", "kerasdl.course.sandbox"]
            env = dict(os.environ, KERASDL_PROFILE=job["profile"])
            if job.get("threads"):
                env.setdefault("OMP_NUM_THREADS", str(job["threads"]))
            cwd = Path(folder, "submission")
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            pass_fds=passed,
        )
        for fd in passed:
            os.close(fd)
        records, stderr = [], bytearray()
        readers = [
            threading.Thread(target=_read_records, args=(process.stdout, records), daemon=True),
            threading.Thread(target=_read_tail, args=(process.stderr, stderr), daemon=True),
        ]
        for reader in readers:
            reader.start()
        try:
            process.stdin.write(json.dumps({key: job[key] for key in ("notebook", "kernel", "timeout")}).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        reason, peak, cpu = _watch(process, job, start)
        for reader in readers:
            reader.join(timeout=10)
    seconds = time.perf_counter() - start
    worker_end = next((r for r in records if "end" in r), None)
    if reason is None and worker_end is None:
        words = _last_words(bytes(stderr))
        reason = f"the grading process stopped unexpectedly (exit code {process.returncode})" + (
            f": {words}" if words else ""
        )
    return {
        "records": records,
        "reason": reason,
        "seconds": round(seconds, 2),
        "peak_memory": peak,
        "cpu_seconds": round(cpu, 2),
        "stderr": _last_words(bytes(stderr)),
        "sandboxed": sandboxed,
    }


def _watch(process, job, start):
    """Wait for `process`, killing it past the memory or wall-clock limit.

    Returns (reason or None, peak resident bytes, CPU seconds): both sampled every POLL_SECONDS,
    so the CPU time misses at most the last half second of each process.
    """
    memory = job.get("memory") or DEFAULT_MEMORY
    wall = job.get("wall") or STARTUP_SECONDS
    peak, reason, cpu = 0, None, {}
    while process.poll() is None:
        resident = _usage([process.pid, *_descendants(process.pid)], cpu)
        peak = max(peak, resident)
        if resident > memory:
            reason = (
                f"MemoryError: the notebook's processes used more than {_gib(memory)} "
                f"(the memory limit) and were stopped"
            )
        elif time.perf_counter() - start > wall:
            reason = f"TimeoutError: the whole notebook ran longer than {wall:.0f} s and was stopped"
        if reason:
            _kill(process)
            break
        time.sleep(POLL_SECONDS)
    # Done by itself: bwrap's process namespace died with its first process, and the worker
    # killed what the kernel left (without a sandbox, a double-forked process can escape).
    return reason, peak, sum(cpu.values())


def _read_records(stream, records):
    for line in stream:
        if len(line) > MAX_RECORD:
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            pass


def _read_tail(stream, tail, keep=64 * 1024):
    for chunk in iter(lambda: stream.read1(65536), b""):
        tail += chunk
        del tail[:-keep]


def _last_words(stderr):
    """Return the telling line of the worker's or kernel's stderr, or ""."""
    noise = ("running over TCP without encryption", "waiting for execute reply", "WARNING:", "Warning:")
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines()]
    lines = [line for line in lines if line and not line.startswith(noise)]
    fatal = [line for line in lines if line.startswith(("Fatal Python error", "MemoryError"))]
    line = fatal[0] if fatal else lines[-1] if lines else ""
    return line[:160]


# ------------------------------------------------------------------ the worker, inside the sandbox


def _private_output():
    """Return a file for the records that no child process inherits; point fds 0 and 1 at /dev/null."""
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")  # os.dup: not inheritable
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    try:  # not dumpable: a process of the same user can neither ptrace this one nor open its /proc/<pid>/fd
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass
    return channel


def _shortened(outputs, keep=2**20):
    """Return `outputs` without images and other data, each text cut to its first `keep` characters."""
    short = []
    for output in outputs:
        if output.get("output_type") == "stream":
            text = output.get("text", "")
            cut = text if len(text) <= keep else text[:keep] + "\n[... output cut short by kerasdl grade]\n"
            short.append(dict(output, text=cut))
        elif output.get("output_type") == "error":
            short.append(dict(output, traceback=output.get("traceback", [])[-5:]))
    return short


def _stop_reason(error, timeout):
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    if isinstance(error, CellTimeoutError):
        return f"CellTimeoutError: still running after {timeout:g} s (the per-cell timeout)"
    if isinstance(error, DeadKernelError):
        return "DeadKernelError: the kernel died (os._exit, a crash, or out of memory)"
    message = (str(error).strip().splitlines() or [""])[0][:160]
    return f"{type(error).__name__}: {message}".rstrip(": ")


def worker():
    """Read a job from stdin, execute its notebook in the job's kernel, write JSON records; return 0."""
    job = json.loads(sys.stdin.read())
    channel = _private_output()

    def emit(record):
        line = json.dumps(record, ensure_ascii=False)
        if len(line) > MAX_RECORD // 2:  # a cell printed too much: keep its text, cut short
            record = dict(record, outputs=_shortened(record.get("outputs", [])))
            line = json.dumps(record, ensure_ascii=False)
        channel.write(line + "\n")

    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.reads(job["notebook"], as_version=4)
    started, finished = set(), set()

    def on_start(cell, cell_index, **_):
        if cell.cell_type == "code":
            started.add(cell_index)
            emit({"start": cell_index})

    def on_executed(cell, cell_index, **_):
        finished.add(cell_index)
        emit({"cell": cell_index, "outputs": cell.get("outputs", []), "execution": cell.metadata.get("execution")})

    client = NotebookClient(
        notebook,
        timeout=job["timeout"],
        kernel_name=job["kernel"],
        allow_errors=True,
        startup_timeout=STARTUP_SECONDS,
        resources={"metadata": {"path": os.getcwd()}},
        on_cell_start=on_start,
        on_cell_executed=on_executed,
    )
    reason = None
    try:
        client.execute()
    except Exception as error:  # a timeout, a dead kernel, a kernel that would not start
        reason = _stop_reason(error, job["timeout"])
    for index in sorted(started - finished):  # cut short: keep what it printed
        emit({"cell": index, "outputs": notebook.cells[index].get("outputs", [])})
    for pid in _descendants(os.getpid()):  # anything the kernel left running
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    emit({"end": "failed" if reason else "completed", "reason": reason})
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(worker())

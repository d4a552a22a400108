"""Execute one prepared notebook in a bubblewrap sandbox and stream back what each cell printed.

`run(job)` is what the grader calls for every submission, on this machine (`-j N`
runs N at once) or on a Dask worker (`--scheduler`). It starts

    bwrap ... -- python -I -m kerasdl.course.sandbox      (the worker, inside)
                  └─ the backend's Jupyter kernel          (the learner's code)

What the sandbox (bubblewrap, `bwrap`) holds, also when the grader runs as root:

- No host root inside. A grader that is root starts bwrap without a user
  namespace (a user namespace made by root maps its uid 0 to the host's root)
  and the worker's first act inside is to become `nobody` (uid and gid 65534,
  no groups, no capabilities, no new privileges) before it reads the notebook;
  the learner's code runs as that user. A grader that is not root runs bwrap
  in a user namespace of its own user, with no capabilities.
- No view of the host. Its own empty network, process, IPC and UTS namespaces;
  a filesystem of read-only system folders, the Python installation, the
  virtual environment, the kerasdl package and the kernel's folder. /proc is
  the sandbox's own and read-only (so /proc/sys: no kernel setting can be
  changed). bwrap starts with an empty environment plus the few variables the
  kernel needs, so nothing of the grader's environment is readable inside,
  not even in /proc/1/environ. solutions/, other submissions, the kit's other
  folders and the grader's command line are not there.
- Writable space in memory, capped: /tmp (the notebook runs in /tmp/submission,
  HOME is /tmp/home) is a tmpfs of a quarter of the memory limit and /dev/shm
  one of an eighth; nothing is written to the host's disk.
- Limits that count every process and the tmpfs. Where the machine offers a
  cgroup the grader can create and write (found out at the first run by
  trying: cgroup v2 when /sys/fs/cgroup/cgroup.controllers exists and the
  grader's own cgroup has, or can enable, the memory and pids controllers for
  its children; else cgroup v1's memory and pids hierarchies under
  /sys/fs/cgroup/memory and /sys/fs/cgroup/pids), each notebook gets a child
  cgroup with memory.max (v1: memory.limit_in_bytes, memory.memsw.limit_in_bytes)
  and pids.max: the kernel counts tmpfs pages and every child, and a notebook
  past the memory limit is stopped and graded "MemoryError". Otherwise (or with
  KERASDL_SANDBOX_LIMITS=rlimits) the fallback: each process's address space
  is limited to the memory limit (RLIMIT_AS, not where a GPU is bound in: CUDA
  reserves far more address space than it uses), the processes of the
  sandbox's user to the process limit (RLIMIT_NPROC, when the grader is root,
  shared by the sandboxes running at once), and the grader polls the resident
  memory of the process tree plus what its two tmpfs hold, every half second.
  `limits()` says which one this machine uses.
- One wall clock per notebook (`job["wall"]`, seconds from the start): at the
  deadline everything is killed (the cgroup's processes, bwrap's session and
  every descendant found), stopped (SIGSTOP) or frozen processes included.
  A process namespace does not outlive its first process.

The worker gets the notebook on stdin and writes JSON lines to a copy of its
stdout that the kernel does not inherit; it makes itself non-dumpable, so the
kernel (same user) cannot open that pipe through /proc or ptrace it. Lines:
{"start": i} when code cell i starts, {"cell": i, "outputs": [...]} when it
ends (or was cut short), and last {"end": ..., "reason": ...}.

Without bwrap the grader refuses unless told `--no-sandbox`; then the worker runs
as a plain child process in its own session, which is killed with every
descendant it can still find (a double-forked process can escape).
"""

import itertools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kerasdl.course.text import error_line, first_line
from kerasdl.errors import KerasdlError

DEFAULT_MEMORY = 8 * 2**30  # bytes for a submission's processes and tmpfs together
DEFAULT_PROCESSES = 1024  # processes and threads of a submission together (a framework starts one thread per core)
DEFAULT_WALL = 1800  # seconds for a whole notebook, from the start of its sandbox
POLL_SECONDS = 0.5
STARTUP_SECONDS = 120  # the kernel's start (Python, the kernel, the imports)
MAX_RECORD = 64 * 2**20  # a JSON line longer than this (huge outputs) is dropped
USER = 65534  # nobody: the uid and gid of the learner's code when the grader is root
CGROUP = Path("/sys/fs/cgroup")
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


def tmpfs_sizes(memory):
    """Return the sizes in bytes of the sandbox's /tmp and /dev/shm for a memory limit."""
    return memory // 4, memory // 8


# ------------------------------------------------------------------ limits: a cgroup, or rlimits and polling


def _write(path, text):
    Path(path).write_text(text)


class Cgroup:
    """A cgroup (v2, or v1's memory and pids hierarchies) that holds one notebook's processes."""

    _count = itertools.count()

    def __init__(self, version, bases):
        self.version, self.bases = version, bases  # {"memory": folder, "pids": folder}; one folder for v2
        name = f"kerasdl-{os.getpid()}-{next(self._count)}"
        self.folders = {kind: base / name for kind, base in bases.items()}

    def create(self, memory, processes):
        """Create the cgroup with its limits; raise OSError when the machine refuses."""
        for folder in dict.fromkeys(self.folders.values()):
            folder.mkdir()
        try:
            if self.version == 2:
                folder = self.folders["memory"]
                _write(folder / "memory.max", str(memory))
                for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
                    try:
                        _write(folder / name, value)
                    except OSError:
                        pass
                _write(folder / "pids.max", str(processes))
            else:
                _write(self.folders["memory"] / "memory.limit_in_bytes", str(memory))
                try:
                    _write(self.folders["memory"] / "memory.memsw.limit_in_bytes", str(memory))
                except OSError:
                    pass
                _write(self.folders["pids"] / "pids.max", str(processes))
        except OSError:
            self.remove()
            raise
        return self

    def procs_files(self):
        """Return the files a process writes its pid to, to join the cgroup."""
        return [str(folder / "cgroup.procs") for folder in dict.fromkeys(self.folders.values())]

    def _read(self, name, kind="memory"):
        try:
            return (self.folders[kind] / name).read_text()
        except OSError:
            return ""

    def memory(self):
        """Return the bytes the cgroup holds now (processes, tmpfs, page cache)."""
        text = self._read("memory.current" if self.version == 2 else "memory.usage_in_bytes")
        return int(text) if text.strip().isdigit() else 0

    def peak(self):
        """Return the most bytes the cgroup held, or 0 where the kernel does not say."""
        text = self._read("memory.peak" if self.version == 2 else "memory.max_usage_in_bytes")
        return int(text) if text.strip().isdigit() else 0

    def out_of_memory(self):
        """Return True once the kernel killed a process of the cgroup for its memory limit."""
        text = self._read("memory.events" if self.version == 2 else "memory.oom_control")
        fields = dict(line.split()[:2] for line in text.splitlines() if len(line.split()) >= 2)
        return fields.get("oom_kill", "0").isdigit() and int(fields.get("oom_kill", "0")) > 0

    def pids(self):
        found = set()
        for folder in dict.fromkeys(self.folders.values()):
            try:
                found.update(int(pid) for pid in (folder / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def kill(self):
        """Kill every process of the cgroup, stopped ones included."""
        if self.version == 2:
            try:
                _write(self.folders["memory"] / "cgroup.kill", "1")
            except OSError:
                pass
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)

    def remove(self):
        for folder in dict.fromkeys(self.folders.values()):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # busy until its last process is reaped
                    time.sleep(0.02)


def _own_cgroups():
    """Return {controller or "": path} from /proc/self/cgroup ("" for cgroup v2)."""
    found = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for name in parts[1].split(",") if parts[1] else [""]:
                found[name] = parts[2].lstrip("/")
    return found


def _cgroup_candidates():
    """Return the cgroups to try, v2 first: (version, {"memory": base, "pids": base})."""
    own = _own_cgroups()
    found = []
    if (CGROUP / "cgroup.controllers").exists() and "" in own:
        base = CGROUP / own[""]
        try:
            enabled = (base / "cgroup.subtree_control").read_text().split()
            if not {"memory", "pids"} <= set(enabled):  # fails (EBUSY) when the cgroup holds processes
                _write(base / "cgroup.subtree_control", "+memory +pids")
            found.append((2, {"memory": base, "pids": base}))
        except OSError:
            pass
    if "memory" in own and "pids" in own and (CGROUP / "memory").is_dir() and (CGROUP / "pids").is_dir():
        found.append((1, {"memory": CGROUP / "memory" / own["memory"], "pids": CGROUP / "pids" / own["pids"]}))
    return found


_LIMITS = {}


def limits():
    """Return ("cgroup v2" | "cgroup v1" | "rlimits", why): how this machine limits a notebook's memory and processes.

    Found out once per process by trying: a child cgroup is created, its limits written and removed.
    KERASDL_SANDBOX_LIMITS=rlimits skips the cgroups.
    """
    forced = os.environ.get("KERASDL_SANDBOX_LIMITS", "")
    if forced not in _LIMITS:
        _LIMITS[forced] = _find_limits(forced)
    kind, why, _ = _LIMITS[forced]
    return kind, why


def _find_limits(forced):
    if forced == "rlimits":
        return "rlimits", "KERASDL_SANDBOX_LIMITS=rlimits", None
    problems = []
    for version, bases in _cgroup_candidates():
        probe = Cgroup(version, bases)
        try:
            probe.create(64 * 2**20, 64)
        except OSError as error:
            problems.append(f"cgroup v{version} at {bases['memory']}: {error.strerror or error}")
            continue
        probe.remove()
        return f"cgroup v{version}", f"a child cgroup of {bases['memory']} can be created and limited", (version, bases)
    why = "; ".join(problems) or "no cgroup v2 with memory and pids for children, no cgroup v1 memory and pids"
    return "rlimits", why, None


def describe(memory=DEFAULT_MEMORY, wall=DEFAULT_WALL, processes=DEFAULT_PROCESSES):
    """Return one line: what limits each notebook's sandbox on this machine, and how that was found."""
    kind, why = limits()
    tmp, shm = tmpfs_sizes(memory)
    how = f"{kind} ({why})" if kind != "rlimits" else f"rlimits and polling (no cgroup: {why})"
    return (
        f"each notebook in a sandbox as {'nobody' if os.geteuid() == 0 else 'your user'}: {_gib(memory)} "
        f"(/tmp {_gib(tmp)} and /dev/shm {_gib(shm)} in it), {processes} processes, {wall:.0f} s, "
        f"enforced by {how}"
    )


def _new_cgroup(memory, processes):
    """Return a new Cgroup with the limits, or None where the machine uses rlimits."""
    limits()
    found = _LIMITS[os.environ.get("KERASDL_SANDBOX_LIMITS", "")][2]
    if found is None:
        return None
    try:
        return Cgroup(*found).create(memory, processes)
    except OSError:
        return None


def _setup(procs_files, rlimits):
    """Return the function the child runs before exec: join the cgroup, set the rlimits (no allocation)."""

    def setup():
        pid = str(os.getpid()).encode()
        for path in procs_files:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)
        for name, value in rlimits:
            resource.setrlimit(name, (value, value))

    return setup


# ------------------------------------------------------------------ the command line


def _kernel_spec(kernel):
    """Return the kernel.json of an installed kernel name, as a dict."""
    from kerasdl.course import kernels

    return kernels.read_spec(kernels.installed()[kernel])


def _environment(job, home, runtime_dir):
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "USER": "learner",
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


def _gpus():
    return sorted(Path("/dev").glob("nvidia*"))


def command(job, executable, root=None, package=None):
    """Return the bwrap command line that runs the worker; `root`: the grader is root (default: find out).

    `package`: a folder bound in place of the kerasdl package (the staged copy of an exercise graded by probes).
    """
    import kerasdl

    root = os.geteuid() == 0 if root is None else root
    kernel_python = Path(_kernel_spec(job["kernel"])["argv"][0])
    memory = job.get("memory") or DEFAULT_MEMORY
    tmp, shm = tmpfs_sizes(memory)
    read_only = [
        *_SYSTEM,
        *(f"/etc/{name}" for name in _ETC),
        sys.base_prefix,
        sys.prefix,
        str(Path(kerasdl.__file__).parent),
        str(kernel_python.parent.parent),
    ]
    argv = [executable, "--die-with-parent", "--new-session"]
    if root:  # no user namespace: one made by root maps the sandbox's root to the host's
        argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        argv += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]  # to become nobody
    else:
        argv += ["--unshare-all", "--cap-drop", "ALL"]
    argv += ["--proc", "/proc", "--remount-ro", "/proc", "--dev", "/dev"]
    argv += ["--perms", "1777", "--size", str(shm), "--tmpfs", "/dev/shm"]
    argv += ["--perms", "1777", "--size", str(tmp), "--tmpfs", "/tmp"]
    read_only = list(dict.fromkeys(read_only))
    argv += _parents(read_only)
    kit = str(Path(kerasdl.__file__).parent)
    for path in read_only:
        argv += ["--ro-bind-try", str(package) if package and path == kit else path, path]
    argv += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    for device in _gpus():  # a GPU, where there is one
        argv += ["--dev-bind", str(device), str(device)]
    argv += ["--chdir", "/tmp", "--"]
    worker = [sys.executable, "-I", "-m", "kerasdl.course.sandbox"]
    return argv + worker + (["--user", f"{USER}:{USER}"] if root else []) + ["--sandboxed"]


def _parents(paths):
    """Return bwrap options that create the folders leading to `paths` readable by anyone.

    bwrap would copy each one's mode from the host, where /root, for one, is closed to other users.
    """
    options, done = [], set()
    for path in paths:
        for parent in reversed(Path(path).parents[:-1]):  # /work, /work/main, ... (not /)
            inside = any(parent == Path(other) or Path(other) in parent.parents for other in paths)
            if str(parent) not in done and not inside and Path(path).exists():
                done.add(str(parent))
                options += ["--perms", "0755", "--dir", str(parent)]
    return options


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


def _tmpfs_usage(pids):
    """Return the bytes held in the sandbox's /tmp and /dev/shm, seen through a process inside, or 0."""
    for pid in pids:
        total = 0
        try:
            for place in ("tmp", "dev/shm"):
                stat = os.statvfs(f"/proc/{pid}/root/{place}")
                total += (stat.f_blocks - stat.f_bfree) * stat.f_frsize
        except OSError:
            continue
        return total
    return 0


def _kill(process, cgroup=None):
    """Kill `process`, its session, every descendant still found and the cgroup's processes; wait for it."""
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
    if cgroup is not None:
        cgroup.kill()
    process.wait()


def _gib(size):
    return f"{size / 2**30:.1f} GB"


def run(job):
    """Execute the prepared notebook of `job` (a dict, see grader) and return what it printed, cell by cell.

    Returns {"records": [...], "reason": str or None, "seconds", "peak_memory", "cpu_seconds", "stderr",
    "sandboxed", "limits"}; a reason set by this function (memory, wall clock, a worker that died) takes
    precedence over the worker's.
    """
    start = time.perf_counter()
    sandboxed = not job.get("no_sandbox")
    executable = require(not sandboxed)
    from kerasdl.course import kernels

    job = dict(job, kernel=kernels.require(job["backend"]))
    memory = job.get("memory") or DEFAULT_MEMORY
    processes = job.get("processes") or DEFAULT_PROCESSES
    cgroup, passed, setup, folder = None, (), None, None
    if sandboxed:
        root = os.geteuid() == 0
        cgroup = _new_cgroup(memory, processes)
        rlimits = [(resource.RLIMIT_CORE, 0)]
        if cgroup is None:
            rlimits += [] if _gpus() else [(resource.RLIMIT_AS, memory)]
            rlimits += [(resource.RLIMIT_NPROC, processes)] if root else []
        if job.get("graded"):  # the kit as graded work gets it: probes, no judges, no answers
            from kerasdl.course import probed

            folder = tempfile.TemporaryDirectory(prefix="kerasdl-kit-")
            package = probed.stage(job["graded"], folder.name)
        else:
            package = None
        (argv, fd), cwd = _hidden_options(command(job, executable, root, package)), None
        env = _environment(job, "/tmp/home", "/tmp/runtime")  # bwrap's own environment: nothing of the grader's
        passed, setup = (fd,), _setup(cgroup.procs_files() if cgroup else [], rlimits)
    else:
        folder = tempfile.TemporaryDirectory(prefix="kerasdl-notebook-")
        argv = [sys.executable, "-I", "-m", "kerasdl.course.sandbox"]
        env = dict(os.environ, KERASDL_PROFILE=job["profile"])
        if job.get("threads"):
            env.setdefault("OMP_NUM_THREADS", str(job["threads"]))
        cwd = folder.name
    kind = ("cgroup v%d" % cgroup.version if cgroup else "rlimits") if sandboxed else "none"
    try:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            pass_fds=passed,
            preexec_fn=setup,
        )
    except (OSError, subprocess.SubprocessError) as error:
        if cgroup is not None:
            cgroup.remove()
        if folder is not None:
            folder.cleanup()
        raise KerasdlError(first_line(f"the sandbox could not start: {error}")) from None
    finally:
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
        message = {key: job[key] for key in ("notebook", "kernel", "timeout")}
        message["spec"] = _kernel_spec(job["kernel"]) if sandboxed else None  # its folder may be closed to nobody
        process.stdin.write(json.dumps(message).encode())
        process.stdin.close()
    except BrokenPipeError:
        pass
    try:
        reason, peak, cpu = _watch(process, job, start, cgroup)
    finally:
        if cgroup is not None:
            cgroup.kill()
            cgroup.remove()
        if folder is not None:
            folder.cleanup()
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
        "limits": kind,
    }


def _watch(process, job, start, cgroup=None):
    """Wait for `process`, killing everything past the memory limit or the notebook's wall clock.

    Returns (reason or None, peak bytes, CPU seconds), sampled every POLL_SECONDS: the peak is the
    cgroup's (processes, tmpfs and page cache), or without one the resident memory of the process tree
    plus what its tmpfs hold; the CPU time misses at most the last half second of each process.
    """
    memory = job.get("memory") or DEFAULT_MEMORY
    wall = job.get("wall") or DEFAULT_WALL
    peak, reason, cpu = 0, None, {}
    stopped = f"MemoryError: the notebook's processes used more than {_gib(memory)} (the memory limit) and were stopped"
    while process.poll() is None:
        pids = [process.pid, *_descendants(process.pid)]
        resident = _usage(pids, cpu)
        if cgroup is not None:
            peak = max(peak, resident, cgroup.memory(), cgroup.peak())
            if cgroup.out_of_memory():
                reason = stopped
        else:
            used = resident + (_tmpfs_usage(pids[1:]) if not job.get("no_sandbox") else 0)
            peak = max(peak, used)
            if used > memory:
                reason = stopped
        if reason is None and time.perf_counter() - start > wall:
            reason = f"TimeoutError: the whole notebook ran longer than {wall:.0f} s and was stopped"
        if reason:
            _kill(process, cgroup)
            break
        time.sleep(POLL_SECONDS)
    if reason is None and cgroup is not None and cgroup.out_of_memory():
        reason = stopped  # killed by the kernel between two polls
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
    return error_line(error)


def _become(uid, gid):
    """Become `uid`:`gid` with no groups, capabilities or new privileges; raise SystemExit if that fails."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)  # as root: real, effective and saved ids; the capabilities go with uid 0
    try:
        import ctypes

        ctypes.CDLL(None).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
    except (OSError, AttributeError):
        pass
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    if 0 in os.getresuid() or 0 in os.getresgid() or int(status["CapEff"], 16) or int(status["CapPrm"], 16):
        raise SystemExit("kerasdl sandbox: could not give up root")


def _workspace():
    """Create the notebook's folders in the sandbox's /tmp and move into its own."""
    for name in ("home", "runtime", "submission"):
        os.makedirs(f"/tmp/{name}", mode=0o700, exist_ok=True)
    os.chdir("/tmp/submission")


def worker(argv=()):
    """Read a job from stdin, execute its notebook in the job's kernel, write JSON records; return 0.

    `argv`: `--sandboxed` (make the folders in the sandbox's /tmp), after `--user UID:GID` (become that
    user first: the sandbox of a grader that is root).
    """
    if argv[:1] == ["--user"]:
        _become(*map(int, argv[1].split(":")))
    if "--sandboxed" in argv:
        _workspace()
    job = json.loads(sys.stdin.read())
    if job.get("spec"):  # the kernel, as a kernel of the sandbox's user (found before the system's)
        folder = Path(os.environ["HOME"], ".local", "share", "jupyter", "kernels", job["kernel"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kernel.json").write_text(json.dumps(job["spec"]))
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
    sys.exit(worker(sys.argv[1:]))

"""Training past one device: PyTorch process groups on this machine, and the collectives XLA compiled.

    ranks = parallel.spawn(code, ["cpu", "cpu"], inputs={"x": x})  # one fresh Python per device
    ranks[0]["losses"]  # a NumPy array that rank 0's code put in `outputs`
    parallel.collectives(jax.jit(step).lower(*args).compile().as_text())  # [{"op", "shapes", "bytes"}, ...]

`spawn` starts its processes the way torchrun does (fresh interpreters, never fork, so
it works after CUDA is in use) and joins them in a process group: gloo on "cpu", NCCL
on "cuda:N". Nothing here imports a framework; the processes import PyTorch.
"""

import importlib.util
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kerasdl.errors import KerasdlError

_WORKER = """
import datetime
import os
import sys
import threading

import numpy as np
import torch
import torch.distributed as distributed

rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
device = torch.device(os.environ["KERAS_TORCH_DEVICE"])  # Keras builds this process's variables here
if device.type == "cuda":
    torch.cuda.set_device(device)
distributed.init_process_group(  # env://: MASTER_ADDR and MASTER_PORT
    "nccl" if device.type == "cuda" else "gloo",
    rank=rank,
    world_size=world_size,
    timeout=datetime.timedelta(seconds=float(sys.argv[4])),  # rendezvous and collectives give up then
    device_id=device if device.type == "cuda" else None,  # NCCL: this process's GPU
)
import keras

with np.load(sys.argv[1]) as saved:
    inputs = {name: saved[name] for name in saved.files}
outputs = {}
exec(compile(sys.argv[3], "<worker>", "exec"))
np.savez(sys.argv[2], **{name: np.asarray(value) for name, value in outputs.items()})
# Tearing the group down can wait forever on its threads: give it a few seconds, then leave.
closing = threading.Thread(target=distributed.destroy_process_group, daemon=True)
closing.start()
closing.join(timeout=10)
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
"""

COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "all-to-all", "collective-permute")
# `%name = SHAPE op(` with op a collective; asynchronous ones come as op-start / op-done pairs.
_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT\s+)?%?[\w.\-]+\s*=\s*(?P<shape>.*?)\s+"
    + f"(?P<op>{'|'.join(COLLECTIVES)})"
    + r"(?P<phase>-start|-done)?\("
)
_ARRAY = re.compile(r"\b(pred|[a-z]+\d+[a-z0-9]*)\[([\d,]*)\]")


class ParallelError(KerasdlError):
    """A process of the group failed, or the group ran past its time."""


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # port 0: the system picks a free one
        return probe.getsockname()[1]


def _check(code, devices, timeout):
    if not isinstance(code, str) or not code.strip():
        raise ValueError("code must be a non-empty string of Python that fills `outputs`")
    if isinstance(devices, str) or not devices or not all(isinstance(d, str) and d for d in devices):
        raise ValueError(f"devices must be a non-empty list of device names such as ['cpu', 'cpu'], got {devices!r}")
    if not all(d == "cpu" or re.fullmatch(r"cuda:\d+", d) for d in devices):
        raise ValueError(f"devices must be 'cpu' or 'cuda:N' (runtime.parallel_devices gives them), got {devices!r}")
    if len({d.split(":")[0] for d in devices}) > 1:
        raise ValueError(f"devices mix CPU and GPU: {devices!r}; one group runs on one kind")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if importlib.util.find_spec("torch") is None:
        raise ParallelError("PyTorch is not installed in this environment: spawn needs it in its processes")


def _environment(rank, devices, port):
    environment = {k: v for k, v in os.environ.items() if k != "KERASDL_KERNEL"}
    environment.update(
        KERAS_BACKEND="torch",
        KERAS_TORCH_DEVICE=devices[rank],
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(len(devices)),
        LOCAL_WORLD_SIZE=str(len(devices)),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    if len(devices) > 1:
        environment.setdefault("OMP_NUM_THREADS", "1")  # as torchrun does: one thread per process unless told
    return environment


def _last_line(log):
    lines = [line.strip() for line in Path(log).read_text(errors="replace").splitlines() if line.strip()]
    return re.sub(r"^\[rank\d+\]:\s*", "", lines[-1]) if lines else "no output"  # PyTorch prefixes "[rankN]:"


def _wait(processes, logs, devices, timeout):
    deadline = time.monotonic() + timeout
    while True:
        codes = [process.poll() for process in processes]
        failed = [rank for rank, code in enumerate(codes) if code not in (None, 0)]
        if failed:  # the first to fail wrote its log first; the others usually fail because it left
            rank = min(failed, key=lambda r: Path(logs[r]).stat().st_mtime_ns)
            raise ParallelError(f"rank {rank} ({devices[rank]}) failed: {_last_line(logs[rank])}")
        if all(code == 0 for code in codes):
            return
        if time.monotonic() > deadline:
            raise ParallelError(f"the process group ran past {timeout:g} s and was stopped: raise `timeout`")
        time.sleep(0.05)


def spawn(code, devices, inputs=None, timeout=600, rendezvous_timeout=120):
    """Run `code` in one fresh Python per device, joined in a PyTorch process group; return each rank's outputs.

    The code sees `keras` (PyTorch backend, building on `device`), `torch`, `distributed`
    (torch.distributed, initialised), `rank`, `world_size`, `device` and `inputs` (the
    NumPy arrays given here), and fills the dict `outputs` with NumPy arrays. Returns
    [outputs of rank 0, rank 1, ...]. Raises ParallelError with the first failing rank's
    last error line, or after `timeout` seconds; every process is ended either way.
    """
    devices = list(devices) if isinstance(devices, (list, tuple)) else devices
    _check(code, devices, timeout)
    arrays = {key: np.asarray(value) for key, value in (inputs or {}).items()}
    with tempfile.TemporaryDirectory(prefix="kerasdl-parallel-") as folder:
        inputs_path = Path(folder) / "inputs.npz"
        np.savez(inputs_path, **arrays)
        port = free_port()
        logs = [Path(folder) / f"rank{rank}.log" for rank in range(len(devices))]
        outputs = [Path(folder) / f"rank{rank}.npz" for rank in range(len(devices))]
        processes = []
        try:
            for rank in range(len(devices)):
                with open(logs[rank], "w") as log:
                    command = [sys.executable, "-c", _WORKER, str(inputs_path), str(outputs[rank]), code]
                    command.append(str(rendezvous_timeout))
                    processes.append(
                        subprocess.Popen(
                            command,
                            env=_environment(rank, devices, port),
                            stdin=subprocess.DEVNULL,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
            _wait(processes, logs, devices, timeout)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                process.wait()
        results = []
        for path in outputs:
            with np.load(path) as saved:
                results.append({key: saved[key] for key in saved.files})
        return results


def _bytes(shape):
    total_bits = 0
    for dtype, dimensions in _ARRAY.findall(shape):
        bits = 8 if dtype == "pred" else int(re.search(r"\d+", dtype).group())
        total_bits += bits * int(np.prod([int(d) for d in dimensions.split(",") if d]))
    return total_bits // 8


def collectives(hlo_text):
    """Return the collectives of a compiled XLA program's text: [{"op", "shapes", "bytes"}, ...] in program order.

    "bytes" is the size of the operation's result (the gathered array for an all-gather,
    a device's piece for a reduce-scatter); an asynchronous pair counts once, at its -done.
    """
    if not isinstance(hlo_text, str):
        raise ValueError("hlo_text must be the text of a compiled program: jax.jit(f).lower(...).compile().as_text()")
    found = []
    for line in hlo_text.splitlines():
        match = _INSTRUCTION.match(line)
        if match is None or match["phase"] == "-start":
            continue
        shapes = [f"{dtype}[{dimensions}]" for dtype, dimensions in _ARRAY.findall(match["shape"])]
        found.append({"op": match["op"], "shapes": shapes, "bytes": _bytes(match["shape"])})
    return found

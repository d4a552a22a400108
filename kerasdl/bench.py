"""Training-step speed of the course's recurrent and convolutional models, per backend.

    rows = bench.run(["jax", "torch", "tensorflow"])  # one fresh Python per backend, one at a time
    print(bench.table(rows))

Each backend runs in its own process, one after the other (so they do not compete for
cores), and native PyTorch runs the same models where it is installed. A row gives the
median milliseconds per training step (warm-up steps, which compile, are excluded; the
median is over `repeats` rounds of `steps` steps) and, for LSTM and GRU layers, which
implementation ran: `recurrent_path` applies Keras 3.15's rules for its fused paths
(cuDNN on a GPU; JAX's scan GRU; the PyTorch backend's loop over time), which
`use_cudnn=True` does not prove (PyTorch accepts it silently on a CPU).

In a notebook, `time_training(model, x, y)` times one model on the active backend, and
`median_of_rounds(seconds)` applies the same protocol to steps timed elsewhere (inside `fit`).
Nothing here imports keras or a framework until a function needs it.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time

from kerasdl.backend import BACKENDS, normalize

CASES = {  # name -> what is timed (the char-RNN exercise's model, chapter 01's SimpleCNN)
    "lstm": "Embedding(100, 64) → LSTM(units, return_sequences=True) → Dense(100)",
    "gru": "Embedding(100, 64) → GRU(units, return_sequences=True) → Dense(100)",
    "lstm-loop": "the LSTM model with use_cudnn=False: Keras's generic loop over time",
    "cnn": "SimpleCNN: Conv2D(16, 3) → pool → Conv2D(32, 3) → pool → Dense(10), 28×28×1 images",
}
NATIVE_CASES = ("lstm", "gru", "cnn")  # the ones native PyTorch runs too
VOCABULARY, EMBEDDING = 100, 64
CPU_SIZES = {"units": 128, "batch_size": 32, "sequence_length": 100}
GPU_SIZES = {"units": 256, "batch_size": 64, "sequence_length": 100}  # the char-RNN exercise's size
_MARK = "KERASDL_BENCH "  # the line of worker output that carries the rows


# ---------------------------------------------------------------- timing


def time_steps(step, warmup=2, steps=3, repeats=3):
    """Return {"ms_per_step": median over rounds, "rounds": [ms per step of each round], "warmup_ms": [...]}.

    `step()` runs one training step and must not return before the work is done (Keras's
    `train_on_batch` returns NumPy values, which waits for the device). The first `warmup`
    calls (tracing, compiling, allocating) are timed separately and excluded.
    """
    _counts(warmup, steps, repeats)
    seconds = []
    for _ in range(warmup + steps * repeats):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return median_of_rounds(seconds, warmup, steps)


def median_of_rounds(seconds, warmup=2, steps=3):
    """Return time_steps's dict from the seconds of consecutive steps, each timed on its own.

    For steps timed where time_steps cannot call them (inside `fit`, in a DDP loop): the first
    `warmup` are reported apart and excluded, the rest cut into rounds of `steps` (a last,
    shorter round is left out), and ms_per_step is the median over the rounds of their means.
    """
    _counts(warmup, steps, 1)
    try:
        if isinstance(seconds, (str, bytes)):
            raise TypeError
        seconds = [float(s) for s in seconds]
    except (TypeError, ValueError):
        raise ValueError(f"seconds must be a list of step times in seconds, got {seconds!r}") from None
    if len(seconds) < warmup + steps:
        raise ValueError(
            f"got {len(seconds)} step times for {warmup} warm-up steps and rounds of {steps}: "
            "time more steps, or lower warmup or steps"
        )
    timed = seconds[warmup:]
    rounds = [1000 * sum(timed[i : i + steps]) / steps for i in range(0, len(timed) - steps + 1, steps)]
    return {
        "ms_per_step": statistics.median(rounds),
        "rounds": rounds,
        "warmup_ms": [1000 * s for s in seconds[:warmup]],
    }


def _counts(warmup, steps, repeats):
    for name, value, least in (("warmup", warmup, 0), ("steps", steps, 1), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")


def time_training(model, x, y, warmup=2, steps=3, repeats=3):
    """Return time_steps's dict for `model.train_on_batch(x, y)` (a compiled Keras model, one batch)."""
    if not callable(getattr(model, "train_on_batch", None)):
        raise ValueError(f"model must be a compiled Keras model, got {type(model).__name__}")
    return time_steps(lambda: model.train_on_batch(x, y), warmup, steps, repeats)


# ---------------------------------------------------------------- which implementation runs


def _gpu():
    """Return True if the active backend puts new tensors on a CUDA GPU."""
    import keras

    name = keras.config.backend()
    if name == "jax":
        import jax

        return jax.default_backend() == "gpu"
    if name == "torch":
        import torch

        return torch.cuda.is_available() and torch.backends.cudnn.is_available()
    if name == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    return False


def recurrent_path(layer, masked=False):
    """Return (path, reason): which implementation an LSTM or GRU layer runs here, by Keras 3.15's rules.

    path is "cuDNN", "JAX scan GRU" (inputs projected once, then lax.scan), "PyTorch loop"
    (inputs projected once, then a Python loop over time) or "generic loop" (the cell called once
    per step by keras.layers.RNN). `masked`: whether the layer gets a mask.
    """
    import keras
    from keras import activations, ops

    if not isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
        raise ValueError(f"layer must be a keras.layers.LSTM or GRU, got {type(layer).__name__}")
    name, gru = keras.config.backend(), isinstance(layer, keras.layers.GRU)
    standard = (
        layer.cell.activation in (activations.tanh, ops.tanh)
        and layer.cell.recurrent_activation in (activations.sigmoid, ops.sigmoid)
        and not layer.unroll
        and layer.cell.use_bias
    )
    if gru and name == "tensorflow":
        standard = standard and layer.cell.reset_after
    if layer.use_cudnn is False:
        return "generic loop", "use_cudnn=False"
    if layer.recurrent_dropout:
        return "generic loop", "recurrent_dropout > 0"
    if gru and not layer.cell.reset_after and name != "tensorflow":
        return "generic loop", "reset_after=False"
    if masked and name in ("jax", "torch"):
        return "generic loop", f"a mask (the {name} backend's fused paths take none)"
    if gru and name == "jax":
        if layer.unroll:
            return "generic loop", "unroll=True"
        return "JAX scan GRU", "reset_after=True, no mask" + ("" if _gpu() else " (there is no cuDNN GRU in JAX)")
    if standard and _gpu():
        return "cuDNN", "tanh/sigmoid, use_bias, no unroll, no recurrent dropout, on a GPU"
    reason = "no GPU" if standard else "activations, use_bias, unroll or reset_after rule cuDNN out"
    if name == "torch":
        return "PyTorch loop", reason
    return "generic loop", reason


# ---------------------------------------------------------------- the models


def build(
    case,
    units=CPU_SIZES["units"],
    batch_size=CPU_SIZES["batch_size"],
    sequence_length=CPU_SIZES["sequence_length"],
    seed=0,
):
    """Return (model, x, y): the case's compiled Keras model and one batch of random data for it."""
    import keras
    import numpy as np
    from keras import layers

    if case not in CASES:
        raise ValueError(f"unknown case {case!r}: choose from {', '.join(CASES)}")
    rng = np.random.default_rng(seed)
    if case == "cnn":
        inputs = keras.Input(shape=(28, 28, 1))  # (batch, 28, 28, 1)
        hidden = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)  # (batch, 28, 28, 16)
        hidden = layers.MaxPooling2D(2)(hidden)  # (batch, 14, 14, 16)
        hidden = layers.Conv2D(32, 3, padding="same", activation="relu")(hidden)  # (batch, 14, 14, 32)
        hidden = layers.MaxPooling2D(2)(hidden)  # (batch, 7, 7, 32)
        outputs = layers.Dense(10)(layers.Flatten()(hidden))  # (batch, 10)
        x = rng.random((batch_size, 28, 28, 1), dtype=np.float32)
        y = rng.integers(0, 10, size=batch_size)
    else:
        inputs = keras.Input(shape=(sequence_length,), dtype="int32")  # (batch, time)
        hidden = layers.Embedding(VOCABULARY, EMBEDDING)(inputs)  # (batch, time, 64)
        recurrent = layers.GRU if case == "gru" else layers.LSTM
        options = {"use_cudnn": False} if case == "lstm-loop" else {}
        hidden = recurrent(units, return_sequences=True, **options)(hidden)  # (batch, time, units)
        outputs = layers.Dense(VOCABULARY)(hidden)  # (batch, time, 100)
        x = rng.integers(0, VOCABULARY, size=(batch_size, sequence_length)).astype(np.int32)
        y = rng.integers(0, VOCABULARY, size=(batch_size, sequence_length))
    model = keras.Model(inputs, outputs, name=case.replace("-", "_"))
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, x, y


def _native(case, units, batch_size, sequence_length, device, seed=0):
    """Return a zero-argument function running one native PyTorch training step of `case`."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    if case == "cnn":
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 10),
        )
        x = torch.rand(batch_size, 1, 28, 28)  # (batch, channels, height, width)
        y = torch.randint(0, 10, (batch_size,))
    else:
        recurrent = (nn.GRU if case == "gru" else nn.LSTM)(EMBEDDING, units, batch_first=True)

        class CharModel(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding, self.recurrent = nn.Embedding(VOCABULARY, EMBEDDING), recurrent
                self.output = nn.Linear(units, VOCABULARY)

            def forward(self, ids):  # (batch, time)
                hidden, _ = self.recurrent(self.embedding(ids))  # (batch, time, units)
                return self.output(hidden).reshape(-1, VOCABULARY)  # (batch * time, 100)

        model = CharModel()
        x = torch.randint(0, VOCABULARY, (batch_size, sequence_length))
        y = torch.randint(0, VOCABULARY, (batch_size * sequence_length,))
    model, x, y = model.to(device), x.to(device), y.to(device)
    optimizer = torch.optim.Adam(model.parameters())

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()  # waits for the GPU

    return step


# ---------------------------------------------------------------- one process


def _device_text(gpu):
    from kerasdl import runtime

    return (runtime.accelerator() or "GPU") if gpu else "CPU"


def measure(
    cases=tuple(CASES), units=None, batch_size=None, sequence_length=None, gpu=False, warmup=2, steps=3, repeats=3
):
    """Return one row per case on the active backend, in this process: {backend, model, ms_per_step, path, ...}."""
    import keras

    from kerasdl import runtime

    sizes = _sizes(gpu, units, batch_size, sequence_length)
    name = keras.config.backend()
    on_gpu = _gpu()
    if gpu and not on_gpu:
        return [
            {"backend": name, "implementation": "Keras", "model": case, "error": f"no CUDA GPU visible to {name}"}
            for case in cases
        ]
    rows = []
    for case in cases:
        runtime.set_seed(0)
        model, x, y = build(case, **sizes)
        timing = time_training(model, x, y, warmup, steps, repeats)
        recurrent = [layer for layer in model.layers if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU))]
        path, reason = recurrent_path(recurrent[0]) if recurrent else ("", "")
        rows.append(
            {
                "backend": name,
                "implementation": "Keras",
                "model": case,
                "path": path,
                "reason": reason,
                "device": _device_text(on_gpu),
                "threads": os.environ.get("OMP_NUM_THREADS"),
                **sizes,
                **timing,
            }
        )
    return rows


def measure_native(
    cases=NATIVE_CASES, units=None, batch_size=None, sequence_length=None, gpu=False, warmup=2, steps=3, repeats=3
):
    """Return one row per case for native PyTorch (nn.LSTM, nn.GRU, nn.Conv2d), in this process."""
    import torch

    sizes = _sizes(gpu, units, batch_size, sequence_length)
    if gpu and not torch.cuda.is_available():
        return [
            {"backend": "PyTorch", "implementation": "native", "model": case, "error": "no CUDA GPU visible to PyTorch"}
            for case in cases
        ]
    device = "cuda" if gpu else "cpu"
    rows = []
    for case in [c for c in cases if c in NATIVE_CASES]:
        timing = time_steps(_native(case, device=device, **sizes), warmup, steps, repeats)
        path = ("cuDNN" if gpu else "ATen CPU kernel") if case != "cnn" else ""
        rows.append(
            {
                "backend": "PyTorch",
                "implementation": "native",
                "model": case,
                "path": path,
                "reason": "",
                "device": _device_text(gpu) if gpu else "CPU",
                "threads": os.environ.get("OMP_NUM_THREADS"),
                **sizes,
                **timing,
            }
        )
    return rows


def _sizes(gpu, units, batch_size, sequence_length):
    sizes = dict(GPU_SIZES if gpu else CPU_SIZES)
    for key, value in (("units", units), ("batch_size", batch_size), ("sequence_length", sequence_length)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{key} must be a whole number >= 1, got {value!r}")
            sizes[key] = value
    return sizes


# ---------------------------------------------------------------- several processes


def _environment(name, gpu):
    environment = {k: v for k, v in os.environ.items() if k != "KERASDL_KERNEL"}
    environment.update(KERAS_BACKEND=name, TF_CPP_MIN_LOG_LEVEL="3", XLA_PYTHON_CLIENT_PREALLOCATE="false")
    if not gpu:  # time the CPU even on a machine with a GPU
        environment.update(CUDA_VISIBLE_DEVICES="", JAX_PLATFORMS="cpu")
    return environment


def _worker(name, settings, timeout):
    """Return the rows a fresh Python on backend `name` measured (or one error row per case)."""
    command = [sys.executable, "-m", "kerasdl.bench", "--worker", json.dumps(settings)]
    try:
        done = subprocess.run(
            command, env=_environment(name, settings["gpu"]), capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        problem = f"ran past {timeout:g} s"
    else:
        for line in done.stdout.splitlines():
            if line.startswith(_MARK):
                return json.loads(line[len(_MARK) :])
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        problem = lines[-1] if lines else f"exit code {done.returncode}"
    rows = [{"backend": name, "implementation": "Keras", "model": case, "error": problem} for case in settings["cases"]]
    return rows + [
        {"backend": "PyTorch", "implementation": "native", "model": case, "error": problem}
        for case in (NATIVE_CASES if settings["native"] else ())
    ]


def run(
    backends=None,
    gpu=False,
    cases=tuple(CASES),
    native=True,
    units=None,
    batch_size=None,
    sequence_length=None,
    warmup=2,
    steps=3,
    repeats=3,
    timeout=600,
    echo=print,
):
    """Return the rows of every backend, each measured in its own Python process, one after the other.

    Backends whose framework is not installed are skipped with one line through `echo`; with
    `native`, native PyTorch runs the LSTM, GRU and CNN too where PyTorch is installed. With `gpu`,
    the models run on the GPU (a backend that sees none gives an error row); without it, on the CPU.
    """
    from kerasdl import crossbackend

    names = [normalize(name) for name in (BACKENDS if backends in (None, "all") else backends)]
    unknown = [case for case in cases if case not in CASES]
    if unknown:
        raise ValueError(f"unknown case {unknown[0]!r}: choose from {', '.join(CASES)}")
    _sizes(gpu, units, batch_size, sequence_length)  # bad settings fail here, not in every process
    _counts(warmup, steps, repeats)
    settings = {
        "cases": list(cases),
        "units": units,
        "batch_size": batch_size,
        "sequence_length": sequence_length,
        "gpu": bool(gpu),
        "warmup": warmup,
        "steps": steps,
        "repeats": repeats,
        "native": False,
    }
    rows = []
    native_done = not native or not crossbackend.installed("torch")
    if native and native_done:
        echo("skipped native PyTorch: PyTorch is not installed in this environment")
    for name in names:
        if not crossbackend.installed(name):
            echo(f"skipped {name}: {crossbackend.FRAMEWORKS[name][1]} is not installed in this environment")
            continue
        here = dict(settings, native=name == "torch" and not native_done)
        native_done = native_done or here["native"]
        echo(f"timing {name} ...")
        rows += _worker(name, here, timeout)
    if not native_done:
        echo("timing native PyTorch ...")
        rows += _worker("torch", dict(settings, cases=[], native=True), timeout)
    return rows


def table(rows):
    """Return the rows as a text table: one block per model, ms/step, × the fastest, and the path taken."""
    if not rows:
        return "no measurements"
    lines = [f"{'model':<10}{'backend':<12}{'implementation':<16}{'ms/step':>9}{'× fastest':>11}  path"]
    for case in dict.fromkeys(row["model"] for row in rows):
        group = [row for row in rows if row["model"] == case]
        timed = [row["ms_per_step"] for row in group if "ms_per_step" in row]
        fastest = min(timed) if timed else math.nan
        for row in sorted(group, key=lambda r: r.get("ms_per_step", math.inf)):
            if "error" in row:
                lines.append(
                    f"{case:<10}{row['backend']:<12}{row.get('implementation', ''):<16}{'—':>9}{'':>11}  {row['error']}"
                )
                continue
            ratio = row["ms_per_step"] / fastest
            lines.append(
                f"{case:<10}{row['backend']:<12}{row['implementation']:<16}{row['ms_per_step']:>9.1f}"
                f"{ratio:>10.2f}×  {row['path']}"
            )
    sized = next((row for row in rows if "units" in row), None)
    if sized:
        lines.append(
            f"recurrent models: {sized['units']} units, batch {sized['batch_size']} × "
            f"{sized['sequence_length']} steps; CNN: batch {sized['batch_size']}; device "
            f"{sized['device']}; OMP_NUM_THREADS={sized.get('threads') or 'unset'}; median of "
            f"{len(sized['rounds'])} rounds, warm-up excluded"
        )
    return "\n".join(lines)


def _main(argv):
    if len(argv) != 2 or argv[0] != "--worker":
        print("usage: python -m kerasdl.bench --worker '<settings as JSON>' (the kerasdl bench command runs this)")
        return 2
    settings = json.loads(argv[1])
    sizes = {key: settings[key] for key in ("units", "batch_size", "sequence_length", "gpu")}
    timing = {key: settings[key] for key in ("warmup", "steps", "repeats")}
    rows = measure(settings["cases"], **sizes, **timing) if settings["cases"] else []
    if settings["native"]:
        rows += measure_native(**sizes, **timing)
    print(_MARK + json.dumps(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

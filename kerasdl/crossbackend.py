"""Run code on the other backends: one fresh Python process per backend.

A kernel cannot switch its own backend (Keras fixes it at import), so to compare
backends the kit starts `python` with KERAS_BACKEND set, once per backend, all at
once (most of their time is spent importing). A backend whose framework is not
installed is skipped with one printed line.

    outputs = crossbackend.run(
        "outputs['y'] = keras.ops.convert_to_numpy(keras.ops.exp(inputs['x']))", inputs={"x": x})
    outputs["torch"]["y"]  # a NumPy array computed by PyTorch
"""

import importlib.util
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from kerasdl.backend import BACKENDS, normalize
from kerasdl.errors import KerasdlError

# The module each backend needs, and the name learners know it by.
FRAMEWORKS = {"jax": ("jax", "JAX"), "torch": ("torch", "PyTorch"), "tensorflow": ("tensorflow", "TensorFlow")}

_PROGRAM = """
import sys
import numpy as np
import keras

with np.load(sys.argv[1]) as saved:
    inputs = {name: saved[name] for name in saved.files}
outputs = {}
exec(compile(sys.argv[3], "<snippet>", "exec"))
np.savez(sys.argv[2], **{name: np.asarray(value) for name, value in outputs.items()})
"""


class CrossBackendError(KerasdlError):
    """The code failed in another backend's process."""


def installed(name):
    """Return True if the framework behind backend `name` can be imported here (without importing it)."""
    module, _ = FRAMEWORKS[normalize(name)]
    return importlib.util.find_spec(module) is not None


def _one(name, code, inputs_path, folder, timeout, extra_environment):
    output_path = Path(folder) / f"{name}.npz"
    environment = {k: v for k, v in os.environ.items() if k != "KERASDL_KERNEL"}
    environment.update(extra_environment or {})
    environment.update(KERAS_BACKEND=name, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROGRAM, str(inputs_path), str(output_path), code],
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise CrossBackendError(f"the {name} process ran past {timeout:g} s: raise `timeout`") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit code {done.returncode}"
        raise CrossBackendError(f"on {name}: {last}")
    with np.load(output_path) as saved:
        return {key: saved[key] for key in saved.files}


def run(code, backends=None, inputs=None, timeout=600, echo=print, environment=None):
    """Run `code` once per backend in a fresh Python; return {backend: {name: NumPy array}}.

    The code sees `keras` (on that backend), `np`, `inputs` (the dict of arrays
    given here) and fills the dict `outputs`. `backends` defaults to all three;
    those whose framework is missing are skipped, with one line through `echo`.
    `environment` adds variables to the processes' environment (for settings
    read at import, such as XLA_FLAGS).
    Raises CrossBackendError with the failing backend's last error line.
    """
    names = [normalize(name) for name in (BACKENDS if backends is None else backends)]
    if not isinstance(code, str) or not code.strip():
        raise ValueError("code must be a non-empty string of Python that fills `outputs`")
    present = []
    for name in names:
        if installed(name):
            present.append(name)
        else:
            echo(f"skipped {name}: {FRAMEWORKS[name][1]} is not installed in this environment")
    if not present:
        return {}
    arrays = {key: np.asarray(value) for key, value in (inputs or {}).items()}
    with tempfile.TemporaryDirectory(prefix="kerasdl-cross-") as folder:
        inputs_path = Path(folder) / "inputs.npz"
        np.savez(inputs_path, **arrays)
        with ThreadPoolExecutor(len(present)) as pool:
            futures = {
                name: pool.submit(_one, name, code, inputs_path, folder, timeout, environment) for name in present
            }
            return {name: future.result() for name, future in futures.items()}


_PREDICT = """
from kerasdl import precision

model = keras.saving.load_model(str(inputs["model_path"]))
with precision.exact_matmul():  # full float32 on a GPU too, so that backends compare like with like
    outputs["predictions"] = model.predict(inputs["x"], verbose=0)
"""


def load_and_predict(model_path, x, backends=None, timeout=600, echo=print):
    """Load the `.keras` file at `model_path` on each backend and predict `x`; return {backend: predictions}.

    Each process predicts inside `precision.exact_matmul()` (no TF32 on a GPU); compare
    with predictions made the same way.
    """
    path = Path(model_path)
    if path.suffix != ".keras" or not path.is_file():
        raise ValueError(f"{model_path} is not a .keras file: save the model with model.save('name.keras') first")
    done = run(_PREDICT, backends, inputs={"model_path": str(path.resolve()), "x": x}, timeout=timeout, echo=echo)
    return {name: outputs["predictions"] for name, outputs in done.items()}

"""Which Keras backend is active, why, and a clear error when it is the wrong one."""

import json
import os
import sys
from pathlib import Path

from kerasdl.errors import BackendError

BACKENDS = ("jax", "torch", "tensorflow")
DEFAULT = "jax"  # fastest of the three for the course's models on CPU (README)
_ALIASES = {"tf": "tensorflow", "pytorch": "torch"}


def normalize(name):
    """Return the canonical backend name for `name` ("tf" -> "tensorflow"), or raise BackendError."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")
    return key


def keras_json_path():
    """Return the path of keras.json (under $KERAS_HOME, else ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    return Path(home) / "keras.json"


def active():
    """Return (backend, reason): the backend keras uses or will use, and where that comes from."""
    if "keras" in sys.modules:
        import keras

        return keras.config.backend(), "keras is already imported"
    if os.environ.get("KERAS_BACKEND"):
        kernel = os.environ.get("KERASDL_KERNEL")
        reason = f"set by the Jupyter kernel {kernel!r}" if kernel else "the KERAS_BACKEND environment variable"
        return os.environ["KERAS_BACKEND"], reason
    path = keras_json_path()
    try:
        configured = json.loads(path.read_text()).get("backend")
    except (OSError, ValueError):
        configured = None
    if configured:
        return configured, f"{path}"
    return "tensorflow", "Keras's built-in default (nothing else set)"


KERNEL_CHOICES = "Keras 3 · JAX / PyTorch / TensorFlow (kerasdl)"  # the kit kernels' display names
_noted = False


def _in_other_jupyter_kernel():
    """Return True inside a Jupyter kernel that is not one of the kit's (e.g. "Python 3 (ipykernel)")."""
    app = sys.modules.get("ipykernel.kernelapp")
    return bool(app and app.IPKernelApp.initialized() and not os.environ.get("KERASDL_KERNEL"))


def check():
    """Return the active backend's name; raise BackendError if the kit does not support it.

    In a Jupyter kernel that is not one of the kit's, it also prints once which backend
    that kernel got and how to pick a kit kernel instead.
    """
    global _noted
    name, reason = active()
    if name not in BACKENDS:
        raise BackendError(
            f"backend {name!r} ({reason}) is not one of {', '.join(BACKENDS)}: "
            "pick a kerasdl kernel or set KERAS_BACKEND, then restart the kernel"
        )
    if not _noted and _in_other_jupyter_kernel():
        _noted = True
        print(
            f"This kernel is not one of the kit's: Keras uses the {name} backend ({reason}).\n"
            f"To choose the backend, use Kernel → Change Kernel… → {KERNEL_CHOICES}."
        )
    return name


def use(name):
    """Select backend `name` before keras is imported; return it.

    Raises BackendError if keras already runs another backend: Keras fixes its
    backend at import, so the only clean switch is a kernel restart.
    """
    name = normalize(name)
    if "keras" in sys.modules:
        import keras

        current = keras.config.backend()
        if current != name:
            raise BackendError(
                f"keras is already imported with the {current!r} backend; restart the "
                f"kernel (or choose the kerasdl-{name} kernel) and select {name!r} "
                "before anything imports keras"
            )
        return name
    os.environ["KERAS_BACKEND"] = name
    return name

"""Install, list and remove one Jupyter kernel per Keras backend.

Each kernelspec sets KERAS_BACKEND in its `env`, which overrides the shell,
so in JupyterLab a learner switches backend with Kernel -> Change Kernel.

The kernels do not forward output written straight to file descriptors 1 and 2
(ipykernel's `capture_fd_output`): TensorFlow 2.21 writes absl and oneDNN log
lines there on import whatever TF_CPP_MIN_LOG_LEVEL says, and they would land
in the first cell that imports keras. Python's own prints, warnings and
tracebacks still reach the notebook; the C++ lines go to the terminal that
started Jupyter.
"""

import json
import sys
import tempfile
from pathlib import Path

from kerasdl import backend
from kerasdl.errors import KerasdlError

PREFIX = "kerasdl-"
DISPLAY_NAMES = {
    "jax": "Keras 3 · JAX (kerasdl)",
    "torch": "Keras 3 · PyTorch (kerasdl)",
    "tensorflow": "Keras 3 · TensorFlow (kerasdl)",
}


def kernel_name(name):
    """Return the kernel name for backend `name`, e.g. "kerasdl-jax"."""
    return PREFIX + backend.normalize(name)


def spec(name, python=None):
    """Return the kernel.json contents for backend `name`."""
    name = backend.normalize(name)
    return {
        "argv": [
            python or sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.capture_fd_output=False",
        ],
        "display_name": DISPLAY_NAMES[name],
        "language": "python",
        "env": {
            "KERAS_BACKEND": name,
            "KERASDL_KERNEL": PREFIX + name,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
        },
        "metadata": {"kerasdl": {"backend": name}, "debugger": True},
    }


def _manager():
    from jupyter_client.kernelspec import KernelSpecManager

    return KernelSpecManager()


def install(names=backend.BACKENDS, user=False, prefix=None):
    """Install a kernel per backend into this environment, the user's Jupyter dir or `prefix`; return their paths."""
    manager = _manager()
    paths = []
    for name in names:
        kernel = kernel_name(name)
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / "kernel.json").write_text(json.dumps(spec(name), indent=1))
            target = None if user else (prefix or sys.prefix)
            paths.append(manager.install_kernel_spec(folder, kernel, user=user, prefix=target))
    return paths


def installed():
    """Return {kernel name: folder} for the kerasdl kernels Jupyter can find."""
    found = _manager().find_kernel_specs()
    return {k: v for k, v in sorted(found.items()) if k.startswith(PREFIX)}


def remove(names=backend.BACKENDS):
    """Remove the kernels for `names`; return the names that were removed."""
    manager = _manager()
    present = installed()
    removed = []
    for name in names:
        kernel = kernel_name(name)
        if kernel in present:
            manager.remove_kernel_spec(kernel)
            removed.append(kernel)
    return removed


def read_spec(folder):
    """Return the kernel.json in `folder` as a dict, or raise a one-line KerasdlError if it is unreadable."""
    path = Path(folder) / "kernel.json"
    try:
        spec = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        reason = "is not valid JSON" if isinstance(error, ValueError) else f"cannot be read ({error.strerror})"
        raise KerasdlError(f"{path} {reason}: run `kerasdl kernels install` to rewrite it") from None
    argv = spec.get("argv") if isinstance(spec, dict) else None
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        raise KerasdlError(f"{path} has no command line (argv): run `kerasdl kernels install` to rewrite it")
    return spec


def require(name):
    """Return the kernel name for backend `name`, or raise if it is not installed or points at a missing Python."""
    kernel = kernel_name(name)
    folder = installed().get(kernel)
    if folder is None:
        raise KerasdlError(f"Jupyter kernel {kernel!r} is not installed: run `kerasdl kernels install` (or `make run`)")
    python = read_spec(folder)["argv"][0]
    if not Path(python).exists():
        raise KerasdlError(
            f"kernel {kernel!r} points at {python}, which no longer exists: run `kerasdl kernels install`"
        )
    return kernel

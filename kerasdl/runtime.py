"""Versions, devices, seeding and the run profile for the active backend.

Run ``python -m kerasdl.runtime`` for a report, ``--json`` for a machine-readable one.
"""

import importlib.metadata
import json
import os
import platform
import sys

from kerasdl import backend
from kerasdl.errors import KerasdlError

PROFILES = ("quick", "full")

# Distribution names to try for each package (the first one installed wins).
_DISTRIBUTIONS = {
    "keras": ["keras"],
    "numpy": ["numpy"],
    "jax": ["jax"],
    "jaxlib": ["jaxlib"],
    "torch": ["torch"],
    "tensorflow": ["tensorflow", "tensorflow-cpu", "tensorflow-macos"],
}


def profile():
    """Return the run profile from $KERASDL_PROFILE: "quick" (tests) or "full" (default)."""
    value = os.environ.get("KERASDL_PROFILE", "full").strip().lower() or "full"
    if value not in PROFILES:
        raise KerasdlError(f"KERASDL_PROFILE={value!r} is not a profile: use 'quick' or 'full'")
    return value


def versions():
    """Return {package: version or None} for Python, keras, NumPy and each framework, without importing them."""
    found = {"python": platform.python_version()}
    for package, names in _DISTRIBUTIONS.items():
        found[package] = None
        for name in names:
            try:
                found[package] = importlib.metadata.version(name)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return found


def devices(name=None):
    """Return [(kind, description), ...] for the devices framework `name` (default: active backend) sees.

    This imports the framework itself. Backend branches belong here (and in
    kerasdl.autodiff) and nowhere else in the kit.
    """
    name = backend.normalize(name or backend.check())
    if name == "jax":
        import jax

        return [(d.platform.upper(), getattr(d, "device_kind", str(d))) for d in jax.devices()]
    if name == "torch":
        import torch

        found = [("CPU", platform.processor() or platform.machine())]
        for i in range(torch.cuda.device_count()):
            found.append(("GPU", torch.cuda.get_device_name(i)))
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            found.append(("MPS", "Apple Metal"))
        return found
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices():
        detail = device.name
        if device.device_type == "GPU":
            detail = tf.config.experimental.get_device_details(device).get("device_name", detail)
        found.append((device.device_type, detail))
    return found


def accelerator(name=None):
    """Return the first GPU's description for the backend, or None on CPU only."""
    return next((desc for kind, desc in devices(name) if kind in ("GPU", "CUDA", "ROCM", "MPS")), None)


SIMULATED_DEVICES = 2  # CPU devices to simulate when the backend sees no GPU and no count is given
_DEVICE_COUNT_FLAG = "--xla_force_host_platform_device_count"


def parallel_devices(count=None, name=None):
    """Return the names of `count` devices for parallel training: the backend's GPUs, else simulated CPU devices.

    `count` None means every GPU the backend sees, or SIMULATED_DEVICES CPU devices
    without one. When the backend sees fewer GPUs than `count`, every device is a CPU
    device, so that one-device and parallel runs use the same kind:
      jax:        XLA_FLAGS=--xla_force_host_platform_device_count (set here if jax is not
                  imported yet, else restart); with GPUs present, CPU 0 becomes JAX's default;
      tensorflow: the CPU split into logical devices before its first operation, GPUs hidden;
      torch:      "cpu" once per process (PyTorch runs one process per device).
    Names are what each engine takes: "gpu:0" / "cpu:0" (keras.distribution),
    "/device:GPU:0" (tf.distribute), "cuda:0" / "cpu" (a PyTorch process's device).
    """
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ValueError(f"count must be a positive int or None, got {count!r}")
    name = backend.normalize(name or backend.check())
    wanted = count or SIMULATED_DEVICES  # if it comes to simulating
    if name == "jax":
        return _jax_devices(count, wanted)
    if name == "torch":
        import torch

        gpus = torch.cuda.device_count()
        if gpus and (count or gpus) <= gpus:
            return [f"cuda:{index}" for index in range(count or gpus)]
        return ["cpu"] * wanted
    return _tensorflow_devices(count, wanted)


def _jax_devices(count, wanted):
    if "jax" not in sys.modules:  # XLA reads its flags once, when jax is imported
        flags = [flag for flag in os.environ.get("XLA_FLAGS", "").split() if not flag.startswith(_DEVICE_COUNT_FLAG)]
        os.environ["XLA_FLAGS"] = " ".join(flags + [f"{_DEVICE_COUNT_FLAG}={wanted}"])
    import jax

    gpus = [device for device in jax.devices() if device.platform != "cpu"]
    if gpus and (count or len(gpus)) <= len(gpus):
        return [f"{device.platform}:{device.id}" for device in gpus[: count or len(gpus)]]
    cpus = jax.devices("cpu")
    if len(cpus) < wanted:
        raise KerasdlError(
            f"JAX sees {len(cpus)} CPU device(s), not {wanted}: jax was imported before "
            f"XLA_FLAGS={_DEVICE_COUNT_FLAG}={wanted} was set; restart the kernel and ask first"
        )
    if gpus:  # one-device runs then use a CPU device too
        jax.config.update("jax_default_device", cpus[0])
    return [f"cpu:{device.id}" for device in cpus[:wanted]]


def _tensorflow_devices(count, wanted):
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus and (count or len(gpus)) <= len(gpus):
        for gpu in gpus:  # take memory as needed, not all of it: other processes share the GPUs
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # TensorFlow already started: it keeps what it has
                pass
        return [f"/device:GPU:{index}" for index in range(count or len(gpus))]
    cpu = tf.config.list_physical_devices("CPU")[0]
    split = tf.config.get_logical_device_configuration(cpu)
    if split is None and (wanted > 1 or gpus):
        try:
            if gpus:
                tf.config.set_visible_devices([], "GPU")
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * wanted)
        except RuntimeError:
            raise KerasdlError(
                "TensorFlow has already run an operation, so its devices are fixed: restart the kernel "
                "and ask for the devices before anything else"
            ) from None
    names = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(names) < wanted:
        raise KerasdlError(
            f"TensorFlow has {len(names)} logical CPU device(s), not {wanted}: restart the kernel and ask first"
        )
    return names[:wanted]


def placement(model):
    """Return one row per variable of `model`: {"path", "shape", "devices", "bytes_per_device"}.

    "devices" counts the devices holding a piece (or a copy) of the variable and
    "bytes_per_device" is the largest piece's size: a variable sharded by
    keras.distribution on JAX shows its pieces, a replicated one its full size.
    """
    import numpy as np

    rows = []
    for variable in model.weights:
        value = variable.value
        shards = getattr(value, "addressable_shards", None)  # JAX arrays know their pieces
        if shards:
            devices = len({shard.device for shard in shards})
            largest = max(shard.data.nbytes for shard in shards)
        else:
            copies = getattr(value, "values", None)  # a TensorFlow MirroredVariable: one copy per replica
            devices = len(copies) if isinstance(copies, (list, tuple)) else 1
            largest = int(np.prod(variable.shape)) * np.dtype(variable.dtype).itemsize
        rows.append(
            {
                "path": variable.path,
                "shape": tuple(variable.shape),
                "devices": devices,
                "bytes_per_device": int(largest),
            }
        )
    return rows


def set_seed(seed=0, deterministic=False):
    """Seed Python, NumPy, the active backend and Keras's own generator; return `seed`.

    Same seed + same backend + CPU gives identical runs. Unlike
    keras.utils.set_random_seed, this touches TensorFlow only when it is the
    backend (Keras's function imports it whenever it is installed: seconds of
    start-up and log lines on JAX and PyTorch). On GPU, some kernels are
    non-deterministic unless `deterministic=True`, which turns on:
      tensorflow: tf.config.experimental.enable_op_determinism()
      torch:      torch.use_deterministic_algorithms(True) and
                  CUBLAS_WORKSPACE_CONFIG=:4096:8 (needed by cuBLAS)
      jax:        XLA_FLAGS=--xla_gpu_deterministic_ops=true, which only takes
                  effect if set before jax is imported (restart the kernel).
    Different backends draw different random numbers from the same seed.
    """
    import random

    import keras
    import numpy as np

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    name = keras.config.backend()
    try:  # what keras.utils.set_random_seed does, minus `import tensorflow`
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils import rng_utils
    except ImportError:  # another Keras layout: its own function, TensorFlow import and all
        keras.utils.set_random_seed(seed)
    else:
        global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
        global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
        random.seed(seed)
        np.random.seed(seed)
        if name == "tensorflow":
            import tensorflow as tf

            tf.random.set_seed(seed)
        elif name == "torch":
            import torch

            torch.manual_seed(seed)
    if not deterministic:
        return seed
    if name == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif name == "torch":
        import torch

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
    elif name == "jax":
        flag = "--xla_gpu_deterministic_ops=true"
        if flag not in os.environ.get("XLA_FLAGS", ""):
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flag).strip()
            if "jax" in sys.modules:
                print("note: XLA_FLAGS set after jax was imported; restart the kernel for GPU determinism")
    return seed


def describe():
    """Return a dict with the active backend, why it is active, versions, devices and profile."""
    name, reason = backend.active()
    try:
        chosen = profile()
    except KerasdlError as error:
        chosen = f"invalid: {error}"
    info = {"backend": name, "reason": reason, "profile": chosen, "versions": versions()}
    try:
        info["devices"] = [list(d) for d in devices(name)]
    except (ImportError, KerasdlError) as error:
        info["devices"] = []
        info["error"] = str(error).splitlines()[0]
    return info


def report():
    """Print the runtime in a few lines: backend and why, versions, devices, profile."""
    info = describe()
    v = info["versions"]
    print(f"backend   {info['backend']}  ({info['reason']})")
    print(f"profile   {info['profile']}  (KERASDL_PROFILE)")
    framework = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}.get(info["backend"])
    print(
        f"versions  python {v['python']}, keras {v['keras']}, numpy {v['numpy']}"
        + (f", {framework} {v.get(framework)}" if framework else "")
    )
    for kind, desc in info["devices"]:
        print(f"device    {kind:<4} {desc}")
    if "error" in info:
        print(f"devices   unavailable: {info['error']}")


if __name__ == "__main__":
    if "--json" in sys.argv[1:]:
        print(json.dumps(describe()))
    else:
        report()

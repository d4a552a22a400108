import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kerasdl import runtime
from kerasdl.errors import KerasdlError

from helpers import BACKEND


def test_profile_defaults_to_full_and_rejects_typos(monkeypatch):
    monkeypatch.delenv("KERASDL_PROFILE", raising=False)
    assert runtime.profile() == "full"
    monkeypatch.setenv("KERASDL_PROFILE", "Quick")
    assert runtime.profile() == "quick"
    monkeypatch.setenv("KERASDL_PROFILE", "fast")
    with pytest.raises(KerasdlError, match="'fast' is not a profile: use 'quick' or 'full'"):
        runtime.profile()


def test_versions_report_every_framework_without_importing_it(backend_name):
    found = runtime.versions()
    assert set(found) == {"python", "keras", "numpy", "jax", "jaxlib", "torch", "tensorflow"}
    assert found["keras"].startswith("3.")
    assert all(found[name] for name in ("jax", "torch", "tensorflow")), found


def test_devices_of_the_active_backend_include_a_processor(backend_name):
    found = runtime.devices()
    assert found and all(len(d) == 2 for d in found)
    assert found[0][0] in ("CPU", "GPU", "CUDA", "TPU", "MPS")


def test_devices_reject_an_unknown_backend():
    with pytest.raises(ValueError, match="unknown backend 'mxnet'"):
        runtime.devices("mxnet")


def test_same_seed_same_numbers_on_this_backend():
    import keras

    def draw(seed):
        runtime.set_seed(seed)
        layer = keras.layers.Dense(4)
        layer.build((None, 3))
        return (
            keras.ops.convert_to_numpy(layer.kernel),
            np.random.rand(2),
            keras.ops.convert_to_numpy(keras.random.normal((3,))),
        )

    first, again, other = draw(7), draw(7), draw(8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_set_seed_rejects_bad_seeds(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        runtime.set_seed(bad)


def test_json_report_names_the_backend_and_its_devices(backend_name):
    env = dict(os.environ, KERAS_BACKEND=backend_name)
    done = subprocess.run(
        [sys.executable, "-m", "kerasdl.runtime", "--json"], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout.splitlines()[-1])
    assert info["backend"] == backend_name
    assert info["profile"] == "quick"
    assert info["devices"] and "error" not in info


def test_report_prints_backend_reason_and_devices(capsys, backend_name):
    runtime.report()
    out = capsys.readouterr().out
    assert out.startswith(f"backend   {backend_name}  (")
    assert "device    " in out and "keras 3." in out


def _fresh_python(code, backend_name, **env):
    """Run `code` in a fresh interpreter on `backend_name` (no XLA_FLAGS from here); return (status, out, err)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "KERASDL_KERNEL")}
    environment.update(KERAS_BACKEND=backend_name, TF_CPP_MIN_LOG_LEVEL="3", **env)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300)
    return done.returncode, done.stdout.strip().splitlines(), done.stderr.strip()


def test_parallel_devices_simulates_cpu_devices_where_the_backend_sees_too_few_gpus(backend_name):
    code = (
        "from kerasdl import runtime\n"
        "print(runtime.parallel_devices(3))\n"
        "print(runtime.parallel_devices(3))  # asking again gives the same devices\n"
        "print(runtime.parallel_devices())\n"
    )
    status, lines, err = _fresh_python(code, backend_name)
    assert status == 0, err
    simulated = {
        "jax": ["cpu:0", "cpu:1", "cpu:2"],
        "tensorflow": ["/device:CPU:0", "/device:CPU:1", "/device:CPU:2"],
        "torch": ["cpu", "cpu", "cpu"],
    }[backend_name]
    first, again, default = (eval(line) for line in lines)
    assert first == again
    if first[0].lower().startswith(("cpu", "/device:cpu")):  # no GPU here, or fewer than 3
        assert first == simulated
        assert default == simulated[:2]  # runtime.SIMULATED_DEVICES
    else:  # three GPUs or more: the GPUs, and all of them by default
        assert len(first) == 3 and len(default) >= 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_parallel_devices_rejects_a_bad_count(bad):
    with pytest.raises(ValueError, match="count must be a positive int or None"):
        runtime.parallel_devices(bad)


@pytest.mark.skipif(BACKEND == "torch", reason="PyTorch's devices are processes: nothing is fixed at import")
def test_parallel_devices_after_the_framework_started_says_to_restart_in_one_line(backend_name):
    started = {"jax": "import jax; jax.devices()", "tensorflow": "import tensorflow as tf; tf.constant(1)"}
    code = (
        f"{started[backend_name]}\n"
        "from kerasdl import runtime\n"
        "try:\n"
        "    print(runtime.parallel_devices(3))\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    status, lines, err = _fresh_python(code, backend_name)
    assert status == 0, err
    if lines[-1].startswith("["):  # three GPUs or more: nothing to simulate
        pytest.skip("this machine has three GPUs or more")
    assert len(lines) == 1 and lines[0].startswith("KerasdlError ") and "restart the kernel" in lines[0]

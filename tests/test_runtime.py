import json
import os
import subprocess
import sys

import numpy as np
import pytest

from kerasdl import runtime
from kerasdl.errors import KerasdlError


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

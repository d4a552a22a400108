import json
import os
import subprocess
import sys

import pytest

from kerasdl import backend
from kerasdl.errors import BackendError


def run_python(code, **env):
    """Run `code` in a fresh interpreter; return (exit code, stdout, stderr)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERASDL_KERNEL")}
    environment.update(env)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def test_import_kerasdl_loads_no_framework():
    code = (
        "import kerasdl, kerasdl.backend, kerasdl.runtime, kerasdl.course.kernels, kerasdl.data, "
        "kerasdl.course.cli, sys; "
        "print(sorted(m for m in ('keras', 'jax', 'torch', 'tensorflow') if m in sys.modules))"
    )
    status, out, err = run_python(code)
    assert status == 0, err
    assert out == "[]"


@pytest.mark.parametrize(
    "given, expected", [("jax", "jax"), ("TF", "tensorflow"), ("pytorch", "torch"), (" torch ", "torch")]
)
def test_normalize_accepts_names_and_aliases(given, expected):
    assert backend.normalize(given) == expected


@pytest.mark.parametrize("bad", ["numpy", "jaxx", "", "theano"])
def test_normalize_rejects_unknown_names_in_one_line(bad):
    with pytest.raises(BackendError) as caught:
        backend.normalize(bad)
    message = str(caught.value)
    assert "\n" not in message and "jax, torch, tensorflow" in message


def test_active_explains_each_source(tmp_path):
    code = "from kerasdl import backend; print(*backend.active(), sep='|')"
    _, out, _ = run_python(code, KERAS_BACKEND="torch", KERAS_HOME=str(tmp_path))
    assert out == "torch|the KERAS_BACKEND environment variable"
    _, out, _ = run_python(code, KERAS_BACKEND="jax", KERASDL_KERNEL="kerasdl-jax", KERAS_HOME=str(tmp_path))
    assert out == "jax|set by the Jupyter kernel 'kerasdl-jax'"
    _, out, _ = run_python(code, KERAS_HOME=str(tmp_path))
    assert out.startswith("tensorflow|Keras's built-in default")
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))
    _, out, _ = run_python(code, KERAS_HOME=str(tmp_path))
    assert out == f"torch|{tmp_path / 'keras.json'}"


def test_check_rejects_a_backend_the_kit_does_not_support(tmp_path):
    code = "from kerasdl import backend\ntry:\n    backend.check()\nexcept ValueError as e:\n    print(e)"
    _, out, _ = run_python(code, KERAS_BACKEND="numpy", KERAS_HOME=str(tmp_path))
    assert out.startswith("backend 'numpy'") and "restart the kernel" in out


def test_use_after_keras_imported_with_another_backend_is_one_clear_line(backend_name):
    other = next(name for name in backend.BACKENDS if name != backend_name)
    code = (
        "import keras\nfrom kerasdl import backend\n"
        f"assert backend.use({backend_name!r}) == {backend_name!r}\n"
        f"try:\n    backend.use({other!r})\nexcept ValueError as e:\n    print(type(e).__name__, e)\n"
        "print(keras.config.backend())"
    )
    status, out, err = run_python(code, KERAS_BACKEND=backend_name, TF_CPP_MIN_LOG_LEVEL="3")
    assert status == 0, err
    first, second = out.splitlines()[-2:]
    assert first.startswith(f"BackendError keras is already imported with the '{backend_name}' backend")
    assert f"kerasdl-{other}" in first
    assert second == backend_name  # nothing was changed


def test_use_before_keras_sets_the_environment():
    status, out, err = run_python(
        "import os\nfrom kerasdl import backend\nbackend.use('tf')\nprint(os.environ['KERAS_BACKEND'])"
    )
    assert status == 0, err
    assert out == "tensorflow"

import json
import re

import pytest

from kerasdl import backend
from kerasdl.course import cli, kernels
from kerasdl.errors import KerasdlError


@pytest.mark.parametrize("name", backend.BACKENDS)
def test_spec_sets_the_backend_and_quiet_defaults(name):
    spec = kernels.spec(name, python="/usr/bin/python3")
    assert spec["argv"][:3] == ["/usr/bin/python3", "-m", "ipykernel_launcher"]
    assert spec["env"] == {
        "KERAS_BACKEND": name,
        "KERASDL_KERNEL": f"kerasdl-{name}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
    }
    assert {"jax": "JAX", "torch": "PyTorch", "tensorflow": "TensorFlow"}[name] in spec["display_name"]


def test_the_set_up_installed_all_three_kernels():
    found = kernels.installed()
    assert set(found) == {"kerasdl-jax", "kerasdl-torch", "kerasdl-tensorflow"}
    for kernel, folder in found.items():
        env = json.loads((__import__("pathlib").Path(folder) / "kernel.json").read_text())["env"]
        assert kernel == "kerasdl-" + env["KERAS_BACKEND"]


def test_install_list_remove_round_trip(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    folder = tmp_path / "share" / "jupyter" / "kernels"
    monkeypatch.setattr(kernels, "_manager", lambda: KernelSpecManager(kernel_dirs=[str(folder)]))
    kernels.install(["jax", "tf"], prefix=str(tmp_path))
    assert sorted(p.name for p in folder.iterdir()) == ["kerasdl-jax", "kerasdl-tensorflow"]
    assert set(kernels.installed()) == {"kerasdl-jax", "kerasdl-tensorflow"}
    assert kernels.require("jax") == "kerasdl-jax"
    with pytest.raises(KerasdlError, match="'kerasdl-torch' is not installed: run `kerasdl kernels install`"):
        kernels.require("torch")
    assert kernels.remove(["jax", "torch"]) == ["kerasdl-jax"]
    assert set(kernels.installed()) == {"kerasdl-tensorflow"}


def test_require_notices_a_kernel_whose_python_is_gone(tmp_path, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager

    folder = tmp_path / "kerasdl-jax"
    folder.mkdir()
    (folder / "kernel.json").write_text(json.dumps(kernels.spec("jax", python=str(tmp_path / "gone" / "python"))))
    monkeypatch.setattr(kernels, "_manager", lambda: KernelSpecManager(kernel_dirs=[str(tmp_path)]))
    with pytest.raises(KerasdlError, match="no longer exists: run `kerasdl kernels install`"):
        kernels.require("jax")


def test_cli_unknown_backend_is_one_line(capsys):
    assert cli.main(["kernels", "install", "--backend", "mxnet"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "kerasdl: error: unknown backend 'mxnet': choose one of jax, torch, tensorflow"


def test_cli_lists_installed_kernels(capsys):
    assert cli.main(["kernels", "list"]) == 0
    out = capsys.readouterr().out
    assert all(f"kerasdl-{name}" in out for name in backend.BACKENDS)


@pytest.mark.parametrize(
    "content, words",
    [
        ('{"argv": ["python", "-m",', "is not valid JSON"),
        ('{"display_name": "no argv"}', "has no command line (argv)"),
        ('["a list"]', "has no command line (argv)"),
    ],
)
def test_a_corrupt_kernel_json_is_one_line_with_the_fix(tmp_path, monkeypatch, capsys, content, words):
    from jupyter_client.kernelspec import KernelSpecManager

    folder = tmp_path / "kernels" / "kerasdl-jax"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(content)
    monkeypatch.setattr(kernels, "_manager", lambda: KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]))
    with pytest.raises(KerasdlError, match=re.escape(words)) as caught:
        kernels.require("jax")
    assert "\n" not in str(caught.value) and "kerasdl kernels install" in str(caught.value)
    notebook = tmp_path / "x.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    assert cli.main(["run", str(notebook), "--backend", "jax", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and not (tmp_path / "out").exists()

"""Chapters 00 and 01 run to the end where only JAX is installed (no TensorFlow, no PyTorch),
printing one line per backend they skip.

The environment is real and cheap: a `python -m venv` whose site-packages holds a .pth file
naming a folder of symlinks to every entry of this environment's site-packages except
TensorFlow's and PyTorch's (and their GPU helper packages), plus the repository for kerasdl.
A kernelspec for it goes into a temporary JUPYTER_PATH, and papermill runs each chapter
through that kernel in the quick profile. It runs once, in the JAX pass of the test matrix.
"""

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from kerasdl.course import kernels

from helpers import ROOT, code_cells, noise_in

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.once,
]

KERNEL = "kerasdl-jax-only"
# Top-level names in site-packages that belong to TensorFlow or PyTorch (or only serve them).
LEFT_OUT = (
    "tensorflow",
    "tf_keras",
    "tensorboard",
    "torch",
    "functorch",
    "torchgen",
    "nvidia",
    "triton",
    "__editable__",
)  # kerasdl comes from the repository instead of its editable-install hook
SKIPPED = {
    "torch": "skipped torch: PyTorch is not installed in this environment",
    "tensorflow": "skipped tensorflow: TensorFlow is not installed in this environment",
}


def left_out(name):
    return name.lower().startswith(LEFT_OUT)


@pytest.fixture(scope="module")
def jax_only(tmp_path_factory):
    """Return the JUPYTER_PATH folder holding a kernel for a JAX-only virtual environment."""
    folder = tmp_path_factory.mktemp("jax-only")
    environment = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True)
    python = environment / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    links = folder / "links"
    links.mkdir()
    ours = Path(sysconfig.get_paths()["purelib"])
    for entry in sorted(ours.iterdir()):
        if not left_out(entry.name) and not entry.name.endswith(".pth"):
            (links / entry.name).symlink_to(entry)
    (site_packages / "00-kerasdl-jax-only.pth").write_text(f"{links}\n{ROOT}\n")
    probe = (
        "import importlib.util as u, jax, keras, kerasdl; print([m for m in ('torch', 'tensorflow') if u.find_spec(m)])"
    )
    found = subprocess.run(
        [str(python), "-c", probe],
        capture_output=True,
        text=True,
        env={"KERAS_BACKEND": "jax", "PATH": "/usr/bin:/bin"},
    )
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.strip() == "[]", f"TensorFlow or PyTorch still importable: {found.stdout}"
    spec = kernels.spec("jax", python=str(python))
    spec["display_name"] = "Keras 3 · JAX only (test)"
    (folder / "jupyter" / "kernels" / KERNEL).mkdir(parents=True)
    (folder / "jupyter" / "kernels" / KERNEL / "kernel.json").write_text(json.dumps(spec))
    return folder / "jupyter"


@pytest.mark.parametrize(
    "chapter, parameters",
    [
        ("00_backends_and_devices.ipynb", {}),
        ("01_cnn_architecture.ipynb", {"load_on_other_backends": True}),  # the quick profile skips it otherwise
    ],
)
def test_chapter_runs_where_only_jax_is_installed(jax_only, chapter, parameters, tmp_path, monkeypatch):
    import papermill

    monkeypatch.setenv("JUPYTER_PATH", str(jax_only))
    monkeypatch.setenv("KERASDL_PROFILE", "quick")
    output = tmp_path / chapter
    papermill.execute_notebook(
        str(ROOT / "chapters" / chapter),
        str(output),
        kernel_name=KERNEL,
        parameters=parameters,
        cwd=str(ROOT / "chapters"),
        progress_bar=False,
        execution_timeout=600,
    )
    cells = code_cells(nbformat.read(output, as_version=4))
    printed = [
        line
        for cell in cells
        for o in cell["outputs"]
        if o.get("output_type") == "stream"
        for line in "".join(o.get("text", "")).splitlines()
    ]
    for line in SKIPPED.values():
        assert printed.count(line) == 1, f"{chapter}: expected once: {line!r}"
    assert not noise_in(cells), "\n".join(noise_in(cells))

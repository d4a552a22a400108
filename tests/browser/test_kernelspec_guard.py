"""A test of the tests: a broken kernelspec makes the learner-path test fail with a clear message."""

import shutil
import sys

import pytest

from .lab import LabError, Notebook
from .test_learner_path import CHAPTER_00


def kernelspec(display_name, python):
    return {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": display_name,
        "language": "python",
    }


def test_a_display_name_collision_and_a_missing_python_are_reported(lab, page):
    twin = lab.add_kernelspec("old-keras-jax", kernelspec("Keras 3 · JAX (kerasdl)", sys.executable))
    gone_python = lab.folder / "deleted-venv" / "bin" / "python"
    gone = lab.add_kernelspec("kerasdl-gone", kernelspec("Keras 3 · Gone (kerasdl)", str(gone_python)))
    try:
        notebook = Notebook(lab, page, CHAPTER_00)
        problems = notebook.kernel_problems()
        assert problems == [
            "the kernel picker shows 'Keras 3 · JAX (kerasdl)' 2 times (kernelspecs kerasdl-jax, old-keras-jax): "
            "a learner cannot tell which is which; remove the extra ones with `jupyter kernelspec remove NAME`",
            f"kernel 'kerasdl-gone' ('Keras 3 · Gone (kerasdl)') runs {gone_python}, which does not exist: "
            "choosing it fails; reinstall it (`kerasdl kernels install`) or remove it "
            "(`jupyter kernelspec remove kerasdl-gone`)",
        ]
        with pytest.raises(LabError, match=r"shows 'Keras 3 · JAX \(kerasdl\)' 2 times .*cannot pick"):
            notebook.change_kernel("Keras 3 · JAX (kerasdl)")
        with pytest.raises(LabError, match=r"shows 'Error Starting Kernel'.*No such file or directory: .*deleted-venv"):
            notebook.change_kernel("Keras 3 · Gone (kerasdl)")
    finally:
        shutil.rmtree(twin)
        shutil.rmtree(gone)
    page.reload()
    assert Notebook(lab, page, CHAPTER_00).kernel_problems() == []

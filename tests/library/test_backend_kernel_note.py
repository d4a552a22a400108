"""backend.check() in a Jupyter kernel that is not the kit's says which backend it got."""

import sys
import types

import pytest

from kerasdl import backend


@pytest.fixture
def kernel(monkeypatch):
    """Pretend to run inside an initialised ipykernel; return a function that sets KERASDL_KERNEL."""
    running = types.SimpleNamespace(initialized=lambda: True)
    monkeypatch.setitem(sys.modules, "ipykernel.kernelapp", types.SimpleNamespace(IPKernelApp=running))
    monkeypatch.setattr(backend, "_noted", False)
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.delenv("KERASDL_KERNEL", raising=False)
    return lambda name: monkeypatch.setenv("KERASDL_KERNEL", name)


def test_a_plain_python_kernel_is_told_its_backend_and_the_kit_kernels_once(kernel, capsys):
    assert backend.check() == "torch"
    note = capsys.readouterr().out
    assert note.startswith("This kernel is not one of the kit's: Keras uses the torch backend")
    assert "Kernel → Change Kernel… → Keras 3 · JAX / PyTorch / TensorFlow (kerasdl)" in note
    assert note.count("\n") == 2 and max(len(line) for line in note.splitlines()) < 120
    assert backend.check() == "torch"
    assert capsys.readouterr().out == ""


def test_a_kit_kernel_prints_nothing(kernel, capsys):
    kernel("kerasdl-torch")
    assert backend.check() == "torch"
    assert capsys.readouterr().out == ""


def test_outside_a_kernel_nothing_is_printed(kernel, monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "ipykernel.kernelapp")
    assert backend.check() == "torch"
    assert capsys.readouterr().out == ""


def test_the_note_names_the_kits_display_names():
    import re

    from kerasdl.course import kernels

    words = [re.fullmatch(r"Keras 3 · (\w+) \(kerasdl\)", name) for name in kernels.DISPLAY_NAMES.values()]
    assert all(words), f"{kernels.DISPLAY_NAMES} no longer read 'Keras 3 · NAME (kerasdl)': update KERNEL_CHOICES"
    assert backend.KERNEL_CHOICES == "Keras 3 · " + " / ".join(word[1] for word in words) + " (kerasdl)"

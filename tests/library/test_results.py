import nbformat
import numpy as np
import pytest

import kerasdl
from kerasdl import results


def test_record_outside_jupyter_prints_and_returns_plain_values(capsys):
    values = kerasdl.record(accuracy=np.float32(0.975), epochs=np.int64(3), backend="jax", ok=True)
    assert values == {"accuracy": pytest.approx(0.975), "epochs": 3, "backend": "jax", "ok": True}
    assert type(values["accuracy"]) is float and type(values["epochs"]) is int
    assert capsys.readouterr().out.strip() == "recorded: accuracy=0.975, epochs=3, backend=jax, ok=True"


def test_record_rejects_values_a_table_cannot_show():
    with pytest.raises(ValueError, match=r"record\(curve=...\) got a list; pass a number, string or bool"):
        kerasdl.record(curve=[0.1, 0.2])
    with pytest.raises(ValueError, match="got a ndarray"):
        kerasdl.record(weights=np.zeros(3))


def test_read_collects_metrics_from_outputs_later_values_winning():
    notebook = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("")
    first.outputs = [nbformat.v4.new_output("display_data", data={results.MIME: {"loss": 2.0, "acc": 0.5}})]
    second = nbformat.v4.new_code_cell("")
    second.outputs = [
        nbformat.v4.new_output("stream", text="hello"),
        nbformat.v4.new_output("display_data", data={results.MIME: {"acc": 0.9}}),
    ]
    notebook.cells = [first, second, nbformat.v4.new_markdown_cell("no outputs")]
    assert results.read(notebook) == {"loss": 2.0, "acc": 0.9}
    assert results.read(nbformat.v4.new_notebook()) == {}

"""kerasdl.crossbackend: code run in a fresh Python per backend, results back as NumPy arrays; a
missing framework is one printed line, a failing snippet one CrossBackendError line."""

import numpy as np
import pytest

from kerasdl import crossbackend
from kerasdl.backend import BACKENDS
from kerasdl.crossbackend import CrossBackendError

from helpers import BACKEND


def test_inputs_go_in_and_outputs_come_back_as_numpy_arrays():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)  # (2, 3)
    code = (
        "outputs['y'] = keras.ops.convert_to_numpy(keras.ops.square(inputs['x']))\n"
        "outputs['backend'] = np.array(keras.config.backend())"
    )
    results = crossbackend.run(code, backends=[BACKEND], inputs={"x": x})
    assert list(results) == [BACKEND]
    np.testing.assert_array_equal(results[BACKEND]["y"], x**2)
    assert str(results[BACKEND]["backend"]) == BACKEND


def test_a_missing_framework_is_skipped_with_one_line(monkeypatch):
    missing = next(name for name in BACKENDS if name != BACKEND)
    monkeypatch.setattr(crossbackend, "installed", lambda name: name != missing)
    printed = []
    results = crossbackend.run("outputs['one'] = np.ones(1)", backends=[BACKEND, missing], echo=printed.append)
    framework = crossbackend.FRAMEWORKS[missing][1]
    assert printed == [f"skipped {missing}: {framework} is not installed in this environment"]
    assert list(results) == [BACKEND]


def test_nothing_installed_returns_an_empty_dict(monkeypatch):
    monkeypatch.setattr(crossbackend, "installed", lambda name: False)
    printed = []
    assert crossbackend.run("outputs['one'] = np.ones(1)", echo=printed.append) == {}
    assert len(printed) == len(BACKENDS)


def test_installed_sees_the_frameworks_of_this_environment():
    assert crossbackend.installed(BACKEND)
    with pytest.raises(ValueError, match="unknown backend"):
        crossbackend.installed("mxnet")


def test_a_failing_snippet_raises_one_line_naming_the_backend_and_the_error():
    with pytest.raises(CrossBackendError) as caught:
        crossbackend.run("raise ValueError('the snippet broke')", backends=[BACKEND])
    assert str(caught.value) == f"on {BACKEND}: ValueError: the snippet broke"


def test_a_snippet_past_its_timeout_raises_one_line():
    with pytest.raises(CrossBackendError, match=f"the {BACKEND} process ran past 0.5 s: raise `timeout`") as caught:
        crossbackend.run("import time; time.sleep(30)", backends=[BACKEND], timeout=0.5)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("code", ["", "   ", None])
def test_empty_code_is_a_value_error(code):
    with pytest.raises(ValueError, match="non-empty string of Python"):
        crossbackend.run(code, backends=[BACKEND])


def test_load_and_predict_wants_a_keras_file(tmp_path):
    weights = tmp_path / "model.h5"
    weights.write_bytes(b"")
    for path in (weights, tmp_path / "missing.keras"):
        with pytest.raises(ValueError, match=r"is not a \.keras file: save the model with model.save"):
            crossbackend.load_and_predict(path, np.zeros((1, 2)))


def test_a_saved_model_predicts_the_same_on_every_backend(tmp_path):
    import keras

    from kerasdl import precision, runtime

    runtime.set_seed(0)
    inputs = keras.Input(shape=(6, 6, 1))  # (batch, 6, 6, 1)
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)  # (batch, 4, 4, 4)
    x = keras.layers.Flatten()(x)  # (batch, 64)
    outputs = keras.layers.Dense(3, activation="softmax")(x)  # (batch, 3)
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(0).random((16, 6, 6, 1), dtype=np.float32)
    path = tmp_path / "small.keras"
    model.save(path)
    with precision.exact_matmul():
        here = model.predict(images, verbose=0)  # (16, 3)
    printed = []
    predictions = crossbackend.load_and_predict(path, images, echo=printed.append)
    assert sorted(predictions) == sorted(name for name in BACKENDS if crossbackend.installed(name))
    assert BACKEND in predictions and len(predictions) + len(printed) == len(BACKENDS)
    for name, predicted in predictions.items():
        assert predicted.shape == (16, 3), name
        np.testing.assert_allclose(predicted, here, atol=1e-5, err_msg=f"{name} differs from {BACKEND}")

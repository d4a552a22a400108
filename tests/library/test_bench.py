"""kerasdl.bench and `kerasdl bench`: the timing protocol, which recurrent path runs, the table, the processes.

No test asserts a speed: the clock is replaced where the protocol is tested, and real runs
are only checked for their shape (rows, paths, positive times).
"""

import keras
import numpy as np
import pytest
from keras import layers

from kerasdl import bench, crossbackend
from kerasdl.course import cli

BACKEND = keras.config.backend()


# ---------------------------------------------------------------- the timing protocol


class FakeClock:
    """A perf_counter that only moves when a step says so: step k takes durations[k] seconds."""

    def __init__(self, durations):
        self.now, self.durations, self.calls = 0.0, list(durations), 0

    def perf_counter(self):
        return self.now

    def step(self):
        self.now += self.durations[self.calls]
        self.calls += 1


def test_warm_up_steps_are_timed_apart_and_excluded(monkeypatch):
    clock = FakeClock([5.0, 0.5] + [0.010] * 9)  # compiling, then a retrace, then 10 ms steps
    monkeypatch.setattr(bench.time, "perf_counter", clock.perf_counter)
    timing = bench.time_steps(clock.step, warmup=2, steps=3, repeats=3)
    assert clock.calls == 2 + 3 * 3
    assert timing["warmup_ms"] == pytest.approx([5000.0, 500.0])
    assert timing["rounds"] == pytest.approx([10.0, 10.0, 10.0])
    assert timing["ms_per_step"] == pytest.approx(10.0)


def test_the_median_of_rounds_ignores_one_slow_round(monkeypatch):
    clock = FakeClock([1.0] + [0.010] * 2 + [0.300] * 2 + [0.012] * 2)  # a round disturbed by another job
    monkeypatch.setattr(bench.time, "perf_counter", clock.perf_counter)
    timing = bench.time_steps(clock.step, warmup=1, steps=2, repeats=3)
    assert timing["rounds"] == pytest.approx([10.0, 300.0, 12.0])
    assert timing["ms_per_step"] == pytest.approx(12.0)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"warmup": -1}, "warmup must be a whole number >= 0"),
        ({"steps": 0}, "steps must be a whole number >= 1, got 0"),
        ({"repeats": 1.5}, "repeats must be a whole number >= 1, got 1.5"),
        ({"steps": True}, "steps must be a whole number >= 1, got True"),
    ],
)
def test_bad_counts_raise_value_error(arguments, message):
    with pytest.raises(ValueError, match=message):
        bench.time_steps(lambda: None, **arguments)


def test_median_of_rounds_is_the_protocol_of_time_steps(monkeypatch):
    durations = [1.0, 0.2] + [0.010, 0.012, 0.300, 0.011, 0.013, 0.009]
    clock = FakeClock(durations)
    monkeypatch.setattr(bench.time, "perf_counter", clock.perf_counter)
    timed = bench.time_steps(clock.step, warmup=2, steps=2, repeats=3)
    summarized = bench.median_of_rounds(durations, warmup=2, steps=2)
    for key in ("ms_per_step", "rounds", "warmup_ms"):
        assert summarized[key] == pytest.approx(timed[key])
    assert summarized["rounds"] == pytest.approx([11.0, 155.5, 11.0])
    assert summarized["warmup_ms"] == pytest.approx([1000.0, 200.0])


def test_median_of_rounds_leaves_out_a_last_shorter_round():
    timing = bench.median_of_rounds([0.5] * 3 + [0.004] * 25 + [9.0] * 2, warmup=3, steps=5)
    assert len(timing["rounds"]) == 5
    assert timing["ms_per_step"] == pytest.approx(4.0)
    assert bench.median_of_rounds(np.array([0.5, 0.002]), warmup=1, steps=1)["ms_per_step"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    "seconds, arguments, message",
    [
        ([0.1, 0.1], {"warmup": 2, "steps": 1}, "got 2 step times for 2 warm-up steps and rounds of 1: time more"),
        ("0.1 0.2", {}, "seconds must be a list of step times in seconds"),
        (0.1, {}, "seconds must be a list of step times in seconds, got 0.1"),
        ([0.1, "slow"], {"warmup": 0, "steps": 1}, "seconds must be a list of step times"),
        ([0.1] * 9, {"steps": 0}, "steps must be a whole number >= 1, got 0"),
    ],
)
def test_median_of_rounds_rejects_bad_seconds_in_one_line(seconds, arguments, message):
    with pytest.raises(ValueError, match=message) as caught:
        bench.median_of_rounds(seconds, **arguments)
    assert "\n" not in str(caught.value)


def test_time_training_wants_a_keras_model():
    with pytest.raises(ValueError, match="model must be a compiled Keras model, got str"):
        bench.time_training("model", None, None)


# ---------------------------------------------------------------- which implementation runs


def recurrent(kind, **options):
    """Return a built LSTM or GRU layer with the given options."""
    layer = getattr(layers, kind)(4, **options)
    layer.build((None, 5, 3))
    return layer


# What Keras 3.15 runs on a CPU for each backend, with the layer's defaults.
DEFAULT_PATHS = {
    "jax": {"LSTM": "generic loop", "GRU": "JAX scan GRU"},
    "torch": {"LSTM": "PyTorch loop", "GRU": "PyTorch loop"},
    "tensorflow": {"LSTM": "generic loop", "GRU": "generic loop"},
}


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_default_layers_on_this_cpu(kind):
    path, reason = bench.recurrent_path(recurrent(kind))
    assert path == DEFAULT_PATHS[BACKEND][kind]
    assert path != "cuDNN" and reason


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize(
    "options, why",
    [
        ({"recurrent_dropout": 0.2}, "recurrent_dropout"),
        ({"use_cudnn": False}, "use_cudnn=False"),
    ],
)
def test_recurrent_dropout_and_use_cudnn_false_mean_the_generic_loop(kind, options, why):
    assert bench.recurrent_path(recurrent(kind, **options)) == (
        "generic loop",
        why if why != "recurrent_dropout" else "recurrent_dropout > 0",
    )


def test_a_mask_or_reset_before_leaves_the_fused_paths_of_jax_and_torch():
    masked, masked_reason = bench.recurrent_path(recurrent("GRU"), masked=True)
    before, before_reason = bench.recurrent_path(recurrent("GRU", reset_after=False))
    assert masked == before == "generic loop"
    if BACKEND in ("jax", "torch"):
        assert "mask" in masked_reason and before_reason == "reset_after=False"


def test_the_rules_agree_with_the_backend_functions_keras_tries_first():
    # keras.layers.LSTM/GRU call the backend's lstm()/gru() and fall back to the generic loop when it
    # raises NotImplementedError: the rules say "generic loop" exactly when it raises, here.
    from keras.src import backend as keras_backend

    x = np.zeros((2, 5, 3), dtype="float32")
    for kind, options in [("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}), ("LSTM", {"unroll": True})]:
        layer = recurrent(kind, **options)
        cell = layer.cell
        state = np.zeros((2, 4), dtype="float32")
        arguments = dict(
            mask=None,
            kernel=cell.kernel,
            recurrent_kernel=cell.recurrent_kernel,
            bias=cell.bias,
            activation=cell.activation,
            recurrent_activation=cell.recurrent_activation,
            unroll=layer.unroll,
        )
        try:
            if kind == "LSTM":
                keras_backend.lstm(x, state, state, **arguments)
            else:
                keras_backend.gru(x, state, reset_after=cell.reset_after, **arguments)
            fused = True
        except NotImplementedError:
            fused = False
        assert (bench.recurrent_path(layer)[0] != "generic loop") == fused, (kind, options)


def test_recurrent_path_wants_an_lstm_or_gru():
    with pytest.raises(ValueError, match="must be a keras.layers.LSTM or GRU, got SimpleRNN"):
        bench.recurrent_path(layers.SimpleRNN(3))


# ---------------------------------------------------------------- models and rows


@pytest.mark.parametrize("case", list(bench.CASES))
def test_every_case_builds_and_trains_one_step(case):
    model, x, y = bench.build(case, units=8, batch_size=4, sequence_length=6)
    outputs = model.predict(x, verbose=0)
    assert outputs.shape == ((4, 10) if case == "cnn" else (4, 6, bench.VOCABULARY))
    assert np.isfinite(model.train_on_batch(x, y))


def test_build_rejects_an_unknown_case():
    with pytest.raises(ValueError, match="unknown case 'rnn': choose from lstm, gru, lstm-loop, cnn"):
        bench.build("rnn")


def test_measure_gives_a_row_per_case_with_the_path():
    rows = bench.measure(("lstm", "gru", "cnn"), units=4, batch_size=2, sequence_length=3, steps=1, repeats=1)
    assert [row["model"] for row in rows] == ["lstm", "gru", "cnn"]
    assert all(row["backend"] == BACKEND and row["ms_per_step"] > 0 and row["device"] == "CPU" for row in rows)
    assert [row["path"] for row in rows] == [DEFAULT_PATHS[BACKEND]["LSTM"], DEFAULT_PATHS[BACKEND]["GRU"], ""]


def test_asking_for_a_gpu_where_there_is_none_gives_error_rows():
    if bench._gpu():
        pytest.skip("this machine has a GPU")
    rows = bench.measure(("lstm",), gpu=True)
    assert rows == [
        {"backend": BACKEND, "implementation": "Keras", "model": "lstm", "error": f"no CUDA GPU visible to {BACKEND}"}
    ]


@pytest.mark.once  # native PyTorch, whatever the backend
def test_native_pytorch_rows():
    pytest.importorskip("torch")
    rows = bench.measure_native(units=4, batch_size=2, sequence_length=3, steps=1, repeats=1)
    assert [(row["backend"], row["model"]) for row in rows] == [("PyTorch", c) for c in bench.NATIVE_CASES]
    assert all(row["ms_per_step"] > 0 for row in rows)


def test_run_measures_in_a_fresh_process_and_skips_missing_frameworks(monkeypatch):
    lines = []
    real = crossbackend.installed
    monkeypatch.setattr(crossbackend, "installed", lambda name: name == BACKEND and real(name))
    rows = bench.run(
        ["jax", "torch", "tensorflow"],
        cases=("gru",),
        units=4,
        batch_size=2,
        sequence_length=3,
        steps=1,
        repeats=1,
        echo=lines.append,
    )  # native PyTorch too, unless torch is "missing"
    assert [(row["backend"], row["model"]) for row in rows if row["implementation"] == "Keras"] == [(BACKEND, "gru")]
    assert all("error" not in row for row in rows) and rows[0]["path"] == DEFAULT_PATHS[BACKEND]["GRU"]
    native = [row["model"] for row in rows if row["implementation"] == "native"]
    assert native == (list(bench.NATIVE_CASES) if BACKEND == "torch" else [])
    skipped = [line for line in lines if line.startswith("skipped")]
    assert len(skipped) == 2 + (BACKEND != "torch"), skipped  # two backends, and native PyTorch unless present
    assert any("PyTorch is not installed" in line for line in skipped) == (BACKEND != "torch")


def test_run_rejects_bad_settings_before_starting_anything():
    with pytest.raises(ValueError, match="unknown case 'rnn'"):
        bench.run(["jax"], cases=("rnn",))
    with pytest.raises(ValueError, match="units must be a whole number >= 1, got 0"):
        bench.run(["jax"], units=0)


# ---------------------------------------------------------------- the table and the command


def row(backend, model, ms, implementation="Keras", path="generic loop"):
    return {
        "backend": backend,
        "implementation": implementation,
        "model": model,
        "ms_per_step": ms,
        "path": path,
        "units": 8,
        "batch_size": 4,
        "sequence_length": 6,
        "device": "CPU",
        "rounds": [ms, ms, ms],
        "threads": "1",
    }


def test_the_table_gives_the_ratio_to_the_fastest_per_model_fastest_first():
    rows = [
        row("torch", "lstm", 500.0),
        row("jax", "lstm", 200.0),
        row("PyTorch", "lstm", 100.0, "native"),
        row("jax", "gru", 50.0, path="JAX scan GRU"),
        row("tensorflow", "gru", 75.0),
        {"backend": "torch", "implementation": "Keras", "model": "gru", "error": "ran past 600 s"},
    ]
    lines = bench.table(rows).splitlines()
    assert lines[0].split()[:4] == ["model", "backend", "implementation", "ms/step"]
    assert [line.split()[1] for line in lines[1:4]] == ["PyTorch", "jax", "torch"]
    assert "1.00×" in lines[1] and "2.00×" in lines[2] and "5.00×" in lines[3]
    assert "1.50×" in lines[5] and "JAX scan GRU" in lines[4]
    assert "ran past 600 s" in lines[6] and "—" in lines[6]
    assert "8 units, batch 4 × 6 steps" in lines[7] and "OMP_NUM_THREADS=1" in lines[7]
    assert bench.table([]) == "no measurements"


def test_the_command_reports_bad_options_in_one_line(capsys):
    assert cli.main(["bench", "--backend", BACKEND, "--units", "0"]) == 2
    assert capsys.readouterr().err.strip() == "kerasdl: error: units must be a whole number >= 1, got 0"
    assert cli.main(["bench", "--backend", "jux"]) == 2
    assert "unknown backend 'jux'" in capsys.readouterr().err

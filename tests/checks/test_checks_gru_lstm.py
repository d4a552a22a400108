"""kerasdl.checks.gru_lstm: the solution's answers pass, valid alternatives pass, plausible wrong
answers are rejected with a hint that names the mistake, and wrong types are reported, not raised."""

import statistics
import time

import keras
import numpy as np
import pytest
from keras import layers

from kerasdl.checks import gru_lstm

from helpers import assert_items

# ---------------------------------------------------------------- part 1: parameter counts

FORMULA_ITEMS = ("LSTM parameter formula", "GRU parameter formula")


def lstm_parameters(m, n):
    return 4 * (n * m + n * n + n)


def gru_parameters(m, n):
    return 3 * (n * m + n * n + 2 * n)


@pytest.mark.parametrize(
    "lstm, gru",
    [
        (lstm_parameters, gru_parameters),
        (lambda m, n: 4 * n * (m + n + 1), lambda m, n: 3 * n * (m + n + 2)),  # factored
        (lambda m, n: float(lstm_parameters(m, n)), lambda m, n: np.int64(gru_parameters(m, n))),  # 26.0, NumPy
        (lambda m, n: np.array(lstm_parameters(m, n)), lambda m, n: gru_parameters(m, n)),  # a 0-d array
    ],
)
def test_right_formulas_pass_in_any_numeric_form(lstm, gru, capsys):
    gru_lstm.check_parameter_formulas(lstm, gru)
    assert_items(capsys, dict.fromkeys(FORMULA_ITEMS, True))


@pytest.mark.parametrize(
    "wrong, cell, hint",
    [
        (lambda m, n: 4 * (n * m + n * n), "LSTM", "bias vector"),
        (lambda m, n: 4 * (n * m + n * n + 2 * n), "LSTM", "PyTorch's count"),
        (lambda m, n: 3 * (n * m + n * n + n), "LSTM", "four blocks"),
        (lambda m, n: 4 * (n * m + 2 * n), "LSTM", "n units to n units"),
        (lambda m, n: 3 * (n * m + n * n + n), "GRU", "reset_after=False"),
        (lambda m, n: 4 * (n * m + n * n + 2 * n), "GRU", "three blocks"),
        (lambda m, n: 3 * (n * m + n * n), "GRU", "biases too"),
        (lambda m, n: n * m + n * n + n, "GRU", "count the input matrix"),
    ],
)
def test_plausible_wrong_formulas_are_named(wrong, cell, hint, capsys):
    answers = {"LSTM": lstm_parameters, "GRU": gru_parameters, cell: wrong}
    gru_lstm.check_parameter_formulas(answers["LSTM"], answers["GRU"])
    hints = assert_items(capsys, {f"{c} parameter formula": c != cell for c in ("LSTM", "GRU")})
    assert hint in hints[f"{cell} parameter formula"]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda m, n: str(lstm_parameters(m, n)), "should be a whole number, got a str"),
        (lambda m, n: lstm_parameters(m, n) + 0.5, "should be a whole number"),
        (lambda m: 4, "raised TypeError"),
        (None, "expected a function, got None"),
    ],
)
def test_wrong_types_are_reported(wrong, message, capsys):
    gru_lstm.check_parameter_formulas(wrong, gru_parameters)
    hints = assert_items(capsys, {"LSTM parameter formula": False, "GRU parameter formula": True})
    assert message in hints["LSTM parameter formula"]


def test_an_unwritten_formula_propagates_not_implemented(capsys):
    def stub(m, n):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        gru_lstm.check_parameter_formulas(stub, gru_parameters)
    assert capsys.readouterr().out == ""


def test_the_reference_formulas_equal_count_params_on_this_backend():
    for m, n in gru_lstm.PARAMETER_CASES:
        assert gru_lstm.keras_parameters("LSTM", m, n) == gru_lstm.lstm_parameters(m, n)
        assert gru_lstm.keras_parameters("GRU", m, n) == gru_lstm.gru_parameters(m, n)


def equal_parameter_units(lstm_units, m):
    target = lstm_parameters(m, lstm_units)
    return min(range(1, 3 * lstm_units), key=lambda n: abs(gru_parameters(m, n) - target))


def quadratic_units(lstm_units, m):
    """A valid alternative: solve 3(n^2 + (m + 2) n) = target, then keep the better neighbour."""
    target = lstm_parameters(m, lstm_units)
    root = (-(m + 2) + ((m + 2) ** 2 + 4 * target / 3) ** 0.5) / 2
    low = int(root)
    return min((low, low + 1), key=lambda n: abs(gru_parameters(m, n) - target))


EQUAL_ITEM = "equal_parameter_units gives"


@pytest.mark.parametrize(
    "answer", [equal_parameter_units, quadratic_units, lambda u, m: float(equal_parameter_units(u, m))]
)
def test_the_closest_gru_width_passes_however_it_is_found(answer, capsys):
    gru_lstm.check_equal_parameter_units(answer)
    assert_items(capsys, {EQUAL_ITEM: True})


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda u, m: u, "the LSTM's own width"),
        (lambda u, m: round(4 * u / 3), "too many units"),  # ignores the input and bias terms
        (lambda u, m: equal_parameter_units(u, m) - 2, "too few units"),
        (lambda u, m: 1.5, "should be a whole number"),
    ],
)
def test_wrong_widths_are_rejected(wrong, hint, capsys):
    gru_lstm.check_equal_parameter_units(wrong)
    assert hint in assert_items(capsys, {EQUAL_ITEM: False})[EQUAL_ITEM]


# ---------------------------------------------------------------- part 2: the builder

BUILDER_ITEMS = ("build_model makes", "the two models differ only")


def build_model(cell, units, sequence_length, num_symbols, num_classes):
    inputs = keras.Input(shape=(sequence_length, num_symbols))
    state = getattr(layers, cell)(units)(inputs)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(state))


def sequential_builder(cell, units, sequence_length, num_symbols, num_classes, activation="softmax"):
    return keras.Sequential(
        [
            keras.Input(shape=(sequence_length, num_symbols)),
            getattr(layers, cell)(units),
            layers.Dense(num_classes, activation=activation),
        ]
    )


def logits_builder(cell, units, sequence_length, num_symbols, num_classes):
    return sequential_builder(cell, units, sequence_length, num_symbols, num_classes, activation=None)


def flattened_steps(cell, units, sequence_length, num_symbols, num_classes):
    inputs = keras.Input(shape=(sequence_length, num_symbols))
    sequence = getattr(layers, cell)(units, return_sequences=True)(inputs)  # (batch, time, units)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(layers.Flatten()(sequence)))


def cell_builder(cell, units, sequence_length, num_symbols, num_classes):
    inputs = keras.Input(shape=(sequence_length, num_symbols))
    state = layers.RNN(getattr(layers, f"{cell}Cell")(units))(inputs)  # the cell inside keras.layers.RNN
    hidden = layers.Dense(16, activation="relu")(state)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(hidden))


@pytest.mark.parametrize("builder", [build_model, sequential_builder, cell_builder])
def test_valid_builders_pass(builder, capsys):
    gru_lstm.check_builder(builder)
    assert_items(capsys, dict.fromkeys(BUILDER_ITEMS, True))


def always_lstm(cell, units, sequence_length, num_symbols, num_classes):
    return build_model("LSTM", units, sequence_length, num_symbols, num_classes)


def fixed_units(cell, units, sequence_length, num_symbols, num_classes):
    return build_model(cell, 32, sequence_length, num_symbols, num_classes)


def every_step(cell, units, sequence_length, num_symbols, num_classes):
    inputs = keras.Input(shape=(sequence_length, num_symbols))
    sequence = getattr(layers, cell)(units, return_sequences=True)(inputs)  # (batch, time, units)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(sequence))


def one_output(cell, units, sequence_length, num_symbols, num_classes):
    return build_model(cell, units, sequence_length, num_symbols, 1)


def gru_gets_more(cell, units, sequence_length, num_symbols, num_classes):
    inputs = keras.Input(shape=(sequence_length, num_symbols))
    state = getattr(layers, cell)(units)(inputs)
    if cell == "GRU":
        state = layers.Dense(32, activation="relu")(state)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(state))


@pytest.mark.parametrize(
    "wrong, expected, hint",
    [
        (always_lstm, (False, False), "should use GRU layers only; it has LSTM"),
        (fixed_units, (False, False), "of 32 units"),
        (every_step, (False, True), "returns every step"),  # both built alike: only the first item fails
        (flattened_steps, (False, True), "returns every step"),
        (logits_builder, (False, True), "not probabilities"),
        (one_output, (False, True), "one score per class"),
        (gru_gets_more, (True, False), "same layers of the same sizes"),
    ],
)
def test_wrong_builders_are_rejected(wrong, expected, hint, capsys):
    gru_lstm.check_builder(wrong)
    hints = assert_items(capsys, dict(zip(BUILDER_ITEMS, expected)))
    assert hint in hints[BUILDER_ITEMS[expected.index(False)]]


def test_a_builder_that_raises_is_reported(capsys):
    gru_lstm.check_builder(lambda cell, *rest: getattr(layers, cell.lower()))
    hints = assert_items(capsys, dict.fromkeys(BUILDER_ITEMS, False))
    assert "raised AttributeError" in hints[BUILDER_ITEMS[0]]


# ---------------------------------------------------------------- part 3: the timing protocol

TIMING_ITEMS = ("time_training_step runs", "time_training_step excludes")


def time_training_step(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    for _ in range(warmup_steps):
        model.train_on_batch(x, y)
    rounds = []
    for _ in range(repeats):
        start = clock()
        for _ in range(timed_steps):
            model.train_on_batch(x, y)
        rounds.append(1000 * (clock() - start) / timed_steps)
    return float(np.median(rounds))


def minimum_of_rounds(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    for _ in range(warmup_steps):
        model.train_on_batch(x, y)
    rounds = []
    for _ in range(repeats):
        start = clock()
        for _ in range(timed_steps):
            model.train_on_batch(x, y)
        rounds.append((clock() - start) * 1000 / timed_steps)
    return min(rounds)  # timeit's choice: as valid as the median here


def median_of_single_steps(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    for _ in range(warmup_steps):
        model.train_on_batch(x, y)
    steps = []
    for _ in range(repeats * timed_steps):
        start = clock()
        model.train_on_batch(x, y)
        steps.append(1000 * (clock() - start))
    return statistics.median(steps)


def converted_once(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    x, y = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)  # once, before the clock starts
    return time_training_step(model, x, y, warmup_steps, timed_steps, repeats, clock)


@pytest.mark.parametrize("answer", [time_training_step, minimum_of_rounds, median_of_single_steps, converted_once])
def test_valid_timing_protocols_pass(answer, capsys):
    gru_lstm.check_timing(answer)
    assert_items(capsys, dict.fromkeys(TIMING_ITEMS, True))


def mean_of_rounds(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    for _ in range(warmup_steps):
        model.train_on_batch(x, y)
    start = clock()
    for _ in range(repeats * timed_steps):
        model.train_on_batch(x, y)
    return 1000 * (clock() - start) / (repeats * timed_steps)


def warm_up_timed(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    start = clock()
    for _ in range(warmup_steps + repeats * timed_steps):
        model.train_on_batch(x, y)
    return 1000 * (clock() - start) / (repeats * timed_steps)


def no_warm_up(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    return time_training_step(model, x, y, 0, timed_steps, repeats, clock)


def in_seconds(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    return time_training_step(model, x, y, warmup_steps, timed_steps, repeats, clock) / 1000


def per_round(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    return time_training_step(model, x, y, warmup_steps, timed_steps, repeats, clock) * timed_steps


def own_clock(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    return time_training_step(model, x, y, warmup_steps, timed_steps, repeats, time.perf_counter)


def new_batch(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    return time_training_step(model, x[: len(x) // 2], y[: len(y) // 2], warmup_steps, timed_steps, repeats, clock)


def over_repeats_too(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    return time_training_step(model, x, y, warmup_steps, timed_steps, repeats, clock) / repeats


def warm_up_in_first_round(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
    rounds = []
    for index in range(repeats):
        start = clock()
        for _ in range(timed_steps + (warmup_steps if index == 0 else 0)):
            model.train_on_batch(x, y)
        rounds.append(1000 * (clock() - start) / timed_steps)
    return float(np.median(rounds))


@pytest.mark.parametrize(
    "wrong, expected, hint",
    [
        (mean_of_rounds, (True, False), "one slow round moved the result"),
        (warm_up_timed, (True, False), "warm-up steps are in the time"),
        (no_warm_up, (False, False), "should run 17 times; it ran 15 times"),
        (in_seconds, (True, False), "this is in seconds"),
        (per_round, (True, False), "time of a whole round"),
        (own_clock, (True, False), "time them with the `clock` argument"),
        (new_batch, (False, True), "the batch (x, y) it is given"),
        (over_repeats_too, (True, False), "divided by the repeats too"),
        (warm_up_in_first_round, (True, False), "the disturbed round's time"),
    ],
)
def test_plausible_wrong_protocols_are_named(wrong, expected, hint, capsys):
    gru_lstm.check_timing(wrong)
    hints = assert_items(capsys, dict(zip(TIMING_ITEMS, expected)))
    assert hint in hints[TIMING_ITEMS[expected.index(False)]]


def test_a_timing_function_returning_the_rounds_is_reported(capsys):
    def rounds(model, x, y, warmup_steps, timed_steps, repeats, clock=time.perf_counter):
        time_training_step(model, x, y, warmup_steps, timed_steps, repeats, clock)
        return [20.0, 200.0, 20.0]

    gru_lstm.check_timing(rounds)
    hints = assert_items(capsys, {TIMING_ITEMS[0]: True, TIMING_ITEMS[1]: False})
    assert "expected a number, got a list" in hints[TIMING_ITEMS[1]]


def test_an_unwritten_timing_function_propagates_not_implemented(capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        gru_lstm.check_timing(stub)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- part 4: the experiment

SIZES = {
    "train_samples": 64,
    "validation_samples": 200,
    "sequence_length": 10,
    "num_symbols": 6,
    "num_classes": 4,
    "batch_size": 32,
}
EXPERIMENT_ITEMS = (
    "one LSTM and two GRU",
    "each configuration's recorded",
    "every model beats",
    "every configuration timed",
)


class Classifier:
    """A stand-in for a trained model: right on the first `accuracy` share of the validation sequences."""

    def __init__(self, accuracy):
        _, (_, self.labels) = gru_lstm.make_data(
            16, SIZES["validation_samples"], SIZES["sequence_length"], SIZES["num_symbols"], SIZES["num_classes"]
        )
        self.accuracy = accuracy

    def predict(self, x, batch_size=None, verbose=0):
        right = int(round(self.accuracy * len(x)))
        predicted = np.where(np.arange(len(x)) < right, self.labels[: len(x)], (self.labels[: len(x)] + 1) % 4)
        return np.eye(SIZES["num_classes"], dtype="float32")[predicted]  # (n, classes)


def experiment(accuracies=None, ms=(10.0, 9.0, 11.0), **changes):
    """Return (results, models) for one LSTM(8), GRU(8) and the GRU of LSTM(8)'s count on 6 inputs."""
    wide = equal_parameter_units(8, SIZES["num_symbols"])
    accuracies = accuracies or {
        "LSTM(8)": [0.80, 0.85, 0.90],
        "GRU(8)": [0.90, 0.92, 0.95],
        f"GRU({wide})": [0.88, 0.90, 0.90],
    }
    results, models = {}, {}
    for (label, values), (cell, units), time_ms in zip(
        accuracies.items(), [("LSTM", 8), ("GRU", 8), ("GRU", wide)], ms
    ):
        results[label] = {
            "cell": cell,
            "units": units,
            "accuracy": list(values),
            "ms_per_step": time_ms,
            "batch_size": SIZES["batch_size"],
            "sequence_length": SIZES["sequence_length"],
            "timed_steps": 15,
            **changes.get(label, {}),
        }
        models[label] = Classifier(values[-1])
    return results, models


def run_experiment(results, models):
    gru_lstm.check_experiment(results, models, **SIZES)


def test_a_sound_experiment_passes(capsys):
    run_experiment(*experiment())
    assert_items(capsys, dict.fromkeys(EXPERIMENT_ITEMS, True))


def test_other_labels_numpy_accuracies_and_extra_keys_pass(capsys):
    results, models = experiment()
    renamed = {
        f"config {i}": {**record, "accuracy": np.array(record["accuracy"]), "note": "run 2"}
        for i, record in enumerate(results.values())
    }
    run_experiment(renamed, {f"config {i}": model for i, model in enumerate(models.values())})
    assert_items(capsys, dict.fromkeys(EXPERIMENT_ITEMS, True))


def test_two_seeds_are_not_enough(capsys):
    results, models = experiment()
    results["LSTM(8)"]["accuracy"] = results["LSTM(8)"]["accuracy"][1:]  # the last seed and its model kept
    run_experiment(results, models)
    hints = assert_items(capsys, {**dict.fromkeys(EXPERIMENT_ITEMS, True), EXPERIMENT_ITEMS[0]: False})
    assert "2 seeds" in hints[EXPERIMENT_ITEMS[0]]


def test_a_wide_gru_that_is_not_the_closest_count_is_rejected(capsys):
    results, models = experiment()
    wide = [label for label in results if label not in ("LSTM(8)", "GRU(8)")][0]
    results[wide]["units"] = 11  # 4/3 of 8, rounded: ignores the input and bias terms
    run_experiment(results, models)
    hints = assert_items(capsys, {**dict.fromkeys(EXPERIMENT_ITEMS, True), EXPERIMENT_ITEMS[0]: False})
    assert "not the GRU closest" in hints[EXPERIMENT_ITEMS[0]]


def test_accuracies_that_are_not_the_models_own_are_rejected(capsys):
    results, models = experiment()
    results["GRU(8)"]["accuracy"][-1] = 0.99  # the training accuracy, say
    run_experiment(results, models)
    hints = assert_items(capsys, {**dict.fromkeys(EXPERIMENT_ITEMS, True), EXPERIMENT_ITEMS[1]: False})
    assert "validation accuracy" in hints[EXPERIMENT_ITEMS[1]]


def test_a_model_below_the_baseline_is_rejected(capsys):
    results, models = experiment(accuracies={"LSTM(8)": [0.80, 0.85, 0.40], "GRU(8)": [0.9] * 3, "GRU(10)": [0.9] * 3})
    run_experiment(results, models)
    hints = assert_items(capsys, {**dict.fromkeys(EXPERIMENT_ITEMS, True), EXPERIMENT_ITEMS[2]: False})
    assert "below 2 × chance (0.50)" in hints[EXPERIMENT_ITEMS[2]]


@pytest.mark.parametrize(
    "change, hint",
    [
        ({"batch_size": 16}, "same size and sequence length"),
        ({"timed_steps": 3}, "time at least 10"),
        ({"ms_per_step": 0.0}, "positive time"),
    ],
)
def test_unfair_or_thin_timings_are_rejected(change, hint, capsys):
    run_experiment(*experiment(**{"GRU(8)": change}))
    hints = assert_items(capsys, {**dict.fromkeys(EXPERIMENT_ITEMS, True), EXPERIMENT_ITEMS[3]: False})
    assert hint in hints[EXPERIMENT_ITEMS[3]]


def test_timing_on_another_batch_than_the_training_batch_is_rejected(capsys):
    results, models = experiment()
    for record in results.values():
        record["batch_size"] = 1
    run_experiment(results, models)
    hints = assert_items(capsys, {**dict.fromkeys(EXPERIMENT_ITEMS, True), EXPERIMENT_ITEMS[3]: False})
    assert "32 sequences of 10 steps" in hints[EXPERIMENT_ITEMS[3]]


@pytest.mark.parametrize(
    "results, models, message",
    [
        ([], {}, "results should be a dict"),
        ({"LSTM(8)": {"cell": "LSTM"}}, {}, "has no 'units', 'accuracy', 'ms_per_step'"),
        (None, None, "results should be a dict"),
    ],
)
def test_malformed_results_fail_every_item_with_one_message(results, models, message, capsys):
    run_experiment(results, models)
    hints = assert_items(capsys, dict.fromkeys(EXPERIMENT_ITEMS, False))
    assert all(message in hint for hint in hints.values())


# ---------------------------------------------------------------- part 5: the summary

SUMMARY_ITEM = "summary holds"


@pytest.mark.parametrize(
    "ddof, form, dtype", [(0, tuple, "float64"), (1, tuple, "float64"), (0, list, "float64"), (1, np.array, "float32")]
)
def test_mean_and_either_standard_deviation_pass(ddof, form, dtype, capsys):
    results, _ = experiment()
    summary = {
        label: form([np.mean(np.asarray(r["accuracy"], dtype)), np.std(np.asarray(r["accuracy"], dtype), ddof=ddof)])
        for label, r in results.items()
    }
    gru_lstm.check_summary(summary, results)
    assert_items(capsys, {SUMMARY_ITEM: True})


@pytest.mark.parametrize(
    "make, hint",
    [
        (lambda values: (np.mean(values), np.var(values)), "this is the variance"),
        (lambda values: (np.median(values), np.std(values)), "the mean is not the mean"),
        (lambda values: (np.mean(values), np.max(values) - np.min(values)), "standard deviation"),
        (lambda values: np.mean(values), "expected a tuple of 2"),
    ],
)
def test_wrong_summaries_are_named(make, hint, capsys):
    results, _ = experiment(
        accuracies={"LSTM(8)": [0.80, 0.85, 0.96], "GRU(8)": [0.90, 0.92, 0.95], "GRU(10)": [0.88, 0.90, 0.90]}
    )
    gru_lstm.check_summary({label: make(r["accuracy"]) for label, r in results.items()}, results)
    assert hint in assert_items(capsys, {SUMMARY_ITEM: False})[SUMMARY_ITEM]


# ---------------------------------------------------------------- part 6: the conclusion

CONCLUSION_ITEMS = ("the faster cell", "the more accurate cell")
CLEARLY_APART = {"LSTM(8)": [0.80, 0.81, 0.82], "GRU(8)": [0.95, 0.96, 0.97], "GRU(10)": [0.79, 0.80, 0.81]}


def solution_conclusion(results, baseline=0.5):
    """The solution's rules, written as code."""
    summary = {label: (np.mean(r["accuracy"]), np.std(r["accuracy"])) for label, r in results.items()}
    all_learned = all(min(r["accuracy"]) >= baseline for r in results.values())
    pairs = {"equal units": ("LSTM(8)", "GRU(8)"), "equal parameters": ("LSTM(8)", "GRU(10)")}
    faster, accurate = {}, {}
    for comparison, (lstm, gru) in pairs.items():
        ratio = results[gru]["ms_per_step"] / results[lstm]["ms_per_step"]
        faster[comparison] = (
            "no verdict"
            if not all_learned
            else "GRU"
            if ratio < 0.9
            else "LSTM"
            if ratio > 1 / 0.9
            else "no clear difference"
        )
        gap = summary[gru][0] - summary[lstm][0]
        accurate[comparison] = (
            "no clear difference" if abs(gap) <= summary[gru][1] + summary[lstm][1] else "GRU" if gap > 0 else "LSTM"
        )
    return faster, accurate


def conclude(faster, accurate, results):
    gru_lstm.check_conclusion(faster, accurate, results, num_symbols=6, num_classes=4)


@pytest.mark.parametrize(
    "accuracies, ms",
    [
        (CLEARLY_APART, (10.0, 7.0, 12.0)),  # GRU faster at equal units, LSTM faster at equal parameters
        (CLEARLY_APART, (10.0, 9.5, 10.5)),  # within 10%: no clear difference
        ({"LSTM(8)": [0.80, 0.90, 0.85], "GRU(8)": [0.84, 0.88, 0.90], "GRU(10)": [0.7, 0.9, 0.8]}, (10.0, 9.0, 9.0)),
        ({"LSTM(8)": [0.80, 0.85, 0.30], "GRU(8)": [0.9] * 3, "GRU(10)": [0.9] * 3}, (10.0, 5.0, 5.0)),  # no verdict
    ],
)
def test_the_solutions_rules_pass_whatever_the_numbers(accuracies, ms, capsys):
    results, _ = experiment(accuracies=accuracies, ms=ms)
    conclude(*solution_conclusion(results), results)
    assert_items(capsys, dict.fromkeys(CONCLUSION_ITEMS, True))


def test_answers_are_read_in_any_case_and_spacing(capsys):
    results, _ = experiment(accuracies=CLEARLY_APART, ms=(10.0, 7.0, 10.2))
    conclude(
        {"equal units": "gru", "equal parameters": "  No clear   difference "},
        {"equal units": "Gru", "equal parameters": "NO CLEAR DIFFERENCE"},
        results,
    )
    assert_items(capsys, dict.fromkeys(CONCLUSION_ITEMS, True))


def test_the_sample_standard_deviation_is_an_accepted_spread(capsys):
    # gap 0.05; population stds sum to 0.049 (a clear difference), sample stds to 0.060 (none): both accepted
    accuracies = {"LSTM(8)": [0.80, 0.83, 0.86], "GRU(8)": [0.85, 0.88, 0.91], "GRU(10)": [0.8, 0.8, 0.8]}
    results, _ = experiment(accuracies=accuracies)
    for answer in ("GRU", "no clear difference"):
        conclude(
            {"equal units": "no clear difference", "equal parameters": "no clear difference"},
            {"equal units": answer, "equal parameters": "no clear difference"},
            results,
        )
        assert_items(capsys, dict.fromkeys(CONCLUSION_ITEMS, True))


@pytest.mark.parametrize(
    "ms, faster, hint",
    [
        ((10.0, 9.5, 10.0), "GRU", "ratio of ms per step does not say 'GRU'"),  # 0.95: within the margin
        ((10.0, 7.0, 10.0), "LSTM", "does not say 'LSTM'"),  # folklore the other way
        ((10.0, 7.0, 10.0), "no verdict", "name the faster cell"),
    ],
)
def test_speed_verdicts_that_the_ratio_does_not_support_are_rejected(ms, faster, hint, capsys):
    results, _ = experiment(accuracies=CLEARLY_APART, ms=ms)
    _, accurate = solution_conclusion(results)
    conclude({"equal units": faster, "equal parameters": "no clear difference"}, accurate, results)
    hints = assert_items(capsys, {CONCLUSION_ITEMS[0]: False, CONCLUSION_ITEMS[1]: True})
    assert hint in hints[CONCLUSION_ITEMS[0]]


def test_no_speed_verdict_unless_every_model_learned(capsys):
    accuracies = {"LSTM(8)": [0.80, 0.85, 0.30], "GRU(8)": [0.9] * 3, "GRU(10)": [0.9] * 3}
    results, _ = experiment(accuracies=accuracies, ms=(10.0, 5.0, 5.0))
    _, accurate = solution_conclusion(results)
    conclude({"equal units": "GRU", "equal parameters": "GRU"}, accurate, results)
    hints = assert_items(capsys, {CONCLUSION_ITEMS[0]: False, CONCLUSION_ITEMS[1]: True})
    assert "answer 'no verdict'" in hints[CONCLUSION_ITEMS[0]]


@pytest.mark.parametrize(
    "accuracies, accurate, hint",
    [
        (
            {"LSTM(8)": [0.80, 0.90, 0.85], "GRU(8)": [0.84, 0.88, 0.92], "GRU(10)": [0.85] * 3},
            "GRU",
            "within the seeds' spread",
        ),
        (CLEARLY_APART, "no clear difference", "does not name the better cell"),
        (CLEARLY_APART, "LSTM", "does not name the better cell"),
        (CLEARLY_APART, "no verdict", "'no verdict' is for speed"),
    ],
)
def test_accuracy_verdicts_that_the_seeds_do_not_support_are_rejected(accuracies, accurate, hint, capsys):
    results, _ = experiment(accuracies=accuracies)
    faster, answers = solution_conclusion(results)
    conclude(faster, {**answers, "equal units": accurate}, results)
    hints = assert_items(capsys, {CONCLUSION_ITEMS[0]: True, CONCLUSION_ITEMS[1]: False})
    assert hint in hints[CONCLUSION_ITEMS[1]]


@pytest.mark.parametrize(
    "faster, message",
    [
        ({"equal units": "faster", "equal parameters": "GRU"}, "should be one of 'LSTM', 'GRU'"),
        ({"equal units": "GRU"}, "keys 'equal units' and 'equal parameters'"),
        ("GRU", "keys 'equal units' and 'equal parameters'"),
    ],
)
def test_malformed_answers_are_reported(faster, message, capsys):
    results, _ = experiment(accuracies=CLEARLY_APART)
    _, accurate = solution_conclusion(results)
    conclude(faster, accurate, results)
    assert message in assert_items(capsys, {CONCLUSION_ITEMS[0]: False, CONCLUSION_ITEMS[1]: True})[CONCLUSION_ITEMS[0]]


def test_the_rules_themselves():
    assert gru_lstm.speed_verdict(0.89) == "GRU" and gru_lstm.speed_verdict(1.12) == "LSTM"
    assert gru_lstm.speed_verdict(1.0) == gru_lstm.speed_verdict(0.91) == "no clear difference"
    assert gru_lstm.speed_verdict(0.5, all_beat_baseline=False) == "no verdict"
    assert gru_lstm.accuracy_verdicts([0.8] * 3, [0.9] * 3) == {"GRU"}
    assert gru_lstm.accuracy_verdicts([0.8, 0.9], [0.85, 0.85]) == {"no clear difference"}

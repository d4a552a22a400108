"""kerasdl.checks.sine: the solution's answers pass, plausible wrong answers are rejected with a hint,
and wrong types and shapes are reported instead of crashing the check."""

import numpy as np
import pytest

from kerasdl import data
from kerasdl.checks import sine

from helpers import assert_items

WINDOW, PERIOD, NOISE, FRACTION = 4, 20.0, 0.2, 0.2


# ---------------------------------------------------------------- the solution's answers


def make_windows(series, window):
    series = np.asarray(series, dtype="float32")
    num_samples = len(series) - window
    x = np.stack([series[start : start + window] for start in range(num_samples)])
    return x[:, :, np.newaxis], series[window:, np.newaxis]


def split_train_validation(series, window, validation_fraction):
    boundary = len(series) - int(round(validation_fraction * len(series)))
    return make_windows(series[:boundary], window), make_windows(series[boundary:], window)


def forecast_recursive(model, recent, steps):
    window_values = np.asarray(recent, dtype="float32").reshape(1, -1, 1)
    forecasts = []
    for _ in range(steps):
        next_value = model.predict_on_batch(window_values)[0, 0]
        forecasts.append(next_value)
        window_values = np.concatenate([window_values[:, 1:], [[[next_value]]]], axis=1)
    return np.array(forecasts, dtype="float32")


@pytest.fixture(scope="module")
def series():
    return data.noisy_sine(2000, period=PERIOD, noise=NOISE, seed=0)


# ---------------------------------------------------------------- windows

WINDOW_ITEMS = ("windows have shape", "each target is the value right after")


def test_the_solutions_windows_pass(capsys):
    sine.check_windows(make_windows)
    assert_items(capsys, dict.fromkeys(WINDOW_ITEMS, True))


def test_a_target_inside_the_window_is_rejected(capsys):
    def target_is_last_input(series, window):  # off by one: y[i] = series[i + window - 1]
        x, _ = make_windows(series, window)
        return x, x[:, -1, :]

    sine.check_windows(target_is_last_input)
    hints = assert_items(capsys, {WINDOW_ITEMS[0]: True, WINDOW_ITEMS[1]: False})
    assert "repeats the last value" in hints[WINDOW_ITEMS[1]]


def test_one_window_too_few_is_rejected(capsys):
    def drops_the_last_window(series, window):
        x, y = make_windows(series, window)
        return x[:-1], y[:-1]

    sine.check_windows(drops_the_last_window)
    hints = assert_items(capsys, {WINDOW_ITEMS[0]: False, WINDOW_ITEMS[1]: False})
    assert "has 25 windows" in hints[WINDOW_ITEMS[0]] and "got 24" in hints[WINDOW_ITEMS[0]]


def test_windows_shifted_by_one_are_rejected(capsys):
    def starts_at_one(series, window):  # window i holds series[i + 1 : i + 1 + window], target series[i + window]
        x, y = make_windows(series, window)
        return np.concatenate([x[1:], x[-1:]]), y

    sine.check_windows(starts_at_one)
    assert_items(capsys, {WINDOW_ITEMS[0]: True, WINDOW_ITEMS[1]: False})


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda s, w: (make_windows(s, w)[0][:, :, 0], make_windows(s, w)[1]), "(samples, 5, 1), got shape (25, 5)"),
        (lambda s, w: (make_windows(s, w)[0], make_windows(s, w)[1][:, 0]), "as a column"),
        (lambda s, w: make_windows(s, w)[0], "pair (x, y), got an ndarray"),
        (lambda s, w: (s.tolist(), s.tolist()), "got shape (30,)"),
        (lambda s, w: None, "got None"),
        (lambda s: make_windows(s, 5), "raised TypeError"),
        (None, "expected a function, got None"),
    ],
)
def test_wrong_types_and_shapes_are_reported(wrong, message, capsys):
    sine.check_windows(wrong)
    hints = assert_items(capsys, dict.fromkeys(WINDOW_ITEMS, False))
    assert message in hints[WINDOW_ITEMS[0]]


def test_an_unwritten_function_propagates_not_implemented(capsys):
    def stub(series, window):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        sine.check_windows(stub)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------- split

SPLIT_ITEMS = ("split windows have the right shapes", "no leakage", "validation is the latest part")


def test_the_solutions_split_passes(capsys):
    sine.check_split(split_train_validation)
    assert_items(capsys, dict.fromkeys(SPLIT_ITEMS, True))


def test_a_shuffled_split_is_rejected_as_leaking(capsys):
    def shuffled(series, window, validation_fraction):
        x, y = make_windows(series, window)
        order = np.random.default_rng(0).permutation(len(x))
        cut = int(len(x) * (1 - validation_fraction))
        return (x[order[:cut]], y[order[:cut]]), (x[order[cut:]], y[order[cut:]])

    sine.check_split(shuffled)
    hints = assert_items(capsys, {SPLIT_ITEMS[0]: True, SPLIT_ITEMS[1]: False, SPLIT_ITEMS[2]: False})
    assert "shuffled" in hints[SPLIT_ITEMS[1]]


def test_splitting_the_windows_instead_of_the_series_is_rejected(capsys):
    def windows_straddle_the_cut(series, window, validation_fraction):
        x, y = make_windows(series, window)
        cut = int(len(x) * (1 - validation_fraction))
        return (x[:cut], y[:cut]), (x[cut:], y[cut:])

    sine.check_split(windows_straddle_the_cut)
    hints = assert_items(capsys, {SPLIT_ITEMS[0]: True, SPLIT_ITEMS[1]: False, SPLIT_ITEMS[2]: True})
    assert "straddle" in hints[SPLIT_ITEMS[1]]  # the leak is named once, where it is: every validation
    # target does come after the training ones, so "validation is the latest part" holds


def test_windows_split_by_target_at_the_cut_leak_but_validation_is_still_the_latest(capsys):
    def by_target(series, window, validation_fraction):
        x, y = make_windows(series, window)
        boundary = len(series) - int(round(validation_fraction * len(series)))
        late = np.arange(len(x)) + window >= boundary  # the target's time step is at or after the cut
        return (x[~late], y[~late]), (x[late], y[late])

    sine.check_split(by_target)
    hints = assert_items(capsys, {SPLIT_ITEMS[0]: True, SPLIT_ITEMS[1]: False, SPLIT_ITEMS[2]: True})
    assert "straddle" in hints[SPLIT_ITEMS[1]]


def test_validating_on_the_past_is_rejected(capsys):
    def validation_first(series, window, validation_fraction):
        cut = int(round(validation_fraction * len(series)))
        return make_windows(series[cut:], window), make_windows(series[:cut], window)

    sine.check_split(validation_first)
    hints = assert_items(capsys, {SPLIT_ITEMS[0]: True, SPLIT_ITEMS[1]: True, SPLIT_ITEMS[2]: False})
    assert "must come after every training target" in hints[SPLIT_ITEMS[2]]


def test_a_validation_part_of_the_wrong_size_is_rejected(capsys):
    def uses_the_training_fraction(series, window, validation_fraction):
        return split_train_validation(series, window, 1 - validation_fraction)

    sine.check_split(uses_the_training_fraction)
    hints = assert_items(capsys, {SPLIT_ITEMS[0]: True, SPLIT_ITEMS[1]: True, SPLIT_ITEMS[2]: False})
    assert "about 45 windows" in hints[SPLIT_ITEMS[2]]


def test_off_by_one_windows_in_the_split_are_rejected(capsys):
    def target_is_last_input(series, window, validation_fraction):
        (x_train, _), (x_val, _) = split_train_validation(series, window, validation_fraction)
        return (x_train, x_train[:, -1, :]), (x_val, x_val[:, -1, :])

    sine.check_split(target_is_last_input)
    hints = assert_items(capsys, {SPLIT_ITEMS[0]: False, SPLIT_ITEMS[1]: True, SPLIT_ITEMS[2]: False})
    assert "consecutive steps followed by their target" in hints[SPLIT_ITEMS[0]]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda s, w, f: make_windows(s, w), "training windows should be a pair (x, y), got an ndarray"),
        (lambda s, w, f: (make_windows(s, w), (s, s)), "validation windows: x: expected an array of shape (N, 5, 1)"),
        (lambda s, w, f: (make_windows(s, w), None), "validation windows should be a pair (x, y), got None"),
        (lambda s, w, f: 42, "the result should be a pair (x, y), got an int"),
        (lambda s, w, f: s[10**6], "raised IndexError"),
    ],
)
def test_wrong_split_results_are_reported(wrong, message, capsys):
    sine.check_split(wrong)
    hints = assert_items(capsys, dict.fromkeys(SPLIT_ITEMS, False))
    assert all(message in hint for hint in hints.values()), hints


# ---------------------------------------------------------------- model

MODEL_ITEMS = ("the model maps", "the model has an LSTM layer")


def lstm_model(window=WINDOW, return_sequences=False):
    """Return an untrained LSTM regressor for windows of `window` steps (None: any length)."""
    import keras

    inputs = keras.Input(shape=(window, 1))
    state = keras.layers.LSTM(8, return_sequences=return_sequences)(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(state))


def test_an_lstm_regressor_passes(capsys):
    sine.check_model(lstm_model(), WINDOW)
    assert_items(capsys, dict.fromkeys(MODEL_ITEMS, True))
    sine.check_model(lstm_model(window=None), WINDOW)  # any sequence length
    assert_items(capsys, dict.fromkeys(MODEL_ITEMS, True))


def test_a_dense_only_model_is_rejected(capsys):
    import keras

    inputs = keras.Input(shape=(WINDOW, 1))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(inputs)))
    sine.check_model(model, WINDOW)
    hints = assert_items(capsys, {MODEL_ITEMS[0]: True, MODEL_ITEMS[1]: False})
    assert "no keras.layers.LSTM" in hints[MODEL_ITEMS[1]]


def test_one_output_per_time_step_is_rejected(capsys):
    sine.check_model(lstm_model(return_sequences=True), WINDOW)
    hints = assert_items(capsys, {MODEL_ITEMS[0]: False, MODEL_ITEMS[1]: True})
    assert "got shape (3, 4, 1)" in hints[MODEL_ITEMS[0]]


def test_a_model_for_another_window_or_not_a_model_is_reported(capsys):
    sine.check_model(lstm_model(window=10), WINDOW)
    hints = assert_items(capsys, {MODEL_ITEMS[0]: False, MODEL_ITEMS[1]: True})
    assert "the model takes windows of 10 steps" in hints[MODEL_ITEMS[0]]
    sine.check_model("model", WINDOW)
    hints = assert_items(capsys, dict.fromkeys(MODEL_ITEMS, False))
    assert "expected a Keras model, got a str" in hints[MODEL_ITEMS[0]]


# ---------------------------------------------------------------- baselines

BASELINE_ITEMS = ("persistence baseline", "linear autoregression baseline")


def baselines(series, fit_on="train", intercept=True, persistence_on="val", lag=1):
    (x_train, y_train), (x_val, y_val) = split_train_validation(series, WINDOW, FRACTION)
    px, py = (x_val, y_val) if persistence_on == "val" else (x_train, y_train)
    persistence = float(np.mean((px[:, -lag, 0] - py[:, 0]) ** 2))
    fx, fy = (x_train, y_train) if fit_on == "train" else (x_val, y_val)

    def design(x):
        return np.column_stack([x[:, :, 0], np.ones(len(x))]) if intercept else x[:, :, 0]

    coefficients = np.linalg.lstsq(design(fx), fy[:, 0], rcond=None)[0]
    return persistence, float(np.mean((design(x_val) @ coefficients - y_val[:, 0]) ** 2))


def test_the_solutions_baselines_pass_with_or_without_an_intercept(series, capsys):
    for intercept in (True, False):
        sine.check_baselines(*baselines(series, intercept=intercept), series, WINDOW, FRACTION)
        assert_items(capsys, dict.fromkeys(BASELINE_ITEMS, True))


@pytest.mark.parametrize(
    "kwargs, item, message",
    [
        (dict(persistence_on="train"), 0, "training windows' MSE"),
        (dict(lag=2), 0, "which value of each window it predicts with"),
        (dict(fit_on="val"), 1, "fitted on the validation windows"),
    ],
)
def test_wrong_baselines_are_rejected(series, kwargs, item, message, capsys):
    sine.check_baselines(*baselines(series, **kwargs), series, WINDOW, FRACTION)
    expected = dict.fromkeys(BASELINE_ITEMS, True)
    expected[BASELINE_ITEMS[item]] = False
    hints = assert_items(capsys, expected)
    assert message in hints[BASELINE_ITEMS[item]]


def test_a_root_mean_square_and_non_numbers_are_reported(series, capsys):
    persistence, linear = baselines(series)
    sine.check_baselines(np.sqrt(persistence), linear, series, WINDOW, FRACTION)
    hints = assert_items(capsys, {BASELINE_ITEMS[0]: False, BASELINE_ITEMS[1]: True})
    assert "root mean squared" in hints[BASELINE_ITEMS[0]]
    sine.check_baselines("0.12", np.array([linear, linear]), series, WINDOW, FRACTION)
    hints = assert_items(capsys, dict.fromkeys(BASELINE_ITEMS, False))
    assert "expected a number, got a str" in hints[BASELINE_ITEMS[0]]
    assert "expected a single number" in hints[BASELINE_ITEMS[1]]


# ---------------------------------------------------------------- forecast quality

QUALITY_ITEMS = (
    "validation MSE at least 1.5x below persistence",
    "validation MSE at least 1.2x below the linear",
    "validation MSE within 1.75x",
)


class Forecaster:
    """A stand-in for a trained model: anything with predict(x, verbose=0) is evaluated the same way."""

    def __init__(self, function):
        self.function = function

    def predict(self, x, verbose=0):
        return self.function(np.asarray(x, dtype=np.float64)[:, :, 0])[:, np.newaxis]  # (samples, 1)


def best_forecast(windows):
    """Return the best possible forecasts (Bayes' rule over the sine's phase) for windows (samples, WINDOW)."""
    phases = np.linspace(0, 2 * np.pi, 2048, endpoint=False)
    omega = 2 * np.pi / PERIOD
    waves = np.sin(omega * np.arange(WINDOW)[None, :] + phases[:, None])  # (phases, window)
    log_likelihood = -((windows[:, None, :] - waves[None]) ** 2).sum(-1) / (2 * NOISE**2)
    posterior = np.exp(log_likelihood - log_likelihood.max(axis=1, keepdims=True))
    posterior /= posterior.sum(axis=1, keepdims=True)
    return posterior @ np.sin(omega * WINDOW + phases)


def linear_forecaster(series):
    (x_train, y_train), _ = sine.reference_split(series, WINDOW, FRACTION)
    design = np.column_stack([x_train[:, :, 0], np.ones(len(x_train))])
    coefficients = np.linalg.lstsq(design, y_train[:, 0], rcond=None)[0]
    return coefficients


def test_a_near_optimal_forecaster_passes_and_the_scores_are_recomputed(series, capsys):
    model = Forecaster(best_forecast)
    sine.check_forecast_quality(model, series, WINDOW, NOISE, FRACTION)
    assert_items(capsys, dict.fromkeys(QUALITY_ITEMS, True))
    scores = sine.forecast_scores(model, series, WINDOW, NOISE, FRACTION)
    assert scores["noise_floor"] == pytest.approx(NOISE**2)
    assert scores["val_mse"] < scores["linear_ar_mse"] / 1.2 < scores["persistence_mse"] / 1.2
    assert scores["val_mse"] < 1.75 * NOISE**2


@pytest.mark.parametrize(
    "forecast, expected",
    [
        (lambda w: w[:, -1], (False, False, False)),  # persistence itself
        (lambda w: np.zeros(len(w)), (False, False, False)),  # worse than persistence
        (lambda w: -w[:, -1], (False, False, False)),
    ],
)
def test_models_no_better_than_persistence_are_rejected(series, forecast, expected, capsys):
    sine.check_forecast_quality(Forecaster(forecast), series, WINDOW, NOISE, FRACTION)
    hints = assert_items(capsys, dict(zip(QUALITY_ITEMS, expected)))
    assert "should be at least 1.5 times lower" in hints[QUALITY_ITEMS[0]]


def test_a_model_that_only_learned_the_linear_rule_is_rejected(series, capsys):
    import keras

    coefficients = linear_forecaster(series)  # a real Keras model on this backend, no better than linear AR
    inputs = keras.Input(shape=(WINDOW, 1))
    dense = keras.layers.Dense(1)
    model = keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))
    dense.set_weights([coefficients[:WINDOW, None].astype("float32"), coefficients[WINDOW:].astype("float32")])
    sine.check_forecast_quality(model, series, WINDOW, NOISE, FRACTION)
    hints = assert_items(capsys, dict(zip(QUALITY_ITEMS, (True, False, False))))
    assert "only learned a linear rule" in hints[QUALITY_ITEMS[1]]
    assert "at most 1.75 times" in hints[QUALITY_ITEMS[2]]


def test_a_model_that_cannot_take_the_windows_is_reported(series, capsys):
    sine.check_forecast_quality(lstm_model(window=10), series, WINDOW, NOISE, FRACTION)
    assert_items(capsys, dict.fromkeys(QUALITY_ITEMS, False))
    sine.check_forecast_quality(Forecaster(lambda w: w), series, WINDOW, NOISE, FRACTION)
    hints = assert_items(capsys, dict.fromkeys(QUALITY_ITEMS, False))
    assert "one number per window" in hints[QUALITY_ITEMS[0]]
    sine.check_forecast_quality(None, series, WINDOW, NOISE, FRACTION)
    hints = assert_items(capsys, dict.fromkeys(QUALITY_ITEMS, False))
    assert "expected a Keras model, got None" in hints[QUALITY_ITEMS[2]]


# ---------------------------------------------------------------- recursive forecast

RECURSIVE_ITEMS = ("recursive forecast returns", "recursive forecast feeds")


def test_the_solutions_recursive_forecast_passes(capsys):
    sine.check_recursive_forecast(forecast_recursive, WINDOW)
    assert_items(capsys, dict.fromkeys(RECURSIVE_ITEMS, True))


def test_it_also_passes_with_predict_or_a_direct_call(capsys):
    from keras import ops

    def with_predict(model, recent, steps):
        history = list(np.asarray(recent))
        for _ in range(steps):
            window_values = np.array(history[-len(recent) :], dtype="float32")[None, :, None]
            history.append(float(ops.convert_to_numpy(model(window_values))[0, 0]))
        return np.array(history[len(recent) :])

    sine.check_recursive_forecast(with_predict, WINDOW)
    assert_items(capsys, dict.fromkeys(RECURSIVE_ITEMS, True))


def test_what_the_learners_function_prints_is_not_shown(capsys):
    def with_progress_bars(model, recent, steps):
        print("debugging: starting")
        history = list(np.asarray(recent))
        for _ in range(steps):
            window_values = np.array(history[-len(recent) :], dtype="float32")[None, :, None]
            history.append(float(model.predict(window_values)[0, 0]))  # verbose: prints a progress bar
        return np.array(history[len(recent) :])

    sine.check_recursive_forecast(with_progress_bars, WINDOW)
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"✔ {item}"
        for item in (
            "recursive forecast returns `steps` values, shape (steps,)",
            "recursive forecast feeds its own predictions back",
        )
    ]


def test_forecasting_from_the_same_window_is_rejected(capsys):
    def same_window(model, recent, steps):
        window_values = np.asarray(recent, dtype="float32").reshape(1, -1, 1)
        return np.array([model.predict_on_batch(window_values)[0, 0] for _ in range(steps)])

    sine.check_recursive_forecast(same_window, WINDOW)
    hints = assert_items(capsys, {RECURSIVE_ITEMS[0]: True, RECURSIVE_ITEMS[1]: False})
    assert "same window" in hints[RECURSIVE_ITEMS[1]]


def test_dropping_the_newest_value_is_rejected(capsys):
    def drops_newest(model, recent, steps):
        window_values = np.asarray(recent, dtype="float32").reshape(1, -1, 1)
        forecasts = []
        for _ in range(steps):
            forecasts.append(model.predict_on_batch(window_values)[0, 0])
            window_values = np.concatenate([window_values[:, :-1], [[[forecasts[-1]]]]], axis=1)
        return np.array(forecasts)

    sine.check_recursive_forecast(drops_newest, WINDOW)
    hints = assert_items(capsys, {RECURSIVE_ITEMS[0]: True, RECURSIVE_ITEMS[1]: False})
    assert "drops its newest value" in hints[RECURSIVE_ITEMS[1]]


def test_a_forecast_that_uses_true_values_is_rejected(capsys):
    truth = np.random.default_rng(1).uniform(-1, 1, 100).astype("float32")  # the "future", known to the function

    def uses_true_values(model, recent, steps):  # teacher forcing: one-step forecasts from observed windows
        observed = np.concatenate([recent, truth])
        windows = np.stack([observed[i : i + len(recent)] for i in range(steps)])[:, :, None]
        return model.predict_on_batch(windows)[:, 0]

    sine.check_recursive_forecast(uses_true_values, WINDOW)
    hints = assert_items(capsys, {RECURSIVE_ITEMS[0]: True, RECURSIVE_ITEMS[1]: False})
    assert "not other data" in hints[RECURSIVE_ITEMS[1]]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda m, r, s: forecast_recursive(m, r, s)[:, None], "shape (6,), got shape (6, 1)"),
        (lambda m, r, s: forecast_recursive(m, r, s - 1), "shape (6,), got shape (5,)"),
        (lambda m, r, s: m.predict_on_batch(r), "raised"),
    ],
)
def test_wrong_recursive_results_are_reported(wrong, message, capsys):
    sine.check_recursive_forecast(wrong, WINDOW)
    hints = assert_items(capsys, dict.fromkeys(RECURSIVE_ITEMS, False))
    assert message in hints[RECURSIVE_ITEMS[0]]


# ---------------------------------------------------------------- valid alternatives (regression suite)


@pytest.mark.parametrize(
    "alternative",
    [
        lambda series, window: (
            np.lib.stride_tricks.sliding_window_view(series, window)[:-1, :, None],
            np.asarray(series, dtype="float64")[window:, None],
        ),
        lambda series, window: (
            [[[value] for value in series[i : i + window]] for i in range(len(series) - window)],
            [[value] for value in series[window:]],
        ),  # nested lists
        lambda series, window: [a.astype("float64") for a in make_windows(series, window)],  # a list pair
        lambda series, window: data.make_windows(series, window),  # the kit's own
    ],
)
def test_valid_windowing_alternatives_pass(alternative, capsys):
    sine.check_windows(alternative)
    assert_items(capsys, dict.fromkeys(WINDOW_ITEMS, True))


def test_a_split_that_drops_straddling_windows_after_windowing_passes(capsys):
    def drop_straddling(series, window, validation_fraction):
        x, y = make_windows(series, window)
        boundary = len(series) - int(round(validation_fraction * len(series)))
        starts = np.arange(len(x))
        train = starts + window < boundary  # the whole span, target included, before the cut
        validation = starts >= boundary  # the whole span after it
        return [x[train], y[train]], [x[validation].tolist(), y[validation].tolist()]

    sine.check_split(drop_straddling)
    assert_items(capsys, dict.fromkeys(SPLIT_ITEMS, True))


def test_baselines_as_numpy_or_framework_numbers_pass(series, capsys):
    from keras import ops

    persistence, linear = baselines(series)
    sine.check_baselines(np.float32(persistence), ops.convert_to_tensor(linear), series, WINDOW, FRACTION)
    assert_items(capsys, dict.fromkeys(BASELINE_ITEMS, True))


def test_a_linear_autoregression_by_normal_equations_passes(series, capsys):
    (x_train, y_train), (x_val, y_val) = split_train_validation(series, WINDOW, FRACTION)
    design = np.column_stack([x_train[:, :, 0], np.ones(len(x_train))]).astype("float64")
    weights = np.linalg.solve(design.T @ design, design.T @ y_train[:, 0])
    predictions = x_val[:, :, 0] @ weights[:-1] + weights[-1]
    persistence = np.mean(np.square(np.diff(np.concatenate([x_val[:, -1:, 0], y_val], axis=1), axis=1)))
    sine.check_baselines(persistence, np.mean((predictions - y_val[:, 0]) ** 2), series, WINDOW, FRACTION)
    assert_items(capsys, dict.fromkeys(BASELINE_ITEMS, True))


def sequential_lstm():
    import keras

    return keras.Sequential([keras.Input(shape=(WINDOW, 1)), keras.layers.LSTM(8), keras.layers.Dense(1)])


def stacked_bidirectional():
    import keras

    inputs = keras.Input(shape=(WINDOW, 1))
    x = keras.layers.Bidirectional(keras.layers.LSTM(8, return_sequences=True))(inputs)
    x = keras.layers.LSTM(8)(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


@pytest.mark.parametrize("build", [sequential_lstm, stacked_bidirectional])
def test_other_lstm_models_pass(build, capsys):
    sine.check_model(build(), WINDOW)
    assert_items(capsys, dict.fromkeys(MODEL_ITEMS, True))


@pytest.mark.parametrize("returned", ["list", "tuple of NumPy floats", "backend tensor", "column as one row"])
def test_recursive_forecasts_in_any_accepted_container_pass(returned, capsys):
    from keras import ops

    def forecast(model, recent, steps):
        values = forecast_recursive(model, recent, steps)
        return {
            "list": values.tolist(),
            "tuple of NumPy floats": tuple(values),
            "backend tensor": ops.convert_to_tensor(values),
            "column as one row": values.reshape(-1),
        }[returned]

    sine.check_recursive_forecast(forecast, WINDOW)
    assert_items(capsys, dict.fromkeys(RECURSIVE_ITEMS, True))


def test_a_recursive_forecast_that_rolls_its_window_passes(capsys):
    def rolling(model, recent, steps):
        window_values = np.array(recent, dtype="float64")
        out = []
        for _ in range(steps):
            out.append(float(model.predict(window_values[None, :, None], verbose=0)[0, 0]))
            window_values = np.roll(window_values, -1)
            window_values[-1] = out[-1]
        return out

    sine.check_recursive_forecast(rolling, WINDOW)
    assert_items(capsys, dict.fromkeys(RECURSIVE_ITEMS, True))

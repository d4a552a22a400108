"""Checks for the sine-wave forecasting exercise (solutions/04_sine_lstm.ipynb).

Each `check_*` function prints one verdict line per item (see kerasdl.checks)
and returns None, so a check cell can call it bare. The checks never trust a
number the learner computed when they can recompute it: the windowing and the
split are tried on a series whose values are their own time indices, the
baselines are refitted here, and the model is evaluated here on the
validation windows. Nothing here imports keras until a check needs a model.

Why the window is short: a sine obeys a linear recurrence, so with a long
window a linear autoregression is already close to the best possible forecast
and no model can beat it by much. With a 4-step window a linear model cannot
use what a nonlinear one can (the wave's amplitude is fixed), and on this
exercise's series (period 20, noise 0.2, window 4, 4,000 or 8,000 values) the
best possible forecast (`bayes_forecast`) has a validation MSE of 1.41-1.51
sigma^2, the linear autoregression 1.95-2.12 sigma^2 and persistence 3.0-3.3
sigma^2.
"""

import numpy as np

from kerasdl import checks, precision
from kerasdl.checks import CheckError

PERSISTENCE_FACTOR = 1.5  # the model's validation MSE must be at least this many times lower than persistence's
LINEAR_AR_FACTOR = 1.2  # ... and than the linear autoregression's
NOISE_FLOOR_FACTOR = 1.75  # ... and at most this many times the noise floor sigma^2
BASELINE_RTOL = 1e-3  # how closely the learner's baseline MSEs must match the ones computed here


# ---------------------------------------------------------------- reference computations


def reference_windows(series, window):
    """Return (x, y): x of shape (samples, window, 1), y of shape (samples, 1), the value after each window."""
    series = np.asarray(series, dtype=np.float64).reshape(-1)
    spans = np.lib.stride_tricks.sliding_window_view(series, window + 1)  # (samples, window + 1)
    return spans[:, :window, np.newaxis], spans[:, window:]


def split_index(num_points, validation_fraction):
    """Return the first index of the validation part: the last `validation_fraction` of the series."""
    return num_points - int(round(validation_fraction * num_points))


def reference_split(series, window, validation_fraction):
    """Return (x_train, y_train), (x_val, y_val): windows of the series before and after the split index."""
    series = np.asarray(series, dtype=np.float64).reshape(-1)
    boundary = split_index(len(series), validation_fraction)
    return reference_windows(series[:boundary], window), reference_windows(series[boundary:], window)


def persistence_mse(x, y):
    """Return the MSE of predicting each target by the last value of its window."""
    return float(np.mean((x[:, -1, 0] - y[:, 0]) ** 2))


def _design(x, intercept=True):
    columns = x[:, :, 0]  # (samples, window)
    return np.column_stack([columns, np.ones(len(x))]) if intercept else columns


def linear_ar_mse(x_fit, y_fit, x_eval, y_eval, intercept=True):
    """Return the MSE on (x_eval, y_eval) of least squares y ~ window values (+ intercept) fitted on (x_fit, y_fit)."""
    coefficients = np.linalg.lstsq(_design(x_fit, intercept), y_fit[:, 0], rcond=None)[0]
    return float(np.mean((_design(x_eval, intercept) @ coefficients - y_eval[:, 0]) ** 2))


def bayes_forecast(x, period, noise, num_phases=2048):
    """Return the best possible one-step forecasts for windows x (samples, window, 1) of a noisy unit sine.

    The forecast is the posterior mean of the next clean value given the window, by Bayes' rule over the
    sine's phase (uniform prior on a grid), knowing the period and the noise: no model can do better on
    average. A learner's model is never told either.
    """
    windows = np.asarray(x, dtype=np.float64)[:, :, 0]  # (samples, window)
    omega = 2 * np.pi / period
    phases = np.linspace(0.0, 2 * np.pi, num_phases, endpoint=False)  # (phases,)
    waves = np.sin(omega * np.arange(windows.shape[1])[None, :] + phases[:, None])  # (phases, window)
    log_likelihood = -((windows[:, None, :] - waves[None]) ** 2).sum(axis=-1) / (2 * noise**2)  # (samples, phases)
    posterior = np.exp(log_likelihood - log_likelihood.max(axis=1, keepdims=True))
    posterior /= posterior.sum(axis=1, keepdims=True)
    return posterior @ np.sin(omega * windows.shape[1] + phases)  # (samples,)


def _predictions(model, x):
    """Return the model's predictions for windows x as a 1-D NumPy array, or raise CheckError."""
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise CheckError(f"expected a Keras model, got {checks.kind(model)}")
    expected_shape = getattr(model, "input_shape", None)  # a Keras model's (None, time, features)
    if (
        isinstance(expected_shape, tuple)
        and len(expected_shape) == 3
        and any(want is not None and want != got for want, got in zip(expected_shape[1:], x.shape[1:]))
    ):
        raise CheckError(
            f"the model takes windows of {expected_shape[1]} steps and {expected_shape[2]} features, "
            f"shape {checks.shape_text(expected_shape)}; these windows are "
            f"{checks.shape_text((None, *x.shape[1:]))}"
        )
    output = checks.expect_array(predict(x.astype(np.float32), verbose=0))
    if output.shape not in ((len(x), 1), (len(x),)):
        raise CheckError(
            f"the model should give one number per window, shape ({len(x)}, 1); "
            f"got shape {checks.shape_text(output.shape)}"
        )
    return output.reshape(-1).astype(np.float64)


def forecast_scores(model, series, window, noise, validation_fraction):
    """Return {val_mse, persistence_mse, linear_ar_mse, noise_floor} on the validation windows of `series`."""
    (x_train, y_train), (x_val, y_val) = reference_split(series, window, validation_fraction)
    errors = _predictions(model, x_val) - y_val[:, 0]
    return {
        "val_mse": float(np.mean(errors**2)),
        "persistence_mse": persistence_mse(x_val, y_val),
        "linear_ar_mse": linear_ar_mse(x_train, y_train, x_val, y_val),
        "noise_floor": float(noise) ** 2,
    }


# ---------------------------------------------------------------- helpers for the checks


def _call(function, *args):
    """Return (checks.call(function, *args), None), or (None, the CheckError) when it raised."""
    try:
        return checks.call(function, *args), None
    except CheckError as error:  # reported by each item that needs the result
        return None, error


def _pair(value, what):
    """Return (x, y) from a 2-tuple, or raise CheckError."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise CheckError(f"{what} should be a pair (x, y), got {checks.kind(value)}")
    return value


def _windows(value, window, what):
    """Return (x, y) of a (x, y) pair as arrays of shape (samples, window, 1) and (samples, 1), or raise CheckError."""
    x, y = _pair(value, what)
    try:
        x = checks.expect_array(x, shape=(None, window, 1))
    except CheckError as error:
        raise CheckError(f"{what}: x: {error}") from None
    try:
        y = checks.expect_array(y, shape=(len(x), 1))
    except CheckError as error:
        raise CheckError(f"{what}: y: {error}") from None
    if len(x) == 0:
        raise CheckError(f"{what} holds no windows")
    return x, y


def _targets_follow(x, y):
    """Return the number of windows (of an index series) that are not `window` consecutive steps then the next one."""
    steps = np.concatenate([x[:, :, 0], y], axis=1)  # (samples, window + 1)
    return int(np.sum(np.any(np.diff(steps, axis=1) != 1, axis=1)))


# ---------------------------------------------------------------- the checks


def check_windows(make_windows, length=30, window=5):
    """Verdicts for make_windows(series, window) on a series whose values are their time indices."""
    series = np.arange(length, dtype=np.float32)
    result, error = _call(make_windows, series, window)
    samples = length - window

    def shapes():
        if error is not None:
            raise error
        x, y = _pair(result, "make_windows's result")
        x = checks.expect_array(x)
        y = checks.expect_array(y)
        if x.ndim != 3 or x.shape[1:] != (window, 1):
            raise CheckError(
                f"x should be (samples, time, features) = (samples, {window}, 1), got shape "
                f"{checks.shape_text(x.shape)}"
            )
        if len(x) != samples:
            raise CheckError(
                f"a series of {length} values and window {window} has {samples} windows "
                f"(one per start position whose target exists), got {len(x)}"
            )
        if y.shape != (samples, 1):
            raise CheckError(
                f"y should hold one target per window as a column, shape ({samples}, 1); "
                f"got shape {checks.shape_text(y.shape)}"
            )

    def targets():
        if error is not None:
            raise error
        x, y = _windows(result, window, "make_windows's result")
        if len(x) != samples or not np.array_equal(
            x[:, :, 0], np.lib.stride_tricks.sliding_window_view(series, window)[:samples]
        ):
            raise CheckError(f"window i should hold the {window} values starting at step i, in time order")
        if np.array_equal(y[:, 0], x[:, -1, 0]):
            raise CheckError(
                "each target repeats the last value of its window: the target is the value right after the window"
            )
        if not np.array_equal(y[:, 0], series[window:]):
            raise CheckError("each target should be the single value right after its window")

    checks.check("windows have shape (samples, time, 1) and targets (samples, 1)", shapes)
    checks.check("each target is the value right after its window", targets)


def check_split(split_train_validation, length=200, window=5, validation_fraction=0.25):
    """Verdicts for split_train_validation(series, window, validation_fraction) on an index series."""
    series = np.arange(length, dtype=np.float32)
    result, error = _call(split_train_validation, series, window, validation_fraction)
    boundary = split_index(length, validation_fraction)

    def parts():
        if error is not None:
            raise error
        train, validation = _pair(result, "the result")
        return _windows(train, window, "training windows"), _windows(validation, window, "validation windows")

    def shapes():
        (x_train, y_train), (x_val, y_val) = parts()
        broken = _targets_follow(x_train, y_train) + _targets_follow(x_val, y_val)
        if broken:
            raise CheckError(f"{broken} windows are not {window} consecutive steps followed by their target")

    def no_leakage():
        (x_train, y_train), (x_val, y_val) = parts()
        train_steps = np.concatenate([x_train.reshape(-1), y_train.reshape(-1)])
        val_steps = np.concatenate([x_val.reshape(-1), y_val.reshape(-1)])
        if train_steps.max() < val_steps.min() or val_steps.max() < train_steps.min():
            return True
        # Overlapping spans: by about one window when the cut was made after windowing, by much more when
        # the windows were shuffled before splitting.
        train_span, val_span = (train_steps.min(), train_steps.max()), (val_steps.min(), val_steps.max())
        overlap = min(train_span[1], val_span[1]) - max(train_span[0], val_span[0]) + 1
        shared = np.intersect1d(train_steps, val_steps).size
        if overlap > 2 * window:
            raise CheckError(
                f"{shared} time steps appear in both training and validation windows, all along "
                "the series: the windows were split at random (shuffled), not at one point in time"
            )
        raise CheckError(
            f"{shared} time steps appear in both training and validation windows, next to the cut: "
            "some windows straddle it; cut the series first, then make windows on each side"
        )

    def latest():
        (x_train, y_train), (x_val, y_val) = parts()
        if y_val.min() <= y_train.max():  # windows reaching back over the cut are the leakage item's business
            raise CheckError(
                "validation targets must come after every training target: forecast the future from the past"
            )
        if y_val.max() != length - 1:
            raise CheckError("the validation windows should run to the end of the series")
        wanted = length - boundary - window
        if abs(len(x_val) - wanted) > window:
            raise CheckError(
                f"with validation_fraction={validation_fraction} of {length} values, validation "
                f"should hold about {wanted} windows, got {len(x_val)}"
            )
        lost = length - 2 * window - len(x_train) - len(x_val)
        if lost > window:
            raise CheckError(
                f"{lost} more windows are dropped than the {window} straddling the cut: "
                "keep every window that fits on either side"
            )

    checks.check("split windows have the right shapes and targets", shapes)
    checks.check("no leakage: no window straddles the train/validation boundary", no_leakage)
    checks.check("validation is the latest part of the series", latest)


def _find_lstm(layer, depth=0):
    import keras

    if isinstance(layer, keras.layers.LSTM):
        return True
    if depth > 10:
        return False
    children = list(getattr(layer, "layers", []) or [])
    children += [getattr(layer, name) for name in ("layer", "forward_layer", "cell") if hasattr(layer, name)]
    return any(_find_lstm(child, depth + 1) for child in children if child is not layer)


def check_model(model, window):
    """Verdicts: the model maps (batch, window, 1) windows to (batch, 1) forecasts, with an LSTM layer."""

    def output_shape():
        _predictions(model, np.zeros((3, window, 1), dtype=np.float32))

    def has_lstm():
        if not _find_lstm(model):
            raise CheckError("no keras.layers.LSTM found in the model")

    checks.check(f"the model maps (batch, {window}, 1) windows to (batch, 1) forecasts", output_shape)
    checks.check("the model has an LSTM layer", has_lstm)


def check_baselines(persistence, linear_ar, series, window, validation_fraction):
    """Verdicts: the learner's persistence and linear-autoregression validation MSEs match the ones computed here."""
    (x_train, y_train), (x_val, y_val) = reference_split(series, window, validation_fraction)

    def close(value, reference):
        return abs(value - reference) <= BASELINE_RTOL * abs(reference)

    def persistence_item():
        value = checks.expect_number(persistence)
        if close(value, persistence_mse(x_val, y_val)):
            return True
        if close(value, persistence_mse(x_train, y_train)):
            raise CheckError("this is the training windows' MSE: compute it on the validation windows")
        if close(value, np.sqrt(persistence_mse(x_val, y_val))):
            raise CheckError("this looks like a root mean squared error: report the mean of the squared errors")
        raise CheckError(
            "this is not persistence's error on the validation windows: look at which value of "
            "each window it predicts with, and at what is averaged"
        )

    def linear_item():
        value = checks.expect_number(linear_ar)
        if any(close(value, linear_ar_mse(x_train, y_train, x_val, y_val, i)) for i in (True, False)):
            return True
        if any(close(value, linear_ar_mse(x_val, y_val, x_val, y_val, i)) for i in (True, False)):
            raise CheckError(
                "the coefficients were fitted on the validation windows: fit them on the training "
                "windows only, then evaluate on the validation windows"
            )
        if any(close(value, linear_ar_mse(x_train, y_train, x_train, y_train, i)) for i in (True, False)):
            raise CheckError(
                "this is the training windows' MSE: evaluate the fitted coefficients on the validation windows"
            )
        raise CheckError(
            "this is not the linear autoregression's error: fit it by least squares on the training "
            "windows only, then look at what is averaged over the validation windows"
        )

    checks.check("persistence baseline MSE on the validation windows", persistence_item)
    checks.check("linear autoregression baseline MSE on the validation windows", linear_item)


def check_forecast_quality(model, series, window, noise, validation_fraction):
    """Verdicts: the model's validation MSE, computed here, against persistence, linear AR and sigma^2."""
    scores, error = _call(forecast_scores, model, series, window, noise, validation_fraction)

    def ratio(name):
        if error is not None:
            raise error
        return scores[name] / scores["val_mse"] if name != "noise_floor" else scores["val_mse"] / scores[name]

    def beats_persistence():
        times = ratio("persistence_mse")
        if times < PERSISTENCE_FACTOR:
            raise CheckError(
                f"the model's validation MSE is {times:.2f} times lower than persistence's; "
                f"it should be at least {PERSISTENCE_FACTOR} times lower: train longer or check "
                "the model's inputs and targets"
            )

    def beats_linear():
        times = ratio("linear_ar_mse")
        if times < LINEAR_AR_FACTOR:
            raise CheckError(
                f"the model's validation MSE is {times:.2f} times lower than the linear "
                f"autoregression's; it should be at least {LINEAR_AR_FACTOR} times lower: a model "
                "that only learned a linear rule stops at the linear baseline, so train longer or "
                "with a larger learning rate"
            )

    def near_floor():
        times = ratio("noise_floor")
        if times > NOISE_FLOOR_FACTOR:
            raise CheckError(
                f"the model's validation MSE is {times:.2f} times the noise floor sigma^2 = "
                f"noise**2; it should be at most {NOISE_FLOOR_FACTOR} times"
            )

    checks.check(f"validation MSE at least {PERSISTENCE_FACTOR}x below persistence", beats_persistence)
    checks.check(f"validation MSE at least {LINEAR_AR_FACTOR}x below the linear autoregression", beats_linear)
    checks.check(f"validation MSE within {NOISE_FLOOR_FACTOR}x the noise floor", near_floor)


def stub_model(window):
    """Return a Keras model whose forecast is known: a fixed weighted sum of its window plus 0.1."""
    import keras

    weights = stub_weights(window)
    inputs = keras.Input(shape=(window, 1))  # (batch, window, 1)
    flat = keras.layers.Flatten()(inputs)  # (batch, window)
    dense = keras.layers.Dense(1)
    outputs = dense(flat)  # (batch, 1)
    dense.set_weights([weights[:, np.newaxis].astype(np.float32), np.array([0.1], dtype=np.float32)])
    return keras.Model(inputs, outputs, name="stub_forecaster")


def stub_weights(window):
    """Return the stub model's window weights: increasing towards the newest value, summing to 0.9."""
    weights = np.arange(1, window + 1, dtype=np.float64)
    return 0.9 * weights / weights.sum()


def _stub_forecast(recent, steps, keep="newest"):
    """Return what the stub model forecasts recursively from `recent` (or with a wrong window update)."""
    history, weights, out = list(recent), stub_weights(len(recent)), []
    for _ in range(steps):
        prediction = float(np.dot(weights, history) + 0.1)
        out.append(prediction)
        if keep == "newest":
            history = history[1:] + [prediction]
        elif keep == "oldest":
            history = history[:-1] + [prediction]
    return np.array(out)


def check_recursive_forecast(forecast_recursive, window, steps=6):
    """Verdicts for forecast_recursive(model, recent, steps), run with a stub model whose forecasts are known."""
    recent = np.random.default_rng(7).uniform(-1.0, 1.0, window).astype(np.float32)  # (window,)
    model = stub_model(window)
    with precision.exact_matmul():  # the stub's forecasts are compared to 1e-4: no TF32 on a GPU
        result, error = _call(forecast_recursive, model, recent.copy(), steps)
    expected = _stub_forecast(recent.astype(np.float64), steps)

    def forecast():
        if error is not None:
            raise error
        values = checks.expect_array(result)
        if values.shape != (steps,):
            raise CheckError(
                f"asked for {steps} steps, expected a 1-D array of shape ({steps},), got shape "
                f"{checks.shape_text(values.shape)}"
            )
        return values

    def shape():
        forecast()

    def feeds_back():
        values = forecast()

        def matches(reference):
            return np.allclose(values, reference, rtol=1e-4, atol=1e-5)

        if matches(expected):
            return True
        if matches(_stub_forecast(recent, steps, keep="same")):
            raise CheckError(
                "every step forecasts from the same window: after each step, the window should "
                "move on by one and end with the forecast just made"
            )
        if matches(_stub_forecast(recent, steps, keep="oldest")):
            raise CheckError("the window drops its newest value: drop the oldest value and append the forecast")
        if np.allclose(values[:1], expected[:1], rtol=1e-4, atol=1e-5):
            raise CheckError(
                "the first step is right but later ones are not: each later step must use only "
                "`recent` and the forecasts made so far, not other data"
            )
        raise CheckError(
            "the first forecast should be the model's prediction for the window `recent`, shaped (1, window, 1)"
        )

    checks.check("recursive forecast returns `steps` values, shape (steps,)", shape)
    checks.check("recursive forecast feeds its own predictions back", feeds_back)

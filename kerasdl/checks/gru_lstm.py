"""Checks for the GRU vs LSTM exercise (solutions/06_gru_vs_lstm.ipynb).

Each `check_*` function prints one verdict line per item (see kerasdl.checks) and
returns None. Parameter formulas are compared with Keras's own `count_params()` on
the active backend; the timing function runs against a stub model and a stub clock
(so its verdict does not depend on the machine's load); the learner's models are
evaluated here on validation data generated here; and the conclusion is checked
against the learner's own numbers, by the rules the notebook states:

- speed: the GRU/LSTM ratio of ms per step below 1 - SPEED_MARGIN names the GRU,
  above 1 / (1 - SPEED_MARGIN) the LSTM, in between "no clear difference"; and
  no speed verdict ("no verdict") unless every configuration beat the baseline;
- accuracy: a gap between the mean accuracies no larger than the sum of their
  standard deviations over the seeds is "no clear difference".

No verdict prints a number that depends on the backend. Keras is imported inside
the functions: importing kerasdl imports no framework. NotImplementedError propagates.
"""

import math

import numpy as np

from kerasdl import checks
from kerasdl.checks import CheckError

CELLS = ("LSTM", "GRU")
CHOICES = ("LSTM", "GRU", "no clear difference", "no verdict")
MIN_SEEDS = 3
MIN_TIMED_STEPS = 10  # timed steps in all, over the repeats
SPEED_MARGIN = 0.1  # a ratio within 10% of 1 is "no clear difference"
BASELINE_FACTOR = 2.0  # a model must reach at least twice the chance accuracy
ACCURACY_TOLERANCE = 0.01  # a recorded accuracy against the one measured here
TRAIN_SEED, VALIDATION_SEED = 0, 1  # the data seeds of make_data

# Sizes the formulas are tried on: (input features m, units n).
PARAMETER_CASES = [(1, 8), (20, 32), (50, 128), (3, 37), (64, 256)]
# The stub timing run: warm-up steps take WARMUP_S each, the second round's steps SLOW_S, the others FAST_S.
WARMUP_S, FAST_S, SLOW_S = 1.0, 0.020, 0.200


# ---------------------------------------------------------------- data and references


def make_data(train_samples, validation_samples, sequence_length, num_symbols, num_classes):
    """Return (x_train, y_train), (x_val, y_val): motif sequences, one-hot, with labels 0..num_classes-1."""
    from kerasdl import data

    train = data.motif_sequences(train_samples, sequence_length, num_symbols, num_classes, seed=TRAIN_SEED)
    validation = data.motif_sequences(
        validation_samples, sequence_length, num_symbols, num_classes, seed=VALIDATION_SEED
    )
    return train, validation


def lstm_parameters(m, n):
    """Return the parameter count of keras.layers.LSTM(n) on m input features."""
    return 4 * (n * m + n * n + n)


def gru_parameters(m, n):
    """Return the parameter count of keras.layers.GRU(n) (reset_after=True, the default) on m features."""
    return 3 * (n * m + n * n + 2 * n)


def keras_parameters(cell, m, n):
    """Return count_params() of keras.layers.LSTM(n) or GRU(n) built for m features (zero weights)."""
    import keras

    layer = getattr(keras.layers, cell)(n, kernel_initializer="zeros", recurrent_initializer="zeros")
    layer.build((None, None, m))
    return layer.count_params()


def speed_verdict(ratio, all_beat_baseline=True):
    """Return the expected speed answer for a GRU/LSTM ratio of ms per step."""
    if not all_beat_baseline:
        return "no verdict"
    if ratio < 1 - SPEED_MARGIN:
        return "GRU"
    if ratio > 1 / (1 - SPEED_MARGIN):
        return "LSTM"
    return "no clear difference"


def accuracy_verdicts(lstm_accuracies, gru_accuracies):
    """Return the accepted accuracy answers: the better cell, or "no clear difference" when the gap between
    the means is within the sum of the standard deviations (either convention, ddof 0 or 1: both accepted)."""
    lstm, gru = np.asarray(lstm_accuracies, float), np.asarray(gru_accuracies, float)
    gap = gru.mean() - lstm.mean()
    accepted = set()
    for ddof in (0, 1):
        spread = lstm.std(ddof=ddof) + gru.std(ddof=ddof) if len(lstm) > ddof and len(gru) > ddof else math.inf
        accepted.add("no clear difference" if abs(gap) <= spread else "GRU" if gap > 0 else "LSTM")
    return accepted


# ---------------------------------------------------------------- helpers


def _choice(value, what):
    """Return one of CHOICES for an answer (any case, extra spaces), or raise CheckError."""
    if isinstance(value, str):
        normal = " ".join(value.split()).lower()
        for choice in CHOICES:
            if normal == choice.lower():
                return choice
    raise CheckError(f"{what} should be one of {', '.join(repr(c) for c in CHOICES)}; got {value!r}")


def _recurrent_layers(model, depth=0):
    """Return the LSTM and GRU layers inside `model` (also RNN layers wrapping an LSTMCell or GRUCell)."""
    import keras

    found = []
    for layer in getattr(model, "layers", []) or []:
        if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU)):
            found.append(layer)
        elif isinstance(layer, keras.layers.RNN) and isinstance(
            layer.cell, (keras.layers.LSTMCell, keras.layers.GRUCell)
        ):
            found.append(layer)
        elif depth < 5 and getattr(layer, "layers", None):
            found += _recurrent_layers(layer, depth + 1)
    return found


def _cell_of(layer):
    import keras

    cell = getattr(layer, "cell", layer)
    return "LSTM" if isinstance(cell, keras.layers.LSTMCell) else "GRU"


def _units(layer):
    return getattr(layer, "units", None) or layer.cell.units


def _accuracy(model, x, y, num_classes):
    """Return the accuracy of `model` on (x, y), predicting here (argmax of its outputs), or raise CheckError."""
    predict = getattr(model, "predict", None)
    if not callable(predict):
        raise CheckError(f"expected a Keras model, got {checks.kind(model)}")
    outputs = checks.expect_array(checks.call(predict, x, batch_size=len(x), verbose=0))
    if outputs.shape != (len(x), num_classes):
        raise CheckError(
            f"the model should give one score per class, shape (batch, {num_classes}); got shape "
            f"{checks.shape_text(outputs.shape)}"
        )
    return float(np.mean(outputs.argmax(axis=1) == y))


def _signature(model):
    """Return the model's layers as (kind, size) pairs, every LSTM or GRU layer as ("recurrent", units)."""
    recurrent = {id(layer) for layer in _recurrent_layers(model)}
    return [
        ("recurrent", _units(layer))
        if id(layer) in recurrent
        else (type(layer).__name__, getattr(layer, "units", None))
        for layer in model.layers
    ]


# ---------------------------------------------------------------- part 1: parameter counts


def check_parameter_formulas(lstm_parameters_fn, gru_parameters_fn):
    """Verdicts: the learner's LSTM and GRU parameter formulas against count_params() for several sizes."""
    wrong_lstm = {
        lambda m, n: 4 * (n * m + n * n): "each of the four blocks has a bias vector too",
        lambda m, n: 4 * (n * m + n * n + 2 * n): "that is PyTorch's count (two biases per block); Keras's LSTM "
        "has one bias per block",
        lambda m, n: 3 * (n * m + n * n + n): "an LSTM has four blocks: three gates and the candidate",
        lambda m, n: 4 * (n * m + n + n): "the recurrent matrix maps n units to n units",
    }
    wrong_gru = {
        lambda m, n: 3 * (n * m + n * n + n): "this is GRU(reset_after=False); Keras's default (reset_after=True) "
        "keeps two bias vectors per block",
        lambda m, n: 3 * (n * m + n * n): "each block has biases too (two per block in Keras's default GRU)",
        lambda m, n: 4 * (n * m + n * n + 2 * n): "a GRU has three blocks: two gates and the candidate",
        lambda m, n: 2 * (n * m + n * n + 2 * n): "a GRU has three blocks: two gates and the candidate",
    }
    for cell, function, wrong in (("LSTM", lstm_parameters_fn, wrong_lstm), ("GRU", gru_parameters_fn, wrong_gru)):

        def body(cell=cell, function=function, wrong=wrong):
            for m, n in PARAMETER_CASES:
                call = f"{getattr(function, '__name__', 'your function')}({m}, {n})"
                answer = checks.expect_whole(checks.call(function, m, n), call)
                if answer == keras_parameters(cell, m, n):
                    continue
                for formula, hint in wrong.items():
                    if all(
                        checks.expect_whole(checks.call(function, mm, nn), call) == formula(mm, nn)
                        for mm, nn in PARAMETER_CASES
                    ):
                        raise CheckError(f"{call} is not {cell}({n})'s count_params(): {hint}")
                raise CheckError(
                    f"{call} is not {cell}({n})'s count_params(): count the input matrix, the "
                    "recurrent matrix and the biases of every block"
                )
            return True

        checks.check(f"{cell} parameter formula matches count_params()", body)


def check_equal_parameter_units(equal_parameter_units):
    """Verdict: equal_parameter_units(lstm_units, m) is a GRU width whose count is closest to LSTM(lstm_units)'s."""

    def body():
        for lstm_units, m in [(32, 20), (8, 1), (128, 50), (64, 64), (33, 3)]:
            call = f"equal_parameter_units({lstm_units}, {m})"
            answer = checks.expect_whole(checks.call(equal_parameter_units, lstm_units, m), call)
            target = lstm_parameters(m, lstm_units)
            best = min(abs(gru_parameters(m, n) - target) for n in range(1, 3 * lstm_units))
            if answer < 1 or abs(gru_parameters(m, answer) - target) > best:
                if answer == lstm_units:
                    raise CheckError(
                        f"{call} returned the LSTM's own width: a GRU of the same width has about "
                        "a quarter fewer parameters, so it needs more units"
                    )
                hint = "too many units" if gru_parameters(m, answer) > target else "too few units"
                raise CheckError(
                    f"{call}: GRU({answer}) is not the GRU whose count is closest to "
                    f"LSTM({lstm_units})'s ({hint}); try every width, or solve the quadratic and "
                    "compare its two neighbours"
                )
        return True

    checks.check("equal_parameter_units gives the GRU width closest to the LSTM's count", body)


# ---------------------------------------------------------------- part 2: one builder for both cells


def check_builder(build_model, units=8, sequence_length=6, num_symbols=5, num_classes=3):
    """Verdicts: build_model(cell, units, sequence_length, num_symbols, num_classes) for "LSTM" and "GRU"."""
    x = np.eye(num_symbols, dtype="float32")[
        np.arange(4 * sequence_length).reshape(4, sequence_length) % num_symbols
    ]  # (4, time, symbols): one-hot
    built, errors = {}, {}
    for cell in CELLS:
        try:
            built[cell] = checks.call(build_model, cell, units, sequence_length, num_symbols, num_classes)
        except CheckError as error:
            errors[cell] = error

    def each_model():
        for cell in CELLS:
            if cell in errors:
                raise CheckError(f"build_model({cell!r}, ...): {errors[cell]}")
            recurrent = _recurrent_layers(built[cell])
            if not recurrent:
                raise CheckError(f"build_model({cell!r}, ...) has no {cell} layer")
            if [_cell_of(layer) for layer in recurrent] != [cell] * len(recurrent):
                raise CheckError(
                    f"build_model({cell!r}, ...) should use {cell} layers only; it has "
                    f"{', '.join(_cell_of(layer) for layer in recurrent)}"
                )
            if _units(recurrent[0]) != units:
                raise CheckError(f"build_model({cell!r}, {units}, ...) has a {cell} of {_units(recurrent[0])} units")
            if getattr(recurrent[-1], "return_sequences", False):
                raise CheckError(
                    f"build_model({cell!r}, ...): its last {cell} returns every step (return_sequences=True); "
                    "the classifier reads the state after the whole sequence"
                )
            outputs = checks.expect_array(checks.call(built[cell].predict, x, verbose=0))
            if outputs.shape != (4, num_classes):
                raise CheckError(
                    f"build_model({cell!r}, ...) maps (batch, {sequence_length}, {num_symbols}) "
                    f"sequences to shape {checks.shape_text((None,) + outputs.shape[1:])}; "
                    f"expected one score per class, (batch, {num_classes})"
                )
            if (outputs < 0).any() or not np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3):
                raise CheckError(
                    f"build_model({cell!r}, ...) gives scores that are not probabilities: the notebook compiles "
                    "with sparse_categorical_crossentropy on probabilities, so the last layer needs its softmax"
                )
        return True

    def same_model():
        if errors:
            raise CheckError("build_model must first build both models")
        lstm, gru = built["LSTM"], built["GRU"]
        if _signature(lstm) != _signature(gru):
            raise CheckError(
                "the LSTM model and the GRU model should have the same layers of the same sizes, "
                "except the cell: build both with the same code, passing the cell along"
            )
        extra = lstm.count_params() - gru.count_params()
        if extra != lstm_parameters(num_symbols, units) - gru_parameters(num_symbols, units):
            raise CheckError("the two models' parameter counts differ by more than their recurrent layers' counts do")
        return True

    checks.check("build_model makes an LSTM model and a GRU model with one score per class", each_model)
    checks.check("the two models differ only in the recurrent cell", same_model)


# ---------------------------------------------------------------- part 3: the timing protocol


class StubClock:
    """A clock that only moves when the stub model trains: call it like time.perf_counter."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class StubModel:
    """A model whose train_on_batch advances a StubClock and records what it was given.

    Calls 1..warmup take WARMUP_S each (compiling); then the timed steps take FAST_S each,
    except the second round's, which take SLOW_S (another job on the machine).
    """

    def __init__(self, clock, warmup, steps):
        self.clock, self.warmup, self.steps = clock, warmup, steps
        self.calls = []

    def train_on_batch(self, x, y, *args, **kwargs):
        index = len(self.calls)
        self.calls.append((x, y))
        if index < self.warmup:
            self.clock.now += WARMUP_S
        elif (index - self.warmup) // self.steps == 1:
            self.clock.now += SLOW_S
        else:
            self.clock.now += FAST_S
        return 0.0


def _same_values(got, want):
    """Return True when `got` (an array or a tensor, converted once or at each step: both fine) holds `want`."""
    try:
        array = checks.expect_array(got, finite=False)
    except CheckError:
        return False
    return array.shape == want.shape and np.array_equal(array, want)


def check_timing(time_training_step, warmup_steps=2, timed_steps=5, repeats=3):
    """Verdicts: time_training_step(model, x, y, warmup_steps, timed_steps, repeats, clock) with a stub model."""
    clock = StubClock()
    model = StubModel(clock, warmup_steps, timed_steps)
    x, y = np.zeros((4, 6, 5), "float32"), np.zeros(4, "int64")
    try:
        result, error = (
            checks.call(time_training_step, model, x, y, warmup_steps, timed_steps, repeats, clock=clock),
            None,
        )
    except CheckError as raised:
        result, error = None, raised

    def steps():
        if error is not None:
            raise error
        wanted = warmup_steps + timed_steps * repeats
        if len(model.calls) != wanted:
            raise CheckError(
                f"with warmup_steps={warmup_steps}, timed_steps={timed_steps} and repeats={repeats}, "
                f"train_on_batch should run {wanted} times; it ran {len(model.calls)} times"
            )
        if not all(_same_values(bx, x) and _same_values(by, y) for bx, by in model.calls):
            raise CheckError("every step should train on the batch (x, y) it is given, the same each time")
        return True

    def milliseconds():
        if error is not None:
            raise error
        if len(model.calls) != warmup_steps + timed_steps * repeats:
            raise CheckError(
                "first run exactly warmup_steps untimed steps, then repeats rounds of timed_steps "
                "steps (see the item above)"
            )
        value = checks.expect_number(result)
        fast, slow, warm = 1000 * FAST_S, 1000 * SLOW_S, 1000 * WARMUP_S
        rounds = [fast] * repeats
        rounds[1] = slow  # the stub's second round is disturbed
        named = [  # (what a protocol returns on the stub, what is wrong with it); the first is right
            (fast, None),
            (FAST_S, "this is in seconds: report milliseconds per step"),
            (fast * timed_steps, "this is the time of a whole round: divide by the number of steps in a round"),
            (fast / repeats, "each round's time is divided by the repeats too: divide it by that round's steps only"),
            (
                sum(rounds) / repeats,
                "one slow round moved the result: report the median of the rounds' ms per step, "
                "which one disturbed round cannot move",
            ),
            (
                (warmup_steps * warm + timed_steps * sum(rounds)) / (repeats * timed_steps),
                "the warm-up steps are in the time: run them first, then start the clock",
            ),
            (
                slow,
                "this is the disturbed round's time: the median of the rounds is what one slow round cannot move "
                "(and the warm-up stays outside the rounds)",
            ),
        ]
        for candidate, problem in named:
            if math.isclose(value, candidate, rel_tol=0.02):
                if problem is None:
                    return True
                raise CheckError(problem)
        if value < FAST_S / 2:
            raise CheckError(
                "the steps took no time by the clock you read: time them with the `clock` argument "
                "(it stands for time.perf_counter), calling it before and after each round"
            )
        raise CheckError("report the median, over the repeats, of each round's milliseconds per step")

    checks.check("time_training_step runs the warm-up, then repeats rounds of steps on the given batch", steps)
    checks.check("time_training_step excludes the warm-up and reports the median ms per step", milliseconds)


# ---------------------------------------------------------------- part 4: the experiment


def _configurations(results):
    """Return {label: record} after checking the shape of `results`, or raise CheckError."""
    if not isinstance(results, dict) or not results:
        raise CheckError(f"results should be a dict {{label: record}}, got {checks.kind(results)}")
    for label, record in results.items():
        if not isinstance(record, dict):
            raise CheckError(f"results[{label!r}] should be a dict, got {checks.kind(record)}")
        missing = [key for key in ("cell", "units", "accuracy", "ms_per_step") if key not in record]
        if missing:
            raise CheckError(f"results[{label!r}] has no {', '.join(repr(k) for k in missing)}")
        _choice(record["cell"], f"results[{label!r}]['cell']")
        if record["cell"] not in CELLS:
            raise CheckError(f"results[{label!r}]['cell'] should be 'LSTM' or 'GRU'")
    return results


def _pairs(results, num_symbols):
    """Return {"equal units": (lstm label, gru label), "equal parameters": (...)} from the configurations."""
    lstm = [label for label, r in results.items() if r["cell"] == "LSTM"]
    gru = [label for label, r in results.items() if r["cell"] == "GRU"]
    if len(lstm) != 1 or len(gru) != 2:
        raise CheckError(
            f"results should hold one LSTM and two GRU configurations (equal units, equal "
            f"parameters); got {len(lstm)} LSTM and {len(gru)} GRU"
        )
    lstm_units = checks.expect_whole(results[lstm[0]]["units"], f"results[{lstm[0]!r}]['units']")
    same = [label for label in gru if checks.expect_whole(results[label]["units"], "units") == lstm_units]
    other = [label for label in gru if label not in same]
    if len(same) != 1:
        raise CheckError(f"one GRU configuration should have the LSTM's {lstm_units} units")
    return {"equal units": (lstm[0], same[0]), "equal parameters": (lstm[0], other[0])}


def _accuracies(record, label):
    values = record["accuracy"]
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) == 0:
        raise CheckError(f"results[{label!r}]['accuracy'] should be a list with one accuracy per seed")
    values = [checks.expect_number(v) for v in values]
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise CheckError(f"results[{label!r}]['accuracy'] should hold accuracies between 0 and 1")
    return values


def check_experiment(
    results, models, train_samples, validation_samples, sequence_length, num_symbols, num_classes, batch_size
):
    """Verdicts on the learner's experiment: seeds, same budget, the models' accuracies, the baseline, timing."""
    baseline = BASELINE_FACTOR / num_classes
    measured, problem = {}, None
    try:
        _configurations(results)
        if not isinstance(models, dict):
            raise CheckError(
                f"models should be a dict {{label: the last seed's trained model}}, got {checks.kind(models)}"
            )
        _, (x_val, y_val) = make_data(16, validation_samples, sequence_length, num_symbols, num_classes)
        for label in results:
            if label not in models:
                raise CheckError(f"models has no {label!r}: keep each configuration's last trained model")
            measured[label] = _accuracy(models[label], x_val, y_val, num_classes)
    except CheckError as error:
        problem = error

    def ready():
        if problem is not None:
            raise problem

    def seeds():
        ready()
        pairs = _pairs(results, num_symbols)
        for label, record in results.items():
            if len(_accuracies(record, label)) < MIN_SEEDS:
                raise CheckError(
                    f"{label} was trained with {len(record['accuracy'])} seeds; use at least "
                    f"{MIN_SEEDS} to see the spread"
                )
        lstm_label, gru_label = pairs["equal parameters"]
        lstm_units = checks.expect_whole(results[lstm_label]["units"], "units")
        gru_units = checks.expect_whole(results[gru_label]["units"], "units")
        target = lstm_parameters(num_symbols, lstm_units)
        best = min(abs(gru_parameters(num_symbols, n) - target) for n in range(1, 3 * lstm_units))
        if abs(gru_parameters(num_symbols, gru_units) - target) > best:
            raise CheckError(
                f"{gru_label}: GRU({gru_units}) is not the GRU closest to {lstm_label}'s parameter "
                "count; use equal_parameter_units"
            )
        return True

    def own_numbers():
        ready()
        for label, record in results.items():
            last = _accuracies(record, label)[-1]
            if abs(last - measured[label]) > ACCURACY_TOLERANCE:
                raise CheckError(
                    f"{label}: the last recorded accuracy is not the one its model reaches on the "
                    "validation sequences: record each seed's validation accuracy, keep the last "
                    "seed's model, and if you timed it, put back the weights it had before"
                )
        return True

    def baseline_item():
        ready()
        for label, record in results.items():
            if measured[label] < baseline or min(_accuracies(record, label)) < baseline:
                raise CheckError(
                    f"{label} stays below {BASELINE_FACTOR:g} × chance ({baseline:.2f}) on some seed: "
                    "train with the notebook's settings, and check the model's output and loss"
                )
        return True

    def timing():
        ready()
        sizes = set()
        for label, record in results.items():
            for key in ("batch_size", "sequence_length", "timed_steps"):
                if key not in record:
                    raise CheckError(f"results[{label!r}] has no {key!r}: record how each time was measured")
            sizes.add(
                (
                    checks.expect_whole(record["batch_size"], "batch_size"),
                    checks.expect_whole(record["sequence_length"], "sequence_length"),
                )
            )
            if checks.expect_whole(record["timed_steps"], "timed_steps") < MIN_TIMED_STEPS:
                raise CheckError(
                    f"{label} was timed over {record['timed_steps']} steps; time at least "
                    f"{MIN_TIMED_STEPS} (steps × repeats) so one disturbed step cannot decide"
                )
            if checks.expect_number(record["ms_per_step"]) <= 0:
                raise CheckError(f"{label}: ms_per_step should be a positive time")
        if len(sizes) != 1:
            raise CheckError("time every configuration on batches of the same size and sequence length")
        if sizes != {(batch_size, sequence_length)}:
            raise CheckError(f"time on a training batch: {batch_size} sequences of {sequence_length} steps")
        return True

    checks.check(f"one LSTM and two GRU configurations (equal units, equal parameters), {MIN_SEEDS}+ seeds each", seeds)
    checks.check("each configuration's recorded accuracy is its model's own", own_numbers)
    checks.check(f"every model beats the baseline ({BASELINE_FACTOR:g} × chance accuracy)", baseline_item)
    checks.check("every configuration timed on the same batch size and sequence length, with enough steps", timing)


# A mean or standard deviation computed in float32 is right to about 1e-5 of itself (a standard deviation
# of accuracies near 0.8 subtracts numbers that agree to their third digit); ddof 0 against 1 differs by 22 %
# at three seeds, and the variance by orders of magnitude, so this tolerance tells them apart.
SUMMARY_RTOL = 1e-4


def check_summary(summary, results):
    """Verdict: summary[label] == (mean, std) of results[label]['accuracy'] (either standard deviation)."""

    def body():
        _configurations(results)
        if not isinstance(summary, dict) or set(summary) != set(results):
            raise CheckError("summary should have one entry per configuration of results: {label: (mean, std)}")
        for label, pair in summary.items():
            mean, std = checks.expect_tuple(pair, 2, f"summary[{label!r}] = (mean, std)")
            mean, std = checks.expect_number(mean), checks.expect_number(std)
            values = np.asarray(_accuracies(results[label], label))
            if not math.isclose(mean, values.mean(), rel_tol=SUMMARY_RTOL, abs_tol=1e-9):
                raise CheckError(f"summary[{label!r}]: the mean is not the mean of the seeds' accuracies")
            if not any(math.isclose(std, values.std(ddof=ddof), rel_tol=SUMMARY_RTOL, abs_tol=1e-7) for ddof in (0, 1)):
                if math.isclose(std, values.var(), rel_tol=SUMMARY_RTOL, abs_tol=1e-12):
                    raise CheckError(f"summary[{label!r}]: this is the variance; the spread is its square root")
                raise CheckError(f"summary[{label!r}]: the spread is the standard deviation of the seeds' accuracies")
        return True

    checks.check("summary holds each configuration's mean and standard deviation over the seeds", body)


# ---------------------------------------------------------------- part 5: the conclusion


def check_conclusion(faster_cell, more_accurate_cell, results, num_symbols, num_classes):
    """Verdicts: the learner's speed and accuracy verdicts agree with their own results, by the stated rules."""
    baseline = BASELINE_FACTOR / num_classes

    def expected():
        _configurations(results)
        pairs = _pairs(results, num_symbols)
        all_beat = all(min(_accuracies(r, label)) >= baseline for label, r in results.items())
        speed, accuracy = {}, {}
        for comparison, (lstm, gru) in pairs.items():
            ratio = checks.expect_number(results[gru]["ms_per_step"]) / checks.expect_number(
                results[lstm]["ms_per_step"]
            )
            speed[comparison] = (speed_verdict(ratio, all_beat), ratio, all_beat)
            accuracy[comparison] = accuracy_verdicts(_accuracies(results[lstm], lstm), _accuracies(results[gru], gru))
        return speed, accuracy

    def answers(value, what):
        if not isinstance(value, dict) or set(value) != {"equal units", "equal parameters"}:
            raise CheckError(f"{what} should be a dict with the keys 'equal units' and 'equal parameters'")
        return {key: _choice(answer, f"{what}[{key!r}]") for key, answer in value.items()}

    def speed_item():
        speed, _ = expected()
        given = answers(faster_cell, "faster_cell")
        for comparison, (wanted, ratio, all_beat) in speed.items():
            if given[comparison] == wanted:
                continue
            if not all_beat:
                raise CheckError(
                    "not every model beat the baseline: a speed verdict about models that did not "
                    "learn says nothing, so answer 'no verdict'"
                )
            if given[comparison] == "no verdict":
                raise CheckError(
                    "every model beat the baseline, so name the faster cell (or say there is no clear difference)"
                )
            raise CheckError(
                f"at {comparison}, your GRU/LSTM ratio of ms per step does not say "
                f"{given[comparison]!r} by the rule: below {1 - SPEED_MARGIN:g} the GRU is faster, "
                f"above {1 / (1 - SPEED_MARGIN):.3g} the LSTM, in between no clear difference"
            )
        return True

    def accuracy_item():
        _, accuracy = expected()
        given = answers(more_accurate_cell, "more_accurate_cell")
        for comparison, accepted in accuracy.items():
            if given[comparison] in accepted:
                continue
            if "no clear difference" in accepted:
                raise CheckError(
                    f"at {comparison}, the gap between the mean accuracies is within the seeds' "
                    "spread (the sum of the two standard deviations): that is no clear difference"
                )
            if given[comparison] == "no verdict":
                raise CheckError("'no verdict' is for speed; compare the accuracies whatever they are")
            raise CheckError(
                f"at {comparison}, the gap between the mean accuracies is larger than the seeds' "
                f"spread, and {given[comparison]!r} does not name the better cell"
            )
        return True

    checks.check("the faster cell is named by the measured ratio, and only for models that learned", speed_item)
    checks.check("the more accurate cell is named only when the gap exceeds the seeds' spread", accuracy_item)

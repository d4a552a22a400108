"""Checks for the char-RNN exercise (solutions/03_char_rnn.ipynb), one verdict line per item.

Each `check_*` function takes the learner's own objects (functions, arrays, the
model), runs them on inputs it chooses, and prints `✔ item` or `✘ item — hint`
(kerasdl.checks). It never crashes on a wrong type or shape: it says what was
wrong. The verdicts depend on no backend and no profile, so a check cell's stored
output is the answer key. The contract the notebook states:

- `chars` (the vocabulary, in id order), `encode(text)` -> 1-D integer ids,
  `decode(ids)` -> str;
- `make_windows(ids, sequence_length, step)` -> (x, y), both (num_windows,
  sequence_length), windows starting at 0, step, 2*step, ..., and y is x shifted by one;
- the model maps (batch, time) ids to (batch, time, vocab_size) logits (every
  position predicts the next character, not only the last one);
- `sample_next_id(logits, temperature, rng)` -> one int id, drawn from
  softmax(logits / temperature) with NumPy's Generator `rng`, without overflowing on large logits;
- `generate_text(model, prompt, length, temperature, rng)` -> `length` new characters sampled from
  `model`, each from its logits at the last position of the text so far.

The sampler is probed at several temperatures, on large logits and with seeded generators; the
generator runs on `successor_model`, a stub whose prediction is known (the character after the
last one, in vocabulary order), so a generator that never appends what it sampled, reads the
wrong position or ignores the model is caught by what it writes.
"""

import math
import warnings

import numpy as np

from kerasdl import checks
from kerasdl.checks import CheckError, check, expect_array, expect_whole, kind, to_numpy
from kerasdl.data import next_char_windows

# The validation loss must be at least this fraction below the unigram entropy H of the
# validation targets: loss <= (1 - LOSS_MARGIN) * H. H is what the best model that ignores context
# gets (each character's frequency, fitted on the validation text itself); an untrained model gets
# about log(vocab_size), above H. Measured on Python's documentation text: counting character
# pairs on the first 90% gets 26% below H on the last 10% (2.32 against 3.13 nats), so 15% below
# means the model uses at least the previous character; the quick profile (150 steps of an
# LSTM(128), a few seconds) reaches 25-28% below on every backend (100 steps only 18%), the full
# profile 55-58%.
LOSS_MARGIN = 0.15
MAX_LOSS_WINDOWS = 1024  # the loss check evaluates at most this many windows, evenly spaced
LOSS_CHUNK = 128  # windows per forward pass in the loss check

LOW_TEMPERATURE, LOW_DRAWS, GREEDY_SHARE = 0.1, 300, 0.9
HIGH_TEMPERATURE, HIGH_DRAWS, UNIFORM_SHARE = 10.0, 2000, 0.95
# Between the two: at MID_TEMPERATURE the probe's softmax is MID_PROBABILITIES for three ids and the
# rest spread evenly; MID_DRAWS draws must match each of the four shares within MID_TOLERANCE
# (the largest share's standard error is 0.013, so 0.06 is 4.6 of them; a greedy sampler is 0.55 off).
MID_TEMPERATURE, MID_DRAWS, MID_TOLERANCE = 0.5, 1500, 0.06
MID_PROBABILITIES = (0.45, 0.30, 0.15)
LARGE_SHIFT = 100.0  # added to every probe logit: softmax ignores it, exp(logit / 0.1) overflows without care
RNG_DRAWS = 60  # draws compared between generators seeded alike and differently
GENERATE_LENGTH = 20  # characters per generate_text call of the check; it makes five calls
SURE_GAP, FAINT_GAP = 30.0, 2.0  # the successor model's logit for the next character, the others at 0
FAINT_TEMPERATURE = 0.05  # at which the faint model is as sure as the sure one


def _integer_array(value, shape, what):
    array = expect_array(value, shape=shape)
    if array.dtype.kind not in "iu":
        raise CheckError(f"{what} should hold integer ids, got dtype {array.dtype}")
    return array


def _as_int(value, name):
    """Return `value` as a Python int, by the checks' rule for whole numbers (26, np.int64(26), 26.0)."""
    return expect_whole(value, name)


def _characters(chars):
    """Return the vocabulary `chars` (a str, list or tuple of one-character strings) as a list."""
    if isinstance(chars, str):
        return list(chars)
    if not isinstance(chars, (list, tuple)):
        raise CheckError(f"chars should be a list (or string) of characters in id order, got {kind(chars)}")
    bad = next((c for c in chars if not (isinstance(c, str) and len(c) == 1)), chars)
    if bad is not chars:
        raise CheckError(f"chars should hold single characters, found {bad!r}")
    return list(chars)


# ---------------------------------------------------------------- vocabulary


def _vocabulary_probe(text):
    """Return a text with every distinct character of `text` at least once, plus a slice of it."""
    return "".join(sorted(set(text))) + text[:5000] + text[len(text) // 2 : len(text) // 2 + 5000]


def check_vocabulary(text, chars, encode, decode):
    """Print verdicts: `chars` holds each character of `text` once; encode/decode round-trip it."""

    def corpus():
        if not isinstance(text, str) or not text:
            raise CheckError(f"the corpus text should be a non-empty str, got {kind(text)}")
        return text

    def every_character_once():
        text = corpus()
        vocabulary = _characters(chars)
        if len(set(vocabulary)) != len(vocabulary):
            raise CheckError("some character appears more than once")
        missing = set(text) - set(vocabulary)
        if missing:
            raise CheckError(f"{len(missing)} character(s) of the text are missing")
        if set(vocabulary) - set(text):
            raise CheckError("it holds characters that are not in the text")
        if vocabulary != sorted(vocabulary):
            raise CheckError(
                "the characters are not in sorted order, as the text asks (so that id 0 is the "
                "smallest character, the one generate_text pads with)"
            )

    def encode_gives_ids():
        text, vocabulary = corpus(), _characters(chars)
        probe = _vocabulary_probe(text)
        ids = _integer_array(checks.call(encode, probe), (len(probe),), "encode(text)")
        if ids.size and (ids.min() < 0 or ids.max() >= len(vocabulary)):
            raise CheckError("some ids are outside 0 .. len(chars) - 1")
        if any(vocabulary[i] != c for i, c in zip(ids[: len(set(text))].tolist(), probe)):
            raise CheckError("an id does not point at its character in chars")

    def round_trip():
        probe = _vocabulary_probe(corpus())
        decoded = checks.call(decode, checks.call(encode, probe))
        if not isinstance(decoded, str):
            raise CheckError(f"decode should return a str, got {kind(decoded)}")
        if decoded != probe:
            where = next((i for i, (a, b) in enumerate(zip(decoded, probe)) if a != b), min(len(decoded), len(probe)))
            raise CheckError(f"the text comes back different from character {where} on")

    check(
        "the vocabulary holds every character of the text once, sorted",
        every_character_once,
        hint="build it from the set of all the text's characters, sorted",
    )
    check(
        "encode gives one integer id per character",
        encode_gives_ids,
        hint="look each character up in a dict from character to its position in chars",
    )
    check(
        "decode(encode(text)) gives the text back",
        round_trip,
        hint="decode should undo encode: each id back to its character, joined into one string",
    )


# ---------------------------------------------------------------- windows


def check_windows(make_windows, x_train, y_train, sequence_length):
    """Print verdicts: windows have shape (num_windows, sequence_length); targets are inputs shifted by one."""
    probe = np.arange(100, 131, dtype=np.int32)  # 31 ids whose values say where they come from
    probe_length, probe_step = 6, 4

    def probe_windows():
        result = checks.call(make_windows, probe, probe_length, probe_step)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise CheckError(f"make_windows should return a pair (x, y), got {kind(result)}")
        reference_x, _ = next_char_windows(probe, probe_length, probe_step)
        x = _integer_array(result[0], (None, probe_length), "x")
        y = _integer_array(result[1], (None, probe_length), "y")
        if x.shape != reference_x.shape or y.shape != reference_x.shape:
            raise CheckError(
                "on a test sequence, make_windows(ids, sequence_length, step) gave a wrong number of windows"
            )
        return x, y

    def learner_windows():
        length = _as_int(sequence_length, "sequence_length")
        x = _integer_array(x_train, (None, length), "x_train")
        y = _integer_array(y_train, (None, length), "y_train")
        if x.shape != y.shape or not len(x):
            raise CheckError("x_train and y_train should have the same number of windows (at least one)")
        return x, y

    def shapes():
        probe_windows()
        learner_windows()

    def shifted_by_one():
        x, y = probe_windows()
        reference_x, reference_y = next_char_windows(probe, probe_length, probe_step)
        if not np.array_equal(x, reference_x):
            raise CheckError("on a test sequence, the input windows do not start at 0, step, 2*step, ...")
        if not np.array_equal(y, reference_y):
            raise CheckError("on a test sequence, y is not x shifted by one position")
        x, y = learner_windows()
        if not np.array_equal(x[:, 1:], y[:, :-1]):
            raise CheckError("in x_train and y_train, y is not x shifted by one position")

    check(
        "windows have shape (num_windows, sequence_length)",
        shapes,
        hint="cut spans of sequence_length + 1 ids, one every step ids, as long as a whole span fits",
    )
    check(
        "each target is the next character of its input",
        shifted_by_one,
        hint="from a span of sequence_length + 1 ids, x is all but the last, y all but the first",
    )


# ---------------------------------------------------------------- model


def _all_layers(model):
    found, stack = [], list(getattr(model, "layers", []))
    while stack:
        layer = stack.pop(0)
        found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


def _logits(model, x):
    """Return the model's outputs on the int windows `x` as a float NumPy array, in chunks."""
    import keras

    outputs = []
    for start in range(0, len(x), LOSS_CHUNK):
        batch = x[start : start + LOSS_CHUNK]
        out = model.predict_on_batch(batch) if isinstance(model, keras.Model) else model(batch)
        outputs.append(expect_array(out, shape=(len(batch), x.shape[1], None)).astype(np.float64))
    return np.concatenate(outputs)


def _looks_like_probabilities(outputs):
    return outputs.min() >= 0 and np.allclose(outputs.sum(axis=-1), 1.0, atol=1e-3)


def check_model(model, x, vocab_size):
    """Print verdicts: the model has Embedding, LSTM and Dense layers and gives (batch, time, vocab) logits."""

    def layer_kinds():
        import keras

        if not isinstance(model, keras.Model):
            raise CheckError(f"expected a keras.Model, got {kind(model)}")
        layers = _all_layers(model)
        wanted = [("Embedding", keras.layers.Embedding), ("LSTM", keras.layers.LSTM), ("Dense", keras.layers.Dense)]
        missing = [name for name, kind in wanted if not any(isinstance(layer, kind) for layer in layers)]
        if missing:
            raise CheckError(f"the model has no {' and no '.join(missing)} layer")

    def output_shape():
        size = _as_int(vocab_size, "vocab_size")
        windows = _integer_array(x, (None, None), "x")[:LOSS_CHUNK]  # the loss check's shape: compiled once
        outputs = _logits(model, windows)
        if outputs.shape[-1] != size:
            raise CheckError("the last axis of the output should have one logit per character of the vocabulary")
        if _looks_like_probabilities(outputs):
            raise CheckError("the outputs are probabilities (they sum to 1): return logits, without a softmax")

    check(
        "the model stacks Embedding, LSTM and Dense layers",
        layer_kinds,
        hint="Embedding(vocab_size, ...) -> LSTM(..., return_sequences=True) -> Dense(vocab_size)",
    )
    check(
        "the model maps (batch, time) ids to (batch, time, vocab_size) logits",
        output_shape,
        hint="keep every time step (return_sequences=True) and end with Dense(vocab_size), no activation",
    )


# ---------------------------------------------------------------- training


def check_clipping(model):
    """Print a verdict: the model's optimizer (or an optimizer passed directly) clips gradients."""

    def clips():
        import keras

        optimizer = model if isinstance(model, keras.optimizers.Optimizer) else getattr(model, "optimizer", None)
        if optimizer is None:
            raise CheckError("the model has no optimizer yet: compile it first")
        if not isinstance(optimizer, keras.optimizers.Optimizer):
            raise CheckError(f"expected a keras optimizer, got {kind(optimizer)}")
        limits = [getattr(optimizer, name, None) for name in ("clipnorm", "clipvalue", "global_clipnorm")]
        if not any(limit is not None and limit > 0 for limit in limits):
            return False

    check(
        "the optimizer clips gradients", clips, hint="pass clipnorm (or clipvalue, or global_clipnorm) to the optimizer"
    )


def unigram_entropy(ids):
    """Return the entropy, in nats, of the character frequencies of `ids` (any integer array)."""
    counts = np.bincount(np.asarray(ids).reshape(-1))
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def cross_entropy_from_logits(logits, y):
    """Return the mean cross-entropy (nats) of int targets `y` (windows, time) under `logits` (windows, time, vocab)."""
    if logits.shape[:2] != y.shape:
        raise CheckError("the model's outputs do not line up with y: one prediction per position is needed")
    if y.max() >= logits.shape[-1]:
        raise CheckError("the targets hold ids beyond the model's vocabulary size")
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_probabilities, y[..., None].astype(np.int64), axis=-1).mean())


def mean_cross_entropy(model, x, y):
    """Return the model's mean next-character cross-entropy (nats) on windows x, y, computed from its logits."""
    return cross_entropy_from_logits(_logits(model, x), y)


def check_validation_loss(model, x_val, y_val):
    """Print a verdict: the model's loss on (x_val, y_val) is clearly below the targets' unigram entropy.

    y_val must be x_val shifted by one (checked). The check computes both figures itself, from the
    model's logits, on at most MAX_LOSS_WINDOWS windows, evenly spaced, and returns
    {"val_loss": ..., "unigram_entropy": ...} (None where it could not), to record.
    """
    figures = {"val_loss": None, "unigram_entropy": None}

    def below_unigram():
        x = _integer_array(x_val, (None, None), "x_val")
        y = _integer_array(y_val, x.shape, "y_val")
        if not len(x):
            raise CheckError("the validation set is empty")
        if not np.array_equal(x[:, 1:], y[:, :-1]):  # else a model trained to copy its input would pass
            raise CheckError(
                "y_val is not x_val shifted by one position, so its loss does not measure next-character prediction"
            )
        if len(x) > MAX_LOSS_WINDOWS:
            keep = np.linspace(0, len(x) - 1, MAX_LOSS_WINDOWS).round().astype(int)
            x, y = x[keep], y[keep]
        figures["unigram_entropy"] = entropy = unigram_entropy(y)
        logits = _logits(model, x)  # (windows, time, vocab)
        if _looks_like_probabilities(logits):
            raise CheckError("the model outputs probabilities: the loss is computed from logits")
        figures["val_loss"] = loss = cross_entropy_from_logits(logits, y)
        return bool(loss <= (1 - LOSS_MARGIN) * entropy)

    check(
        "the validation loss is clearly below the unigram entropy",
        below_unigram,
        hint=f"it should be at least {LOSS_MARGIN:.0%} below: train longer, or check the loss uses "
        "from_logits=True and y is x shifted by one",
    )
    return figures


# ---------------------------------------------------------------- sampling


def probe_logits(vocab_size):
    """Return the logits the temperature check samples from: random, with one clear favourite."""
    rng = np.random.default_rng(1234)
    logits = rng.normal(0.0, 1.5, vocab_size)
    favourite = int(rng.integers(vocab_size))
    logits[favourite] = logits.max() + 1.5
    return logits.astype(np.float32), favourite


def mid_probe(vocab_size):
    """Return (logits, probabilities): logits whose softmax at MID_TEMPERATURE is `probabilities`.

    Three ids (spread over the vocabulary) get MID_PROBABILITIES, the others share the rest evenly.
    """
    probabilities = np.full(vocab_size, (1 - sum(MID_PROBABILITIES)) / max(vocab_size - 3, 1))
    top = np.random.default_rng(99).choice(vocab_size, size=3, replace=False)
    probabilities[top] = MID_PROBABILITIES
    probabilities /= probabilities.sum()
    return (MID_TEMPERATURE * np.log(probabilities)).astype(np.float32), probabilities


def _draws(sample_next_id, logits, temperature, count, seed):
    """Return `count` ids drawn by the learner's sampler, checking each is an int id in the vocabulary."""
    rng = np.random.default_rng(seed)
    ids = np.empty(count, dtype=np.int64)
    for n in range(count):
        value = checks.call(sample_next_id, logits.copy(), temperature, rng)
        array = to_numpy(value)  # a NumPy array or a backend tensor holding one integer id is fine
        if array is not None and array.size == 1 and array.dtype.kind in "iu":
            value = array.reshape(-1)[0]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise CheckError(f"sample_next_id should return one int id, got {kind(value)}")
        if not 0 <= value < len(logits):
            raise CheckError("sample_next_id returned an id outside 0 .. vocab_size - 1")
        ids[n] = value
    return ids


def _entropy_of_draws(ids, vocab_size):
    p = np.bincount(ids, minlength=vocab_size) / len(ids)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def check_temperature(sample_next_id, vocab_size):
    """Print verdicts: the sampler returns vocabulary ids, follows softmax(logits / T) at low, middle and high
    temperatures, survives large logits, and draws with the generator it is given.

    Every probe calls sample_next_id(logits, temperature, rng) many times with seeded generators: at
    LOW_TEMPERATURE the favourite comes up at least GREEDY_SHARE of the time; at MID_TEMPERATURE the shares
    match the softmax within MID_TOLERANCE; at HIGH_TEMPERATURE the draws' entropy reaches UNIFORM_SHARE of
    log(vocab_size); with LARGE_SHIFT added to every logit, LOW_TEMPERATURE still works; two generators
    seeded alike give the same draws and two seeded differently do not.
    """
    results = {}

    def size():
        value = _as_int(vocab_size, "vocab_size")
        if value < 2:
            raise CheckError("vocab_size should be at least 2")
        return value

    def probe(name):
        """Return the logits, temperature, draw count and seed of a probe."""
        low, favourite = probe_logits(size())
        return {
            "low": (low, LOW_TEMPERATURE, LOW_DRAWS, 0),
            "mid": (mid_probe(size())[0], MID_TEMPERATURE, MID_DRAWS, 0),
            "high": (low, HIGH_TEMPERATURE, HIGH_DRAWS, 0),
            "large": (low + np.float32(LARGE_SHIFT), LOW_TEMPERATURE, LOW_DRAWS, 0),
            "seed 5": (mid_probe(size())[0], 1.0, RNG_DRAWS, 5),
            "seed 5 again": (mid_probe(size())[0], 1.0, RNG_DRAWS, 5),
            "seed 6": (mid_probe(size())[0], 1.0, RNG_DRAWS, 6),
        }[name]

    def draws(name):
        if name not in results:
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):  # an overflow is reported, not warned
                    warnings.simplefilter("ignore")
                    results[name] = _draws(sample_next_id, *probe(name))
            except NotImplementedError:
                raise
            except Exception as error:  # reported by every item that needs these draws
                results[name] = error
        if isinstance(results[name], Exception):
            raise results[name]
        return results[name]

    def valid_ids():
        for name in ("low", "high"):
            draws(name)

    def near_greedy():
        return bool(np.mean(draws("low") == probe_logits(size())[1]) >= GREEDY_SHARE)

    def follows_softmax():
        ids, expected = draws("mid"), mid_probe(size())[1]
        top = np.argsort(expected)[::-1][:3]
        shares = [np.mean(ids == i) for i in top]
        wanted = list(expected[top])
        shares.append(1 - sum(shares))
        wanted.append(1 - sum(wanted))
        if np.mean(ids == top[0]) > 0.9:
            raise CheckError(
                f"at T = {MID_TEMPERATURE} it nearly always picks the most likely id: below 1 the "
                "distribution sharpens, it does not become greedy"
            )
        if max(abs(a - b) for a, b in zip(shares, wanted)) > MID_TOLERANCE:
            raise CheckError(
                f"at T = {MID_TEMPERATURE} the ids do not come up as often as the softmax of the "
                "scaled logits says: look at how the temperature scales the logits"
            )

    def near_uniform():
        return bool(_entropy_of_draws(draws("high"), size()) >= UNIFORM_SHARE * math.log(size()))

    def large_logits():
        try:
            ids = draws("large")
        except Exception as error:  # what the sampler raised, kept by draws()
            try:
                draws("low")
            except Exception:
                raise error from None  # it fails on ordinary logits too: not an overflow
            what = str(error) if isinstance(error, CheckError) else f"sample_next_id {checks.describe_error(error)}"
            raise CheckError(
                f"{what}; on logits near {LARGE_SHIFT:g} exp overflows: the text says what to do before exp"
            ) from None
        favourite = probe_logits(size())[1]
        if abs(np.mean(ids == favourite) - np.mean(draws("low") == favourite)) > 0.1:
            raise CheckError(
                f"adding {LARGE_SHIFT:g} to every logit changes no probability, but it changed the "
                "draws: the softmax overflowed"
            )

    def uses_rng():
        first, again, other = draws("seed 5"), draws("seed 5 again"), draws("seed 6")
        if not np.array_equal(first, again):
            raise CheckError(
                "two generators with the same seed gave different draws: draw with the `rng` "
                "argument, not with np.random or a generator of your own"
            )
        if np.array_equal(first, other):
            raise CheckError("generators with different seeds gave the same draws: draw with the `rng` argument")

    check(
        "sample_next_id returns an id of the vocabulary",
        valid_ids,
        hint="return one int, the index of the drawn character, between 0 and vocab_size - 1",
    )
    check(
        "a low temperature almost always picks the most likely character",
        near_greedy,
        hint="look at how the temperature enters the softmax",
    )
    check(f"at T = {MID_TEMPERATURE:g}, ids come up as often as softmax(logits / T) says", follows_softmax)
    check(
        "a high temperature samples almost uniformly",
        near_uniform,
        hint="look at how the temperature enters the softmax",
    )
    check("large logits do not overflow", large_logits)
    check("draws come from the generator `rng` it is given", uses_rng)


# ---------------------------------------------------------------- generating text


def successor_model(vocab_size, gap=SURE_GAP):
    """Return a stub model whose logits at each position favour the id after that position's id, by `gap`.

    It maps (batch, time) ids to (batch, time, vocab_size) logits, like the exercise's model: at every
    position the logit of (id + 1) % vocab_size is `gap` and the others are 0. Generating from it after a
    prompt ending in id k writes ids k + 1, k + 2, ... (mod vocab_size) when each step reads the last
    position and appends what it drew.
    """
    import keras

    table = gap * np.roll(np.eye(vocab_size), 1, axis=1)  # row k: the logits after id k
    model = keras.Sequential(
        [keras.Input(shape=(None,), dtype="int32"), keras.layers.Embedding(vocab_size, vocab_size)],
        name="successor_model",
    )
    model.layers[0].set_weights([table.astype(np.float32)])
    return model


def _generate(generate_text, model, prompt, temperature, seed):
    """Return what generate_text writes with `model`, checked to be GENERATE_LENGTH characters; raise CheckError."""
    text = checks.call(generate_text, model, prompt, GENERATE_LENGTH, temperature, np.random.default_rng(seed))
    if not isinstance(text, str):
        raise CheckError(f"generate_text should return a str, got {kind(text)}")
    if len(text) != GENERATE_LENGTH:
        raise CheckError(
            f"generate_text(model, prompt, {GENERATE_LENGTH}, ...) should return exactly "
            f"{GENERATE_LENGTH} new characters, got {len(text)}"
        )
    return text


def check_generated_text(generate_text, prompt, chars):
    """Print verdicts: generate_text writes `length` characters of the vocabulary, each from the model's logits
    at the last position of the text so far, with the temperature and generator it is given.

    It runs generate_text(model, prompt, length, temperature, rng) on successor_model stubs, whose next
    character is known, so the text it writes shows what it did.
    """
    runs, models = {}, {}

    def setup():
        vocabulary = _characters(chars)
        if not isinstance(prompt, str) or not prompt or set(prompt) - set(vocabulary):
            raise CheckError("the prompt should be a non-empty str of characters of the vocabulary")
        if not callable(generate_text):
            raise CheckError(f"expected a function, got {kind(generate_text)}")
        return vocabulary

    def run(name):
        if name not in runs:
            try:
                vocabulary = setup()
                gap, temperature, seed = {
                    "sure": (SURE_GAP, 1.0, 0),
                    "faint": (FAINT_GAP, FAINT_TEMPERATURE, 0),
                    "seed 0": (FAINT_GAP, 1.0, 0),
                    "seed 0 again": (FAINT_GAP, 1.0, 0),
                    "seed 1": (FAINT_GAP, 1.0, 1),
                }[name]
                if gap not in models:
                    models[gap] = successor_model(len(vocabulary), gap)
                model = models[gap]
                runs[name] = _generate(generate_text, model, prompt, temperature, seed)
            except NotImplementedError:
                raise
            except CheckError as error:
                runs[name] = error
            except Exception as error:
                runs[name] = CheckError(f"generate_text {checks.describe_error(error)}")
        if isinstance(runs[name], Exception):
            raise runs[name]
        return runs[name]

    def only_vocabulary():
        if set(run("sure")) - set(setup()):
            raise CheckError(
                "the text holds characters that are not in the vocabulary: decode the sampled ids "
                "with the vocabulary's own characters"
            )

    def follows_model():
        vocabulary, text = setup(), run("sure")
        position = {char: n for n, char in enumerate(vocabulary)}

        def after(char, steps=GENERATE_LENGTH):
            """The characters that follow `char`, one after the other, in vocabulary order."""
            return "".join(vocabulary[(position[char] + n) % len(vocabulary)] for n in range(1, steps + 1))

        if text == after(prompt[-1]):
            return True
        first = text[:1]
        if first == after(prompt[-1], 1):
            if text == first * GENERATE_LENGTH:
                raise CheckError(
                    "it writes the same character again and again: each sampled id must be appended "
                    "to the text that the next step reads"
                )
            raise CheckError(
                "the first character follows the model, later ones do not: look at what each step "
                "feeds the model and which position it reads"
            )
        if first == after(vocabulary[0], 1):
            raise CheckError(
                "the first character is the prediction at a padding position (id 0): the prediction "
                "for the next character is at the last position of the real text"
            )
        if first == after(prompt[0], 1):
            raise CheckError(
                "the first character is the prediction at the first position: the prediction for "
                "the next character is at the last position"
            )
        raise CheckError(
            "the text does not follow the model's predictions: generate with the `model` argument, "
            "feed it the text so far and sample from its logits at the last position"
        )

    def passes_temperature_and_rng():
        if run("faint") != run("sure"):
            raise CheckError(
                f"at T = {FAINT_TEMPERATURE} a model that slightly prefers one character should "
                "nearly always give it: pass `temperature` on to the sampler"
            )
        if run("seed 0") != run("seed 0 again"):
            raise CheckError("two generators with the same seed wrote different texts: sample with the `rng` argument")
        if run("seed 0") == run("seed 1"):
            raise CheckError("generators with different seeds wrote the same text: sample with the `rng` argument")

    check("generated text has `length` characters of the vocabulary", only_vocabulary)
    check("each new character follows the model's logits at the last position", follows_model)
    check("generate_text passes its temperature and rng to the sampler", passes_temperature_and_rng)

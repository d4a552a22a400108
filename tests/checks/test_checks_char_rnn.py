"""kerasdl.checks.char_rnn: every item passes the right answer, rejects plausible wrong ones, and reports
wrong types and shapes as `✘` lines instead of crashing. Runs on the backend in KERAS_BACKEND."""

import math

import numpy as np
import pytest

from kerasdl import checks, data
from kerasdl.checks import char_rnn

from helpers import verdicts

TEXT = data.load_text()
CHARS = sorted(set(TEXT))
VOCAB_SIZE = len(CHARS)
INDEX = {char: position for position, char in enumerate(CHARS)}
IDS = np.array([INDEX[char] for char in TEXT], dtype=np.int32)
SPLIT = int(len(IDS) * 0.9)
LENGTH = 32

VOCABULARY_ITEMS = [
    "the vocabulary holds every character of the text once, sorted",
    "encode gives one integer id per character",
    "decode(encode(text)) gives the text back",
]
WINDOW_ITEMS = ["windows have shape (num_windows, sequence_length)", "each target is the next character of its input"]
MODEL_ITEMS = [
    "the model stacks Embedding, LSTM and Dense layers",
    "the model maps (batch, time) ids to (batch, time, vocab_size) logits",
]
CLIP_ITEM = "the optimizer clips gradients"
LOSS_ITEM = "the validation loss is clearly below the unigram entropy"
TEMPERATURE_ITEMS = [
    "sample_next_id returns an id of the vocabulary",
    "a low temperature almost always picks the most likely character",
    "at T = 0.5, ids come up as often as softmax(logits / T) says",
    "a high temperature samples almost uniformly",
    "large logits do not overflow",
    "draws come from the generator `rng` it is given",
]
GENERATE_ITEMS = [
    "generated text has `length` characters of the vocabulary",
    "each new character follows the model's logits at the last position",
    "generate_text passes its temperature and rng to the sampler",
]


def passes(capsys, items):
    assert verdicts(capsys, only=True)[0] == [(item, True) for item in items]


def hint(capsys):
    """Return the printed text of the only ✘ line since the last call."""
    failed = [line for line in capsys.readouterr().out.splitlines() if line.startswith(checks.FAILED)]
    assert len(failed) == 1, failed
    return failed[0]


# ---------------------------------------------------------------- right answers: the notebook's solutions


def encode(text):
    return np.array([INDEX[char] for char in text], dtype="int32")


def decode(ids):
    return "".join(CHARS[i] for i in ids)


def make_windows(ids, sequence_length, step):
    starts = range(0, len(ids) - sequence_length, step)
    spans = np.stack([ids[start : start + sequence_length + 1] for start in starts])
    return spans[:, :-1], spans[:, 1:]


def sample_next_id(logits, temperature, rng):
    scaled = np.asarray(logits, dtype="float64") / temperature
    probabilities = np.exp(scaled - scaled.max())
    probabilities /= probabilities.sum()
    return int(rng.choice(len(probabilities), p=probabilities))


def generate_text(model, prompt, length, temperature, rng, decode=decode):
    ids = list(encode(prompt))
    for _ in range(length):
        context = ids[-LENGTH:]
        context = [0] * (LENGTH - len(context)) + context
        logits = model.predict_on_batch(np.array([context], dtype="int32"))
        ids.append(sample_next_id(logits[0, -1], temperature, rng))
    return decode(ids[len(ids) - length :])


def build_model(vocab_size=VOCAB_SIZE, recurrent="LSTM", return_sequences=True, activation=None):
    import keras
    from keras import layers

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(VOCAB_SIZE, 8)(inputs)
    x = getattr(layers, recurrent)(8, return_sequences=return_sequences)(x)
    return keras.Model(inputs, layers.Dense(vocab_size, activation=activation)(x))


def table_model(table):
    """Return a model whose logits at each position are row `id` of `table` (vocab, vocab): a bigram model."""
    import keras

    model = keras.Sequential(
        [keras.Input(shape=(None,), dtype="int32"), keras.layers.Embedding(VOCAB_SIZE, VOCAB_SIZE)]
    )
    model.layers[0].set_weights([table.astype("float32")])
    return model


@pytest.fixture(scope="module")
def validation():
    """64 windows spread over the last 10% of the text, and log-bigram and log-unigram tables."""
    x, y = data.next_char_windows(IDS[SPLIT:], LENGTH, LENGTH)
    x, y = x[:: len(x) // 64][:64], y[:: len(x) // 64][:64]
    counts = np.full((VOCAB_SIZE, VOCAB_SIZE), 0.01)
    np.add.at(counts, (IDS[: SPLIT - 1], IDS[1:SPLIT]), 1)
    bigram = np.log(counts / counts.sum(axis=1, keepdims=True))
    frequencies = np.bincount(y.reshape(-1), minlength=VOCAB_SIZE) / y.size
    unigram = np.tile(np.log(np.maximum(frequencies, 1e-12)), (VOCAB_SIZE, 1))
    return x, y, bigram, unigram


@pytest.fixture(scope="module")
def model():
    return build_model()


# ---------------------------------------------------------------- vocabulary


def test_the_right_vocabulary_passes(capsys):
    char_rnn.check_vocabulary(TEXT, CHARS, encode, decode)
    passes(capsys, VOCABULARY_ITEMS)


def test_the_kits_vocabulary_passes_too(capsys):
    vocabulary = data.Vocabulary.from_text(TEXT)
    char_rnn.check_vocabulary(TEXT, vocabulary.chars, vocabulary.encode, vocabulary.decode)
    passes(capsys, VOCABULARY_ITEMS)


def test_a_vocabulary_that_loses_a_character_is_rejected(capsys):
    chars = CHARS[1:]  # built from the text without its newlines, say
    index = {char: position for position, char in enumerate(chars)}
    char_rnn.check_vocabulary(
        TEXT, chars, lambda t: np.array([index.get(c, 0) for c in t]), lambda ids: "".join(chars[i] for i in ids)
    )
    assert verdicts(capsys, only=True)[0] == [(item, False) for item in VOCABULARY_ITEMS]


def test_a_vocabulary_with_duplicates_is_rejected(capsys):
    char_rnn.check_vocabulary(TEXT, CHARS + ["a"], encode, decode)
    assert verdicts(capsys, only=True)[0] == [
        (VOCABULARY_ITEMS[0], False),
        (VOCABULARY_ITEMS[1], True),
        (VOCABULARY_ITEMS[2], True),
    ]


def test_ids_counted_from_one_are_rejected(capsys):
    char_rnn.check_vocabulary(TEXT, CHARS, lambda t: encode(t) + 1, lambda ids: decode(np.asarray(ids) - 1))
    assert verdicts(capsys, only=True)[0] == [
        (VOCABULARY_ITEMS[0], True),
        (VOCABULARY_ITEMS[1], False),
        (VOCABULARY_ITEMS[2], True),
    ]


def test_a_decode_that_returns_a_list_is_rejected(capsys):
    char_rnn.check_vocabulary(TEXT, CHARS, encode, lambda ids: [CHARS[i] for i in ids])
    assert verdicts(capsys, only=True)[0][2] == (VOCABULARY_ITEMS[2], False)


@pytest.mark.parametrize(
    "text, chars, encoder, decoder",
    [
        (None, CHARS, encode, decode),
        (TEXT, None, encode, decode),
        (TEXT, {"a": 0}, encode, decode),
        (TEXT, CHARS, None, decode),
        (TEXT, CHARS, lambda t: encode(t).astype("float32"), decode),
        (TEXT, CHARS, lambda t: encode(t)[None, :], decode),
        (TEXT, CHARS, encode, lambda ids: 42),
    ],
)
def test_wrong_types_in_the_vocabulary_are_reported(text, chars, encoder, decoder, capsys):
    char_rnn.check_vocabulary(text, chars, encoder, decoder)
    found = verdicts(capsys, only=True)[0]
    assert [item for item, _ in found] == VOCABULARY_ITEMS and not all(passed for _, passed in found)


# ---------------------------------------------------------------- windows


def windows_check(function, sequence_length=LENGTH, x=None, y=None):
    if x is None:
        result = function(IDS[:5000], sequence_length, sequence_length)
        x, y = result if isinstance(result, tuple) and len(result) == 2 else (result, result)
    char_rnn.check_windows(function, x, y, sequence_length)


def test_the_right_windows_pass(capsys):
    windows_check(make_windows)
    passes(capsys, WINDOW_ITEMS)
    windows_check(data.next_char_windows)  # the kit's own version
    passes(capsys, WINDOW_ITEMS)


def test_targets_equal_to_the_inputs_are_rejected(capsys):
    windows_check(lambda ids, sequence_length, step: (make_windows(ids, sequence_length, step)[0],) * 2)
    assert verdicts(capsys, only=True)[0] == [(WINDOW_ITEMS[0], True), (WINDOW_ITEMS[1], False)]


def test_targets_shifted_by_two_are_rejected(capsys):
    def shifted_by_two(ids, sequence_length, step):
        starts = range(0, len(ids) - sequence_length - 1, step)
        x = np.stack([ids[s : s + sequence_length] for s in starts])
        y = np.stack([ids[s + 2 : s + 2 + sequence_length] for s in starts])
        return x, y

    windows_check(shifted_by_two)
    assert verdicts(capsys, only=True)[0][1] == (WINDOW_ITEMS[1], False)


def test_targets_off_by_one_in_the_training_arrays_alone_are_rejected(capsys):
    x, y = make_windows(IDS[:5000], LENGTH, LENGTH)
    windows_check(make_windows, x=x, y=x)  # right function, but y_train = x_train
    assert verdicts(capsys, only=True)[0] == [(WINDOW_ITEMS[0], True), (WINDOW_ITEMS[1], False)]


def test_windows_of_sequence_length_plus_one_are_rejected(capsys):
    def unsplit(ids, sequence_length, step):
        spans = np.stack([ids[s : s + sequence_length + 1] for s in range(0, len(ids) - sequence_length, step)])
        return spans, spans

    windows_check(unsplit)
    assert verdicts(capsys, only=True)[0] == [(WINDOW_ITEMS[0], False), (WINDOW_ITEMS[1], False)]


def test_windows_that_ignore_step_are_rejected(capsys):
    windows_check(lambda ids, sequence_length, step: make_windows(ids, sequence_length, 1))
    assert verdicts(capsys, only=True)[0] == [(WINDOW_ITEMS[0], False), (WINDOW_ITEMS[1], False)]


@pytest.mark.parametrize(
    "x, y",
    [
        (None, None),
        ([[1, 2, 3]], [[2, 3, 4]]),
        (np.zeros((4, LENGTH), "float32"), np.zeros((4, LENGTH), "float32")),
        (np.zeros((LENGTH, 4), "int32"), np.zeros((LENGTH, 4), "int32")),
        (np.zeros((4, LENGTH), "int32"), np.zeros((3, LENGTH), "int32")),
        (np.zeros((0, LENGTH), "int32"), np.zeros((0, LENGTH), "int32")),
    ],
)
def test_wrong_training_arrays_are_reported(x, y, capsys):
    char_rnn.check_windows(make_windows, x, y, LENGTH)
    assert verdicts(capsys, only=True)[0][0] == (WINDOW_ITEMS[0], False)


@pytest.mark.parametrize(
    "function", [None, lambda ids, n, s: None, lambda ids, n, s: ids, lambda ids, n, s: (list(ids), list(ids))]
)
def test_a_broken_make_windows_is_reported(function, capsys):
    x, y = make_windows(IDS[:5000], LENGTH, LENGTH)
    char_rnn.check_windows(function, x, y, LENGTH)
    assert verdicts(capsys, only=True)[0] == [(WINDOW_ITEMS[0], False), (WINDOW_ITEMS[1], False)]


@pytest.mark.parametrize("sequence_length", ["32", None, LENGTH + 1])
def test_a_bad_sequence_length_is_reported(sequence_length, capsys):
    x, y = make_windows(IDS[:5000], LENGTH, LENGTH)
    char_rnn.check_windows(make_windows, x, y, sequence_length)
    assert verdicts(capsys, only=True)[0] == [(WINDOW_ITEMS[0], False), (WINDOW_ITEMS[1], False)]


# ---------------------------------------------------------------- model


def test_the_right_model_passes(model, validation, capsys):
    char_rnn.check_model(model, validation[0], VOCAB_SIZE)
    passes(capsys, MODEL_ITEMS)


@pytest.mark.parametrize(
    "kind, layers_pass",
    [
        (dict(return_sequences=False), True),  # (batch, vocab): only the last step
        (dict(activation="softmax"), True),  # probabilities, not logits
        (dict(vocab_size=VOCAB_SIZE - 1), True),  # a vocabulary that lost a character
        (dict(recurrent="GRU"), False),
    ],
)
def test_a_wrong_model_is_rejected(kind, layers_pass, validation, capsys):
    char_rnn.check_model(build_model(**kind), validation[0], VOCAB_SIZE)
    assert verdicts(capsys, only=True)[0] == [
        (MODEL_ITEMS[0], layers_pass),
        (MODEL_ITEMS[1], kind.get("recurrent") == "GRU"),
    ]


def test_probabilities_and_last_step_outputs_get_their_own_hint(validation, capsys):
    char_rnn.check_model(build_model(activation="softmax"), validation[0], VOCAB_SIZE)
    assert "the outputs are probabilities" in capsys.readouterr().out
    char_rnn.check_model(build_model(return_sequences=False), validation[0], VOCAB_SIZE)
    assert f"expected an array of shape (64, {LENGTH}, N), got shape (64, {VOCAB_SIZE})" in capsys.readouterr().out


@pytest.mark.parametrize(
    "candidate, x, size",
    [
        (None, "x", VOCAB_SIZE),
        ("model", None, VOCAB_SIZE),
        ("model", [[1, 2], [3]], VOCAB_SIZE),
        ("model", "x", None),
        ("model", "x", 1.5),
    ],
)
def test_wrong_types_for_the_model_check_are_reported(candidate, x, size, model, validation, capsys):
    char_rnn.check_model(model if candidate == "model" else candidate, validation[0] if isinstance(x, str) else x, size)
    found = verdicts(capsys, only=True)[0]
    assert [item for item, _ in found] == MODEL_ITEMS and not all(passed for _, passed in found)


# ---------------------------------------------------------------- clipping


@pytest.mark.parametrize("clipping", [dict(clipnorm=1.0), dict(clipvalue=0.5), dict(global_clipnorm=5.0)])
def test_clipping_passes(clipping, capsys):
    import keras

    optimizer = keras.optimizers.Adam(1e-3, **clipping)
    model = build_model()
    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    char_rnn.check_clipping(model)
    char_rnn.check_clipping(optimizer)
    passes(capsys, [CLIP_ITEM, CLIP_ITEM])


def test_no_clipping_is_rejected(capsys):
    import keras

    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    char_rnn.check_clipping(model)
    assert hint(capsys) == f"✘ {CLIP_ITEM} — pass clipnorm (or clipvalue, or global_clipnorm) to the optimizer"


@pytest.mark.parametrize("candidate", [None, "adam", "uncompiled"])
def test_a_missing_optimizer_is_reported(candidate, capsys):
    char_rnn.check_clipping(build_model() if candidate == "uncompiled" else candidate)
    assert verdicts(capsys, only=True)[0] == [(CLIP_ITEM, False)]


# ---------------------------------------------------------------- validation loss


def numpy_cross_entropy(table, x, y):
    log_probabilities = table - np.log(np.exp(table).sum(axis=1, keepdims=True))
    return -log_probabilities[x, y].mean()


def test_a_bigram_model_passes_and_the_figures_are_computed_by_the_check(validation, capsys):
    x, y, bigram, _ = validation
    figures = char_rnn.check_validation_loss(table_model(bigram), x, y)
    passes(capsys, [LOSS_ITEM])
    frequencies = np.bincount(y.reshape(-1)) / y.size
    frequencies = frequencies[frequencies > 0]
    assert figures["unigram_entropy"] == pytest.approx(-(frequencies * np.log(frequencies)).sum(), abs=1e-9)
    assert figures["val_loss"] == pytest.approx(numpy_cross_entropy(bigram, x, y), abs=1e-4)
    assert figures["val_loss"] <= (1 - char_rnn.LOSS_MARGIN) * figures["unigram_entropy"]


def test_an_untrained_model_is_rejected(model, validation, capsys):
    x, y, _, _ = validation
    figures = char_rnn.check_validation_loss(model, x, y)
    assert verdicts(capsys, only=True)[0] == [(LOSS_ITEM, False)]
    assert figures["val_loss"] == pytest.approx(math.log(VOCAB_SIZE), abs=0.05)


def test_a_model_that_only_learned_character_frequencies_is_rejected(validation, capsys):
    x, y, _, unigram = validation
    figures = char_rnn.check_validation_loss(table_model(unigram), x, y)
    assert verdicts(capsys, only=True)[0] == [(LOSS_ITEM, False)]
    assert figures["val_loss"] == pytest.approx(figures["unigram_entropy"], abs=1e-3)


def test_targets_off_by_one_are_rejected_by_the_loss(validation, capsys):
    x, y, bigram, _ = validation
    copier = table_model(np.where(np.eye(VOCAB_SIZE) > 0, 20.0, 0.0))  # trained on y = x, it copies its input
    assert char_rnn.mean_cross_entropy(copier, x, x) < 0.01
    figures = char_rnn.check_validation_loss(copier, x, x)  # y_val = x_val: a near-zero loss...
    assert "y_val is not x_val shifted by one position" in hint(capsys)  # ...that measures nothing
    assert figures["val_loss"] is None
    char_rnn.check_validation_loss(table_model(bigram), x[:, :-1], y[:, 1:])  # shifted by two
    assert verdicts(capsys, only=True)[0] == [(LOSS_ITEM, False)]


def test_a_model_that_outputs_probabilities_is_rejected(validation, capsys):
    import keras

    x, y, bigram, _ = validation
    softmaxed = keras.Sequential([table_model(bigram), keras.layers.Softmax()])
    char_rnn.check_validation_loss(softmaxed, x, y)
    assert "the model outputs probabilities" in hint(capsys)


@pytest.mark.parametrize("case", ["last step only", "x ragged", "y transposed", "y float", "empty", "no model"])
def test_wrong_shapes_and_types_for_the_loss_are_reported(case, validation, capsys):
    x, y, bigram, _ = validation
    candidate = table_model(bigram)
    if case == "last step only":
        candidate = build_model(return_sequences=False)
    elif case == "x ragged":
        x = x.tolist()[:-1] + [x[-1, :-1].tolist()]
    elif case == "y transposed":
        y = y.T
    elif case == "y float":
        y = y.astype("float32")
    elif case == "empty":
        x, y = x[:0], y[:0]
    else:
        candidate = None
    figures = char_rnn.check_validation_loss(candidate, x, y)
    assert verdicts(capsys, only=True)[0] == [(LOSS_ITEM, False)]
    assert figures["val_loss"] is None


def test_more_windows_than_the_cap_are_evaluated_on_an_even_sample(validation, monkeypatch, capsys):
    x, y, bigram, _ = validation
    monkeypatch.setattr(char_rnn, "MAX_LOSS_WINDOWS", 16)
    figures = char_rnn.check_validation_loss(table_model(bigram), x, y)
    passes(capsys, [LOSS_ITEM])
    keep = np.linspace(0, len(x) - 1, 16).round().astype(int)
    assert figures["val_loss"] == pytest.approx(numpy_cross_entropy(bigram, x[keep], y[keep]), abs=1e-4)


# ---------------------------------------------------------------- temperature


def test_the_right_sampler_passes(capsys):
    char_rnn.check_temperature(sample_next_id, VOCAB_SIZE)
    passes(capsys, TEMPERATURE_ITEMS)


def test_the_probe_logits_separate_the_temperatures():
    logits, favourite = char_rnn.probe_logits(VOCAB_SIZE)
    assert logits.argmax() == favourite

    def softmax(t):
        p = np.exp((logits - logits.max()) / t)
        return p / p.sum()

    assert softmax(char_rnn.LOW_TEMPERATURE)[favourite] > 0.999
    assert softmax(1.0)[favourite] < 0.5  # so that a sampler without temperature fails both items
    entropy = lambda p: -(p * np.log(p)).sum()  # noqa: E731
    assert entropy(softmax(char_rnn.HIGH_TEMPERATURE)) > 0.99 * math.log(VOCAB_SIZE)
    assert entropy(softmax(1.0)) < 0.85 * math.log(VOCAB_SIZE)


def temperature_verdicts(capsys, *passed):
    assert verdicts(capsys, only=True)[0] == list(zip(TEMPERATURE_ITEMS, passed))


def test_a_sampler_without_temperature_is_rejected(capsys):
    char_rnn.check_temperature(lambda logits, temperature, rng: sample_next_id(logits, 1.0, rng), VOCAB_SIZE)
    temperature_verdicts(capsys, True, False, False, False, True, True)


def test_a_temperature_that_multiplies_is_rejected(capsys):
    char_rnn.check_temperature(lambda logits, t, rng: sample_next_id(logits, 1 / t, rng), VOCAB_SIZE)
    temperature_verdicts(capsys, True, False, False, False, True, True)


def test_a_greedy_sampler_is_rejected_at_high_temperature(capsys):
    char_rnn.check_temperature(lambda logits, t, rng: int(np.argmax(logits)), VOCAB_SIZE)
    temperature_verdicts(capsys, True, True, False, False, True, False)


def test_a_softmax_over_the_wrong_axis_is_reported(capsys):
    def wrong_axis(logits, temperature, rng):
        scaled = np.asarray(logits, dtype="float64")[None, :] / temperature  # (1, vocab_size)
        probabilities = np.exp(scaled) / np.exp(scaled).sum(axis=0, keepdims=True)  # over the batch axis: all 1
        return int(rng.choice(probabilities.shape[1], p=probabilities[0]))

    char_rnn.check_temperature(wrong_axis, VOCAB_SIZE)
    out = capsys.readouterr().out
    assert [passed for _, passed in checks.parse(out)] == [False] * 6
    assert "raised ValueError: Probabilities do not sum to 1" in out
    assert "exp overflows" not in out  # it fails on ordinary logits too: the large-logits item does not blame exp


def test_sampling_outside_the_vocabulary_is_rejected(capsys):
    char_rnn.check_temperature(lambda logits, t, rng: sample_next_id(logits, t, rng) + 1, VOCAB_SIZE)
    out = capsys.readouterr().out
    assert checks.parse(out)[0] == (TEMPERATURE_ITEMS[0], False)
    assert "returned an id outside 0 .. vocab_size - 1" in out


@pytest.mark.parametrize(
    "sampler, passed",
    [
        (lambda logits, t, rng: np.int64(sample_next_id(logits, t, rng)), True),
        (lambda logits, t, rng: np.array([sample_next_id(logits, t, rng)]), True),
        (lambda logits, t, rng: float(sample_next_id(logits, t, rng)), False),
        (lambda logits, t, rng: np.exp(logits) / np.exp(logits).sum(), False),
        (lambda logits, t, rng: "a", False),
        (lambda logits, t, rng: None, False),
        (lambda logits, t: 0, False),
        (None, False),
    ],
)
def test_what_a_sampler_returns_is_checked_not_crashed_on(sampler, passed, capsys):
    char_rnn.check_temperature(sampler, VOCAB_SIZE)
    assert verdicts(capsys, only=True)[0][0] == (TEMPERATURE_ITEMS[0], passed)


def test_a_backend_tensor_id_is_accepted(capsys):
    from keras import ops

    char_rnn.check_temperature(lambda logits, t, rng: ops.convert_to_tensor(sample_next_id(logits, t, rng)), VOCAB_SIZE)
    passes(capsys, TEMPERATURE_ITEMS)


@pytest.mark.parametrize("size", [None, "103", 1, 2.5])
def test_a_bad_vocab_size_is_reported(size, capsys):
    char_rnn.check_temperature(sample_next_id, size)
    assert [passed for _, passed in verdicts(capsys, only=True)[0]] == [False] * 6


def test_the_sampler_is_not_implemented_yet():
    def stub(logits, temperature, rng):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        char_rnn.check_temperature(stub, VOCAB_SIZE)


# ---------------------------------------------------------------- generated text


def test_generated_text_from_the_right_generator_passes(capsys):
    char_rnn.check_generated_text(generate_text, "The ", CHARS)
    passes(capsys, GENERATE_ITEMS)


def test_the_successor_model_predicts_the_next_character_in_vocabulary_order():
    model = char_rnn.successor_model(VOCAB_SIZE)
    logits = model.predict_on_batch(np.array([[0, 5, VOCAB_SIZE - 1]], dtype="int32"))  # (1, 3, vocab)
    assert logits.shape == (1, 3, VOCAB_SIZE)
    assert logits[0].argmax(axis=-1).tolist() == [1, 6, 0]
    assert logits[0, 1, 6] == char_rnn.SURE_GAP and np.sort(logits[0, 1])[-2] == 0.0


def test_text_decoded_outside_the_vocabulary_is_rejected(capsys):
    def as_code_points(model, prompt, length, temperature, rng):
        return generate_text(model, prompt, length, temperature, rng, decode=lambda ids: "".join(map(chr, ids)))

    char_rnn.check_generated_text(as_code_points, "The ", CHARS)
    found = verdicts(capsys, only=True)[0]
    assert found[0] == (GENERATE_ITEMS[0], False)


def generator(position=-1, append=True, pad="left", temperature=None, rng=None, history=LENGTH):
    """Return a generate_text with one thing changed: the position read, appending, padding, temperature, rng."""

    def generate(model, prompt, length, t, given_rng):
        ids = list(encode(prompt))
        drawn = []
        for _ in range(length):
            context = ids[-history:]
            padding = [0] * (history - len(context))
            context = padding + context if pad == "left" else context + padding if pad == "right" else context
            logits = model.predict_on_batch(np.array([context], dtype="int32"))  # (1, time, vocab)
            next_id = sample_next_id(
                logits[0, position], t if temperature is None else temperature, given_rng if rng is None else rng()
            )
            drawn.append(next_id)
            if append:
                ids.append(next_id)
        return decode(drawn)

    return generate


@pytest.mark.parametrize(
    "wrong, item, hint",
    [
        (generator(append=False), 1, "it writes the same character again and again"),
        (generator(position=0), 1, "the first character is the prediction at a padding position"),
        (generator(pad="right"), 1, "the first character is the prediction at a padding position"),
        (generator(position=0, pad=None, history=4), 1, "the first character is the prediction at the first position"),
        (
            lambda model, prompt, length, t, rng: "".join(rng.choice(list(TEXT[:1000]), size=length)),
            1,
            "the text does not follow the model's predictions",
        ),
        (generator(temperature=1.0), 2, "pass `temperature` on to the sampler"),
        (generator(rng=np.random.default_rng), 2, "two generators with the same seed wrote different texts"),
        (generator(rng=lambda: np.random.default_rng(0)), 2, "generators with different seeds wrote the same text"),
    ],
)
def test_wrong_generators_are_rejected_with_what_they_got_wrong(wrong, item, hint, capsys):
    char_rnn.check_generated_text(wrong, "The ", CHARS)
    out = capsys.readouterr().out
    assert [passed for _, passed in checks.parse(out)] == [True] + [n != item for n in (1, 2)]
    assert hint in checks.hints(out)[GENERATE_ITEMS[item]]


def test_a_generator_that_uses_its_global_model_is_rejected(model, capsys):
    char_rnn.check_generated_text(
        lambda _, prompt, length, t, rng: generate_text(model, prompt, length, t, rng), "The ", CHARS
    )
    assert verdicts(capsys, only=True)[0][1] == (GENERATE_ITEMS[1], False)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda model, prompt, length, t, rng: prompt + "a" * length,  # the prompt included
        lambda model, prompt, length, t, rng: "a" * (length - 1),
        lambda model, prompt, length, t, rng: [0] * length,  # ids, not text
        lambda model, prompt, length, t, rng: None,
        lambda prompt, length, t, rng: "a" * length,  # the old signature, without the model
        None,
    ],
)
def test_wrong_generated_text_is_reported(wrong, capsys):
    char_rnn.check_generated_text(wrong, "The ", CHARS)
    assert verdicts(capsys, only=True)[0] == [(item, False) for item in GENERATE_ITEMS]


def test_a_bad_vocabulary_or_prompt_for_generated_text_is_reported(capsys):
    char_rnn.check_generated_text(generate_text, "The ", None)
    char_rnn.check_generated_text(generate_text, "", CHARS)
    assert verdicts(capsys, only=True)[0] == [(item, False) for item in GENERATE_ITEMS] * 2


# ---------------------------------------------------------------- wrong answers the first checks let through


def test_an_unsorted_vocabulary_is_rejected(capsys):
    chars = list(dict.fromkeys(TEXT))  # in order of first appearance
    index = {char: position for position, char in enumerate(chars)}
    char_rnn.check_vocabulary(
        TEXT, chars, lambda t: np.array([index[c] for c in t]), lambda ids: "".join(chars[i] for i in ids)
    )
    out = capsys.readouterr().out
    assert [passed for _, passed in checks.parse(out)] == [False, True, True]
    assert "not in sorted order" in checks.hints(out)[VOCABULARY_ITEMS[0]]


def sampler_without_max_subtraction(logits, temperature, rng):
    probabilities = np.exp(np.asarray(logits, dtype="float32") / temperature)  # overflows past about 88
    probabilities /= probabilities.sum()
    return int(rng.choice(len(probabilities), p=probabilities))


def test_a_float32_sampler_without_max_subtraction_is_rejected_on_large_logits(capsys):
    char_rnn.check_temperature(sampler_without_max_subtraction, VOCAB_SIZE)
    out = capsys.readouterr().out
    assert [passed for _, passed in checks.parse(out)] == [True, True, True, True, False, True]
    assert "exp overflows: the text says what to do before exp" in checks.hints(out)[TEMPERATURE_ITEMS[4]]
    # the realistic case of the first learner test: logits of 12 at T = 0.1 make NaN probabilities
    logits = np.zeros(VOCAB_SIZE, dtype="float32")
    logits[3] = 12.0
    with pytest.raises(ValueError, match="contain NaN"), np.errstate(all="ignore"):
        sampler_without_max_subtraction(logits, 0.1, np.random.default_rng(0))


def test_a_float64_sampler_without_max_subtraction_is_rejected_too(capsys):
    def float64_without_max_subtraction(logits, temperature, rng):
        probabilities = np.exp(np.asarray(logits, dtype="float64") / temperature)
        probabilities /= probabilities.sum()
        return int(rng.choice(len(probabilities), p=probabilities))

    char_rnn.check_temperature(float64_without_max_subtraction, VOCAB_SIZE)
    temperature_verdicts(capsys, True, True, True, True, False, True)


def test_a_sampler_that_ignores_rng_is_rejected(capsys):
    def global_random(logits, temperature, rng):
        return sample_next_id(logits, temperature, np.random.default_rng())

    char_rnn.check_temperature(global_random, VOCAB_SIZE)
    out = capsys.readouterr().out
    assert [passed for _, passed in checks.parse(out)][5] is False
    assert "two generators with the same seed gave different draws" in checks.hints(out)[TEMPERATURE_ITEMS[5]]


def test_a_sampler_greedy_below_temperature_1_is_rejected(capsys):
    def greedy_below_one(logits, temperature, rng):
        return int(np.argmax(logits)) if temperature < 1 else sample_next_id(logits, temperature, rng)

    char_rnn.check_temperature(greedy_below_one, VOCAB_SIZE)
    out = capsys.readouterr().out
    assert [passed for _, passed in checks.parse(out)] == [True, True, False, True, True, True]
    assert "it does not become greedy" in checks.hints(out)[TEMPERATURE_ITEMS[2]]


def test_the_middle_probe_has_the_stated_softmax():
    logits, probabilities = char_rnn.mid_probe(VOCAB_SIZE)
    scaled = logits.astype("float64") / char_rnn.MID_TEMPERATURE
    softmax = np.exp(scaled - scaled.max()) / np.exp(scaled - scaled.max()).sum()
    assert np.allclose(softmax, probabilities, atol=1e-6)
    assert sorted(probabilities)[-3:] == pytest.approx(sorted(char_rnn.MID_PROBABILITIES))


# ---------------------------------------------------------------- valid alternatives (regression suite)


def gumbel_max(logits, temperature, rng):
    return int(np.argmax(np.asarray(logits, dtype="float64") / temperature + rng.gumbel(size=len(logits))))


def inverse_cdf(logits, temperature, rng):
    scaled = np.asarray(logits, dtype="float32") / temperature  # float32, with the max subtracted
    cumulative = np.cumsum(np.exp(scaled - scaled.max()))
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1))


def keras_softmax_then_numpy(logits, temperature, rng):
    from keras import ops

    probabilities = ops.convert_to_numpy(ops.softmax(ops.convert_to_tensor(logits) / temperature)).astype("float64")
    return int(rng.choice(len(probabilities), p=probabilities / probabilities.sum()))


def categorical_by_multinomial(logits, temperature, rng):
    scaled = np.asarray(logits, dtype="float64") / temperature
    probabilities = np.exp(scaled - np.logaddexp.reduce(scaled))  # log-sum-exp
    return np.argmax(rng.multinomial(1, probabilities / probabilities.sum()))  # a NumPy integer


@pytest.mark.parametrize("sampler", [gumbel_max, inverse_cdf, keras_softmax_then_numpy, categorical_by_multinomial])
def test_valid_samplers_pass(sampler, capsys):
    char_rnn.check_temperature(sampler, VOCAB_SIZE)
    passes(capsys, TEMPERATURE_ITEMS)


@pytest.mark.parametrize(
    "alternative",
    [
        generator(pad=None),  # no padding: a new shape each step, slower on JAX and TensorFlow but right
        generator(history=10_000),  # the whole text so far
        generator(history=1),  # only the last character: enough for this model
    ],
)
def test_valid_generators_pass(alternative, capsys):
    char_rnn.check_generated_text(alternative, "The ", CHARS)
    passes(capsys, GENERATE_ITEMS)


def test_a_generator_calling_the_model_directly_passes(capsys):
    from keras import ops

    def direct_call(model, prompt, length, temperature, rng):
        ids = list(encode(prompt))
        for _ in range(length):
            logits = ops.convert_to_numpy(model(np.array([ids[-LENGTH:]], dtype="int32")))  # (1, time, vocab)
            ids.append(sample_next_id(logits[0, -1], temperature, rng))
        return "".join(CHARS[i] for i in ids[len(prompt) :])

    char_rnn.check_generated_text(direct_call, "The ", CHARS)
    passes(capsys, GENERATE_ITEMS)


@pytest.mark.parametrize(
    "chars, encoder, decoder",
    [
        ("".join(CHARS), encode, decode),  # the vocabulary as one string
        (tuple(CHARS), encode, decode),
        (CHARS, lambda t: list(encode(t)), lambda ids: "".join(CHARS[int(i)] for i in ids)),  # ids as a list
        (CHARS, lambda t: encode(t).astype("int64"), decode),
    ],
)
def test_valid_vocabularies_pass(chars, encoder, decoder, capsys):
    char_rnn.check_vocabulary(TEXT, chars, encoder, decoder)
    passes(capsys, VOCABULARY_ITEMS)


def test_windows_from_stride_tricks_and_lists_pass(capsys):
    def strided(ids, sequence_length, step):
        spans = np.lib.stride_tricks.sliding_window_view(np.asarray(ids), sequence_length + 1)[::step]
        return spans[:, :-1], spans[:, 1:]

    windows_check(strided)
    passes(capsys, WINDOW_ITEMS)
    x, y = make_windows(IDS[:5000], LENGTH, LENGTH)
    char_rnn.check_windows(
        lambda ids, n, s: tuple(w.tolist() for w in make_windows(ids, n, s)), x.tolist(), y.tolist(), np.int64(LENGTH)
    )
    passes(capsys, WINDOW_ITEMS)


def test_sequential_and_validation_arrays_as_lists_pass(validation, capsys):
    import keras
    from keras import layers

    x, y, bigram, _ = validation
    sequential = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            layers.Embedding(VOCAB_SIZE, 8),
            layers.LSTM(8, return_sequences=True),
            layers.Dense(VOCAB_SIZE),
        ]
    )
    char_rnn.check_model(sequential, x.tolist(), float(VOCAB_SIZE))
    passes(capsys, MODEL_ITEMS)
    char_rnn.check_validation_loss(table_model(bigram), x.tolist(), y.tolist())
    passes(capsys, [LOSS_ITEM])


# ---------------------------------------------------------------- every check, on garbage


def test_every_check_reports_garbage_without_raising(capsys):
    char_rnn.check_vocabulary(None, None, None, None)
    char_rnn.check_windows(None, None, None, None)
    char_rnn.check_model(None, None, None)
    char_rnn.check_clipping(None)
    assert char_rnn.check_validation_loss(None, None, None) == {"val_loss": None, "unigram_entropy": None}
    char_rnn.check_temperature(None, None)
    char_rnn.check_generated_text(None, None, None)
    found = verdicts(capsys, only=True)[0]
    assert len(found) == 3 + 2 + 2 + 1 + 1 + 6 + 3 and not any(passed for _, passed in found)


def test_a_missing_layer_is_named_in_plain_words(validation, capsys):
    char_rnn.check_model(build_model(recurrent="GRU"), validation[0], VOCAB_SIZE)
    out = capsys.readouterr().out
    assert checks.hints(out)[MODEL_ITEMS[0]].startswith("the model has no LSTM layer")
    assert "no an " not in out and "a LSTM" not in out

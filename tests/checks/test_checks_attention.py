"""The attention checks pass right answers and their valid alternatives, and reject plausible wrong ones,
on the active backend; the by-hand references equal keras.layers.MultiHeadAttention to 1e-5.

Run with KERAS_BACKEND=jax, torch or tensorflow: the references are Keras's own layers on that backend.
"""

import math

import keras
import numpy as np
import pytest
from keras import layers, ops

from kerasdl import data, precision
from kerasdl.checks import attention

from helpers import failed_items as failed
from helpers import verdicts

# ---------------------------------------------------------------- right answers (as in the solution notebook)


def scaled_dot_product_attention(query, key, value, mask=None):
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / math.sqrt(query.shape[-1])  # (..., T_q, T_k)
    if mask is not None:
        scores = ops.where(mask, scores, -1e9)
    weights = ops.softmax(scores, axis=-1)
    return ops.matmul(weights, value), weights


def causal_mask(length):
    return np.tril(np.ones((length, length), dtype=bool))


def multi_head_attention(query_input, value_input, weights, mask=None):
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    query = ops.einsum("btd,dhk->bhtk", query_input, wq) + ops.expand_dims(bq, 1)  # (batch, heads, T_q, key_dim)
    key = ops.einsum("bsd,dhk->bhsk", value_input, wk) + ops.expand_dims(bk, 1)
    value = ops.einsum("bsd,dhv->bhsv", value_input, wv) + ops.expand_dims(bv, 1)
    heads_mask = None if mask is None else ops.expand_dims(mask, 1)  # (batch, 1, T_q, T_k)
    attended, _ = scaled_dot_product_attention(query, key, value, heads_mask)  # (batch, heads, T_q, value_dim)
    return ops.einsum("bhtv,hvd->btd", attended, wo) + bo


SHAPES = {
    "query kernel": (16, 4, 8),
    "output kernel": (4, 8, 16),
    "projected query": (2, 5, 4, 8),
    "projected key": (2, 7, 4, 8),
    "attention weights": (2, 4, 5, 7),
    "output": (2, 5, 16),
}
NUM_PARAMETERS = 3 * (16 * 32 + 32) + (32 * 16 + 16)  # query, key, value projections and the output


def all_passed(capsys):
    found, hints = verdicts(capsys)
    assert found and all(passed for _, passed in found), hints
    return dict(found)


# ---------------------------------------------------------------- the references against Keras


@pytest.mark.parametrize(
    "heads, key_dim, features, query_length, value_length, masked",
    [(1, 8, 8, 5, 5, False), (4, 4, 12, 6, 6, False), (3, 5, 10, 4, 7, True), (2, 16, 6, 9, 3, True)],
)
def test_by_hand_attention_equals_multi_head_attention_to_1e_5(
    heads, key_dim, features, query_length, value_length, masked
):
    layer = attention.multi_head_layer(heads, key_dim, features, seed=heads)
    query_input, value_input, mask = attention._mha_problem(
        heads, key_dim, features, query_length, value_length, masked, seed=7
    )
    expected, expected_weights = attention.layer_output(layer, query_input, value_input, mask)
    reference, reference_weights = attention.reference_multi_head_attention(
        query_input, value_input, layer.get_weights(), mask
    )
    np.testing.assert_allclose(reference, expected, rtol=1e-5, atol=1e-5)  # float64 NumPy against the layer
    np.testing.assert_allclose(reference_weights, expected_weights, rtol=1e-5, atol=1e-6)
    weights = [ops.convert_to_tensor(w) for w in layer.get_weights()]
    with precision.exact_matmul():
        by_hand = ops.convert_to_numpy(multi_head_attention(query_input, value_input, weights, mask))
    np.testing.assert_allclose(by_hand, expected, rtol=1e-5, atol=1e-5)  # keras.ops by hand, float32
    if masked:
        assert np.all(expected_weights[~np.broadcast_to(mask[:, None], expected_weights.shape)] < 1e-6)


def test_multi_head_attention_scales_by_one_over_sqrt_key_dim_and_attention_does_not():
    # keras.layers.Attention scales only with use_scale=True, by a learned scalar that starts at 1.
    query, key, value, _ = attention._problem(seed=4)
    unscaled = layers.Attention()([query, value, key])
    learned = layers.Attention(use_scale=True)
    started = learned([query, value, key])
    reference_unscaled = attention.reference_attention(query * math.sqrt(query.shape[-1]), key, value)[0]
    np.testing.assert_allclose(ops.convert_to_numpy(unscaled), reference_unscaled, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ops.convert_to_numpy(started), reference_unscaled, rtol=1e-4, atol=1e-5)
    assert [tuple(w.shape) for w in learned.weights] == [()]


def test_reference_causal_mask_and_exact_match():
    assert attention.reference_causal_mask(3).tolist() == [
        [True, False, False],
        [True, True, False],
        [True, True, True],
    ]
    scores = np.eye(3)[[[0, 1], [2, 2]]]  # (2 rows, 2 positions, 3 classes)
    assert attention.exact_match(scores, [[0, 1], [2, 2]]) == 1.0
    assert attention.exact_match(scores, [[0, 1], [2, 0]]) == 0.5


# ---------------------------------------------------------------- part 1: scaled dot-product attention


def einsum_attention(query, key, value, mask=None):
    scores = ops.einsum("...qd,...kd->...qk", query, key) / ops.sqrt(ops.cast(ops.shape(query)[-1], "float32"))
    if mask is not None:
        scores = ops.where(mask, scores, float("-inf"))
    weights = ops.exp(scores - ops.max(scores, axis=-1, keepdims=True))
    weights = weights / ops.sum(weights, axis=-1, keepdims=True)
    return ops.einsum("...qk,...kv->...qv", weights, value), weights


def additive_mask_attention(query, key, value, mask=None):
    query = query / math.sqrt(query.shape[-1])  # scaling the query first is the same
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2))
    if mask is not None:
        scores = scores + (1.0 - ops.cast(mask, "float32")) * -1e9
    weights = ops.softmax(scores)
    return ops.matmul(weights, value), weights


def numpy_attention(query, key, value, mask=None):
    scores = query.astype(np.float64) @ np.swapaxes(key, -1, -2) / np.sqrt(query.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, np.finfo(np.float64).min)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ value, weights


@pytest.mark.parametrize(
    "answer",
    [
        scaled_dot_product_attention,
        einsum_attention,
        additive_mask_attention,
        numpy_attention,
        attention.reference_attention,
    ],
)
def test_attention_passes_right_answers_written_many_ways(answer, capsys):
    attention.check_scaled_dot_product_attention(answer)
    assert len(all_passed(capsys)) == 5


def attention_with(scale=lambda d: math.sqrt(d), axis=-1, mask_mode="before", masked_value=-1e9, swap=False):
    """Return an attention function with one mistake switched on."""

    def wrong(query, key, value, mask=None):
        scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) / scale(query.shape[-1])
        if mask is not None and mask_mode == "before":
            scores = ops.where(ops.logical_not(mask) if swap else mask, scores, masked_value)
        weights = ops.softmax(scores, axis=axis)
        if mask is not None and mask_mode == "after":
            weights = weights * ops.cast(mask, weights.dtype)
        return ops.matmul(weights, value), weights

    return wrong


@pytest.mark.parametrize(
    "wrong, item, words",
    [
        (attention_with(axis=-2), "each query's weights sum to 1 over the keys", "over the queries"),
        (attention_with(axis=-2), "matches softmax(QKᵀ/√d_k)·V without a mask", "softmax runs over the queries"),
        (attention_with(scale=lambda d: 1.0), "matches softmax(QKᵀ/√d_k)·V without a mask", "not scaled"),
        (attention_with(scale=lambda d: d), "matches softmax(QKᵀ/√d_k)·V without a mask", "not by d_k"),
        (attention_with(scale=lambda d: math.sqrt(8)), "matches softmax(QKᵀ/√d_k)·V without a mask", "is fixed"),
        (attention_with(mask_mode="after"), "with a padding mask, masked keys get no weight", "after the softmax"),
        (attention_with(mask_mode="ignored"), "with a padding mask, masked keys get no weight", "mask is ignored"),
        (attention_with(masked_value=0.0), "with a padding mask, masked keys get no weight", "exp(0)"),
        (attention_with(swap=True), "with a padding mask, masked keys get no weight", "wrong way round"),
    ],
)
def test_attention_rejects_plausible_mistakes_and_names_them(wrong, item, words, capsys):
    attention.check_scaled_dot_product_attention(wrong)
    rejected = failed(capsys)
    assert item in rejected and words in rejected[item], rejected


def test_attention_rejects_wrong_shapes_and_types(capsys):
    item = "scaled_dot_product_attention returns (output, weights) of the right shapes"
    for answer, words in [
        (lambda q, k, v, mask=None: scaled_dot_product_attention(q, k, v, mask)[0], "expected a tuple of 2"),
        (lambda q, k, v, mask=None: (ops.matmul(q, ops.swapaxes(k, -1, -2)), q), "expected an array of shape"),
        ("not a function", "expected a function"),
    ]:
        attention.check_scaled_dot_product_attention(answer)
        found, hints = verdicts(capsys)
        assert not any(passed for _, passed in found) and words in hints[item], hints


def test_an_unsolved_part_propagates():
    def unsolved(query, key, value, mask=None):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        attention.check_scaled_dot_product_attention(unsolved)
    with pytest.raises(NotImplementedError):
        attention.check_causal_mask(lambda length: unsolved(None, None, None))


# ---------------------------------------------------------------- part 2: the causal mask


@pytest.mark.parametrize(
    "answer",
    [
        causal_mask,
        lambda n: np.tril(np.ones((n, n))).astype(int),  # 1/0 instead of True/False
        lambda n: ops.tril(ops.ones((n, n))) > 0,  # a backend tensor
        lambda n: [[j <= i for j in range(n)] for i in range(n)],  # nested lists
        lambda n: np.arange(n)[:, None] >= np.arange(n)[None, :],
    ],
)
def test_causal_mask_passes_right_answers(answer, capsys):
    attention.check_causal_mask(answer)
    assert len(all_passed(capsys)) == 2


@pytest.mark.parametrize(
    "wrong, words",
    [
        (lambda n: causal_mask(n).T, "transposed"),
        (lambda n: np.tril(np.ones((n, n), dtype=bool), -1), "attend to itself"),
        (lambda n: ~causal_mask(n), "wrong way round"),
        (lambda n: np.ones((n, n), dtype=bool), "query i may attend to keys 0…i"),
        (lambda n: np.tril(np.ones((n, n))) * 2.0, "True/False"),
        (lambda n: causal_mask(n + 1), "shape"),
        (lambda n: np.where(np.tril(np.ones((n, n), dtype=bool)), 0.0, -np.inf), "additive mask"),
        (lambda n: np.where(np.tril(np.ones((n, n), dtype=bool)), 0.0, -1e9), "additive mask"),
    ],
)
def test_causal_mask_rejects_plausible_mistakes(wrong, words, capsys):
    attention.check_causal_mask(wrong)
    rejected = failed(capsys)
    item = "causal_mask(length): each position sees itself and the past"
    assert item in rejected and words in rejected[item], rejected


def test_a_transposed_or_missing_mask_leaks_the_future(capsys):
    for wrong in (lambda n: causal_mask(n).T, lambda n: np.ones((n, n), dtype=bool)):
        attention.check_causal_mask(wrong)
        rejected = failed(capsys)
        assert "the future leaks" in rejected["causal attention does not leak the future into earlier outputs"]


# ---------------------------------------------------------------- part 3: the shapes of a multi-head projection


def test_projection_answers_match_keras_and_pass_as_lists_or_arrays(capsys):
    expected, parameters = attention.reference_shapes()
    assert expected == SHAPES and parameters == NUM_PARAMETERS
    attention.check_projection_shapes(SHAPES, NUM_PARAMETERS)
    assert len(all_passed(capsys)) == 4
    attention.check_projection_shapes({name: list(shape) for name, shape in SHAPES.items()}, float(NUM_PARAMETERS))
    attention.check_projection_shapes(
        {name: np.array(shape) for name, shape in SHAPES.items()}, np.int64(NUM_PARAMETERS)
    )
    assert len(all_passed(capsys)) == 4


@pytest.mark.parametrize(
    "name, wrong, item, words",
    [
        ("query kernel", (16, 32), "kernel shapes of the query and output projections", "own axis"),
        ("output kernel", (32, 16), "kernel shapes of the query and output projections", "own axis"),
        ("projected query", (2, 5, 32), "shapes of the projected query and key", "own axis"),
        ("projected key", (2, 5, 4, 8), "shapes of the projected query and key", "value input"),
        ("attention weights", (2, 5, 7, 4), "shapes of the attention weights and the output", "heads right after"),
        ("attention weights", (2, 4, 7, 5), "shapes of the attention weights and the output", "a row per query"),
        ("output", (2, 5, 4, 8), "shapes of the attention weights and the output", "wrong"),
    ],
)
def test_projection_shapes_reject_plausible_mistakes(name, wrong, item, words, capsys):
    attention.check_projection_shapes({**SHAPES, name: wrong}, NUM_PARAMETERS)
    rejected = failed(capsys)
    assert list(rejected) == [item] and words in rejected[item], rejected


@pytest.mark.parametrize(
    "wrong, words",
    [
        (NUM_PARAMETERS - 3 * 32 - 16, "biases are missing"),
        (NUM_PARAMETERS - 16 * 32 - 32, "four projections"),
        (NUM_PARAMETERS + 1, "add up"),
        ("2160", "whole number"),
    ],
)
def test_parameter_count_rejects_plausible_mistakes(wrong, words, capsys):
    attention.check_projection_shapes(SHAPES, wrong)
    rejected = failed(capsys)
    item = "number of parameters, as count_params() counts them"
    assert list(rejected) == [item] and words in rejected[item], rejected


def test_projection_shapes_say_what_is_missing(capsys):
    attention.check_projection_shapes({k: v for k, v in SHAPES.items() if k != "output"}, NUM_PARAMETERS)
    rejected = failed(capsys)
    assert "shapes has no 'output'" in rejected["shapes of the attention weights and the output"]
    attention.check_projection_shapes([], NUM_PARAMETERS)
    assert len(failed(capsys)) == 3


# ---------------------------------------------------------------- part 4: multi-head attention by hand


def reshaping_multi_head_attention(query_input, value_input, weights, mask=None):
    """Reshape to one axis of heads × key_dim and back, and use Keras's fused dot_product_attention."""
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    features, heads, key_dim = wq.shape
    query = ops.matmul(query_input, ops.reshape(wq, (features, heads * key_dim))) + ops.reshape(bq, (-1,))
    key = ops.matmul(value_input, ops.reshape(wk, (features, heads * key_dim))) + ops.reshape(bk, (-1,))
    value = ops.matmul(value_input, ops.reshape(wv, (features, -1))) + ops.reshape(bv, (-1,))
    batch = ops.shape(query_input)[0]
    query = ops.reshape(query, (batch, -1, heads, key_dim))  # (batch, T_q, heads, key_dim)
    key = ops.reshape(key, (batch, -1, heads, key_dim))
    value = ops.reshape(value, (batch, -1, heads, wv.shape[-1]))
    heads_mask = None if mask is None else ops.expand_dims(mask, 1)  # (batch, 1, T_q, T_k)
    attended = ops.dot_product_attention(query, key, value, mask=heads_mask)  # (batch, T_q, heads, value_dim)
    attended = ops.reshape(attended, (batch, -1, heads * wv.shape[-1]))
    return ops.matmul(attended, ops.reshape(wo, (-1, wo.shape[-1]))) + bo


def numpy_multi_head_attention(query_input, value_input, weights, mask=None):
    return attention.reference_multi_head_attention(query_input, value_input, weights, mask)[0]


@pytest.mark.parametrize("answer", [multi_head_attention, reshaping_multi_head_attention, numpy_multi_head_attention])
def test_multi_head_attention_passes_right_answers(answer, capsys):
    attention.check_multi_head_attention(answer)
    assert len(all_passed(capsys)) == 3


def without_biases(query_input, value_input, weights, mask=None):
    return multi_head_attention(
        query_input, value_input, [w if i % 2 == 0 else w * 0 for i, w in enumerate(weights)], mask
    )


def without_scale(query_input, value_input, weights, mask=None):
    wq, bq, *rest = weights
    key_dim = wq.shape[-1]
    return multi_head_attention(
        query_input, value_input, [wq * math.sqrt(key_dim), bq * math.sqrt(key_dim), *rest], mask
    )


def heads_mixed_up(query_input, value_input, weights, mask=None):
    """Reshape (batch, time, heads, key_dim) to (batch, heads, time, key_dim) instead of transposing."""
    wq, bq, wk, bk, wv, bv, wo, bo = weights

    def split(inputs, kernel, bias):
        projected = ops.einsum("btd,dhk->bthk", inputs, kernel) + bias  # (batch, time, heads, key_dim)
        return ops.reshape(projected, (projected.shape[0], projected.shape[2], projected.shape[1], -1))

    query, key, value = split(query_input, wq, bq), split(value_input, wk, bk), split(value_input, wv, bv)
    heads_mask = None if mask is None else ops.expand_dims(mask, 1)
    attended, _ = scaled_dot_product_attention(query, key, value, heads_mask)  # (batch, heads, T_q, value_dim)
    return ops.einsum("bhtv,hvd->btd", attended, wo) + bo


@pytest.mark.parametrize(
    "wrong, cases, words",
    [
        (without_biases, 3, "biases are missing"),
        (without_scale, 3, "not scaled"),
        (lambda q, v, w, mask=None: multi_head_attention(q, v, w, None), 1, "mask is ignored"),
        (heads_mixed_up, 2, "heads as their own axis"),
    ],
)
def test_multi_head_attention_rejects_plausible_mistakes(wrong, cases, words, capsys):
    attention.check_multi_head_attention(wrong)
    rejected = failed(capsys)
    assert len(rejected) >= cases and all(words in hint for hint in list(rejected.values())[-cases:]), rejected


# ---------------------------------------------------------------- part 5: the date reader


def constant_model(length, num_classes=11, seed=0):
    """Return a model that ignores its input and scores the same ISO string for every date."""
    ids = keras.Input(shape=(length,), dtype="int32")
    pattern = np.random.default_rng(seed).normal(size=(attention.ISO_LENGTH, num_classes)).astype("float32")
    scores = layers.Lambda(lambda x: ops.zeros_like(ops.cast(x[:, :1, None], "float32")) + pattern)(ids)
    return keras.Model(ids, scores)  # (batch, 10, num_classes)


def test_date_reader_passes_a_model_that_is_right_often_enough(capsys):
    model = constant_model(12)
    inputs = np.zeros((40, 12), dtype=np.int32)
    targets = np.repeat(model.predict(inputs[:1], verbose=0).argmax(-1), 40, axis=0)  # (40, 10)
    targets[:2, 0] = (targets[:2, 0] + 1) % 11  # two of forty wrong: 95% exact match
    attention.check_date_reader(model, inputs, targets, 0.95)
    assert len(all_passed(capsys)) == 2
    attention.check_date_reader(model, inputs, targets, 0.99)
    rejected = failed(capsys)
    assert list(rejected) == ["exact match on held-out dates is at least 99%"]
    assert "exact match 95.0%" in rejected["exact match on held-out dates is at least 99%"]


def test_date_reader_rejects_wrong_outputs_and_non_models(capsys):
    inputs, targets = np.zeros((5, 12), dtype=np.int32), np.zeros((5, 10), dtype=np.int32)
    ids = keras.Input(shape=(12,), dtype="int32")
    flat = keras.Model(ids, layers.Dense(11)(ops.cast(ids, "float32")))  # (batch, 11): not a score per character
    attention.check_date_reader(flat, inputs, targets, 0.5)
    attention.check_date_reader("model", inputs, targets, 0.5)
    found, hints = verdicts(capsys)
    assert not any(passed for _, passed in found)
    assert "(batch, 10," in hints["the model scores every character of the ten-character ISO date"]


# ---------------------------------------------------------------- part 6: reading an attention map


def looking_at(characters, length):
    """Return a model whose attention map puts every output's weight on the characters in `characters`."""
    vocabulary, _ = data.date_vocabularies()
    wanted = [vocabulary.index[c] for c in characters]
    ids = keras.Input(shape=(length,), dtype="int32")

    def weights(x):
        hits = ops.cast(ops.any(ops.stack([ops.equal(x, i) for i in wanted]), axis=0), "float32") + 1e-3
        hits = hits / ops.sum(hits, axis=-1, keepdims=True)  # (batch, length)
        return ops.repeat(ops.expand_dims(hits, 1), attention.ISO_LENGTH, axis=1)  # (batch, 10, length)

    return keras.Model(ids, layers.Lambda(weights)(ids)), vocabulary


RIGHT_READING = {"Thursday, May 3 1979": [10, 11, 12], "03/05/79": [3, 4]}


@pytest.mark.parametrize(
    "answer",
    [
        RIGHT_READING,
        {"Thursday, May 3 1979": [10], "03/05/79": 4},
        {"Thursday, May 3 1979": (10, 11), "03/05/79": {4, 3}},
        {"Thursday, May 3 1979": np.arange(10, 13), "03/05/79": range(3, 5)},
    ],
)
def test_month_reading_passes_the_month_where_the_map_is_darkest(answer, capsys):
    model, vocabulary = looking_at("M5", 24)
    attention.check_month_reading(answer, model, vocabulary, 24)
    assert len(all_passed(capsys)) == 2


@pytest.mark.parametrize(
    "answer, words",
    [
        ({"Thursday, May 3 1979": [14], "03/05/79": [0, 1]}, "hold '3', not the month"),
        ({"Thursday, May 3 1979": list(range(8)), "03/05/79": [6, 7]}, "'Thursday'"),
        ({"Thursday, May 3 1979": [11, 12, 13], "03/05/79": [4, 5]}, "count from 0"),
        ({"Thursday, May 3 1979": [5, 6], "03/05/79": [5, 6]}, "month's places in the output"),
        ({"Thursday, May 3 1979": [11, 12], "03/05/79": [3]}, "not where the map is darkest"),
        ({"Thursday, May 3 1979": [25], "03/05/79": [9]}, "not a character"),
        ({"Thursday, May 3 1979": [], "03/05/79": []}, "at least one"),
        ({"Thursday, May 3 1979": "May", "03/05/79": "05"}, "list of character positions"),
        ({}, "should be a dict"),
    ],
)
def test_month_reading_rejects_wrong_readings(answer, words, capsys):
    model, vocabulary = looking_at("M5", 24)
    attention.check_month_reading(answer, model, vocabulary, 24)
    rejected = failed(capsys)
    assert rejected and any(words in hint for hint in rejected.values()), rejected


def test_month_reading_accepts_a_map_darkest_next_to_the_month(capsys):
    model, vocabulary = looking_at(" /", 24)  # the space before "May", the slash before "05"
    attention.check_month_reading(RIGHT_READING, model, vocabulary, 24)
    assert len(all_passed(capsys)) == 2


def test_month_reading_blames_a_model_that_looks_elsewhere(capsys):
    model, vocabulary = looking_at("T7", 24)  # the weekday, and the year of the short date
    attention.check_month_reading(RIGHT_READING, model, vocabulary, 24)
    rejected = failed(capsys)
    assert len(rejected) == 2 and all("outside the month" in hint for hint in rejected.values())

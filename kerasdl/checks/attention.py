"""Checks for the attention exercise (solutions/08_attention.ipynb).

Each `check_*` function prints one verdict line per item (see kerasdl.checks) and
returns None. The references are float64 NumPy versions of scaled dot-product and
multi-head attention (themselves tested against keras.layers.MultiHeadAttention on
every backend) and Keras's own MultiHeadAttention on the active backend, compared
inside `kerasdl.precision.exact_matmul()` so a GPU's TF32 products do not blur them.
No verdict prints a number that depends on the backend. The usual mistakes get a
hint that names them (a softmax over the queries, no scale, a mask applied after the
softmax or the wrong way round, a transposed causal mask, heads in the wrong axis)
without giving the answer; valid alternatives (einsum or matmul, -inf or -1e9 for
masked scores, NumPy or backend tensors) all pass. NotImplementedError propagates.

Keras is imported inside the functions: importing kerasdl imports no framework.
"""

import math

import numpy as np

from kerasdl import checks
from kerasdl.checks import CheckError

RTOL, ATOL = 1e-4, 1e-5  # float32 attention against float64 references
DEPTH = 8  # d_k of part 1's problems; its no-mask case uses 2 * DEPTH, so a scale written as a number fails
MHA_ATOL = 1e-5  # by-hand multi-head attention against the layer, both float32
ISO_LENGTH = 10  # "1979-05-03"
MONTH_DIGITS = (5, 6)  # the output positions of the month in an ISO date

# The multi-head projection of part 3: MultiHeadAttention(num_heads=4, key_dim=8) reading a
# query input of (batch 2, 5 steps, 16 features) and a key/value input of (2, 7, 16).
PROJECTION = {"num_heads": 4, "key_dim": 8, "query_input": (2, 5, 16), "value_input": (2, 7, 16)}
SHAPE_NAMES = ("query kernel", "output kernel", "projected query", "projected key", "attention weights", "output")

# Part 6: examples whose month the learner locates, with where the month is written (start, end).
MONTH_EXAMPLES = {"Thursday, May 3 1979": (10, 13), "03/05/79": (3, 5)}


# ---------------------------------------------------------------- references


def reference_attention(query, key, value, mask=None):
    """Return (output, weights) of softmax(query·keyᵀ/√d_k)·value in float64 NumPy; mask is True where allowed."""
    query, key, value = (np.asarray(a, dtype=np.float64) for a in (query, key, value))
    scores = query @ np.swapaxes(key, -1, -2) / math.sqrt(query.shape[-1])  # (..., T_q, T_k)
    if mask is not None:
        scores = np.where(np.asarray(mask, dtype=bool), scores, -np.inf)
    with np.errstate(invalid="ignore"):  # a query with no key left gets NaN weights, quietly
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        weights = weights / weights.sum(axis=-1, keepdims=True)  # (..., T_q, T_k)
    return weights @ value, weights  # (..., T_q, d_v), (..., T_q, T_k)


def reference_multi_head_attention(query_input, value_input, weights, mask=None):
    """Return (output, weights) of MultiHeadAttention in float64 NumPy, given the layer's 8 weights.

    The key input is the value input; `mask` (batch, T_q, T_k) is True where a query may attend.
    Returns output (batch, T_q, features) and weights (batch, heads, T_q, T_k).
    """
    wq, bq, wk, bk, wv, bv, wo, bo = (np.asarray(w, dtype=np.float64) for w in weights)
    query = np.einsum("btd,dhk->bhtk", query_input, wq) + bq[:, None, :]  # (batch, heads, T_q, key_dim)
    key = np.einsum("bsd,dhk->bhsk", value_input, wk) + bk[:, None, :]  # (batch, heads, T_k, key_dim)
    value = np.einsum("bsd,dhv->bhsv", value_input, wv) + bv[:, None, :]  # (batch, heads, T_k, value_dim)
    heads_mask = None if mask is None else np.asarray(mask, dtype=bool)[:, None]  # (batch, 1, T_q, T_k)
    attended, attention = reference_attention(query, key, value, heads_mask)  # (batch, heads, T_q, value_dim)
    return np.einsum("bhtv,hvd->btd", attended, wo) + bo, attention  # (batch, T_q, features)


def reference_causal_mask(length):
    """Return the (length, length) causal mask: True where query i may attend to key j, that is j <= i."""
    return np.tril(np.ones((length, length), dtype=bool))


def multi_head_layer(num_heads, key_dim, features, seed):
    """Return a built keras.layers.MultiHeadAttention whose weights (and biases) are random normals."""
    from keras import layers

    layer = layers.MultiHeadAttention(num_heads=num_heads, key_dim=key_dim)
    layer.build((None, None, features), (None, None, features))
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in layer.get_weights()])
    return layer


def layer_output(layer, query_input, value_input, mask=None):
    """Return (output, weights) of a MultiHeadAttention layer as float64 NumPy, computed at full float32 precision."""
    from keras import ops

    from kerasdl import precision

    with precision.exact_matmul():
        output, weights = layer(query_input, value_input, attention_mask=mask, return_attention_scores=True)
    return ops.convert_to_numpy(output).astype(np.float64), ops.convert_to_numpy(weights).astype(np.float64)


# ---------------------------------------------------------------- helpers


def _problem(seed, batch=(2,), queries=4, keys=6, depth=DEPTH, value_depth=5):
    """Return float32 query (…, T_q, d), key (…, T_k, d), value (…, T_k, d_v) and a padding mask (…, 1, T_k)."""
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(*batch, queries, depth)).astype(np.float32)
    key = rng.normal(size=(*batch, keys, depth)).astype(np.float32)
    value = rng.normal(size=(*batch, keys, value_depth)).astype(np.float32)
    lengths = rng.integers(2, keys + 1, size=batch)  # each sequence keeps at least two keys
    lengths.reshape(-1)[0] = keys - 2  # and one of them has padding for sure
    mask = (np.arange(keys) < lengths[..., None])[..., None, :]  # (…, 1, T_k): True on real keys
    return query, key, value, mask


def _softmax(scores, axis):
    scores = scores - scores.max(axis=axis, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=axis, keepdims=True)


def _attention_mistake(output, weights, query, key, value, mask):
    """Return a hint naming the likely mistake in (output, weights), or a general one."""
    with np.errstate(all="ignore"):  # some wrong candidates have rows of -inf: NaN, never a match
        return _named_mistake(output, weights, query, key, value, mask)


def _named_mistake(output, weights, query, key, value, mask):
    query64, key64, value64 = (a.astype(np.float64) for a in (query, key, value))
    raw = query64 @ np.swapaxes(key64, -1, -2)  # (…, T_q, T_k): unscaled scores
    d_k = query.shape[-1]
    full = np.broadcast_to(mask, raw.shape) if mask is not None else np.ones(raw.shape, dtype=bool)
    candidates = [
        (
            _softmax(np.where(full, raw / math.sqrt(d_k), -1e9), axis=-2),
            "the softmax runs over the queries: it must run over the keys, the last axis, so that each "
            "query's weights sum to 1",
        ),
        (
            _softmax(np.where(full, raw, -1e9), axis=-1),
            "the scores are not scaled: divide query·keyᵀ by √d_k, d_k being the last axis of query and key",
        ),
        (_softmax(np.where(full, raw / d_k, -1e9), axis=-1), "divide the scores by √d_k, not by d_k"),
    ]
    if d_k != DEPTH:
        candidates.append(
            (
                _softmax(np.where(full, raw / math.sqrt(DEPTH), -1e9), axis=-1),
                f"the scale is fixed: this problem has d_k = {d_k}, so take d_k from the last axis of query",
            )
        )
    if mask is not None:
        candidates += [
            (
                _softmax(raw / math.sqrt(d_k), axis=-1) * full,
                "the mask is applied after the softmax: mask the scores before it, so that the weights left "
                "still sum to 1",
            ),
            (
                _softmax(np.where(full, -1e9, raw / math.sqrt(d_k)), axis=-1),
                "the mask is the wrong way round: True means the query may attend to that key",
            ),
            (
                _softmax(np.where(full, raw / math.sqrt(d_k), 0.0), axis=-1),
                "a masked score set to 0 still gets weight exp(0) = 1 in the softmax: set it to -inf or a "
                "large negative number such as -1e9",
            ),
            (_softmax(raw / math.sqrt(d_k), axis=-1), "the mask is ignored: masked keys must get no weight"),
        ]
    for candidate, words in candidates:
        if weights.shape == candidate.shape and np.allclose(weights, candidate, atol=1e-4):
            return words
        if output.shape[:-1] == candidate.shape[:-1] and np.allclose(output, candidate @ value64, atol=1e-4):
            return words
    return "compute softmax(query·keyᵀ / √d_k) over the keys, then multiply the weights by value"


def _attention_result(function, query, key, value, mask):
    """Return the learner's (output, weights) as float64 arrays of the right shapes, or raise CheckError."""
    from kerasdl import precision

    arguments = [query.copy(), key.copy(), value.copy()]
    with precision.exact_matmul():  # full float32 products on a GPU, to compare with float64
        result = (
            checks.call(function, *arguments) if mask is None else checks.call(function, *arguments, mask=mask.copy())
        )
    output, weights = checks.expect_tuple(result, 2, "(output, weights)")
    output_shape = (*query.shape[:-1], value.shape[-1])
    weights_shape = (*query.shape[:-1], key.shape[-2])
    output = checks.expect_array(output, shape=output_shape, finite=True).astype(np.float64)
    weights = checks.expect_array(weights, shape=weights_shape, finite=True).astype(np.float64)
    return output, weights


# ---------------------------------------------------------------- part 1: scaled dot-product attention


def check_scaled_dot_product_attention(scaled_dot_product_attention):
    """Print verdicts for scaled_dot_product_attention(query, key, value, mask=None) -> (output, weights)."""
    query, key, value, mask = _problem(seed=1)

    def shapes():
        _attention_result(scaled_dot_product_attention, query, key, value, None)
        return True

    def rows_sum_to_one():
        _, weights = _attention_result(scaled_dot_product_attention, query, key, value, None)
        if not np.allclose(weights.sum(axis=-1), 1.0, atol=1e-4):
            if np.allclose(weights.sum(axis=-2), 1.0, atol=1e-4):
                raise CheckError(
                    "the weights sum to 1 over the queries: the softmax must run over the keys, the last axis"
                )
            raise CheckError("each query's weights must be a softmax over the keys: positive, summing to 1")
        return True

    def matches(mask_used, batch=(2,), seed=1, depth=DEPTH):
        q, k, v, m = _problem(seed=seed, batch=batch, depth=depth)
        m = m if mask_used else None
        output, weights = _attention_result(scaled_dot_product_attention, q, k, v, m)
        expected_output, expected_weights = reference_attention(q, k, v, m)
        if not (
            np.allclose(weights, expected_weights, rtol=RTOL, atol=ATOL)
            and np.allclose(output, expected_output, rtol=RTOL, atol=ATOL)
        ):
            raise CheckError(_attention_mistake(output, weights, q, k, v, m))
        return True

    items = [
        (
            "scaled_dot_product_attention returns (output, weights) of the right shapes",
            shapes,
            "output (…, queries, value features) and weights (…, queries, keys)",
        ),
        ("each query's weights sum to 1 over the keys", rows_sum_to_one, ""),
        ("matches softmax(QKᵀ/√d_k)·V without a mask", lambda: matches(False, depth=2 * DEPTH), ""),
        ("with a padding mask, masked keys get no weight", lambda: matches(True), ""),
        (
            "works with extra leading axes (batch, heads, …)",
            lambda: matches(True, batch=(2, 3), seed=2),
            "use operations on the last two axes (matmul, einsum with '...', swapaxes(-1, -2)) "
            "so any leading axes pass",
        ),
    ]
    for item, body, hint in items:
        checks.check(item, body, hint=hint)


# ---------------------------------------------------------------- part 2: the causal mask


def _causal_answer(causal_mask, length):
    """Return the learner's causal mask for `length` as a bool array, or raise CheckError."""
    answer = checks.call(causal_mask, length)
    if isinstance(answer, (list, tuple)):
        try:
            answer = np.asarray(answer)  # nested lists of True/False are fine here
        except ValueError:
            raise CheckError("causal_mask should return a (length, length) array") from None
    mask = checks.expect_array(answer, shape=(length, length), finite=False)
    if mask.dtype.kind == "f" and mask.size and np.all((mask == 0) | (mask <= -1e4)) and (mask < 0).any():
        raise CheckError(
            "this is an additive mask (0 where a query may look, a large negative number where not): "
            "causal_mask returns True/False, True where query i may attend to key j"
        )
    mask = checks.expect_array(mask, shape=(length, length))
    if mask.dtype != bool:
        if not np.isin(mask, (0, 1)).all():
            raise CheckError("the mask should hold True/False (or 1/0): True where a query may attend to a key")
        mask = mask.astype(bool)
    return mask


def check_causal_mask(causal_mask):
    """Print verdicts for causal_mask(length) -> (length, length) bool mask, True where query i may attend to key j."""

    def lower_triangular():
        for length in (4, 7, 1):
            mask = _causal_answer(causal_mask, length)
            expected = reference_causal_mask(length)
            if np.array_equal(mask, expected):
                continue
            if np.array_equal(mask, expected.T):
                raise CheckError("the mask is transposed: its rows are the queries and its columns the keys")
            if np.array_equal(mask, ~expected):
                raise CheckError("True must mean 'may attend': the mask is the wrong way round")
            if np.array_equal(mask, np.tril(expected, -1)):
                raise CheckError("a position may attend to itself: keep the diagonal")
            raise CheckError(f"causal_mask({length}) is wrong: query i may attend to keys 0…i and no later ones")
        return True

    def no_leak():
        length = 6
        mask = _causal_answer(causal_mask, length)
        if not mask.any(axis=-1).all():
            raise CheckError(
                "with your mask some query has no key at all to attend to: each position can at least see itself"
            )
        rng = np.random.default_rng(3)
        sequence = rng.normal(size=(1, length, 4))  # (batch, time, features): self-attention on it
        changed = sequence.copy()
        changed[:, 3:] = rng.normal(size=(1, length - 3, 4))  # a different future from step 3 on
        before, _ = reference_attention(sequence, sequence, sequence, mask)
        after, _ = reference_attention(changed, changed, changed, mask)
        if not np.allclose(before[:, :3], after[:, :3]):
            raise CheckError(
                "with your mask, the outputs of steps 0–2 change when steps 3–5 change: the future leaks into the past"
            )
        return True

    checks.check("causal_mask(length): each position sees itself and the past", lower_triangular)
    checks.check("causal attention does not leak the future into earlier outputs", no_leak)


# ---------------------------------------------------------------- part 3: the shapes of a multi-head projection


def reference_shapes():
    """Return ({name: shape} for SHAPE_NAMES, parameter count) of the part-3 layer, measured on Keras itself."""
    import keras

    layer = keras.layers.MultiHeadAttention(num_heads=PROJECTION["num_heads"], key_dim=PROJECTION["key_dim"])
    query_input = np.zeros(PROJECTION["query_input"], dtype=np.float32)
    value_input = np.zeros(PROJECTION["value_input"], dtype=np.float32)
    output, weights = layer(query_input, value_input, return_attention_scores=True)
    shapes = {
        "query kernel": tuple(layer.query_dense.kernel.shape),
        "output kernel": tuple(layer.output_dense.kernel.shape),
        "projected query": tuple(keras.ops.shape(layer.query_dense(query_input))),
        "projected key": tuple(keras.ops.shape(layer.key_dense(value_input))),
        "attention weights": tuple(keras.ops.shape(weights)),
        "output": tuple(keras.ops.shape(output)),
    }
    return {name: tuple(int(size) for size in shape) for name, shape in shapes.items()}, layer.count_params()


def _shape_mistake(name, given, expected):
    """Return a hint for a wrong shape in part 3, without the answer."""
    heads, key_dim = PROJECTION["num_heads"], PROJECTION["key_dim"]
    if len(given) == len(expected) - 1 and heads * key_dim in given:
        return "Keras keeps the heads as their own axis instead of one axis of heads × key_dim"
    if name == "attention weights" and sorted(given) == sorted(expected):
        return "the weights are (batch, heads, queries, keys): heads right after the batch, then a row per query"
    if sorted(given) == sorted(expected):
        return "the right sizes in the wrong order"
    if name == "projected key" and given[1] == PROJECTION["query_input"][1]:
        return "keys are projected from the value input, whose length differs from the query's"
    return "work it out from the layer's arguments and the two input shapes"


def check_projection_shapes(shapes, num_parameters):
    """Print verdicts for the part-3 shapes ({name: shape}) and parameter count against Keras."""
    expected, expected_parameters = reference_shapes()

    def answered(names):
        if not isinstance(shapes, dict):
            raise CheckError(f"shapes should be a dict {{name: shape}}, got {checks.article(type(shapes).__name__)}")
        for name in names:
            if name not in shapes:
                raise CheckError(f"shapes has no {name!r}; it needs {', '.join(map(repr, SHAPE_NAMES))}")
            given = checks.expect_shape(shapes[name], f"shapes[{name!r}]")
            if given != expected[name]:
                raise CheckError(f"shapes[{name!r}] is wrong ({_shape_mistake(name, given, expected[name])})")
        return True

    def parameters():
        given = checks.expect_whole(num_parameters, "num_parameters")
        if given == expected_parameters:
            return True
        heads, key_dim = PROJECTION["num_heads"], PROJECTION["key_dim"]
        features = PROJECTION["query_input"][-1]
        biases = 3 * heads * key_dim + features
        if given == expected_parameters - biases:
            raise CheckError("the biases are missing: each of the four projections has one")
        if given == expected_parameters - heads * key_dim * features - heads * key_dim:
            raise CheckError("there are four projections: query, key, value and the output")
        raise CheckError("add up the kernels and biases of the query, key, value and output projections")

    checks.check(
        "kernel shapes of the query and output projections", lambda: answered(["query kernel", "output kernel"])
    )
    checks.check("shapes of the projected query and key", lambda: answered(["projected query", "projected key"]))
    checks.check("shapes of the attention weights and the output", lambda: answered(["attention weights", "output"]))
    checks.check("number of parameters, as count_params() counts them", parameters)


# ---------------------------------------------------------------- part 4: multi-head attention by hand


MHA_CASES = [  # (description, heads, key_dim, features, query length, value length, masked)
    ("one head, self-attention", 1, 8, 8, 5, 5, False),
    ("four heads, self-attention", 4, 4, 12, 6, 6, False),
    ("three heads, cross-attention with a mask", 3, 5, 10, 4, 7, True),
]


def _mha_problem(heads, key_dim, features, query_length, value_length, masked, seed):
    rng = np.random.default_rng(seed)
    query_input = rng.normal(size=(2, query_length, features)).astype(np.float32)  # (batch, T_q, features)
    value_input = rng.normal(size=(2, value_length, features)).astype(np.float32)  # (batch, T_k, features)
    mask = None
    if masked:
        lengths = np.array([max(value_length - 3, 1), value_length])  # the first example has padding
        mask = np.broadcast_to(
            (np.arange(value_length) < lengths[:, None])[:, None, :], (2, query_length, value_length)
        ).copy()  # (batch, T_q, T_k)
    return query_input, value_input, mask


def _mha_mistake(output, layer, query_input, value_input, mask):
    """Return a hint for a multi-head output that differs from the layer's."""
    weights = [w.astype(np.float64) for w in layer.get_weights()]
    no_bias = [w if index % 2 == 0 else np.zeros_like(w) for index, w in enumerate(weights)]
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    d_k = wq.shape[-1]
    candidates = [
        (
            reference_multi_head_attention(query_input, value_input, no_bias, mask)[0],
            "the biases are missing: each projection adds its bias",
        ),
        (
            reference_multi_head_attention(
                query_input, value_input, [wq * math.sqrt(d_k), bq * math.sqrt(d_k), wk, bk, wv, bv, wo, bo], mask
            )[0],
            "the scores are not scaled by 1/√key_dim",
        ),
    ]
    if mask is not None:
        candidates.append(
            (
                reference_multi_head_attention(query_input, value_input, weights, None)[0],
                "the mask is ignored: pass it to every head",
            )
        )
    for candidate, words in candidates:
        if np.allclose(output, candidate, atol=1e-4):
            return words
    return (
        "project with each kernel and bias, attend within each head (heads as their own axis), "
        "then combine the heads with the output kernel and bias"
    )


def check_multi_head_attention(multi_head_attention):
    """Print one verdict per case for multi_head_attention(query_input, value_input, weights, mask=None).

    `weights` are the layer's eight weights as backend tensors, the inputs NumPy arrays.
    """
    from kerasdl import precision

    for number, (description, heads, key_dim, features, query_length, value_length, masked) in enumerate(MHA_CASES):
        layer = multi_head_layer(heads, key_dim, features, seed=40 + number)
        query_input, value_input, mask = _mha_problem(
            heads, key_dim, features, query_length, value_length, masked, seed=50 + number
        )
        expected, _ = layer_output(layer, query_input, value_input, mask)

        def body(layer=layer, query_input=query_input, value_input=value_input, mask=mask, expected=expected):
            from keras import ops

            # Weights as backend tensors: on PyTorch, tensor + NumPy array goes through NumPy and warns.
            weights = [ops.convert_to_tensor(w) for w in layer.get_weights()]
            arguments = [query_input.copy(), value_input.copy(), weights]
            with precision.exact_matmul():
                if mask is None:
                    output = checks.call(multi_head_attention, *arguments)
                else:
                    output = checks.call(multi_head_attention, *arguments, mask=mask.copy())
            output = checks.expect_array(output, shape=expected.shape).astype(np.float64)
            if not np.allclose(output, expected, rtol=MHA_ATOL, atol=MHA_ATOL):
                raise CheckError(_mha_mistake(output, layer, query_input, value_input, mask))
            return True

        checks.check(f"multi_head_attention equals MultiHeadAttention to 1e-5: {description}", body)


# ---------------------------------------------------------------- part 5: a date reader


def exact_match(scores, targets):
    """Return the share of rows whose every position's argmax equals the target id."""
    return float(np.mean(np.all(np.argmax(scores, axis=-1) == np.asarray(targets), axis=-1)))


def check_date_reader(model, inputs, targets, min_exact_match):
    """Print verdicts for a trained date reader: its output shape and its exact match on held-out dates."""
    import keras

    def predictions():
        if not isinstance(model, keras.Model):
            raise CheckError(f"expected a keras.Model, got {checks.article(type(model).__name__)}")
        shape = (len(inputs), ISO_LENGTH, "N")
        return checks.expect_array(checks.call(model.predict, inputs, verbose=0), shape=shape)

    def accurate():
        scores = predictions()
        if scores.shape[-1] <= int(np.max(targets)):
            raise CheckError(
                f"the model scores {scores.shape[-1]} characters; it needs one score per character "
                "of the ISO vocabulary"
            )
        share = exact_match(scores, targets)
        if share < min_exact_match:
            raise CheckError(f"exact match {share:.1%}")
        return True

    checks.check(
        "the model scores every character of the ten-character ISO date",
        lambda: predictions() is not None,
        hint=f"the output should be (batch, {ISO_LENGTH}, characters of the ISO vocabulary)",
    )
    checks.check(
        f"exact match on held-out dates is at least {min_exact_match:.0%}",
        accurate,
        hint="train longer, or check that the decoder's queries attend to the encoder's states",
    )


# ---------------------------------------------------------------- part 6: reading an attention map


def month_attention(attention_model, vocabulary, length, text):
    """Return the attention the month digits give each character of `text`: the mean of their two rows."""
    from kerasdl import data

    ids = data.encode_padded([text], vocabulary, length)  # (1, length)
    weights = checks.expect_array(checks.call(attention_model.predict, ids, verbose=0), shape=(1, ISO_LENGTH, length))
    return weights[0, list(MONTH_DIGITS), : len(text)].mean(axis=0)  # (len(text),)


def _positions(answer, text):
    """Return the learner's positions as a sorted list of ints, or raise CheckError."""
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
        answer = [answer]
    if isinstance(answer, str) or not isinstance(answer, (list, tuple, set, frozenset, np.ndarray, range)):
        raise CheckError(
            f"give a list of character positions (ints) for {text!r}, got {checks.article(type(answer).__name__)}"
        )
    positions = sorted({checks.expect_whole(p, f"each position for {text!r}") for p in answer})
    if not positions:
        raise CheckError(f"give at least one position for {text!r}")
    outside = [p for p in positions if not 0 <= p < len(text)]
    if outside:
        raise CheckError(
            f"position {outside[0]} is not a character of {text!r} (positions run from 0 to {len(text) - 1})"
        )
    return positions


def _reading_mistake(positions, text, span):
    """Return a hint for positions that are not all inside the month, naming what they point at instead."""
    start, end = span
    if all(start <= p - 1 < end for p in positions):
        return "positions count from 0: the first character is position 0"
    if positions == list(MONTH_DIGITS) and not all(start <= p < end for p in positions):
        return (
            f"{MONTH_DIGITS[0]} and {MONTH_DIGITS[1]} are the month's places in the output; give the input "
            "positions the map shows they look at"
        )
    pointed = "".join(text[p] for p in positions)
    return f"those positions hold {pointed!r}, not the month"


def check_month_reading(month_positions, attention_model, vocabulary, length):
    """Print a verdict per example: the positions given are the month's, and hold the map's strongest weight.

    A map darkest on the character just before or after the month passes too: the encoder's vector there has
    seen the month (two 5-wide convolutions see 9 characters), and trained readers that are right on every
    held-out date do that on some seeds.
    """
    for text, span in MONTH_EXAMPLES.items():

        def body(text=text, span=span):
            if not isinstance(month_positions, dict) or text not in month_positions:
                raise CheckError(f"month_positions should be a dict with a list of positions for {text!r}")
            positions = _positions(month_positions[text], text)
            if not all(span[0] <= p < span[1] for p in positions):
                raise CheckError(_reading_mistake(positions, text, span))
            weights = month_attention(attention_model, vocabulary, length, text)
            strongest = int(np.argmax(weights))
            if strongest in (span[0] - 1, span[1]):  # the month's neighbour: its encoder vector sees the month
                return True
            if strongest not in positions:
                if span[0] <= strongest < span[1]:
                    raise CheckError(
                        "your positions are in the month, but not where the map is darkest for the month digits"
                    )
                raise CheckError(
                    "your model's strongest weight for the month digits lies outside the month: "
                    "train it further and draw the map again"
                )
            return True

        checks.check(f"the month digits of {text!r} look at the month", body)


CENTURY_ITEM = "where the century of a two-digit year comes from"
CENTURY_MODEL_ANSWER = (
    "The century is written nowhere: '79' holds none. The rows of '1' and '9' put their weight on "
    "the year's two digits, or on characters whose encoder vectors see them (each vector of two "
    "5-wide convolutions sees 9 characters), because the model learnt from the examples that "
    "50-99 mean 19xx and 00-49 mean 20xx; a date outside 1950-2049 would be read wrongly."
)


def record_century_answer(answer):
    """Print `✎ where the century … — recorded for your instructor` for a written answer (not graded)."""
    checks.record_answer(CENTURY_ITEM, answer, CENTURY_MODEL_ANSWER)

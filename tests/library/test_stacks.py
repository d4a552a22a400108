"""kerasdl.stacks.DenseStack against an independent NumPy version and against Keras's own Dense and
LayerNormalization layers; its lesion switch, block outputs, initialisation, training and bad arguments."""

import math

import keras
import numpy as np
import pytest
from keras import layers, ops

from kerasdl import precision, runtime
from kerasdl.stacks import DenseStack

WIDTH, DEPTH, BATCH = 6, 5, 4
VARIANTS = [
    (residual, order, normalize)
    for residual in (True, False)
    for order in ("pre", "post")
    for normalize in (True, False)
]


def numpy_norm(h, gamma, beta, epsilon=1e-3):
    centred = h - h.mean(axis=-1, keepdims=True)
    return centred / np.sqrt(centred.var(axis=-1, keepdims=True) + epsilon) * gamma + beta


def numpy_stack(x, weights, residual, order, normalize, keep=None):
    """Return what DenseStack should compute, block after block, in float64 NumPy."""
    kernel, bias = weights[0].astype(np.float64), weights[1].astype(np.float64)
    gamma, beta = (weights[2], weights[3]) if normalize else (None, None)
    h = x.astype(np.float64)
    for k in range(len(kernel)):
        if keep is not None and keep[k] == 0:
            continue
        norm = (lambda v, k=k: numpy_norm(v, gamma[k], beta[k])) if normalize else (lambda v: v)
        if order == "pre":
            branch = np.maximum(norm(h), 0) @ kernel[k] + bias[k]
            h = h + branch if residual else branch
        else:
            branch = norm(h @ kernel[k] + bias[k])
            h = np.maximum(h + branch if residual else branch, 0)
    return h


def random_stack(residual=True, order="pre", normalize=True, depth=DEPTH, seed=0):
    """Return a built DenseStack whose every weight (biases, gamma, beta too) is random, and its weights."""
    stack = DenseStack(depth, residual=residual, order=order, normalize=normalize)
    stack.build((None, WIDTH))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(scale=0.5, size=w.shape).astype("float32") for w in stack.trainable_weights]
    if normalize:
        weights[2] = (1 + 0.3 * rng.normal(size=weights[2].shape)).astype("float32")  # gamma near 1
    for variable, value in zip(stack.trainable_weights, weights):
        variable.assign(value)
    return stack, weights


def inputs(seed=1):
    return np.random.default_rng(seed).normal(size=(BATCH, WIDTH)).astype("float32")  # (batch, width)


@pytest.mark.parametrize("residual, order, normalize", VARIANTS)
def test_each_variant_computes_what_the_numpy_version_does(residual, order, normalize):
    stack, weights = random_stack(residual, order, normalize)
    x = inputs()
    with precision.exact_matmul():
        got = ops.convert_to_numpy(stack(x))
    np.testing.assert_allclose(got, numpy_stack(x, weights, residual, order, normalize), rtol=1e-4, atol=1e-5)


def test_the_plain_and_residual_versions_differ_only_by_the_shortcut():
    plain, weights = random_stack(residual=False)
    residual, _ = random_stack(residual=True)
    x = inputs()
    one_block = [w[:1] for w in weights]
    plain_one, residual_one = DenseStack(1, residual=False), DenseStack(1)
    for stack in (plain_one, residual_one):
        stack.build((None, WIDTH))
        for variable, value in zip(stack.trainable_weights, one_block):
            variable.assign(value)
    with precision.exact_matmul():
        difference = ops.convert_to_numpy(residual_one(x)) - ops.convert_to_numpy(plain_one(x))
    np.testing.assert_allclose(difference, x, atol=1e-5)  # h + branch - branch = h
    assert not np.allclose(ops.convert_to_numpy(plain(x)), ops.convert_to_numpy(residual(x)), atol=1e-3)


@pytest.mark.parametrize("order", ["pre", "post"])
def test_it_equals_a_functional_stack_of_dense_and_layer_normalization_layers(order):
    stack, weights = random_stack(order=order)
    kernel, bias, gamma, beta = weights
    x_in = keras.Input((WIDTH,))
    h = x_in
    for k in range(DEPTH):
        norm = layers.LayerNormalization(epsilon=1e-3)
        dense = layers.Dense(WIDTH)
        if order == "pre":
            branch = dense(layers.ReLU()(norm(h)))
            h = layers.add([h, branch])
        else:
            branch = norm(dense(h))
            h = layers.ReLU()(layers.add([h, branch]))
        dense.set_weights([kernel[k], bias[k]])
        norm.set_weights([gamma[k], beta[k]])
    functional = keras.Model(x_in, h)
    x = inputs()
    with precision.exact_matmul():
        np.testing.assert_allclose(
            ops.convert_to_numpy(stack(x)), ops.convert_to_numpy(functional(x)), rtol=1e-4, atol=1e-5
        )


@pytest.mark.parametrize("residual, order, normalize", VARIANTS)
def test_keep_zero_removes_exactly_that_block(residual, order, normalize):
    stack, weights = random_stack(residual, order, normalize)
    x = inputs()
    keep = np.ones(DEPTH, "float32")
    keep[2] = 0
    stack.keep.assign(keep)
    with precision.exact_matmul():
        got = ops.convert_to_numpy(stack(x))
    np.testing.assert_allclose(got, numpy_stack(x, weights, residual, order, normalize, keep), rtol=1e-4, atol=1e-5)
    assert not np.allclose(got, numpy_stack(x, weights, residual, order, normalize), atol=1e-3)
    stack.keep.assign(np.zeros(DEPTH, "float32"))
    np.testing.assert_allclose(ops.convert_to_numpy(stack(x)), x, atol=1e-6)  # every block removed: identity


def test_block_outputs_hold_every_block_and_end_with_the_output():
    stack, weights = random_stack()
    x = inputs()
    with precision.exact_matmul():
        every = ops.convert_to_numpy(stack.block_outputs(x))  # (depth, batch, width)
        last = ops.convert_to_numpy(stack(x))
    assert every.shape == (DEPTH, BATCH, WIDTH)
    np.testing.assert_allclose(every[-1], last, atol=1e-6)
    first_block = numpy_stack(x, [w[:1] for w in weights], True, "pre", True)
    np.testing.assert_allclose(every[0], first_block, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="call the layer"):
        DenseStack(3).block_outputs(x)


def test_kernels_start_like_dense_layers_glorot_uniform_block_by_block():
    runtime.set_seed(0)
    width, depth = 64, 32
    stack = DenseStack(depth)
    stack.build((None, width))
    kernel = ops.convert_to_numpy(stack.kernel)  # (depth, width, width)
    limit = math.sqrt(6 / (width + width))
    assert kernel.shape == (depth, width, width)
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    per_block = kernel.reshape(depth, -1).std(axis=1)
    np.testing.assert_allclose(per_block, limit / math.sqrt(3), rtol=0.05)  # uniform(-a, a) has std a / sqrt(3)
    assert np.all(ops.convert_to_numpy(stack.bias) == 0) and np.all(ops.convert_to_numpy(stack.keep) == 1)
    assert [w.name for w in stack.trainable_weights] == ["kernel", "bias", "gamma", "beta"]
    assert [w.name for w in stack.non_trainable_weights] == ["keep"]
    without_norm = DenseStack(depth, normalize=False)
    without_norm.build((None, width))
    assert [w.name for w in without_norm.trainable_weights] == ["kernel", "bias"]


def test_it_trains_in_a_functional_model_and_survives_a_keras_file(tmp_path):
    runtime.set_seed(0)
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model_in = keras.Input((8,))
    hidden = DenseStack(6, order="post", name="stack")(layers.Dense(16)(model_in))
    model = keras.Model(model_in, layers.Dense(2)(hidden))
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = ops.convert_to_numpy(model.get_layer("stack").kernel).copy()
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert not np.allclose(ops.convert_to_numpy(model.get_layer("stack").kernel), before)
    model.save(tmp_path / "stack.keras")
    loaded = keras.saving.load_model(tmp_path / "stack.keras")
    assert loaded.get_layer("stack").get_config()["order"] == "post"
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), ops.convert_to_numpy(model(x)), atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"depth": 0}, "at least 1 block"),
        ({"depth": 2.5}, "whole number of blocks"),
        ({"depth": True}, "whole number of blocks"),
        ({"depth": 3, "order": "middle"}, "order must be 'pre'"),
    ],
)
def test_bad_arguments_say_what_to_pass(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenseStack(**kwargs)


def test_an_unknown_width_is_refused():
    with pytest.raises(ValueError, match="known last axis"):
        DenseStack(2).build((None, None))

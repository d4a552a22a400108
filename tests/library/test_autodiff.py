"""Tests for kerasdl.autodiff against central-difference gradients computed in NumPy float64."""

import keras
import numpy as np
import pytest
from keras import ops

from kerasdl import precision
from kerasdl.autodiff import value_and_grad

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 3))
W = RNG.normal(size=(3, 2)) * 0.5
B = RNG.normal(size=(2,)) * 0.1
# Constants captured by a function are float32: value_and_grad converts only its arguments.
X32, W32, B32 = X.astype("float32"), W.astype("float32"), B.astype("float32")


@pytest.fixture(autouse=True)
def full_float32_products():
    """Run every test with TF32 off: on an Ampere or newer GPU it is ~1e-3 off the float64 reference."""
    with precision.exact_matmul():
        yield


def numpy_loss(x, w, b):
    return np.sum(np.tanh(x @ w + b) ** 2)


def keras_loss(x, w, b):
    return ops.sum(ops.tanh(ops.add(ops.matmul(x, w), b)) ** 2)


def numerical_gradient(function, args, argnum, epsilon=1e-6):
    """Return d function(*args) / d args[argnum] by central differences, in float64."""
    args = [np.array(arg, dtype=np.float64) for arg in args]
    gradient = np.zeros_like(args[argnum])
    for index in np.ndindex(*args[argnum].shape):
        original = args[argnum][index]
        args[argnum][index] = original + epsilon
        above = function(*args)
        args[argnum][index] = original - epsilon
        below = function(*args)
        args[argnum][index] = original
        gradient[index] = (above - below) / (2 * epsilon)
    return gradient


def assert_close(tensor, expected):
    actual = ops.convert_to_numpy(tensor)
    assert actual.shape == np.shape(expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5)


def test_numerical_check_can_fail():
    # The reference must tell a right gradient from a wrong one.
    _, grad_w = value_and_grad(lambda w: keras_loss(X32, w, B32))(W)
    wrong = numerical_gradient(lambda x, w, b: numpy_loss(x, 1.1 * w, b), [X, W, B], 1)
    with pytest.raises(AssertionError):
        assert_close(grad_w, wrong)


def test_single_argument_matches_numerical_gradient():
    value, grad_w = value_and_grad(lambda w: keras_loss(X32, w, B32))(W)
    assert_close(value, numpy_loss(X, W, B))
    assert_close(grad_w, numerical_gradient(numpy_loss, [X, W, B], 1))


def test_int_argnum_returns_one_gradient():
    _, grad_b = value_and_grad(keras_loss, argnums=2)(X, W, B)
    assert not isinstance(grad_b, tuple)
    assert_close(grad_b, numerical_gradient(numpy_loss, [X, W, B], 2))


def test_several_arguments_match_numerical_gradients():
    value, grads = value_and_grad(keras_loss, argnums=(0, 1, 2))(X, W, B)
    assert isinstance(grads, tuple) and len(grads) == 3
    assert_close(value, numpy_loss(X, W, B))
    for argnum, grad in enumerate(grads):
        assert_close(grad, numerical_gradient(numpy_loss, [X, W, B], argnum))
    _, (grad_b, grad_x) = value_and_grad(keras_loss, argnums=(2, 0))(X, W, B)
    assert_close(grad_b, numerical_gradient(numpy_loss, [X, W, B], 2))
    assert_close(grad_x, numerical_gradient(numpy_loss, [X, W, B], 0))


def test_variable_argument():
    variable = keras.Variable(W.astype("float32"))
    value, grad = value_and_grad(keras_loss, argnums=1)(X, variable, B)
    assert_close(value, numpy_loss(X, W, B))
    assert_close(grad, numerical_gradient(numpy_loss, [X, W, B], 1))
    np.testing.assert_array_equal(ops.convert_to_numpy(variable), W.astype("float32"))


def test_list_and_tuple_of_tensors_keep_their_structure():
    def loss(params, x):
        w, b = params
        return keras_loss(x, w, b)

    params = [ops.convert_to_tensor(W.astype("float32")), keras.Variable(B.astype("float32"))]
    value, grads = value_and_grad(loss)(params, X)
    assert isinstance(grads, list) and len(grads) == 2
    assert_close(value, numpy_loss(X, W, B))
    assert_close(grads[0], numerical_gradient(numpy_loss, [X, W, B], 1))
    assert_close(grads[1], numerical_gradient(numpy_loss, [X, W, B], 2))
    _, grads = value_and_grad(loss)((W, B), X)
    assert isinstance(grads, tuple) and len(grads) == 2


def test_gradient_through_a_keras_layer():
    dense = keras.layers.Dense(2, activation="tanh")
    dense.build((None, 3))
    dense.set_weights([W.astype("float32"), B.astype("float32")])
    _, grad_x = value_and_grad(lambda x: ops.sum(dense(x) ** 2))(X)
    assert_close(grad_x, numerical_gradient(numpy_loss, [X, W, B], 0))


def test_gather_gradient_is_dense():
    # TensorFlow returns IndexedSlices for a gather; the caller gets a dense tensor.
    embedding = np.ones((5, 2), dtype="float32")
    ids = np.array([0, 3, 3, 1])
    _, grad = value_and_grad(lambda e: ops.sum(ops.take(e, ids, axis=0)))(embedding)
    counts = np.bincount(ids, minlength=5)[:, None] * np.ones((1, 2))
    assert_close(grad, counts)


def test_unused_argument_gets_zero_gradient():
    _, (grad_x, grad_unused) = value_and_grad(lambda x, unused: ops.sum(x**2), argnums=(0, 1))(
        np.array([1.0, -2.0]), np.ones(3)
    )
    assert_close(grad_x, [2.0, -4.0])
    assert_close(grad_unused, np.zeros(3))


def test_float64_inputs_become_floatx():
    floatx = keras.config.floatx()
    seen = {}

    def cube_sum(x, other, ids):
        seen.update(other=other.dtype, ids=ids.dtype)
        return ops.sum(x**3)

    value, grad = value_and_grad(cube_sum)(np.array([1.0, 2.0]), np.ones(2), np.arange(2))
    assert keras.backend.standardize_dtype(seen["other"]) == floatx  # NumPy float64 argument
    assert keras.backend.standardize_dtype(seen["ids"]) == "int64"  # integers are left alone
    assert keras.backend.standardize_dtype(grad.dtype) == floatx
    assert keras.backend.standardize_dtype(value.dtype) == floatx
    assert_close(grad, [3.0, 12.0])


def test_python_number_argument():
    value, grad = value_and_grad(lambda x: x * x * x)(2.0)
    assert_close(value, 8.0)
    assert_close(grad, 12.0)


def test_non_scalar_output_says_how_to_reduce():
    with pytest.raises(ValueError, match=r"shape \(4, 2\).*keras\.ops\.sum or keras\.ops\.mean"):
        value_and_grad(lambda w: ops.tanh(ops.matmul(X32, w)))(W)
    with pytest.raises(ValueError, match="floating-point scalar"):
        value_and_grad(lambda w: ops.sum(ops.cast(w, "int32")))(W)


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argument 3.*called with 3 argument"):
        value_and_grad(keras_loss, argnums=3)(X, W, B)
    with pytest.raises(ValueError, match="argument 1.*called with 1 argument"):
        value_and_grad(lambda w: ops.sum(w), argnums=(0, 1))(W)


@pytest.mark.parametrize("argnums", [-1, "0", 1.0, True, (), (0, 0), (0, None)])
def test_bad_argnums(argnums):
    with pytest.raises(ValueError, match="argnums"):
        value_and_grad(keras_loss, argnums=argnums)


def test_integer_argument_is_rejected():
    with pytest.raises(ValueError, match="argument 0 has dtype int64.*float32"):
        value_and_grad(lambda x: ops.sum(ops.cast(x, "float32")))(np.arange(3, dtype="int64"))


def test_not_a_function():
    with pytest.raises(ValueError, match="needs a function"):
        value_and_grad(3.0)

"""kerasdl.scratch against two references: numerical gradients and Keras's own layers."""

import re
import subprocess
import sys

import numpy as np
import pytest
from keras import layers, ops

from kerasdl import precision, scratch
from kerasdl.scratch import numerical_gradient, rel_error

# (N, T, D, H, seed): small random problems, checked in float64.
SIZES = [(3, 5, 4, 5, 0), (4, 5, 6, 5, 1)]
TOLERANCE = 1e-7


def make(N, T, D, H, seed, gates=1):
    """Return random float64 inputs, weights and upstream gradients for a cell with `gates` blocks."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(N, T, D)),  # (N, T, D)
        "h0": rng.normal(size=(N, H)),  # (N, H)
        "c0": rng.normal(size=(N, H)),  # (N, H)
        "Wx": rng.normal(scale=D**-0.5, size=(D, gates * H)),  # (D, gates * H)
        "Wh": rng.normal(scale=H**-0.5, size=(H, gates * H)),  # (H, gates * H)
        "b": rng.normal(size=gates * H),  # (gates * H,)
        "dh": rng.normal(size=(N, T, H)),  # (N, T, H)
        "dc": rng.normal(size=(N, H)),  # (N, H)
    }


def errors(outputs, upstreams, wrt, analytic):
    """Return {name: rel_error} of analytic gradients against numerical ones of sum(output * upstream)."""
    found = {}
    for (name, array), grad in zip(wrt.items(), analytic):
        numerical = sum(
            numerical_gradient(lambda _, k=k: outputs()[k], array, upstream) for k, upstream in enumerate(upstreams)
        )
        found[name] = rel_error(numerical, grad)
    return found


def assert_small(found, tolerance=TOLERANCE, **looser):
    too_big = {name: e for name, e in found.items() if e > looser.get(name, tolerance)}
    assert not too_big, f"relative errors above {tolerance:g}: {too_big} (all: {found})"


# ------------------------------------------------------ backward passes vs numerical gradients


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_rnn_step_backward_matches_numerical_gradient(N, T, D, H, seed):
    a = make(N, T, D, H, seed)
    x = a["x"][:, 0, :].copy()  # (N, D)
    dnext_h = a["dh"][:, 0, :]  # (N, H)
    wrt = {"dx": x, "dprev_h": a["h0"], "dWx": a["Wx"], "dWh": a["Wh"], "db": a["b"]}
    _, cache = scratch.rnn_step_forward(x, a["h0"], a["Wx"], a["Wh"], a["b"])
    analytic = scratch.rnn_step_backward(dnext_h, cache)

    def outputs():
        return [scratch.rnn_step_forward(x, a["h0"], a["Wx"], a["Wh"], a["b"])[0]]

    assert_small(errors(outputs, [dnext_h], wrt, analytic))


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_rnn_backward_matches_numerical_gradient(N, T, D, H, seed):
    a = make(N, T, D, H, seed)
    wrt = {"dx": a["x"], "dh0": a["h0"], "dWx": a["Wx"], "dWh": a["Wh"], "db": a["b"]}
    _, cache = scratch.rnn_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    analytic = scratch.rnn_backward(a["dh"], cache)

    def outputs():
        return [scratch.rnn_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])[0]]

    assert_small(errors(outputs, [a["dh"]], wrt, analytic))


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_lstm_step_backward_matches_numerical_gradient(N, T, D, H, seed):
    a = make(N, T, D, H, seed, gates=4)
    x = a["x"][:, 0, :].copy()  # (N, D)
    dnext_h, dnext_c = a["dh"][:, 0, :], a["dc"]  # (N, H) each
    wrt = {"dx": x, "dprev_h": a["h0"], "dprev_c": a["c0"], "dWx": a["Wx"], "dWh": a["Wh"], "db": a["b"]}
    _, _, cache = scratch.lstm_step_forward(x, a["h0"], a["c0"], a["Wx"], a["Wh"], a["b"])
    analytic = scratch.lstm_step_backward(dnext_h, dnext_c, cache)

    def outputs():
        next_h, next_c, _ = scratch.lstm_step_forward(x, a["h0"], a["c0"], a["Wx"], a["Wh"], a["b"])
        return [next_h, next_c]

    assert_small(errors(outputs, [dnext_h, dnext_c], wrt, analytic), dWh=1e-6)


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_lstm_backward_matches_numerical_gradient(N, T, D, H, seed):
    a = make(N, T, D, H, seed, gates=4)
    wrt = {"dx": a["x"], "dh0": a["h0"], "dWx": a["Wx"], "dWh": a["Wh"], "db": a["b"]}
    _, cache = scratch.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    analytic = scratch.lstm_backward(a["dh"], cache)

    def outputs():
        return [scratch.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])[0]]

    assert_small(errors(outputs, [a["dh"]], wrt, analytic), dWh=1e-6)


# ------------------------------------------------- the same check rejects wrong backward passes


def test_rnn_step_backward_without_the_tanh_derivative_fails_the_check():
    a = make(3, 5, 4, 5, seed=0)
    x, h0, Wx, Wh, b = a["x"][:, 0, :].copy(), a["h0"], a["Wx"], a["Wh"], a["b"]
    dnext_h = a["dh"][:, 0, :]  # (N, H)
    da = dnext_h  # wrong: should be dnext_h * (1 - next_h**2)
    wrong = [da @ Wx.T, da @ Wh.T, x.T @ da, h0.T @ da, da.sum(axis=0)]
    wrt = {"dx": x, "dprev_h": h0, "dWx": Wx, "dWh": Wh, "db": b}
    found = errors(lambda: [scratch.rnn_step_forward(x, h0, Wx, Wh, b)[0]], [dnext_h], wrt, wrong)
    assert min(found.values()) > 1e-2, found


def test_rnn_backward_that_drops_dprev_h_fails_the_check_and_the_fixed_loop_passes():
    a = make(3, 5, 4, 5, seed=0)
    x, h0, Wx, Wh, b, dh = a["x"], a["h0"], a["Wx"], a["Wh"], a["b"], a["dh"]
    caches, prev_h = [], h0
    for t in range(x.shape[1]):
        prev_h, cache = scratch.rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        caches.append(cache)

    def backward(carry):
        dx, dprev_h, dWx, dWh, db = np.zeros_like(x), np.zeros_like(h0), 0, 0, 0
        for t in reversed(range(x.shape[1])):
            upstream = dh[:, t, :] + (dprev_h if carry else 0)
            dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = scratch.rnn_step_backward(upstream, caches[t])
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        return dx, dprev_h, dWx, dWh, db

    wrt = {"dx": x, "dh0": h0, "dWx": Wx, "dWh": Wh, "db": b}
    outputs = lambda: [scratch.rnn_forward(x, h0, Wx, Wh, b)[0]]  # noqa: E731
    assert max(errors(outputs, [dh], wrt, backward(carry=False)).values()) > 1e-2
    assert_small(errors(outputs, [dh], wrt, backward(carry=True)))


def test_lstm_backward_that_drops_the_cell_gradient_fails_the_check():
    a = make(3, 5, 4, 5, seed=0, gates=4)
    x, h0, Wx, Wh, b, dh = a["x"], a["h0"], a["Wx"], a["Wh"], a["b"], a["dh"]
    caches, prev_h, prev_c = [], h0, np.zeros_like(h0)
    for t in range(x.shape[1]):
        prev_h, prev_c, cache = scratch.lstm_step_forward(x[:, t, :], prev_h, prev_c, Wx, Wh, b)
        caches.append(cache)
    dx, dprev_h, dWx = np.zeros_like(x), np.zeros_like(h0), 0
    for t in reversed(range(x.shape[1])):
        # wrong: dnext_c should be the dprev_c of step t + 1, not zero
        dx[:, t, :], dprev_h, _, dWx_t, _, _ = scratch.lstm_step_backward(
            dh[:, t, :] + dprev_h, np.zeros_like(h0), caches[t]
        )
        dWx = dWx + dWx_t
    found = errors(lambda: [scratch.lstm_forward(x, h0, Wx, Wh, b)[0]], [dh], {"dx": x, "dWx": Wx}, [dx, dWx])
    assert min(found.values()) > 1e-2, found


def test_a_gradient_off_by_one_part_in_100000_fails_the_threshold():
    a = make(3, 5, 4, 5, seed=0, gates=4)
    _, cache = scratch.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    dWh = scratch.lstm_backward(a["dh"], cache)[3]
    numerical = numerical_gradient(
        lambda _: scratch.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])[0], a["Wh"], a["dh"]
    )
    assert rel_error(numerical, dWh) < 1e-6
    assert rel_error(numerical, dWh * (1 + 1e-5)) > 1e-6  # about 5e-6: the check sees it


# ------------------------------------------------------------ numerical_gradient and rel_error


def test_numerical_gradient_of_a_known_function_and_x_is_restored():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(2, 3))
    x = rng.normal(size=(3, 4))
    df = rng.normal(size=(2, 4))
    before = x.copy()
    numerical = numerical_gradient(lambda x: A @ x**3, x, df)  # f(x) (2, 4)
    exact = 3 * x**2 * (A.T @ df)  # d sum(df * A x^3) / dx, (3, 4)
    assert rel_error(numerical, exact) < 1e-8
    assert rel_error(numerical, 2 * x**2 * (A.T @ df)) > 0.1  # a wrong gradient is rejected
    assert np.array_equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.arange(3.0)

    def f(x):
        if x[1] != 1.0:
            raise RuntimeError("boom")
        return x

    with pytest.raises(RuntimeError):
        numerical_gradient(f, x, np.ones(3))
    assert np.array_equal(x, np.arange(3.0))


def test_numerical_gradient_of_a_function_that_returns_x_itself():
    x = np.array([1.0, -2.0, 3.0])
    assert rel_error(numerical_gradient(lambda x: x, x, np.array([1.0, 2.0, 3.0])), [1.0, 2.0, 3.0]) < 1e-9


def test_rel_error_basics():
    assert rel_error(np.ones((2, 3)), np.ones((2, 3))) == 0.0
    assert rel_error(np.zeros(4), np.zeros(4)) == 0.0  # the 1e-8 floor avoids 0 / 0
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error([1.0], [-1.0]) == 1.0  # opposite signs: the largest error there is
    assert rel_error([1e-9], [0.0]) == pytest.approx(0.1)  # below 1e-8, the floor takes over
    assert isinstance(rel_error(np.float32(1), np.float32(2)), float)


# ----------------------------------------------------------------- forward passes vs Keras


# Keras layers run in float32 (keras.config.floatx()), so scratch's float64 output is compared
# at float32 tolerance. (dtype="float64" layers are not float64 on every backend: JAX truncates
# to float32 unless x64 is enabled.) On Ampere and newer GPUs float32 products default to TF32,
# which moved the LSTM by up to 1.9e-4 on an H200: the layer runs inside exact_matmul().
def keras_output(layer, a, weights):
    """Return layer's output (N, T, H) on a["x"] from a["h0"] (and c0 = 0) with the given weights."""
    N, T, D = a["x"].shape
    layer.build((N, T, D))
    layer.set_weights([w.astype("float32") for w in weights])
    initial_state = [a["h0"].astype("float32")]  # (N, H)
    if isinstance(layer, layers.LSTM):
        initial_state.append(np.zeros_like(initial_state[0]))  # lstm_forward starts from c0 = 0
    with precision.exact_matmul():
        return ops.convert_to_numpy(layer(a["x"].astype("float32"), initial_state=initial_state))


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_rnn_forward_matches_keras_simple_rnn(N, T, D, H, seed):
    a = make(N, T, D, H, seed)
    h, _ = scratch.rnn_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])  # (N, T, H)
    expected = keras_output(layers.SimpleRNN(H, return_sequences=True), a, [a["Wx"], a["Wh"], a["b"]])
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_lstm_forward_matches_keras_lstm_with_reordered_weights(N, T, D, H, seed):
    a = make(N, T, D, H, seed, gates=4)
    h, _ = scratch.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])  # (N, T, H)
    weights = scratch.keras_lstm_weights(a["Wx"], a["Wh"], a["b"])
    expected = keras_output(layers.LSTM(H, return_sequences=True), a, weights)
    np.testing.assert_allclose(h, expected, rtol=1e-5, atol=1e-5)


def test_keras_comparison_catches_unordered_lstm_weights_and_a_transposed_wh():
    a = make(3, 5, 4, 5, seed=0, gates=4)
    h, _ = scratch.lstm_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    unordered = keras_output(layers.LSTM(5, return_sequences=True), a, [a["Wx"], a["Wh"], a["b"]])
    assert np.max(np.abs(h - unordered)) > 1e-2

    a = make(3, 5, 4, 5, seed=0)
    h, _ = scratch.rnn_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    transposed = keras_output(layers.SimpleRNN(5, return_sequences=True), a, [a["Wx"], a["Wh"].T, a["b"]])
    assert np.max(np.abs(h - transposed)) > 1e-2


def test_keras_lstm_weights_swaps_the_last_two_gate_blocks_and_scratch_lstm_weights_undoes_it():
    a = make(3, 5, 4, 5, seed=0, gates=4)
    H = 5
    kernel, recurrent_kernel, bias = scratch.keras_lstm_weights(a["Wx"], a["Wh"], a["b"])
    for ours, theirs in [(a["Wx"], kernel), (a["Wh"], recurrent_kernel), (a["b"], bias)]:
        assert theirs.shape == ours.shape
        np.testing.assert_array_equal(theirs[..., : 2 * H], ours[..., : 2 * H])  # i, f
        np.testing.assert_array_equal(theirs[..., 2 * H : 3 * H], ours[..., 3 * H :])  # Keras's c is g
        np.testing.assert_array_equal(theirs[..., 3 * H :], ours[..., 2 * H : 3 * H])  # o
    back = scratch.scratch_lstm_weights(kernel, recurrent_kernel, bias)
    for ours, returned in zip([a["Wx"], a["Wh"], a["b"]], back):
        np.testing.assert_array_equal(returned, ours)


# ---------------------------------------------------------------------------- bad shapes

GOOD = make(3, 5, 4, 5, seed=0)
GOOD4 = make(3, 5, 4, 5, seed=0, gates=4)
x2, h0, c0 = GOOD["x"][:, 0, :], GOOD["h0"], GOOD["c0"]  # (3, 4), (3, 5), (3, 5)
_, RNN_CACHE = scratch.rnn_forward(GOOD["x"], h0, GOOD["Wx"], GOOD["Wh"], GOOD["b"])
_, LSTM_CACHE = scratch.lstm_forward(GOOD4["x"], h0, GOOD4["Wx"], GOOD4["Wh"], GOOD4["b"])
_, _, LSTM_STEP_CACHE = scratch.lstm_step_forward(x2, h0, c0, GOOD4["Wx"], GOOD4["Wh"], GOOD4["b"])

BAD = [
    (
        lambda: scratch.rnn_step_forward(x2, h0, GOOD["Wx"], np.zeros((5, 4)), GOOD["b"]),
        "Wh must have shape (H, H) = (5, 5), got (5, 4)",
    ),
    (
        lambda: scratch.rnn_step_forward(GOOD["x"], h0, GOOD["Wx"], GOOD["Wh"], GOOD["b"]),
        "x must have shape (N, D), got (3, 5, 4)",
    ),
    (
        lambda: scratch.rnn_step_forward(x2, np.zeros((4, 5)), GOOD["Wx"], GOOD["Wh"], GOOD["b"]),
        "prev_h must have shape (N, H) = (3, 5), got (4, 5)",
    ),
    (
        lambda: scratch.rnn_forward(x2, h0, GOOD["Wx"], GOOD["Wh"], GOOD["b"]),
        "x must have shape (N, T, D), got (3, 4)",
    ),
    (
        lambda: scratch.rnn_forward(GOOD["x"], h0, GOOD["Wx"], GOOD["Wh"], np.zeros(4)),
        "b must have shape (H,) = (5,), got (4,)",
    ),
    (
        lambda: scratch.rnn_forward(GOOD["x"], h0, np.zeros((5, 5)), GOOD["Wh"], GOOD["b"]),
        "Wx must have shape (D, H) = (4, 5), got (5, 5)",
    ),
    (
        lambda: scratch.lstm_step_forward(x2, h0, c0, GOOD["Wx"], GOOD4["Wh"], GOOD4["b"]),
        "Wx must have shape (D, 4H) = (4, 20), got (4, 5)",
    ),
    (
        lambda: scratch.lstm_step_forward(x2, h0, np.zeros((3, 4)), GOOD4["Wx"], GOOD4["Wh"], GOOD4["b"]),
        "prev_c must have shape (N, H) = (3, 5), got (3, 4)",
    ),
    (
        lambda: scratch.lstm_forward(GOOD4["x"], h0, GOOD4["Wx"], GOOD["Wh"], GOOD4["b"]),
        "Wh must have shape (H, 4H) = (5, 20), got (5, 5)",
    ),
    (
        lambda: scratch.rnn_backward(np.zeros((3, 4, 5)), RNN_CACHE),
        "dh must have shape (N, T, H) = (3, 5, 5), got (3, 4, 5)",
    ),
    (
        lambda: scratch.lstm_backward(np.zeros((3, 5)), LSTM_CACHE),
        "dh must have shape (N, T, H) = (3, 5, 5), got (3, 5)",
    ),
    (
        lambda: scratch.lstm_step_backward(h0, np.zeros((5, 3)), LSTM_STEP_CACHE),
        "dnext_c must have shape (N, H) = (3, 5), got (5, 3)",
    ),
    (
        lambda: scratch.rnn_step_backward(h0, RNN_CACHE),
        "cache must be the cache that rnn_step_forward returned",
    ),
    (
        lambda: scratch.rnn_backward(GOOD["dh"], LSTM_CACHE),
        "cache must be the cache that rnn_forward returned",
    ),
    (
        lambda: scratch.keras_lstm_weights(GOOD4["Wx"], GOOD4["Wh"], np.zeros(18)),
        "b must have shape (4H,), got (18,)",
    ),
    (
        lambda: scratch.scratch_lstm_weights(GOOD4["Wx"], GOOD4["Wh"][:4], GOOD4["b"]),
        "recurrent_kernel must have shape (H, 4H) = (5, 20), got (4, 20)",
    ),
    (
        lambda: scratch.rnn_step_forward(x2.astype(str), h0, GOOD["Wx"], GOOD["Wh"], GOOD["b"]),
        "x must be a real number array",
    ),
    (lambda: rel_error(np.zeros(3), np.zeros((3, 1))), "y must have the shape of x = (3,), got (3, 1)"),
    (
        lambda: numerical_gradient(lambda x: 2 * x, np.zeros(3), np.ones(4)),
        "df must have the shape of f(x) = (3,), got (4,)",
    ),
    (lambda: numerical_gradient(lambda x: x, [1.0, 2.0], np.ones(2)), "x must be a float NumPy array"),
    (lambda: numerical_gradient(lambda x: x, np.arange(3), np.ones(3)), "x must be a float NumPy array"),
    (lambda: numerical_gradient(lambda x: x, np.zeros(3), np.ones(3), h=0), "h must be a positive step size"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[f"{m.split()[0]}-{i}" for i, (_, m) in enumerate(BAD)])
def test_bad_arguments_raise_one_line_naming_the_argument_and_shape(call, message):
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        call()
    assert "\n" not in str(raised.value)


def test_integer_arrays_are_accepted_as_float64():
    x, h0 = np.ones((2, 3, 4), dtype=int), np.zeros((2, 5), dtype=int)
    h, _ = scratch.rnn_forward(x, h0, np.zeros((4, 5)), np.zeros((5, 5)), np.zeros(5))
    assert h.dtype == np.float64 and h.shape == (2, 3, 5)


def test_import_kerasdl_scratch_loads_no_framework():
    code = (
        "import sys, kerasdl.scratch; "
        "print(sorted({'keras', 'jax', 'torch', 'tensorflow'} & set(m.split('.')[0] for m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

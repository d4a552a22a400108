"""kerasdl.scratch's GRU against numerical gradients (float64) and keras.layers.GRU / LSTM (float32).

The Keras comparisons run inside precision.exact_matmul(), so that on a GPU they are not
blurred by TF32 products; on a CPU the context changes nothing.
"""

import re

import numpy as np
import pytest
from keras import layers, ops

from kerasdl import precision, scratch
from kerasdl.scratch import numerical_gradient, rel_error

# (N, T, D, H, seed): small random problems, checked in float64.
SIZES = [(3, 5, 4, 5, 0), (4, 6, 3, 7, 1), (2, 4, 6, 3, 2)]
GRADIENT_TOLERANCE = 1e-7
KERAS_TOLERANCE = 1e-5


def make(N, T, D, H, seed):
    """Return random float64 inputs, GRU weights (gates r, z, g; bias (2, 3H)) and upstream gradients."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(N, T, D)),  # (N, T, D)
        "h0": rng.normal(size=(N, H)),  # (N, H)
        "Wx": rng.normal(scale=D**-0.5, size=(D, 3 * H)),  # (D, 3H)
        "Wh": rng.normal(scale=H**-0.5, size=(H, 3 * H)),  # (H, 3H)
        "b": rng.normal(size=(2, 3 * H)),  # (2, 3H): input-side and recurrent-side biases
        "dh": rng.normal(size=(N, T, H)),  # (N, T, H)
    }


def accurate_gradient(f, x, df, h=1e-3):
    """Return the numerical gradient of sum(f(x) * df) with an error of order h**4 (Richardson extrapolation).

    A centred difference errs by about h**2 (truncation) plus 1e-16 / h (rounding): with h = 1e-5,
    entries of a gradient near 1e-5 are off by up to ~5e-7 relative, above the 1e-7 bar, whatever the
    backward pass. Combining steps h and 2h cancels the h**2 term, so a larger h (less rounding) works:
    on 24 random GRU problems the worst relative error of a correct backward pass was 1.4e-8.
    """
    return (4 * numerical_gradient(f, x, df, h=h) - numerical_gradient(f, x, df, h=2 * h)) / 3


def errors(output, upstream, wrt, analytic):
    """Return {name: rel_error} of analytic gradients against numerical ones of sum(output() * upstream)."""
    return {
        name: rel_error(accurate_gradient(lambda _: output(), array, upstream), grad)
        for (name, array), grad in zip(wrt.items(), analytic)
    }


def assert_small(found, tolerance=GRADIENT_TOLERANCE):
    too_big = {name: e for name, e in found.items() if e > tolerance}
    assert not too_big, f"relative errors above {tolerance:g}: {too_big} (all: {found})"


# ------------------------------------------------------ backward passes vs numerical gradients


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_gru_step_backward_matches_numerical_gradient(N, T, D, H, seed):
    a = make(N, T, D, H, seed)
    x, dnext_h = a["x"][:, 0, :].copy(), a["dh"][:, 0, :]  # (N, D), (N, H)
    wrt = {"dx": x, "dprev_h": a["h0"], "dWx": a["Wx"], "dWh": a["Wh"], "db": a["b"]}
    _, cache = scratch.gru_step_forward(x, a["h0"], a["Wx"], a["Wh"], a["b"])
    analytic = scratch.gru_step_backward(dnext_h, cache)
    assert [g.shape for g in analytic] == [v.shape for v in wrt.values()]

    def output():
        return scratch.gru_step_forward(x, a["h0"], a["Wx"], a["Wh"], a["b"])[0]

    assert_small(errors(output, dnext_h, wrt, analytic))


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_gru_backward_matches_numerical_gradient(N, T, D, H, seed):
    a = make(N, T, D, H, seed)
    wrt = {"dx": a["x"], "dh0": a["h0"], "dWx": a["Wx"], "dWh": a["Wh"], "db": a["b"]}
    _, cache = scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    analytic = scratch.gru_backward(a["dh"], cache)

    def output():
        return scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])[0]

    assert_small(errors(output, a["dh"], wrt, analytic))


def test_gru_forward_is_the_step_repeated_and_starts_from_h0():
    a = make(3, 5, 4, 5, seed=0)
    h, _ = scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])  # (N, T, H)
    prev_h = a["h0"]
    for t in range(5):
        prev_h, _ = scratch.gru_step_forward(a["x"][:, t, :], prev_h, a["Wx"], a["Wh"], a["b"])
        np.testing.assert_array_equal(h[:, t, :], prev_h)


def test_an_update_gate_near_one_copies_the_state_and_its_gradient():
    # z = sigmoid(large) ~ 1: h_t = h_{t-1}, and dL/dh_{t-1} = dL/dh_t (the GRU's gradient highway).
    a = make(3, 5, 4, 5, seed=0)
    b = a["b"].copy()
    b[0, 5:10] = 40.0  # the update gate's input-side bias
    h, cache = scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], b)
    np.testing.assert_allclose(h[:, -1, :], a["h0"], atol=1e-12)
    last_only = np.zeros_like(a["dh"])
    last_only[:, -1, :] = a["dh"][:, -1, :]
    dh0 = scratch.gru_backward(last_only, cache)[1]
    np.testing.assert_allclose(dh0, a["dh"][:, -1, :], atol=1e-10)


# ------------------------------------------------- the same check rejects wrong backward passes


def wrong_step_backward(dnext_h, cache, mistake):
    """Return a GRU step's gradients with one classic mistake."""
    x, prev_h, Wx, Wh, r, z, g, from_h_g = cache
    dg = dnext_h * (1.0 - z) * (1.0 - g**2)
    dr = dg * from_h_g * r * (1.0 - r)
    dz = dnext_h * (prev_h - g) * z * (1.0 - z)
    if mistake == "update gate sign":  # d/dz of z h + (1 - z) g is h - g, not g - h
        dz = -dz
    dfrom_x = np.concatenate([dr, dz, dg], axis=1)
    dfrom_h = np.concatenate([dr, dz, dg * (1.0 if mistake == "reset before" else r)], axis=1)
    direct = 0.0 if mistake == "no direct path" else dnext_h * z
    dprev_h = direct + dfrom_h @ Wh.T
    db = np.stack([dfrom_x.sum(axis=0), dfrom_h.sum(axis=0)])
    return dfrom_x @ Wx.T, dprev_h, x.T @ dfrom_x, prev_h.T @ dfrom_h, db


@pytest.mark.parametrize("mistake", ["update gate sign", "reset before", "no direct path"])
def test_the_gradient_check_rejects_a_wrong_gru_step_backward(mistake):
    a = make(3, 5, 4, 5, seed=0)
    x, dnext_h = a["x"][:, 0, :].copy(), a["dh"][:, 0, :]
    wrt = {"dx": x, "dprev_h": a["h0"], "dWx": a["Wx"], "dWh": a["Wh"], "db": a["b"]}
    _, cache = scratch.gru_step_forward(x, a["h0"], a["Wx"], a["Wh"], a["b"])
    found = errors(
        lambda: scratch.gru_step_forward(x, a["h0"], a["Wx"], a["Wh"], a["b"])[0],
        dnext_h,
        wrt,
        wrong_step_backward(dnext_h, cache, mistake),
    )
    assert max(found.values()) > 1e-2, found
    right = errors(
        lambda: scratch.gru_step_forward(x, a["h0"], a["Wx"], a["Wh"], a["b"])[0],
        dnext_h,
        wrt,
        wrong_step_backward(dnext_h, cache, "none"),
    )
    assert_small(right)  # the same code without the mistake passes


def test_a_gru_gradient_off_by_one_part_in_100000_fails_the_threshold():
    a = make(3, 5, 4, 5, seed=0)
    _, cache = scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    dWh = scratch.gru_backward(a["dh"], cache)[3]
    numerical = accurate_gradient(
        lambda _: scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])[0], a["Wh"], a["dh"]
    )
    assert rel_error(numerical, dWh) < GRADIENT_TOLERANCE
    assert rel_error(numerical, dWh * (1 + 1e-5)) > GRADIENT_TOLERANCE


# ----------------------------------------------------------------- forward passes vs Keras


def keras_sequence(layer, x, initial_state, weights):
    """Return layer's outputs (N, T, H) on x from initial_state with the given weights, in exact float32."""
    layer.build(x.shape)
    layer.set_weights([w.astype("float32") for w in weights])
    with precision.exact_matmul():
        outputs = layer(x.astype("float32"), initial_state=[s.astype("float32") for s in initial_state])
    return ops.convert_to_numpy(outputs)


@pytest.mark.parametrize("N, T, D, H, seed", SIZES)
def test_gru_forward_matches_keras_gru_with_reordered_weights(N, T, D, H, seed):
    a = make(N, T, D, H, seed)
    h, _ = scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])  # (N, T, H)
    weights = scratch.keras_gru_weights(a["Wx"], a["Wh"], a["b"])
    expected = keras_sequence(layers.GRU(H, return_sequences=True), a["x"], [a["h0"]], weights)
    np.testing.assert_allclose(h, expected, rtol=KERAS_TOLERANCE, atol=KERAS_TOLERANCE)


@pytest.mark.parametrize("N, T, D, H, seed", SIZES[:2])
def test_lstm_forward_matches_keras_lstm_in_exact_precision(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    x, h0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H))
    Wx, Wh = rng.normal(scale=D**-0.5, size=(D, 4 * H)), rng.normal(scale=H**-0.5, size=(H, 4 * H))
    b = rng.normal(size=4 * H)
    h, _ = scratch.lstm_forward(x, h0, Wx, Wh, b)
    weights = scratch.keras_lstm_weights(Wx, Wh, b)
    expected = keras_sequence(layers.LSTM(H, return_sequences=True), x, [h0, np.zeros_like(h0)], weights)
    np.testing.assert_allclose(h, expected, rtol=KERAS_TOLERANCE, atol=KERAS_TOLERANCE)


def test_the_keras_comparison_catches_unordered_weights_and_the_other_reset_convention():
    a = make(3, 5, 4, 5, seed=0)
    h, _ = scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    unordered = keras_sequence(layers.GRU(5, return_sequences=True), a["x"], [a["h0"]], [a["Wx"], a["Wh"], a["b"]])
    assert np.max(np.abs(h - unordered)) > 1e-2
    # reset_after=False has one bias row and applies r before the recurrent product: another function.
    kernel, recurrent_kernel, bias = scratch.keras_gru_weights(a["Wx"], a["Wh"], a["b"])
    before = keras_sequence(
        layers.GRU(5, return_sequences=True, reset_after=False),
        a["x"],
        [a["h0"]],
        [kernel, recurrent_kernel, bias[0] + bias[1]],
    )
    assert np.max(np.abs(h - before)) > 1e-3


def test_keras_gru_weights_swaps_the_first_two_gate_blocks_and_scratch_gru_weights_undoes_it():
    a = make(3, 5, 4, 5, seed=0)
    H = 5
    kernel, recurrent_kernel, bias = scratch.keras_gru_weights(a["Wx"], a["Wh"], a["b"])
    for ours, theirs in [(a["Wx"], kernel), (a["Wh"], recurrent_kernel), (a["b"], bias)]:
        assert theirs.shape == ours.shape
        np.testing.assert_array_equal(theirs[..., :H], ours[..., H : 2 * H])  # Keras's z first
        np.testing.assert_array_equal(theirs[..., H : 2 * H], ours[..., :H])  # then r
        np.testing.assert_array_equal(theirs[..., 2 * H :], ours[..., 2 * H :])  # the candidate last
    for ours, returned in zip([a["Wx"], a["Wh"], a["b"]], scratch.scratch_gru_weights(kernel, recurrent_kernel, bias)):
        np.testing.assert_array_equal(returned, ours)


def test_a_keras_gru_read_back_into_scratch_order_gives_the_same_outputs():
    a = make(2, 4, 3, 6, seed=3)
    layer = layers.GRU(6, return_sequences=True)
    layer.build(a["x"].shape)  # Keras's own random initial weights
    Wx, Wh, b = scratch.scratch_gru_weights(*[ops.convert_to_numpy(w) for w in layer.weights])
    h, _ = scratch.gru_forward(
        a["x"], np.zeros((2, 6)), Wx.astype(np.float64), Wh.astype(np.float64), b.astype(np.float64)
    )
    with precision.exact_matmul():
        expected = ops.convert_to_numpy(layer(a["x"].astype("float32")))
    np.testing.assert_allclose(h, expected, rtol=KERAS_TOLERANCE, atol=KERAS_TOLERANCE)


def test_keras_and_scratch_gru_parameter_counts_are_3_blocks_with_two_biases():
    D, H = 4, 5
    layer = layers.GRU(H)
    layer.build((None, 7, D))
    assert layer.count_params() == 3 * (D * H + H * H + 2 * H)
    assert (
        sum(
            w.size
            for w in scratch.keras_gru_weights(*[v for k, v in make(1, 1, D, H, 0).items() if k in ("Wx", "Wh", "b")])
        )
        == layer.count_params()
    )


def test_scratch_gru_matches_native_pytorch_gru_weights_transposed():
    torch = pytest.importorskip("torch")
    a = make(3, 5, 4, 5, seed=0)
    h, _ = scratch.gru_forward(a["x"], a["h0"], a["Wx"], a["Wh"], a["b"])
    native = torch.nn.GRU(4, 5, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # PyTorch stores (3H, D) in the same gate order r, z, n
        native.weight_ih_l0.copy_(torch.from_numpy(a["Wx"].T))
        native.weight_hh_l0.copy_(torch.from_numpy(a["Wh"].T))
        native.bias_ih_l0.copy_(torch.from_numpy(a["b"][0]))
        native.bias_hh_l0.copy_(torch.from_numpy(a["b"][1]))
        outputs, _ = native(torch.from_numpy(a["x"]), torch.from_numpy(a["h0"])[None])
    np.testing.assert_allclose(h, outputs.numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- bad arguments

A = make(3, 5, 4, 5, seed=0)
_, GRU_CACHE = scratch.gru_forward(A["x"], A["h0"], A["Wx"], A["Wh"], A["b"])
_, GRU_STEP_CACHE = scratch.gru_step_forward(A["x"][:, 0, :], A["h0"], A["Wx"], A["Wh"], A["b"])

BAD = [
    (
        lambda: scratch.gru_step_forward(A["x"][:, 0, :], A["h0"], A["Wx"], A["Wh"], A["b"][0]),
        "b must have shape (2, 3H) = (2, 15), got (15,)",
    ),
    (
        lambda: scratch.gru_forward(A["x"], A["h0"], np.zeros((4, 20)), np.zeros((5, 20)), A["b"]),
        "Wx must have shape (D, 3H) = (4, 15), got (4, 20)",
    ),
    (
        lambda: scratch.gru_step_forward(A["x"], A["h0"], A["Wx"], A["Wh"], A["b"]),
        "x must have shape (N, D), got (3, 5, 4)",
    ),
    (
        lambda: scratch.gru_backward(np.zeros((3, 4, 5)), GRU_CACHE),
        "dh must have shape (N, T, H) = (3, 5, 5), got (3, 4, 5)",
    ),
    (
        lambda: scratch.gru_step_backward(np.zeros((5, 3)), GRU_STEP_CACHE),
        "dnext_h must have shape (N, H) = (3, 5), got (5, 3)",
    ),
    (lambda: scratch.gru_step_backward(A["h0"], GRU_CACHE), "cache must be the cache that gru_step_forward returned"),
    (lambda: scratch.lstm_backward(A["dh"], GRU_CACHE), "cache must be the cache that lstm_forward returned"),
    (lambda: scratch.keras_gru_weights(A["Wx"], A["Wh"], np.zeros(15)), "b must have shape (2, 3H), got (15,)"),
    (
        lambda: scratch.scratch_gru_weights(A["Wx"], A["Wh"], np.zeros((3, 15))),
        "bias must have shape (2, 3H) = (2, 15), got (3, 15)",
    ),
]


@pytest.mark.parametrize("call, message", BAD, ids=[f"{m.split()[0]}-{i}" for i, (_, m) in enumerate(BAD)])
def test_bad_arguments_raise_one_line_naming_the_argument_and_shape(call, message):
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        call()
    assert "\n" not in str(raised.value)

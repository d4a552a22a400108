"""kerasdl.checks.bptt: the solution's functions pass every item; plausible wrong answers are rejected;
wrong types and shapes are reported as ✘ lines instead of crashing the check."""

import numpy as np
import pytest

from kerasdl import checks
from kerasdl.checks import bptt


def verdicts(capsys):
    """Return ([(item, passed)], {item: hint}) for what the checks printed since the last call."""
    out = capsys.readouterr().out
    return checks.parse(out), checks.hints(out)


def passed_all(capsys):
    found, hints = verdicts(capsys)
    assert found and all(passed for _, passed in found), (found, hints)
    return found


def rejected(capsys, item_prefix):
    """Assert the item starting with item_prefix failed; return its hint."""
    found, hints = verdicts(capsys)
    matches = [(item, passed) for item, passed in found if item.startswith(item_prefix)]
    assert len(matches) == 1, (item_prefix, found)
    assert matches[0][1] is False, (matches[0], hints)
    return hints.get(matches[0][0], "")


# ---------------------------------------------------------------- the solution's answers


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def rnn_forward(x, h0, Wx, Wh, b):
    h, caches, prev_h = [], [], h0
    for t in range(x.shape[1]):
        prev_h, cache = rnn_step_forward(x[:, t, :], prev_h, Wx, Wh, b)
        h.append(prev_h)
        caches.append(cache)
    return np.stack(h, axis=1), caches


def rnn_backward(dh, cache, accumulate=True, carry=True, step_backward=rnn_step_backward):
    N, T, H = dh.shape
    D = cache[0][0].shape[1]
    dx, dprev_h = np.zeros((N, T, D)), np.zeros((N, H))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    for t in reversed(range(T)):
        upstream = dh[:, t, :] + (dprev_h if carry else 0.0)
        dx[:, t, :], dprev_h, dWx_t, dWh_t, db_t = step_backward(upstream, cache[t])
        if accumulate:
            dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
        else:
            dWx, dWh, db = dWx_t, dWh_t, db_t
    return dx, dprev_h, dWx, dWh, db


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 2 * H : 3 * H]), np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward(dnext_h, dnext_c, cache, order="ifog", through_tanh=True):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * ((1 - tanh_c**2) if through_tanh else 1.0)
    gates = {
        "i": dc * g * i * (1 - i),
        "f": dc * prev_c * f * (1 - f),
        "o": dnext_h * tanh_c * o * (1 - o),
        "g": dc * i * (1 - g**2),
    }
    da = np.concatenate([gates[gate] for gate in order], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def gradient_norms(step_backward=rnn_step_backward):
    p = bptt.vanishing_problem()
    prev_h, caches = p["h0"], []
    for t in range(p["x"].shape[1]):
        prev_h, cache = rnn_step_forward(p["x"][:, t, :], prev_h, p["Wx"], p["Wh"], p["b"])
        caches.append(cache)
    norms, gradient = [], p["dh_last"]
    for cache in reversed(caches):
        norms.append(np.linalg.norm(gradient))
        gradient = step_backward(gradient, cache)[1]
    return np.array(norms[::-1])


def test_the_solution_passes_every_check(capsys):
    bptt.check_rnn_step_forward(rnn_step_forward)
    bptt.check_rnn_step_backward(rnn_step_forward, rnn_step_backward)
    bptt.check_rnn_forward(rnn_forward)
    bptt.check_rnn_backward(rnn_forward, rnn_backward)
    bptt.check_gradient_norms(gradient_norms())
    bptt.check_lstm_step_backward(lstm_step_forward, lstm_step_backward)
    assert len(passed_all(capsys)) == 2 + 4 + 2 + 4 + 3 + 4


def test_the_reference_norms_vanish():
    norms = bptt.reference_gradient_norms()
    assert norms.shape == (bptt.VANISHING_STEPS,)
    assert np.all(np.diff(norms) > 0) and norms[0] < 1e-3 * norms[-1]


# ---------------------------------------------------------------- wrong answers: RNN step


def test_step_forward_with_transposed_recurrent_weights_is_rejected(capsys):
    def transposed(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x @ Wx + prev_h @ Wh.T + b)
        return next_h, (x, prev_h, Wx, Wh, next_h)

    bptt.check_rnn_step_forward(transposed)
    assert "from the right" in rejected(capsys, "next_h = tanh")


def test_step_forward_with_a_transposed_input_matrix_is_reported_not_raised(capsys):
    def transposed(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x @ Wx.T + prev_h @ Wh + b)  # (N, D) @ (H, D): a shape error, as D != H
        return next_h, None

    bptt.check_rnn_step_forward(transposed)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False, False]
    assert "raised ValueError" in hints[found[0][0]]
    assert hints[found[1][0]] == "fix the item above first"


def test_step_forward_without_the_tanh_is_rejected(capsys):
    bptt.check_rnn_step_forward(lambda x, prev_h, Wx, Wh, b: (x @ Wx + prev_h @ Wh + b, None))
    rejected(capsys, "next_h = tanh")


def test_step_forward_returning_only_next_h_is_reported(capsys):
    bptt.check_rnn_step_forward(lambda x, prev_h, Wx, Wh, b: np.tanh(x @ Wx + prev_h @ Wh + b))
    hint = rejected(capsys, "rnn_step_forward returns")
    assert "expected a tuple of 2: (next_h, cache); got an ndarray" in hint


def test_step_backward_without_the_tanh_derivative_is_rejected(capsys):
    def no_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h  # the (1 - h²) factor is missing
        return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    bptt.check_rnn_step_backward(rnn_step_forward, no_tanh_derivative)
    found, hints = verdicts(capsys)
    assert dict(found) == {
        "rnn_step_backward returns (dx, dprev_h, dWx, dWh, db) shaped like x, prev_h, Wx, Wh, b": True,
        "dx and dprev_h match numerical gradients": False,
        "dWx, dWh and db match numerical gradients": False,
        "the gradients equal kerasdl.scratch.rnn_step_backward's": False,
    }
    assert "(1 - next_h**2)" in hints["dx and dprev_h match numerical gradients"]


def test_step_backward_with_a_transposed_weight_gradient_is_rejected(capsys):
    def transposed(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h**2)
        return da @ Wx.T, da @ Wh.T, x.T @ da, da.T @ prev_h, da.sum(axis=0)  # dWh transposed: same shape

    bptt.check_rnn_step_backward(rnn_step_forward, transposed)
    assert "dWh (relative error" in rejected(capsys, "dWx, dWh and db")


def test_step_backward_with_untransposed_weights_is_reported_not_raised(capsys):
    def untransposed(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h**2)
        return da @ Wx, da @ Wh, x.T @ da, prev_h.T @ da, da.sum(axis=0)  # (N, H) @ (D, H): shape error

    bptt.check_rnn_step_backward(rnn_step_forward, untransposed)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False] * 4
    assert "untransposed raised ValueError" in hints[found[0][0]]


def test_step_backward_with_a_wrong_gradient_shape_is_reported(capsys):
    def wrong_db(dnext_h, cache):
        dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
        return dx, dprev_h, dWx, dWh, db[np.newaxis, :]  # (1, H) instead of (H,)

    bptt.check_rnn_step_backward(rnn_step_forward, wrong_db)
    assert "db: expected an array of shape (4,), got shape (1, 4)" in rejected(capsys, "rnn_step_backward returns")


# ---------------------------------------------------------------- wrong answers: RNN sequence


def test_forward_that_ignores_h0_is_rejected(capsys):
    bptt.check_rnn_forward(lambda x, h0, Wx, Wh, b: rnn_forward(x, np.zeros_like(h0), Wx, Wh, b))
    assert "h0 before the first step" in rejected(capsys, "h holds every step")


def test_forward_with_transposed_recurrent_weights_is_rejected(capsys):
    bptt.check_rnn_forward(lambda x, h0, Wx, Wh, b: rnn_forward(x, h0, Wx, Wh.T, b))
    rejected(capsys, "h holds every step")


def test_forward_returning_a_list_of_steps_is_reported(capsys):
    bptt.check_rnn_forward(lambda x, h0, Wx, Wh, b: (list(rnn_forward(x, h0, Wx, Wh, b)[0].transpose(1, 0, 2)), None))
    assert "h: expected an array of shape (3, 4, 4), got shape (4, 3, 4)" in rejected(capsys, "rnn_forward returns")


def test_backward_that_does_not_accumulate_weight_gradients_is_rejected(capsys):
    bptt.check_rnn_backward(rnn_forward, lambda dh, cache: rnn_backward(dh, cache, accumulate=False))
    found, hints = verdicts(capsys)
    assert dict(found)["dx and dh0 match numerical gradients"] is True
    assert dict(found)["dWx, dWh and db match numerical gradients"] is False
    assert "add up each step's" in hints["dWx, dWh and db match numerical gradients"]


def test_backward_that_drops_the_carried_gradient_is_rejected(capsys):
    bptt.check_rnn_backward(rnn_forward, lambda dh, cache: rnn_backward(dh, cache, carry=False))
    assert "carried back" in rejected(capsys, "dx and dh0")


def test_backward_without_the_tanh_derivative_is_rejected(capsys):
    def no_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        return dnext_h @ Wx.T, dnext_h @ Wh.T, x.T @ dnext_h, prev_h.T @ dnext_h, dnext_h.sum(axis=0)

    bptt.check_rnn_backward(rnn_forward, lambda dh, cache: rnn_backward(dh, cache, step_backward=no_tanh_derivative))
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, False, False]


def test_backward_returning_none_is_reported_not_raised(capsys):
    bptt.check_rnn_backward(rnn_forward, lambda dh, cache: None)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False] * 4
    assert "expected a tuple of 5: (dx, dh0, dWx, dWh, db); got None" in hints[found[0][0]]
    assert all(hints[item] == "fix the item above first" for item, _ in found[1:])


def test_backward_that_raises_is_reported_not_raised(capsys):
    def broken(dh, cache):
        return cache["x"]  # TypeError: the learner assumed another cache layout

    bptt.check_rnn_backward(rnn_forward, broken)
    assert "raised TypeError" in rejected(capsys, "rnn_backward returns")


def test_an_unsolved_part_propagates_not_implemented_error(capsys):
    def unsolved(*args):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        bptt.check_rnn_backward(rnn_forward, unsolved)
    with pytest.raises(NotImplementedError):
        bptt.check_rnn_step_forward(unsolved)


# ---------------------------------------------------------------- wrong answers: gradient norms


def test_a_list_of_norms_is_accepted(capsys):
    bptt.check_gradient_norms(list(gradient_norms()))
    passed_all(capsys)


def test_norms_in_reverse_time_order_are_rejected(capsys):
    bptt.check_gradient_norms(gradient_norms()[::-1])
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, False]


def test_norms_without_the_tanh_derivative_are_rejected(capsys):
    def no_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        return None, dnext_h @ Wh.T, None, None, None

    bptt.check_gradient_norms(gradient_norms(no_tanh_derivative))
    rejected(capsys, "the norms are")


def test_norms_that_do_not_vanish_are_rejected(capsys):
    bptt.check_gradient_norms(np.ones(bptt.VANISHING_STEPS))
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, False]


@pytest.mark.parametrize("value, message", [
    (None, "expected an array of shape (30,), got None"),
    (np.ones((30, 1)), "expected an array of shape (30,), got shape (30, 1)"),
    ("norms", "expected an array of shape (30,), got a str"),
    ([np.ones(3)] * 30, "expected an array of shape (30,), got shape (30, 3)"),
    (["one"] * 30, "expected numbers, one per time step; got a list of something else"),
    ([None] * 30, "the array contains NaN or infinite values"),
])
def test_wrong_norm_types_and_shapes_are_reported(value, message, capsys):
    bptt.check_gradient_norms(value)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False] * 3
    assert hints[found[0][0]].startswith(message)


# ---------------------------------------------------------------- wrong answers: LSTM step


def test_lstm_gates_in_the_wrong_order_are_rejected(capsys):
    # Keras's order i, f, c (g), o instead of the forward pass's i, f, o, g.
    bptt.check_lstm_step_backward(
        lstm_step_forward, lambda dh, dc, cache: lstm_step_backward(dh, dc, cache, order="ifgo"))
    found, hints = verdicts(capsys)
    weights_item = "dWx, dWh and db match numerical gradients, gates in the order i, f, o, g"
    assert dict(found)[weights_item] is False
    assert "in the forward pass's order" in hints[weights_item]
    assert dict(found)["dx, dprev_h and dprev_c match numerical gradients"] is False  # da @ Wx.T mixes the gates


def test_lstm_without_the_tanh_derivative_of_the_cell_is_rejected(capsys):
    bptt.check_lstm_step_backward(
        lstm_step_forward, lambda dh, dc, cache: lstm_step_backward(dh, dc, cache, through_tanh=False))
    assert "1 - tanh(next_c)**2" in rejected(capsys, "dx, dprev_h and dprev_c")


def test_lstm_that_drops_the_forget_gate_in_dprev_c_is_rejected(capsys):
    def no_forget(dnext_h, dnext_c, cache):
        dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
        return dx, dprev_h, dprev_c / cache[6], dWx, dWh, db  # dprev_c = dc, without the * f

    bptt.check_lstm_step_backward(lstm_step_forward, no_forget)
    assert "dprev_c (relative error" in rejected(capsys, "dx, dprev_h and dprev_c")


def test_lstm_returning_five_gradients_is_reported(capsys):
    bptt.check_lstm_step_backward(
        lstm_step_forward, lambda dh, dc, cache: lstm_step_backward(dh, dc, cache)[:5])
    hint = rejected(capsys, "lstm_step_backward returns")
    assert "expected a tuple of 6" in hint and "got a tuple of 5" in hint

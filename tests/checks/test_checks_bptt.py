"""kerasdl.checks.bptt: the solution's functions pass every item; plausible wrong answers are rejected;
wrong types and shapes are reported as ✘ lines instead of crashing the check.

Every check runs through both paths (the `check` fixture): in process, as a notebook calls it, and judged
outside, as the grader will: probe, write the data file, read it back and judge it in a fresh call that has
the inputs and the file only, never the learner's functions. A forged or hostile data file is judged too."""

import numpy as np
import pytest

from kerasdl import checks, scratch
from kerasdl.checks import bptt
from kerasdl.probes import wire

from helpers import verdicts


@pytest.fixture(params=["in process", "judged outside"])
def check(request, tmp_path):
    """Return run(name, *learner): bptt.check_<name>, or probe -> file -> judge_from_file."""
    if request.param == "in process":
        return lambda name, *learner: getattr(bptt, f"check_{name}")(*learner)

    def outside(name, *learner):
        spec = bptt.CHECKS[name]
        path = wire.write(tmp_path / f"{name}.probe", spec.probe.probe(*learner, spec.probe.inputs(spec.probe.seed)))
        judge_from_file(name, path)

    return outside


def judge_from_file(name, path, seed=None):
    """Print what the grader's process would: the judge's lines on inputs rebuilt from the seed and the file's data."""
    spec = bptt.CHECKS[name]
    for line in spec.judge(spec.probe.inputs(spec.probe.seed if seed is None else seed), wire.read(path)):
        print(line)


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


def test_the_solution_passes_every_check(check, capsys):
    check("rnn_step_forward", rnn_step_forward)
    check("rnn_step_backward", rnn_step_forward, rnn_step_backward)
    check("rnn_forward", rnn_forward)
    check("rnn_backward", rnn_forward, rnn_backward)
    check("gradient_norms", gradient_norms())
    check("lstm_step_backward", lstm_step_forward, lstm_step_backward)
    assert len(passed_all(capsys)) == 2 + 4 + 2 + 4 + 3 + 4


def test_the_reference_norms_vanish():
    norms = bptt.reference_gradient_norms()
    assert norms.shape == (bptt.VANISHING_STEPS,)
    assert np.all(np.diff(norms) > 0) and norms[0] < 1e-3 * norms[-1]


# ---------------------------------------------------------------- wrong answers: RNN step


def test_step_forward_with_transposed_recurrent_weights_is_rejected(check, capsys):
    def transposed(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x @ Wx + prev_h @ Wh.T + b)
        return next_h, (x, prev_h, Wx, Wh, next_h)

    check("rnn_step_forward", transposed)
    assert rejected(capsys, "next_h = tanh") == "the recurrent term uses Wh transposed"


def test_step_forward_with_a_transposed_input_matrix_is_reported_not_raised(check, capsys):
    def transposed(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x @ Wx.T + prev_h @ Wh + b)  # (N, D) @ (H, D): a shape error, as D != H
        return next_h, None

    check("rnn_step_forward", transposed)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False, False]
    assert "raised ValueError" in hints[found[0][0]]
    assert hints[found[1][0]] == "fix the item above first"


def test_step_forward_without_the_tanh_is_rejected(check, capsys):
    check("rnn_step_forward", lambda x, prev_h, Wx, Wh, b: (x @ Wx + prev_h @ Wh + b, None))
    assert rejected(capsys, "next_h = tanh") == "the values are not squashed: the tanh is missing"


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda x, prev_h, Wx, Wh, b: (np.tanh(x @ Wx + prev_h @ Wh), None), "the bias b is missing"),
        (lambda x, prev_h, Wx, Wh, b: (np.tanh(x @ Wx + b), None), "the recurrent term (prev_h with Wh) is missing"),
        (lambda x, prev_h, Wx, Wh, b: (np.tanh(x @ Wx + prev_h @ Wh - b), None), "compare your expression"),
    ],
)
def test_step_forward_mistakes_are_named(check, wrong, hint, capsys):
    check("rnn_step_forward", wrong)
    assert rejected(capsys, "next_h = tanh").startswith(hint)


def test_step_forward_returning_only_next_h_is_reported(check, capsys):
    check("rnn_step_forward", lambda x, prev_h, Wx, Wh, b: np.tanh(x @ Wx + prev_h @ Wh + b))
    hint = rejected(capsys, "rnn_step_forward returns")
    assert "expected a tuple of 2: (next_h, cache); got an ndarray" in hint


def test_step_backward_without_the_tanh_derivative_is_rejected(check, capsys):
    def no_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h  # the (1 - h²) factor is missing
        return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    check("rnn_step_backward", rnn_step_forward, no_tanh_derivative)
    found, hints = verdicts(capsys)
    assert dict(found) == {
        "rnn_step_backward returns (dx, dprev_h, dWx, dWh, db) shaped like x, prev_h, Wx, Wh, b": True,
        "dx and dprev_h match numerical gradients": False,
        "dWx, dWh and db match numerical gradients": False,
        "the gradients equal kerasdl.scratch.rnn_step_backward's": False,
    }
    assert "its derivative is missing" in hints["dx and dprev_h match numerical gradients"]
    assert "its derivative is missing" in hints["dWx, dWh and db match numerical gradients"]
    assert "backward pass is to blame" in hints["the gradients equal kerasdl.scratch.rnn_step_backward's"]


def test_step_backward_with_a_transposed_weight_gradient_is_rejected(check, capsys):
    def transposed(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h**2)
        return da @ Wx.T, da @ Wh.T, x.T @ da, da.T @ prev_h, da.sum(axis=0)  # dWh transposed: same shape

    check("rnn_step_backward", rnn_step_forward, transposed)
    assert "dWh (relative error" in rejected(capsys, "dWx, dWh and db")


def test_step_backward_with_untransposed_weights_is_reported_not_raised(check, capsys):
    def untransposed(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h**2)
        return da @ Wx, da @ Wh, x.T @ da, prev_h.T @ da, da.sum(axis=0)  # (N, H) @ (D, H): shape error

    check("rnn_step_backward", rnn_step_forward, untransposed)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False] * 4
    assert "untransposed raised ValueError" in hints[found[0][0]]


def test_step_backward_with_a_wrong_gradient_shape_is_reported(check, capsys):
    def wrong_db(dnext_h, cache):
        dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
        return dx, dprev_h, dWx, dWh, db[np.newaxis, :]  # (1, H) instead of (H,)

    check("rnn_step_backward", rnn_step_forward, wrong_db)
    assert "db: expected an array of shape (4,), got shape (1, 4)" in rejected(capsys, "rnn_step_backward returns")


# ---------------------------------------------------------------- wrong answers: RNN sequence


def test_forward_that_ignores_h0_is_rejected(check, capsys):
    check("rnn_forward", lambda x, h0, Wx, Wh, b: rnn_forward(x, np.zeros_like(h0), Wx, Wh, b))
    assert rejected(capsys, "h holds every step") == "the first step must start from h0, not zeros"


def test_forward_that_restarts_every_step_from_h0_is_rejected(check, capsys):
    def restarts(x, h0, Wx, Wh, b):
        return np.stack([rnn_step_forward(x[:, t, :], h0, Wx, Wh, b)[0] for t in range(x.shape[1])], axis=1), None

    check("rnn_forward", restarts)
    assert rejected(capsys, "h holds every step").startswith("every step starts from h0")


def test_forward_with_transposed_recurrent_weights_is_rejected(check, capsys):
    check("rnn_forward", lambda x, h0, Wx, Wh, b: rnn_forward(x, h0, Wx, Wh.T, b))
    rejected(capsys, "h holds every step")


def test_forward_returning_a_list_of_steps_is_reported(check, capsys):
    check("rnn_forward", lambda x, h0, Wx, Wh, b: (list(rnn_forward(x, h0, Wx, Wh, b)[0].transpose(1, 0, 2)), None))
    assert "h: expected an array of shape (3, 4, 4), got shape (4, 3, 4)" in rejected(capsys, "rnn_forward returns")


def test_backward_that_does_not_accumulate_weight_gradients_is_rejected(check, capsys):
    check("rnn_backward", rnn_forward, lambda dh, cache: rnn_backward(dh, cache, accumulate=False))
    found, hints = verdicts(capsys)
    assert dict(found)["dx and dh0 match numerical gradients"] is True
    assert dict(found)["dWx, dWh and db match numerical gradients"] is False
    assert "one step's gradients" in hints["dWx, dWh and db match numerical gradients"]


def test_backward_that_drops_the_carried_gradient_is_rejected(check, capsys):
    check("rnn_backward", rnn_forward, lambda dh, cache: rnn_backward(dh, cache, carry=False))
    found, hints = verdicts(capsys)
    assert "carried back from the later steps is missing" in hints["dx and dh0 match numerical gradients"]
    assert "carried back from the later steps is missing" in hints["dWx, dWh and db match numerical gradients"]


def test_backward_without_the_tanh_derivative_is_rejected(check, capsys):
    def no_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        return dnext_h @ Wx.T, dnext_h @ Wh.T, x.T @ dnext_h, prev_h.T @ dnext_h, dnext_h.sum(axis=0)

    check("rnn_backward", rnn_forward, lambda dh, cache: rnn_backward(dh, cache, step_backward=no_tanh_derivative))
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, False, False]


def test_backward_returning_none_is_reported_not_raised(check, capsys):
    check("rnn_backward", rnn_forward, lambda dh, cache: None)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False] * 4
    assert "expected a tuple of 5: (dx, dh0, dWx, dWh, db); got None" in hints[found[0][0]]
    assert all(hints[item] == "fix the item above first" for item, _ in found[1:])


def test_backward_that_raises_is_reported_not_raised(check, capsys):
    def broken(dh, cache):
        return cache["x"]  # TypeError: the learner assumed another cache layout

    check("rnn_backward", rnn_forward, broken)
    assert "raised TypeError" in rejected(capsys, "rnn_backward returns")


def test_an_unsolved_part_propagates_not_implemented_error(check, capsys):
    def unsolved(*args):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        check("rnn_backward", rnn_forward, unsolved)
    with pytest.raises(NotImplementedError):
        check("rnn_step_forward", unsolved)


# ---------------------------------------------------------------- wrong answers: gradient norms


def test_a_list_of_norms_is_accepted(check, capsys):
    check("gradient_norms", list(gradient_norms()))
    passed_all(capsys)


def test_norms_in_reverse_time_order_are_rejected(check, capsys):
    check("gradient_norms", gradient_norms()[::-1])
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, False]


def test_norms_without_the_tanh_derivative_are_rejected(check, capsys):
    def no_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        return None, dnext_h @ Wh.T, None, None, None

    check("gradient_norms", gradient_norms(no_tanh_derivative))
    rejected(capsys, "the norms are")


def test_norms_that_do_not_vanish_are_rejected(check, capsys):
    check("gradient_norms", np.ones(bptt.VANISHING_STEPS))
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, False]


@pytest.mark.parametrize(
    "value, message",
    [
        (None, "expected an array of shape (30,), got None"),
        (np.ones((30, 1)), "expected an array of shape (30,), got shape (30, 1)"),
        ("norms", "expected an array of shape (30,), got a str"),
        ([np.ones(3)] * 30, "expected an array of shape (30,), got shape (30, 3)"),
        (["one"] * 30, "expected an array of shape (30,), got a list holding a str"),
        ([None] * 30, "expected an array of shape (30,), got a list holding None"),
        ([1.0] * 29 + [float("nan")], "the array contains NaN or infinite values"),
    ],
)
def test_wrong_norm_types_and_shapes_are_reported(check, value, message, capsys):
    check("gradient_norms", value)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False] * 3
    assert hints[found[0][0]].startswith(message)


# ---------------------------------------------------------------- wrong answers: LSTM step


def test_lstm_gates_in_the_wrong_order_are_rejected(check, capsys):
    # Keras's order i, f, c (g), o instead of the forward pass's i, f, o, g.
    check(
        "lstm_step_backward", lstm_step_forward, lambda dh, dc, cache: lstm_step_backward(dh, dc, cache, order="ifgo")
    )
    found, hints = verdicts(capsys)
    weights_item = "dWx, dWh and db match numerical gradients, gates in the order i, f, o, g"
    assert dict(found)[weights_item] is False
    assert "in the forward pass's order" in hints[weights_item]
    assert dict(found)["dx, dprev_h and dprev_c match numerical gradients"] is False  # da @ Wx.T mixes the gates


def test_lstm_without_the_tanh_derivative_of_the_cell_is_rejected(check, capsys):
    check(
        "lstm_step_backward",
        lstm_step_forward,
        lambda dh, dc, cache: lstm_step_backward(dh, dc, cache, through_tanh=False),
    )
    found, hints = verdicts(capsys)
    assert hints["dx, dprev_h and dprev_c match numerical gradients"].endswith("its derivative is missing on that path")
    assert (
        "fix the cell-state gradient first"
        in hints["dWx, dWh and db match numerical gradients, gates in the order i, f, o, g"]
    )


def test_lstm_that_drops_the_forget_gate_in_dprev_c_is_rejected(check, capsys):
    def no_forget(dnext_h, dnext_c, cache):
        dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
        return dx, dprev_h, dprev_c / cache[6], dWx, dWh, db  # dprev_c = dc, without the * f

    check("lstm_step_backward", lstm_step_forward, no_forget)
    hint = rejected(capsys, "dx, dprev_h and dprev_c")
    assert hint.startswith("dprev_c (relative error") and hint.endswith("passes the forget gate on the way")


def test_lstm_returning_five_gradients_is_reported(check, capsys):
    check("lstm_step_backward", lstm_step_forward, lambda dh, dc, cache: lstm_step_backward(dh, dc, cache)[:5])
    hint = rejected(capsys, "lstm_step_backward returns")
    assert "expected a tuple of 6" in hint and "got a tuple of 5" in hint


# ---------------------------------------------------------------- hints point at the part that failed


def test_an_output_gate_bug_is_blamed_on_the_output_gate_not_the_cell_state(check, capsys):
    def output_gate_without_its_derivative(dnext_h, dnext_c, cache):
        x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
        tanh_c = np.tanh(next_c)
        dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
        da = np.concatenate(
            [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c, dc * i * (1 - g**2)], axis=1
        )  # do without the sigmoid's derivative
        return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)

    check("lstm_step_backward", lstm_step_forward, output_gate_without_its_derivative)
    found, hints = verdicts(capsys)
    state = hints["dx, dprev_h and dprev_c match numerical gradients"]
    weights = hints["dWx, dWh and db match numerical gradients, gates in the order i, f, o, g"]
    assert "dprev_c" not in state.split(";")[0]  # dprev_c itself is right
    assert "output gate o" in state and "output gate o" in weights
    assert "tanh" not in state and "next_c" not in state


def test_a_forward_pass_that_differs_from_the_reference_is_named_only_then(check, capsys):
    def transposed_forward(x, prev_h, Wx, Wh, b):
        next_h = np.tanh(x @ Wx + prev_h @ Wh.T + b)
        return next_h, (x, prev_h, Wx, Wh.T, next_h)  # the backward pass follows it consistently

    check("rnn_step_backward", transposed_forward, rnn_step_backward)
    found, hints = verdicts(capsys)
    item = "the gradients equal kerasdl.scratch.rnn_step_backward's"
    assert [passed for _, passed in found] == [True, True, False, False]  # dWh is wrt its own Wh.T
    assert "fix the forward pass first" in hints[item]


FORMULA = ("@", "**", ".T", "np.", " = ")


@pytest.mark.parametrize(
    "run",
    [
        lambda check: check(
            "rnn_step_forward", lambda x, prev_h, Wx, Wh, b: (np.tanh(x @ Wx + prev_h @ Wh.T + b), None)
        ),
        lambda check: check(
            "rnn_step_backward", rnn_step_forward, lambda dh, cache: tuple(g * 2 for g in rnn_step_backward(dh, cache))
        ),
        lambda check: check("rnn_backward", rnn_forward, lambda dh, cache: rnn_backward(dh, cache, carry=False)),
        lambda check: check("rnn_backward", rnn_forward, lambda dh, cache: rnn_backward(dh, cache, accumulate=False)),
        lambda check: check("gradient_norms", gradient_norms()[::-1]),
        lambda check: check(
            "lstm_step_backward",
            lstm_step_forward,
            lambda dh, dc, cache: lstm_step_backward(dh, dc, cache, order="ifgo"),
        ),
        lambda check: check(
            "lstm_step_backward",
            lstm_step_forward,
            lambda dh, dc, cache: lstm_step_backward(dh, dc, cache, through_tanh=False),
        ),
    ],
)
def test_hints_never_spell_out_the_formula(run, check, capsys):
    run(check)
    _, hints = verdicts(capsys)
    assert hints
    for item, hint in hints.items():
        assert not any(piece in hint for piece in FORMULA), (item, hint)


# ---------------------------------------------------------------- valid alternatives (regression suite)


def step_forward_einsum(x, prev_h, Wx, Wh, b):
    """einsum instead of @, a dict as the cache, a list as the result."""
    next_h = np.tanh(np.einsum("nd,dh->nh", x, Wx) + np.dot(prev_h, Wh) + b)
    return [next_h, {"x": x, "prev_h": prev_h, "Wx": Wx, "Wh": Wh, "next_h": next_h}]


def step_backward_einsum(dnext_h, cache):
    da = dnext_h * (1 - cache["next_h"] ** 2)
    return [
        np.einsum("nh,dh->nd", da, cache["Wx"]),
        da.dot(cache["Wh"].T),
        np.einsum("nd,nh->dh", cache["x"], da),
        cache["prev_h"].T.dot(da),
        np.sum(da, axis=0),
    ]


def forward_preallocated(x, h0, Wx, Wh, b):
    """Preallocated h, the cache as (x, h, h0, Wx, Wh): what the vectorised backward pass needs."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h = h0
    for t in range(T):
        prev_h = h[:, t, :] = np.tanh(x[:, t, :] @ Wx + prev_h @ Wh + b)
    return h, (x, h, h0, Wx, Wh)


def backward_vectorised(dh, cache):
    """The time loop only carries the gradient; the weight gradients come from all steps at once."""
    x, h, h0, Wx, Wh = cache
    N, T, H = dh.shape
    da = np.zeros_like(dh)  # (N, T, H): the gradient before the tanh at every step
    carried = np.zeros((N, H))
    for t in reversed(range(T)):
        da[:, t, :] = (dh[:, t, :] + carried) * (1 - h[:, t, :] ** 2)
        carried = da[:, t, :] @ Wh.T
    previous = np.concatenate([h0[:, None, :], h[:, :-1, :]], axis=1)  # (N, T, H): each step's prev_h
    return (
        da @ Wx.T,
        carried,
        np.einsum("ntd,nth->dh", x, da),
        np.einsum("ntk,nth->kh", previous, da),
        da.sum(axis=(0, 1)),
    )


def lstm_forward_caching_preactivations(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    next_h, next_c, _ = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    return next_h, next_c, {"a": a, "x": x, "prev_h": prev_h, "prev_c": prev_c, "Wx": Wx, "Wh": Wh, "next_c": next_c}


def lstm_backward_from_preactivations(dnext_h, dnext_c, cache):
    """Gates recomputed from the pre-activations; np.hstack; a list of six."""
    H = cache["prev_h"].shape[1]
    a = cache["a"]
    i, f, o, g = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H]), sigmoid(a[:, 2 * H : 3 * H]), np.tanh(a[:, 3 * H :])
    tanh_c = np.tanh(cache["next_c"])
    dc = dnext_c + dnext_h * o * (1 - tanh_c * tanh_c)
    da = np.hstack(
        [dc * g * i * (1 - i), dc * cache["prev_c"] * f * (1 - f), dnext_h * tanh_c * o * (1 - o), dc * i * (1 - g * g)]
    )
    return [da @ cache["Wx"].T, da @ cache["Wh"].T, dc * f, cache["x"].T @ da, cache["prev_h"].T @ da, da.sum(0)]


def test_valid_step_alternatives_pass(check, capsys):
    check("rnn_step_forward", step_forward_einsum)
    check("rnn_step_backward", step_forward_einsum, step_backward_einsum)
    assert len(passed_all(capsys)) == 2 + 4


def test_a_vectorised_bptt_passes(check, capsys):
    check("rnn_forward", forward_preallocated)
    check("rnn_backward", forward_preallocated, backward_vectorised)
    assert len(passed_all(capsys)) == 2 + 4


def test_sequence_results_as_nested_lists_pass(check, capsys):
    check("rnn_forward", lambda *args: [rnn_forward(*args)[0].tolist(), rnn_forward(*args)[1]])
    check("rnn_backward", rnn_forward, lambda dh, cache: [g.tolist() for g in rnn_backward(dh, cache)])
    assert len(passed_all(capsys)) == 2 + 4


@pytest.mark.parametrize("form", ["list", "tuple", "backend tensor", "float32 array"])
def test_norms_in_any_accepted_container_pass(check, form, capsys):
    norms = gradient_norms()
    if form == "list":
        norms = list(norms)
    elif form == "tuple":
        norms = tuple(float(n) for n in norms)
    elif form == "backend tensor":
        from keras import ops

        norms = ops.convert_to_tensor(norms.astype("float32"))
    else:
        norms = norms.astype("float32")
    check("gradient_norms", norms)
    assert len(passed_all(capsys)) == 3  # float32 keeps 7 digits: enough for rtol=1e-6


def test_an_lstm_that_caches_preactivations_passes(check, capsys):
    check("lstm_step_backward", lstm_forward_caching_preactivations, lstm_backward_from_preactivations)
    assert len(passed_all(capsys)) == 4


# ---------------------------------------------------------------- forged and hostile data files (judged outside)

SOLUTION = {
    "rnn_step_forward": (rnn_step_forward,),
    "rnn_step_backward": (rnn_step_forward, rnn_step_backward),
    "rnn_forward": (rnn_forward,),
    "rnn_backward": (rnn_forward, rnn_backward),
    "gradient_norms": (gradient_norms(),),
    "lstm_step_backward": (lstm_step_forward, lstm_step_backward),
}
ITEMS = {"rnn_step_forward": 2, "rnn_step_backward": 4, "rnn_forward": 2, "rnn_backward": 4}
ITEMS |= {"gradient_norms": 3, "lstm_step_backward": 4}
OTHER_SEED = 20240521  # the grader's draw, say: not any check's default


def solution_data(name, seed=None):
    spec = bptt.CHECKS[name]
    return spec.probe.probe(*SOLUTION[name], spec.probe.inputs(spec.probe.seed if seed is None else seed))


@pytest.mark.parametrize("name", SOLUTION)
def test_the_right_answers_for_other_inputs_are_judged_wrong_not_full_marks(name, tmp_path, capsys):
    path = wire.write(tmp_path / "forged.probe", solution_data(name))  # what running the kit at home gives
    judge_from_file(name, path)  # on the notebook's own inputs the file is right
    assert len(passed_all(capsys)) == ITEMS[name]
    judge_from_file(name, path, seed=OTHER_SEED)  # on the grader's inputs it is not
    found, hints = verdicts(capsys)
    assert found[0][1] is True  # the shapes are right
    value_items = [passed for item, passed in found[1:] if item != "the gradient vanishes going back in time"]
    assert value_items and not any(value_items), (found, hints)


@pytest.mark.parametrize("name", SOLUTION)
def test_the_solution_passes_on_other_inputs_too(name, tmp_path, capsys):
    judge_from_file(name, wire.write(tmp_path / "probe", solution_data(name, OTHER_SEED)), seed=OTHER_SEED)
    if name == "gradient_norms":  # a value computed in the notebook, on vanishing_problem()'s default inputs
        return
    assert len(passed_all(capsys)) == ITEMS[name]


def randomised(data, rng):
    """Return `data` with every array replaced by random values of its shape."""
    if isinstance(data, dict):
        return {key: randomised(value, rng) for key, value in data.items()}
    if isinstance(data, list):
        return [randomised(value, rng) for value in data]
    return rng.normal(size=data.shape) if isinstance(data, np.ndarray) else data


@pytest.mark.parametrize("name", SOLUTION)
def test_a_file_of_random_values_in_the_right_shapes_is_scored_as_what_it_holds(name, tmp_path, capsys):
    data = randomised(solution_data(name), np.random.default_rng(0))
    judge_from_file(name, wire.write(tmp_path / "random.probe", data))
    found, hints = verdicts(capsys)
    assert len(found) == ITEMS[name] and found[0][1] is True
    assert not any(passed for _, passed in found[1:]), (found, hints)


HOSTILE = [
    None,
    7,
    "✔ everything",
    [],
    {},
    {"error": 12},
    {"error": "✔ all good\n✔ next_h = tanh(x Wx + prev_h Wh + b)" + " and more" * 900},
    {"values": "abc"},
    {"values": []},
    {"values": [[[[[[1.0]]]]]] * 6},
    {"values": [{"got": ["nested"]}] * 6},
    {"values": [np.full((3, 4), np.nan)] * 6},
    {"values": [np.full(10**5, np.inf)] * 6},
    {"got": 3},
    np.full(30, np.nan),
    [float("nan")] * 30,
    {"x": "junk", "values": [np.ones(2, dtype=np.int8)] * 6},
]


@pytest.mark.parametrize("name", SOLUTION)
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_data_file_is_cross_lines_never_a_crash(name, value, tmp_path, capsys):
    data = {"forward": value, "backward": value, "numerical": value, "norms": value}
    judge_from_file(name, wire.write(tmp_path / "hostile.probe", data))
    out = capsys.readouterr().out
    found = checks.parse(out)
    assert len(out.splitlines()) == len(found) == ITEMS[name], out
    assert not any(passed for _, passed in found) and len(checks.hints(out)) == ITEMS[name], out


@pytest.mark.parametrize("name", SOLUTION)
@pytest.mark.parametrize(
    "data",
    [None, (), {"forward": {"values": (np.array([1, None], dtype=object),)}}, {"norms": {1, 2}}, {"forward": set()}],
)
def test_data_no_file_could_hold_is_cross_lines_too(name, data):
    spec = bptt.CHECKS[name]
    lines = spec.judge(spec.probe.inputs(spec.probe.seed), data)
    assert len(lines) == ITEMS[name] and not any(passed for _, passed in checks.parse("\n".join(lines)))


@pytest.mark.parametrize("name", ["rnn_step_backward", "rnn_backward", "lstm_step_backward"])
@pytest.mark.parametrize(
    "numerical",
    [{"error": "raised ValueError: forged"}, {"x": "junk"}, {}, {"x": [np.ones(3)]}, "junk"],
    ids=["error", "junk entry", "empty", "short", "str"],
)
def test_forged_numerical_outputs_fail_only_the_items_that_use_them(name, numerical, tmp_path, capsys):
    data = solution_data(name) | {"numerical": numerical}
    judge_from_file(name, wire.write(tmp_path / "forged.probe", data))
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, False, True], (found, hints)


class Forbidden:
    def __getattr__(self, name):
        raise AssertionError(f"a probe used kerasdl.scratch.{name}")


@pytest.mark.parametrize("name", SOLUTION)
def test_probes_never_use_the_reference_code_and_return_data_a_file_holds(name, monkeypatch):
    monkeypatch.setattr(bptt, "scratch", Forbidden())
    data = solution_data(name)
    assert wire.from_bytes(wire.to_bytes(data)).keys() == data.keys()
    assert not checks.parse(repr(data))  # plain data, no verdict lines


DRAWN = [int(seed) for seed in np.random.default_rng(7).integers(2**62, size=40)]  # as a grader draws them
# Drawn inputs on which a fixed tolerance of 1e-7 failed the right answer (found among 400 draws per check):
DRAWN += [598476708000846045, 844565627167898759, 2297858141024948189, 2070628998632056943]
DRAWN += [1001710331494444691, 1130296808722456609]


@pytest.mark.parametrize("name", [n for n in SOLUTION if n != "gradient_norms"])
def test_the_solution_passes_on_every_drawn_input_and_the_tolerances_stay_tight(name, capsys):
    """On drawn inputs some gradient entries are tiny and centred differences less exact; a fixed 1e-7 failed a
    right answer on about 1 draw in 100 (6 in 300 for the LSTM's weights). The tolerance follows the reference."""
    check = bptt.CHECKS[name]
    for seed in DRAWN:
        inputs = check.probe.inputs(seed)
        lines = check.judge(inputs, check.probe.probe(*SOLUTION[name], inputs))
        found = checks.parse("\n".join(lines))
        assert len(found) == ITEMS[name] and all(passed for _, passed in found), (seed, lines)
    if name in ("rnn_step_backward", "lstm_step_backward"):
        step = name.startswith("rnn")
        names = bptt.STEP if step else bptt.LSTM_STEP
        forward = scratch.rnn_step_forward if step else scratch.lstm_step_forward
        upstreams = ["dnext_h"] if step else ["dnext_h", "dnext_c"]
        for seed in DRAWN:
            inputs = check.probe.inputs(seed)
            *_, cache = forward(*(inputs[n] for n in names))
            backward = scratch.rnn_step_backward if step else scratch.lstm_step_backward
            reference = dict(zip(names, backward(*(inputs[u] for u in upstreams), cache)))
            limits = bptt.tolerances(forward, reference, inputs, names, upstreams)
            assert max(limits.values()) < 1e-3, (seed, limits)  # the mistakes named here are off by 1e-2 or more


def test_mistakes_fail_on_every_drawn_input_too():
    def no_tanh_derivative(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        return dnext_h @ Wx.T, dnext_h @ Wh.T, x.T @ dnext_h, prev_h.T @ dnext_h, dnext_h.sum(axis=0)

    def transposed(dnext_h, cache):
        x, prev_h, Wx, Wh, next_h = cache
        da = dnext_h * (1 - next_h**2)
        return da @ Wx.T, da @ Wh.T, x.T @ da, da.T @ prev_h, da.sum(axis=0)

    check = bptt.CHECKS["rnn_step_backward"]
    for seed in DRAWN:
        inputs = check.probe.inputs(seed)
        for wrong in (no_tanh_derivative, transposed):
            found = dict(
                checks.parse("\n".join(check.judge(inputs, check.probe.probe(rnn_step_forward, wrong, inputs))))
            )
            assert found["dWx, dWh and db match numerical gradients"] is False, (seed, wrong.__name__, found)

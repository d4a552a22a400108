"""Exercise 02's probes (BPTT by hand): the inputs each check feeds the learner's functions, and the calls.

What graded work gets of exercise 02's checks (see kerasdl.probes); the judges, with their
references, are kerasdl.checks.bptt and stay with the grader.

- `*_inputs(seed)` returns the float64 arrays of one check; each check's notebook seed
  (PROBES) gives the inputs the notebook has always had.
- `probe_*(learner's functions or value, inputs)` returns plain data: each call's outputs
  as arrays, or the one line saying what it raised or returned instead; for a backward
  pass also the learner's forward outputs with each input entry moved by ±NUMERICAL_STEP,
  from which the judge computes the numerical gradients. Never a reference, never a verdict.
- The gradient norms are computed in the learner's own cells, on vanishing_problem(): that
  probe only reports them (`reported`).
"""

import numpy as np

from kerasdl import probes
from kerasdl.probes.values import CheckError, call, describe_error, expect_tuple

NUMERICAL_STEP = 1e-5  # the centred differences' step, kerasdl.scratch.numerical_gradient's default
SIZES = {"N": 3, "T": 4, "D": 5, "H": 4}  # D != H, so a transposed input matrix cannot go unnoticed
VANISHING_RADIUS = 0.9  # the spectral radius of the recurrent matrix of vanishing_problem()
VANISHING_STEPS = 30
STEP, SEQUENCE = ["x", "prev_h", "Wx", "Wh", "b"], ["x", "h0", "Wx", "Wh", "b"]
LSTM_STEP = ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]


# ---------------------------------------------------------------- problems and inputs


def rnn_problem(seed=0, gates=1):
    """Return a dict of random float64 inputs, weights and upstream gradients for an RNN (gates=1) or LSTM (4)."""
    N, T, D, H = SIZES["N"], SIZES["T"], SIZES["D"], SIZES["H"]
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(N, T, D)),  # (N, T, D)
        "h0": rng.normal(scale=0.5, size=(N, H)),  # (N, H)
        "c0": rng.normal(scale=0.5, size=(N, H)),  # (N, H)
        "Wx": rng.normal(scale=D**-0.5, size=(D, gates * H)),  # (D, gates * H)
        "Wh": rng.normal(scale=H**-0.5, size=(H, gates * H)),  # (H, gates * H)
        "b": rng.normal(scale=0.5, size=gates * H),  # (gates * H,)
        "dh": rng.normal(size=(N, T, H)),  # (N, T, H): upstream gradient of every step's h
        "dc": rng.normal(size=(N, H)),  # (N, H)
    }


def vanishing_problem(seed=0):
    """Return {x, h0, Wx, Wh, b, dh_last} for the gradient-norm plot: Wh is 0.9 times an orthogonal matrix.

    The loss is L = sum(h_T * dh_last): it sees only the last hidden state h_T.
    """
    N, T, D, H = 4, VANISHING_STEPS, 3, 16
    rng = np.random.default_rng(seed)
    orthogonal, _ = np.linalg.qr(rng.normal(size=(H, H)))  # (H, H)
    return {
        "x": rng.normal(size=(N, T, D)),  # (N, T, D)
        "h0": np.zeros((N, H)),  # (N, H)
        "Wx": rng.normal(scale=0.5, size=(D, H)),  # (D, H)
        "Wh": VANISHING_RADIUS * orthogonal,  # (H, H): spectral radius 0.9
        "b": np.zeros(H),  # (H,)
        "dh_last": rng.normal(size=(N, H)),  # (N, H): dL/dh_T
    }


def step_inputs(seed):
    """Return one RNN step's inputs {x, prev_h, Wx, Wh, b} and the upstream gradient dnext_h, from rnn_problem."""
    p = rnn_problem(seed)
    return {"x": p["x"][:, 0, :], "prev_h": p["h0"], "dnext_h": p["dh"][:, 0, :]} | _weights(p)


def sequence_inputs(seed):
    """Return an RNN sequence's inputs {x, h0, Wx, Wh, b} and the upstream gradient dh of every step."""
    return {name: rnn_problem(seed)[name] for name in [*SEQUENCE, "dh"]}


def lstm_step_inputs(seed):
    """Return one LSTM step's inputs {x, prev_h, prev_c, Wx, Wh, b} and the upstream gradients dnext_h, dnext_c."""
    p = rnn_problem(seed, gates=4)
    step = {"x": p["x"][:, 0, :], "prev_h": p["h0"], "prev_c": p["c0"], "dnext_h": p["dh"][:, 0, :], "dnext_c": p["dc"]}
    return step | _weights(p)


def _weights(problem):
    return {name: problem[name] for name in ("Wx", "Wh", "b")}


# ---------------------------------------------------------------- probes: call the learner's code, return plain data


def _args(inputs, names):
    return [np.array(inputs[name], dtype=np.float64) for name in names]  # copies: the learner's code may change them


def probe_rnn_step_forward(rnn_step_forward, inputs):
    """Return {"forward": the call's record (see probes.probe_call), next_h only}."""
    return {"forward": probes.probe_call(rnn_step_forward, _args(inputs, STEP), 2, "(next_h, cache)", keep=1)[0]}


def probe_rnn_forward(rnn_forward, inputs):
    """Return {"forward": the call's record, h only}."""
    return {"forward": probes.probe_call(rnn_forward, _args(inputs, SEQUENCE), 2, "(h, cache)", keep=1)[0]}


def probe_gradient_norms(norms, inputs):
    """Return {"norms": the learner's norms as data}; they were computed in the notebook, on vanishing_problem()."""
    return {"norms": probes.as_data(norms)}


def _probe_backward(forward, backward, inputs, names, upstreams, forward_what, backward_what):
    """Return {"forward", "backward", "numerical"}: the forward call's record (its outputs before the cache), the
    backward call's on that cache and the upstream gradients, and the forward outputs around each input entry."""
    outputs = len(upstreams)
    record, results = probes.probe_call(forward, _args(inputs, names), outputs + 1, forward_what, keep=outputs)
    if results is None:
        return {"forward": record}
    gradients = _args(inputs, upstreams)
    backward_record = probes.probe_call(backward, [*gradients, results[-1]], len(names), backward_what)[0]
    return {"forward": record, "backward": backward_record, "numerical": _perturbed(forward, inputs, names, outputs)}


def _perturbed(forward, inputs, names, outputs):
    """Return {name: [output k of forward() with each entry of that input moved by +step, then -step]}: arrays of
    shape (entries, 2, *output k's shape); or {"error": what stopped it}."""
    arrays, found = _args(inputs, names), {}
    try:
        for name, array in zip(names, arrays):
            runs = []
            for index in np.ndindex(array.shape):
                old, pair = array[index], []
                for value in (old + NUMERICAL_STEP, old - NUMERICAL_STEP):
                    array[index] = value
                    results = expect_tuple(call(forward, *arrays), outputs + 1, "the outputs and cache")
                    pair.append([np.array(result, dtype=np.float64) for result in results[:outputs]])
                array[index] = old
                runs.append(pair)
            found[name] = [np.array([[plus[k], minus[k]] for plus, minus in runs]) for k in range(outputs)]
    except NotImplementedError:
        raise
    except CheckError as error:
        return {"error": str(error)}
    except Exception as error:  # an output that is not an array of numbers, or changes shape
        return {"error": describe_error(error)}
    return found


def probe_rnn_step_backward(rnn_step_forward, rnn_step_backward, inputs):
    """Return the data of _probe_backward for one RNN step."""
    what = "(dx, dprev_h, dWx, dWh, db)"
    return _probe_backward(rnn_step_forward, rnn_step_backward, inputs, STEP, ["dnext_h"], "(next_h, cache)", what)


def probe_rnn_backward(rnn_forward, rnn_backward, inputs):
    """Return the data of _probe_backward for an RNN sequence."""
    return _probe_backward(rnn_forward, rnn_backward, inputs, SEQUENCE, ["dh"], "(h, cache)", "(dx, dh0, dWx, dWh, db)")


def probe_lstm_step_backward(lstm_step_forward, lstm_step_backward, inputs):
    """Return the data of _probe_backward for one LSTM step."""
    upstreams, what = ["dnext_h", "dnext_c"], "(dx, dprev_h, dprev_c, dWx, dWh, db)"
    return _probe_backward(
        lstm_step_forward, lstm_step_backward, inputs, LSTM_STEP, upstreams, "(next_h, next_c, cache)", what
    )


PROBES = {
    probe.name: probe
    for probe in [
        probes.Probe("rnn_step_forward", step_inputs, probe_rnn_step_forward, seed=1),
        probes.Probe("rnn_step_backward", step_inputs, probe_rnn_step_backward, seed=2),
        probes.Probe("rnn_forward", sequence_inputs, probe_rnn_forward, seed=3),
        probes.Probe("rnn_backward", sequence_inputs, probe_rnn_backward, seed=4),
        probes.Probe("gradient_norms", vanishing_problem, probe_gradient_norms, seed=0, reported=True),
        probes.Probe("lstm_step_backward", lstm_step_inputs, probe_lstm_step_backward, seed=5),
    ]
}

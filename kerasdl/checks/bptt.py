"""Checks for the BPTT-by-hand exercise (solutions/02_bptt_by_hand.ipynb).

Each `check_*` function calls the learner's functions on small random float64
problems, prints one verdict line per item (see kerasdl.checks) and returns
None, so a check cell can call it bare. A backward pass is compared with
centred-difference numerical gradients of the learner's own forward pass and
with kerasdl.scratch, so a forward and a backward that are wrong in the same
way still fail. Everything is NumPy: the verdicts are the same on every
backend. A wrong type, shape or an exception becomes a ✘ line, never a crash;
NotImplementedError (an unsolved part) propagates.
"""

import numpy as np

from kerasdl import checks, scratch
from kerasdl.checks import CheckError

TOLERANCE = 1e-7  # relative error of an analytic gradient against a numerical one, in float64
LSTM_DWH_TOLERANCE = 1e-6  # the LSTM's dWh sums products of four gates: its centred differences are less exact
FORWARD_RTOL = 1e-10  # a float64 forward pass against kerasdl.scratch's
SIZES = {"N": 3, "T": 4, "D": 5, "H": 4}  # D != H, so a transposed input matrix cannot go unnoticed
VANISHING_RADIUS = 0.9  # the spectral radius of the recurrent matrix of vanishing_problem()
VANISHING_STEPS = 30


# ---------------------------------------------------------------- problems


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


def reference_gradient_norms(problem=None):
    """Return ‖dL/dh_t‖ (the norm of the whole (N, H) array) for t = 1..T, shape (T,), with kerasdl.scratch."""
    p = vanishing_problem() if problem is None else problem
    prev_h, caches = p["h0"], []
    for t in range(p["x"].shape[1]):
        prev_h, cache = scratch.rnn_step_forward(p["x"][:, t, :], prev_h, p["Wx"], p["Wh"], p["b"])
        caches.append(cache)
    norms, gradient = np.zeros(len(caches)), p["dh_last"]
    for t in reversed(range(len(caches))):
        norms[t] = np.linalg.norm(gradient)
        gradient = scratch.rnn_step_backward(gradient, caches[t])[1]  # dL/dh_{t-1}
    return norms


# ---------------------------------------------------------------- helpers


def _copies(problem, names):
    return [problem[name].copy() for name in names]


def _run(function, *args):
    """Return function(*args), or raise CheckError naming what it raised; NotImplementedError propagates."""
    if not callable(function):
        raise CheckError(f"expected a function, got {checks._kind(function)}")
    try:
        return function(*args)
    except NotImplementedError:
        raise
    except Exception as error:
        raise CheckError(f"{getattr(function, '__name__', 'your function')} {checks.describe_error(error)}") from None


def _parts(result, count, what):
    """Return `result` as a tuple of `count` items, or raise CheckError."""
    if not isinstance(result, (tuple, list)) or len(result) != count:
        length = f" of {len(result)}" if isinstance(result, (tuple, list)) else ""
        raise CheckError(f"expected a tuple of {count}: {what}; got {checks._kind(result)}{length}")
    return tuple(result)


def _arrays(values, names, shapes):
    """Return the values as float arrays after checking each one's shape, or raise CheckError."""
    arrays = []
    for value, name, shape in zip(values, names, shapes):
        try:
            array = checks.expect_array(value, shape=shape)
        except CheckError as error:
            raise CheckError(f"{name}: {error}") from None
        arrays.append(array.astype(np.float64))
    return arrays


def _shape_text(shape):
    return checks._shape_text(shape)


class _Outcome:
    """What one call of the learner's functions gave: a value, or the problem that stopped it."""

    def __init__(self, compute):
        try:
            self.value, self.problem = compute(), None
        except NotImplementedError:
            raise
        except CheckError as error:
            self.value, self.problem = None, str(error)
        except Exception as error:  # a bug in the learner's code that escaped _run
            self.value, self.problem = None, checks.describe_error(error)

    def first(self):
        """Return the value, or raise CheckError with the problem (for the item that reports it)."""
        if self.problem is not None:
            raise CheckError(self.problem)
        return self.value


def _item(item, body, hint, needs=()):
    """Print `item`'s verdict: `✘ item — fix the item above first` when an outcome it needs failed."""
    if any(outcome.problem is not None for outcome in needs):
        checks.verdict(item, False, "fix the item above first")
    else:
        checks.check(item, body, hint=hint)


def _gradient_item(item, analytic, numerical, names, hint, looser=None):
    """Print the verdict for analytic gradients (a dict) against numerical ones, within TOLERANCE."""
    looser = looser or {}

    def body():
        errors = {name: scratch.rel_error(analytic.value[name], numerical.first()[name]) for name in names}
        bad = [f"d{name} (relative error {errors[name]:.0e})" for name in names
               if not errors[name] <= looser.get(name, TOLERANCE)]
        if bad:
            raise CheckError(f"{', '.join(bad)} too far from the numerical gradient")
        return True

    _item(item, body, hint, needs=[analytic])


def _same_item(item, ours, reference, names, hint):
    """Print the verdict for arrays (a dict) against kerasdl.scratch's, to float64 precision."""

    def body():
        bad = ["d" + name for name in names
               if not np.allclose(ours.value[name], reference[name], rtol=1e-6, atol=1e-9)]
        if bad:
            raise CheckError(f"{', '.join(bad)} differ from kerasdl.scratch's")
        return True

    _item(item, body, hint, needs=[ours])


def _numerical(forward, arrays, names, upstreams):
    """Return {name: numerical gradient of sum(output_k * upstream_k)} for forward() over the arrays it reads."""
    found = {}
    for name, array in zip(names, arrays):
        total = np.zeros_like(array)
        for k, upstream in enumerate(upstreams):
            total += scratch.numerical_gradient(lambda _, k=k: forward()[k], array, upstream)
        found[name] = total
    return found


# ---------------------------------------------------------------- RNN step


def check_rnn_step_forward(rnn_step_forward):
    """Print verdicts for rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)."""
    p = rnn_problem(seed=1)
    N, H = SIZES["N"], SIZES["H"]
    x, prev_h, Wx, Wh, b = p["x"][:, 0, :], p["h0"], p["Wx"], p["Wh"], p["b"]

    def compute():
        result = _parts(_run(rnn_step_forward, x.copy(), prev_h.copy(), Wx.copy(), Wh.copy(), b.copy()),
                        2, "(next_h, cache)")
        return _arrays(result[:1], ["next_h"], [(N, H)])[0]

    outcome = _Outcome(compute)
    checks.check("rnn_step_forward returns (next_h, cache) with next_h of shape (N, H)",
                 lambda: outcome.first() is not None,
                 hint="x is (N, D), Wx (D, H), prev_h (N, H), Wh (H, H): x @ Wx + prev_h @ Wh + b is (N, H)")
    reference = scratch.rnn_step_forward(x, prev_h, Wx, Wh, b)[0]
    _item("next_h = tanh(x Wx + prev_h Wh + b)",
          lambda: checks.expect_close(outcome.value, reference, rtol=FORWARD_RTOL, atol=1e-12),
          hint="multiply the rows by the weights from the right (x @ Wx, not Wx @ x or x @ Wx.T), "
               "add b, then apply np.tanh", needs=[outcome])


def check_rnn_step_backward(rnn_step_forward, rnn_step_backward):
    """Print verdicts for rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)."""
    p = rnn_problem(seed=2)
    N, D, H = SIZES["N"], SIZES["D"], SIZES["H"]
    names = ["x", "prev_h", "Wx", "Wh", "b"]
    x, prev_h, Wx, Wh, b = p["x"][:, 0, :].copy(), p["h0"].copy(), p["Wx"].copy(), p["Wh"].copy(), p["b"].copy()
    dnext_h = p["dh"][:, 0, :]

    def analytic():
        _, cache = _parts(_run(rnn_step_forward, x, prev_h, Wx, Wh, b), 2, "(next_h, cache)")
        result = _parts(_run(rnn_step_backward, dnext_h.copy(), cache), 5, "(dx, dprev_h, dWx, dWh, db)")
        shapes = [(N, D), (N, H), (D, H), (H, H), (H,)]
        return dict(zip(names, _arrays(result, ["d" + n for n in names], shapes)))

    ours = _Outcome(analytic)
    checks.check("rnn_step_backward returns (dx, dprev_h, dWx, dWh, db) shaped like x, prev_h, Wx, Wh, b",
                 lambda: ours.first() is not None, hint="each gradient has the shape of what it is the gradient of")

    def forward():
        return (_parts(_run(rnn_step_forward, x, prev_h, Wx, Wh, b), 2, "(next_h, cache)")[0],)

    numerical = _Outcome(lambda: _numerical(forward, [x, prev_h, Wx, Wh, b], names, [dnext_h]))
    tanh_hint = "go back through the tanh first: da = dnext_h * (1 - next_h**2)"
    _gradient_item("dx and dprev_h match numerical gradients", ours, numerical, ["x", "prev_h"],
                   hint=tanh_hint + "; then dx = da @ Wx.T and dprev_h = da @ Wh.T")
    _gradient_item("dWx, dWh and db match numerical gradients", ours, numerical, ["Wx", "Wh", "b"],
                   hint=tanh_hint + "; then dWx = x.T @ da, dWh = prev_h.T @ da, db sums da over the batch")
    reference_cache = scratch.rnn_step_forward(x, prev_h, Wx, Wh, b)[1]
    reference = dict(zip(names, scratch.rnn_step_backward(dnext_h, reference_cache)))
    _same_item("the gradients equal kerasdl.scratch.rnn_step_backward's", ours, reference, names,
               hint="check rnn_step_forward first: your backward pass must match the reference forward pass")


# ---------------------------------------------------------------- RNN sequence


def check_rnn_forward(rnn_forward):
    """Print verdicts for rnn_forward(x, h0, Wx, Wh, b) -> (h, cache), h of shape (N, T, H)."""
    p = rnn_problem(seed=3)
    N, T, H = SIZES["N"], SIZES["T"], SIZES["H"]
    names = ["x", "h0", "Wx", "Wh", "b"]

    def compute():
        result = _parts(_run(rnn_forward, *_copies(p, names)), 2, "(h, cache)")
        return _arrays(result[:1], ["h"], [(N, T, H)])[0]

    outcome = _Outcome(compute)
    checks.check("rnn_forward returns (h, cache) with h of shape (N, T, H)", lambda: outcome.first() is not None,
                 hint="stack the hidden state of every step along axis 1")
    reference = scratch.rnn_forward(*_copies(p, names))[0]
    _item("h holds every step's hidden state, starting from h0",
          lambda: checks.expect_close(outcome.value, reference, rtol=FORWARD_RTOL, atol=1e-12),
          hint="step t reads x[:, t, :] and the previous step's h (h0 before the first step); "
               "the same Wx, Wh and b at every step", needs=[outcome])


def check_rnn_backward(rnn_forward, rnn_backward):
    """Print verdicts for rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)."""
    p = rnn_problem(seed=4)
    N, T, D, H = SIZES["N"], SIZES["T"], SIZES["D"], SIZES["H"]
    names = ["x", "h0", "Wx", "Wh", "b"]
    arrays = _copies(p, names)
    dh = p["dh"]

    def analytic():
        _, cache = _parts(_run(rnn_forward, *arrays), 2, "(h, cache)")
        result = _parts(_run(rnn_backward, dh.copy(), cache), 5, "(dx, dh0, dWx, dWh, db)")
        shapes = [(N, T, D), (N, H), (D, H), (H, H), (H,)]
        return dict(zip(names, _arrays(result, ["d" + n for n in names], shapes)))

    ours = _Outcome(analytic)
    checks.check("rnn_backward returns (dx, dh0, dWx, dWh, db) shaped like x, h0, Wx, Wh, b",
                 lambda: ours.first() is not None, hint="each gradient has the shape of what it is the gradient of")

    def forward():
        return (_parts(_run(rnn_forward, *arrays), 2, "(h, cache)")[0],)

    numerical = _Outcome(lambda: _numerical(forward, arrays, names, [dh]))
    _gradient_item("dx and dh0 match numerical gradients", ours, numerical, ["x", "h0"],
                   hint="walk the steps backwards; at step t the gradient of h_t is dh[:, t, :] plus the "
                        "dprev_h carried back from step t + 1")
    _gradient_item("dWx, dWh and db match numerical gradients", ours, numerical, ["Wx", "Wh", "b"],
                   hint="the weights are shared by every step: add up each step's dWx, dWh and db, "
                        "each from that step's full gradient (its own dh plus the carried one)")
    reference = dict(zip(names, scratch.rnn_backward(dh, scratch.rnn_forward(*_copies(p, names))[1])))
    _same_item("the gradients equal kerasdl.scratch.rnn_backward's", ours, reference, names,
               hint="check rnn_forward first: your backward pass must match the reference forward pass")


# ---------------------------------------------------------------- gradient norms


def check_gradient_norms(norms):
    """Print verdicts for the plotted norms ‖dL/dh_t‖, t = 1..T, on vanishing_problem()."""
    reference = reference_gradient_norms()
    T = len(reference)

    def compute():
        values = norms
        if isinstance(values, (list, tuple)):
            try:
                values = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                raise CheckError("expected numbers, one per time step; got a list of something else") from None
        return checks.expect_array(values, shape=(T,)).astype(np.float64)

    outcome = _Outcome(compute)
    checks.check(f"one norm per time step, shape ({T},)", lambda: outcome.first() is not None,
                 hint="norms[t] is the norm of dL/dh at step t + 1, for t = 0 .. T - 1, in time order")
    _item("the norms are ‖dL/dh_t‖ of vanishing_problem(), in time order",
          lambda: checks.expect_close(outcome.value, reference, rtol=1e-6, atol=1e-300),
          hint="start from dL/dh_T = dh_last and call your rnn_step_backward once per step, going back; "
               "take np.linalg.norm of the whole (N, H) gradient", needs=[outcome])

    def vanishes():
        values = outcome.value
        if not np.all(values > 0):
            raise CheckError("the norms must be positive")
        shrinking = bool(np.all(np.diff(values) > 0))  # each step further back is smaller
        if not (shrinking and values[0] < 1e-2 * values[-1]):
            raise CheckError("the norms should shrink at every step back in time, to below 1% of the last one")
        return True

    _item("the gradient vanishes going back in time", vanishes,
          hint="each step back multiplies by diag(1 - h²) Wh.T, whose norm is at most 0.9 here", needs=[outcome])


# ---------------------------------------------------------------- LSTM step


def check_lstm_step_backward(lstm_step_forward, lstm_step_backward):
    """Print verdicts for lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)."""
    p = rnn_problem(seed=5, gates=4)
    N, D, H = SIZES["N"], SIZES["D"], SIZES["H"]
    names = ["x", "prev_h", "prev_c", "Wx", "Wh", "b"]
    arrays = [p["x"][:, 0, :].copy(), p["h0"].copy(), p["c0"].copy(), p["Wx"].copy(), p["Wh"].copy(), p["b"].copy()]
    dnext_h, dnext_c = p["dh"][:, 0, :], p["dc"]

    def analytic():
        result = _parts(_run(lstm_step_forward, *arrays), 3, "(next_h, next_c, cache)")
        gradients = _parts(_run(lstm_step_backward, dnext_h.copy(), dnext_c.copy(), result[2]), 6,
                           "(dx, dprev_h, dprev_c, dWx, dWh, db)")
        shapes = [(N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,)]
        return dict(zip(names, _arrays(gradients, ["d" + n for n in names], shapes)))

    ours = _Outcome(analytic)
    checks.check("lstm_step_backward returns (dx, dprev_h, dprev_c, dWx, dWh, db) shaped like the inputs",
                 lambda: ours.first() is not None, hint="each gradient has the shape of what it is the gradient of")

    def forward():
        return _parts(_run(lstm_step_forward, *arrays), 3, "(next_h, next_c, cache)")[:2]

    numerical = _Outcome(lambda: _numerical(forward, arrays, names, [dnext_h, dnext_c]))
    _gradient_item("dx, dprev_h and dprev_c match numerical gradients", ours, numerical, ["x", "prev_h", "prev_c"],
                   hint="next_c reaches next_h through o * tanh(next_c): add dnext_h * o * (1 - tanh(next_c)**2) "
                        "to dnext_c before going further back; dprev_c = dc * f")
    _gradient_item("dWx, dWh and db match numerical gradients, gates in the order i, f, o, g", ours, numerical,
                   ["Wx", "Wh", "b"], looser={"Wh": LSTM_DWH_TOLERANCE},
                   hint="put the gates' gradients di, df, do, dg side by side in the forward pass's order, "
                        "each through its own nonlinearity (sigmoid' = s(1 - s), tanh' = 1 - g²)")
    reference_cache = scratch.lstm_step_forward(*arrays)[2]
    reference = dict(zip(names, scratch.lstm_step_backward(dnext_h, dnext_c, reference_cache)))
    _same_item("the gradients equal kerasdl.scratch.lstm_step_backward's", ours, reference, names,
               hint="check that lstm_step_forward is unchanged: the gradients must match the reference LSTM")

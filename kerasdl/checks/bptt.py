"""Checks for the BPTT-by-hand exercise (solutions/02_bptt_by_hand.ipynb).

Each `check_*` function calls the learner's functions on small random float64
problems, prints one verdict line per item (see kerasdl.checks) and returns
None, so a check cell can call it bare. A backward pass is compared with
centred-difference numerical gradients of the learner's own forward pass and
with kerasdl.scratch, so a forward and a backward that are wrong in the same
way still fail. Everything is NumPy: the verdicts are the same on every
backend. A wrong type, shape or an exception becomes a ✘ line, never a crash;
NotImplementedError (an unsolved part) propagates.

Hints name what is wrong and where to look, never the expression to type: which
gradients are off, which part (the tanh, the carried gradient, the shared weights,
the cell-state path, one gate's block) a known mistake points at, and whether the
forward or the backward pass is to blame.

Each check is a ProbedCheck in CHECKS (see kerasdl.checks): its probe, with the inputs
it feeds the learner's code, is kerasdl.probes.bptt; its judge is `judge_*(inputs, data)`
here, which computes the references from the inputs (with kerasdl.scratch) and the
numerical gradients from the probe's forward outputs, and returns the verdict lines. A
judge treats the data as hostile: a missing key, a wrong type, shape or dtype, NaN, a
huge or nested value is a ✘ line with a hint, never an exception.

In a learner's notebook `check_*` runs both halves in the kernel. When grading, only the
probes run in the sandbox, on inputs from seeds the grader draws (kerasdl.course.probed),
and the judges run in the grader's process. ANSWERS names what of the kit implements
this exercise's answers: in graded work kerasdl.scratch keeps only its two tools.
"""

import itertools

import numpy as np

from kerasdl import checks, scratch
from kerasdl.checks import CheckError
from kerasdl.probes.bptt import (  # noqa: F401 (the inputs are part of this module's interface)
    LSTM_STEP,
    NUMERICAL_STEP,
    PROBES,
    SEQUENCE,
    SIZES,
    STEP,
    VANISHING_RADIUS,
    VANISHING_STEPS,
    lstm_step_inputs,
    rnn_problem,
    sequence_inputs,
    step_inputs,
    vanishing_problem,
)

TOLERANCE = 1e-7  # relative error of an analytic gradient against a numerical one, in float64
CONDITIONING = 10  # a right gradient may miss its centred differences by 10x what the reference's misses by
LSTM_DWH_TOLERANCE = 1e-6  # the LSTM's dWh sums products of four gates: its centred differences are less exact
FORWARD_RTOL = 1e-10  # a float64 forward pass against kerasdl.scratch's


# ---------------------------------------------------------------- judges: references and verdicts, from inputs and data


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


class _Outcome:
    """What the data holds for one call of the learner's functions: a value, or the problem that stopped it."""

    def __init__(self, compute):
        try:
            with np.errstate(all="ignore"):
                self.value, self.problem = compute(), None
        except CheckError as error:
            self.value, self.problem = None, str(error)
        except Exception as error:  # data no probe writes
            self.value, self.problem = None, f"{checks.MALFORMED}: {checks.describe_error(error)}"

    def first(self):
        """Return the value, or raise CheckError with the problem (for the item that reports it)."""
        if self.problem is not None:
            raise CheckError(self.problem)
        return self.value


def _field(data, key):
    if not isinstance(data, dict) or key not in data:
        raise CheckError(f"{checks.MALFORMED}: it has no {key!r}")
    return data[key]


def _item(item, body, hint, needs=()):
    """Return `item`'s line: `✘ item — fix the item above first` when an outcome it needs failed."""
    if any(outcome.problem is not None for outcome in needs):
        return checks.verdict_line(item, lambda: False, "fix the item above first")
    with np.errstate(all="ignore"):
        return checks.verdict_line(item, body, hint=hint)


def _first_item(item, outcome, hint):
    return checks.verdict_line(item, lambda: outcome.first() is not None, hint=hint)


def _forward(data, outputs, shape, name=""):
    """Return the learner's first forward output from the data, as a float64 array of `shape`, or raise CheckError."""
    return checks.data_array(checks.data_values(_field(data, "forward"), outputs)[0], shape, name)


def _gradients(data, inputs, names, outputs):
    """Return {name: the learner's gradient of that input}, each of the input's shape, or raise CheckError."""
    checks.data_values(_field(data, "forward"), outputs)  # the forward call's problem comes first
    values = checks.data_values(_field(data, "backward"), len(names))
    return {name: checks.data_array(v, inputs[name].shape, "d" + name) for name, v in zip(names, values)}


def _numerical(data, inputs, names, upstreams):
    """Return {name: the centred-difference gradient of sum(output_k * upstream_k)}, from the probe's outputs."""
    record, found = _field(data, "numerical"), {}
    if isinstance(record, dict) and set(record) == {"error"} and isinstance(record["error"], str):
        raise CheckError(checks.clip(record["error"]))
    for name in names:
        shape, runs = inputs[name].shape, _field(record, name)
        if not isinstance(runs, list) or len(runs) != len(upstreams):
            raise CheckError(f"{checks.MALFORMED}: {name}'s outputs")
        total = np.zeros(shape)
        for stack, upstream in zip(runs, upstreams):
            df = inputs[upstream]
            if not isinstance(stack, np.ndarray) or stack.dtype.kind != "f" or stack.shape[:2] != (np.prod(shape), 2):
                raise CheckError(f"{checks.MALFORMED}: {name}'s outputs")
            if stack.shape[2:] != df.shape:
                got, want = checks.shape_text(stack.shape[2:]), checks.shape_text(df.shape)
                raise CheckError(f"raised ValueError: df must have the shape of f(x) = {got}, got {want}")
            grad = np.zeros(shape)
            for n, index in enumerate(np.ndindex(shape)):  # as kerasdl.scratch.numerical_gradient, to the bit
                grad[index] = np.sum((stack[n, 0] - stack[n, 1]) * df) / (2 * NUMERICAL_STEP)
            total += grad
        found[name] = total
    return found


def tolerances(forward, reference, inputs, names, upstreams, looser=None):
    """Return {name: the relative error a right gradient may have here}: TOLERANCE (or `looser`'s), or
    CONDITIONING times the error of kerasdl.scratch's own gradient against centred differences of its own
    forward pass on these inputs, whichever is larger.

    On inputs drawn for a grading run some entries of a gradient are tiny, and there the centred differences
    are far less exact than on the notebook's inputs: the reference tells how exact a right answer can be.
    """
    arrays = [np.array(inputs[name], dtype=np.float64) for name in names]
    found = {}
    for position, name in enumerate(names):
        numerical = sum(
            scratch.numerical_gradient(lambda _, k=k: forward(*arrays)[k], arrays[position], inputs[upstream])
            for k, upstream in enumerate(upstreams)
        )
        own = scratch.rel_error(reference[name], numerical)
        found[name] = max((looser or {}).get(name, TOLERANCE), CONDITIONING * own)
    return found


def _bad_gradients(analytic, numerical, names, limits):
    """Return {name: relative error} for the analytic gradients too far from the numerical ones."""
    errors = {name: scratch.rel_error(analytic[name], numerical[name]) for name in names}
    return {name: error for name, error in errors.items() if not error <= limits[name]}


def _gradient_item(item, analytic, numerical, names, hint, limits):
    """Return the line for analytic gradients (a dict) against numerical ones, within `limits` (see tolerances).

    `hint` is a string, or a function of the names that failed returning one (to point at that part).
    """

    def body():
        bad = _bad_gradients(analytic.value, numerical.first(), names, limits)
        if bad:
            where = hint(sorted(bad, key=names.index)) if callable(hint) else hint
            text = ", ".join(f"d{name} (relative error {error:.0e})" for name, error in bad.items())
            raise CheckError(_join(f"{text} too far from the numerical gradient", where))
        return True

    return _item(item, body, "", needs=[analytic])


def _join(problem, hint):
    return f"{problem}; {hint}" if hint else problem


def _same_item(item, ours, reference, names, forward_matches):
    """Return the line for arrays (a dict) against kerasdl.scratch's, to float64 precision.

    The hint blames the forward pass only when `forward_matches` (a bool) says it differs from the reference.
    """

    def body():
        bad = ["d" + name for name in names if not np.allclose(ours.value[name], reference[name], rtol=1e-6, atol=1e-9)]
        if bad:
            where = (
                "your forward pass matches the reference, so the backward pass is to blame: see the items above"
                if forward_matches
                else "your forward pass differs from the reference one and this backward pass follows it: "
                "fix the forward pass first"
            )
            raise CheckError(f"{', '.join(bad)} differ from kerasdl.scratch's; {where}")
        return True

    return _item(item, body, "", needs=[ours])


def _matches(data, outputs, reference):
    """Return True when the learner's forward output in the data equals `reference` to float64 precision."""
    try:
        value = _forward(data, outputs, reference.shape)
    except CheckError:
        return False
    return bool(np.allclose(value, reference, rtol=1e-8, atol=1e-10))


def _same_as(value, candidate):
    """Return True when `value` (an array) equals `candidate`, a wrong answer the hint can name."""
    return value.shape == candidate.shape and bool(np.allclose(value, candidate, rtol=1e-8, atol=1e-10))


def _backward_outcomes(data, inputs, names, upstreams):
    """Return (ours, numerical): the learner's gradients and the numerical ones of its forward pass, as _Outcomes."""
    ours = _Outcome(lambda: _gradients(data, inputs, names, len(upstreams)))
    return ours, _Outcome(lambda: _numerical(data, inputs, names, upstreams))


# ---------------------------------------------------------------- RNN step


def judge_rnn_step_forward(inputs, data):
    """Return the verdict lines for rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)."""
    x, prev_h, Wx, Wh, b = (inputs[name] for name in STEP)
    outcome = _Outcome(lambda: _forward(data, 1, (SIZES["N"], SIZES["H"]), "next_h"))
    first = _first_item(
        "rnn_step_forward returns (next_h, cache) with next_h of shape (N, H)",
        outcome,
        hint="next_h has a row per example and a column per hidden unit: look at the shapes of x, Wx, "
        "prev_h and Wh, and at the order of each product",
    )
    reference = scratch.rnn_step_forward(x, prev_h, Wx, Wh, b)[0]
    mistakes = [
        (x @ Wx + prev_h @ Wh + b, "the values are not squashed: the tanh is missing"),
        (np.tanh(x @ Wx + prev_h @ Wh.T + b), "the recurrent term uses Wh transposed"),
        (np.tanh(x @ Wx + prev_h @ Wh), "the bias b is missing"),
        (np.tanh(x @ Wx + b), "the recurrent term (prev_h with Wh) is missing"),
        (np.tanh(prev_h @ Wh + b), "the input term (x with Wx) is missing"),
    ]

    def values():
        if _same_as(outcome.value, reference):
            return True
        why = next(
            (words for candidate, words in mistakes if _same_as(outcome.value, candidate)),
            "compare your expression with the text's term by term: the input term, the recurrent term, "
            "the bias, then the tanh",
        )
        raise CheckError(why)

    return [first, _item("next_h = tanh(x Wx + prev_h Wh + b)", values, "", needs=[outcome])]


def judge_rnn_step_backward(inputs, data):
    """Return the verdict lines for rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)."""
    x, prev_h, Wx, Wh, b = (inputs[name] for name in STEP)
    ours, numerical = _backward_outcomes(data, inputs, STEP, ["dnext_h"])
    lines = [
        _first_item(
            "rnn_step_backward returns (dx, dprev_h, dWx, dWh, db) shaped like x, prev_h, Wx, Wh, b",
            ours,
            hint="each gradient has the shape of what it is the gradient of",
        )
    ]
    reference_h, reference_cache = scratch.rnn_step_forward(x, prev_h, Wx, Wh, b)
    reference = dict(zip(STEP, scratch.rnn_step_backward(inputs["dnext_h"], reference_cache)))
    untanhed = dict(zip(STEP, scratch.rnn_step_backward(inputs["dnext_h"] / (1 - reference_h**2), reference_cache)))

    def where(bad):
        if ours.value is not None and all(_same_as(ours.value[name], untanhed[name]) for name in bad):
            return "the gradient has not gone back through the tanh: its derivative is missing"
        if set(bad) <= {"x", "prev_h"}:
            return (
                "look at how x and prev_h enter the forward pass: which weight matrix each one meets, "
                "and from which side"
            )
        return (
            "each weight's gradient pairs the gradient before the tanh with what that weight multiplied, "
            "added up over the examples of the batch"
        )

    limits = tolerances(scratch.rnn_step_forward, reference, inputs, STEP, ["dnext_h"])
    lines.append(
        _gradient_item("dx and dprev_h match numerical gradients", ours, numerical, ["x", "prev_h"], where, limits)
    )
    weights = ["Wx", "Wh", "b"]
    lines.append(_gradient_item("dWx, dWh and db match numerical gradients", ours, numerical, weights, where, limits))
    forward_matches = _matches(data, 1, reference_h)
    lines.append(
        _same_item("the gradients equal kerasdl.scratch.rnn_step_backward's", ours, reference, STEP, forward_matches)
    )
    return lines


# ---------------------------------------------------------------- RNN sequence


def judge_rnn_forward(inputs, data):
    """Return the verdict lines for rnn_forward(x, h0, Wx, Wh, b) -> (h, cache), h of shape (N, T, H)."""
    x, h0, Wx, Wh, b = (inputs[name] for name in SEQUENCE)
    T = x.shape[1]
    outcome = _Outcome(lambda: _forward(data, 1, (SIZES["N"], T, SIZES["H"]), "h"))
    first = _first_item(
        "rnn_forward returns (h, cache) with h of shape (N, T, H)",
        outcome,
        hint="stack the hidden state of every step along axis 1",
    )
    reference = scratch.rnn_forward(x, h0, Wx, Wh, b)[0]
    mistakes = [
        (scratch.rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)[0], "the first step must start from h0, not zeros"),
        (
            np.stack([scratch.rnn_step_forward(x[:, t, :], h0, Wx, Wh, b)[0] for t in range(T)], axis=1),
            "every step starts from h0: each step should start from the previous step's state",
        ),
    ]

    def values():
        if _same_as(outcome.value, reference):
            return True
        named = next((words for candidate, words in mistakes if _same_as(outcome.value, candidate)), None)
        if named:
            raise CheckError(named)
        if _same_as(outcome.value[:, 0], reference[:, 0]):
            raise CheckError(
                "the first step is right but later ones are not: look at what each step hands "
                "to the next, and which slice of x it reads"
            )
        raise CheckError(
            "the first step is already wrong: look at which slice of x step 0 reads and the state it starts from"
        )

    return [first, _item("h holds every step's hidden state, starting from h0", values, "", needs=[outcome])]


def judge_rnn_backward(inputs, data):
    """Return the verdict lines for rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)."""
    dh = inputs["dh"]
    ours, numerical = _backward_outcomes(data, inputs, SEQUENCE, ["dh"])
    lines = [
        _first_item(
            "rnn_backward returns (dx, dh0, dWx, dWh, db) shaped like x, h0, Wx, Wh, b",
            ours,
            hint="each gradient has the shape of what it is the gradient of",
        )
    ]
    reference_h, reference_cache = scratch.rnn_forward(*(inputs[name] for name in SEQUENCE))
    reference = dict(zip(SEQUENCE, scratch.rnn_backward(dh, reference_cache)))
    uncarried = dict(zip(SEQUENCE, _variant_backward(dh, reference_cache, carry=False)))
    last_step = dict(zip(SEQUENCE, _variant_backward(dh, reference_cache, accumulate=False)))

    def where(bad):
        mine = ours.value or {}
        if all(name in mine and _same_as(mine[name], uncarried[name]) for name in bad):
            return (
                "the gradient carried back from the later steps is missing: each h_t also feeds step t + 1, "
                "so its gradient has two parts"
            )
        if set(bad) <= {"Wx", "Wh", "b"} and any(
            _same_as(mine.get(name, np.zeros(0)), last_step[name]) for name in bad
        ):
            return "these are one step's gradients: the weights are shared by every step, so every step adds to them"
        if set(bad) <= {"x", "h0"}:
            return "walk the steps from the last to the first; look at what each step passes back to the one before"
        return "the weights are shared by every step: each step adds its part, computed from that step's full gradient"

    limits = tolerances(scratch.rnn_forward, reference, inputs, SEQUENCE, ["dh"])
    lines.append(_gradient_item("dx and dh0 match numerical gradients", ours, numerical, ["x", "h0"], where, limits))
    weights = ["Wx", "Wh", "b"]
    lines.append(_gradient_item("dWx, dWh and db match numerical gradients", ours, numerical, weights, where, limits))
    forward_matches = _matches(data, 1, reference_h)
    lines.append(
        _same_item("the gradients equal kerasdl.scratch.rnn_backward's", ours, reference, SEQUENCE, forward_matches)
    )
    return lines


def _variant_backward(dh, cache, carry=True, accumulate=True):
    """Return rnn_backward's gradients computed with kerasdl.scratch, without the carried gradient (carry=False)
    or keeping one step's weight gradients (accumulate=False): two classic mistakes a hint can name."""
    steps = cache[0]
    N, T, H = dh.shape
    dx, dprev_h, weights = None, np.zeros((N, H)), None
    for t in reversed(range(T)):
        grads = scratch.rnn_step_backward(dh[:, t, :] + (dprev_h if carry else 0.0), steps[t])
        dx = np.zeros((N, T, grads[0].shape[1])) if dx is None else dx
        dx[:, t, :], dprev_h = grads[0], grads[1]
        step_weights = grads[2:]
        weights = (
            step_weights
            if weights is None or not accumulate
            else tuple(total + part for total, part in zip(weights, step_weights))
        )
    return (dx, dprev_h, *weights)


# ---------------------------------------------------------------- gradient norms


def judge_gradient_norms(inputs, data):
    """Return the verdict lines for the plotted norms ‖dL/dh_t‖, t = 1..T, on vanishing_problem()."""
    reference = reference_gradient_norms(inputs)
    T = len(reference)
    outcome = _Outcome(lambda: checks.data_array(_field(data, "norms"), (T,)))
    first = _first_item(
        f"one norm per time step, shape ({T},)",
        outcome,
        hint="one number per time step, in time order: the text of this part says which",
    )

    def values():
        if np.allclose(outcome.value, reference, rtol=1e-6, atol=1e-300):
            return True
        if np.allclose(outcome.value, reference[::-1], rtol=1e-6, atol=1e-300):
            raise CheckError(
                "the norms are in reverse time order: the first entry belongs to the first step, "
                "the last one to the gradient you start from"
            )
        if np.isclose(outcome.value[-1], reference[-1], rtol=1e-6):
            raise CheckError(
                "the last norm (where you start) is right but earlier ones are not: look at what "
                "each step back does to the gradient"
            )
        raise CheckError(
            "even the last norm, that of the gradient you start from, is off: look at which array "
            "you start from and what the norm is taken over"
        )

    def vanishes():
        values = outcome.value
        if not np.all(values > 0):
            raise CheckError("the norms must be positive")
        shrinking = bool(np.all(np.diff(values) > 0))  # each step further back is smaller
        if not (shrinking and values[0] < 1e-2 * values[-1]):
            raise CheckError("the norms should shrink at every step back in time, to below 1% of the last one")
        return True

    return [
        first,
        _item("the norms are ‖dL/dh_t‖ of vanishing_problem(), in time order", values, "", needs=[outcome]),
        _item(
            "the gradient vanishes going back in time",
            vanishes,
            hint="going back in time each step can only shrink the gradient here (Wh's largest singular value is "
            "0.9 and the tanh's slope at most 1): check the order and the values above",
            needs=[outcome],
        ),
    ]


# ---------------------------------------------------------------- LSTM step


def judge_lstm_step_backward(inputs, data):
    """Return the verdict lines for lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh,
    db)."""
    H = SIZES["H"]
    names = LSTM_STEP
    ours, numerical = _backward_outcomes(data, inputs, names, ["dnext_h", "dnext_c"])
    lines = [
        _first_item(
            "lstm_step_backward returns (dx, dprev_h, dprev_c, dWx, dWh, db) shaped like the inputs",
            ours,
            hint="each gradient has the shape of what it is the gradient of",
        )
    ]
    x, prev_h, prev_c, Wx, Wh, b = (inputs[name] for name in names)
    dnext_h, dnext_c = inputs["dnext_h"], inputs["dnext_c"]
    reference_h, _, reference_cache = scratch.lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    reference = dict(zip(names, scratch.lstm_step_backward(dnext_h, dnext_c, reference_cache)))
    a = x @ Wx + prev_h @ Wh + b  # (N, 4H): the gate blocks i, f, o, g
    f, o = _sigmoid(a[:, H : 2 * H]), _sigmoid(a[:, 2 * H : 3 * H])  # (N, H) each
    next_c = f * prev_c + _sigmoid(a[:, :H]) * np.tanh(a[:, 3 * H :])  # (N, H)
    dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)  # (N, H): the gradient reaching next_c
    cell_mistakes = [
        (
            (dnext_c + dnext_h * o) * f,
            "the gradient from next_h reaches next_c through a tanh: its derivative is missing on that path",
        ),
        (dnext_c * f, "next_c also reaches next_h (through the output gate and a tanh): that gradient is missing"),
        (dc, "the gradient reaching prev_c passes the forget gate on the way"),
    ]

    def blocks(name="b"):
        """Return the gates whose block of d<name> differs from its numerical gradient."""
        mine, theirs = ours.value[name], numerical.first()[name]
        return [
            gate
            for k, gate in enumerate("ifog")
            if not scratch.rel_error(mine[..., k * H : (k + 1) * H], theirs[..., k * H : (k + 1) * H])
            <= LSTM_DWH_TOLERANCE
        ]

    def swapped_blocks():
        """Return True when db is right but for the order of its gate blocks (Keras's i, f, g, o, say)."""
        mine, theirs = ours.value["b"].reshape(4, H), numerical.first()["b"].reshape(4, H)
        return not _same_as(mine, theirs) and any(
            np.allclose(mine, theirs[list(order)], rtol=1e-5, atol=1e-9)
            for order in itertools.permutations(range(4))
            if order != (0, 1, 2, 3)
        )

    def cell_state_right():
        return scratch.rel_error(ours.value["prev_c"], numerical.first()["prev_c"]) <= TOLERANCE

    def gate_words(gates):
        names_ = {"i": "input gate i", "f": "forget gate f", "o": "output gate o", "g": "candidate g"}
        return ", ".join(names_[gate] for gate in gates)

    def state_hint(bad):
        if "prev_c" in bad:
            mine = ours.value["prev_c"]
            return next(
                (words for candidate, words in cell_mistakes if _same_as(mine, candidate)),
                "dprev_c follows the cell state: look at everything that reaches next_c and at what "
                "stands between prev_c and next_c",
            )
        if swapped_blocks():
            return "dprev_c is right, but the gate blocks are not in the forward pass's order i, f, o, g"
        gates = blocks()
        if gates:
            return (
                f"dprev_c is right, so the cell-state path is; the gradient of the {gate_words(gates)} is "
                "not (its block of db is off): look at that gate's gradient"
            )
        return "the gate gradients are right (db is): look at how dx and dprev_h are formed from them"

    def weight_hint(bad):
        if not cell_state_right():
            return "dprev_c is off too: fix the cell-state gradient first (the item above); the gates use it"
        if swapped_blocks():
            return "the gate blocks are not in the forward pass's order i, f, o, g"
        gates = blocks()
        if gates:
            return (
                f"the block of the {gate_words(gates)} is off: look at that gate's gradient, through its own "
                "nonlinearity"
            )
        return "db is right: look at what each weight matrix multiplied in the forward pass"

    limits = tolerances(
        scratch.lstm_step_forward, reference, inputs, names, ["dnext_h", "dnext_c"], {"Wh": LSTM_DWH_TOLERANCE}
    )
    lines.append(
        _gradient_item(
            "dx, dprev_h and dprev_c match numerical gradients",
            ours,
            numerical,
            ["x", "prev_h", "prev_c"],
            state_hint,
            limits,
        )
    )
    lines.append(
        _gradient_item(
            "dWx, dWh and db match numerical gradients, gates in the order i, f, o, g",
            ours,
            numerical,
            ["Wx", "Wh", "b"],
            weight_hint,
            limits,
        )
    )
    forward_matches = _matches(data, 2, reference_h)
    lines.append(
        _same_item("the gradients equal kerasdl.scratch.lstm_step_backward's", ours, reference, names, forward_matches)
    )
    return lines


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- the checks a notebook calls

CHECKS = {
    name: checks.ProbedCheck(probe, judge)
    for name, probe, judge in [(name, PROBES[name], globals()[f"judge_{name}"]) for name in PROBES]
}
ANSWERS = {"kerasdl.scratch": ("numerical_gradient", "rel_error")}  # graded work keeps only these of kerasdl.scratch


def check_rnn_step_forward(rnn_step_forward):
    """Print verdicts for rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)."""
    CHECKS["rnn_step_forward"].run(rnn_step_forward)


def check_rnn_step_backward(rnn_step_forward, rnn_step_backward):
    """Print verdicts for rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)."""
    CHECKS["rnn_step_backward"].run(rnn_step_forward, rnn_step_backward)


def check_rnn_forward(rnn_forward):
    """Print verdicts for rnn_forward(x, h0, Wx, Wh, b) -> (h, cache), h of shape (N, T, H)."""
    CHECKS["rnn_forward"].run(rnn_forward)


def check_rnn_backward(rnn_forward, rnn_backward):
    """Print verdicts for rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)."""
    CHECKS["rnn_backward"].run(rnn_forward, rnn_backward)


def check_gradient_norms(norms):
    """Print verdicts for the plotted norms ‖dL/dh_t‖, t = 1..T, on vanishing_problem()."""
    CHECKS["gradient_norms"].run(norms)


def check_lstm_step_backward(lstm_step_forward, lstm_step_backward):
    """Print verdicts for lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)."""
    CHECKS["lstm_step_backward"].run(lstm_step_forward, lstm_step_backward)

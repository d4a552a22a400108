"""Checks for the conceptual questions on RNNs (solutions/05_rnn_concepts.ipynb).

Graded automatically, the same way on every backend (✔ or ✘ with feedback):
- choices: letters ("b") or sets of letters ({"a", "c"}), checked against the key
  below, with feedback on the misconception behind each wrong choice;
- orderings: letters in order ("dbca" or ["d", "b", "c", "a"]); feedback names a
  statement placed before the one it follows from;
- gate picks: the name of an LSTM gate ("forget", "f", "the forget gate");
- numbers computed in code: a gradient-norm ratio through a linear RNN (checked
  against NumPy), gradient factors, the share of a gradient left along the cell
  state, parameter counts (checked against Keras's own `count_params()` on the
  active backend).

Read by the instructor, never graded by keywords: answers in the learner's own
words, recorded with `checks.record_answer` (a ✎ line, neither ✔ nor ✘) next to
the model answer below.

This module is the answer key: reading it gives the answers away.
"""

import math
import re
from dataclasses import dataclass

import numpy as np

from kerasdl import checks
from kerasdl.checks import CheckError

# ---------------------------------------------------------------- choices


CHOICES = {
    "q1": checks.Choice(
        "Q1 why vanilla RNNs struggle with long-range dependencies",
        frozenset("a"),
        "abcd",
        {
            "b": "a vanilla RNN can represent long memories (with a recurrent matrix close to the identity, "
            "for example); the trouble is learning them: look at the backward pass",
            "c": "backpropagation through time sends gradients back through every unrolled step; the question "
            "is how large they still are when they get there",
            "d": "tanh bounds the values of the state, not how long information can last; look at the backward pass",
        },
    ),
    "q2": checks.Choice(
        "Q2 true statements about vanishing and exploding gradients",
        frozenset("ab"),
        "abcd",
        {
            "c": "scaling every gradient by the same factor keeps the ratio between near and far time steps: "
            "the far ones stay negligible next to the near ones",
            "d": "with truncation, no gradient travels further back than the truncation length",
        },
    ),
    "q3": checks.Choice(
        "Q3 the gradient along the LSTM's cell state",
        frozenset("b"),
        "abcd",
        {
            "a": "no weight matrix appears between c(t-1) and c(t) in this formula",
            "c": "the output gate acts between c(t) and h(t), not between c(t-1) and c(t)",
            "d": "only when the gate in that product is fully open; in general its value multiplies the gradient",
        },
    ),
    "q4": checks.Choice(
        "Q4 GRU parameters compared with an LSTM's",
        frozenset("b"),
        "abcd",
        {
            "a": "count the blocks of weights: one per gate, plus one for the candidate state",
            "c": "count the blocks of weights: one per gate, plus one for the candidate state",
            "d": "which of the two has more gates?",
        },
    ),
    "q5": checks.Choice(
        "Q5 true statements about LSTM and GRU speed",
        frozenset("ac"),
        "abcd",
        {
            "b": "measured speed depends on each backend's kernels, not only on the arithmetic: run the timing "
            "cell on another backend, or read what it found on a 2-core CPU",
            "d": "think about what each cell needs from the previous time step before it can start",
        },
    ),
    "q6": checks.Choice(
        "Q6 good reasons to choose a GRU over an LSTM",
        frozenset("ac"),
        "abcd",
        {
            "b": "count the blocks of weights again: which of the two has more?",
            "d": "the timing cell measured it: the speed depends on each backend's kernels and on the device",
        },
    ),
}

_LETTERS = re.compile(r"[a-z]")


def check_choice(question, answer):
    """Print the verdict for the letters `answer` to the question `question` ("q1", ...)."""
    checks.choice_verdict(CHOICES, question, answer)


# ---------------------------------------------------------------- numbers


def _reference_ratio(matrix, gradient, num_steps):
    vector = np.asarray(gradient, dtype=np.float64)
    for _ in range(num_steps):
        vector = matrix.T @ vector
    return float(np.linalg.norm(vector) / np.linalg.norm(gradient))


def _reference_ratio_untransposed(matrix, gradient, num_steps):
    return _reference_ratio(matrix.T, gradient, num_steps)


def check_backprop_norm_ratio(backprop_norm_ratio):
    """Verdict for backprop_norm_ratio(recurrent_matrix, gradient, num_steps), against NumPy on random cases."""
    rng = np.random.default_rng(3)
    size = 6
    matrix = rng.normal(0.0, 0.5, (size, size))  # not symmetric: W and its transpose act differently
    gradient = rng.normal(size=size)
    cases = [
        (matrix, gradient, 5),
        (0.9 * np.linalg.qr(rng.normal(size=(size, size)))[0], gradient, 20),
        (matrix, gradient, 0),
    ]

    def body():
        for recurrent_matrix, vector, num_steps in cases:
            if not callable(backprop_norm_ratio):
                raise CheckError(f"expected a function, got {checks.kind(backprop_norm_ratio)}")
            value = checks.expect_number(
                checks.call(backprop_norm_ratio, recurrent_matrix.copy(), vector.copy(), num_steps)
            )
            expected = _reference_ratio(recurrent_matrix, vector, num_steps)
            if math.isclose(value, expected, rel_tol=1e-4):
                continue
            if num_steps == 0:
                raise CheckError("with num_steps=0 nothing is multiplied, so the ratio should be 1")
            if math.isclose(value, _reference_ratio_untransposed(recurrent_matrix, vector, num_steps), rel_tol=1e-4):
                raise CheckError("the backward pass multiplies by the transpose of the recurrent matrix")
            for steps in (num_steps - 1, num_steps + 1):
                if math.isclose(value, _reference_ratio(recurrent_matrix, vector, steps), rel_tol=1e-4):
                    raise CheckError(f"this is the ratio after {steps} steps, not {num_steps}: count the steps")
            if math.isclose(value, expected**2, rel_tol=1e-4):
                raise CheckError("this is the ratio of squared norms: use the norms themselves")
            if math.isclose(value, expected * np.linalg.norm(vector), rel_tol=1e-4):
                raise CheckError("divide by the norm of the gradient you started from")
            raise CheckError(
                "apply the backward step num_steps times to the gradient, then compare its norm "
                "with the norm of the gradient you started from"
            )

    checks.check("backprop_norm_ratio matches NumPy on random matrices", body)


def check_gradient_factors(vanishing, exploding, num_steps=50):
    """Verdicts for the gradient factors after `num_steps` steps with a scaled orthogonal matrix (0.9 and 1.1)."""
    for scale, value, what in [(0.9, vanishing, "vanishing"), (1.1, exploding, "exploding")]:

        def body(scale=scale, value=value):
            number = checks.expect_number(value)
            if math.isclose(number, scale**num_steps, rel_tol=1e-3):
                return True
            if math.isclose(number, scale * num_steps, rel_tol=1e-3):
                raise CheckError("the factor is applied once per step: it compounds, it does not add up")
            raise CheckError(
                f"call backprop_norm_ratio with {scale} times the orthogonal matrix and num_steps={num_steps}"
            )

        checks.check(f"gradient factor after {num_steps} steps, {what} case (scale {scale})", body)


SIZES = [(1, 8), (16, 32), (100, 64)]  # (input_dim, units) pairs the parameter counts are checked on


def keras_parameter_count(kind, input_dim, units):
    """Return count_params() of a Keras SimpleRNN, LSTM or GRU layer (defaults) reading input_dim features."""
    import keras

    layer_class = {"SimpleRNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}[kind]
    # Zero initializers change no count, and skip the orthogonal initializer's QR (slow to compile on JAX).
    layer = layer_class(units, kernel_initializer="zeros", recurrent_initializer="zeros")
    layer.build((None, None, input_dim))
    return layer.count_params()


# Plausible wrong formulas, (input_dim i, units u) -> count, with what each one missed.
_WRONG_COUNTS = {
    "SimpleRNN": [
        (lambda i, u: u * (i + u), "the bias is missing"),
        (lambda i, u: u * (i + 1), "the recurrent kernel (from the previous state) is missing"),
    ],
    "LSTM": [
        (lambda i, u: 4 * u * (i + u), "the biases are missing"),
        (lambda i, u: u * (i + u + 1), "this is one block of weights: count the gates and the candidate state"),
        (lambda i, u: 3 * u * (i + u + 1), "one block is missing: count the gates and the candidate state"),
    ],
    "GRU": [
        (
            lambda i, u: 3 * u * (i + u + 1),
            "this counts one bias per block, as with reset_after=False; Keras's "
            "default is reset_after=True, which has two bias vectors per block",
        ),
        (lambda i, u: 3 * u * (i + u), "the biases are missing"),
        (lambda i, u: 4 * u * (i + u + 1), "this is an LSTM's count: a GRU has one block fewer"),
        (lambda i, u: u * (i + u + 2), "this is one block of weights: count the gates and the candidate state"),
    ],
}


def check_parameter_counts(simple_rnn_params, lstm_params, gru_params):
    """Verdicts: each formula gives Keras's own count_params() for every (input_dim, units) in SIZES."""
    for kind, formula in [("SimpleRNN", simple_rnn_params), ("LSTM", lstm_params), ("GRU", gru_params)]:

        def body(kind=kind, formula=formula):
            if not callable(formula):
                raise CheckError(f"expected a function, got {checks.kind(formula)}")
            for input_dim, units in SIZES:
                value = checks.call(formula, input_dim, units)
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                    raise CheckError(f"expected a whole number of parameters, got {checks.kind(value)}")
                if value == keras_parameter_count(kind, input_dim, units):
                    continue
                for wrong, why in _WRONG_COUNTS[kind]:
                    if value == wrong(input_dim, units):
                        raise CheckError(f"wrong for input_dim={input_dim}, units={units}: {why}")
                raise CheckError(
                    f"wrong for input_dim={input_dim}, units={units}: count the input kernel, "
                    "the recurrent kernel and the bias of each block"
                )

        checks.check(f"{kind} parameter count matches Keras's count_params()", body)


# ---------------------------------------------------------------- orderings


@dataclass
class Order:
    """A question answered by putting lettered statements in order: each follows from the one before."""

    item: str
    key: str


ORDERS = {
    "chain": Order("O1 the chain from a long gap to a dependency that is not learned", "dbca"),
}


def _sequence(answer, options):
    """Return the letters of `answer` in order ("dbca", "d, b, c, a", ["d", "b", "c", "a"]), or raise CheckError."""
    example = 'answer with the letters in order, for example "badc" or ["b", "a", "d", "c"]'
    if isinstance(answer, str):
        text = re.sub(r"\b(and|then)\b", " ", answer.strip().lower())
        parts = [part for part in re.split(r"[\s,;/>\-]+|", text) if part]
    elif isinstance(answer, (list, tuple)):
        if not all(isinstance(part, str) for part in answer):
            raise CheckError(f"{example}; got a {type(answer).__name__} with something other than strings")
        parts = [part.strip().lower() for part in answer]
    else:
        raise CheckError(f"{example}; got {checks.kind(answer)}")
    parts = [part.strip("()[]'\".") for part in parts]
    parts = [part for part in parts if part]
    if not parts or not all(len(part) == 1 and _LETTERS.fullmatch(part) for part in parts):
        raise CheckError(example)
    unknown = sorted(set(parts) - set(options))
    if unknown:
        raise CheckError(f"there is no statement {', '.join(unknown)}: the statements are {', '.join(sorted(options))}")
    if sorted(parts) != sorted(options):
        missing = sorted(set(options) - set(parts))
        twice = sorted({part for part in parts if parts.count(part) > 1})
        what = f"({', '.join(missing)}) missing" if missing else f"({', '.join(twice)}) twice"
        raise CheckError(f"use every statement once: {what}")
    return parts


def check_order(question, answer):
    """Print the verdict for the ordering `answer` to the question `question` ("chain")."""
    if question not in ORDERS:
        raise ValueError(f"unknown question {question!r}: choose one of {', '.join(ORDERS)}")
    order = ORDERS[question]

    def body():
        letters = _sequence(answer, order.key)
        position = {letter: n for n, letter in enumerate(letters)}
        for earlier, later in zip(order.key, order.key[1:]):
            if position[later] < position[earlier]:
                raise CheckError(f"({later}) comes before ({earlier}) in your order, but it follows from it")

    checks.check(order.item, body)


# ---------------------------------------------------------------- which gate


GATE_NAMES = {  # what a learner may write for each of the LSTM's gates
    "input": ("input", "i", "i_t", "input gate"),
    "forget": ("forget", "f", "f_t", "forget gate"),
    "output": ("output", "o", "o_t", "output gate"),
    "candidate": ("candidate", "g", "g_t", "candidate gate", "cell candidate", "candidate state"),
}


@dataclass
class GatePick:
    """A question answered by naming one LSTM gate, with feedback for each wrong one."""

    item: str
    correct: str
    feedback: dict


GATES = {
    "remember": GatePick(
        "G1 the gate that must stay open for the LSTM to remember over 50 steps",
        "forget",
        {
            "input": "the input gate writes new content; what keeps the old content from one step to the next?",
            "output": "the output gate decides what the cell shows in h_t, not what the cell keeps",
            "candidate": "the candidate is the new content itself; what keeps the old content?",
        },
    ),
    "write": GatePick(
        "G2 the gate that scales what is written into the cell state",
        "input",
        {
            "forget": "the forget gate scales the old cell state, not the new content",
            "output": "the output gate acts between c_t and h_t, after the cell state is written",
            "candidate": "the candidate is what is written; which gate scales it?",
        },
    ),
    "show": GatePick(
        "G3 the gate that decides how much of the cell state shows in h_t",
        "output",
        {
            "forget": "the forget gate acts between c_(t-1) and c_t, inside the cell state",
            "input": "the input gate acts on what goes into the cell state, not on what comes out",
            "candidate": "the candidate is new content for the cell state, computed before it",
        },
    ),
}


def _gate(answer):
    """Return the gate `answer` names ("forget", "f", "The forget gate"), or raise CheckError."""
    example = 'answer with a gate\'s name: "input", "forget", "output" or "candidate" (or i, f, o, g)'
    if not isinstance(answer, str):
        raise CheckError(f"{example}; got {checks.kind(answer)}")
    text = re.sub(r"^the\s+", "", " ".join(answer.strip().lower().replace("’", "'").split())).strip(" .'\"")
    text = re.sub(r"\s*\(t\)$", "_t", text)
    for gate, names in GATE_NAMES.items():
        if text in names:
            return gate
    raise CheckError(example)


def check_gate(question, answer):
    """Print the verdict for the gate named by `answer` to the question `question` ("remember", ...)."""
    if question not in GATES:
        raise ValueError(f"unknown question {question!r}: choose one of {', '.join(GATES)}")
    pick = GATES[question]

    def body():
        gate = _gate(answer)
        if gate != pick.correct:
            raise CheckError(
                f"not the {gate} gate: {pick.feedback[gate]}"
                if gate != "candidate"
                else f"not the candidate: {pick.feedback[gate]}"
            )

    checks.check(pick.item, body)


# ---------------------------------------------------------------- the cell state's gradient, in numbers

FORGET_GATES = ((0.98, 4.0, "nearly open"), (0.73, 1.0, "at Keras's start"))  # (f, the bias whose sigmoid it is)
SHARE_RTOL = 0.006  # three significant digits


def check_cell_state_fractions(nearly_open, at_keras_start, num_steps=50):
    """Verdicts for the share of the gradient left along the cell state after `num_steps` steps, f = 0.98 and 0.73.

    f rounded as the text gives it and f = sigmoid(bias) exactly are both right, to three significant digits
    (SHARE_RTOL): one step more or fewer is 2% off, and rejected.
    """
    for (gate, bias, what), value in zip(FORGET_GATES, (nearly_open, at_keras_start)):

        def body(gate=gate, bias=bias, value=value):
            number = checks.expect_number(value)
            exact = 1 / (1 + math.exp(-bias))
            if any(math.isclose(number, f**num_steps, rel_tol=SHARE_RTOL) for f in (gate, exact)):
                return True
            if any(math.isclose(number, f * num_steps, rel_tol=SHARE_RTOL) for f in (gate, exact)):
                raise CheckError("the gate's factor is applied once per step: it compounds, it does not add up")
            if any(math.isclose(number, (1 - f) ** num_steps, rel_tol=SHARE_RTOL) for f in (gate, exact)):
                raise CheckError("the forget gate's value is the share kept at each step, not the share dropped")
            if any(math.isclose(number, 1 - f**num_steps, rel_tol=SHARE_RTOL) for f in (gate, exact)):
                raise CheckError("this is the share lost, not the share left")
            raise CheckError(
                f"along the cell state each of the {num_steps} steps keeps a share f of the gradient "
                "(ignoring the other paths): what is left after all of them?"
            )

        checks.check(f"share of the gradient left after {num_steps} steps, forget gate {gate} ({what})", body)


# ---------------------------------------------------------------- answers in the learner's own words


@dataclass
class Written:
    """A question answered in the learner's own words: recorded for the instructor, with a model answer."""

    item: str
    model_answer: str


WRITTEN = {
    "vanilla": Written(
        "written: why vanilla RNNs struggle with long-range dependencies",
        "Backpropagation through time multiplies the gradient by the recurrent Jacobian, W transposed times "
        "tanh', once per time step. Over many steps this product shrinks the gradient exponentially (it "
        "vanishes) or grows it exponentially (it explodes), so distant inputs get almost no learning signal.",
    ),
    "cell_state": Written(
        "written: how the LSTM's cell state helps gradients",
        "The cell state is updated additively: c_t = f_t * c_(t-1) + i_t * g_t. Along that path the gradient "
        "is only multiplied element-wise by the forget gate, with no weight matrix and no tanh, so when the "
        "forget gate stays close to 1 the gradient is preserved over many steps instead of vanishing.",
    ),
    "gru": Written(
        "written: when to choose a GRU over an LSTM",
        "When parameters, memory or speed matter: a GRU has about 3/4 of an LSTM's weights and arithmetic, and "
        "on many sequence tasks it reaches similar accuracy, so it is a good first choice for small data or "
        "tight budgets; if accuracy matters most, try both.",
    ),
    "timing": Written(
        "written: what the GRU / LSTM timing showed on your backend",
        "On torch and TensorFlow the GRU took about 0.7-0.8 of the LSTM's time, close to the 3/4 from counting. "
        "On JAX the GRU was slower than the LSTM: the arithmetic is not the whole cost, the way each backend "
        "compiles and runs the loop matters as much. Other programs running on the machine also make single timings "
        "noisy, which is why the median of several runs is used.",
    ),
}


def record_written_answer(question, answer):
    """Record the answer in the learner's own words to `question` ("vanilla", ...) for the instructor: a ✎ line."""
    if question not in WRITTEN:
        raise ValueError(f"unknown question {question!r}: choose one of {', '.join(WRITTEN)}")
    written = WRITTEN[question]
    checks.record_answer(written.item, answer, written.model_answer)

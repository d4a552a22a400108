"""Checks for the conceptual questions on RNNs (solutions/05_rnn_concepts.ipynb).

Three kinds of answers, each graded the same way on every backend:
- choices: letters ("b") or sets of letters ({"a", "c"}), checked against the key
  below, with feedback on the misconception behind each wrong choice;
- numbers computed in code: a gradient-norm ratio through a linear RNN (checked
  against NumPy), parameter counts (checked against Keras's own
  `count_params()` on the active backend);
- short written answers, as Python strings: graded by the key concepts they name
  (with synonyms). Feedback names a missing concept, never the wording wanted.

This module is the answer key: reading it gives the answers away.
"""

import contextlib
import io
import math
import re
from dataclasses import dataclass, field

import numpy as np

from kerasdl import checks
from kerasdl.checks import CheckError

# ---------------------------------------------------------------- choices


@dataclass
class Choice:
    """A question answered by letters: the correct ones, and feedback for each wrong one."""

    item: str
    correct: frozenset
    options: str
    feedback: dict = field(default_factory=dict)

    @property
    def multiple(self):
        return len(self.correct) > 1


CHOICES = {
    "q1": Choice(
        "Q1 why vanilla RNNs struggle with long-range dependencies", frozenset("a"), "abcd", {
            "b": "a vanilla RNN can represent long memories (with a recurrent matrix close to the identity, "
                 "for example); the trouble is learning them: look at the backward pass",
            "c": "backpropagation through time sends gradients back through every unrolled step; the question "
                 "is how large they still are when they get there",
            "d": "tanh bounds the values of the state, not how long information can last; look at the "
                 "backward pass",
        }),
    "q2": Choice(
        "Q2 true statements about vanishing and exploding gradients", frozenset("ab"), "abcd", {
            "c": "scaling every gradient by the same factor keeps the ratio between near and far time steps: "
                 "the far ones stay negligible next to the near ones",
            "d": "with truncation, no gradient travels further back than the truncation length",
        }),
    "q3": Choice(
        "Q3 the gradient along the LSTM's cell state", frozenset("b"), "abcd", {
            "a": "no weight matrix appears between c(t-1) and c(t) in this formula",
            "c": "the output gate acts between c(t) and h(t), not between c(t-1) and c(t)",
            "d": "only when the gate in that product is fully open; in general its value multiplies the gradient",
        }),
    "q4": Choice(
        "Q4 GRU parameters compared with an LSTM's", frozenset("b"), "abcd", {
            "a": "count the blocks of weights: one per gate, plus one for the candidate state",
            "c": "count the blocks of weights: one per gate, plus one for the candidate state",
            "d": "which of the two has more gates?",
        }),
    "q5": Choice(
        "Q5 true statements about LSTM and GRU speed", frozenset("ac"), "abcd", {
            "b": "measured speed depends on each backend's kernels, not only on the arithmetic: run the timing "
                 "cell on another backend, or read what it found on a 2-core CPU",
            "d": "think about what each cell needs from the previous time step before it can start",
        }),
}

_LETTERS = re.compile(r"[a-z]")


def _letters(answer, options):
    """Return the set of letters in `answer` ("b", "a, c", {"a", "c"}, ["a", "c"]), or raise CheckError."""
    example = 'answer with letters, for example "b", or {"a", "c"} when several are true'
    if isinstance(answer, str):
        parts = [part for part in re.split(r"[\s,;/]+|\band\b", answer.strip().lower()) if part]
    elif isinstance(answer, (set, frozenset, list, tuple)):
        if not all(isinstance(part, str) for part in answer):
            raise CheckError(f"{example}; got a {type(answer).__name__} with something other than strings")
        parts = [part.strip().lower() for part in answer]
    else:
        raise CheckError(f"{example}; got {checks._kind(answer)}")
    parts = [part.strip("()[]'\".") for part in parts]
    if not parts or not all(len(part) == 1 and _LETTERS.fullmatch(part) for part in parts):
        raise CheckError(example)
    letters = set(parts)
    unknown = sorted(letters - set(options))
    if unknown:
        raise CheckError(f"there is no choice {', '.join(unknown)}: the choices are {', '.join(options)}")
    return letters


def check_choice(question, answer):
    """Print the verdict for the letters `answer` to the question `question` ("q1", ...)."""
    if question not in CHOICES:
        raise ValueError(f"unknown question {question!r}: choose one of {', '.join(CHOICES)}")
    choice = CHOICES[question]

    def body():
        letters = _letters(answer, choice.options)
        if not choice.multiple and len(letters) > 1:
            raise CheckError("this question has one right answer: choose one letter")
        wrong = sorted(letters - choice.correct)
        if wrong:
            raise CheckError(f"({wrong[0]}) is not right: {choice.feedback[wrong[0]]}")
        if letters != choice.correct:
            raise CheckError("what you chose is right, but another statement is true as well")

    checks.check(choice.item, body)


# ---------------------------------------------------------------- numbers


def _quietly(function, *args):
    """Return function(*args), swallowing what it prints: a check cell shows nothing but verdicts."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return function(*args)


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
    cases = [(matrix, gradient, 5), (0.9 * np.linalg.qr(rng.normal(size=(size, size)))[0], gradient, 20),
             (matrix, gradient, 0)]

    def body():
        for recurrent_matrix, vector, num_steps in cases:
            if not callable(backprop_norm_ratio):
                raise CheckError(f"expected a function, got {checks._kind(backprop_norm_ratio)}")
            value = checks.expect_number(_quietly(backprop_norm_ratio, recurrent_matrix.copy(), vector.copy(),
                                                  num_steps))
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
            raise CheckError("apply the backward step num_steps times to the gradient, then compare its norm "
                             "with the norm of the gradient you started from")

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
            raise CheckError(f"call backprop_norm_ratio with {scale} times the orthogonal matrix and "
                             f"num_steps={num_steps}")

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
        (lambda i, u: 3 * u * (i + u + 1), "this counts one bias per block, as with reset_after=False; Keras's "
                                           "default is reset_after=True, which has two bias vectors per block"),
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
                raise CheckError(f"expected a function, got {checks._kind(formula)}")
            for input_dim, units in SIZES:
                value = _quietly(formula, input_dim, units)
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                    raise CheckError(f"expected a whole number of parameters, got {checks._kind(value)}")
                if value == keras_parameter_count(kind, input_dim, units):
                    continue
                for wrong, why in _WRONG_COUNTS[kind]:
                    if value == wrong(input_dim, units):
                        raise CheckError(f"wrong for input_dim={input_dim}, units={units}: {why}")
                raise CheckError(f"wrong for input_dim={input_dim}, units={units}: count the input kernel, "
                                 "the recurrent kernel and the bias of each block")

        checks.check(f"{kind} parameter count matches Keras's count_params()", body)


# ---------------------------------------------------------------- written answers


@dataclass
class Concept:
    """A key idea a written answer must name: regular expressions that count as naming it, and a hint."""

    patterns: tuple
    hint: str

    def named_in(self, text):
        return any(re.search(pattern, text) for pattern in self.patterns)


@dataclass
class Written:
    item: str
    concepts: list


_ANY_STEP = r"\b(each|every|per) (time )?step"
WRITTEN = {
    "vanilla": Written("written: why vanilla RNNs struggle with long-range dependencies", [
        Concept((r"multipl", r"product", r"repeated", r"chain rule", r"\bpowers?\b", r"jacobian",
                 r"same (weight |recurrent )?matri", r"over and over", _ANY_STEP, r"\bw\^"),
                "what happens to the gradient at each step back in time (what is it multiplied by?)"),
        Concept((r"vanish", r"explod", r"shrink", r"decay", r"exponential", r"geometric", r"blows? up",
                 r"tiny", r"towards? zero", r"to zero", r"grows?\b", r"diminish"),
                "what that does to the gradient's size over many steps"),
    ]),
    "cell_state": Written("written: how the LSTM's cell state helps gradients", [
        Concept((r"\badd(s|ed|ing|ition|itive|itively)?\b", r"\bsum", r"\bplus\b", r"\+", r"accumulat"),
                "how the new cell state is formed from the old one (which operation?)"),
        Concept((r"forget",), "which gate decides how much of the old cell state is kept"),
        Concept((r"no (weight |recurrent )?matri", r"without (a |any )?(weight |recurrent )?matri",
                 r"not multiplied by (a |the )?(weight|recurrent)", r"element-?wise", r"identity",
                 r"(close|near|equal) to (1|one)\b", r"≈ ?1", r"~ ?1\b", r"does(n't| not) (vanish|shrink)",
                 r"preserv", r"constant error", r"highway", r"uninterrupted", r"unchanged", r"carousel",
                 r"no squash", r"no (tanh|nonlinearity)", r"linear path"),
                "why the gradient along the cell state need not shrink at each step"),
    ]),
    "gru": Written("written: when to choose a GRU over an LSTM", [
        Concept((r"fewer (parameters|weights|gates)", r"less (parameters|weights|memory|compute|computation)",
                 r"smaller", r"cheaper", r"faster", r"\bspeed", r"quicker", r"two gates", r"3 ?/ ?4",
                 r"three.quarters", r"75 ?%", r"lighter", r"efficien"),
                "what a GRU saves compared with an LSTM"),
        Concept((r"similar", r"comparabl", r"as (well|good|accurate)", r"same (accuracy|quality|performance)",
                 r"depends", r"empiric", r"try both", r"(small|little|less|limited) (data|training data)",
                 r"on par", r"often (just )?as", r"rarely worse", r"little (loss|difference)"),
                "how its accuracy usually compares, or what the choice depends on"),
    ]),
}
MIN_WORDS, MAX_WORDS = 8, 120


def _normalize(text):
    return " ".join(text.lower().replace("’", "'").split())


def check_written_answer(question, answer):
    """Print the verdict for the written answer `answer` (a string) to `question` ("vanilla", ...)."""
    if question not in WRITTEN:
        raise ValueError(f"unknown question {question!r}: choose one of {', '.join(WRITTEN)}")
    written = WRITTEN[question]

    def body():
        if not isinstance(answer, str):
            raise CheckError(f"write your answer as a string in quotes, got {checks._kind(answer)}")
        text = _normalize(answer)
        words = len(re.findall(r"[a-z0-9']+", text))
        if words < MIN_WORDS:
            raise CheckError(f"write a sentence or two (at least {MIN_WORDS} words)")
        if words > MAX_WORDS:
            raise CheckError(f"keep it short: at most {MAX_WORDS} words")
        missing = [concept for concept in written.concepts if not concept.named_in(text)]
        if missing:
            raise CheckError(f"your answer does not yet say {missing[0].hint}")

    checks.check(written.item, body)

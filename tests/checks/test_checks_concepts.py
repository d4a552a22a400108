"""kerasdl.checks.concepts: right answers pass, plausible wrong answers are rejected with feedback, and
answers of the wrong type are reported instead of crashing the check; answers in the learner's own words
are recorded (✎), never passed or failed on their wording."""

import numpy as np
import pytest

from kerasdl import checks
from kerasdl.checks import concepts

from helpers import verdicts


def verdict(capsys):
    """Return (item, passed, hint) of the single verdict printed since the last call."""
    out = capsys.readouterr().out
    found = checks.parse(out)
    assert len(found) == 1, out
    ((item, passed),) = found
    return item, passed, checks.hints(out).get(item, "")


# ---------------------------------------------------------------- choices

RIGHT = {"q1": "a", "q2": {"a", "b"}, "q3": "b", "q4": "b", "q5": {"a", "c"}, "q6": {"a", "c"}}


@pytest.mark.parametrize("question", sorted(RIGHT))
def test_the_right_choices_pass(question, capsys):
    concepts.check_choice(question, RIGHT[question])
    item, passed, _ = verdict(capsys)
    assert passed and item == concepts.CHOICES[question].item


@pytest.mark.parametrize(
    "question, letter",
    [
        (q, letter)
        for q, choice in sorted(concepts.CHOICES.items())
        for letter in choice.options
        if letter not in choice.correct
    ],
)
def test_every_wrong_choice_is_rejected_with_its_own_feedback(question, letter, capsys):
    choice = concepts.CHOICES[question]
    answer = letter if not choice.multiple else set(choice.correct) | {letter}
    concepts.check_choice(question, answer)
    _, passed, hint = verdict(capsys)
    assert not passed
    assert hint == f"({letter}) is not right: {choice.feedback[letter]}"


@pytest.mark.parametrize("question, answer", [("q2", "a"), ("q2", {"b"}), ("q5", "c")])
def test_half_of_a_multiple_answer_is_rejected(question, answer, capsys):
    concepts.check_choice(question, answer)
    _, passed, hint = verdict(capsys)
    assert not passed and "another statement is true" in hint


def test_two_letters_for_a_one_answer_question_are_rejected(capsys):
    concepts.check_choice("q1", {"a", "b"})
    _, passed, hint = verdict(capsys)
    assert not passed and "one right answer" in hint


@pytest.mark.parametrize(
    "question, answer",
    [
        ("q1", "A"),
        ("q1", " a "),
        ("q1", "(a)"),
        ("q1", ["a"]),
        ("q2", "a, b"),
        ("q2", "b and a"),
        ("q2", ("A", "b")),
        ("q5", frozenset("ac")),
        ("q5", "a c"),
    ],
)
def test_letters_are_accepted_in_any_reasonable_form(question, answer, capsys):
    concepts.check_choice(question, answer)
    assert verdict(capsys)[1]


@pytest.mark.parametrize(
    "answer, message",
    [
        (1, "got an int"),
        (None, "got None"),
        ("ab", 'for example "b"'),
        ("e", "there is no choice e"),
        ({1, 2}, "something other than strings"),
        ("", 'for example "b"'),
        ("the first one", 'for example "b"'),
    ],
)
def test_answers_that_are_not_letters_are_reported(answer, message, capsys):
    concepts.check_choice("q2", answer)
    _, passed, hint = verdict(capsys)
    assert not passed and message in hint


def test_an_unknown_question_is_an_authoring_error():
    with pytest.raises(ValueError, match="unknown question 'q9'"):
        concepts.check_choice("q9", "a")


# ---------------------------------------------------------------- gradient norm ratio


def backprop_norm_ratio(recurrent_matrix, gradient, num_steps):
    vector = np.asarray(gradient, dtype="float64")
    for _ in range(num_steps):
        vector = recurrent_matrix.T @ vector
    return float(np.linalg.norm(vector) / np.linalg.norm(gradient))


def test_the_solutions_ratio_passes_and_so_does_a_matrix_power(capsys):
    concepts.check_backprop_norm_ratio(backprop_norm_ratio)
    assert verdict(capsys)[1]

    def with_matrix_power(matrix, gradient, num_steps):
        return np.linalg.norm(np.linalg.matrix_power(matrix.T, num_steps) @ gradient) / np.linalg.norm(gradient)

    concepts.check_backprop_norm_ratio(with_matrix_power)
    assert verdict(capsys)[1]


def untransposed(matrix, gradient, num_steps):
    return backprop_norm_ratio(matrix.T, gradient, num_steps)


def one_step_short(matrix, gradient, num_steps):
    return backprop_norm_ratio(matrix, gradient, max(num_steps - 1, 0))


def squared(matrix, gradient, num_steps):
    return backprop_norm_ratio(matrix, gradient, num_steps) ** 2


def not_normalized(matrix, gradient, num_steps):
    return backprop_norm_ratio(matrix, gradient, num_steps) * np.linalg.norm(gradient)


def largest_singular_value_power(matrix, gradient, num_steps):  # ignores the gradient's direction
    return np.linalg.norm(matrix, ord=2) ** num_steps


@pytest.mark.parametrize(
    "wrong, message",
    [
        (untransposed, "transpose of the recurrent matrix"),
        (one_step_short, "ratio after 4 steps, not 5"),
        (squared, "squared norms"),
        (not_normalized, "divide by the norm"),
        (largest_singular_value_power, "apply the backward step num_steps times"),
        (lambda m, g, n: m.T @ g, "expected a single number, got an array of shape (6,)"),
        (lambda m, g, n: None, "expected a number, got None"),
        (lambda m, g: 1.0, "raised TypeError"),
        ("backprop_norm_ratio", "expected a function, got a str"),
    ],
)
def test_wrong_ratios_are_rejected(wrong, message, capsys):
    concepts.check_backprop_norm_ratio(wrong)
    _, passed, hint = verdict(capsys)
    assert not passed and message in hint, hint


def test_what_the_learners_function_prints_is_not_shown(capsys):
    def chatty(matrix, gradient, num_steps):
        print("debugging", matrix.shape)
        return backprop_norm_ratio(matrix, gradient, num_steps)

    concepts.check_backprop_norm_ratio(chatty)
    assert capsys.readouterr().out == "✔ backprop_norm_ratio matches NumPy on random matrices\n"


def test_an_unwritten_function_propagates_not_implemented(capsys):
    def stub(matrix, gradient, num_steps):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        concepts.check_backprop_norm_ratio(stub)
    assert capsys.readouterr().out == ""


def test_the_gradient_factors_compound(capsys):
    concepts.check_gradient_factors(0.9**50, 1.1**50)
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, True]
    concepts.check_gradient_factors(0.9 * 50, "117")
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False, False]
    assert "compounds" in hints[found[0][0]] and "got a str" in hints[found[1][0]]
    concepts.check_gradient_factors(1.1**50, 0.9**50)  # swapped
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [False, False]


# ---------------------------------------------------------------- parameter counts

PARAMETER_ITEMS = [
    "SimpleRNN parameter count matches Keras's count_params()",
    "LSTM parameter count matches Keras's count_params()",
    "GRU parameter count matches Keras's count_params()",
]


def simple_rnn_params(i, u):
    return u * (i + u + 1)


def lstm_params(i, u):
    return 4 * u * (i + u + 1)


def gru_params(i, u):
    return 3 * u * (i + u + 2)


def test_the_keras_reference_counts_are_those_of_default_layers():
    import keras

    for kind, formula in [("SimpleRNN", simple_rnn_params), ("LSTM", lstm_params), ("GRU", gru_params)]:
        default_layer = getattr(keras.layers, kind)(16)
        default_layer.build((None, None, 5))
        assert concepts.keras_parameter_count(kind, 5, 16) == default_layer.count_params() == formula(5, 16)


def test_the_right_formulas_pass_also_as_whole_floats(capsys):
    concepts.check_parameter_counts(simple_rnn_params, lstm_params, lambda i, u: float(gru_params(i, u)))
    found, _ = verdicts(capsys)
    assert found == [(item, True) for item in PARAMETER_ITEMS]


@pytest.mark.parametrize(
    "formulas, failing, message",
    [
        ((lambda i, u: u * (i + u), lstm_params, gru_params), 0, "the bias is missing"),
        ((lambda i, u: u * (i + 1), lstm_params, gru_params), 0, "recurrent kernel"),
        ((simple_rnn_params, lambda i, u: 4 * u * (i + u), gru_params), 1, "the biases are missing"),
        ((simple_rnn_params, lambda i, u: u * (i + u + 1), gru_params), 1, "one block of weights"),
        ((simple_rnn_params, lambda i, u: 3 * u * (i + u + 1), gru_params), 1, "one block is missing"),
        ((simple_rnn_params, lstm_params, lambda i, u: 3 * u * (i + u + 1)), 2, "reset_after=True"),
        ((simple_rnn_params, lstm_params, lambda i, u: 3 * u * (i + u)), 2, "the biases are missing"),
        ((simple_rnn_params, lstm_params, lstm_params), 2, "this is an LSTM's count"),
        ((simple_rnn_params, lstm_params, lambda i, u: 3 * u * (i + 2 * u + 2)), 2, "count the input kernel"),
    ],
)
def test_wrong_counts_are_rejected_with_what_they_missed(formulas, failing, message, capsys):
    concepts.check_parameter_counts(*formulas)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [index != failing for index in range(3)]
    assert message in hints[PARAMETER_ITEMS[failing]]
    assert "wrong for input_dim=1, units=8" in hints[PARAMETER_ITEMS[failing]]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda i, u: str(lstm_params(i, u)), "whole number of parameters, got a str"),
        (lambda i, u: lstm_params(i, u) + 0.5, "whole number of parameters, got a float"),
        (lambda i, u: None, "got None"),
        (lambda i: 4, "raised TypeError"),
        (4352, "expected a function, got an int"),
    ],
)
def test_counts_of_the_wrong_type_are_reported(wrong, message, capsys):
    concepts.check_parameter_counts(simple_rnn_params, wrong, gru_params)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, True]
    assert message in hints[PARAMETER_ITEMS[1]]


# ---------------------------------------------------------------- orderings

ORDER_ITEM = concepts.ORDERS["chain"].item


@pytest.mark.parametrize(
    "answer",
    [
        "dbca",
        "DBCA",
        "d, b, c, a",
        "d b c a",
        "d -> b -> c -> a",
        "d, b, c and a",
        ["d", "b", "c", "a"],
        ("D", "b", "c", "a"),
        "(d)(b)(c)(a)",
    ],
)
def test_the_right_order_passes_in_any_reasonable_form(answer, capsys):
    concepts.check_order("chain", answer)
    assert verdict(capsys) == (ORDER_ITEM, True, "")


@pytest.mark.parametrize(
    "answer, hint",
    [
        ("bdca", "(b) comes before (d) in your order, but it follows from it"),
        ("dcba", "(c) comes before (b) in your order, but it follows from it"),
        ("dbac", "(a) comes before (c) in your order, but it follows from it"),
        ("abcd", "(b) comes before (d) in your order, but it follows from it"),
        ("dbc", "use every statement once: (a) missing"),
        ("dbcad", "use every statement once: (d) twice"),
        ("dbce", "there is no statement e: the statements are a, b, c, d"),
        (4, "answer with the letters in order"),
        ({"d", "b", "c", "a"}, "answer with the letters in order"),  # a set has no order
        ([1, 2, 3, 4], "something other than strings"),
    ],
)
def test_a_wrong_order_is_rejected_with_what_comes_too_early(answer, hint, capsys):
    concepts.check_order("chain", answer)
    item, passed, printed = verdict(capsys)
    assert passed is False and hint in printed
    assert "dbca" not in printed and "d, b, c, a" not in printed  # the feedback never spells out the key


# ---------------------------------------------------------------- which gate

GATE_RIGHT = {"remember": "forget", "write": "input", "show": "output"}


@pytest.mark.parametrize("question", sorted(GATE_RIGHT))
@pytest.mark.parametrize("form", ["{}", "{} gate", "The {} gate", "{}.", "  {}  ", "{0[0]}", "{0[0]}_t", "{0[0]}(t)"])
def test_the_right_gate_passes_in_any_reasonable_form(question, form, capsys):
    concepts.check_gate(
        question, form.format(GATE_RIGHT[question]).upper() if form == "{0[0]}" else form.format(GATE_RIGHT[question])
    )
    assert verdict(capsys)[1] is True


@pytest.mark.parametrize(
    "question, gate",
    [
        (question, gate)
        for question, pick in sorted(concepts.GATES.items())
        for gate in concepts.GATE_NAMES
        if gate != pick.correct
    ],
)
def test_every_wrong_gate_is_rejected_with_its_own_feedback(question, gate, capsys):
    concepts.check_gate(question, gate)
    _, passed, hint = verdict(capsys)
    assert passed is False
    assert hint.endswith(concepts.GATES[question].feedback[gate])


@pytest.mark.parametrize(
    "answer, message",
    [
        ("cell", "answer with a gate's name"),
        ("reset", "answer with a gate's name"),
        (None, "got None"),
        (["forget"], "got a list"),
        ("forget or input", "answer with a gate's name"),
    ],
)
def test_what_is_not_a_gate_is_reported(answer, message, capsys):
    concepts.check_gate("remember", answer)
    _, passed, hint = verdict(capsys)
    assert passed is False and message in hint


# ---------------------------------------------------------------- the share of the gradient along the cell state

FRACTION_ITEMS = [
    "share of the gradient left after 50 steps, forget gate 0.98 (nearly open)",
    "share of the gradient left after 50 steps, forget gate 0.73 (at Keras's start)",
]


@pytest.mark.parametrize(
    "nearly_open, at_start",
    [
        (0.98**50, 0.73**50),
        ((1 / (1 + np.exp(-4.0))) ** 50, (1 / (1 + np.exp(-1.0))) ** 50),  # the exact sigmoids
        (0.364, 1.47e-7),  # rounded to three significant digits
        (np.float32(0.98) ** 50, np.array([0.73**50])),
    ],
)
def test_right_shares_pass_rounded_or_from_the_exact_sigmoid(nearly_open, at_start, capsys):
    concepts.check_cell_state_fractions(nearly_open, at_start)
    found, _ = verdicts(capsys)
    assert found == [(item, True) for item in FRACTION_ITEMS]


@pytest.mark.parametrize(
    "nearly_open, message",
    [
        (0.98 * 50, "it compounds, it does not add up"),
        (0.02**50, "the share kept at each step, not the share dropped"),
        (1 - 0.98**50, "the share lost, not the share left"),
        (0.98**49, "what is left after all of them?"),  # one step short: 2% off
        (0.36, "what is left after all of them?"),  # two digits are not enough: 1.2% off
        ("0.36", "expected a number, got a str"),
    ],
)
def test_wrong_shares_are_rejected(nearly_open, message, capsys):
    concepts.check_cell_state_fractions(nearly_open, 0.73**50)
    found, hints = verdicts(capsys)
    assert found == [(FRACTION_ITEMS[0], False), (FRACTION_ITEMS[1], True)]
    assert message in hints[FRACTION_ITEMS[0]]


# ---------------------------------------------------------------- answers in the learner's own words: recorded

RIGHT_WORDINGS = {  # natural correct answers, among them the five the keyword grading used to fail
    "vanilla": [
        "Backpropagation through time multiplies the gradient by the recurrent Jacobian once per time step, so "
        "over many steps it vanishes or explodes exponentially.",
        "The gradient is scaled by the recurrent weights again and again, so it fades away over long gaps.",
        "The gradient is multiplied by W once for every timestep, so it shrinks geometrically.",
    ],
    "cell_state": [
        "The cell state is updated additively, so the gradient along it is only scaled by the forget gate.",
        "Training keeps f near 1, so gradients do not shrink along the cell state.",
    ],
    "gru": [
        "A GRU often matches an LSTM's accuracy with fewer parameters, so try it first on small data.",
        "It has 3 gates' worth of weights instead of 4, so it is cheaper; choose it when compute is tight.",
    ],
}
MISCONCEPTIONS = {  # wrong answers that the keyword grading passed, and the auto-graded item that now catches each
    "vanilla": [
        ("Its hidden state is overwritten at each step, so it cannot remember; also tanh is bounded.", "q1", "b"),
        ("BPTT only sends gradients back one step, so the product vanishes.", "q1", "c"),
        ("tanh is bounded, so the state cannot grow large enough to remember long sequences.", "q1", "d"),
    ],
    "cell_state": [
        ("The forget gate multiplies the gradient by the recurrent weight matrix, so it is preserved.", "q3", "a"),
    ],
    "gru": [
        ("Choose a GRU when you need more parameters than an LSTM, since it is similar in accuracy.", "q6", "b"),
    ],
}


@pytest.mark.parametrize(
    "question, answer",
    [(question, answer) for question, answers in sorted(RIGHT_WORDINGS.items()) for answer in answers]
    + [(question, wrong) for question, cases in sorted(MISCONCEPTIONS.items()) for wrong, _, _ in cases],
)
def test_any_written_answer_is_recorded_neither_passed_nor_failed(question, answer, capsys):
    concepts.record_written_answer(question, answer)
    out = capsys.readouterr().out
    assert out == f"✎ {concepts.WRITTEN[question].item} — recorded for your instructor\n"
    assert checks.parse(out) == [(concepts.WRITTEN[question].item, None)]


@pytest.mark.parametrize(
    "question, choice, letter",
    [(question, choice, letter) for question, cases in sorted(MISCONCEPTIONS.items()) for _, choice, letter in cases],
)
def test_each_misconception_is_caught_by_an_auto_graded_item(question, choice, letter, capsys):
    answer = letter if not concepts.CHOICES[choice].multiple else set(RIGHT[choice]) | {letter}
    concepts.check_choice(choice, answer)
    _, passed, hint = verdict(capsys)
    assert passed is False and hint.startswith(f"({letter}) is not right")


def test_every_written_question_has_a_model_answer_and_a_parseable_item():
    for question, written in concepts.WRITTEN.items():
        assert written.item.startswith("written: ") and " — " not in written.item
        assert len(written.model_answer.split()) >= 20, question
        data, metadata = checks.answer_bundle(written.item, "mine", written.model_answer)
        assert metadata[checks.ANSWER_MIME]["model_answer"] == written.model_answer


@pytest.mark.parametrize(
    "answer, got", [("", "an empty string"), (None, "None"), (["the gradient vanishes"], "a list")]
)
def test_a_missing_written_answer_is_a_cross_that_says_what_to_write(answer, got, capsys):
    concepts.record_written_answer("vanilla", answer)
    _, passed, hint = verdict(capsys)
    assert passed is False and hint == f"write your answer as a string of one to three sentences, got {got}"


def test_an_unknown_question_of_any_kind_is_an_authoring_error():
    for check, question in [
        (concepts.record_written_answer, "attention"),
        (concepts.check_order, "steps"),
        (concepts.check_gate, "reset"),
    ]:
        with pytest.raises(ValueError, match="unknown question"):
            check(question, "text")

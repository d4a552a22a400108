"""kerasdl.checks.concepts: right answers pass, plausible wrong answers are rejected with feedback, and
answers of the wrong type are reported instead of crashing the check."""

import numpy as np
import pytest

from kerasdl import checks
from kerasdl.checks import concepts


def verdict(capsys):
    """Return (item, passed, hint) of the single verdict printed since the last call."""
    out = capsys.readouterr().out
    found = checks.parse(out)
    assert len(found) == 1, out
    (item, passed), = found
    return item, passed, checks.hints(out).get(item, "")


def verdicts(capsys):
    out = capsys.readouterr().out
    return checks.parse(out), checks.hints(out)


# ---------------------------------------------------------------- choices

RIGHT = {"q1": "a", "q2": {"a", "b"}, "q3": "b", "q4": "b", "q5": {"a", "c"}}


@pytest.mark.parametrize("question", sorted(RIGHT))
def test_the_right_choices_pass(question, capsys):
    concepts.check_choice(question, RIGHT[question])
    item, passed, _ = verdict(capsys)
    assert passed and item == concepts.CHOICES[question].item


@pytest.mark.parametrize("question, letter", [
    (q, letter) for q, choice in sorted(concepts.CHOICES.items()) for letter in choice.options
    if letter not in choice.correct
])
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


@pytest.mark.parametrize("question, answer", [
    ("q1", "A"), ("q1", " a "), ("q1", "(a)"), ("q1", ["a"]), ("q2", "a, b"), ("q2", "b and a"),
    ("q2", ("A", "b")), ("q5", frozenset("ac")), ("q5", "a c"),
])
def test_letters_are_accepted_in_any_reasonable_form(question, answer, capsys):
    concepts.check_choice(question, answer)
    assert verdict(capsys)[1]


@pytest.mark.parametrize("answer, message", [
    (1, "got an int"), (None, "got None"), ("ab", 'for example "b"'), ("e", "there is no choice e"),
    ({1, 2}, "something other than strings"), ("", 'for example "b"'), ("the first one", 'for example "b"'),
])
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


@pytest.mark.parametrize("wrong, message", [
    (untransposed, "transpose of the recurrent matrix"),
    (one_step_short, "ratio after 4 steps, not 5"),
    (squared, "squared norms"),
    (not_normalized, "divide by the norm"),
    (largest_singular_value_power, "apply the backward step num_steps times"),
    (lambda m, g, n: m.T @ g, "expected a single number, got an array of shape (6,)"),
    (lambda m, g, n: None, "expected a number, got None"),
    (lambda m, g: 1.0, "raised TypeError"),
    ("backprop_norm_ratio", "expected a function, got a str"),
])
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

PARAMETER_ITEMS = ["SimpleRNN parameter count matches Keras's count_params()",
                   "LSTM parameter count matches Keras's count_params()",
                   "GRU parameter count matches Keras's count_params()"]


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


@pytest.mark.parametrize("formulas, failing, message", [
    ((lambda i, u: u * (i + u), lstm_params, gru_params), 0, "the bias is missing"),
    ((lambda i, u: u * (i + 1), lstm_params, gru_params), 0, "recurrent kernel"),
    ((simple_rnn_params, lambda i, u: 4 * u * (i + u), gru_params), 1, "the biases are missing"),
    ((simple_rnn_params, lambda i, u: u * (i + u + 1), gru_params), 1, "one block of weights"),
    ((simple_rnn_params, lambda i, u: 3 * u * (i + u + 1), gru_params), 1, "one block is missing"),
    ((simple_rnn_params, lstm_params, lambda i, u: 3 * u * (i + u + 1)), 2, "reset_after=True"),
    ((simple_rnn_params, lstm_params, lambda i, u: 3 * u * (i + u)), 2, "the biases are missing"),
    ((simple_rnn_params, lstm_params, lstm_params), 2, "this is an LSTM's count"),
    ((simple_rnn_params, lstm_params, lambda i, u: 3 * u * (i + 2 * u + 2)), 2, "count the input kernel"),
])
def test_wrong_counts_are_rejected_with_what_they_missed(formulas, failing, message, capsys):
    concepts.check_parameter_counts(*formulas)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [index != failing for index in range(3)]
    assert message in hints[PARAMETER_ITEMS[failing]]
    assert "wrong for input_dim=1, units=8" in hints[PARAMETER_ITEMS[failing]]


@pytest.mark.parametrize("wrong, message", [
    (lambda i, u: str(lstm_params(i, u)), "whole number of parameters, got a str"),
    (lambda i, u: lstm_params(i, u) + 0.5, "whole number of parameters, got a float"),
    (lambda i, u: None, "got None"),
    (lambda i: 4, "raised TypeError"),
    (4352, "expected a function, got an int"),
])
def test_counts_of_the_wrong_type_are_reported(wrong, message, capsys):
    concepts.check_parameter_counts(simple_rnn_params, wrong, gru_params)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [True, False, True]
    assert message in hints[PARAMETER_ITEMS[1]]


# ---------------------------------------------------------------- written answers

GOOD = {
    "vanilla": ("Backpropagation through time multiplies the gradient by the recurrent Jacobian once per time "
                "step, so over many steps it vanishes or explodes exponentially."),
    "cell_state": ("The cell state is updated additively, c_t = f_t * c_{t-1} + i_t * g_t, so along it the "
                   "gradient is only multiplied element-wise by the forget gate, which can stay close to 1."),
    "gru": ("A GRU has fewer parameters and is cheaper to run, and on many tasks it reaches similar accuracy, "
            "so choose it when data or compute are limited."),
}
OTHER_WORDINGS = {
    "vanilla": "The same weight matrix is applied at every step, so the gradient shrinks towards zero over "
               "long distances and the early inputs barely get a learning signal.",
    "cell_state": "The forget gate scales the old cell state and the new content is added, so there is no "
                  "matrix multiplication on that path and the error can flow back unchanged.",
    "gru": "When speed matters: it has two gates instead of three and about 3/4 of the weights, and it "
           "usually performs comparably.",
}


@pytest.mark.parametrize("question", sorted(GOOD))
def test_good_answers_pass_in_other_wordings_too(question, capsys):
    for answer in (GOOD[question], OTHER_WORDINGS[question], GOOD[question].upper()):
        concepts.check_written_answer(question, answer)
        item, passed, hint = verdict(capsys)
        assert passed, (answer, hint)
        assert item == concepts.WRITTEN[question].item


@pytest.mark.parametrize("question, answer, missing", [
    ("vanilla", "Gradients vanish when the sequences are long, so the network forgets early inputs quickly.",
     "what happens to the gradient at each step back in time"),
    ("vanilla", "Gradients vanish over many time steps, so inputs from long ago are forgotten by the network.",
     "what happens to the gradient at each step back in time"),
    ("vanilla", "The gradient is multiplied by the recurrent matrix once for every step it goes back in time.",
     "what that does to the gradient's size"),
    ("cell_state", "The forget gate lets the LSTM keep information for a long time, so gradients do not vanish.",
     "how the new cell state is formed from the old one"),
    ("cell_state", "The new cell state is the sum of the old one and new content, so gradients are preserved.",
     "which gate decides how much of the old cell state is kept"),
    ("cell_state", "The cell state is the sum of the old state times the forget gate and the new content.",
     "why the gradient along the cell state need not shrink"),
    ("gru", "A GRU is generally better than an LSTM, because it is a newer and more modern architecture.",
     "what a GRU saves compared with an LSTM"),
    ("gru", "A GRU has fewer parameters than an LSTM, since it merges the forget and input gates into one.",
     "how its accuracy usually compares"),
])
def test_an_answer_missing_a_key_concept_is_rejected_with_a_hint(question, answer, missing, capsys):
    concepts.check_written_answer(question, answer)
    _, passed, hint = verdict(capsys)
    assert not passed
    assert hint == f"your answer does not yet say {missing}" or missing in hint, hint


@pytest.mark.parametrize("answer, message", [
    ("Vanishing gradients.", "at least 8 words"),
    ("multiplied and vanishing " * 50, "at most 120 words"),
    (None, "write your answer as a string in quotes, got None"),
    (["the gradient vanishes"], "got a list"),
])
def test_answers_too_short_too_long_or_not_text_are_reported(answer, message, capsys):
    concepts.check_written_answer("vanilla", answer)
    _, passed, hint = verdict(capsys)
    assert not passed and message in hint


def test_an_unknown_written_question_is_an_authoring_error():
    with pytest.raises(ValueError, match="unknown question"):
        concepts.check_written_answer("attention", "text")

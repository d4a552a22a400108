"""Verdict lines: right answers pass, wrong answers and wrong types are rejected without crashing."""

import math

import numpy as np
import pytest

from kerasdl import checks


def test_verdict_prints_one_line_and_returns_the_bool(capsys):
    assert checks.verdict("add returns the sum", 2 + 3 == 5, hint="add a and b") is True
    assert checks.verdict("add returns the sum", 2 - 3 == 5, hint="add a and b") is False
    assert capsys.readouterr().out == "✔ add returns the sum\n✘ add returns the sum — add a and b\n"


def test_a_wrong_answer_is_rejected_with_the_hint(capsys):
    def add(a, b):
        return a - b  # a plausible wrong answer

    assert checks.check("add returns the sum", lambda: add(2, 3) == 5, hint="return a plus b") is False
    assert capsys.readouterr().out == "✘ add returns the sum — return a plus b\n"


def test_a_right_answer_passes(capsys):
    assert checks.check("add returns the sum", lambda: (2 + 3) == 5, hint="return a plus b") is True
    assert capsys.readouterr().out == "✔ add returns the sum\n"


def test_a_list_instead_of_an_array_is_reported_not_raised(capsys):
    windows = [[0.0] * 40] * 3
    passed = checks.check("windows", lambda: checks.expect_array(windows, shape=("N", 40)) is not None)
    assert passed is False
    assert capsys.readouterr().out == "✘ windows — expected an array of shape (N, 40), got a list\n"


@pytest.mark.parametrize("value, message", [
    (np.zeros((3, 4)), "expected an array of shape (N, 40), got shape (3, 4)"),
    (np.zeros(40), "expected an array of shape (N, 40), got shape (40,)"),
    (np.full((2, 40), np.nan), "the array contains NaN or infinite values"),
    (None, "expected an array of shape (N, 40), got None"),
    ("0.5", "expected an array of shape (N, 40), got a str"),
])
def test_a_wrong_shape_type_or_nan_is_reported(value, message, capsys):
    assert checks.check("windows", lambda: checks.expect_array(value, shape=(None, 40)) is not None) is False
    assert capsys.readouterr().out == f"✘ windows — {message}\n"


def test_the_right_shape_passes_and_the_array_comes_back():
    array = checks.expect_array(np.ones((5, 40)), shape=("N", 40))
    assert array.shape == (5, 40)


def test_any_exception_in_the_learners_code_becomes_a_cross(capsys):
    def broken(x):
        return x + "1"  # TypeError inside the learner's function

    assert checks.check("adds one", lambda: broken(1) == 2, hint="return x + 1") is False
    out = capsys.readouterr().out
    assert out.startswith("✘ adds one — raised TypeError: unsupported operand")
    assert out.rstrip().endswith("; return x + 1")
    assert out.count("\n") == 1


def test_a_bare_assert_and_a_check_error_give_their_own_words(capsys):
    def bare():
        raise AssertionError()  # what a bare `assert` raises in a notebook (pytest rewrites asserts here)

    def explained():
        raise checks.CheckError("the loss went up")

    assert checks.check("bare", bare) is False
    assert checks.check("explained", explained) is False
    assert capsys.readouterr().out == ("✘ bare — the check's condition was false\n"
                                       "✘ explained — the loss went up\n")


def test_not_implemented_propagates_so_graders_see_not_attempted(capsys):
    def stub():
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        checks.check("add returns the sum", lambda: stub() == 5)
    assert capsys.readouterr().out == ""


def test_expect_close_rejects_wrong_values_without_giving_them_away():
    assert checks.expect_close(np.array([1.0, 2.0]) + 1e-9, [1.0, 2.0]) is True
    with pytest.raises(checks.CheckError) as caught:
        checks.expect_close(np.array([1.0, 2.5]), [1.0, 2.0], rtol=1e-3, atol=0)
    message = str(caught.value)
    assert "2.5" not in message and "0.5" not in message
    assert message == "values differ from the reference by more than rtol=0.001, atol=0"
    with pytest.raises(checks.CheckError, match="got shape"):
        checks.expect_close(np.zeros(3), [1.0, 2.0])
    with pytest.raises(checks.CheckError):
        checks.expect_close(3.5, 3.0)


@pytest.mark.parametrize("value, message", [
    ("1.0", "expected a number, got a str"),
    (True, "expected a number, got a bool"),
    (np.zeros(3), "expected a single number, got an array of shape (3,)"),
    (math.nan, "expected a finite number, got NaN or infinity"),
])
def test_expect_number_rejects_what_is_not_one_number(value, message):
    with pytest.raises(checks.CheckError) as caught:
        checks.expect_number(value)
    assert str(caught.value) == message


def test_expect_number_takes_numpy_scalars():
    assert checks.expect_number(np.float32(1.5)) == 1.5
    assert checks.expect_number(np.array([[2]])) == 2.0


def test_backend_tensors_are_accepted(backend_name):
    import keras

    assert keras.config.backend() == backend_name
    tensor = keras.ops.ones((2, 40))
    assert checks.expect_array(tensor, shape=("N", 40)).shape == (2, 40)
    assert checks.expect_number(keras.ops.sum(tensor)) == 80.0
    with pytest.raises(checks.CheckError, match=r"got shape \(2, 40\)"):
        checks.expect_array(tensor, shape=(None, 39))


def test_parse_reads_verdicts_back_and_ignores_other_lines(capsys):
    checks.verdict("first item", True)
    checks.verdict("second item", False, hint="look at the axis")
    checks.verdict("third item", False)
    text = "Epoch 1/1 — loss 0.3\n" + capsys.readouterr().out + "some other output ✔\n"
    assert checks.parse(text) == [("first item", True), ("second item", False), ("third item", False)]
    assert checks.hints(text) == {"second item": "look at the axis"}
    assert checks.parse("") == []


def test_item_names_must_be_parseable():
    with pytest.raises(ValueError, match="non-empty"):
        checks.verdict("", True)
    with pytest.raises(ValueError, match="non-empty"):
        checks.verdict("shape — rank", True)


def test_hints_stay_on_one_line(capsys):
    checks.verdict("item", False, hint="first line\nsecond line")
    assert capsys.readouterr().out == "✘ item — first line second line\n"


@pytest.mark.parametrize("result, passed", [
    (np.False_, False), (np.array(False), False), (np.mean([1.0, 2.0]) > 5, False),
    (np.True_, True), (np.array(True), True), (None, True), (np.zeros(3), True),
])
def test_numpy_false_from_a_body_is_a_failure(result, passed, capsys):
    assert checks.check("comparison", lambda: result, hint="look again") is passed
    assert capsys.readouterr().out.startswith("✔" if passed else "✘")

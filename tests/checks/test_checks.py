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


def test_a_list_or_tuple_of_numbers_is_an_array(capsys):
    windows = [[0.0] * 40] * 3
    assert checks.expect_array(windows, shape=("N", 40)).shape == (3, 40)
    assert checks.expect_array((1, 2.5, np.float32(3)), shape=(3,)).dtype == np.float64
    assert checks.expect_array([np.int64(1), 2]).dtype.kind == "i"


@pytest.mark.parametrize(
    "value, message",
    [
        ([[0.0] * 40, [0.0] * 39], "expected an array of shape (N, 40), got a list whose rows have different lengths"),
        ([["a"] * 40], "expected an array of shape (N, 40), got a list holding a str"),
        ([[None] * 40], "expected an array of shape (N, 40), got a list holding None"),
        ([[True] * 40], "expected an array of shape (N, 40), got a list holding a bool"),
        ([[0.0] * 40, ("x",)], "expected an array of shape (N, 40), got a list holding a str"),
        ([[0.0] * 40] * 3 + [[math.nan] * 40], "the array contains NaN or infinite values"),
    ],
)
def test_a_list_that_is_no_array_of_numbers_is_reported_not_raised(value, message, capsys):
    passed = checks.check("windows", lambda: checks.expect_array(value, shape=("N", 40)) is not None)
    assert passed is False
    assert capsys.readouterr().out == f"✘ windows — {message}\n"


@pytest.mark.parametrize(
    "value, message",
    [
        (np.zeros((3, 4)), "expected an array of shape (N, 40), got shape (3, 4)"),
        (np.zeros(40), "expected an array of shape (N, 40), got shape (40,)"),
        (np.full((2, 40), np.nan), "the array contains NaN or infinite values"),
        (None, "expected an array of shape (N, 40), got None"),
        ("0.5", "expected an array of shape (N, 40), got a str"),
    ],
)
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
    assert capsys.readouterr().out == ("✘ bare — the check's condition was false\n✘ explained — the loss went up\n")


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


@pytest.mark.parametrize(
    "value, message",
    [
        ("1.0", "expected a number, got a str"),
        (True, "expected a number, got a bool"),
        (np.zeros(3), "expected a single number, got an array of shape (3,)"),
        (math.nan, "expected a finite number, got NaN or infinity"),
    ],
)
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


@pytest.mark.parametrize(
    "result, passed",
    [
        (np.False_, False),
        (np.array(False), False),
        (np.mean([1.0, 2.0]) > 5, False),
        (np.True_, True),
        (np.array(True), True),
        (None, True),
        (np.zeros(3), True),
    ],
)
def test_numpy_false_from_a_body_is_a_failure(result, passed, capsys):
    assert checks.check("comparison", lambda: result, hint="look again") is passed
    assert capsys.readouterr().out.startswith("✔" if passed else "✘")


def test_backend_tensors_inside_a_list_are_numbers(backend_name):
    import keras

    values = [keras.ops.convert_to_tensor(1.5), keras.ops.convert_to_tensor(2.5)]
    assert checks.expect_array(values, shape=(2,)).tolist() == [1.5, 2.5]
    assert checks.expect_whole(keras.ops.convert_to_tensor([7])) == 7


# ---------------------------------------------------------------- the acceptance rule: whole numbers, shapes, tuples


@pytest.mark.parametrize("value", [26, np.int64(26), 26.0, np.float32(26.0), np.array([26]), np.array(26.0)])
def test_a_whole_number_in_any_numeric_form_is_accepted(value):
    assert checks.expect_whole(value, "the size") == 26
    assert type(checks.expect_whole(value, "the size")) is int


@pytest.mark.parametrize(
    "value, message",
    [
        (25.5, "the size should be a whole number, got 25.5"),
        (True, "the size should be a whole number, got a bool"),
        (None, "the size should be a whole number, got None"),
        ("26", "the size should be a whole number, got a str"),
        ((26, 26), "the size should be a whole number, got a tuple"),
        (np.array([26, 26]), "the size should be a whole number, got an ndarray"),
        (math.inf, "the size should be a whole number, got inf"),
    ],
)
def test_what_is_not_a_whole_number_is_named(value, message):
    with pytest.raises(checks.CheckError) as caught:
        checks.expect_whole(value, "the size")
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "value, shape",
    [
        ((26, 26, 32), (26, 26, 32)),
        ([26, 26, 32], (26, 26, 32)),
        (np.array([26, 26, 32]), (26, 26, 32)),
        ((2304,), (2304,)),
        (2304, (2304,)),
        (np.int64(2304), (2304,)),
        ((26.0, 26, np.int32(32)), (26, 26, 32)),
    ],
)
def test_a_shape_is_a_tuple_a_list_a_1d_array_or_one_number(value, shape):
    assert checks.expect_shape(value, "the output shape") == shape


@pytest.mark.parametrize(
    "value, message",
    [
        ("26x26x32", "the output shape should be a tuple of sizes, such as (26, 26, 32) or (10,); got a str"),
        (
            np.zeros((2, 3), int),
            "the output shape should be a tuple of sizes, such as (26, 26, 32) or (10,); got an array of shape (2, 3)",
        ),
        ((None, 26, 26, 32), "each size in the output shape should be a whole number, got None"),
        ((26.5, 26), "each size in the output shape should be a whole number, got 26.5"),
    ],
)
def test_what_is_not_a_shape_is_named(value, message):
    with pytest.raises(checks.CheckError) as caught:
        checks.expect_shape(value, "the output shape")
    assert str(caught.value) == message


def test_several_results_come_as_a_tuple_or_a_list():
    assert checks.expect_tuple([1, 2], 2, "(x, y)") == (1, 2)
    assert checks.expect_tuple((1, 2), 2, "(x, y)") == (1, 2)
    assert checks.expect_tuple(np.array([0.5, 0.1]), 2, "(mean, std)") == (0.5, 0.1)  # numbers: a 1-D array too
    for value, got in [((1, 2, 3), "a tuple of 3"), (np.zeros((2, 3)), "an ndarray"), (np.zeros(3), "an ndarray")]:
        with pytest.raises(checks.CheckError) as caught:
            checks.expect_tuple(value, 2, "(x, y)")
        assert str(caught.value) == f"expected a tuple of 2: (x, y); got {got}"
    with pytest.raises(checks.CheckError, match="got None"):
        checks.expect_tuple(None, 2, "(x, y)")


@pytest.mark.parametrize(
    "name, words",
    [
        ("LSTM", "an LSTM"),
        ("GRU", "a GRU"),
        ("RNN", "an RNN"),
        ("ndarray", "an ndarray"),
        ("list", "a list"),
        ("int", "an int"),
        ("EagerTensor", "an EagerTensor"),
        ("Tensor", "a Tensor"),
        ("SimpleRNN", "a SimpleRNN"),
    ],
)
def test_articles_follow_how_names_are_read(name, words):
    assert checks.article(name) == words


# ---------------------------------------------------------------- written answers, recorded for the instructor


def test_a_written_answer_is_recorded_neither_passed_nor_failed(capsys):
    assert checks.record_answer("written: why RNNs forget", "Gradients shrink at each step.", "model") is None
    out = capsys.readouterr().out
    assert out == "✎ written: why RNNs forget — recorded for your instructor\n"
    assert checks.RECORDED == "✎"
    assert checks.parse(out) == [("written: why RNNs forget", None)]
    assert checks.hints(out) == {}


@pytest.mark.parametrize(
    "answer, got",
    [("", "an empty string"), ("  \n ", "an empty string"), (None, "None"), (["a", "b"], "a list"), (42, "an int")],
)
def test_a_missing_written_answer_is_a_cross_that_says_what_to_write(answer, got, capsys):
    checks.record_answer("written: why", answer, "model")
    out = capsys.readouterr().out
    assert out == f"✘ written: why — write your answer as a string of one to three sentences, got {got}\n"


def test_the_answer_bundle_keeps_the_texts_out_of_the_compared_data():
    data, metadata = checks.answer_bundle("written: why", "my words", "the model answer")
    assert data == {"text/plain": "", checks.ANSWER_MIME: {"item": "written: why"}}  # the same for every answer
    assert metadata == {
        checks.ANSWER_MIME: {"item": "written: why", "answer": "my words", "model_answer": "the model answer"}
    }
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "✎ written: why — recorded for your instructor\n"},
        {"output_type": "display_data", "data": data, "metadata": metadata},
    ]
    assert checks.answers(outputs) == [
        {"item": "written: why", "answer": "my words", "model_answer": "the model answer"}
    ]
    assert checks.answers([outputs[0]]) == []
    with pytest.raises(ValueError, match="non-empty"):
        checks.answer_bundle("why — because", "a", "b")


@pytest.mark.once  # nbval and the answer bundle, not the backend
def test_nbval_passes_a_recorded_answer_worded_differently_from_the_stored_one(tmp_path):
    """The stored notebook holds one wording; the run records another: the checked cell still matches."""
    import os

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from helpers import BACKEND, ROOT, run_nbval

    def notebook(answer):
        source = (
            "# NBVAL_CHECK_OUTPUT\nfrom kerasdl import checks\n"
            f"checks.record_answer('written: why', {answer!r}, 'the model answer')"
        )
        return new_notebook(
            cells=[new_code_cell(source, execution_count=1)],
            metadata={"kernelspec": {"name": f"kerasdl-{BACKEND}", "display_name": BACKEND, "language": "python"}},
        )

    stored = notebook("the stored wording")
    data, metadata = checks.answer_bundle("written: why", "the stored wording", "the model answer")
    stored.cells[0].outputs = [
        new_output("stream", name="stdout", text="✎ written: why — recorded for your instructor\n"),
        new_output("display_data", data=data, metadata=metadata),
    ]
    stored.cells[0].source = notebook("quite another wording, by the learner").cells[0].source
    path = tmp_path / "recorded.ipynb"
    nbformat.write(stored, path)
    done = run_nbval(path, tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 passed" in done.stdout

    stored.cells[0].outputs[1]["data"][checks.ANSWER_MIME] = {"item": "another item"}  # the data is compared
    nbformat.write(stored, path)
    done = run_nbval(path, tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode != 0  # so the first run's pass is not vacuous

"""plots.attention_maps: a panel per example, rows the outputs and columns the inputs, labelled character by
character, one colour scale; bad arguments raise a one-line ValueError."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from kerasdl import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def weights(rows, columns, seed=0):
    values = np.random.default_rng(seed).random((rows, columns))
    return values / values.sum(axis=1, keepdims=True)  # each row sums to 1, like softmax weights


def panels(figure):
    return [axis for axis in figure.axes if axis.get_images()]


def tick_texts(labels):
    return [label.get_text() for label in labels]


def test_one_map_labels_each_character_and_shows_spaces():
    figure = plots.attention_maps(weights(10, 8), inputs="3 May 79", outputs="1979-05-03", show=False)
    (axis,) = panels(figure)
    assert tick_texts(axis.get_xticklabels()) == list("3␣May␣79")
    assert tick_texts(axis.get_yticklabels()) == list("1979-05-03")
    assert axis.get_images()[0].get_array().shape == (10, 8)
    assert any(a.get_ylabel() == "attention weight" for a in figure.axes)  # the colour bar


def test_several_maps_of_different_lengths_share_one_scale():
    maps = [weights(10, 8, seed=1), weights(10, 20, seed=2) * 0.5, weights(10, 11, seed=3)]
    texts = ["3 May 79", "Thursday, May 3 1979", "03.05.1979 "]
    figure = plots.attention_maps(maps, inputs=texts, outputs="1979-05-03", titles=texts, columns=2, show=False)
    shown = panels(figure)
    assert len(shown) == 3
    assert [a.get_title() for a in shown] == texts
    assert [a.get_images()[0].get_array().shape[1] for a in shown] == [8, 20, 11]
    limits = {a.get_images()[0].get_clim() for a in shown}
    assert limits == {(0.0, max(float(m.max()) for m in maps))}
    assert sum(not a.axison for a in figure.axes) == 1  # the fourth cell of the 2 x 2 grid is blank


def test_a_3d_array_and_word_labels_work_too():
    maps = np.stack([weights(3, 4, seed=s) for s in range(2)])  # (examples, outputs, inputs)
    figure = plots.attention_maps(
        maps, inputs=[["the", "cat", "sat", "."], ["a", "b", "c", "d"]], outputs=[["q1", "q2", "q3"]] * 2, show=False
    )
    first, second = panels(figure)
    assert tick_texts(first.get_xticklabels()) == ["the", "cat", "sat", "."]
    assert tick_texts(second.get_xticklabels()) == ["a", "b", "c", "d"]
    assert tick_texts(second.get_yticklabels()) == ["q1", "q2", "q3"]


def test_a_single_map_takes_a_list_of_word_labels_whose_spaces_stay():
    figure = plots.attention_maps(weights(2, 3), inputs=["the", "cat", " "], outputs=["head 1", "head 2"], show=False)
    (axis,) = panels(figure)
    assert tick_texts(axis.get_xticklabels()) == ["the", "cat", "␣"]
    assert tick_texts(axis.get_yticklabels()) == ["head 1", "head 2"]


def test_draws_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = plots.attention_maps(
            [weights(10, 8), weights(10, 12)],
            inputs=["3 May 79", "03/05/1979  "],
            outputs="1979-05-03",
            title="two examples",
            show=False,
        )
        figure.canvas.draw()


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: plots.attention_maps(np.zeros(5), "abcde", "x", show=False), "2-D array"),
        (lambda: plots.attention_maps(np.zeros((2, 3)), "abcd", "xy", show=False), "4 input labels"),
        (lambda: plots.attention_maps(np.zeros((2, 3)), "abc", "xyz", show=False), "3 output"),
        (lambda: plots.attention_maps([np.zeros((2, 3))] * 2, ["abc"] * 3, "xy", show=False), "3 entries for 2 maps"),
        (lambda: plots.attention_maps([np.zeros((2, 3))] * 2, "abc", ["x", "y"], show=False), "1 output"),
        (lambda: plots.attention_maps([np.zeros((2, 3))] * 2, "abc", [1, 2], show=False), "one string or list"),
        (lambda: plots.attention_maps([np.zeros((2, 3))] * 2, "abc", "xy", titles=["one"], show=False), "1 titles"),
    ],
)
def test_bad_arguments_raise_one_line(call, words):
    with pytest.raises(ValueError, match=words) as caught:
        call()
    assert "\n" not in str(caught.value)

"""kerasdl.plots: each figure renders headless (Agg, show=False) with what it promises; bad arguments
raise a one-line ValueError that says what to pass instead."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from kerasdl import plots

HISTORY = {
    "loss": [1.0, 0.5, 0.3],
    "val_loss": [1.1, 0.7, 0.6],
    "accuracy": [0.5, 0.8, 0.9],
    "val_accuracy": [0.4, 0.7, 0.8],
    "learning_rate": [1e-3, 1e-3, 5e-4],
}


class FakeHistory:
    """What keras.callbacks.History exposes: a .history dict."""

    def __init__(self, history):
        self.history = history


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def labels(axis):
    return [line.get_label() for line in axis.get_lines()]


def one_line_value_error(call, match):
    with pytest.raises(ValueError, match=match) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_training_curves_draw_a_panel_per_metric_with_training_solid_and_validation_dashed():
    figure = plots.training_curves(FakeHistory(HISTORY), title="run", show=False)
    assert [axis.get_title() for axis in figure.axes] == ["loss", "accuracy"]  # learning_rate left out
    loss_axis = figure.axes[0]
    assert labels(loss_axis) == ["training", "validation"]
    assert [line.get_linestyle() for line in loss_axis.get_lines()] == ["-", "--"]
    np.testing.assert_array_equal(loss_axis.get_lines()[1].get_ydata(), HISTORY["val_loss"])
    np.testing.assert_array_equal(loss_axis.get_lines()[0].get_xdata(), [1, 2, 3])  # epochs from 1
    assert figure.get_suptitle() == "run"


def test_training_curves_compare_runs_with_baselines_marks_and_a_log_scale():
    runs = {"with": FakeHistory(HISTORY), "without": HISTORY}
    figure = plots.training_curves(
        runs, metrics="loss", baselines={"chance": 2.3}, marks={"best": 2}, log_scale=True, show=False
    )
    (axis,) = figure.axes
    assert labels(axis) == [
        "with training",
        "with validation",
        "without training",
        "without validation",
        "chance",
        "best",
    ]
    assert axis.get_yscale() == "log"
    assert list(axis.get_lines()[-1].get_xdata()) == [2, 2]  # the mark is a vertical line at epoch 2


def test_training_curves_baselines_per_metric_and_no_log_scale_for_accuracy():
    figure = plots.training_curves(
        HISTORY, metrics=["loss", "accuracy"], log_scale=True, baselines={"accuracy": {"SVC": 0.97}}, show=False
    )
    loss_axis, accuracy_axis = figure.axes
    assert "SVC" in labels(accuracy_axis) and "SVC" not in labels(loss_axis)
    assert (loss_axis.get_yscale(), accuracy_axis.get_yscale()) == ("log", "linear")


def test_training_curves_reject_what_is_not_a_history():
    one_line_value_error(lambda: plots.training_curves(42, show=False), "keras History")
    one_line_value_error(lambda: plots.training_curves({"a": 42}, show=False), "one number per epoch")
    one_line_value_error(
        lambda: plots.training_curves(HISTORY, metrics=["mae"], show=False),
        "has no mae; it has accuracy, learning_rate, loss",
    )
    one_line_value_error(lambda: plots.training_curves(HISTORY, marks=["best"], show=False), "marks must be")


def test_show_true_displays_and_returns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg cannot show: matplotlib says so
        assert plots.training_curves(HISTORY, show=True) is None
        assert plots.image_grid(np.zeros((2, 4, 4)), show=True) is None
        assert plots.confusion_matrix([0, 1], [0, 1], show=True) is None


def test_image_grid_lays_out_images_with_titles_and_blank_cells():
    images = np.random.default_rng(0).random((5, 8, 8, 1))  # (n, height, width, 1)
    figure = plots.image_grid(images, titles=list("abcde"), columns=3, show=False)
    assert len(figure.axes) == 6  # 2 rows of 3; the sixth is blank
    assert [axis.get_title() for axis in figure.axes[:5]] == list("abcde")
    assert not figure.axes[5].axison
    np.testing.assert_array_equal(figure.axes[0].images[0].get_array(), images[0, :, :, 0])


def test_image_grid_takes_a_list_of_sizes_with_per_image_colours_and_colour_bars():
    image, kernel, feature_map = np.ones((8, 8)), np.array([[1, 0, -1]] * 3), -np.ones((6, 6, 1))
    figure = plots.image_grid(
        [image, kernel, feature_map],
        cmap=["gray", "coolwarm", "coolwarm"],
        symmetric=[False, True, True],
        colorbar=True,
        show=False,
    )
    pictures = [axis for axis in figure.axes if axis.images]
    assert [p.images[0].get_array().shape for p in pictures] == [(8, 8), (3, 3), (6, 6)]
    assert [p.images[0].get_cmap().name for p in pictures] == ["gray", "coolwarm", "coolwarm"]
    assert pictures[1].images[0].get_clim() == (-1.0, 1.0)  # symmetric around zero
    assert len(figure.axes) == 6  # three images, three colour bars


def test_image_grid_accepts_a_backend_tensor():
    import keras

    figure = plots.image_grid(keras.ops.ones((2, 3, 3)), show=False)
    assert len(figure.axes) == 2


def test_image_grid_rejects_bad_shapes_and_counts():
    one_line_value_error(lambda: plots.image_grid(np.zeros((4, 4)), show=False), r"got \(4, 4\)")
    one_line_value_error(lambda: plots.image_grid(np.zeros((0, 4, 4)), show=False), "empty")
    one_line_value_error(
        lambda: plots.image_grid(np.zeros((2, 4, 4)), titles=["a"], show=False), "1 titles for 2 images"
    )
    one_line_value_error(
        lambda: plots.image_grid([np.zeros((4, 4)), np.zeros(3)], show=False), r"images\[1\] must have shape"
    )
    one_line_value_error(
        lambda: plots.image_grid(np.zeros((2, 4, 4)), cmap=["gray"], show=False), "1 values of cmap for 2 images"
    )
    one_line_value_error(lambda: plots.image_grid("pictures", show=False), "images must")


def test_confusion_matrix_counts_each_pair_and_labels_its_axes():
    figure, counts = plots.confusion_matrix(
        [0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], class_names=["a", "b", "c"], show=False
    )
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    axis = figure.axes[0]
    assert (axis.get_xlabel(), axis.get_ylabel()) == ("predicted", "true")
    assert [tick.get_text() for tick in axis.get_xticklabels()] == ["a", "b", "c"]
    assert sorted(text.get_text() for text in axis.texts) == ["1", "1", "1", "1", "2"]  # zeros left blank


def test_confusion_matrix_rejects_mismatched_labels():
    one_line_value_error(
        lambda: plots.confusion_matrix([0, 1, 2], [0, 1], show=False), "3 labels and predicted_labels 2"
    )


def test_heatmap_has_a_colour_bar_labels_and_a_centred_scale():
    values = np.array([[-2.0, 1.0, 0.5], [0.0, 1.5, -0.5]])  # (rows, columns)
    figure = plots.heatmap(
        values,
        x_labels=[1, 2, 3],
        y_labels=["r", "s"],
        colorbar="weight",
        centered=True,
        annotate=True,
        x_title="x",
        show=False,
    )
    axis, bar = figure.axes
    assert bar.get_ylabel() == "weight"
    assert axis.images[0].get_clim() == (-2.0, 2.0)
    assert [tick.get_text() for tick in axis.get_yticklabels()] == ["r", "s"]
    assert len(axis.texts) == 6 and axis.get_xlabel() == "x"


def test_heatmap_rejects_bad_shapes_and_labels():
    one_line_value_error(lambda: plots.heatmap(np.zeros(3), show=False), "must be 2-D")
    one_line_value_error(
        lambda: plots.heatmap(np.zeros((2, 3)), x_labels=[1, 2], show=False), r"x_labels \(columns\) has 2 labels for 3"
    )


def test_lines_plot_each_series_against_x_with_baselines_and_log_axes():
    figure = plots.lines(
        [1, 10, 100],
        {"a": [1, 2, 3], "b": [3, 2, 1]},
        "length",
        "seconds",
        log_x=True,
        baselines={"floor": 0.5},
        show=False,
    )
    axis = figure.axes[0]
    assert labels(axis) == ["a", "b", "floor"]
    assert (axis.get_xscale(), axis.get_xlabel(), axis.get_ylabel()) == ("log", "length", "seconds")


def test_lines_reject_bad_series():
    one_line_value_error(lambda: plots.lines([1, 2], [1, 2], "x", "y", show=False), "non-empty dict")
    one_line_value_error(lambda: plots.lines([1, 2], {"a": [1, 2, 3]}, "x", "y", show=False), "one value per x")


def test_gradient_norms_pad_shorter_series_and_use_a_log_scale():
    figure = plots.gradient_norms({"rnn": [1.0, 0.1, 0.01], "lstm": [1.0, 0.9]}, show=False)
    axis = figure.axes[0]
    assert axis.get_yscale() == "log"
    lstm = axis.get_lines()[1].get_ydata()
    assert len(lstm) == 3 and np.isnan(lstm[2])
    figure = plots.gradient_norms(np.array([1.0, 0.5]), log_scale=False, show=False)
    assert labels(figure.axes[0]) == ["gradient norm"]

"""kerasdl.plots.depth_curves: metrics against depth, one panel per metric, one line per kind of network."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from kerasdl import plots

DEPTHS = [4, 8, 16, 32, 64]
RUNS = {
    "plain": {"training loss": [0.01, 0.01, 0.02, 2.3, 2.3], "training accuracy": [1.0, 1.0, 0.99, 0.1, 0.1]},
    "residual": {"training loss": [0.01, 0.01, 0.01, 0.01, 0.01], "training accuracy": [1.0] * 5},
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_a_panel_per_metric_a_line_per_run_and_chance_as_a_baseline():
    figure = plots.depth_curves(DEPTHS, RUNS, baselines={"training accuracy": {"chance": 0.1}}, show=False)
    loss_axis, accuracy_axis = figure.axes
    assert [loss_axis.get_title(), accuracy_axis.get_title()] == ["training loss", "training accuracy"]
    assert [line.get_label() for line in loss_axis.get_lines()] == ["plain", "residual"]
    assert [line.get_label() for line in accuracy_axis.get_lines()] == ["plain", "residual", "chance"]
    plain = loss_axis.get_lines()[0]
    assert list(plain.get_xdata()) == DEPTHS and list(plain.get_ydata()) == RUNS["plain"]["training loss"]
    assert loss_axis.get_yscale() == "log" and accuracy_axis.get_yscale() == "linear"
    assert loss_axis.get_xscale() == "log"  # depths double: equal steps on a base-2 axis
    assert [tick.get_text() for tick in loss_axis.get_xticklabels()] == [str(d) for d in DEPTHS]
    assert loss_axis.get_xlabel() == "depth (layers)"


def test_chosen_metrics_tensors_and_no_log_scale():
    runs = {"residual": {"training loss": np.array([0.1, 0.2]), "test accuracy": [0.9, 0.95]}}
    figure = plots.depth_curves(np.array([10, 100]), runs, metrics="test accuracy", log_scale=(), show=False)
    (axis,) = figure.axes
    assert axis.get_title() == "test accuracy" and axis.get_yscale() == "linear"


@pytest.mark.parametrize(
    "depths, runs, kwargs, match",
    [
        ([], RUNS, {}, "depths must be positive"),
        ([0, 4], {"plain": {"loss": [1, 2]}}, {}, "depths must be positive"),
        (DEPTHS, {}, {}, "runs must be a non-empty dict"),
        (DEPTHS, {"plain": [1, 2]}, {}, "runs must be a non-empty dict"),
        (DEPTHS, RUNS, {"metrics": ["test loss"]}, "has no 'test loss'; it has 'training loss', 'training accuracy'"),
        (DEPTHS, {"plain": {"loss": [1, 2, 3]}}, {}, r"needs one value per depth \(5\)"),
        (DEPTHS, RUNS, {"baselines": {"chance": 0.1}}, "baselines must be a dict {metric: {label: value}}"),
    ],
)
def test_bad_arguments_are_one_line_value_errors(depths, runs, kwargs, match):
    with pytest.raises(ValueError, match=match) as caught:
        plots.depth_curves(depths, runs, show=False, **kwargs)
    assert "\n" not in str(caught.value)

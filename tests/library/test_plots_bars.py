"""kerasdl.plots.bars and lines(points=...): a few numbers side by side, and noisy data drawn as dots
under the lines of a forecast. Rendered headless (Agg, show=False)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from kerasdl import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def one_line_value_error(call, match):
    with pytest.raises(ValueError, match=match) as caught:
        call()
    assert "\n" not in str(caught.value)


def test_bars_draw_one_bar_per_label_with_its_value_written_on_it():
    values = {"persistence": 2.5, "LSTM(32)": np.float32(1.25), "noise floor": np.array(1.0)}
    figure = plots.bars(values, "validation MSE / sigma^2", title="one-step forecasts", show=False)
    axis = figure.axes[0]
    assert [patch.get_height() for patch in axis.patches] == pytest.approx([2.5, 1.25, 1.0])
    assert [tick.get_text() for tick in axis.get_xticklabels()] == list(values)
    assert [text.get_text() for text in axis.texts] == ["2.50", "1.25", "1.00"]
    assert len({tuple(patch.get_facecolor()) for patch in axis.patches}) == 3  # a colour per bar
    assert (axis.get_ylabel(), figure.get_suptitle()) == ("validation MSE / sigma^2", "one-step forecasts")


def test_bars_format_their_labels_or_leave_them_out():
    figure = plots.bars({"LSTM": 12.345, "GRU": 9.8}, "ms", value_format="{:.1f} ms", show=False)
    assert [text.get_text() for text in figure.axes[0].texts] == ["12.3 ms", "9.8 ms"]
    figure = plots.bars({"LSTM": 12.345}, "ms", value_format=None, show=False)
    assert len(figure.axes[0].texts) == 0


def test_bars_show_true_returns_none():
    assert plots.bars({"a": 1.0}, "y") is None


def test_bars_reject_what_is_not_one_number_per_label():
    one_line_value_error(lambda: plots.bars({}, "y", show=False), "values must be a non-empty dict")
    one_line_value_error(lambda: plots.bars([1.0, 2.0], "y", show=False), "values must be a non-empty dict")
    one_line_value_error(
        lambda: plots.bars({"a": [1.0, 2.0]}, "y", show=False), r"values\['a'\] must be one number, got \[1.0, 2.0\]"
    )
    one_line_value_error(lambda: plots.bars({"a": "fast"}, "y", show=False), r"values\['a'\] must be one number")


def test_lines_draw_points_as_dots_without_a_line_and_skip_nan():
    x = np.arange(6)
    noisy = np.array([0.1, 0.9, np.nan, -0.8, 0.2, 1.1])  # nothing observed at x = 2
    figure = plots.lines(
        x, {"noisy values": noisy, "forecast": np.sin(x)}, "time step", "value", points=["noisy values"], show=False
    )
    dots, forecast = figure.axes[0].get_lines()
    assert (dots.get_label(), dots.get_linestyle(), dots.get_marker()) == ("noisy values", "None", ".")
    assert (forecast.get_linestyle(), forecast.get_marker()) == ("-", "o")
    assert np.isnan(dots.get_ydata()[2])
    figure = plots.lines(x, {"noisy values": noisy}, "t", "v", points="noisy values", show=False)
    assert figure.axes[0].get_lines()[0].get_linestyle() == "None"


def test_lines_reject_points_that_name_no_series():
    one_line_value_error(
        lambda: plots.lines([0, 1], {"forecast": [0, 1]}, "t", "v", points=["noisy"], show=False),
        "points names 'noisy', which is not a series; series are 'forecast'",
    )

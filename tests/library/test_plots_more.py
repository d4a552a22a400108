"""kerasdl.plots.diagram: boxes and arrows for unrolled networks and gate diagrams."""

import matplotlib
import matplotlib.pyplot as plt
import pytest

from kerasdl import plots

NODES = {"x": (0, 0, "$x_t$", "#dbe9f6"), "h": (0, 1, "$h_t$"), "h_next": (1.6, 1, "$h_{t+1}$")}


def drawn(figure):
    """Return (texts, arrows) of the figure's only axes: the strings shown and the arrow count."""
    axis = figure.axes[0]
    texts = [t.get_text() for t in axis.texts if t.get_text()]
    arrows = [t for t in axis.texts if getattr(t, "arrow_patch", None) is not None]
    return texts, len(arrows)


def test_every_node_is_a_box_and_every_arrow_is_drawn_with_its_label():
    arrows = [("x", "h", "$W_{xh}$"), ("h", "h_next", "$W_{hh}$", 0.3), ("h", "h"), ("h_next", "x")]
    figure = plots.diagram(NODES, arrows, title="cell", show=False)
    texts, count = drawn(figure)
    assert count == 4
    assert {"$x_t$", "$h_t$", "$h_{t+1}$", "$W_{xh}$", "$W_{hh}$"} <= set(texts)
    assert len(texts) == 5  # three boxes, two labels: unlabelled arrows add no text
    boxes = {t.get_text(): t.get_bbox_patch() for t in figure.axes[0].texts if t.get_bbox_patch() is not None}
    assert matplotlib.colors.to_hex(boxes["$x_t$"].get_facecolor()) == "#dbe9f6"
    assert figure.get_suptitle() == "cell"
    plt.close(figure)


def test_nodes_fit_inside_the_axes():
    figure = plots.diagram({"a": (-3, 2, "a"), "b": (5, -1, "b")}, [("a", "b")], show=False)
    axis = figure.axes[0]
    assert axis.get_xlim()[0] < -3 and axis.get_xlim()[1] > 5
    assert axis.get_ylim()[0] < -1 and axis.get_ylim()[1] > 2
    plt.close(figure)


def test_show_true_returns_none():
    assert plots.diagram(NODES, [("x", "h")]) is None
    plt.close("all")


@pytest.mark.parametrize(
    "nodes, arrows, message",
    [
        ({}, [], "nodes must be a non-empty dict"),
        ([(0, 0, "x")], [], "nodes must be a non-empty dict"),
        ({"x": (0, "top", "x")}, [], "nodes['x'] must be (x, y, text)"),
        ({"x": (0, 0)}, [], "nodes['x'] must be (x, y, text)"),
        (NODES, [("x", "y")], "names 'y', which is not a node"),
        (NODES, [("x",)], "each arrow must be (start, end)"),
        (NODES, ["xh"], "each arrow must be (start, end)"),
        (NODES, [("x", "h", "label", "curved")], "bend must be a number"),
    ],
)
def test_bad_arguments_raise_a_value_error_that_says_what_to_give(nodes, arrows, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        plots.diagram(nodes, arrows, show=False)
    plt.close("all")

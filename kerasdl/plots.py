"""The course's figures: training curves, image grids, confusion matrices, heatmaps, attention maps,
lines, bars, metrics against depth, diagrams.

Every function draws one figure and shows it (`show=True`, the default, returns
None so a notebook cell displays it once); with `show=False` it returns the
matplotlib Figure instead, for tests or further drawing. Arrays may be NumPy
arrays or backend tensors. matplotlib is imported when a function is called.
"""

import numbers

import numpy as np


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _numpy(values, name):
    """Return `values` (a sequence, NumPy array or backend tensor) as a NumPy array."""
    if type(values).__module__.split(".")[0] in ("torch", "tensorflow", "jax", "jaxlib", "keras"):
        import keras

        values = keras.ops.convert_to_numpy(values)
    try:
        return np.asarray(values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array or a list of numbers, got {type(values).__name__}") from None


def _finish(figure, title, show):
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    if not show:
        return figure
    _pyplot().show()
    return None


def _history_dict(history, label):
    data = getattr(history, "history", history)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{label} must be a keras History or a dict of metric lists, got {type(history).__name__}")
    return data


def _histories(histories):
    """Return {label: {metric: values}} from one history or a dict of labelled histories."""
    if hasattr(histories, "history"):
        return {"": histories.history}
    if isinstance(histories, dict) and histories:
        first = next(iter(histories.values()))
        if hasattr(first, "history") or isinstance(first, dict):
            return {str(label): _history_dict(h, f"histories[{label!r}]") for label, h in histories.items()}
        return {"": histories}
    raise ValueError(
        "histories must be a keras History, a dict of metric lists, or a dict {label: History} to compare several runs"
    )


def training_curves(histories, metrics=None, baselines=None, title=None, log_scale=False, marks=None, show=True):
    """Plot training (solid) and validation (dashed) curves per metric, one panel each.

    `histories`: a keras History, its `.history` dict, or {label: History} for several runs.
    `metrics`: names to plot (default: every metric that is not a val_ copy).
    `baselines`: {label: value} drawn as horizontal lines on the first panel, or
    {metric: {label: value}} for chosen panels. `log_scale`: a log y axis for
    loss-like metrics (names containing "loss", "mse" or "error"). `marks`:
    {label: epoch} drawn as vertical lines on every panel (a best epoch, a restart).
    """
    runs = _histories(histories)
    if metrics is None:
        metrics = [m for m in next(iter(runs.values())) if not m.startswith("val_") and m != "learning_rate"]
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for label, history in runs.items():
        missing = [m for m in metrics if m not in history]
        if missing:
            known = ", ".join(sorted(history))
            raise ValueError(f"history {label or ''} has no {', '.join(missing)}; it has {known}".replace("  ", " "))
        for metric in metrics:
            if np.ndim(history[metric]) != 1:
                raise ValueError(
                    f"{metric!r} must hold one number per epoch, got {history[metric]!r}: pass a "
                    "keras History or a dict of metric lists"
                )
    if baselines and all(isinstance(v, numbers.Real) for v in baselines.values()):
        baselines = {metrics[0]: baselines}
    baselines = baselines or {}
    marks = marks or {}
    if not isinstance(marks, dict) or not all(isinstance(v, numbers.Real) for v in marks.values()):
        raise ValueError("marks must be a dict {label: epoch number}, e.g. {'best epoch': 12}")
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, metric in zip(axes[0], metrics):
        for index, (label, history) in enumerate(runs.items()):
            colour = colours[index % len(colours)]
            epochs = np.arange(1, len(history[metric]) + 1)
            name = f"{label} " if label else ""
            axis.plot(epochs, history[metric], color=colour, label=f"{name}training")
            if f"val_{metric}" in history:
                axis.plot(epochs, history[f"val_{metric}"], color=colour, linestyle="--", label=f"{name}validation")
        for number, (label, value) in enumerate(baselines.get(metric, {}).items()):
            axis.axhline(value, color="gray", linestyle=[":", "-.", (0, (5, 5))][number % 3], label=label)
        for number, (label, epoch) in enumerate(marks.items()):
            axis.axvline(epoch, color="black", alpha=0.6, linestyle=[":", "-.", "--"][number % 3], label=label)
        if log_scale and any(word in metric for word in ("loss", "mse", "error")):
            axis.set_yscale("log")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    return _finish(figure, title, show)


def _images(images):
    """Return a list of 2-D (height, width) or (height, width, 3 or 4) NumPy images."""
    if isinstance(images, (list, tuple)):
        arrays = [_numpy(image, f"images[{index}]") for index, image in enumerate(images)]
        arrays = [a[..., 0] if a.ndim == 3 and a.shape[-1] == 1 else a for a in arrays]
        for index, a in enumerate(arrays):
            if a.ndim != 2 and not (a.ndim == 3 and a.shape[-1] in (3, 4)):
                raise ValueError(
                    f"images[{index}] must have shape (height, width), (height, width, 1) or "
                    f"(height, width, 3), got {a.shape}"
                )
        return arrays
    images = _numpy(images, "images")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (n, height, width)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] not in (3, 4)):
        raise ValueError(
            f"images must have shape (n, height, width), (n, height, width, 1) or "
            f"(n, height, width, 3), or be a list of images, got {images.shape}"
        )
    return list(images)


def _per_image(value, count, name):
    """Return `value` repeated `count` times, or the list given (one entry per image)."""
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(
                f"got {len(value)} values of {name} for {count} images: give one per image, or one for all"
            )
        return list(value)
    return [value] * count


def image_grid(
    images,
    titles=None,
    columns=8,
    cmap="gray_r",
    title=None,
    size=1.2,
    symmetric=False,
    colorbar=False,
    value_range=None,
    show=True,
):
    """Show `images` in a grid, `columns` wide, with optional `titles` (one per image).

    `images`: an array (n, height, width[, 1 or 3]), or a list of images whose sizes may
    differ (an image, its 3x3 filter and the feature map). `cmap` and `symmetric` take one
    value for all images or a list with one per image; `symmetric=True` centres the colour
    scale on zero (for filters and signed maps). `colorbar=True` adds a colour bar to each image.
    `value_range=(low, high)` gives every image the same colour scale (masks, probabilities).
    """
    images = _images(images)
    count = len(images)
    if count == 0:
        raise ValueError("images is empty: nothing to show")
    if titles is not None and len(titles) != count:
        raise ValueError(f"got {len(titles)} titles for {count} images: give one title per image")
    cmaps = _per_image(cmap, count, "cmap")
    symmetrics = _per_image(symmetric, count, "symmetric")
    columns = max(1, min(int(columns), count))
    rows = -(-count // columns)
    width = size * columns * (1.35 if colorbar else 1.0)
    plt = _pyplot()
    figure, axes = plt.subplots(rows, columns, figsize=(width, size * rows + (0.3 if titles else 0)), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.set_xticks([])
        axis.set_yticks([])
        if index >= count:
            axis.axis("off")
            continue
        image = images[index]
        if value_range is not None:
            shown = axis.imshow(image, cmap=cmaps[index], vmin=value_range[0], vmax=value_range[1])
        elif symmetrics[index]:
            limit = float(np.abs(image).max()) or 1.0
            shown = axis.imshow(image, cmap=cmaps[index], vmin=-limit, vmax=limit)
        else:
            shown = axis.imshow(image, cmap=cmaps[index])
        if colorbar:
            figure.colorbar(shown, ax=axis, fraction=0.046, pad=0.04)
        if titles is not None:
            axis.set_title(str(titles[index]), fontsize=8)
    return _finish(figure, title, show)


def confusion_matrix(true_labels, predicted_labels, class_names=None, title=None, show=True):
    """Plot the confusion matrix (rows: true class, columns: predicted) with counts; return the counts.

    With show=True returns None; with show=False returns (Figure, counts).
    """
    true_labels = _numpy(true_labels, "true_labels").astype(int).ravel()
    predicted_labels = _numpy(predicted_labels, "predicted_labels").astype(int).ravel()
    if true_labels.shape != predicted_labels.shape:
        raise ValueError(
            f"true_labels has {true_labels.size} labels and predicted_labels {predicted_labels.size}: "
            "pass one prediction per example"
        )
    num_classes = (
        len(class_names) if class_names is not None else int(max(true_labels.max(), predicted_labels.max())) + 1
    )
    counts = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(counts, (true_labels, predicted_labels), 1)  # count each (true, predicted) pair
    names = list(class_names) if class_names is not None else [str(i) for i in range(num_classes)]
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(0.45 * num_classes + 1.5, 0.45 * num_classes + 1.2))
    axis.imshow(counts, cmap="Blues")
    for row in range(num_classes):
        for column in range(num_classes):
            if counts[row, column]:
                dark = counts[row, column] > counts.max() / 2
                axis.text(
                    column,
                    row,
                    counts[row, column],
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
    axis.set_xticks(range(num_classes), names)
    axis.set_yticks(range(num_classes), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    figure = _finish(figure, title, show)
    return None if figure is None else (figure, counts)


def heatmap(
    values,
    x_labels=None,
    y_labels=None,
    title=None,
    cmap="viridis",
    colorbar="",
    centered=False,
    x_title=None,
    y_title=None,
    annotate=False,
    show=True,
):
    """Plot a 2-D array as a heatmap with a colour bar labelled `colorbar`.

    `centered=True` uses a diverging scale symmetric around zero (cmap "coolwarm" unless given);
    `annotate=True` writes each value in its cell. Labels are strings per column / row.
    """
    values = _numpy(values, "values")
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D (rows, columns), got shape {values.shape}")
    for labels, size, what in (
        (x_labels, values.shape[1], "x_labels (columns)"),
        (y_labels, values.shape[0], "y_labels (rows)"),
    ):
        if labels is not None and len(labels) != size:
            raise ValueError(f"{what} has {len(labels)} labels for {size} entries")
    plt = _pyplot()
    rows, columns = values.shape
    figure, axis = plt.subplots(figsize=(min(12, 1.5 + 0.4 * columns), min(9, 1.2 + 0.4 * rows)))
    options = {}
    if centered:
        limit = float(np.abs(values).max()) or 1.0
        options = {"vmin": -limit, "vmax": limit}
        cmap = "coolwarm" if cmap == "viridis" else cmap
    shown = axis.imshow(values, cmap=cmap, aspect="auto", **options)
    figure.colorbar(shown, ax=axis, label=colorbar)
    if x_labels is not None:
        axis.set_xticks(range(columns), [str(label) for label in x_labels], fontsize=8)
    if y_labels is not None:
        axis.set_yticks(range(rows), [str(label) for label in y_labels], fontsize=8)
    if annotate:
        middle = (values.max() + values.min()) / 2
        for row in range(rows):
            for column in range(columns):
                axis.text(
                    column,
                    row,
                    f"{values[row, column]:.2g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if values[row, column] < middle else "black",
                )
    if x_title:
        axis.set_xlabel(x_title)
    if y_title:
        axis.set_ylabel(y_title)
    return _finish(figure, title, show)


def _visible(label):
    """Return a tick label as text, a lone space as ␣ so that it can be seen."""
    return "␣" if str(label) == " " else str(label)


def _labels_per_map(labels, count, name):
    """Return one label sequence per map: a string labels every map, else a single map's labels or one per map."""
    if isinstance(labels, str):
        return [labels] * count
    if count == 1:
        return [list(labels)]
    if len(labels) != count or not all(isinstance(each, (str, list, tuple, np.ndarray)) for each in labels):
        raise ValueError(
            f"{name} has {len(labels)} entries for {count} maps: give one string or list of labels "
            "per map, or one string for all"
        )
    return list(labels)


def attention_maps(
    maps,
    inputs,
    outputs,
    titles=None,
    columns=2,
    x_title="input (attended to)",
    y_title="output (attending)",
    title=None,
    show=True,
):
    """Plot attention weights, one panel per example: a row per output (query), a column per input (key).

    `maps`: a 2-D array (outputs, inputs), or a list of them or a 3-D array for several examples.
    `inputs`, `outputs`: labels of the columns and rows, a list per map (one list for a single map);
    a string labels each of its characters (a space shows as ␣), and one string may label every
    map. All panels share one colour scale.
    """
    if isinstance(maps, (list, tuple)):
        arrays = [_numpy(m, f"maps[{i}]") for i, m in enumerate(maps)]
    else:
        arrays = _numpy(maps, "maps")
        arrays = [arrays] if arrays.ndim == 2 else list(arrays)
    if not arrays or any(a.ndim != 2 for a in arrays):
        raise ValueError(
            "maps must be a 2-D array (outputs, inputs), a 3-D array or a list of 2-D arrays, "
            f"got shapes {[a.shape for a in arrays]}"
        )
    inputs = _labels_per_map(inputs, len(arrays), "inputs")
    outputs = _labels_per_map(outputs, len(arrays), "outputs")
    titles = [None] * len(arrays) if titles is None else list(titles)
    if len(titles) != len(arrays):
        raise ValueError(f"got {len(titles)} titles for {len(arrays)} maps: give one title per map")
    for number, (array, x_labels, y_labels) in enumerate(zip(arrays, inputs, outputs)):
        if len(x_labels) != array.shape[1] or len(y_labels) != array.shape[0]:
            raise ValueError(
                f"map {number} has shape {array.shape} (outputs, inputs) but {len(y_labels)} output "
                f"and {len(x_labels)} input labels: cut the map to the labelled part, or label it all"
            )
    columns = max(1, min(int(columns), len(arrays)))
    rows = -(-len(arrays) // columns)
    width = max(a.shape[1] for a in arrays) * 0.27 + 1.2
    height = max(a.shape[0] for a in arrays) * 0.27 + 1.1
    plt = _pyplot()
    figure, axes = plt.subplots(
        rows, columns, figsize=(min(16, width * columns + 1), height * rows), squeeze=False, layout="constrained"
    )  # room for the shared colour bar
    top = max(float(a.max()) for a in arrays) or 1.0
    for index, axis in enumerate(axes.flat):
        if index >= len(arrays):
            axis.axis("off")
            continue
        shown = axis.imshow(arrays[index], cmap="Blues", vmin=0.0, vmax=top, aspect="auto")
        axis.set_xticks(range(arrays[index].shape[1]), [_visible(c) for c in inputs[index]], fontsize=8)
        axis.set_yticks(range(arrays[index].shape[0]), [_visible(c) for c in outputs[index]], fontsize=8)
        axis.set_xlabel(x_title, fontsize=8)
        axis.set_ylabel(y_title, fontsize=8)
        if titles[index]:
            axis.set_title(str(titles[index]), fontsize=9)
    figure.colorbar(shown, ax=axes.ravel().tolist(), label="attention weight", shrink=0.8)
    if title:
        figure.suptitle(title)
    if not show:
        return figure
    plt.show()
    return None


def lines(
    x,
    series,
    x_title,
    y_title,
    title=None,
    log_x=False,
    log_y=False,
    baselines=None,
    markers=True,
    points=None,
    show=True,
):
    """Plot each of `series` ({label: values}) against `x`, with optional horizontal `baselines` ({label: value}).

    For a metric against depth, a step time against sequence length, a forecast against the data.
    `points`: labels of series drawn as dots without a line (noisy observations); NaN values are
    not drawn, so a series can cover part of `x`.
    """
    x = _numpy(x, "x")
    if not isinstance(series, dict) or not series:
        raise ValueError("series must be a non-empty dict {label: values}")
    points = [points] if isinstance(points, str) else list(points or ())
    unknown = [label for label in points if label not in series]
    if unknown:
        raise ValueError(
            f"points names {unknown[0]!r}, which is not a series; series are {', '.join(map(repr, series))}"
        )
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 3.8))
    for label, values in series.items():
        values = _numpy(values, f"series[{label!r}]")
        if values.shape != x.shape:
            raise ValueError(f"series[{label!r}] has shape {values.shape}, x has {x.shape}: give one value per x")
        if label in points:
            axis.plot(x, values, linestyle="none", marker=".", markersize=5, label=str(label))
        else:
            axis.plot(x, values, marker="o" if markers else None, markersize=4, label=str(label))
    for number, (label, value) in enumerate((baselines or {}).items()):
        axis.axhline(value, color="gray", linestyle=[":", "-.", "--"][number % 3], label=label)
    if log_x:
        axis.set_xscale("log")
    if log_y:
        axis.set_yscale("log")
    axis.set_xlabel(x_title)
    axis.set_ylabel(y_title)
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8)
    return _finish(figure, title, show)


def bars(values, y_title, title=None, value_format="{:.2f}", show=True):
    """Plot one bar per entry of `values` ({label: number}), each bar labelled with its value.

    For a few numbers side by side: a model's error against its baselines, two layers' times.
    `value_format` formats the labels on the bars (None for no labels).
    """
    if not isinstance(values, dict) or not values:
        raise ValueError("values must be a non-empty dict {label: number}, such as {'LSTM': 12.5, 'GRU': 9.8}")
    heights = []
    for label, value in values.items():
        value = _numpy(value, f"values[{label!r}]")
        if value.ndim != 0 or not np.issubdtype(value.dtype, np.number):
            raise ValueError(f"values[{label!r}] must be one number, got {value.tolist()!r}")
        heights.append(float(value))
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(max(4.0, 1.2 * len(heights) + 1.5), 3.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    shown = axis.bar(
        [str(label) for label in values],
        heights,
        color=[colours[index % len(colours)] for index in range(len(heights))],
    )
    if value_format:
        axis.bar_label(shown, labels=[value_format.format(height) for height in heights], fontsize=8)
    axis.set_ylabel(y_title)
    axis.grid(alpha=0.3, axis="y")
    return _finish(figure, title, show)


def gradient_norms(norms, x_title="time step", title=None, log_scale=True, show=True):
    """Plot gradient norms over time steps or layers: one array, or {label: array} to compare.

    Position 0 is the first step (or layer); the y axis is logarithmic by default,
    where vanishing and exploding gradients are straight lines.
    """
    if not isinstance(norms, dict):
        norms = {"gradient norm": norms}
    arrays = {label: _numpy(values, f"norms[{label!r}]").ravel() for label, values in norms.items()}
    length = max(len(a) for a in arrays.values())
    x = np.arange(length)
    padded = {label: np.concatenate([a, np.full(length - len(a), np.nan)]) for label, a in arrays.items()}
    return lines(x, padded, x_title, "gradient norm", title=title, log_y=log_scale, markers=length <= 40, show=show)


def depth_curves(depths, runs, metrics=None, log_scale=("loss",), baselines=None, title=None, show=True):
    """Plot metrics against network depth, one panel per metric and one line per kind of network.

    `runs`: {label: {metric: values}}, one value per depth, for example
    {"plain": {"training loss": [...], "training accuracy": [...]}, "residual": {...}}.
    `metrics`: the names to plot (default: those of the first run). A metric whose name
    contains a word of `log_scale` gets a log y axis. `baselines`: {metric: {label: value}},
    horizontal lines such as chance accuracy. The depth axis is logarithmic (base 2).
    """
    depths = _numpy(depths, "depths").ravel()
    if depths.size == 0 or not np.all(depths > 0):
        raise ValueError(f"depths must be positive numbers of layers, got {depths.tolist()}")
    if not isinstance(runs, dict) or not runs or not all(isinstance(r, dict) and r for r in runs.values()):
        raise ValueError("runs must be a non-empty dict {label: {metric: values, one per depth}}")
    metrics = (
        list(next(iter(runs.values()))) if metrics is None else [metrics] if isinstance(metrics, str) else list(metrics)
    )
    for label, run in runs.items():
        for metric in metrics:
            if metric not in run:
                raise ValueError(f"runs[{label!r}] has no {metric!r}; it has {', '.join(map(repr, run))}")
            if _numpy(run[metric], f"runs[{label!r}][{metric!r}]").shape != depths.shape:
                raise ValueError(f"runs[{label!r}][{metric!r}] needs one value per depth ({depths.size})")
    baselines = baselines or {}
    if not isinstance(baselines, dict) or not all(isinstance(b, dict) for b in baselines.values()):
        raise ValueError(
            "baselines must be a dict {metric: {label: value}}, such as {'training accuracy': {'chance': 0.1}}"
        )
    log_words = [log_scale] if isinstance(log_scale, str) else list(log_scale or ())
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.8 * len(metrics), 3.6), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        for label, run in runs.items():
            axis.plot(depths, _numpy(run[metric], metric).ravel(), marker="o", markersize=4, label=str(label))
        for number, (label, value) in enumerate(baselines.get(metric, {}).items()):
            axis.axhline(value, color="gray", linestyle=[":", "-.", "--"][number % 3], label=label)
        if any(word in metric for word in log_words):
            axis.set_yscale("log")
        axis.set_xscale("log", base=2)
        axis.set_xticks(depths, [f"{d:g}" for d in depths])
        axis.set_xlabel("depth (layers)")
        axis.set_title(metric)
        axis.grid(alpha=0.3, which="both")
        axis.legend(fontsize=8)
    return _finish(figure, title, show)


def diagram(nodes, arrows, title=None, size=(8, 3), show=True):
    """Draw a graph of labelled boxes joined by arrows: an unrolled network, a cell's gates.

    `nodes`: {name: (x, y, text)} or {name: (x, y, text, colour)}, positions in any units,
    text may use $...$. `arrows`: (start, end), (start, end, label) or (start, end, label, bend)
    with names from `nodes`; `bend` curves the arrow (0 straight, 0.3 a gentle arc), and an
    arrow from a node to itself is drawn as a loop on its right.
    """
    if not isinstance(nodes, dict) or not nodes:
        raise ValueError("nodes must be a non-empty dict {name: (x, y, text[, colour])}")
    for name, node in nodes.items():
        if (
            not isinstance(node, (tuple, list))
            or len(node) not in (3, 4)
            or not all(isinstance(v, numbers.Real) for v in node[:2])
        ):
            raise ValueError(f"nodes[{name!r}] must be (x, y, text) or (x, y, text, colour), got {node!r}")
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=size)
    for name, (x, y, text, *colour) in nodes.items():
        axis.text(
            x,
            y,
            text,
            ha="center",
            va="center",
            fontsize=12,
            zorder=3,
            bbox=dict(boxstyle="round,pad=0.35", linewidth=1.2, facecolor=(colour or ["#eeeeee"])[0]),
        )
    for arrow in arrows:
        if not isinstance(arrow, (tuple, list)) or len(arrow) not in (2, 3, 4):
            raise ValueError(
                f"each arrow must be (start, end), (start, end, label) or (start, end, label, bend), got {arrow!r}"
            )
        start, end, label, bend = list(arrow) + ["", 0.0][len(arrow) - 2 :]  # label "" and bend 0 by default
        if not isinstance(bend, numbers.Real):
            raise ValueError(f"an arrow's bend must be a number (0 for straight), got {bend!r} in {arrow!r}")
        unknown = [n for n in (start, end) if n not in nodes]
        if unknown:
            raise ValueError(
                f"arrow {arrow!r} names {unknown[0]!r}, which is not a node; nodes are {', '.join(map(repr, nodes))}"
            )
        (x0, y0), (x1, y1) = nodes[start][:2], nodes[end][:2]
        style = dict(arrowstyle="->", linewidth=1.2, color="#333333")
        if start == end:  # a loop on the right of the node
            axis.annotate(
                "",
                xy=(x0 + 0.15, y0 - 0.15),
                xytext=(x0 + 0.15, y0 + 0.15),
                arrowprops=dict(style, connectionstyle="arc3,rad=-1.8"),
            )
            label_at, align = (x0 + 0.45, y0), "left"
        else:
            axis.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                arrowprops=dict(style, shrinkA=14, shrinkB=14, connectionstyle=f"arc3,rad={bend}"),
            )
            # the middle of the arc: matplotlib bends it by `bend` times the chord, perpendicular to it
            middle = ((x0 + x1) / 2 + bend * (y1 - y0) / 2, (y0 + y1) / 2 - bend * (x1 - x0) / 2)
            if abs(x1 - x0) > abs(y1 - y0):  # mostly horizontal: the label above the arrow
                label_at, align = (middle[0], middle[1] + 0.15), "center"
            else:  # mostly vertical: the label to its right
                label_at, align = (middle[0] + 0.08, middle[1]), "left"
        if label:
            axis.text(*label_at, label, fontsize=10, color="#444444", ha=align, va="center")
    xs = [node[0] for node in nodes.values()]
    ys = [node[1] for node in nodes.values()]
    axis.set_xlim(min(xs) - 0.7, max(xs) + 0.7)
    axis.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    axis.axis("off")
    return _finish(figure, title, show)

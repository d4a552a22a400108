"""Checks for the CNN-arithmetic exercise (solutions/01_cnn_arithmetic.ipynb).

Each `check_*` function runs the learner's answer against Keras's own layers on
the active backend (`compute_output_shape`, `count_params`, `Conv2D`,
`MaxPooling2D`), prints one verdict line per item (see kerasdl.checks) and
returns None, so a check cell can call it bare. No verdict prints a number that
depends on the backend, so a check cell's output is the same everywhere. The
usual mistakes get a hint that names them (off by one, a flipped kernel, a
forgotten bias, symmetric padding where Keras pads more at the end) without
giving the answer. A wrong type, shape or an exception becomes a ✘ line, never
a crash; NotImplementedError (an unsolved part) propagates.

Keras is imported inside the functions: importing kerasdl imports no framework.
"""

import functools
import math

import numpy as np

from kerasdl import checks
from kerasdl.checks import CheckError

# The layer stacks of the exercise: name -> (input shape without the batch axis, [(layer, arguments)]).
STACKS = {
    "A": (
        (28, 28, 1),
        [
            ("Conv2D", {"filters": 32, "kernel_size": 3}),
            ("Conv2D", {"filters": 64, "kernel_size": 3, "strides": 2}),
            ("MaxPooling2D", {"pool_size": 2}),
            ("Flatten", {}),
            ("Dense", {"units": 10}),
        ],
    ),
    "B": (
        (32, 32, 3),
        [
            ("Conv2D", {"filters": 16, "kernel_size": 5, "padding": "same"}),
            ("BatchNormalization", {}),
            ("MaxPooling2D", {"pool_size": 2}),
            ("Conv2D", {"filters": 32, "kernel_size": 3, "strides": 2, "padding": "same"}),
            ("Conv2D", {"filters": 8, "kernel_size": 1}),
            ("GlobalAveragePooling2D", {}),
            ("Dense", {"units": 10}),
        ],
    ),
    "C": (
        (7, 7, 8),
        [
            ("Conv2D", {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same"}),
            ("MaxPooling2D", {"pool_size": 2}),
            ("Conv2D", {"filters": 4, "kernel_size": 2, "use_bias": False}),
            ("Flatten", {}),
        ],
    ),
}
ATOL = 1e-4  # float32 convolutions against float64 answers
OUTPUT_SIZE_CASES = [
    (size, kernel, stride) for size in (5, 6, 7, 8, 13, 28, 32) for kernel in (1, 2, 3, 4, 5) for stride in (1, 2, 3)
]
CONV2D_CASES = [  # (description, image shape (H, W, C_in), kernel size (kh, kw), filters, stride, padding)
    ("3×3 kernel, stride 1, padding='valid'", (7, 6, 2), (3, 3), 3, 1, "valid"),
    ("3×3 kernel, stride 2, padding='valid'", (9, 8, 2), (3, 3), 2, 2, "valid"),
    ("3×3 kernel, stride 1, padding='same'", (6, 5, 3), (3, 3), 2, 1, "same"),
    ("3×3 kernel, stride 2, padding='same', even sizes", (8, 6, 2), (3, 3), 2, 2, "same"),
    ("4×4 kernel, stride 2, padding='same'", (9, 8, 1), (4, 4), 2, 2, "same"),
    ("3×2 kernel (not square), stride 1, padding='valid'", (7, 5, 2), (3, 2), 2, 1, "valid"),
    ("2×3 kernel (not square), stride 2, padding='same'", (7, 9, 2), (2, 3), 3, 2, "same"),
]
MAX_POOL_CASES = [  # (description, image shape (H, W, C), pool size, stride)
    ("2×2 windows, stride 2", (8, 6, 3), 2, 2),
    ("2×2 windows, stride 2, odd sizes", (7, 9, 2), 2, 2),
    ("3×3 windows, stride 2 (overlapping)", (9, 9, 1), 3, 2),
    ("3×3 windows, stride=None (the window size)", (9, 7, 2), 3, None),
]
# Keras pairs a last layer with its loss: probabilities (softmax) with from_logits=False, the default,
# logits (no activation) with from_logits=True. These losses take the flag.
CROSSENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


# ---------------------------------------------------------------- helpers


def _call_text(name, args, kwargs):
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _layer(kind, arguments, zeros=False):
    """Return a new Keras layer `kind`(**arguments); with `zeros`, weights start at zero (cheap to create)."""
    from keras import layers

    arguments = dict(arguments)
    if zeros and kind in ("Conv2D", "Dense"):
        arguments["kernel_initializer"] = "zeros"
    return getattr(layers, kind)(**arguments)


def layer_text(kind, arguments):
    """Return the Keras call that builds a layer of a stack, e.g. "Conv2D(64, 3, strides=2)"."""
    positional = {"Conv2D": ["filters", "kernel_size"], "Dense": ["units"], "MaxPooling2D": ["pool_size"]}
    names = positional.get(kind, [])
    parts = [repr(arguments[n]) for n in names if n in arguments]
    parts += [f"{k}={v!r}" for k, v in arguments.items() if k not in names]
    return f"{kind}({', '.join(parts)})"


def _stack(name):
    if name not in STACKS:
        raise ValueError(f"unknown stack {name!r}: choose one of {', '.join(STACKS)}")
    return STACKS[name]


def build_stack(name):
    """Return the stack `name` as a Keras model (weights start at zero), to compare with model.summary()."""
    import keras

    input_shape, specs = _stack(name)
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for kind, arguments in specs:
        x = _layer(kind, arguments, zeros=True)(x)
    return keras.Model(inputs, x, name=f"stack_{name}")


def reference_output_size(size, kernel_size, stride=1, padding="valid"):
    """Return the output length along one axis that Keras's Conv2D computes (via compute_output_shape)."""
    layer = _layer("Conv2D", {"filters": 1, "kernel_size": kernel_size, "strides": stride, "padding": padding})
    return layer.compute_output_shape((None, size, size, 1))[1]


def cross_correlate(image, kernel, bias, stride=1, padding="valid", pads=None):
    """Return the NumPy cross-correlation of an (H, W, C_in) image with a (kh, kw, C_in, C_out) kernel.

    `pads` = ((top, bottom), (left, right)) overrides `padding`; "same" pads like Keras (the extra
    row or column at the bottom or right). Used to recognise wrong answers, and tested against Conv2D.
    """
    height, width = image.shape[:2]
    kernel_height, kernel_width = kernel.shape[:2]
    if pads is None:
        pads = ((0, 0), (0, 0))
        if padding == "same":
            pads = tuple(_same_pads(n, k, stride) for n, k in ((height, kernel_height), (width, kernel_width)))
    padded = np.pad(image, (*pads, (0, 0)))  # (H + top + bottom, W + left + right, C_in)
    out_height = (padded.shape[0] - kernel_height) // stride + 1
    out_width = (padded.shape[1] - kernel_width) // stride + 1
    output = np.zeros((out_height, out_width, kernel.shape[3]))
    for row in range(out_height):
        for column in range(out_width):
            top, left = row * stride, column * stride
            patch = padded[top : top + kernel_height, left : left + kernel_width, :]  # (kh, kw, C_in)
            output[row, column] = np.tensordot(patch, kernel, axes=3) + bias  # (C_out,)
    return output


def _same_pads(size, kernel_size, stride):
    """Return (before, after): Keras's 'same' padding along one axis, the larger half after."""
    output = math.ceil(size / stride)
    total = max((output - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


# ---------------------------------------------------------------- output sizes


def check_output_size(output_size):
    """Print verdicts for output_size(size, kernel_size, stride, padding) against Keras's Conv2D, both paddings."""
    hints = {
        "valid": "with padding='valid' count the positions where the whole window fits inside the input, "
        "moving by `stride` each time",
        "same": "with padding='same' the number of outputs depends only on the size and the stride: see part 1's text",
    }
    for padding in ("valid", "same"):

        def body(padding=padding):
            for size, kernel_size, stride in OUTPUT_SIZE_CASES:
                if padding == "valid" and kernel_size > size:
                    continue
                call = _call_text("output_size", (size, kernel_size), {"stride": stride, "padding": padding})
                answer = checks.call(output_size, size, kernel_size, stride=stride, padding=padding)
                answer = checks.expect_whole(answer, call)
                if answer != reference_output_size(size, kernel_size, stride, padding):
                    raise CheckError(f"{call} is wrong")
            return True

        checks.check(f"output_size with padding='{padding}' matches Conv2D", body, hint=hints[padding])


def check_conv_parameters(conv_parameters):
    """Print a verdict for conv_parameters(kernel_size, in_channels, filters, use_bias=True) against count_params()."""
    cases = [(3, 1, 32, True), (3, 32, 64, True), (5, 3, 16, True), (1, 64, 8, True), (3, 16, 4, False)]

    def body():
        for kernel_size, in_channels, filters, use_bias in cases:
            call = _call_text("conv_parameters", (kernel_size, in_channels, filters), {"use_bias": use_bias})
            answer = checks.call(conv_parameters, kernel_size, in_channels, filters, use_bias=use_bias)
            answer = checks.expect_whole(answer, call)
            layer = _layer("Conv2D", {"filters": filters, "kernel_size": kernel_size, "use_bias": use_bias}, zeros=True)
            layer.build((None, 8, 8, in_channels))
            expected = layer.count_params()
            if answer != expected:
                raise CheckError(
                    f"{call} is wrong ({_parameter_mistake(answer, kernel_size, in_channels, filters, use_bias)})"
                )
        return True

    checks.check("conv_parameters matches Conv2D's count_params()", body)


def _parameter_mistake(answer, kernel_size, in_channels, filters, use_bias):
    """Return a hint naming the likely mistake in a Conv2D parameter count."""
    weights = kernel_size * kernel_size * in_channels * filters
    if use_bias and answer == weights:
        return "the biases are missing: one per filter"
    if not use_bias and answer == weights + filters:
        return "use_bias=False: no biases"
    if answer in (kernel_size * kernel_size * filters + filters * use_bias, kernel_size * kernel_size * filters):
        return "each filter has a kernel_size × kernel_size slice for every input channel"
    if use_bias and answer == weights + in_channels:
        return "one bias per filter (output channel), not per input channel"
    if use_bias and answer == weights + in_channels * filters:
        return "one bias per filter, not one for each of its input-channel slices"
    return (
        "count the weights of one filter (a slice per input channel), then multiply by the filters and add the biases"
    )


# ---------------------------------------------------------------- layer stacks


def _reference_stack(name):
    """Return [(output shape without the batch axis, parameters)] for each layer of stack `name`, from Keras."""
    model = build_stack(name)
    return [(tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers[1:]]


def _answer_rows(answers, count):
    """Return the learner's [(shape, parameters)] rows as (tuple of ints, int), or raise CheckError."""
    if not isinstance(answers, (list, tuple)):
        raise CheckError(
            f"expected a list with one (output shape, parameters) pair per layer, got {checks.kind(answers)}"
        )
    if len(answers) != count:
        raise CheckError(f"expected {count} (output shape, parameters) pairs, one per layer; got {len(answers)}")
    rows = []
    for number, row in enumerate(answers, 1):
        if not isinstance(row, (list, tuple)) or len(row) != 2:
            raise CheckError(f"layer {number}: expected a pair (output shape, parameters), got {checks.kind(row)}")
        shape, parameters = row
        shape = checks.expect_shape(shape, f"layer {number}'s output shape")
        rows.append((shape, checks.expect_whole(parameters, f"layer {number}'s parameter count")))
    return rows


def _shape_mistake(kind, arguments, input_shape, given, expected):
    """Return a hint for a wrong output shape of one layer (never the answer itself)."""
    if len(given) != len(expected):
        if kind in ("Flatten", "GlobalAveragePooling2D", "Dense"):
            return f"{kind} gives one axis per image (batch axis left out)"
        return "a convolution or pooling layer keeps three axes: (height, width, channels)"
    if kind == "Flatten":
        return "Flatten puts every number of its input on one axis: count them all"
    if kind == "GlobalAveragePooling2D":
        return "global pooling keeps one number per channel"
    if given[-1] != expected[-1]:
        return "the channels are the layer's filters (pooling keeps the input's channels)"
    padding = arguments.get("padding", "valid")
    kernel = arguments.get("kernel_size", arguments.get("pool_size"))
    stride = arguments.get("strides", arguments.get("pool_size") if kind == "MaxPooling2D" else 1)
    other = "same" if padding == "valid" else "valid"
    if all(g == reference_output_size(n, kernel, stride, other) for g, n in zip(given[:2], input_shape[:2])):
        return f"that is the size with padding='{other}'; this layer uses padding='{padding}'"
    if all(abs(g - e) <= 1 for g, e in zip(given[:2], expected[:2])):
        return "off by one: count the positions where the window fits"
    return "work height and width out from the previous layer's output with this layer's kernel, stride and padding"


def _parameters_mistake(kind, arguments, input_shape, given):
    """Return a hint for a wrong parameter count of one layer."""
    if kind in ("MaxPooling2D", "Flatten", "GlobalAveragePooling2D"):
        return f"{kind} has no weights"
    channels = input_shape[-1]
    if kind == "BatchNormalization":
        if given == 2 * channels:
            return "count_params() also counts the moving mean and variance: 4 numbers per channel"
        return "BatchNormalization keeps gamma, beta, a moving mean and a moving variance per channel"
    if kind == "Dense":
        units = arguments["units"]
        if given == channels * units:
            return "the biases are missing: one per unit"
        return "a Dense layer has a weight for every (input, unit) pair and a bias per unit"
    kernel_size, filters = arguments["kernel_size"], arguments["filters"]
    return _parameter_mistake(given, kernel_size, channels, filters, arguments.get("use_bias", True))


def check_stack(name, answers):
    """Print verdicts for [(output shape, parameters)] per layer of stack `name`, against Keras."""
    input_shape, specs = _stack(name)
    try:
        rows, problem = _answer_rows(answers, len(specs)), None
    except CheckError as error:
        rows, problem = None, str(error)
    reference = _reference_stack(name)

    def compare(index):
        if problem is not None:
            raise CheckError(problem)
        shape_in = input_shape
        for number, ((kind, arguments), row, expected) in enumerate(zip(specs, rows, reference), 1):
            given, wanted = row[index], expected[index]
            if given != wanted:
                what = "output shape" if index == 0 else "parameter count"
                if index == 0:
                    why = _shape_mistake(kind, arguments, shape_in, given, wanted)
                else:
                    why = _parameters_mistake(kind, arguments, shape_in, given)
                raise CheckError(f"layer {number}, {layer_text(kind, arguments)}: wrong {what} ({why})")
            shape_in = expected[0]
        return True

    checks.check(f"stack {name}: output shapes match Keras", lambda: compare(0))
    if problem is not None:
        checks.verdict(f"stack {name}: parameter counts match count_params()", False, "fix the item above first")
    else:
        checks.check(f"stack {name}: parameter counts match count_params()", lambda: compare(1))


# ---------------------------------------------------------------- convolution and pooling by hand


def _keras_conv(image, kernel, bias, stride, padding):
    """Return Conv2D's output for one (H, W, C_in) image with the given weights, as float64 (H', W', C_out)."""
    from keras import ops

    from kerasdl import precision

    layer = _layer(
        "Conv2D",
        {"filters": kernel.shape[3], "kernel_size": kernel.shape[:2], "strides": stride, "padding": padding},
        zeros=True,
    )
    layer.build((1, *image.shape))
    layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    with precision.exact_matmul():  # TF32 on a GPU would be 1e-3 off: more than ATOL
        output = layer(image[np.newaxis].astype(np.float32))  # (1, H', W', C_out)
    return ops.convert_to_numpy(output)[0].astype(np.float64)


def _conv_problem(shape, kernel_size, filters, seed):
    kernel_height, kernel_width = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    rng = np.random.default_rng(seed)
    image = rng.normal(size=shape)  # (H, W, C_in)
    kernel = rng.normal(size=(kernel_height, kernel_width, shape[2], filters))  # (kh, kw, C_in, C_out)
    bias = rng.normal(size=filters)  # (C_out,)
    return image, kernel, bias


def _conv_mistake(answer, image, kernel, bias, stride, padding):
    """Return a hint naming the likely mistake when `answer` has the right shape but the wrong values."""
    flipped = kernel[::-1, ::-1]
    candidates = [
        (
            cross_correlate(image, flipped, bias, stride, padding),
            "that is a true convolution (kernel flipped); Conv2D slides the kernel as it is: cross-correlation",
        ),
        (cross_correlate(image, kernel, np.zeros_like(bias), stride, padding), "add the bias, one per filter"),
    ]
    if padding == "same":
        keras_pads = [_same_pads(n, k, stride) for n, k in zip(image.shape[:2], kernel.shape[:2])]
        symmetric = [((k - 1) // 2, (k - 1) // 2) for k in kernel.shape[:2]]
        candidates += [
            (
                cross_correlate(image, kernel, bias, stride, pads=[(after, before) for before, after in keras_pads]),
                "wrong 'same' padding: the extra zero row or column goes at the bottom and right, not the top and left",
            ),
            (
                cross_correlate(image, kernel, bias, stride, pads=symmetric),
                "wrong 'same' padding: with this stride it takes fewer zeros than k - 1; part 3's text says how "
                "many, and on which side the extra one goes",
            ),
        ]
    for values, words in candidates:
        if values.shape == answer.shape and np.allclose(answer, values, atol=ATOL):
            return words
    return (
        "the shape is right but the values are not: work out one output pixel by hand, with the window "
        "it reads and the kernel entries that multiply it"
    )


def check_conv2d(conv2d):
    """Print one verdict per case for conv2d(image, kernel, bias, stride, padding) against Keras's Conv2D."""
    for number, (description, shape, kernel_size, filters, stride, padding) in enumerate(CONV2D_CASES):
        image, kernel, bias = _conv_problem(shape, kernel_size, filters, seed=10 + number)
        expected = _keras_conv(image, kernel, bias, stride, padding)

        def body(image=image, kernel=kernel, bias=bias, stride=stride, padding=padding, expected=expected):
            answer = checks.call(conv2d, image.copy(), kernel.copy(), bias.copy(), stride=stride, padding=padding)
            answer = checks.expect_array(answer, shape=expected.shape).astype(np.float64)
            if not np.allclose(answer, expected, atol=ATOL):
                raise CheckError(_conv_mistake(answer, image, kernel, bias, stride, padding))
            return True

        kernel_height, kernel_width = kernel.shape[:2]
        hint = (
            ""
            if kernel_height == kernel_width
            else (
                f"this kernel has {kernel_height} rows and {kernel_width} columns: check that each axis of the "
                "image uses its own kernel size"
            )
        )
        checks.check(f"conv2d matches Conv2D: {description}", body, hint=hint)


def _keras_max_pool(image, pool_size, stride):
    from keras import ops

    layer = _layer("MaxPooling2D", {"pool_size": pool_size, "strides": stride})
    return ops.convert_to_numpy(layer(image[np.newaxis].astype(np.float32)))[0].astype(np.float64)


def _pool_windows(image, pool_size, stride, reduce):
    """Return reduce() over each valid pooling window of an (H, W, C) image."""
    out_height = (image.shape[0] - pool_size) // stride + 1
    out_width = (image.shape[1] - pool_size) // stride + 1
    output = np.zeros((out_height, out_width, image.shape[2]))
    for row in range(out_height):
        for column in range(out_width):
            window = image[row * stride : row * stride + pool_size, column * stride : column * stride + pool_size]
            output[row, column] = reduce(window, axis=(0, 1))
    return output


def check_max_pool2d(max_pool2d):
    """Print one verdict per case for max_pool2d(image, pool_size, stride) against Keras's MaxPooling2D."""
    for number, (description, shape, pool_size, stride) in enumerate(MAX_POOL_CASES):
        image = np.random.default_rng(20 + number).normal(size=shape)  # (H, W, C)
        expected = _keras_max_pool(image, pool_size, stride)

        def body(image=image, pool_size=pool_size, stride=stride, expected=expected):
            answer = checks.call(max_pool2d, image.copy(), pool_size=pool_size, stride=stride)
            answer = checks.expect_array(answer, shape=expected.shape).astype(np.float64)
            if not np.allclose(answer, expected, atol=ATOL):
                if np.allclose(answer, _pool_windows(image, pool_size, stride or pool_size, np.mean), atol=ATOL):
                    raise CheckError("that is average pooling: keep the largest value of each window")
                raise CheckError("each output is the largest value of its window, channel by channel")
            return True

        hint = (
            "stride=None means windows that do not overlap: the stride is the window size"
            if stride is None
            else "windows start every `stride` pixels; a window that does not fit is dropped"
        )
        checks.check(f"max_pool2d matches MaxPooling2D: {description}", body, hint=hint)


# ---------------------------------------------------------------- a trained model


def _all_layers(model):
    """Return every layer of `model`, including those inside nested models."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found += _all_layers(layer)
    return found


def loss_from_logits(loss):
    """Return True or False: what a crossentropy loss (a name, a Loss, a function) assumes; None for other losses."""
    import keras

    if isinstance(loss, functools.partial):
        return loss.keywords.get("from_logits", False) if loss_from_logits(loss.func) is not None else None
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        return bool(config["from_logits"]) if "from_logits" in config else None
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", "")
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")  # a class name, too
    return False if snake in CROSSENTROPIES else None


def _looks_like_probabilities(scores):
    """Return True when every row of `scores` is non-negative and sums to 1: a softmax's output."""
    return bool(scores.min() >= 0 and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3))


def check_digits_model(model, images, labels, min_accuracy):
    """Print verdicts for a trained Keras model on the digits: shapes, a Conv2D layer, its loss, test accuracy."""
    import keras

    def is_model():
        if not isinstance(model, keras.Model):
            raise CheckError(f"expected a keras.Model, got {checks.kind(model)}")
        return True

    predicted = {}

    def scores():
        """Return the model's (n, 10) scores on the images, predicted once; raise CheckError if it cannot."""
        if "scores" not in predicted:
            try:
                predicted["scores"] = checks.expect_array(
                    checks.call(model.predict, images, verbose=0), shape=(len(images), 10)
                )
            except CheckError as error:
                predicted["scores"] = error
        if isinstance(predicted["scores"], CheckError):
            raise predicted["scores"]
        return predicted["scores"]

    def loss_matches():
        is_model()
        loss = getattr(model, "loss", None)
        if loss is None:
            raise CheckError("the model has no loss: compile it before training")
        from_logits = loss_from_logits(loss)
        if from_logits is None:  # not a crossentropy: the accuracy item judges it
            return True
        probabilities = _looks_like_probabilities(scores())
        if probabilities and from_logits:
            raise CheckError(
                "the last layer gives probabilities (a softmax) but the loss is told they are logits "
                "(from_logits=True): change one of the two"
            )
        if not probabilities and not from_logits:
            raise CheckError(
                "the last layer gives logits (no softmax) but the loss expects probabilities "
                "(from_logits is False by default): change one of the two"
            )
        return True

    items = [
        (
            "the model maps (8, 8, 1) images to 10 scores each",
            lambda: is_model() and scores() is not None,
            "end with Dense(10); predict on images of shape (n, 8, 8, 1) must give (n, 10)",
        ),
        (
            "the model is convolutional (it has a Conv2D layer)",
            lambda: is_model() and any(isinstance(layer, keras.layers.Conv2D) for layer in _all_layers(model)),
            "use at least one layers.Conv2D",
        ),
        ("the loss matches the last layer (logits or probabilities)", loss_matches, ""),
    ]
    for item, body, hint in items:
        checks.check(item, body, hint=hint)

    def accurate():
        is_model()
        accuracy = float(np.mean(scores().argmax(axis=1) == np.asarray(labels)))
        if accuracy < min_accuracy:
            raise CheckError(f"test accuracy {accuracy:.1%}")
        return True

    checks.check(
        f"test accuracy is at least {min_accuracy:.0%}",
        accurate,
        hint="the number of epochs is fixed: look at the learning rate and at the model's size "
        "(filters, layers), and at the item above",
    )

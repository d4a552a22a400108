"""The CNN-arithmetic checks pass the right answers and reject plausible wrong ones, on the active backend.

Run with KERAS_BACKEND=jax, torch or tensorflow: the references are Keras's own layers on that backend.
"""

import math

import numpy as np
import pytest

from kerasdl.checks import cnn

from helpers import verdicts

# ---------------------------------------------------------------- right answers (as in the solution notebook)


def output_size(size, kernel_size, stride=1, padding="valid"):
    if padding == "same":
        return math.ceil(size / stride)
    return (size - kernel_size) // stride + 1


def conv_parameters(kernel_size, in_channels, filters, use_bias=True):
    return kernel_size * kernel_size * in_channels * filters + (filters if use_bias else 0)


def padded_conv2d(image, kernel, bias, stride, pads):
    """Cross-correlate with explicit ((top, bottom), (left, right)) padding; the building block of the answers."""
    image = np.pad(image, (*pads, (0, 0)))
    kernel_height, kernel_width, _, filters = kernel.shape
    out_height = (image.shape[0] - kernel_height) // stride + 1
    out_width = (image.shape[1] - kernel_width) // stride + 1
    output = np.zeros((out_height, out_width, filters))
    for row in range(out_height):
        for column in range(out_width):
            window = image[
                row * stride : row * stride + kernel_height, column * stride : column * stride + kernel_width
            ]
            output[row, column] = np.tensordot(window, kernel, axes=3) + bias
    return output


def keras_pads(image, kernel, stride, padding):
    if padding == "valid":
        return ((0, 0), (0, 0))
    pads = []
    for size, kernel_size in zip(image.shape[:2], kernel.shape[:2]):
        total = max((math.ceil(size / stride) - 1) * stride + kernel_size - size, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def conv2d(image, kernel, bias, stride=1, padding="valid"):
    return padded_conv2d(image, kernel, bias, stride, keras_pads(image, kernel, stride, padding))


def max_pool2d(image, pool_size=2, stride=None, reduce=np.max):
    stride = stride or pool_size
    out_height = (image.shape[0] - pool_size) // stride + 1
    out_width = (image.shape[1] - pool_size) // stride + 1
    output = np.zeros((out_height, out_width, image.shape[2]))
    for row in range(out_height):
        for column in range(out_width):
            window = image[row * stride : row * stride + pool_size, column * stride : column * stride + pool_size]
            output[row, column] = reduce(window, axis=(0, 1))
    return output


STACK_ANSWERS = {
    "A": [((26, 26, 32), 320), ((12, 12, 64), 18_496), ((6, 6, 64), 0), ((2304,), 0), ((10,), 23_050)],
    "B": [
        ((32, 32, 16), 1_216),
        ((32, 32, 16), 64),
        ((16, 16, 16), 0),
        ((8, 8, 32), 4_640),
        ((8, 8, 8), 264),
        ((8,), 0),
        ((10,), 90),
    ],
    "C": [((4, 4, 8), 584), ((2, 2, 8), 0), ((1, 1, 4), 128), ((4,), 0)],
}


def with_row(name, number, row):
    """Return stack `name`'s right answers with row `number` (1-based) replaced."""
    rows = list(STACK_ANSWERS[name])
    rows[number - 1] = row
    return rows


# ---------------------------------------------------------------- right answers pass


def test_every_check_passes_the_right_answers(capsys):
    cnn.check_output_size(output_size)
    cnn.check_conv_parameters(conv_parameters)
    for name, rows in STACK_ANSWERS.items():
        cnn.check_stack(name, rows)
    cnn.check_conv2d(conv2d)
    cnn.check_max_pool2d(max_pool2d)
    found, _ = verdicts(capsys)
    assert len(found) == 2 + 1 + 2 * len(STACK_ANSWERS) + len(cnn.CONV2D_CASES) + len(cnn.MAX_POOL_CASES)
    assert all(passed for _, passed in found), [item for item, passed in found if not passed]


def test_answers_as_numpy_integers_and_whole_floats_pass(capsys):
    cnn.check_output_size(lambda *args, **kwargs: np.int64(output_size(*args, **kwargs)))
    cnn.check_conv_parameters(lambda *args, **kwargs: float(conv_parameters(*args, **kwargs)))
    cnn.check_stack("C", [(list(shape), np.int32(count)) for shape, count in STACK_ANSWERS["C"]])
    found, _ = verdicts(capsys)
    assert all(passed for _, passed in found)


def test_the_reference_cross_correlation_matches_conv2d():
    for number, (_, shape, kernel_size, filters, stride, padding) in enumerate(cnn.CONV2D_CASES):
        image, kernel, bias = cnn._conv_problem(shape, kernel_size, filters, seed=number)
        expected = cnn._keras_conv(image, kernel, bias, stride, padding)
        assert np.allclose(cnn.cross_correlate(image, kernel, bias, stride, padding), expected, atol=1e-4)


def test_build_stack_gives_the_counts_of_keras():
    assert cnn.build_stack("A").count_params() == sum(count for _, count in STACK_ANSWERS["A"])
    with pytest.raises(ValueError, match="unknown stack 'D'"):
        cnn.build_stack("D")


# ---------------------------------------------------------------- output sizes


def valid_without_plus_one(size, kernel_size, stride=1, padding="valid"):
    return output_size(size, kernel_size, stride, padding) - (padding == "valid")


def valid_ignoring_stride(size, kernel_size, stride=1, padding="valid"):
    return size - kernel_size + 1 if padding == "valid" else output_size(size, kernel_size, stride, padding)


def same_ignoring_stride(size, kernel_size, stride=1, padding="valid"):
    return size if padding == "same" else output_size(size, kernel_size, stride, padding)


def same_rounding_down(size, kernel_size, stride=1, padding="valid"):
    return size // stride if padding == "same" else output_size(size, kernel_size, stride, padding)


def same_as_symmetric_padding(size, kernel_size, stride=1, padding="valid"):
    """'same' as p = (k - 1) // 2 zeros on each side: wrong for even kernels."""
    if padding == "same":
        return (size + 2 * ((kernel_size - 1) // 2) - kernel_size) // stride + 1
    return output_size(size, kernel_size, stride, padding)


@pytest.mark.parametrize(
    "wrong, failing",
    [
        (valid_without_plus_one, "valid"),
        (valid_ignoring_stride, "valid"),
        (same_ignoring_stride, "same"),
        (same_rounding_down, "same"),
        (same_as_symmetric_padding, "same"),
    ],
)
def test_output_size_rejects_wrong_arithmetic(wrong, failing, capsys):
    cnn.check_output_size(wrong)
    found, hints = verdicts(capsys)
    assert dict(found) == {
        "output_size with padding='valid' matches Conv2D": failing != "valid",
        "output_size with padding='same' matches Conv2D": failing != "same",
    }
    item = f"output_size with padding='{failing}' matches Conv2D"
    assert "is wrong" in hints[item] and f"padding='{failing}'" in hints[item]


@pytest.mark.parametrize(
    "returned, message",
    [
        (None, "should be a whole number, got None"),
        ("26", "should be a whole number, got a str"),
        (25.5, "should be a whole number, got 25.5"),
        ((26, 26), "should be a whole number, got a tuple"),
    ],
)
def test_output_size_reports_a_wrong_type_without_crashing(returned, message, capsys):
    cnn.check_output_size(lambda *args, **kwargs: returned)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False, False]
    assert all(message in hint for hint in hints.values())


def test_an_exception_in_the_learners_function_becomes_a_cross(capsys):
    cnn.check_output_size(lambda size, kernel_size, stride=1, padding="valid": size / 0)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False, False]
    assert "raised ZeroDivisionError" in hints["output_size with padding='valid' matches Conv2D"]


def test_an_unsolved_part_stops_the_cell():
    def unsolved(*args, **kwargs):
        raise NotImplementedError("write your solution here")

    for check in (cnn.check_output_size, cnn.check_conv_parameters, cnn.check_conv2d, cnn.check_max_pool2d):
        with pytest.raises(NotImplementedError):
            check(unsolved)


# ---------------------------------------------------------------- parameter counts


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda k, c, f, use_bias=True: k * k * c * f, "the biases are missing"),
        (lambda k, c, f, use_bias=True: k * k * f + f * use_bias, "a kernel_size × kernel_size slice for every input"),
        (lambda k, c, f, use_bias=True: k * k * c * f + c * use_bias, "one bias per filter"),
        (lambda k, c, f, use_bias=True: k * k * c * f + f, "use_bias=False"),
        (lambda k, c, f, use_bias=True: (k * k + 1) * c * f, "not one for each of its input-channel slices"),
        (lambda k, c, f, use_bias=True: k * c * f + f * use_bias, "count the weights of one filter"),
    ],
)
def test_conv_parameters_rejects_a_forgotten_bias_and_other_miscounts(wrong, hint, capsys):
    cnn.check_conv_parameters(wrong)
    found, hints = verdicts(capsys)
    assert found == [("conv_parameters matches Conv2D's count_params()", False)]
    assert hint in hints["conv_parameters matches Conv2D's count_params()"]


# ---------------------------------------------------------------- layer stacks


@pytest.mark.parametrize(
    "name, number, row, hint",
    [
        ("A", 1, ((27, 27, 32), 320), "off by one"),
        ("A", 2, ((11, 11, 64), 18_496), "off by one"),
        ("A", 2, ((13, 13, 64), 18_496), "that is the size with padding='same'"),
        ("A", 3, ((6, 6, 32), 0), "pooling keeps the input's channels"),
        ("A", 4, ((6, 6, 64), 0), "Flatten gives one axis per image"),
        ("A", 4, ((2305,), 0), "Flatten puts every number of its input on one axis"),
        ("B", 1, ((28, 28, 16), 1_216), "that is the size with padding='valid'"),
        ("B", 4, ((7, 7, 32), 4_640), "that is the size with padding='valid'"),
        ("B", 6, ((8, 8), 0), "one axis per image"),
        ("C", 1, ((3, 3, 8), 584), "that is the size with padding='valid'"),
    ],
)
def test_stack_rejects_wrong_shapes(name, number, row, hint, capsys):
    cnn.check_stack(name, with_row(name, number, row))
    found, hints = verdicts(capsys)
    assert dict(found) == {
        f"stack {name}: output shapes match Keras": False,
        f"stack {name}: parameter counts match count_params()": True,
    }
    message = hints[f"stack {name}: output shapes match Keras"]
    assert message.startswith(f"layer {number},") and hint in message


@pytest.mark.parametrize(
    "name, number, row, hint",
    [
        ("A", 1, ((26, 26, 32), 288), "the biases are missing"),
        ("A", 2, ((12, 12, 64), 640), "slice for every input channel"),
        ("A", 5, ((10,), 23_040), "the biases are missing: one per unit"),
        ("A", 3, ((6, 6, 64), 128), "has no weights"),
        ("B", 2, ((32, 32, 16), 32), "moving mean and variance"),
        ("B", 5, ((8, 8, 8), 256), "the biases are missing"),
        ("C", 3, ((1, 1, 4), 132), "use_bias=False"),
    ],
)
def test_stack_rejects_wrong_parameter_counts(name, number, row, hint, capsys):
    cnn.check_stack(name, with_row(name, number, row))
    found, hints = verdicts(capsys)
    assert dict(found) == {
        f"stack {name}: output shapes match Keras": True,
        f"stack {name}: parameter counts match count_params()": False,
    }
    message = hints[f"stack {name}: parameter counts match count_params()"]
    assert message.startswith(f"layer {number},") and hint in message


@pytest.mark.parametrize(
    "answers, message",
    [
        ("stack C", "expected a list with one (output shape, parameters) pair per layer, got a str"),
        (STACK_ANSWERS["C"][:3], "expected 4 (output shape, parameters) pairs, one per layer; got 3"),
        (STACK_ANSWERS["A"], "expected 4 (output shape, parameters) pairs, one per layer; got 5"),
        ([((4, 4, 8), 584), (2, 2, 8), ((1, 1, 4), 128), ((4,), 0)], "layer 2: expected a pair"),
        (with_row("C", 1, ((None, 4, 4, 8), 584)), "layer 1's output shape should be a whole number, got None"),
        (with_row("C", 1, ("4x4x8", 584)), "layer 1's output shape should be a tuple of sizes"),
        (with_row("C", 1, ((4, 4, 8), "584")), "layer 1's parameter count should be a whole number, got a str"),
    ],
)
def test_stack_reports_wrong_types_and_lengths_without_crashing(answers, message, capsys):
    cnn.check_stack("C", answers)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [False, False]
    assert message in hints["stack C: output shapes match Keras"]
    assert hints["stack C: parameter counts match count_params()"] == "fix the item above first"


# ---------------------------------------------------------------- conv2d


def flipped_kernel(image, kernel, bias, stride=1, padding="valid"):
    return conv2d(image, kernel[::-1, ::-1], bias, stride, padding)  # a true convolution


def without_bias(image, kernel, bias, stride=1, padding="valid"):
    return conv2d(image, kernel, np.zeros_like(bias), stride, padding)


def symmetric_same_padding(image, kernel, bias, stride=1, padding="valid"):
    """'same' as (k - 1) // 2 zeros on every side, PyTorch's padding=1: wrong when stride 2 needs less."""
    if padding == "same":
        pad = (kernel.shape[0] - 1) // 2
        return padded_conv2d(image, kernel, bias, stride, ((pad, pad), (pad, pad)))
    return conv2d(image, kernel, bias, stride, padding)


def extra_padding_first(image, kernel, bias, stride=1, padding="valid"):
    pads = tuple((after, before) for before, after in keras_pads(image, kernel, stride, padding))
    return padded_conv2d(image, kernel, bias, stride, pads)


def one_position_short(image, kernel, bias, stride=1, padding="valid"):
    return conv2d(image, kernel, bias, stride, padding)[:-1]  # an off-by-one loop bound


def transposed_output(image, kernel, bias, stride=1, padding="valid"):
    return conv2d(image, kernel, bias, stride, padding).transpose(1, 0, 2)


CONV2D_ITEMS = [f"conv2d matches Conv2D: {case[0]}" for case in cnn.CONV2D_CASES]


@pytest.mark.parametrize(
    "wrong, failing, hint",
    [
        (flipped_kernel, CONV2D_ITEMS, "true convolution (kernel flipped)"),
        (without_bias, CONV2D_ITEMS, "add the bias"),
        (symmetric_same_padding, [CONV2D_ITEMS[i] for i in (3, 4, 6)], None),
        (extra_padding_first, [CONV2D_ITEMS[i] for i in (3, 4, 6)], "wrong 'same' padding"),
        (one_position_short, CONV2D_ITEMS, "expected an array of shape"),
        (transposed_output, CONV2D_ITEMS, "expected an array of shape"),
    ],
)
def test_conv2d_rejects_convolution_a_missing_bias_and_wrong_padding(wrong, failing, hint, capsys):
    cnn.check_conv2d(wrong)
    found, hints = verdicts(capsys)
    assert [item for item, passed in found if not passed] == failing
    if hint:
        assert all(hint in hints[item] for item in failing)


def test_conv2d_names_the_lopsided_padding_of_same_with_stride_2(capsys):
    cnn.check_conv2d(symmetric_same_padding)
    _, hints = verdicts(capsys)
    even = "conv2d matches Conv2D: 3×3 kernel, stride 2, padding='same', even sizes"
    assert "wrong 'same' padding" in hints[even]  # the right shape, shifted values
    assert "expected an array of shape (5, 4, 2), got shape (4, 4, 2)" in hints[CONV2D_ITEMS[4]]


@pytest.mark.parametrize(
    "returned, message",
    [
        ("an image", "expected an array of shape (5, 4, 3), got a str"),
        ([[1.0]], "expected an array of shape (5, 4, 3), got shape (1, 1)"),
        (np.full((5, 4, 3), np.nan), "NaN or infinite"),
    ],
)
def test_conv2d_reports_a_wrong_type_without_crashing(returned, message, capsys):
    cnn.check_conv2d(lambda *args, **kwargs: returned)
    found, hints = verdicts(capsys)
    assert not any(passed for _, passed in found)
    assert message in hints[CONV2D_ITEMS[0]]


def test_conv2d_accepts_a_backend_tensor(capsys):
    from keras import ops

    cnn.check_conv2d(lambda *args, **kwargs: ops.convert_to_tensor(conv2d(*args, **kwargs)))
    found, _ = verdicts(capsys)
    assert all(passed for _, passed in found)


# ---------------------------------------------------------------- max pooling


POOL_ITEMS = [f"max_pool2d matches MaxPooling2D: {case[0]}" for case in cnn.MAX_POOL_CASES]


def ceil_mode_pool(image, pool_size=2, stride=None):
    """Keeps the partial windows at the edges (padding='same'): one row or column too many on odd sizes."""
    stride = stride or pool_size
    rows = -(-(image.shape[0] - pool_size) // stride) + 1
    columns = -(-(image.shape[1] - pool_size) // stride) + 1
    padded = np.pad(image, ((0, pool_size), (0, pool_size), (0, 0)), constant_values=-np.inf)
    return max_pool2d(padded, pool_size, stride)[:rows, :columns]


@pytest.mark.parametrize(
    "wrong, failing, hint",
    [
        (
            lambda image, pool_size=2, stride=None: max_pool2d(image, pool_size, stride, reduce=np.mean),
            POOL_ITEMS,
            "that is average pooling",
        ),
        (
            lambda image, pool_size=2, stride=None: max_pool2d(image, pool_size, pool_size),
            POOL_ITEMS[2:3],
            "expected an array of shape (4, 4, 1), got shape (3, 3, 1)",
        ),
        (ceil_mode_pool, [POOL_ITEMS[1], POOL_ITEMS[3]], "expected an array of shape"),
        (
            lambda image, pool_size=2, stride=None: max_pool2d(image, pool_size, stride).max(axis=-1, keepdims=True),
            POOL_ITEMS[:2] + POOL_ITEMS[3:],
            "expected an array of shape",
        ),
        (lambda image, pool_size=2, stride=None: None, POOL_ITEMS, "got None"),
    ],
)
def test_max_pool2d_rejects_average_pooling_and_wrong_windows(wrong, failing, hint, capsys):
    cnn.check_max_pool2d(wrong)
    found, hints = verdicts(capsys)
    assert [item for item, passed in found if not passed] == failing
    assert all(hint in hints[item] for item in failing)


# ---------------------------------------------------------------- a trained digits model


@pytest.fixture(scope="module")
def digits():
    from kerasdl import data

    return data.load_digits(test_fraction=0.5, seed=0)


def small_cnn(units=10):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(8, 8, 1))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    outputs = layers.Dense(units)(layers.Flatten()(x))
    return keras.Model(inputs, outputs)


DIGITS_ITEMS = [
    "the model maps (8, 8, 1) images to 10 scores each",
    "the model is convolutional (it has a Conv2D layer)",
    "the loss matches the last layer (logits or probabilities)",
    "test accuracy is at least 95%",
]


def test_a_trained_cnn_passes_and_the_same_cnn_untrained_fails(digits, capsys):
    import keras

    from kerasdl import runtime

    (x_train, y_train), (x_test, y_test) = digits
    runtime.set_seed(0)
    model = small_cnn()
    cnn.check_digits_model(model, x_test, y_test, 0.95)
    found, hints = verdicts(capsys)
    assert found == list(zip(DIGITS_ITEMS, [True, True, False, False]))
    assert hints[DIGITS_ITEMS[2]] == "the model has no loss: compile it before training"
    assert hints[DIGITS_ITEMS[3]].startswith("test accuracy ")  # how far it got, then the hint
    assert "epochs is fixed" in hints[DIGITS_ITEMS[3]] and "more epochs" not in hints[DIGITS_ITEMS[3]]

    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
    cnn.check_digits_model(model, x_test, y_test, 0.95)
    found, _ = verdicts(capsys)
    assert found == list(zip(DIGITS_ITEMS, [True, True, True, True]))


def test_a_dense_only_model_is_not_convolutional(digits, capsys):
    import keras
    from keras import layers

    (_, _), (x_test, y_test) = digits
    inputs = keras.Input(shape=(8, 8, 1))
    model = keras.Model(inputs, layers.Dense(10)(layers.Flatten()(inputs)))
    cnn.check_digits_model(model, x_test, y_test, 0.95)
    found, _ = verdicts(capsys)
    assert dict(found)[DIGITS_ITEMS[1]] is False


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: small_cnn(units=1), "expected an array of shape (899, 10), got shape (899, 1)"),
        (lambda: "my model", "expected a keras.Model, got a str"),
        (lambda: None, "expected a keras.Model, got None"),
    ],
)
def test_a_wrong_model_is_reported_without_crashing(make, message, digits, capsys):
    (_, _), (x_test, y_test) = digits
    cnn.check_digits_model(make(), x_test, y_test, 0.95)
    found, hints = verdicts(capsys)
    assert not dict(found)[DIGITS_ITEMS[0]] and not dict(found)[DIGITS_ITEMS[3]]
    assert message in hints[DIGITS_ITEMS[0]]


# ---------------------------------------------------------------- wrong answers the first checks let through


def square_kernel_assumed(image, kernel, bias, stride=1, padding="valid"):
    """Uses kernel.shape[0] for both axes: right for every square kernel."""
    size = kernel.shape[0]
    return conv2d(image, np.resize(kernel, (size, size, *kernel.shape[2:])), bias, stride, padding)


def test_conv2d_that_assumes_a_square_kernel_is_rejected_on_a_rectangular_one(capsys):
    cnn.check_conv2d(square_kernel_assumed)
    found, hints = verdicts(capsys)
    assert [item for item, passed in found if not passed] == CONV2D_ITEMS[5:]
    assert "this kernel has 3 rows and 2 columns" in hints[CONV2D_ITEMS[5]]
    assert "this kernel has 2 rows and 3 columns" in hints[CONV2D_ITEMS[6]]


def test_max_pool2d_that_reads_stride_none_as_1_is_rejected(capsys):
    def stride_one(image, pool_size=2, stride=None):
        return max_pool2d(image, pool_size, 1 if stride is None else stride)

    cnn.check_max_pool2d(stride_one)
    found, hints = verdicts(capsys)
    assert [item for item, passed in found if not passed] == POOL_ITEMS[3:]
    assert "expected an array of shape (3, 2, 2), got shape (7, 5, 2)" in hints[POOL_ITEMS[3]]
    assert "stride=None means windows that do not overlap" in hints[POOL_ITEMS[3]]


def compiled(model, loss):
    import keras

    model.compile(keras.optimizers.Adam(3e-3), loss)
    return model


def small_cnn_with(activation=None, api="functional"):
    """The same small CNN built three ways, ending in logits (activation None) or probabilities ("softmax")."""
    import keras
    from keras import layers

    stack = [
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation=activation),
    ]
    if api == "sequential":
        return keras.Sequential([keras.Input(shape=(8, 8, 1)), *stack])
    if api == "subclassed":

        class Digits(keras.Model):
            def __init__(self):
                super().__init__()
                self.stack = stack

            def call(self, x):
                for layer in self.stack:
                    x = layer(x)
                return x

        model = Digits()
        model(np.zeros((1, 8, 8, 1), "float32"))
        return model
    inputs = keras.Input(shape=(8, 8, 1))
    x = inputs
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize(
    "activation, loss, hint",
    [
        ("softmax", "SparseCategoricalCrossentropy(from_logits=True)", "the last layer gives probabilities"),
        (None, "sparse_categorical_crossentropy", "the last layer gives logits"),
        (None, "SparseCategoricalCrossentropy()", "the last layer gives logits"),
        ("softmax", "partial(sparse_categorical_crossentropy, from_logits=True)", "the last layer gives probabilities"),
    ],
)
def test_a_loss_that_does_not_match_the_last_layer_is_rejected(activation, loss, hint, digits, capsys):
    import functools

    import keras

    losses = {
        "SparseCategoricalCrossentropy(from_logits=True)": keras.losses.SparseCategoricalCrossentropy(True),
        "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy()": keras.losses.SparseCategoricalCrossentropy(),
        "partial(sparse_categorical_crossentropy, from_logits=True)": functools.partial(
            keras.losses.sparse_categorical_crossentropy, from_logits=True
        ),
    }
    (_, _), (x_test, y_test) = digits
    cnn.check_digits_model(compiled(small_cnn_with(activation), losses[loss]), x_test, y_test, 0.95)
    found, hints = verdicts(capsys)
    assert dict(found)[DIGITS_ITEMS[2]] is False
    assert hints[DIGITS_ITEMS[2]].startswith(hint)


# ---------------------------------------------------------------- valid alternatives (regression suite)


def conv2d_einsum(image, kernel, bias, stride=1, padding="valid"):
    """All windows at once with stride tricks, summed with einsum; returns float32."""
    image = np.pad(image, (*keras_pads(image, kernel, stride, padding), (0, 0)))
    kernel_height, kernel_width = kernel.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(image, (kernel_height, kernel_width), axis=(0, 1))
    windows = windows[::stride, ::stride]  # (out_h, out_w, C_in, kh, kw)
    return (np.einsum("hwcij,ijcf->hwf", windows, kernel) + bias).astype("float32")


def conv2d_im2col(image, kernel, bias, stride=1, padding="valid"):
    """im2col: one row per output position, one matrix product; returns a nested list."""
    image = np.pad(image, (*keras_pads(image, kernel, stride, padding), (0, 0)))
    kernel_height, kernel_width, channels, filters = kernel.shape
    out_height = (image.shape[0] - kernel_height) // stride + 1
    out_width = (image.shape[1] - kernel_width) // stride + 1
    rows = [
        image[r * stride : r * stride + kernel_height, c * stride : c * stride + kernel_width].reshape(-1)
        for r in range(out_height)
        for c in range(out_width)
    ]
    output = np.array(rows) @ kernel.reshape(-1, filters) + bias
    return output.reshape(out_height, out_width, filters).tolist()


def conv2d_with_explicit_loops(image, kernel, bias, stride=1, padding="valid"):
    """Four nested loops, one output number at a time, padding worked out per axis."""
    (top, bottom), (left, right) = keras_pads(image, kernel, stride, padding)
    padded = np.zeros((image.shape[0] + top + bottom, image.shape[1] + left + right, image.shape[2]))
    padded[top : top + image.shape[0], left : left + image.shape[1]] = image
    kernel_height, kernel_width, _, filters = kernel.shape
    out = np.zeros(
        ((padded.shape[0] - kernel_height) // stride + 1, (padded.shape[1] - kernel_width) // stride + 1, filters)
    )
    for row in range(out.shape[0]):
        for column in range(out.shape[1]):
            for f in range(filters):
                window = padded[
                    row * stride : row * stride + kernel_height, column * stride : column * stride + kernel_width
                ]
                out[row, column, f] = np.sum(window * kernel[..., f]) + bias[f]
    return out


@pytest.mark.parametrize("alternative", [conv2d_einsum, conv2d_im2col, conv2d_with_explicit_loops])
def test_valid_conv2d_alternatives_pass(alternative, capsys):
    cnn.check_conv2d(alternative)
    found, hints = verdicts(capsys)
    assert len(found) == len(cnn.CONV2D_CASES) and all(passed for _, passed in found), hints


def max_pool2d_reshape(image, pool_size=2, stride=None):
    """Non-overlapping windows by reshaping, stride tricks otherwise; `is None`, not `or`."""
    if stride is None:
        stride = pool_size
    windows = np.lib.stride_tricks.sliding_window_view(image, (pool_size, pool_size), axis=(0, 1))
    return windows[::stride, ::stride].max(axis=(-2, -1))


def max_pool2d_as_list(image, pool_size=2, stride=None):
    return max_pool2d(image, pool_size, stride).tolist()


@pytest.mark.parametrize("alternative", [max_pool2d_reshape, max_pool2d_as_list])
def test_valid_max_pool2d_alternatives_pass(alternative, capsys):
    cnn.check_max_pool2d(alternative)
    found, hints = verdicts(capsys)
    assert len(found) == len(cnn.MAX_POOL_CASES) and all(passed for _, passed in found), hints


@pytest.mark.parametrize("form", ["arrays", "lists", "bare numbers for one axis", "numpy numbers"])
def test_stack_answers_in_any_accepted_container_pass(form, capsys):
    convert = {
        "arrays": lambda shape, count: (np.array(shape), count),
        "lists": lambda shape, count: [list(shape), count],
        "bare numbers for one axis": lambda shape, count: (shape[0] if len(shape) == 1 else shape, count),
        "numpy numbers": lambda shape, count: (tuple(np.int64(n) for n in shape), np.int64(count)),
    }[form]
    for name, rows in STACK_ANSWERS.items():
        cnn.check_stack(name, [convert(shape, count) for shape, count in rows])
    found, hints = verdicts(capsys)
    assert len(found) == 2 * len(STACK_ANSWERS) and all(passed for _, passed in found), hints


@pytest.mark.parametrize(
    "alternative",
    [
        lambda size, kernel_size, stride=1, padding="valid": (
            -(-size // stride) if padding == "same" else math.floor((size - kernel_size) / stride) + 1
        ),
        lambda size, kernel_size, stride=1, padding="valid": float(output_size(size, kernel_size, stride, padding)),
        lambda size, kernel_size, stride=1, padding="valid": np.array(
            [output_size(size, kernel_size, stride, padding)]
        ),
    ],
)
def test_valid_output_size_alternatives_pass(alternative, capsys):
    cnn.check_output_size(alternative)
    found, _ = verdicts(capsys)
    assert [passed for _, passed in found] == [True, True]


@pytest.mark.parametrize(
    "activation, loss, api",
    [
        (None, "SparseCategoricalCrossentropy(from_logits=True)", "functional"),
        ("softmax", "sparse_categorical_crossentropy", "functional"),
        ("softmax", "SparseCategoricalCrossentropy()", "sequential"),
        (None, "partial(sparse_categorical_crossentropy, from_logits=True)", "subclassed"),
        ("softmax", "sparse_categorical_crossentropy function", "subclassed"),
        (None, "a loss of the learner's own", "sequential"),
    ],
)
def test_valid_models_and_losses_pass_the_structural_items(activation, loss, api, digits, capsys):
    import functools

    import keras

    losses = {
        "SparseCategoricalCrossentropy(from_logits=True)": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
        "SparseCategoricalCrossentropy()": keras.losses.SparseCategoricalCrossentropy(),
        "partial(sparse_categorical_crossentropy, from_logits=True)": functools.partial(
            keras.losses.sparse_categorical_crossentropy, from_logits=True
        ),
        "sparse_categorical_crossentropy function": keras.losses.sparse_categorical_crossentropy,
        "a loss of the learner's own": lambda y, scores: keras.ops.mean(scores),
    }
    (_, _), (x_test, y_test) = digits
    cnn.check_digits_model(compiled(small_cnn_with(activation, api), losses[loss]), x_test, y_test, 0.95)
    found, hints = verdicts(capsys)
    assert [passed for _, passed in found] == [True, True, True, False], hints  # untrained: accuracy fails


@pytest.mark.parametrize(
    "loss, from_logits",
    [
        ("sparse_categorical_crossentropy", False),
        ("categorical_crossentropy", False),
        ("SparseCategoricalCrossentropy", False),
        ("mse", None),
        (None, None),
    ],
)
def test_loss_from_logits_reads_names_and_leaves_other_losses_alone(loss, from_logits):
    assert cnn.loss_from_logits(loss) is from_logits

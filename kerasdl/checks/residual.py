"""Checks for the residual-blocks exercise (solutions/07_residual_blocks.ipynb).

Five parts, each graded the same way on every backend:
- arithmetic: a basic block's output shape and parameter count as functions, against
  the formulas below (which the tests hold against Keras's `count_params()`);
- a residual block written with the Functional API: its output shapes, its parameter
  count, and what it computes with scripted weights (every 3×3 kernel the same
  negating filter, every 1×1 kernel a channel copy, every batch normalisation the
  identity), compared with the right block and with plausible wrong ones (the
  shortcut added after the last ReLU, no shortcut, no ReLU between the convolutions,
  no ReLU after the addition), so that the hint names the mistake;
- the degradation gap: the learner's plain and residual networks, measured again
  here from the models themselves;
- the lesion test: the learner's function run on a small network built here, then
  its result on the learner's trained network;
- why the identity path helps gradients: choices with distractors, a Jacobian, two
  gradient factors, and a written answer recorded for the instructor (✎), never
  graded by its wording.

Keras and kerasdl.stacks are imported inside the functions. This module is the
answer key: reading it gives the answers away.
"""

import math
import re

import numpy as np

from kerasdl import checks
from kerasdl.checks import CheckError

NUM_CLASSES = 10
PIXELS = 64  # the digits as vectors

# ---------------------------------------------------------------- helpers


def _projection(in_channels, filters, stride):
    return stride != 1 or in_channels != filters


# ---------------------------------------------------------------- part 1: arithmetic

SHAPE_CASES = [  # (input shape (height, width, channels), filters, stride)
    ((8, 8, 16), 16, 1),
    ((8, 8, 16), 32, 2),
    ((7, 7, 16), 16, 2),
    ((6, 6, 8), 16, 1),
    ((28, 28, 3), 64, 2),
    ((32, 32, 64), 64, 1),
    ((9, 5, 4), 8, 3),
]
PARAMETER_CASES = [(16, 16, 1), (16, 32, 2), (16, 16, 2), (8, 16, 1), (3, 64, 2), (64, 64, 1), (32, 64, 1)]


def block_output_shape(input_shape, filters, stride):
    """Return the output shape of the basic block (padding "same"): (ceil(H / s), ceil(W / s), filters)."""
    height, width, _ = input_shape
    return (math.ceil(height / stride), math.ceil(width / stride), filters)


def block_parameters(in_channels, filters, stride):
    """Return count_params() of the basic block: two 3×3 convolutions, no bias, a batch norm after each,
    and a 1×1 projection with its batch norm when the shape changes."""
    count = 9 * in_channels * filters + 9 * filters * filters + 2 * 4 * filters
    if _projection(in_channels, filters, stride):
        count += in_channels * filters + 4 * filters
    return count


def _wrong_counts(c, f, s):
    """Yield (count, hint) for plausible wrong parameter counts of the block."""
    body = 9 * c * f + 9 * f * f
    needed = _projection(c, f, s)
    if needed:
        yield (
            body + 8 * f,
            (
                "when the shape changes, the shortcut is a 1×1 convolution with its own batch "
                "normalisation: count its weights too"
            ),
        )
        yield body + 8 * f + c * f, "the projection has a batch normalisation of its own"
        yield body + 8 * f + 9 * c * f + 4 * f, "the projection is a 1×1 convolution, not 3×3"
    else:
        yield body + 8 * f + c * f + 4 * f, "when the shape does not change, the shortcut is the identity: no weights"
    projection = (c * f + 4 * f) if needed else 0
    projection_half = (c * f + 2 * f) if needed else 0
    yield (
        body + 4 * f + projection_half,
        (
            "count_params() counts four numbers per channel of a batch "
            "normalisation: gamma and beta, and the moving mean and variance"
        ),
    )
    for biases in (2 * f, 3 * f if needed else 2 * f):
        yield (
            body + 8 * f + projection + biases,
            ("the convolutions have no bias (use_bias=False): the batch normalisation after each has its own offset"),
        )
    yield (
        18 * c * f + 8 * f + projection,
        ("the second convolution reads the first one's output, which has `filters` channels"),
    )
    yield 9 * c * f + 4 * f + projection, "the block has two 3×3 convolutions, each with its batch normalisation"


def check_output_shape(block_output_shape_function):
    """Verdict for block_output_shape(input_shape, filters, stride) on SHAPE_CASES."""

    def body():
        for input_shape, filters, stride in SHAPE_CASES:
            value = checks.call(block_output_shape_function, input_shape, filters, stride)
            if isinstance(value, (tuple, list)) and len(value) == 4 and value[0] is None:
                raise CheckError("leave out the batch axis: give (height, width, channels)")
            got = checks.expect_shape(value, "the output shape")
            want = block_output_shape(input_shape, filters, stride)
            if got == want:
                continue
            where = f"wrong for input {input_shape}, filters={filters}, stride={stride}"
            height, width, channels = input_shape
            if len(got) == 4:
                raise CheckError(f"{where}: leave out the batch axis, (height, width, channels)")
            if len(got) != 3:
                raise CheckError(f"{where}: give (height, width, channels)")
            if got[2] == channels and channels != filters:
                raise CheckError(f"{where}: the block outputs `filters` channels")
            if got[:2] == (height // stride, width // stride):
                raise CheckError(
                    f"{where}: with padding='same' a strided convolution rounds up: "
                    "an odd size keeps its last row and column"
                )
            if got[:2] == (height, width) and stride != 1:
                raise CheckError(f"{where}: the first convolution (and the projection) have the block's stride")
            if got[:2] == ((height - 3) // stride - 1, (width - 3) // stride - 1):
                raise CheckError(f"{where}: the convolutions use padding='same'")
            raise CheckError(
                f"{where}: apply the stride of the first convolution; padding 'same' keeps the size otherwise"
            )

    checks.check("block_output_shape: the output shape of a basic block", body)


def check_parameters(block_parameters_function):
    """Verdict for block_parameters(in_channels, filters, stride) on PARAMETER_CASES."""

    def body():
        for c, f, s in PARAMETER_CASES:
            got = checks.expect_whole(checks.call(block_parameters_function, c, f, s), "the parameter count")
            if got == block_parameters(c, f, s):
                continue
            where = f"wrong for in_channels={c}, filters={f}, stride={s}"
            for count, hint in _wrong_counts(c, f, s):
                if got == count:
                    raise CheckError(f"{where}: {hint}")
            raise CheckError(
                f"{where}: add up the two 3×3 convolutions, the batch normalisations and, "
                "when the shape changes, the projection"
            )

    checks.check("block_parameters: the parameter count of a basic block", body)


# ---------------------------------------------------------------- part 2: a residual block

BLOCK_CASES = [((8, 8, 16), 16, 1), ((8, 8, 16), 32, 2), ((6, 6, 8), 16, 1), ((7, 7, 16), 16, 2)]
VARIANTS = {  # name: (what the block does wrong, the hint)
    "add_after_relu": "the shortcut is added after the last ReLU; in this block it is added before it, and the "
    "block ends with the ReLU (its output is never negative)",
    "no_final_relu": "the block ends with a ReLU after the addition",
    "no_shortcut": "the block's input never reaches its output: add the shortcut",
    "no_middle_relu": "a ReLU belongs between the first convolution's normalisation and the second convolution",
    "relu_before_norm": "each convolution is followed by its batch normalisation, then the ReLU",
}
# Mistakes the scripted weights cannot see (they make every batch normalisation an identity plus a shift and
# every 3×3 kernel its centre tap): told apart with random weights.
RANDOM_VARIANTS = {
    "norm_after_add": "the second convolution's batch normalisation belongs before the addition, on the branch",
    "stride_on_second": "the stride belongs on the first 3×3 convolution (and on the projection), not the second",
}  # (a projection without its batch normalisation: the parameter count and the scripted shift both see it)


def reference_block(x, filters, stride=1, variant="right"):
    """Return the output of the basic block on the Keras tensor x, or of a wrong `variant` of it."""
    from keras import layers

    shortcut = x
    first, second = (1, stride) if variant == "stride_on_second" else (stride, 1)
    y = layers.Conv2D(filters, 3, strides=first, padding="same", use_bias=False)(x)
    if variant == "relu_before_norm":
        y = layers.BatchNormalization()(layers.ReLU()(y))
    else:
        y = layers.BatchNormalization()(y)
        y = y if variant == "no_middle_relu" else layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, strides=second, padding="same", use_bias=False)(y)
    y = y if variant == "norm_after_add" else layers.BatchNormalization()(y)
    if _projection(x.shape[-1], filters, stride):
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = shortcut if variant == "projection_without_norm" else layers.BatchNormalization()(shortcut)
    if variant == "no_shortcut":
        return layers.ReLU()(y)
    if variant == "add_after_relu":
        return layers.add([layers.ReLU()(y), shortcut])
    added = layers.add([y, shortcut])
    added = layers.BatchNormalization()(added) if variant == "norm_after_add" else added
    return added if variant == "no_final_relu" else layers.ReLU()(added)


def _channel_copy(in_channels, out_channels, sign):
    """Return an (in_channels, out_channels) matrix that copies channel k to channel k, times sign."""
    return sign * np.eye(in_channels, out_channels, dtype="float32")


def script_weights(model, beta):
    """Set every weight of `model` to its scripted value; raise CheckError for a layer it cannot script.

    3×3 kernels: only the centre tap, minus a channel copy; 1×1 kernels: a channel copy; biases 0;
    batch normalisations: the identity, plus `beta`.
    """
    from keras import layers

    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            kernel = np.zeros(tuple(layer.kernel.shape), dtype="float32")  # (kh, kw, in, out)
            kh, kw, cin, cout = kernel.shape
            if (kh, kw) == (3, 3):
                kernel[1, 1] = _channel_copy(cin, cout, -1.0)
            elif (kh, kw) == (1, 1):
                kernel[0, 0] = _channel_copy(cin, cout, 1.0)
            else:
                raise CheckError(f"the block has a {kh}×{kw} convolution: use 3×3 ones, and a 1×1 projection")
            layer.kernel.assign(kernel)
            if layer.use_bias:
                layer.bias.assign(np.zeros(tuple(layer.bias.shape), dtype="float32"))
        elif isinstance(layer, layers.BatchNormalization):
            size = tuple(layer.moving_mean.shape)
            if layer.gamma is not None:
                layer.gamma.assign(np.ones(size, dtype="float32"))
            if layer.beta is not None:
                layer.beta.assign(np.full(size, beta, dtype="float32"))
            layer.moving_mean.assign(np.zeros(size, dtype="float32"))
            layer.moving_variance.assign(np.full(size, 1.0 - layer.epsilon, dtype="float32"))
        elif layer.weights:
            raise CheckError(
                f"the block holds a {type(layer).__name__} layer with weights: use Conv2D and BatchNormalization only"
            )


RANDOM_RTOL = 5e-3  # random-weight outputs against the reference: a batch normalisation's epsilon moves them 1e-3


def random_weights(model, seed=0):
    """Set every Conv2D and BatchNormalization of `model` to random values drawn from the weight's shape and `seed`.

    Layers of one shape get the same values, so the order in which a block creates its layers does not matter;
    biases are 0. The batch normalisations get a scale, a shift, a mean and a variance far from the identity.
    """
    import zlib

    from keras import layers

    def draw(shape, what, low=None, high=None, scale=1.0):
        rng = np.random.default_rng([seed, zlib.crc32(f"{what}{shape}".encode())])
        values = rng.uniform(low, high, size=shape) if low is not None else rng.normal(scale=scale, size=shape)
        return values.astype("float32")

    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            shape = tuple(layer.kernel.shape)  # (kh, kw, in, out)
            layer.kernel.assign(draw(shape, "kernel", scale=(shape[0] * shape[1] * shape[2]) ** -0.5))
            if layer.use_bias:
                layer.bias.assign(np.zeros(tuple(layer.bias.shape), dtype="float32"))
        elif isinstance(layer, layers.BatchNormalization):
            size = tuple(layer.moving_mean.shape)
            if layer.gamma is not None:
                layer.gamma.assign(draw(size, "gamma", 0.5, 2.0))
            if layer.beta is not None:
                layer.beta.assign(draw(size, "beta", scale=0.5))
            layer.moving_mean.assign(draw(size, "mean", scale=0.5))
            layer.moving_variance.assign(draw(size, "variance", 1.0, 2.0))


def _outputs(model, x):
    from keras import ops

    from kerasdl import precision

    with precision.exact_matmul():
        return ops.convert_to_numpy(model(x, training=False))


def _block_model(function, input_shape, filters, stride):
    """Return keras.Model(input, function(input, filters, stride)), or raise CheckError saying what went wrong."""
    import keras

    inputs = keras.Input(shape=input_shape)
    try:
        outputs = checks.call(function, inputs, filters, stride)
    except CheckError as error:
        shapes = "raised ValueError" in str(error) and re.search(r"shape|incompatible", str(error), re.I)
        if shapes and _projection(input_shape[-1], filters, stride):
            raise CheckError(
                f"for input {input_shape}, filters={filters}, stride={stride} the addition got "
                "tensors of different shapes: when the channels or the resolution change, project "
                "the shortcut with a 1×1 convolution with the block's stride"
            ) from None
        raise CheckError(f"for input {input_shape}, filters={filters}, stride={stride}: {error}") from None
    if not isinstance(outputs, keras.KerasTensor):
        raise CheckError(f"residual_block should return the block's output tensor, got {checks.kind(outputs)}")
    return keras.Model(inputs, outputs)


def check_residual_block(residual_block):
    """Verdicts for residual_block(x, filters, stride): output shapes, parameter count, what it computes."""
    models = {}

    def shapes():
        for input_shape, filters, stride in BLOCK_CASES:
            model = _block_model(residual_block, input_shape, filters, stride)
            models[input_shape, filters, stride] = model
            got = tuple(model.output.shape[1:])
            want = block_output_shape(input_shape, filters, stride)
            if got != want:
                raise CheckError(
                    f"for input {input_shape}, filters={filters}, stride={stride} the output has "
                    f"shape {got}: use padding='same', the stride on the first convolution and on "
                    "the projection"
                )

    def parameters():
        if len(models) != len(BLOCK_CASES):
            raise CheckError("fix the output shapes first")
        for (input_shape, filters, stride), model in models.items():
            got, c = model.count_params(), input_shape[-1]
            if got == block_parameters(c, filters, stride):
                continue
            where = f"wrong for input {input_shape}, filters={filters}, stride={stride}"
            for count, hint in _wrong_counts(c, filters, stride):
                if got == count:
                    raise CheckError(f"{where}: {hint}")
            raise CheckError(
                f"{where}: two 3×3 convolutions without bias, each followed by a batch "
                "normalisation, and a 1×1 projection with its batch normalisation when the shape "
                "changes"
            )

    def computes():
        if len(models) != len(BLOCK_CASES):
            raise CheckError("fix the output shapes first")
        rng = np.random.default_rng(0)
        for (input_shape, filters, stride), model in models.items():
            x = rng.normal(size=(2, *input_shape)).astype("float32")  # (2, height, width, channels)
            right = _block_model(reference_block, input_shape, filters, stride)
            for beta in (0.0, 0.5):
                script_weights(model, beta)
                got = _outputs(model, x)
                script_weights(right, beta)
                if np.allclose(got, _outputs(right, x), atol=1e-4):
                    continue
                for variant, hint in VARIANTS.items():
                    wrong = _block_model(
                        lambda t, f, s, v=variant: reference_block(t, f, s, v), input_shape, filters, stride
                    )
                    script_weights(wrong, beta)
                    if np.allclose(got, _outputs(wrong, x), atol=1e-4):
                        raise CheckError(hint)
                raise CheckError(
                    "with scripted weights it computes something else than the basic block: "
                    "convolution, normalisation, ReLU, convolution, normalisation, add the "
                    "shortcut, ReLU"
                )
            random_weights(model)
            random_weights(right)
            got = _outputs(model, x)
            if np.allclose(got, _outputs(right, x), rtol=RANDOM_RTOL, atol=RANDOM_RTOL):
                continue
            for variant, hint in RANDOM_VARIANTS.items():
                wrong = _block_model(
                    lambda t, f, s, v=variant: reference_block(t, f, s, v), input_shape, filters, stride
                )
                random_weights(wrong)
                if got.shape == _outputs(wrong, x).shape and np.allclose(
                    got, _outputs(wrong, x), rtol=RANDOM_RTOL, atol=RANDOM_RTOL
                ):
                    raise CheckError(hint)
            raise CheckError(
                "with random weights it computes something else than the basic block: check where each batch "
                "normalisation sits and which convolutions carry the stride"
            )

    checks.check("residual_block: output shapes with and without a projection", shapes)
    checks.check("residual_block: the parameters of a basic block", parameters)
    checks.check("residual_block: the shortcut added before the last ReLU", computes)


# ---------------------------------------------------------------- part 3: deep networks and the degradation gap


def reference_parameters(depth, width):
    """Return count_params() of the deep network: stem, DenseStack, final normalisation, logits."""
    stem = PIXELS * width + width
    stack = depth * (width * width + width + 2 * width) + depth  # kernel, bias, gamma, beta; keep
    return stem + stack + 2 * width + width * NUM_CLASSES + NUM_CLASSES


def _stacks(model):
    from kerasdl.stacks import DenseStack

    return [layer for layer in model.layers if isinstance(layer, DenseStack)]


def check_deep_network(deep_network, width=64):
    """Verdicts for deep_network(depth, residual): one DenseStack of that kind, logits for 10 classes."""
    import keras

    built = {}

    def structure():
        for depth, residual in [(3, True), (5, False)]:
            model = checks.call(deep_network, depth, residual)
            if not isinstance(model, keras.Model):
                raise CheckError(f"deep_network should return a keras.Model, got {checks.kind(model)}")
            stacks = _stacks(model)
            if len(stacks) != 1:
                raise CheckError(f"the model should hold one DenseStack (kerasdl.stacks), found {len(stacks)}")
            stack = stacks[0]
            if stack.depth != depth:
                raise CheckError(f"deep_network({depth}, ...) holds a DenseStack of depth {stack.depth}")
            if stack.residual != residual:
                raise CheckError(
                    f"deep_network(..., residual={residual}) holds a DenseStack with residual={stack.residual}"
                )
            if stack.order != "pre" or not stack.normalize:
                raise CheckError("use the DenseStack's defaults: pre-activation blocks with normalisation")
            built[depth] = model

    def outputs():
        if len(built) != 2:
            raise CheckError("fix the structure first")
        from keras import ops

        for depth, model in built.items():
            try:
                outputs = ops.convert_to_numpy(model(np.zeros((2, PIXELS), dtype="float32")))
            except Exception:
                raise CheckError(
                    f"the model should read the digits as vectors of {PIXELS} pixels, input shape (None, {PIXELS})"
                ) from None
            if outputs.shape != (2, NUM_CLASSES):
                raise CheckError(
                    f"the model outputs one value per class, (None, {NUM_CLASSES}); "
                    f"got (None, {', '.join(map(str, outputs.shape[1:]))})"
                )
            last = model.layers[-1]
            activation = getattr(getattr(last, "activation", None), "__name__", "linear")
            if activation != "linear":
                raise CheckError(f"the last layer applies {activation}: return logits (no activation)")
            got, want = model.count_params(), reference_parameters(depth, width)
            if got != want:
                raise CheckError(
                    f"deep_network({depth}, ...) has {got:,} parameters: a Dense stem of width "
                    f"{width}, the stack, a LayerNormalization and a ReLU, then Dense(10)"
                )

    checks.check("deep_network: one DenseStack of the given depth and kind", structure)
    checks.check("deep_network: logits for 10 classes, parameters as specified", outputs)


def _loss_and_accuracy(model, x, y):
    """Return (mean cross-entropy, accuracy) of `model` on (x, y), in inference mode."""
    logits = np.asarray(model.predict(x, batch_size=len(x), verbose=0), dtype=np.float64)  # (n, 10)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    y = np.asarray(y).astype(int)
    return float(-np.mean(log_probabilities[np.arange(len(y)), y])), float(np.mean(logits.argmax(axis=1) == y))


def _learning_rate(optimizer):
    """Return an optimiser's learning rate as comparable data: its schedule's config, or the number."""
    rate = optimizer.get_config().get("learning_rate")
    if isinstance(rate, dict):  # a schedule, serialised
        return repr(sorted((key, repr(value)) for key, value in rate.items()))
    return round(float(rate), 12) if isinstance(rate, (int, float)) else repr(rate)


def check_degradation(plain_model, residual_model, x_train, y_train, plain_loss, residual_loss, target_accuracy, depth):
    """Verdicts for the degradation gap at `depth`: same budget, honest losses, plain stuck, residual fits."""
    measured = {}

    def budget():
        import keras
        from keras import ops

        for model, kind in ((plain_model, "plain"), (residual_model, "residual")):
            if not isinstance(model, keras.Model):
                raise CheckError(f"{kind}_model should be a trained keras.Model, got {checks.kind(model)}")
            stacks = _stacks(model)
            if len(stacks) != 1 or stacks[0].depth != depth or stacks[0].residual != (kind == "residual"):
                raise CheckError(f"{kind}_model should be deep_network({depth}, residual={kind == 'residual'})")
            if getattr(model, "optimizer", None) is None or int(ops.convert_to_numpy(model.optimizer.iterations)) == 0:
                raise CheckError(f"{kind}_model has not been trained: compile and fit it")
        plain_steps = int(ops.convert_to_numpy(plain_model.optimizer.iterations))
        residual_steps = int(ops.convert_to_numpy(residual_model.optimizer.iterations))
        if plain_steps != residual_steps:
            raise CheckError(
                f"the plain network took {plain_steps} training steps and the residual one "
                f"{residual_steps}: give both the same budget"
            )
        if type(plain_model.optimizer) is not type(residual_model.optimizer):
            raise CheckError("train both with the same optimiser")
        if _learning_rate(plain_model.optimizer) != _learning_rate(residual_model.optimizer):
            raise CheckError("train both with the same learning rate and schedule: only the shortcuts may differ")

    def reported():
        for model, value, kind in ((plain_model, plain_loss, "plain"), (residual_model, residual_loss, "residual")):
            loss, accuracy = _loss_and_accuracy(model, x_train, y_train)
            measured[kind] = loss, accuracy
            number = checks.expect_number(value)
            if not math.isclose(number, loss, rel_tol=0.02, abs_tol=1e-3):
                raise CheckError(
                    f"{kind}_loss is not the {kind} network's loss over the training set after "
                    "training: measure it with model.predict on x_train (the last epoch's "
                    "running average is not the same)"
                )

    def plain_stuck():
        if "plain" not in measured:
            raise CheckError("report the losses first")
        if measured["plain"][1] > 0.2:
            raise CheckError(
                f"the plain network of {depth} blocks learned: train it exactly as the residual one, "
                "with the settings given"
            )

    def residual_fits():
        if "residual" not in measured:
            raise CheckError("report the losses first")
        if measured["residual"][1] < target_accuracy:
            raise CheckError(
                "the residual network does not reach the target training accuracy: train it with "
                "the settings given (epochs, batch size, learning rate)"
            )

    def gap():
        if len(measured) != 2:
            raise CheckError("report the losses first")
        if not measured["plain"][0] >= 10 * measured["residual"][0]:
            raise CheckError("the gap is smaller than 10x: train both networks with the settings given")

    checks.check("both networks trained with the same budget", budget)
    checks.check("the reported losses are the networks' training losses", reported)
    checks.check(f"plain network of {depth} blocks: training accuracy at chance level (at most 0.2)", plain_stuck)
    checks.check(f"residual network of {depth} blocks: reaches the target training accuracy", residual_fits)
    checks.check("the degradation gap: the plain training loss at least 10x the residual one", gap)


# ---------------------------------------------------------------- part 4: lesions


def reference_lesions(model, stack, images, labels):
    """Return the accuracy of `model` on (images, labels) with each block of `stack` removed in turn."""
    depth = stack.depth
    accuracies = []
    for removed in range(depth):
        keep = np.ones(depth, dtype="float32")
        keep[removed] = 0.0
        stack.keep.assign(keep)
        logits = model.predict(images, batch_size=len(images), verbose=0)
        accuracies.append(np.mean(np.argmax(logits, axis=1) == labels))
    stack.keep.assign(np.ones(depth, dtype="float32"))
    return np.array(accuracies)


def _probe_network(seed=0, depth=6, width=8, num_classes=4):
    """Return (model, stack, images, labels): a small random residual network whose lesions all differ."""
    import keras
    from keras import layers

    from kerasdl.stacks import DenseStack

    inputs = keras.Input(shape=(5,))
    stack = DenseStack(depth, residual=True, name="probe_blocks")
    h = stack(layers.Dense(width)(inputs))
    model = keras.Model(inputs, layers.Dense(num_classes)(h))
    rng = np.random.default_rng(seed)
    for variable in model.trainable_variables:
        variable.assign(rng.normal(scale=0.8, size=tuple(variable.shape)).astype("float32"))
    images = rng.normal(size=(200, 5)).astype("float32")
    intact = np.argmax(model.predict(images, batch_size=200, verbose=0), axis=1)
    labels = np.where(rng.random(200) < 0.8, intact, rng.integers(0, num_classes, 200))  # 80% agree with it
    return model, stack, images, labels


def check_lesion_function(lesion_accuracies):
    """Verdict for lesion_accuracies(model, stack, images, labels), on a small random residual network."""

    def body():
        from keras import ops

        model, stack, images, labels = _probe_network()
        want = reference_lesions(model, stack, images, labels)
        got = checks.expect_array(checks.call(lesion_accuracies, model, stack, images, labels.copy()))
        keep_after = ops.convert_to_numpy(stack.keep)
        if not np.all(keep_after == 1):
            raise CheckError("after the function returns, every block should be back: set keep to ones again")
        if got.shape != want.shape:
            raise CheckError(f"expected one accuracy per block, {want.shape[0]} values; got shape {got.shape}")
        tolerance = 2.5 / len(labels)  # a prediction or two may differ between predict() and a direct call
        if np.allclose(got, want, atol=tolerance):
            return True
        intact = np.mean(np.argmax(model.predict(images, verbose=0), axis=1) == labels)
        if np.allclose(got, intact - want, atol=tolerance) or np.allclose(got, want - intact, atol=tolerance):
            raise CheckError("return the accuracy with each block removed, not its change")
        if np.allclose(got, np.roll(want, 1), atol=tolerance) or np.allclose(got, np.roll(want, -1), atol=tolerance):
            raise CheckError("entry k should be the accuracy without block k: check which block you remove")
        if np.allclose(got, 100 * want, atol=100 * tolerance):
            raise CheckError("give accuracies as fractions between 0 and 1")
        raise CheckError(
            "entry k should be the accuracy on these images with block k alone switched off "
            "(the stack's keep), every other block in place"
        )

    checks.check("lesion_accuracies: one block removed at a time, all put back", body)


def check_lesion_result(accuracies, model, images, labels, intact_accuracy):
    """Verdicts for the lesion test on the learner's trained residual network."""
    state = {}

    def measured():
        stacks = _stacks(model)
        if len(stacks) != 1:
            raise CheckError("pass the trained residual network (it holds one DenseStack)")
        got = checks.expect_array(accuracies)
        want = reference_lesions(model, stacks[0], images, labels)
        if got.shape != want.shape or not np.allclose(got, want, atol=2.5 / len(labels)):
            raise CheckError(
                "residual_lesions should be lesion_accuracies of the trained residual network on the test digits"
            )
        state["median"] = float(np.median(want))
        predicted = np.argmax(np.asarray(model.predict(images, verbose=0)), axis=1)
        state["intact"] = float(np.mean(predicted == np.asarray(labels).astype(int)))
        if abs(checks.expect_number(intact_accuracy) - state["intact"]) > 2.5 / len(labels):
            raise CheckError("intact_accuracy should be the trained network's accuracy on the test digits, no lesion")

    def robust():
        if "median" not in state:
            raise CheckError("measure the lesions first")
        intact = state["intact"]
        if state["median"] < intact - 0.05:
            raise CheckError(
                "most single lesions cost more than 0.05 of accuracy: train the network with the settings given"
            )

    checks.check("the lesions measured on the trained residual network", measured)
    checks.check("removing one block costs at most 0.05 of test accuracy (median block)", robust)


# ---------------------------------------------------------------- part 5: why the identity path helps


CHOICES = {
    "q1": checks.Choice(
        "Q1 why gradients reach the first blocks of a deep residual network",
        frozenset("a"),
        "abcd",
        {
            "b": "the number of parameters does not decide how large the gradient is when it reaches a layer; "
            "look at the derivative of y = x + F(x) with respect to x",
            "c": "each branch keeps its ReLU and its weights; the network is as non-linear as a plain one",
            "d": "the addition does not double anything: differentiate x + F(x) and see which term is new",
        },
    ),
    "q2": checks.Choice(
        "Q2 why removing one residual block barely hurts",
        frozenset("b"),
        "abcd",
        {
            "a": "the lesion removes a whole block, weights included; nothing else takes its place",
            "c": "overfitting is about new data; a lesion changes what every later layer receives: compare what "
            "a layer's input is in each network",
            "d": "every shortcut in these networks is the identity (the width never changes); a removed block "
            "passes its input through",
        },
    ),
    "q3": checks.Choice(
        "Q3 true statements about normalisation and shortcuts",
        frozenset("ab"),
        "abcd",
        {
            "c": "a projection is only needed where the shapes differ; everywhere else the shortcut is the identity",
            "d": "look at residual_block again: which comes last, the addition or the ReLU?",
        },
    ),
}


def check_choice(question, answer):
    """Print the verdict for the letters `answer` to the question `question` ("q1", ...)."""
    checks.choice_verdict(CHOICES, question, answer)


BRANCH = np.array([[0.5, -1.0], [2.0, 0.0]])  # the W of y = x + W x in the exercise


def check_jacobian(jacobian):
    """Verdict for the Jacobian of y = x + W x with respect to x, W = BRANCH (rows: outputs)."""

    def body():
        got = checks.expect_array(jacobian, shape=(2, 2))
        identity = np.eye(2)
        if np.allclose(got, identity + BRANCH):
            return True
        if np.allclose(got, BRANCH):
            raise CheckError("this is the branch's Jacobian alone: the shortcut contributes too")
        if np.allclose(got, identity):
            raise CheckError("this is the shortcut's Jacobian alone: the branch W x contributes too")
        if np.allclose(got, identity + BRANCH.T):
            raise CheckError(
                "row i holds the derivatives of y_i: d y_i / d x_j is the entry (i, j) of W, plus 1 where i = j"
            )
        raise CheckError("differentiate each y_i = x_i + sum_j W_ij x_j with respect to each x_j")

    checks.check("the Jacobian of a residual block with a linear branch", body)


def check_gradient_factors(plain_factor, residual_factor, num_layers=50, scale=0.5):
    """Verdicts: 50 plain layers with Jacobian 0.5·I, and 50 residual blocks whose branches contribute nothing."""

    def plain():
        number = checks.expect_number(plain_factor)
        if math.isclose(number, scale**num_layers, rel_tol=1e-6):
            return True
        if math.isclose(number, scale * num_layers, rel_tol=1e-6):
            raise CheckError("the chain rule multiplies one factor per layer; it does not add them")
        if math.isclose(number, scale ** (num_layers - 1), rel_tol=1e-6) or math.isclose(
            number, scale ** (num_layers + 1), rel_tol=1e-6
        ):
            raise CheckError(f"count the layers: {num_layers} factors")
        raise CheckError(f"multiply the gradient by {scale} once per layer")

    def residual():
        number = checks.expect_number(residual_factor)
        if math.isclose(number, 1.0, rel_tol=1e-9):
            return True
        if number == 0:
            raise CheckError(
                "a branch that contributes nothing does not stop the gradient: the shortcut still passes it on"
            )
        if math.isclose(number, float(num_layers), rel_tol=1e-9) or math.isclose(number, 2.0**num_layers, rel_tol=1e-9):
            raise CheckError("each block's Jacobian is I + 0: the factors multiply, and each is 1")
        raise CheckError("with F = 0 each block's Jacobian is the identity: what is a product of identities?")

    checks.check(f"gradient factor through {num_layers} plain layers", plain)
    checks.check(f"gradient factor through {num_layers} residual blocks whose branches contribute nothing", residual)


WRITTEN_ITEM = "written: why the identity path helps gradients"
MODEL_ANSWER = (
    "A residual block computes y = x + F(x), so its Jacobian is I + dF/dx: the gradient arriving at y reaches x "
    "unchanged through the identity term, plus whatever flows back through the branch. Through many blocks the "
    "product of these Jacobians always contains that identity path, so early blocks receive a gradient of "
    "useful size even when each branch's own Jacobian is small, instead of the product of many small factors "
    "that a plain stack gives."
)


def record_written_answer(answer):
    """Record the learner's own words on why the identity path helps gradients: a ✎ line for the instructor."""
    checks.record_answer(WRITTEN_ITEM, answer, MODEL_ANSWER)

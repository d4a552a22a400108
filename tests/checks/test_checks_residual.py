"""kerasdl.checks.residual: right answers pass, valid alternatives pass, plausible wrong answers are rejected
with a hint naming the mistake; the formulas of the answer key hold against Keras on the active backend."""

import keras
import numpy as np
import pytest
from keras import layers, ops

from kerasdl import checks, runtime
from kerasdl.checks import residual
from kerasdl.stacks import DenseStack

from helpers import verdicts


def only(capsys):
    """Return (item, passed, hint) of the single verdict printed since the last call."""
    found, hints = verdicts(capsys)
    assert len(found) == 1, found
    ((item, passed),) = found
    return item, passed, hints.get(item, "")


# ---------------------------------------------------------------- the answer key against Keras


@pytest.mark.parametrize("in_channels, filters, stride", residual.PARAMETER_CASES)
def test_the_parameter_formula_is_keras_count_params(in_channels, filters, stride):
    x = keras.Input(shape=(8, 8, in_channels))
    model = keras.Model(x, residual.reference_block(x, filters, stride))
    assert model.count_params() == residual.block_parameters(in_channels, filters, stride)


@pytest.mark.parametrize("input_shape, filters, stride", residual.SHAPE_CASES)
def test_the_shape_formula_is_what_keras_builds(input_shape, filters, stride):
    x = keras.Input(shape=input_shape)
    output = residual.reference_block(x, filters, stride)
    assert tuple(output.shape[1:]) == residual.block_output_shape(input_shape, filters, stride)


def test_the_deep_network_count_is_keras_count_params():
    model = right_deep_network(7, residual=False)
    assert model.count_params() == residual.reference_parameters(7, 64)


# ---------------------------------------------------------------- part 1


def right_shape(input_shape, filters, stride):
    return (-(-input_shape[0] // stride), -(-input_shape[1] // stride), filters)


@pytest.mark.parametrize(
    "answer",
    [
        right_shape,
        lambda s, f, k: [int(np.ceil(s[0] / k)), int(np.ceil(s[1] / k)), f],  # a list
        lambda s, f, k: np.array([np.ceil(s[0] / k), np.ceil(s[1] / k), f]).astype(np.int64),  # an array
    ],
)
def test_output_shapes_right_and_valid_alternatives_pass(answer, capsys):
    residual.check_output_shape(answer)
    assert only(capsys)[1]


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda s, f, k: (s[0] // k, s[1] // k, f), "rounds up"),
        (lambda s, f, k: (s[0], s[1], f), "the block's stride"),
        (lambda s, f, k: (None, *right_shape(s, f, k)), "leave out the batch axis"),
        (lambda s, f, k: (*right_shape(s, f, k)[:2], s[2]), "outputs `filters` channels"),
        (lambda s, f, k: ((s[0] - 3) // k - 1, (s[1] - 3) // k - 1, f), "padding='same'"),
    ],
)
def test_output_shapes_wrong_answers_are_rejected_with_their_hint(answer, hint, capsys):
    residual.check_output_shape(answer)
    _, passed, given = only(capsys)
    assert not passed and hint in given


def test_an_unsolved_part_propagates_not_implemented():
    def stub(*args):
        raise NotImplementedError("write your solution here")

    with pytest.raises(NotImplementedError):
        residual.check_output_shape(stub)
    with pytest.raises(NotImplementedError):
        residual.check_residual_block(stub)


def right_count(c, f, s):
    count = 9 * c * f + 9 * f * f + 8 * f
    return count + (c * f + 4 * f if s != 1 or c != f else 0)


@pytest.mark.parametrize(
    "answer",
    [
        right_count,
        lambda c, f, s: float(right_count(c, f, s)),  # 18688.0
        lambda c, f, s: np.int64(right_count(c, f, s)),
    ],
)
def test_parameter_counts_right_and_valid_alternatives_pass(answer, capsys):
    residual.check_parameters(answer)
    assert only(capsys)[1]


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda c, f, s: 9 * c * f + 9 * f * f + 8 * f, "the shortcut is a 1×1 convolution"),
        (lambda c, f, s: 9 * c * f + 9 * f * f + 8 * f + c * f + 4 * f, "the shortcut is the identity"),
        (lambda c, f, s: right_count(c, f, s) - 4 * f - (2 * f if s != 1 or c != f else 0), "four numbers per channel"),
        (lambda c, f, s: right_count(c, f, s) + 2 * f, "no bias"),
        (lambda c, f, s: right_count(c, f, s) - 9 * f * f + 9 * c * f, "the first one's output"),
        (lambda c, f, s: right_count(c, f, s) - (4 * f if s != 1 or c != f else 0), "batch normalisation of its own"),
        (lambda c, f, s: right_count(c, f, s) + 1, "add up"),
    ],
)
def test_parameter_counts_wrong_answers_are_rejected_with_their_hint(answer, hint, capsys):
    residual.check_parameters(answer)
    _, passed, given = only(capsys)
    assert not passed and hint in given, given


# ---------------------------------------------------------------- part 2


def solution_block(x, filters, stride=1):
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization(momentum=0.9)(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(momentum=0.9)(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization(momentum=0.9)(shortcut)
    return layers.ReLU()(layers.add([y, shortcut]))


def shortcut_first_block(x, filters, stride=1):
    """Valid: the shortcut computed first, Add() and Activation layers, '+' on tensors, other epsilon, 'same'."""
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, (1, 1), strides=(stride, stride), padding="same", use_bias=False)(x)
        shortcut = layers.BatchNormalization(epsilon=1e-5)(shortcut)
    else:
        shortcut = x
    y = layers.Conv2D(filters, (3, 3), strides=stride, padding="same", use_bias=False)(x)
    y = layers.Activation("relu")(layers.BatchNormalization(epsilon=1e-5)(y))
    y = layers.BatchNormalization(epsilon=1e-5)(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    return layers.Activation("relu")(layers.Add()([shortcut, y]))


def plus_operator_block(x, filters, stride=1):
    """Valid: the addition written with + on Keras tensors."""
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, stride, "same", use_bias=False)(x)))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    shortcut = x
    if x.shape[-1] != filters or stride > 1:
        shortcut = layers.BatchNormalization()(layers.Conv2D(filters, 1, stride, use_bias=False)(x))
    return layers.ReLU()(y + shortcut)


def variant_block(variant):
    return lambda x, filters, stride=1: residual.reference_block(x, filters, stride, variant)


def always_projected(x, filters, stride=1):
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, stride, "same", use_bias=False)(x)))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    shortcut = layers.BatchNormalization()(layers.Conv2D(filters, 1, stride, use_bias=False)(x))
    return layers.ReLU()(layers.add([y, shortcut]))


def never_projected(x, filters, stride=1):
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, stride, "same", use_bias=False)(x)))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    return layers.ReLU()(layers.add([y, x]))


def with_biases(x, filters, stride=1):
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, stride, "same")(x)))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same")(y))
    shortcut = x
    if x.shape[-1] != filters or stride > 1:
        shortcut = layers.BatchNormalization()(layers.Conv2D(filters, 1, stride, use_bias=False)(x))
    return layers.ReLU()(layers.add([y, shortcut]))


def preactivation(x, filters, stride=1):
    y = layers.Conv2D(filters, 3, stride, "same", use_bias=False)(layers.ReLU()(layers.BatchNormalization()(x)))
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(layers.ReLU()(layers.BatchNormalization()(y)))
    shortcut = x
    if x.shape[-1] != filters or stride > 1:
        shortcut = layers.BatchNormalization()(layers.Conv2D(filters, 1, stride, use_bias=False)(x))
    return layers.add([y, shortcut])


def three_by_three_projection(x, filters, stride=1):
    y = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(filters, 3, stride, "same", use_bias=False)(x)))
    y = layers.BatchNormalization()(layers.Conv2D(filters, 3, padding="same", use_bias=False)(y))
    shortcut = x
    if x.shape[-1] != filters or stride > 1:
        shortcut = layers.BatchNormalization()(layers.Conv2D(filters, 3, stride, "same", use_bias=False)(x))
    return layers.ReLU()(layers.add([y, shortcut]))


@pytest.mark.parametrize(
    "block",
    [solution_block, shortcut_first_block, plus_operator_block, variant_block("right")],
    ids=["solution", "shortcut first, Add, Activation, epsilon", "+ operator", "reference"],
)
def test_residual_block_right_and_valid_alternatives_pass(block, capsys):
    residual.check_residual_block(block)
    found, hints = verdicts(capsys)
    assert len(found) == 3 and all(passed for _, passed in found), hints


@pytest.mark.parametrize(
    "block, failing, hint",
    [
        (variant_block("add_after_relu"), "before the last ReLU", "added after the last ReLU"),
        (variant_block("no_final_relu"), "before the last ReLU", "ends with a ReLU"),
        (variant_block("no_shortcut"), "before the last ReLU", "never reaches its output"),
        (variant_block("no_middle_relu"), "before the last ReLU", "a ReLU belongs between"),
        (variant_block("relu_before_norm"), "before the last ReLU", "followed by its batch normalisation"),
        (variant_block("norm_after_add"), "before the last ReLU", "belongs before the addition"),
        (variant_block("stride_on_second"), "before the last ReLU", "not the second"),
        (variant_block("projection_without_norm"), "the parameters", "the projection"),
        (preactivation, "before the last ReLU", "added after the last ReLU"),
        (never_projected, "output shapes", "project the shortcut with a 1×1 convolution"),
        (always_projected, "the parameters", "the shortcut is the identity"),
        (with_biases, "the parameters", "no bias"),
        (three_by_three_projection, "the parameters", "a 1×1 convolution, not 3×3"),
    ],
    ids=[
        "add after relu",
        "no final relu",
        "no shortcut",
        "no middle relu",
        "relu before norm",
        "norm after add",
        "stride on second",
        "projection without norm",
        "pre-activation",
        "no projection",
        "projection always",
        "biases",
        "3x3 projection",
    ],
)
def test_residual_block_wrong_answers_are_rejected_with_their_hint(block, failing, hint, capsys):
    residual.check_residual_block(block)
    found, hints = verdicts(capsys)
    failed = [item for item, passed in found if not passed]
    assert any(failing in item for item in failed), found
    assert any(hint in hints[item] for item in failed), hints


def test_a_block_that_returns_nothing_is_told_what_to_return(capsys):
    residual.check_residual_block(lambda x, filters, stride=1: None)
    found, hints = verdicts(capsys)
    assert not any(passed for _, passed in found)
    item = "residual_block: output shapes with and without a projection"
    assert "should return the block's output tensor" in hints[item]


# ---------------------------------------------------------------- part 3


def right_deep_network(depth, residual=True, width=64):
    inputs = keras.Input(shape=(64,))
    h = layers.Dense(width)(inputs)
    h = DenseStack(depth, residual=residual)(h)
    h = layers.ReLU()(layers.LayerNormalization()(h))
    return keras.Model(inputs, layers.Dense(10)(h))


def sequential_deep_network(depth, residual=True):
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            layers.Dense(64),
            DenseStack(depth, residual=residual),
            layers.LayerNormalization(),
            layers.Activation("relu"),
            layers.Dense(10),
        ]
    )


@pytest.mark.parametrize("build", [right_deep_network, sequential_deep_network])
def test_deep_network_right_and_sequential_pass(build, capsys):
    residual.check_deep_network(build)
    found, hints = verdicts(capsys)
    assert len(found) == 2 and all(passed for _, passed in found), hints


def softmax_network(depth, residual=True):
    inputs = keras.Input(shape=(64,))
    h = layers.ReLU()(layers.LayerNormalization()(DenseStack(depth, residual=residual)(layers.Dense(64)(inputs))))
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(h))


def no_final_norm(depth, residual=True):
    inputs = keras.Input(shape=(64,))
    return keras.Model(inputs, layers.Dense(10)(DenseStack(depth, residual=residual)(layers.Dense(64)(inputs))))


@pytest.mark.parametrize(
    "build, hint",
    [
        (lambda depth, residual: right_deep_network(depth, not residual), "holds a DenseStack with residual="),
        (lambda depth, residual: right_deep_network(depth + 1, residual), "holds a DenseStack of depth"),
        (lambda depth, residual: right_deep_network(depth, residual, width=32), "parameters"),
        (softmax_network, "return logits"),
        (no_final_norm, "a LayerNormalization and a ReLU"),
        (lambda depth, residual: "model", "should return a keras.Model"),
    ],
)
def test_deep_network_wrong_answers_are_rejected(build, hint, capsys):
    residual.check_deep_network(build)
    found, hints = verdicts(capsys)
    assert not all(passed for _, passed in found)
    assert any(hint in h for h in hints.values()), hints


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 64)).astype("float32")
    y = np.arange(64) % 10
    return x, y


def trained(depth, residual_, x, y, epochs, learning_rate, frozen=False):
    runtime.set_seed(0)
    model = right_deep_network(depth, residual_)
    if frozen:  # a constant output: one class for every input, as a plain network stuck at chance
        model.layers[1].kernel.assign(np.zeros(tuple(model.layers[1].kernel.shape), "float32"))
        model.layers[1].trainable = False  # the same optimiser and learning rate, and still stuck
    model.compile(keras.optimizers.Adam(learning_rate), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    return model, history


def loss_of(model, x, y):
    return residual._loss_and_accuracy(model, x, y)[0]


def test_degradation_right_answers_pass_and_history_losses_are_rejected(small_problem, capsys):
    x, y = small_problem
    plain, _ = trained(2, False, x, y, epochs=60, learning_rate=1e-2, frozen=True)
    fitted, history = trained(2, True, x, y, epochs=60, learning_rate=1e-2)
    residual.check_degradation(plain, fitted, x, y, loss_of(plain, x, y), loss_of(fitted, x, y), 0.98, 2)
    found, hints = verdicts(capsys)
    assert len(found) == 5 and all(passed for _, passed in found), hints
    residual.check_degradation(plain, fitted, x, y, loss_of(plain, x, y), history.history["loss"][0], 0.98, 2)
    found, hints = verdicts(capsys)
    assert not dict(found)["the reported losses are the networks' training losses"]
    assert "model.predict" in hints["the reported losses are the networks' training losses"]


def test_degradation_rejects_unequal_budgets_and_a_plain_network_that_learned(small_problem, capsys):
    x, y = small_problem
    plain, _ = trained(2, False, x, y, epochs=30, learning_rate=1e-2)
    fitted, _ = trained(2, True, x, y, epochs=60, learning_rate=1e-2)
    residual.check_degradation(plain, fitted, x, y, loss_of(plain, x, y), loss_of(fitted, x, y), 0.98, 2)
    found, hints = verdicts(capsys)
    assert not dict(found)["both networks trained with the same budget"]
    assert "same budget" in hints["both networks trained with the same budget"]
    assert not dict(found)["plain network of 2 blocks: training accuracy at chance level (at most 0.2)"]
    untrained = right_deep_network(2, False)
    residual.check_degradation(untrained, fitted, x, y, 2.3, 0.01, 0.98, 2)
    found, hints = verdicts(capsys)
    assert "has not been trained" in hints["both networks trained with the same budget"]
    for learning_rate in (1.0, keras.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.5)):  # 100x; a schedule
        other, _ = trained(2, False, x, y, epochs=60, learning_rate=learning_rate, frozen=True)
        residual.check_degradation(other, fitted, x, y, loss_of(other, x, y), loss_of(fitted, x, y), 0.98, 2)
        found, hints = verdicts(capsys)
        assert "same learning rate and schedule" in hints["both networks trained with the same budget"], hints


# ---------------------------------------------------------------- part 4


def right_lesions(model, stack, images, labels):
    accuracies = []
    for removed in range(stack.depth):
        keep = np.ones(stack.depth, dtype="float32")
        keep[removed] = 0
        stack.keep.assign(keep)
        accuracies.append(np.mean(np.argmax(model.predict(images, verbose=0), axis=1) == labels))
    stack.keep.assign(np.ones(stack.depth, dtype="float32"))
    return accuracies  # a list


def direct_call_lesions(model, stack, images, labels):
    """Valid: a direct call instead of predict, keras.ops instead of NumPy, keep set from a list."""
    result = []
    for removed in range(stack.depth):
        stack.keep.assign([0.0 if k == removed else 1.0 for k in range(stack.depth)])
        predicted = ops.argmax(model(images), axis=-1)
        same = ops.equal(predicted, ops.cast(labels, predicted.dtype))  # argmax is int32 on TensorFlow
        result.append(float(ops.mean(ops.cast(same, "float32"))))
    stack.keep.assign(np.ones(stack.depth, dtype="float32"))
    return np.array(result)


def not_restored(model, stack, images, labels):
    result = right_lesions(model, stack, images, labels)
    keep = np.ones(stack.depth, dtype="float32")
    keep[-1] = 0
    stack.keep.assign(keep)
    return result


def cumulative(model, stack, images, labels):
    keep = np.ones(stack.depth, dtype="float32")
    result = []
    for removed in range(stack.depth):
        keep[removed] = 0  # never put back: removals pile up
        stack.keep.assign(keep)
        result.append(np.mean(np.argmax(model.predict(images, verbose=0), axis=1) == labels))
    stack.keep.assign(np.ones(stack.depth, dtype="float32"))
    return np.array(result)


def drops(model, stack, images, labels):
    intact = np.mean(np.argmax(model.predict(images, verbose=0), axis=1) == labels)
    return intact - np.array(right_lesions(model, stack, images, labels))


def shifted(model, stack, images, labels):
    return np.roll(right_lesions(model, stack, images, labels), 1)


def percent(model, stack, images, labels):
    return 100 * np.array(right_lesions(model, stack, images, labels))


@pytest.mark.parametrize("function", [right_lesions, direct_call_lesions])
def test_lesion_function_right_and_valid_alternatives_pass(function, capsys):
    residual.check_lesion_function(function)
    assert only(capsys)[1]


def test_the_probe_network_has_lesions_that_differ():
    model, stack, images, labels = residual._probe_network()
    accuracies = residual.reference_lesions(model, stack, images, labels)
    assert len(set(np.round(accuracies, 3))) >= 4  # a shifted or cumulative answer cannot match by luck


@pytest.mark.parametrize(
    "function, hint",
    [
        (not_restored, "every block should be back"),
        (cumulative, "block k alone switched off"),
        (drops, "not its change"),
        (shifted, "check which block you remove"),
        (percent, "fractions"),
    ],
)
def test_lesion_function_wrong_answers_are_rejected_with_their_hint(function, hint, capsys):
    residual.check_lesion_function(function)
    _, passed, given = only(capsys)
    assert not passed and hint in given, given


def test_lesion_result_is_measured_again_and_judged(capsys):
    model, stack, images, labels = residual._probe_network(seed=1)
    accuracies = residual.reference_lesions(model, stack, images, labels)
    intact = np.mean(np.argmax(model.predict(images, verbose=0), axis=1) == labels)
    residual.check_lesion_result(accuracies, model, images, labels, intact)
    found, _ = verdicts(capsys)
    assert dict(found)["the lesions measured on the trained residual network"]
    robust = "removing one block costs at most 0.05 of test accuracy (median block)"
    assert dict(found)[robust] == (np.median(accuracies) >= intact - 0.05)
    residual.check_lesion_result(accuracies, model, images, labels, np.median(accuracies) + 0.1)
    found, hints = verdicts(capsys)
    measured = "the lesions measured on the trained residual network"
    assert not dict(found)[measured] and "intact_accuracy should be" in hints[measured], hints
    residual.check_lesion_result(accuracies[::-1], model, images, labels, intact)
    found, hints = verdicts(capsys)
    assert not dict(found)["the lesions measured on the trained residual network"]


# ---------------------------------------------------------------- part 5

RIGHT = {"q1": "a", "q2": "b", "q3": {"a", "b"}}


@pytest.mark.parametrize("question", sorted(RIGHT))
def test_the_right_choices_pass_in_any_notation(question, capsys):
    answer = RIGHT[question]
    for form in (answer, sorted(answer) if isinstance(answer, set) else answer.upper(), " , ".join(sorted(answer))):
        residual.check_choice(question, form)
        assert only(capsys)[1]


@pytest.mark.parametrize(
    "question, letter",
    [
        (q, letter)
        for q, choice in sorted(residual.CHOICES.items())
        for letter in choice.options
        if letter not in choice.correct
    ],
)
def test_every_wrong_choice_is_rejected_with_its_own_feedback(question, letter, capsys):
    choice = residual.CHOICES[question]
    residual.check_choice(question, letter if not choice.multiple else set(choice.correct) | {letter})
    _, passed, hint = only(capsys)
    assert not passed and hint == f"({letter}) is not right: {choice.feedback[letter]}"


def test_half_of_a_multiple_answer_and_two_letters_for_one_are_rejected(capsys):
    residual.check_choice("q3", "a")
    assert "another statement is true" in only(capsys)[2]
    residual.check_choice("q1", {"a", "b"})
    assert "one right answer" in only(capsys)[2]
    residual.check_choice("q1", 1)
    assert "answer with letters" in only(capsys)[2]
    with pytest.raises(ValueError, match="unknown question"):
        residual.check_choice("q9", "a")


W = residual.BRANCH


@pytest.mark.parametrize(
    "answer", [np.eye(2) + W, (np.eye(2) + W).tolist(), keras.ops.convert_to_tensor(np.eye(2) + W)]
)
def test_the_jacobian_right_in_any_container_passes(answer, capsys):
    residual.check_jacobian(answer)
    assert only(capsys)[1]


@pytest.mark.parametrize(
    "answer, hint",
    [
        (W, "the branch's Jacobian alone"),
        (np.eye(2), "the shortcut's Jacobian alone"),
        (np.eye(2) + W.T, "row i holds"),
        (2 * W, "differentiate each"),
        (np.eye(3), "shape (2, 2)"),
    ],
)
def test_the_jacobian_wrong_answers_are_rejected(answer, hint, capsys):
    residual.check_jacobian(answer)
    _, passed, given = only(capsys)
    assert not passed and hint in given


def test_the_gradient_factors(capsys):
    residual.check_gradient_factors(0.5**50, 1.0)
    found, _ = verdicts(capsys)
    assert all(passed for _, passed in found) and len(found) == 2
    residual.check_gradient_factors(np.float32(0.5) ** 50, np.float64(1))
    found, _ = verdicts(capsys)
    assert all(passed for _, passed in found)
    for plain, hint in [
        (0.5 * 50, "multiplies one factor per layer"),
        (0.5**49, "count the layers"),
        (0.1, "multiply the gradient by 0.5"),
    ]:
        residual.check_gradient_factors(plain, 1.0)
        found, hints = verdicts(capsys)
        assert hint in hints["gradient factor through 50 plain layers"]
    for value, hint in [(0.0, "does not stop the gradient"), (50.0, "the factors multiply"), (0.5**50, "product")]:
        residual.check_gradient_factors(0.5**50, value)
        found, hints = verdicts(capsys)
        item = "gradient factor through 50 residual blocks whose branches contribute nothing"
        assert not dict(found)[item] and hint in hints[item]


def test_the_written_answer_is_recorded_never_graded(capsys):
    residual.record_written_answer("Because the Jacobian of x + F(x) is I plus something.")
    out = capsys.readouterr().out
    assert out.strip() == f"{checks.RECORDED} {residual.WRITTEN_ITEM} — {checks.RECORDED_NOTE}"
    assert checks.parse(out) == [(residual.WRITTEN_ITEM, None)]
    residual.record_written_answer("   ")
    assert checks.parse(capsys.readouterr().out) == [(residual.WRITTEN_ITEM, False)]

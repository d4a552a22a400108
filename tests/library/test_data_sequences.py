"""kerasdl.data's generated sequence tasks: the adding problem, motif sequences, vibration sequences."""

import re

import numpy as np
import pytest

from kerasdl import data

# ---------------------------------------------------------------- the adding problem


def test_adding_problem_shapes_markers_and_targets():
    x, y = data.adding_problem(500, 40, seed=3)
    assert x.shape == (500, 40, 2) and y.shape == (500, 1)
    assert x.dtype == np.float32 and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert values.min() >= -1.0 and values.max() <= 1.0
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :20].sum(axis=1) == 1) and np.all(markers[:, 20:].sum(axis=1) == 1)  # one per half
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1) / 2, rtol=1e-6, atol=1e-7)


def test_adding_problem_baseline_is_one_sixth_and_seeds_differ():
    x, y = data.adding_problem(20000, 10, seed=0)
    assert abs(np.mean(y**2) - 1 / 6) < 0.01  # the MSE of predicting 0
    again, _ = data.adding_problem(20000, 10, seed=0)
    other, _ = data.adding_problem(20000, 10, seed=1)
    assert np.array_equal(x, again) and not np.array_equal(x, other)


def test_adding_problem_markers_reach_both_ends():
    x, _ = data.adding_problem(5000, 12, seed=0)
    first_marked = x[..., 1].argmax(axis=1)
    last_marked = 11 - x[..., 1][:, ::-1].argmax(axis=1)
    assert first_marked.min() == 0 and last_marked.max() == 11


# ---------------------------------------------------------------- motif sequences


def test_motif_sequences_are_one_hot_and_every_class_contains_its_motif():
    x, y = data.motif_sequences(400, 20, num_symbols=10, num_classes=3, seed=1)
    assert x.shape == (400, 20, 10) and y.shape == (400,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert np.all(x.sum(axis=-1) == 1.0)
    assert set(np.unique(y)) == {0, 1, 2}
    symbols = x.argmax(axis=-1)  # (samples, length)
    motifs = {}
    for label in range(3):  # the motif is the 3-gram shared by every sequence of the class
        shared = None
        for row in symbols[y == label]:
            grams = {tuple(row[i : i + 3]) for i in range(18)}
            shared = grams if shared is None else shared & grams
        assert shared, f"class {label} has no motif in common"
        motifs[label] = shared
    assert not set.intersection(*motifs.values())


def test_motifs_depend_on_motif_seed_only():
    x1, y1 = data.motif_sequences(300, 8, num_symbols=6, num_classes=2, motif_length=4, seed=0)
    x2, y2 = data.motif_sequences(300, 8, num_symbols=6, num_classes=2, motif_length=4, seed=5)
    assert not np.array_equal(x1, x2)
    for label in (0, 1):
        grams1 = set.intersection(*[{tuple(r[i : i + 4]) for i in range(5)} for r in x1[y1 == label].argmax(-1)])
        grams2 = set.intersection(*[{tuple(r[i : i + 4]) for i in range(5)} for r in x2[y2 == label].argmax(-1)])
        assert grams1 & grams2  # the same motif in both sets


# ---------------------------------------------------------------- vibration sequences


def test_vibration_sequences_scales_and_labels():
    x, y = data.vibration_sequences(600, 60, seed=0)
    assert x.shape == (600, 60, 3) and y.shape == (600,)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1} and 0.4 < y.mean() < 0.6
    temperature, pressure, vibration = x[..., 0], x[..., 1], x[..., 2]
    assert 15 < temperature.min() and temperature.max() < 85
    assert 960 < pressure.min() and pressure.max() < 1040
    assert np.abs(vibration).max() < 2.0


def test_a_faulty_machine_vibrates_faster_in_the_last_third():
    x, y = data.vibration_sequences(1000, 60, seed=1)
    tail = x[:, 40:, 2]  # (samples, 20): after every fault has started
    crossings = np.sum(np.diff(np.sign(tail), axis=1) != 0, axis=1)  # zero crossings: twice the frequency
    assert crossings[y == 1].mean() > 1.6 * crossings[y == 0].mean()
    head = x[:, :18, 2]  # before any fault
    head_crossings = np.sum(np.diff(np.sign(head), axis=1) != 0, axis=1)
    assert abs(head_crossings[y == 1].mean() - head_crossings[y == 0].mean()) < 0.5


# ---------------------------------------------------------------- bad arguments

BAD = [
    (lambda: data.adding_problem(0, 10), "num_samples must be at least 1, got 0"),
    (lambda: data.adding_problem(10, 1), "length must be at least 2"),
    (lambda: data.adding_problem(10, 2.5), "length must be a whole number, got 2.5"),
    (lambda: data.motif_sequences(10, 2), "length must be at least motif_length = 3, got 2"),
    (lambda: data.motif_sequences(10, 9, num_symbols=2, num_classes=9), "9 classes need 9 distinct motifs"),
    (lambda: data.vibration_sequences(10, 5), "length must be at least 12 steps"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m.split()[0] + str(i) for i, (_, m) in enumerate(BAD)])
def test_bad_arguments_raise_value_error_saying_what_to_do(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()

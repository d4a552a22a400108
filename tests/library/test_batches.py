"""kerasdl.batches.ImageBatches: full, reshuffled, freshly augmented batches as NumPy arrays."""

import subprocess
import sys

import numpy as np
import pytest

from helpers import ROOT

IMAGES = np.arange(10 * 2 * 2, dtype=np.float32).reshape(10, 2, 2, 1)  # (10, 2, 2, 1): image i holds 4i..4i+3
LABELS = np.arange(10)


def ImageBatches(*args, **kwargs):
    from kerasdl.batches import ImageBatches as cls

    return cls(*args, **kwargs)


class Recorder:
    """An augmentation that adds 1000 and remembers each call's batch size and `training` flag."""

    def __init__(self):
        self.calls = []

    def __call__(self, images, training=False):
        self.calls.append((len(images), training))
        return images + 1000.0


def test_every_batch_is_full_and_pairs_images_with_their_labels():
    batches = ImageBatches(IMAGES, LABELS, batch_size=4, seed=0)
    assert len(batches) == 2  # 10 images: two full batches, the last 2 images wait for another epoch
    for index in range(len(batches)):
        images, labels = batches[index]
        assert images.shape == (4, 2, 2, 1) and labels.shape == (4,)
        assert isinstance(images, np.ndarray) and isinstance(labels, np.ndarray)
        np.testing.assert_array_equal(images[:, 0, 0, 0], 4 * labels)  # still the right label
    with pytest.raises(IndexError):
        batches[2]


def test_each_epoch_draws_a_new_order():
    batches = ImageBatches(IMAGES, LABELS, batch_size=5, seed=0)
    first = np.concatenate([batches[i][1] for i in range(len(batches))])
    batches.on_epoch_end()
    second = np.concatenate([batches[i][1] for i in range(len(batches))])
    assert sorted(first) == sorted(second) == list(range(10))
    assert not np.array_equal(first, second)
    again = ImageBatches(IMAGES, LABELS, batch_size=5, seed=0)
    np.testing.assert_array_equal(np.concatenate([again[i][1] for i in range(2)]), first)  # same seed, same order


def test_augmentation_runs_in_training_mode_once_per_chunk_per_epoch():
    augment = Recorder()
    batches = ImageBatches(IMAGES, LABELS, batch_size=4, augment=augment, seed=0, augment_chunk=3)
    assert augment.calls == [(3, True), (3, True), (2, True)]  # the 8 images of the epoch, 3 at a time
    images, labels = batches[0]
    np.testing.assert_array_equal(images[:, 0, 0, 0], 4 * labels + 1000.0)
    batches.on_epoch_end()
    assert len(augment.calls) == 6  # fresh transformations every epoch
    np.testing.assert_array_equal(IMAGES[:, 0, 0, 0], 4 * LABELS)  # the originals are untouched


def test_keras_preprocessing_layers_transform_each_image_differently():
    import keras

    augment = keras.Sequential([keras.layers.RandomTranslation(0.5, 0.5, fill_mode="constant", seed=1)])
    same = np.repeat(np.eye(6, dtype=np.float32)[np.newaxis, :, :, np.newaxis], 8, axis=0)  # (8, 6, 6, 1)
    images, _ = ImageBatches(same, np.zeros(8), batch_size=8, augment=augment)[0]
    assert images.shape == (8, 6, 6, 1)
    assert len({image.tobytes() for image in images}) > 1


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((IMAGES, LABELS[:9], 4), "10 images and 9 labels"),
        ((IMAGES, LABELS, 0), "batch_size must be a whole number of at least 1"),
        ((IMAGES, LABELS, 2.5), "batch_size must be a whole number"),
        ((IMAGES, LABELS, 11), "batch_size 11 is larger than the 10 images"),
    ],
)
def test_bad_arguments_say_what_to_pass(arguments, message):
    with pytest.raises(ValueError, match=message):
        ImageBatches(*arguments)


def test_bad_augmentation_settings_say_what_to_pass():
    with pytest.raises(ValueError, match="augment must be a callable"):
        ImageBatches(IMAGES, LABELS, 4, augment="flip")
    with pytest.raises(ValueError, match="augment_chunk must be"):
        ImageBatches(IMAGES, LABELS, 4, augment_chunk=0)


def test_importing_kerasdl_does_not_load_it():
    code = (
        "import sys, kerasdl, kerasdl.data, kerasdl.plots; "
        "print('kerasdl.batches' in sys.modules, 'keras' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.split() == ["False", "False"]

"""ImageBatches: shuffled, optionally augmented batches of NumPy images for `fit`.

This is the one library module that imports keras at its top: `ImageBatches`
subclasses `keras.utils.PyDataset`, so the class can only be defined once
keras is loaded. `import kerasdl` never imports it; a notebook imports it
explicitly, after choosing its backend: `from kerasdl.batches import ImageBatches`.

Augmenting here, in the input pipeline, instead of with preprocessing layers
inside the model keeps the model compilable (JAX's `jit`, XLA) and free of
augmentation at inference; and unlike `tf.data`, it pulls no TensorFlow into
JAX or PyTorch runs.
"""

import keras
import numpy as np


class ImageBatches(keras.utils.PyDataset):
    """Full batches of (images, labels) as NumPy arrays, reshuffled and freshly augmented every epoch.

    `augment` is any callable taking a batch and `training=True`, typically a
    `keras.Sequential` of preprocessing layers (RandomTranslation, RandomRotation, ...).
    It transforms the epoch's images `augment_chunk` at a time, each image differently:
    preprocessing layers run op by op, so a few large calls cost far less than one per batch.
    The last partial batch is dropped: every batch has one shape, so a compiled
    training step is traced once.
    """

    def __init__(self, images, labels, batch_size, augment=None, seed=0, augment_chunk=1024, **kwargs):
        super().__init__(**kwargs)  # workers, use_multiprocessing, max_queue_size
        images, labels = np.asarray(images), np.asarray(labels)
        if len(images) != len(labels):
            raise ValueError(f"got {len(images)} images and {len(labels)} labels: give one label per image")
        for value, name in ((batch_size, "batch_size"), (augment_chunk, "augment_chunk")):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if batch_size > len(images):
            raise ValueError(
                f"batch_size {batch_size} is larger than the {len(images)} images: use a smaller batch_size"
            )
        if augment is not None and not callable(augment):
            raise ValueError(
                "augment must be a callable such as a keras.Sequential of preprocessing layers, "
                f"got {type(augment).__name__}"
            )
        self.images, self.labels = images, labels
        self.batch_size, self.augment, self.augment_chunk = int(batch_size), augment, int(augment_chunk)
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self):
        """Return the number of full batches per epoch."""
        return len(self.images) // self.batch_size

    def __getitem__(self, index):
        """Return batch `index` as (images (batch, height, width, channels), labels (batch,))."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        chosen = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.epoch_images[chosen], self.epoch_labels[chosen]

    def on_epoch_end(self):
        """Draw the next epoch's order and, with `augment`, its transformed images."""
        order = self.rng.permutation(len(self.images))[: len(self) * self.batch_size]  # (used,)
        images = self.images[order]  # (used, height, width, channels)
        if self.augment is not None:
            images = np.concatenate(
                [
                    keras.ops.convert_to_numpy(self.augment(images[start : start + self.augment_chunk], training=True))
                    for start in range(0, len(images), self.augment_chunk)
                ]
            )  # same shape, each image transformed
        self.epoch_images, self.epoch_labels = images, self.labels[order]

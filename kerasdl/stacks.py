"""DenseStack: `depth` identical dense blocks, plain or residual, run as one loop.

A deep network built layer by layer with the Functional API is a graph of hundreds of
layers: JAX and TensorFlow take longer to compile its training step than to train it on
a small dataset, and PyTorch pays Python overhead for every layer it calls. DenseStack
keeps the weights of all its blocks in stacked arrays (the kernels as one array of shape
(depth, width, width)) and applies one block function to them in turn with
`keras.ops.scan`: the arithmetic of `depth` separate Dense layers, compiled once
whatever the depth.

Like kerasdl.batches, this module imports keras at its top (it defines a Layer):
`import kerasdl` never imports it; a notebook imports it after choosing its backend,
`from kerasdl.stacks import DenseStack`.
"""

import math
import operator

import keras
from keras import ops

ORDERS = ("pre", "post")
EPSILON = 1e-3  # keras.layers.LayerNormalization's default


def layer_norm(values, gamma, beta):
    """Return `values` normalised over the last axis (mean 0, variance 1), times gamma plus beta."""
    mean = ops.mean(values, axis=-1, keepdims=True)
    variance = ops.var(values, axis=-1, keepdims=True)
    return (values - mean) * ops.rsqrt(variance + EPSILON) * gamma + beta


@keras.saving.register_keras_serializable(package="kerasdl")
class DenseStack(keras.layers.Layer):
    """`depth` dense blocks as wide as the input: residual or plain, pre- or post-activation.

    One block maps h to h_next (W, b: that block's kernel and bias; norm: layer
    normalisation with that block's gamma and beta):

        order="pre"  (He et al. 2016)   branch = relu(norm(h)) @ W + b
                                        h_next = h + branch        (residual)
                                        h_next = branch            (plain)
        order="post" (He et al. 2015)   branch = norm(h @ W + b)
                                        h_next = relu(h + branch)  (residual)
                                        h_next = relu(branch)      (plain)

    `normalize=False` leaves norm out. Kernels start as keras.layers.Dense's do (Glorot
    uniform, block by block), biases at zero. `keep` is a non-trainable vector of ones,
    one per block: setting keep[k] to 0 removes block k (its input passes through
    unchanged), so a lesion experiment needs no new model.
    """

    def __init__(self, depth, residual=True, order="pre", normalize=True, **kwargs):
        super().__init__(**kwargs)
        try:
            depth = operator.index(depth) if not isinstance(depth, bool) else None
        except TypeError:
            depth = None
        if depth is None:
            raise ValueError(f"depth must be a whole number of blocks, got {depth!r}")
        if depth < 1:
            raise ValueError(f"depth must be at least 1 block, got {depth}")
        if order not in ORDERS:
            raise ValueError(f"order must be 'pre' (2016, normalise first) or 'post' (2015), got {order!r}")
        self.depth, self.residual, self.order, self.normalize = depth, bool(residual), order, bool(normalize)

    def build(self, input_shape):
        width = input_shape[-1]
        if width is None:
            raise ValueError(
                f"DenseStack needs a known last axis (the width of every block); got input shape {tuple(input_shape)}"
            )
        limit = math.sqrt(6.0 / (width + width))  # Glorot uniform for one (width, width) kernel
        self.kernel = self.add_weight(
            shape=(self.depth, width, width), name="kernel", initializer=keras.initializers.RandomUniform(-limit, limit)
        )
        self.bias = self.add_weight(shape=(self.depth, width), initializer="zeros", name="bias")
        if self.normalize:
            self.gamma = self.add_weight(shape=(self.depth, width), initializer="ones", name="gamma")
            self.beta = self.add_weight(shape=(self.depth, width), initializer="zeros", name="beta")
        self.keep = self.add_weight(shape=(self.depth,), initializer="ones", trainable=False, name="keep")

    def compute_output_shape(self, input_shape):
        return input_shape

    def block(self, h, weights):
        """Return the output of one block for its input h (batch, width) and its `weights`."""
        kernel, bias, gamma, beta = weights

        def norm(values):
            return layer_norm(values, gamma, beta) if self.normalize else values

        if self.order == "pre":
            branch = ops.matmul(ops.relu(norm(h)), kernel) + bias  # (batch, width)
            return h + branch if self.residual else branch
        branch = norm(ops.matmul(h, kernel) + bias)  # (batch, width)
        return ops.relu(h + branch if self.residual else branch)

    def _run(self, inputs, every_block):
        def step(h, weights):
            *block_weights, keep = weights
            h_next = self.block(h, block_weights)
            h_next = h + keep * (h_next - h)  # keep = 0: the block is removed, h passes through
            return h_next, (h_next if every_block else None)

        variables = [self.kernel, self.bias]
        # without normalisation, the bias stands in for gamma and beta, which block() ignores
        variables += [self.gamma, self.beta] if self.normalize else [self.bias, self.bias]
        stacked = [ops.convert_to_tensor(v) for v in variables + [self.keep]]
        return ops.scan(step, ops.convert_to_tensor(inputs), stacked)  # one block per slice along axis 0

    def call(self, inputs):
        outputs, _ = self._run(inputs, every_block=False)
        return outputs  # (batch, width)

    def block_outputs(self, inputs):
        """Return the output of every block for `inputs` (batch, width), as an array (depth, batch, width)."""
        if not self.built:
            raise ValueError("call the layer (or the model holding it) once before asking for its block outputs")
        _, every = self._run(inputs, every_block=True)
        return every

    def get_config(self):
        return {
            **super().get_config(),
            "depth": self.depth,
            "residual": self.residual,
            "order": self.order,
            "normalize": self.normalize,
        }

"""value_and_grad for every Keras backend, like jax.value_and_grad.

Keras 3 has no backend-agnostic gradient function, so this module dispatches to
tf.GradientTape, torch.autograd or jax.value_and_grad. It is one of the two
places in the kit that branch on the backend (kerasdl.runtime is the other).

Dtypes: every differentiated value, and every NumPy float array among the
other arguments, is converted to a tensor of keras.config.floatx() (float32
by default) on every backend, NumPy float64 included, so `fn` sees one float
dtype and values and gradients have that dtype everywhere (TensorFlow refuses
to add float64 to float32; JAX has no float64 unless x64 is enabled). A
keras.Variable is differentiated through its current value: `fn` receives a
tensor in its place. A gradient with respect to an argument `fn` does not use
is zeros, on every backend.
"""

import keras
import numpy as np
from keras import ops

from kerasdl.errors import BackendError


def value_and_grad(fn, argnums=0):
    """Return a function g(*args) -> (value, grads): fn's scalar value and its gradients.

    grads is the gradient for `argnums` if it is an int, or a tuple of
    gradients if it is a tuple. An argument that is a list or tuple of
    tensors gets a gradient list or tuple of the same structure.
    """
    if not callable(fn):
        raise ValueError(f"value_and_grad needs a function, got {type(fn).__name__}")
    positions = _positions(argnums)

    def value_and_grad_fn(*args):
        for position in positions:
            if position >= len(args):
                raise ValueError(
                    f"argnums={argnums!r} asks for argument {position}, but the function "
                    f"was called with {len(args)} argument(s) (numbered from 0)"
                )
        args = [arg if position in positions else _numpy_floats_to_floatx(arg) for position, arg in enumerate(args)]
        leaves = [_float_tensor(leaf, position) for position in positions for leaf in _flatten(args[position])]

        def call(leaf_tensors):
            # Put the differentiated tensors where their arguments were, then call fn.
            remaining = iter(leaf_tensors)
            new_args = list(args)
            for position in positions:
                new_args[position] = _rebuild(args[position], remaining)
            return _scalar(fn(*new_args))

        try:
            value, leaf_grads = _dispatch()(call, leaves)
        except _OutputError as error:
            # Report it here, not from inside the framework's machinery.
            raise ValueError(str(error)) from None
        remaining = iter(leaf_grads)
        grads = tuple(_rebuild(args[position], remaining) for position in positions)
        return value, (grads if isinstance(argnums, (tuple, list)) else grads[0])

    return value_and_grad_fn


def _positions(argnums):
    """Return argnums as a tuple of distinct non-negative ints, or raise ValueError."""
    many = isinstance(argnums, (tuple, list))
    positions = tuple(argnums) if many else (argnums,)
    if (many and not positions) or not all(
        isinstance(p, (int, np.integer)) and not isinstance(p, bool) and p >= 0 for p in positions
    ):
        raise ValueError(f"argnums must be an argument position (int >= 0) or a tuple of them, got {argnums!r}")
    if len(set(positions)) != len(positions):
        raise ValueError(f"argnums {argnums!r} repeats a position; list each argument once")
    return tuple(int(p) for p in positions)


def _flatten(value):
    """Return the tensors in `value` (a tensor or a nested list/tuple of them) as a flat list."""
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def _rebuild(structure, leaves):
    """Return `structure` with each tensor replaced by the next item of the iterator `leaves`."""
    if isinstance(structure, (list, tuple)):
        items = [_rebuild(item, leaves) for item in structure]
        return items if isinstance(structure, list) else tuple(items)
    return next(leaves)


def _numpy_floats_to_floatx(value):
    """Return `value` with its NumPy float arrays (also inside lists/tuples) as floatx tensors."""
    leaves = [
        ops.convert_to_tensor(leaf.astype(keras.config.floatx()))
        if isinstance(leaf, np.ndarray) and np.issubdtype(leaf.dtype, np.floating)
        else leaf
        for leaf in _flatten(value)
    ]
    return _rebuild(value, iter(leaves))


def _float_tensor(leaf, position):
    """Return `leaf` as a floatx backend tensor; raise ValueError if it is not floating-point."""
    if not hasattr(leaf, "dtype"):
        leaf = np.asarray(leaf)  # a Python number
    dtype = keras.backend.standardize_dtype(leaf.dtype)
    if not keras.backend.is_float_dtype(dtype):
        raise ValueError(
            f"argument {position} has dtype {dtype}, but gradients need floating-point "
            "values; convert it with .astype('float32') or keras.ops.cast"
        )
    return ops.cast(ops.convert_to_tensor(leaf), keras.config.floatx())


class _OutputError(ValueError):
    """fn returned something that has no gradient: not a floating-point scalar."""


def _scalar(value):
    """Return `value` as a tensor if it is a floating-point scalar, else raise ValueError."""
    value = ops.convert_to_tensor(value)
    shape = tuple(ops.shape(value))
    if shape != ():
        raise _OutputError(
            f"the function must return a scalar, got shape {shape}; reduce it with keras.ops.sum or keras.ops.mean"
        )
    if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(value.dtype)):
        raise _OutputError(f"the function must return a floating-point scalar, got dtype {value.dtype}")
    return value


def _tensorflow(call, leaves):
    import tensorflow as tf

    leaves = [tf.identity(leaf) for leaf in leaves]  # plain tensors, never Variables
    with tf.GradientTape() as tape:
        for leaf in leaves:
            tape.watch(leaf)
        value = call(leaves)
    grads = tape.gradient(value, leaves, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    # A gather (ops.take) gives IndexedSlices; callers expect dense tensors.
    return value, [tf.convert_to_tensor(grad) for grad in grads]


def _torch(call, leaves):
    import torch

    leaves = [leaf.detach().clone().requires_grad_(True) for leaf in leaves]
    with torch.enable_grad():
        value = call(leaves)
    if value.requires_grad and leaves:
        grads = torch.autograd.grad(value, leaves, allow_unused=True)
    else:
        grads = [None] * len(leaves)  # fn ignores its differentiated arguments
    grads = [torch.zeros_like(leaf) if grad is None else grad for leaf, grad in zip(leaves, grads)]
    return value.detach(), grads


def _jax(call, leaves):
    import jax

    value, grads = jax.value_and_grad(call)(leaves)
    return value, list(grads)


_DISPATCH = {"tensorflow": _tensorflow, "torch": _torch, "jax": _jax}


def _dispatch():
    """Return the gradient routine of the active backend, or raise BackendError."""
    name = keras.config.backend()
    if name not in _DISPATCH:
        raise BackendError(
            f"value_and_grad supports the {', '.join(_DISPATCH)} backends, not {name!r}; "
            "set KERAS_BACKEND and restart the kernel"
        )
    return _DISPATCH[name]

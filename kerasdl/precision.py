"""Exact float32 matrix products for parity checks, on every backend.

On Ampere and Hopper GPUs, float32 work may run in TF32 (10 mantissa bits) by
default: JAX's matrix products and convolutions, PyTorch's cuDNN convolutions
and recurrent kernels (its plain matrix products stay float32 unless asked),
and TensorFlow's unless turned off. Measured on an H200, a from-scratch LSTM and Keras's
differed by up to 1.9e-4 (JAX) and 1.5e-4 (PyTorch), while with full
precision they agree to 1e-5. Comparisons of a from-scratch computation with a
framework's therefore run inside `exact_matmul()`:

    with precision.exact_matmul():
        keras_output = layer(x)

On a CPU it changes nothing. It imports only the active backend's framework.
"""

import contextlib


@contextlib.contextmanager
def exact_matmul():
    """Run the block with TF32 turned off for the active backend (full float32 products); restore after."""
    import keras

    name = keras.config.backend()
    if name == "jax":
        import jax

        with jax.default_matmul_precision("highest"):
            yield
    elif name == "torch":
        with _torch_ieee():
            yield
    elif name == "tensorflow":
        import tensorflow as tf

        before = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            yield
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(before)
    else:
        yield


@contextlib.contextmanager
def _torch_ieee():
    import torch

    backends = torch.backends
    if hasattr(backends, "fp32_precision"):
        # PyTorch 2.9+: a precision per backend and operator ("none" inherits from the parent).
        # The older allow_tf32 flags are kept in step: PyTorch raises when the two disagree.
        settings = [backends, backends.cuda.matmul, backends.cudnn, backends.cudnn.conv, backends.cudnn.rnn]
        before = [setting.fp32_precision for setting in settings]
        try:  # the old cuDNN flag must agree with the new settings, or reading it raises
            legacy = backends.cudnn.allow_tf32
        except RuntimeError:  # the caller already mixed old and new settings: leave the flag alone
            legacy = None
        if legacy is not None:
            backends.cudnn.allow_tf32 = False
        for setting in settings:
            setting.fp32_precision = "ieee"
        try:
            yield
        finally:
            if legacy is not None:
                backends.cudnn.allow_tf32 = legacy  # (resets conv and rnn, restored next)
            for setting, value in zip(settings, before):
                setting.fp32_precision = value
        return
    before = (backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32, torch.get_float32_matmul_precision())
    backends.cuda.matmul.allow_tf32 = False
    backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    try:
        yield
    finally:
        backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32 = before[:2]
        torch.set_float32_matmul_precision(before[2])


def _torch_tf32():
    """Return True when PyTorch would run float32 matmuls, convolutions or cuDNN RNNs as TF32."""
    import torch

    backends = torch.backends
    if hasattr(backends, "fp32_precision"):

        def effective(*chain):  # the first setting that is not "none", child first
            return next((s.fp32_precision for s in chain if s.fp32_precision != "none"), "ieee")

        return "tf32" in (
            effective(backends.cuda.matmul, backends),
            effective(backends.cudnn.conv, backends.cudnn, backends),
            effective(backends.cudnn.rnn, backends.cudnn, backends),
        )
    return backends.cudnn.allow_tf32 or torch.get_float32_matmul_precision() != "highest"


def tf32_active():
    """Return True when the active backend would run float32 matrix products as TF32 on its GPU now."""
    import keras

    from kerasdl import runtime

    if runtime.accelerator() is None:
        return False
    name = keras.config.backend()
    if name == "jax":
        import jax

        return jax.config.jax_default_matmul_precision in (None, "default", "bfloat16", "tensorfloat32")
    if name == "torch":
        return _torch_tf32()
    import tensorflow as tf

    return bool(tf.config.experimental.tensor_float_32_execution_enabled())

"""kerasdl.precision.exact_matmul: full float32 products inside the block, the old setting after.

The difference it makes shows only on an Ampere or newer GPU; these tests check, on any
machine, the switch each backend reads when it picks TF32 or full float32 kernels.
"""

import keras
import numpy as np
import pytest

from kerasdl import precision

from helpers import BACKEND


def tf32_switches():
    """Return the backend's TF32 settings, in a form that compares equal when nothing changed."""
    if BACKEND == "jax":
        import jax

        return jax.config.jax_default_matmul_precision
    if BACKEND == "torch":
        import torch

        # The effective settings: the legacy flags read back through either API.
        return (
            torch.get_float32_matmul_precision(),
            torch.backends.cuda.matmul.allow_tf32,
            torch.backends.cudnn.allow_tf32,
        )
    import tensorflow as tf

    return tf.config.experimental.tensor_float_32_execution_enabled()


def full_precision_inside():
    """Return True when the active backend would now run float32 products without TF32."""
    if BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        ones = jnp.ones((4, 4))
        lowered = jax.jit(lambda a, b: a @ b).lower(ones, ones).as_text()  # what XLA gets
        return "HIGHEST" in lowered
    if BACKEND == "torch":
        import torch

        rnn = torch.backends.cudnn.rnn.fp32_precision  # cuDNN's LSTM/GRU kernels
        conv = torch.backends.cudnn.conv.fp32_precision
        return (
            torch.get_float32_matmul_precision() == "highest"
            and not torch.backends.cuda.matmul.allow_tf32
            and rnn != "tf32"
            and conv != "tf32"
        )
    import tensorflow as tf

    return not tf.config.experimental.tensor_float_32_execution_enabled()


def test_full_precision_inside_and_the_setting_restored_after():
    before = tf32_switches()
    assert not full_precision_inside()  # the defaults allow TF32 (cuDNN's, on torch)
    with precision.exact_matmul():
        assert full_precision_inside()
    assert tf32_switches() == before
    assert not full_precision_inside()


def test_the_setting_is_restored_when_the_block_raises():
    before = tf32_switches()
    with pytest.raises(RuntimeError, match="inside"):
        with precision.exact_matmul():
            raise RuntimeError("inside")
    assert tf32_switches() == before


def test_a_keras_layer_inside_matches_a_float64_reference():
    # On a CPU this holds outside the block too; on a TF32 GPU only inside (errors ~1e-4 outside).
    layer = keras.layers.Dense(8)
    x = np.random.default_rng(0).normal(size=(4, 16)).astype("float32")
    with precision.exact_matmul():
        inside = keras.ops.convert_to_numpy(layer(x))
    kernel, bias = layer.get_weights()
    reference = x.astype("float64") @ kernel.astype("float64") + bias
    np.testing.assert_allclose(inside, reference, rtol=1e-5, atol=1e-5)


def test_tf32_active_is_false_without_a_gpu():
    from kerasdl import runtime

    if runtime.accelerator() is not None:
        pytest.skip("this machine has a GPU")
    assert precision.tf32_active() is False


def test_nested_blocks_restore_the_outer_setting_at_each_level():
    before = tf32_switches()
    with precision.exact_matmul():
        inside = tf32_switches()
        with precision.exact_matmul():
            assert full_precision_inside()
        assert tf32_switches() == inside and full_precision_inside()
    assert tf32_switches() == before


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's per-operator precision settings")
def test_torch_per_operator_settings_come_back_exactly():
    import torch

    backends = torch.backends
    if not hasattr(backends, "fp32_precision"):
        pytest.skip("PyTorch before 2.9 has only the allow_tf32 flags")
    settings = [backends, backends.cuda.matmul, backends.cudnn, backends.cudnn.conv, backends.cudnn.rnn]
    before = [setting.fp32_precision for setting in settings]  # e.g. none, none, none, tf32, tf32
    assert precision._torch_tf32()  # cuDNN's convolutions and RNNs default to TF32
    with precision.exact_matmul():
        assert {setting.fp32_precision for setting in settings} == {"ieee"}
        assert not precision._torch_tf32()
    assert [setting.fp32_precision for setting in settings] == before
    assert precision._torch_tf32()

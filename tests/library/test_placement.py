"""runtime.placement: where a model's variables live, replicated or sharded; and crossbackend.run's
`environment`, which is how a JAX process gets simulated devices."""

import numpy as np
import pytest

from kerasdl import crossbackend, runtime


def test_an_unsharded_model_has_one_full_copy_per_variable():
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(5, name="hidden")], name="tiny")
    rows = runtime.placement(model)
    assert [row["path"] for row in rows] == ["tiny/hidden/kernel", "tiny/hidden/bias"]
    assert [row["shape"] for row in rows] == [(3, 5), (5,)]
    assert [row["bytes_per_device"] for row in rows] == [3 * 5 * 4, 5 * 4]
    assert all(row["devices"] == 1 for row in rows)


SHARD = """
from keras import layers
from kerasdl import runtime

devices = keras.distribution.list_devices()
mesh = keras.distribution.DeviceMesh((1, len(devices)), ["batch", "model"], devices)
layout_map = keras.distribution.LayoutMap(mesh)
layout_map[".*wide/kernel"] = (None, "model")
keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(64, name="wide")], name="m")
outputs["devices"] = np.array(len(devices))
outputs["rows"] = np.array([[r["path"], r["devices"], r["bytes_per_device"]] for r in runtime.placement(model)])
"""


@pytest.mark.skipif(not crossbackend.installed("jax"), reason="needs JAX")
def test_a_sharded_kernel_shows_its_pieces_and_the_environment_reaches_the_process():
    done = crossbackend.run(SHARD, ["jax"], environment={"XLA_FLAGS": "--xla_force_host_platform_device_count=4"})
    assert int(done["jax"]["devices"]) == 4  # XLA_FLAGS arrived before JAX started
    rows = {path: (int(devices), int(size)) for path, devices, size in done["jax"]["rows"]}
    assert rows["m/wide/kernel"] == (4, 8 * 64 * 4 // 4)  # a quarter of the kernel on each device
    assert rows["m/wide/bias"] == (4, 64 * 4)  # not in the map: replicated, a full copy each


def test_image_grid_value_range_gives_constant_masks_a_visible_colour():
    from kerasdl import plots

    masks = np.stack([np.ones((4, 4)), np.zeros((4, 4))])
    figure = plots.image_grid(masks, cmap="Blues", value_range=(0, 1), show=False)
    images = [axis.get_images()[0] for axis in figure.axes if axis.get_images()]
    assert [image.get_clim() for image in images] == [(0, 1), (0, 1)]

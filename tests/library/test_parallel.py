"""kerasdl.parallel: a PyTorch process group of fresh processes (results back per rank, a failing rank
reported in one line, a hung group stopped), the collectives of a compiled XLA program, and chapter 06
run to the end on 1 and 4 devices."""

import subprocess
import sys
import time

import nbformat
import numpy as np
import pytest

from kerasdl import crossbackend, parallel
from kerasdl.course.exercises import is_check_cell
from kerasdl.parallel import ParallelError

from helpers import BACKEND, ROOT

needs_torch = pytest.mark.skipif(not crossbackend.installed("torch"), reason="PyTorch is not installed")
CHAPTER = ROOT / "chapters" / "06_training_past_one_device.ipynb"


def test_importing_kerasdl_parallel_loads_no_framework():
    code = (
        "import sys, kerasdl.parallel; "
        "print(sorted(m for m in ('keras', 'jax', 'torch', 'tensorflow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_free_port_gives_a_port_that_can_be_bound():
    import socket

    port = parallel.free_port()
    assert 0 < port < 65536
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))


@needs_torch
def test_every_rank_runs_the_code_in_one_group_and_returns_its_outputs():
    code = (
        "total = torch.tensor([float(rank + 1)])\n"
        "distributed.all_reduce(total)  # 1 + 2 on every rank\n"
        "outputs['total'] = total.numpy()\n"
        "outputs['rank'] = np.array([rank, world_size])\n"
        "outputs['device'] = np.array(str(device))\n"
        "outputs['keras_device'] = np.array(str(keras.ops.ones(1).device))\n"
        "outputs['x'] = inputs['x'] * (rank + 1)\n"
    )
    ranks = parallel.spawn(code, ["cpu", "cpu"], inputs={"x": np.arange(3)})
    assert len(ranks) == 2
    for rank, outputs in enumerate(ranks):
        np.testing.assert_array_equal(outputs["total"], [3.0])
        np.testing.assert_array_equal(outputs["rank"], [rank, 2])
        assert str(outputs["device"]) == str(outputs["keras_device"]) == "cpu"
        np.testing.assert_array_equal(outputs["x"], np.arange(3) * (rank + 1))


@needs_torch
def test_a_rank_that_raises_is_reported_in_one_line_and_the_group_is_stopped():
    code = "if rank == 1:\n    raise ValueError('rank 1 gives up')\ndistributed.barrier()  # rank 0 waits here\n"
    started = time.monotonic()
    with pytest.raises(ParallelError) as caught:
        parallel.spawn(code, ["cpu", "cpu"], rendezvous_timeout=300)
    assert str(caught.value) == "rank 1 (cpu) failed: ValueError: rank 1 gives up"
    assert time.monotonic() - started < 300  # rank 0 was stopped, not left waiting at the barrier


@needs_torch
def test_a_group_past_its_timeout_is_stopped_with_one_line():
    with pytest.raises(ParallelError) as caught:
        parallel.spawn("import time\ntime.sleep(600)", ["cpu"], timeout=3)
    assert str(caught.value) == "the process group ran past 3 s and was stopped: raise `timeout`"


@pytest.mark.parametrize(
    "code, devices, message",
    [
        ("", ["cpu"], "code must be a non-empty string"),
        ("x = 1", "cpu", "devices must be a non-empty list"),
        ("x = 1", [], "devices must be a non-empty list"),
        ("x = 1", ["gpu:0"], "devices must be 'cpu' or 'cuda:N'"),
        ("x = 1", ["cpu", "cuda:0"], "devices mix CPU and GPU"),
    ],
)
def test_spawn_rejects_bad_arguments_before_starting_anything(code, devices, message):
    with pytest.raises(ValueError, match=message):
        parallel.spawn(code, devices)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        parallel.spawn("x = 1", ["cpu"], timeout=0)


HLO = """
ENTRY %main {
  %all-reduce.7 = (f32[], f32[3,3,1,16]{3,2,1,0}, /*index=2*/f32[10]{0}) all-reduce(%a, %b, %c), channel_id=1
  %get-tuple-element.4 = f32[] get-tuple-element(%all-reduce.7), index=0
  %all-gather-start = ((f32[8,10]{1,0}), f32[16,10]{1,0}) all-gather-start(%x), dimensions={0}
  %all-gather-done = f32[16,10]{1,0} all-gather-done(%all-gather-start)
  %reduce-scatter.1 = bf16[4,2]{1,0} reduce-scatter(%y), dimensions={0}, to_apply=%add
  %dot.2 = f32[64,10]{1,0} dot(%h, %w), metadata={op_name="jit(step)/all-reduce(x)"}
  ROOT %all-to-all = (pred[3], s32[2]) all-to-all(%p, %q)
}
"""


def test_collectives_reads_each_operation_with_its_shapes_and_bytes():
    assert parallel.collectives(HLO) == [
        {"op": "all-reduce", "shapes": ["f32[]", "f32[3,3,1,16]", "f32[10]"], "bytes": 4 * (1 + 144 + 10)},
        {"op": "all-gather", "shapes": ["f32[16,10]"], "bytes": 640},  # the pair counted once, at -done
        {"op": "reduce-scatter", "shapes": ["bf16[4,2]"], "bytes": 16},
        {"op": "all-to-all", "shapes": ["pred[3]", "s32[2]"], "bytes": 3 + 8},
    ]
    assert parallel.collectives("%dot = f32[2,2] dot(%a, %b)") == []
    with pytest.raises(ValueError, match="text of a compiled program"):
        parallel.collectives(None)


@pytest.mark.once  # a fresh JAX process, whatever the backend
def test_collectives_finds_the_all_reduce_of_a_sum_over_a_sharded_batch():
    code = (
        "import jax\n"
        "from jax.sharding import Mesh, NamedSharding, PartitionSpec\n"
        "mesh = Mesh(np.array(jax.devices()[:2]), ('batch',))\n"
        "x = jax.device_put(np.ones((8, 3), 'float32'), NamedSharding(mesh, PartitionSpec('batch')))\n"
        "text = jax.jit(lambda x: x.sum(axis=0)).lower(x).compile().as_text()\n"
        "from kerasdl import parallel\n"
        "found = parallel.collectives(text)\n"
        "outputs['ops'] = np.array([c['op'] for c in found])\n"
        "outputs['bytes'] = np.array([c['bytes'] for c in found])\n"
    )
    flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    result = crossbackend.run(code, ["jax"], environment=flags)["jax"]
    assert list(result["ops"]) == ["all-reduce"]
    assert list(result["bytes"]) == [3 * 4]  # the (3,) partial sums, float32


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def _stderr(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")


@pytest.mark.notebook
@pytest.mark.parametrize("count", [1, 4])
def test_chapter_06_runs_to_the_end_on_one_and_four_devices_with_the_same_verdicts(count, tmp_path):
    import papermill

    output = tmp_path / CHAPTER.name
    papermill.execute_notebook(
        str(CHAPTER),
        str(output),
        kernel_name=f"kerasdl-{BACKEND}",
        parameters={"num_devices": count},
        cwd=str(CHAPTER.parent),
        execution_timeout=600,
        progress_bar=False,
    )
    stored = [c for c in nbformat.read(CHAPTER, as_version=4).cells if c.cell_type == "code"]
    executed = [
        c
        for c in nbformat.read(output, as_version=4).cells
        if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])
    ]
    assert [c.source for c in stored] == [c.source for c in executed]
    devices_line = _stdout(executed[2])
    assert devices_line.startswith(f"{count} device(s) for {BACKEND}"), devices_line
    for old, new in zip(stored, executed):
        assert not _stderr(new), f"`{new.source.splitlines()[0]}` wrote to stderr: {_stderr(new)[:300]}"
        if is_check_cell(old):
            assert _stdout(new) == _stdout(old), f"with {count} device(s): {_stdout(new)}"

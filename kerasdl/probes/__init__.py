"""Probes: the half of each check that runs beside the learner's code, and all of it that graded work gets.

A check in two halves (kerasdl.checks.ProbedCheck): a *probe* calls the learner's
functions on given inputs and returns plain data — arrays, numbers, strings, the one
line saying what a call raised — and never a verdict; a *judge* (in kerasdl.checks)
computes the references and the verdicts from the inputs and that data alone.

    Probe(name, inputs, probe, seed)     inputs(seed) -> {name: array}
                                         probe(*learner, inputs) -> plain data

In a learner's notebook both halves run in the kernel: the check prints its verdicts at
once. When grading (kerasdl.course.probed), only this package and the exercise's probe
module are in the sandbox. Before each check cell the grader arms the probes with a
seed per probe, drawn for that run and written into that cell alone (`arm`); the
probes then feed the learner's code inputs(seed) and display their data as one
kerasdl.probes.wire bundle of MIME type MIME (`emit`), which the grader reads back
from the cell's outputs and judges outside the sandbox, on inputs it rebuilds from the
same seed. The data never carries the inputs. A probe whose data was computed in the
learner's own cells (gradient norms plotted there, a timing) is `reported`: it keeps
its notebook seed, and the gradebook says its items were reported, not re-measured.

What a probe may import is this package, NumPy and the learner's own code: never
kerasdl.checks, never the kit's modules that implement an exercise's answers.
"""

import base64
from dataclasses import dataclass

from kerasdl.probes.values import CheckError, call, describe_error, expect_array, expect_tuple, kind, shape_text

MIME = "application/vnd.kerasdl.probe+zip;base64"  # a bundle's data: the wire bytes in base64
MAX_BUNDLE_BYTES = 8 * 2**20  # far above any answer's data, far below what a sandbox's output record carries
_armed = {}  # while grading: {"check": its number, "seeds": {probe name: seed}}


@dataclass(frozen=True)
class Probe:
    """One probe: its name (the check's, without `check_`), `inputs(seed)`, `probe(*learner, inputs)` and the
    seed a learner's notebook sees; `reported`: its data was computed in the learner's own cells."""

    name: str
    inputs: object
    probe: object
    seed: int = 0
    reported: bool = False


def arm(check, seeds):
    """Make the probes of check cell `check` emit their data for the grader, on inputs from `seeds` ({name: seed})."""
    _armed.clear()
    _armed.update(check=int(check), seeds={str(name): int(seed) for name, seed in seeds.items()})


def run(probe, learner):
    """Return probe.probe(*learner, inputs) on the notebook's inputs; while armed, emit it instead and return None."""
    if not _armed:
        return probe.probe(*learner, probe.inputs(probe.seed))
    seed = _armed["seeds"].get(probe.name, probe.seed)
    emit(_armed["check"], probe.name, probe.probe(*learner, probe.inputs(seed)))
    return None


def emit(check, name, data):
    """Display `data` as one probe bundle of check cell `check` (see MIME), for the grader to read back."""
    from IPython.display import display

    from kerasdl.probes import wire

    try:
        blob = wire.to_bytes({"check": check, "name": name, "data": data})
        if len(blob) > MAX_BUNDLE_BYTES:
            raise wire.WireError(f"the values come to {len(blob) / 2**20:.0f} MB, more than any answer here")
    except wire.WireError as error:  # the learner's values were too large or deep to carry
        blob = wire.to_bytes({"check": check, "name": name, "data": {"unsent": str(error)}})
    text = f"probe data of {name} for the grader ({len(blob):,} bytes)"
    display({MIME: base64.b64encode(blob).decode("ascii"), "text/plain": text}, raw=True)


def sandbox_checks(probes):
    """Return {"check_<name>": function} running each probe of `probes` ({name: Probe}) through `run`.

    A check module's stand-in in the sandbox: its check cells call the functions they always call.
    """

    def checker(probe):
        def check(*learner):
            run(probe, learner)

        check.__name__ = check.__qualname__ = f"check_{probe.name}"
        check.__doc__ = f"Probe the learner's code for the grader ({probe.name}): its data is judged outside."
        return check

    return {f"check_{name}": checker(probe) for name, probe in probes.items()}


# ---------------------------------------------------------------- probe data


def as_data(value):
    """Return a learner's value as probe data: a NumPy array of bools, integers or floats, or {"got": what it is}."""
    import numpy as np

    from kerasdl.probes import wire

    try:
        array = expect_array(value, finite=False)
    except CheckError as error:
        return {"got": str(error).removeprefix("expected an array, got ")}
    except Exception:  # a tensor that would not convert
        return {"got": kind(value)}
    if array.dtype.kind == "c":
        return {"got": "an array of complex numbers"}
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            return {"got": f"an array of dtype {array.dtype}"}
    if array.nbytes > wire.MAX_ARRAY_BYTES:
        return {"got": f"an array of shape {shape_text(array.shape)}, larger than any answer here"}
    return array.copy()  # the learner's code may change its own array after the call


def probe_call(function, args, count, what, keep=None):
    """Call function(*args) for a probe; return (record, results), where results is the tuple it returned or None.

    The record is plain data: {"values": [as_data(result) for the first `keep` results]}, or {"error": why there are
    none} when it raised or did not return a tuple of `count` (`what` names them). NotImplementedError propagates.
    """
    try:
        results = expect_tuple(call(function, *args), count, what)
    except CheckError as error:
        return {"error": str(error)}, None
    return {"values": [as_data(result) for result in results[:keep]]}, results


__all__ = ["MIME", "Probe", "arm", "as_data", "describe_error", "emit", "probe_call", "run", "sandbox_checks"]

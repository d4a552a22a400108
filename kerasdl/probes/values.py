"""How the kit reads a learner's values: one rule for every exercise, on both sides of a check.

The probes (kerasdl.probes), which run beside the learner's code, and the judges
(kerasdl.checks), which give the verdicts, read values with these helpers, so a value
is accepted or refused in the same words whichever side reads it.

- an array: a NumPy array, a backend tensor (JAX, PyTorch, TensorFlow), or a list or
  tuple of numbers (nested for more axes) that forms a rectangular array;
- a number: a Python or NumPy number, or an array or tensor holding exactly one value;
  a whole number (a count, a size, an id) may also be a float without a fraction (26.0);
- a shape: a tuple, a list or a 1-D integer array of whole numbers; one whole number is
  a one-axis shape (`(2304)` without its comma is just 2304);
- several results (a pair (x, y), the five gradients of a backward pass): a tuple or a
  list of that length, or for numbers a 1-D array of that length (np.array([mean, std]));
- never: a bool as a number, a str as an array or a number.

`expect_array`, `expect_number`, `expect_whole`, `expect_shape` and `expect_tuple`
return the value in one form (a NumPy array, a float, an int, a tuple of ints, a tuple)
or raise a CheckError that says what was expected and what came (`kind(value)` and
`article(name)` word it as it is read: "a list", "an ndarray", "an LSTM").

`call` is the one way a check calls a learner's function, in every exercise: what the
function prints or warns meanwhile is swallowed (a check cell shows its verdicts and
nothing else; a debugging print belongs in the learner's own cell), what it raises
becomes a CheckError naming the exception, and NotImplementedError, an unsolved part,
propagates.
"""

import math
import numbers


class CheckError(Exception):
    """What was wrong with a learner's value, in words a learner can act on (never the answer)."""


def call(function, *args, **kwargs):
    """Return function(*args, **kwargs), as a check calls learner code, or raise CheckError naming what it raised.

    What the function prints or warns meanwhile (a debugging print, model.predict's progress bar, a framework's
    warning) is swallowed: a check cell shows its verdicts and nothing else, on every backend. NotImplementedError,
    an unsolved part, propagates.
    """
    import contextlib
    import io
    import logging
    import warnings

    if not callable(function):
        raise CheckError(f"expected a function, got {kind(function)}")
    tensorflow_log = logging.getLogger("tensorflow")  # retracing warnings (a logger, not an import of TensorFlow)
    level = tensorflow_log.level
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            tensorflow_log.setLevel(logging.ERROR)
            return function(*args, **kwargs)
    except (NotImplementedError, CheckError):  # an unsolved part; a check's own tool the function misused
        raise
    except Exception as error:
        raise CheckError(f"{getattr(function, '__name__', 'your function')} {describe_error(error)}") from None
    finally:
        tensorflow_log.setLevel(level)


def describe_error(error):
    """Return "raised TypeError: <first line of the message>" for an exception, at most ~120 characters."""
    if isinstance(error, AssertionError) and not str(error).strip():
        return "the check's condition was false"
    message = (str(error).strip().splitlines() or [""])[0]
    if len(message) > 100:
        message = message[:97] + "..."
    return f"raised {type(error).__name__}: {message}" if message else f"raised {type(error).__name__}"


def kind(value):
    """Return what `value` is, with its article: "a list", "an ndarray", "an LSTM", "None"."""
    if isinstance(value, bool):
        return "a bool"
    if value is None:
        return "None"
    return article(type(value).__name__)


def article(name):
    """Return `name` with "a" or "an" before it, as it is read aloud: "an LSTM", "a GRU", "an ndarray"."""
    if len(name) > 1 and name[:2].isupper():  # an initialism, read letter by letter
        vowel_sound = name[0] in "AEFHILMNORSX"
    else:
        vowel_sound = name[:1].lower() in "aeiou" or name.startswith("nd")
    return f"{'an' if vowel_sound else 'a'} {name}"


def shape_text(shape):
    dims = ["N" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def to_numpy(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value
    if type(value).__module__.split(".")[0] in ("torch", "tensorflow", "jax", "jaxlib", "keras"):
        import keras  # a framework tensor: keras is already loaded in any notebook that made one

        return keras.ops.convert_to_numpy(value)
    return None


def _from_sequence(value, wanted):
    """Return a list or tuple of numbers (nested, or holding tensors) as a NumPy array, or raise CheckError."""
    import numpy as np

    def numbers_of(part):
        if isinstance(part, (list, tuple)):
            return [numbers_of(inner) for inner in part]
        array = to_numpy(part)
        if array is not None:
            return array
        if isinstance(part, bool) or not isinstance(part, numbers.Number):
            raise CheckError(f"expected {wanted}, got {kind(value)} holding {kind(part)}")
        return part

    try:
        return np.asarray(numbers_of(value))
    except ValueError:
        raise CheckError(f"expected {wanted}, got {kind(value)} whose rows have different lengths") from None


def expect_array(value, shape=None, finite=True):
    """Return `value` (a NumPy array, a backend tensor, or a list or tuple of numbers) as a NumPy array.

    Raise CheckError otherwise. `shape` is a tuple whose entries are sizes, or None / a
    name ("N") for any size. With `finite`, NaN or infinite values are an error too.
    """
    array = to_numpy(value)
    wanted = f"an array of shape {shape_text(shape)}" if shape is not None else "an array"
    if array is None and isinstance(value, (list, tuple)):
        array = _from_sequence(value, wanted)
    if array is None:
        raise CheckError(f"expected {wanted}, got {kind(value)}")
    if shape is not None:
        fits = len(array.shape) == len(shape) and all(
            not isinstance(want, int) or want == got for want, got in zip(shape, array.shape)
        )
        if not fits:
            raise CheckError(f"expected {wanted}, got shape {shape_text(array.shape)}")
    if finite and array.dtype.kind in "fc" and not bool(_all_finite(array)):
        raise CheckError("the array contains NaN or infinite values")
    return array


def _all_finite(array):
    import numpy as np

    return np.isfinite(array).all()


def expect_number(value, finite=True):
    """Return `value` as a float (a Python, NumPy or one-element framework number), or raise CheckError."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise CheckError(f"expected a number, got {kind(value)}")
    array = to_numpy(value)
    if array is not None:
        if array.size != 1:
            raise CheckError(f"expected a single number, got an array of shape {shape_text(array.shape)}")
        value = array.reshape(-1)[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CheckError(f"expected a number, got {kind(value)}") from None
    if finite and not math.isfinite(number):
        raise CheckError("expected a finite number, got NaN or infinity")
    return number


def expect_whole(value, what="the value"):
    """Return `value` as an int: an int, a NumPy integer, a float without a fraction (26.0) or a one-value array.

    Raise CheckError, naming `what`, for anything else.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        array = None if isinstance(value, bool) else to_numpy(value)
        if array is None or array.size != 1 or array.dtype.kind not in "iuf":
            raise CheckError(f"{what} should be a whole number, got {kind(value)}")
        value = array.reshape(-1)[0]
    if isinstance(value, numbers.Integral):
        return int(value)
    if not math.isfinite(value) or not float(value).is_integer():
        raise CheckError(f"{what} should be a whole number, got {float(value):g}")
    return int(value)


def expect_shape(value, what="the shape"):
    """Return `value` as a tuple of ints: a tuple, list or 1-D array of whole numbers, or one whole number.

    Raise CheckError, naming `what`, for anything else.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (int(value),)
    array = to_numpy(value)
    if array is not None:
        if array.ndim > 1:
            raise CheckError(
                f"{what} should be a tuple of sizes, such as (26, 26, 32) or (10,); "
                f"got an array of shape {shape_text(array.shape)}"
            )
        value = array.reshape(-1).tolist()
    if not isinstance(value, (list, tuple)):
        raise CheckError(f"{what} should be a tuple of sizes, such as (26, 26, 32) or (10,); got {kind(value)}")
    return tuple(expect_whole(size, f"each size in {what}") for size in value)


def expect_tuple(value, count, what):
    """Return `value` as a tuple when it is a tuple or list of `count` items, or a 1-D array of `count` numbers
    (np.array([mean, std]) for a pair); else raise CheckError. `what` names the items, e.g. "(next_h, cache)".
    """
    array = to_numpy(value) if not isinstance(value, (tuple, list)) else None
    if array is not None and array.ndim == 1 and len(array) == count and array.dtype.kind in "biuf":
        return tuple(array)
    if not isinstance(value, (tuple, list)) or len(value) != count:
        length = f" of {len(value)}" if isinstance(value, (tuple, list)) else ""
        raise CheckError(f"expected a tuple of {count}: {what}; got {kind(value)}{length}")
    return tuple(value)


def expect_close(value, expected, rtol=1e-5, atol=1e-8):
    """Return True if `value` matches `expected` (an array or number) within tolerance, else raise CheckError.

    The message gives the tolerance, never the expected values or the actual difference
    (those would give the answer away, and differ by backend).
    """
    import numpy as np

    expected = np.asarray(expected)
    if expected.ndim == 0:
        actual = np.asarray(expect_number(value))
    else:
        actual = expect_array(value, shape=expected.shape)
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        raise CheckError(f"values differ from the reference by more than rtol={rtol:g}, atol={atol:g}")
    return True

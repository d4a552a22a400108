"""Exercise checks: this verdict core, and one module per exercise.

cnn       01 CNN arithmetic          char_rnn  03 char-RNN text generation
bptt      02 BPTT by hand            sine      04 sine-wave LSTM
concepts  05 RNN concepts

The core prints verdict lines, `✔ item` or `✘ item — hint`, and reads them back.

A check cell prints one line per item and nothing that differs by backend or
profile, so its stored output is the answer key (`# NBVAL_CHECK_OUTPUT`) and
`kerasdl grade` can read the verdicts back with `parse`.

    _ = checks.verdict("add returns the sum", add(2, 3) == 5, hint="add a and b")
    _ = checks.check("windows have one row per step",
                     lambda: checks.expect_array(windows, shape=("N", 40)).shape[0] == 960,
                     hint="slide the window by one step")

A NotImplementedError is not caught: it means the learner has not written that
part yet, so the cell stops there and graders count its items as not attempted.

`verdict` and `check` return a bool: in a check cell, assign it (`_ = checks.check(...)`)
or call them from a function that returns None. A trailing `;` is not enough: nbval
runs cells without history, so IPython still displays the value (measured with
nbval 0.11 / IPython 9), and that extra output fails the checked cell.
"""

import math
import re

PASSED, FAILED = "✔", "✘"
DASH = " — "
_LINE = re.compile(rf"^\s*({PASSED}|{FAILED}) (.+?)(?:{DASH}(.*))?\s*$")


class CheckError(Exception):
    """What was wrong with a learner's value, in words a learner can act on (never the answer)."""


def _one_line(text):
    return " ".join(str(text).split())


def _line(item, passed, hint=""):
    item = _one_line(item)
    if not item or DASH.strip() in item:
        raise ValueError(f"a check item must be a non-empty name without '{DASH.strip()}', got {item!r}")
    if passed:
        return f"{PASSED} {item}"
    hint = _one_line(hint)
    return f"{FAILED} {item}{DASH}{hint}" if hint else f"{FAILED} {item}"


def verdict(item, passed, hint=""):
    """Print `✔ item` or `✘ item — hint` and return `passed` as a bool."""
    passed = bool(passed)
    print(_line(item, passed, hint), flush=True)
    return passed


def check(item, body, hint=""):
    """Run `body()` and print its verdict; return True when it passed.

    `body` passes by returning anything but False (NumPy's False counts as False). A CheckError becomes `✘ item — <its
    message>`; any other exception (a wrong type, shape, a NaN...) becomes `✘ item —
    <what was raised>` instead of crashing the cell. NotImplementedError propagates.
    """
    try:
        passed = not _is_false(body())
        problem = "" if passed else hint
    except NotImplementedError:
        raise
    except CheckError as error:
        passed, problem = False, _join(str(error), hint)
    except Exception as error:  # the learner's value broke the check: report it, don't crash
        passed, problem = False, _join(describe_error(error), hint)
    return verdict(item, passed, problem)


def _is_false(result):
    """Return True for False, NumPy's False, or a 0-d array holding False."""
    if result is False:
        return True
    import numpy as np

    return isinstance(result, (np.bool_, np.ndarray)) and np.ndim(result) == 0 and not bool(result)


def _join(problem, hint):
    return f"{problem}; {hint}" if hint and problem else problem or hint


def describe_error(error):
    """Return "raised TypeError: <first line of the message>" for an exception, at most ~120 characters."""
    if isinstance(error, AssertionError) and not str(error).strip():
        return "the check's condition was false"
    message = (str(error).strip().splitlines() or [""])[0]
    if len(message) > 100:
        message = message[:97] + "..."
    return f"raised {type(error).__name__}: {message}" if message else f"raised {type(error).__name__}"


def _kind(value):
    if isinstance(value, bool):
        return "a bool"
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _shape_text(shape):
    dims = ["N" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _to_numpy(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value
    if type(value).__module__.split(".")[0] in ("torch", "tensorflow", "jax", "jaxlib", "keras"):
        import keras  # a framework tensor: keras is already loaded in any notebook that made one

        return keras.ops.convert_to_numpy(value)
    return None


def expect_array(value, shape=None, finite=True):
    """Return `value` (a NumPy array or backend tensor) as a NumPy array, or raise CheckError.

    `shape` is a tuple whose entries are sizes, or None / a name ("N") for any size.
    With `finite`, NaN or infinite values are an error too.
    """
    array = _to_numpy(value)
    wanted = f"an array of shape {_shape_text(shape)}" if shape is not None else "an array"
    if array is None:
        raise CheckError(f"expected {wanted}, got {_kind(value)}")
    if shape is not None:
        fits = len(array.shape) == len(shape) and all(
            not isinstance(want, int) or want == got for want, got in zip(shape, array.shape))
        if not fits:
            raise CheckError(f"expected {wanted}, got shape {_shape_text(array.shape)}")
    if finite and array.dtype.kind in "fc" and not bool(_all_finite(array)):
        raise CheckError("the array contains NaN or infinite values")
    return array


def _all_finite(array):
    import numpy as np

    return np.isfinite(array).all()


def expect_number(value, finite=True):
    """Return `value` as a float (a Python, NumPy or one-element framework number), or raise CheckError."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise CheckError(f"expected a number, got {_kind(value)}")
    array = _to_numpy(value)
    if array is not None:
        if array.size != 1:
            raise CheckError(f"expected a single number, got an array of shape {_shape_text(array.shape)}")
        value = array.reshape(-1)[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CheckError(f"expected a number, got {_kind(value)}") from None
    if finite and not math.isfinite(number):
        raise CheckError("expected a finite number, got NaN or infinity")
    return number


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


def parse(text):
    """Return [(item, passed)] for every verdict line in `text`, in order."""
    found = []
    for line in str(text).splitlines():
        match = _LINE.match(line)
        if match:
            found.append((match.group(2).strip(), match.group(1) == PASSED))
    return found


def hints(text):
    """Return {item: hint} for the `✘` lines in `text` that carry a hint."""
    return {m.group(2).strip(): m.group(3).strip() for m in map(_LINE.match, str(text).splitlines())
            if m and m.group(1) == FAILED and m.group(3)}

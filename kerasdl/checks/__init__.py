"""Exercise checks: this verdict core, and one module per exercise.

cnn       01 CNN arithmetic          char_rnn  03 char-RNN text generation
bptt      02 BPTT by hand            sine      04 sine-wave LSTM
concepts  05 RNN concepts              attention 08 attention and a date reader
residual  07 residual blocks           gru_lstm  06 GRU vs LSTM, accuracy and speed

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

What a check accepts — one rule for every exercise, applied by the `expect_*` helpers:

- an array: a NumPy array, a backend tensor (JAX, PyTorch, TensorFlow), or a list or
  tuple of numbers (nested for more axes) that forms a rectangular array;
- a number: a Python or NumPy number, or an array or tensor holding exactly one value;
  a whole number (a count, a size, an id) may also be a float without a fraction (26.0);
- a shape: a tuple, a list or a 1-D integer array of whole numbers; one whole number is
  a one-axis shape (`(2304)` without its comma is just 2304);
- several results (a pair (x, y), the five gradients of a backward pass): a tuple or a
  list of that length;
- never: a bool as a number, a str as an array or a number.
`expect_array`, `expect_number`, `expect_whole`, `expect_shape` and `expect_tuple`
return the value in one form (a NumPy array, a float, an int, a tuple of ints, a tuple)
or raise a CheckError that says what was expected and what came (`article(name)` words
a type as it is read: "an ndarray", "an LSTM").

Hints say what is wrong and where to look, never the expression to type, and name the
part that failed (which gradient, which gate, which case), not a part that did not.

Multiple-choice questions: a module keeps its questions as `Choice`s and prints the
verdict with `choice_verdict(CHOICES, question, answer)`; `letters` reads an answer
("b", "a, c", {"a", "c"}, ["a", "c"]).

Written answers are not graded by the checks: `record_answer(item, answer, model_answer)`
prints `✎ item — recorded for your instructor` (neither ✔ nor ✘; `parse` reads its
`passed` as None) and, in a Jupyter kernel, displays a bundle of MIME type ANSWER_MIME
whose data is constant, `{"text/plain": "", ANSWER_MIME: {"item": item}}`, and whose
metadata holds the texts, `{ANSWER_MIME: {"item", "answer", "model_answer"}}`. nbval
compares data but not metadata, so a learner's wording never fails a checked cell;
`answers(outputs)` reads the texts back from a cell's outputs for a grader.
"""

import math
import numbers
import re
from dataclasses import dataclass, field

PASSED, FAILED, RECORDED = "✔", "✘", "✎"
DASH = " — "
RECORDED_NOTE = "recorded for your instructor"
ANSWER_MIME = "application/vnd.kerasdl.answer+json"
_LINE = re.compile(rf"^\s*({PASSED}|{FAILED}|{RECORDED}) (.+?)(?:{DASH}(.*))?\s*$")


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
    return verdict(item, *_outcome(body, hint))


def _outcome(body, hint):
    """Return (passed, what to print after the item) for `body()`, as `check` describes."""
    try:
        passed = not _is_false(body())
        return passed, "" if passed else hint
    except NotImplementedError:
        raise
    except CheckError as error:
        return False, _join(str(error), hint)
    except Exception as error:  # the learner's value broke the check: report it, don't crash
        return False, _join(describe_error(error), hint)


def call(function, *args, **kwargs):
    """Return function(*args, **kwargs), or raise CheckError naming what it raised; NotImplementedError propagates."""
    if not callable(function):
        raise CheckError(f"expected a function, got {_kind(function)}")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:
        raise CheckError(f"{getattr(function, '__name__', 'your function')} {describe_error(error)}") from None


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


def _from_sequence(value, wanted):
    """Return a list or tuple of numbers (nested, or holding tensors) as a NumPy array, or raise CheckError."""
    import numpy as np

    def numbers_of(part):
        if isinstance(part, (list, tuple)):
            return [numbers_of(inner) for inner in part]
        array = _to_numpy(part)
        if array is not None:
            return array
        if isinstance(part, bool) or not isinstance(part, numbers.Number):
            raise CheckError(f"expected {wanted}, got {_kind(value)} holding {_kind(part)}")
        return part

    try:
        return np.asarray(numbers_of(value))
    except ValueError:
        raise CheckError(f"expected {wanted}, got {_kind(value)} whose rows have different lengths") from None


def expect_array(value, shape=None, finite=True):
    """Return `value` (a NumPy array, a backend tensor, or a list or tuple of numbers) as a NumPy array.

    Raise CheckError otherwise. `shape` is a tuple whose entries are sizes, or None / a
    name ("N") for any size. With `finite`, NaN or infinite values are an error too.
    """
    array = _to_numpy(value)
    wanted = f"an array of shape {_shape_text(shape)}" if shape is not None else "an array"
    if array is None and isinstance(value, (list, tuple)):
        array = _from_sequence(value, wanted)
    if array is None:
        raise CheckError(f"expected {wanted}, got {_kind(value)}")
    if shape is not None:
        fits = len(array.shape) == len(shape) and all(
            not isinstance(want, int) or want == got for want, got in zip(shape, array.shape)
        )
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


def expect_whole(value, what="the value"):
    """Return `value` as an int: an int, a NumPy integer, a float without a fraction (26.0) or a one-value array.

    Raise CheckError, naming `what`, for anything else.
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        array = None if isinstance(value, bool) else _to_numpy(value)
        if array is None or array.size != 1 or array.dtype.kind not in "iuf":
            raise CheckError(f"{what} should be a whole number, got {_kind(value)}")
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
    array = _to_numpy(value)
    if array is not None:
        if array.ndim > 1:
            raise CheckError(
                f"{what} should be a tuple of sizes, such as (26, 26, 32) or (10,); "
                f"got an array of shape {_shape_text(array.shape)}"
            )
        value = array.reshape(-1).tolist()
    if not isinstance(value, (list, tuple)):
        raise CheckError(f"{what} should be a tuple of sizes, such as (26, 26, 32) or (10,); got {_kind(value)}")
    return tuple(expect_whole(size, f"each size in {what}") for size in value)


def expect_tuple(value, count, what):
    """Return `value` as a tuple when it is a tuple or list of `count` items, else raise CheckError.

    `what` names the items, e.g. "(next_h, cache)".
    """
    if not isinstance(value, (tuple, list)) or len(value) != count:
        length = f" of {len(value)}" if isinstance(value, (tuple, list)) else ""
        raise CheckError(f"expected a tuple of {count}: {what}; got {_kind(value)}{length}")
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


def parse(text):
    """Return [(item, passed)] for every verdict line in `text`, in order: passed is True for ✔,
    False for ✘ and None for ✎ (an answer recorded for the instructor)."""
    found = []
    for line in str(text).splitlines():
        match = _LINE.match(line)
        if match:
            found.append((match.group(2).strip(), {PASSED: True, FAILED: False}.get(match.group(1))))
    return found


def hints(text):
    """Return {item: hint} for the `✘` lines in `text` that carry a hint."""
    return {
        m.group(2).strip(): m.group(3).strip()
        for m in map(_LINE.match, str(text).splitlines())
        if m and m.group(1) == FAILED and m.group(3)
    }


# ---------------------------------------------------------------- written answers, read by the instructor


def answer_bundle(item, answer, model_answer):
    """Return (data, metadata): the display bundle of a recorded answer, its texts in the metadata only."""
    item = _one_line(item)
    _line(item, True)  # the same rule as for verdicts: a non-empty name without ' — '
    data = {"text/plain": "", ANSWER_MIME: {"item": item}}
    metadata = {ANSWER_MIME: {"item": item, "answer": answer, "model_answer": model_answer}}
    return data, metadata


def record_answer(item, answer, model_answer):
    """Print `✎ item — recorded for your instructor` and show the answer to a grader; return None.

    `answer` must be a str with some text in it; otherwise the line is `✘ item — <what to do>`
    and nothing is recorded. In a Jupyter kernel the bundle of `answer_bundle` is displayed
    (invisible: its only text is empty); elsewhere, only the line is printed.
    """
    data, metadata = answer_bundle(item, answer, model_answer)
    if not isinstance(answer, str) or not answer.strip():
        got = "an empty string" if isinstance(answer, str) else _kind(answer)
        verdict(item, False, f"write your answer as a string of one to three sentences, got {got}")
        return None
    print(f"{RECORDED} {data[ANSWER_MIME]['item']}{DASH}{RECORDED_NOTE}", flush=True)
    _publish(data, metadata)
    return None


def _publish(data, metadata):
    """Display a MIME bundle when running in a Jupyter kernel; do nothing elsewhere."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return
    from IPython.display import publish_display_data

    publish_display_data(data, metadata)


def answers(outputs):
    """Return [{"item", "answer", "model_answer"}] recorded in a cell's outputs (nbformat dicts), in order."""
    found = []
    for output in outputs or []:
        if ANSWER_MIME in (output.get("data") or {}):
            texts = (output.get("metadata") or {}).get(ANSWER_MIME) or {}
            found.append({key: texts.get(key) for key in ("item", "answer", "model_answer")})
    return found


@dataclass
class Choice:
    """A question answered by letters: the correct ones, and feedback for each wrong one."""

    item: str
    correct: frozenset
    options: str
    feedback: dict = field(default_factory=dict)

    @property
    def multiple(self):
        return len(self.correct) > 1


def letters(answer, options):
    """Return the set of letters in `answer` ("b", "a, c", {"a", "c"}, ["a", "c"]), or raise CheckError."""
    example = 'answer with letters, for example "b", or {"a", "c"} when several are true'
    if isinstance(answer, str):
        parts = [part for part in re.split(r"[\s,;/]+|\band\b", answer.strip().lower()) if part]
    elif isinstance(answer, (set, frozenset, list, tuple)):
        if not all(isinstance(part, str) for part in answer):
            raise CheckError(f"{example}; got a {type(answer).__name__} with something other than strings")
        parts = [part.strip().lower() for part in answer]
    else:
        raise CheckError(f"{example}; got {_kind(answer)}")
    parts = [part.strip("()[]'\".") for part in parts]
    if not parts or not all(len(part) == 1 and "a" <= part <= "z" for part in parts):
        raise CheckError(example)
    chosen = set(parts)
    unknown = sorted(chosen - set(options))
    if unknown:
        raise CheckError(f"there is no choice {', '.join(unknown)}: the choices are {', '.join(options)}")
    return chosen


def choice_verdict(choices, question, answer):
    """Print the verdict for the letters `answer` to `choices[question]`, a Choice; return whether it passed."""
    if question not in choices:
        raise ValueError(f"unknown question {question!r}: choose one of {', '.join(choices)}")
    choice = choices[question]

    def body():
        chosen = letters(answer, choice.options)
        if not choice.multiple and len(chosen) > 1:
            raise CheckError("this question has one right answer: choose one letter")
        wrong = sorted(chosen - choice.correct)
        if wrong:
            raise CheckError(f"({wrong[0]}) is not right: {choice.feedback[wrong[0]]}")
        if chosen != choice.correct:
            raise CheckError("what you chose is right, but another statement is true as well")

    return check(choice.item, body)


# ---------------------------------------------------------------- probes and judges (see kerasdl.checks.bptt)

MALFORMED = "the probe data is malformed"


@dataclass(frozen=True)
class ProbedCheck:
    """A check in two halves: `inputs(seed)` returns a dict of NumPy arrays; `probe(*learner, inputs)` calls the
    learner's code on them and returns plain data, never a verdict; `judge(inputs, data)` returns the verdict lines,
    computed from the inputs and that data alone."""

    inputs: object
    probe: object
    judge: object
    seed: object = 0  # the inputs a learner's notebook sees: inputs(seed)

    def run(self, *learner, seed=None):
        """Probe the learner's code and judge the data in this process; print the lines and return None."""
        inputs = self.inputs(self.seed if seed is None else seed)
        data = self.probe(*learner, inputs)
        for line in self.judge(inputs, data):
            print(line, flush=True)


def verdict_line(item, body, hint=""):
    """Return the line `check(item, body, hint)` would print, without printing it."""
    return _line(item, *_outcome(body, hint))


def as_data(value):
    """Return a learner's value as probe data: a NumPy array of bools, integers or floats, or {"got": what it is}."""
    import numpy as np

    try:
        array = expect_array(value, finite=False)
    except CheckError as error:
        return {"got": str(error).removeprefix("expected an array, got ")}
    except Exception:  # a tensor that would not convert
        return {"got": _kind(value)}
    if array.dtype.kind in "biuf":
        return array.copy()  # the learner's code may change its own array after the call
    if array.dtype.kind == "c":
        return {"got": "an array of complex numbers"}
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError):
        return {"got": f"an array of dtype {array.dtype}"}


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


def data_values(record, count):
    """Return the `count` values of a probe_call record; raise CheckError with its error, or when it is malformed."""
    if isinstance(record, dict) and set(record) == {"error"} and isinstance(record["error"], str):
        raise CheckError(clip(record["error"]))
    if not (isinstance(record, dict) and set(record) == {"values"} and isinstance(record["values"], list)):
        raise CheckError(f"{MALFORMED}: a call's record is {_kind(record)} without its values")
    if len(record["values"]) != count:
        raise CheckError(f"{MALFORMED}: {len(record['values'])} values where {count} were recorded")
    return record["values"]


def data_array(value, shape, name=""):
    """Return one value of probe data (see as_data) as a float64 array of `shape`, or raise CheckError.

    The words are expect_array's, after `name: ` when a name is given.
    """
    import numpy as np

    try:
        if isinstance(value, dict) and set(value) == {"got"} and isinstance(value["got"], str):
            raise CheckError(f"expected an array of shape {_shape_text(shape)}, got {clip(value['got'])}")
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            raise CheckError(f"{MALFORMED}: {_kind(value)} where an array of numbers was recorded")
        return expect_array(value, shape=shape).astype(np.float64)
    except CheckError as error:
        raise CheckError(f"{name}: {error}" if name else str(error)) from None


def clip(text, limit=200):
    """Return `text` on one line, without verdict marks, at most `limit` characters: a learner's (or forged) message."""
    text = _one_line(str(text).translate({ord(PASSED): None, ord(FAILED): None, ord(RECORDED): None}))
    return text if len(text) <= limit else text[: limit - 3] + "..."

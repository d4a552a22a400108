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

What a check accepts, and the one way it calls a learner's function (`call`), is
kerasdl.probes.values, imported here: `expect_array`, `expect_number`, `expect_whole`,
`expect_shape`, `expect_tuple`, `expect_close`, `kind`, `article`, CheckError.

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

import re
from dataclasses import dataclass, field

from kerasdl import probes
from kerasdl.probes.values import (  # noqa: F401 (the checks' vocabulary, used by every check module)
    CheckError,
    article,
    call,
    describe_error,
    expect_array,
    expect_close,
    expect_number,
    expect_shape,
    expect_tuple,
    expect_whole,
    kind,
    shape_text,
    to_numpy,
)

PASSED, FAILED, RECORDED = "✔", "✘", "✎"
DASH = " — "
RECORDED_NOTE = "recorded for your instructor"
ANSWER_MIME = "application/vnd.kerasdl.answer+json"
_LINE = re.compile(rf"^\s*({PASSED}|{FAILED}|{RECORDED}) (.+?)(?:{DASH}(.*))?\s*$")


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


def _is_false(result):
    """Return True for False, NumPy's False, or a 0-d array holding False."""
    if result is False:
        return True
    import numpy as np

    return isinstance(result, (np.bool_, np.ndarray)) and np.ndim(result) == 0 and not bool(result)


def _join(problem, hint):
    return f"{problem}; {hint}" if hint and problem else problem or hint


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
        got = "an empty string" if isinstance(answer, str) else kind(answer)
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
        raise CheckError(f"{example}; got {kind(answer)}")
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
    """A check in two halves: `probe`, a kerasdl.probes.Probe, calls the learner's code on its inputs and returns
    plain data, never a verdict; `judge(inputs, data)` returns the verdict lines, from the inputs and that data alone.
    """

    probe: object
    judge: object

    def run(self, *learner):
        """Probe the learner's code and judge the data in this process; print the lines and return None.

        While the grader has armed the probes (kerasdl.probes.arm), the data goes to the grader instead, which judges
        it in its own process: nothing is printed here.
        """
        data = probes.run(self.probe, learner)
        if data is not None:
            for line in self.judge(self.probe.inputs(self.probe.seed), data):
                print(line, flush=True)


def verdict_line(item, body, hint=""):
    """Return the line `check(item, body, hint)` would print, without printing it."""
    return _line(item, *_outcome(body, hint))


def data_values(record, count):
    """Return the `count` values of a probe_call record; raise CheckError with its error, or when it is malformed."""
    if isinstance(record, dict) and set(record) == {"error"} and isinstance(record["error"], str):
        raise CheckError(clip(record["error"]))
    if not (isinstance(record, dict) and set(record) == {"values"} and isinstance(record["values"], list)):
        raise CheckError(f"{MALFORMED}: a call's record is {kind(record)} without its values")
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
            raise CheckError(f"expected an array of shape {shape_text(shape)}, got {clip(value['got'])}")
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            raise CheckError(f"{MALFORMED}: {kind(value)} where an array of numbers was recorded")
        return expect_array(value, shape=shape).astype(np.float64)
    except CheckError as error:
        raise CheckError(f"{name}: {error}" if name else str(error)) from None


def clip(text, limit=200):
    """Return `text` on one line, without verdict marks, at most `limit` characters: a learner's (or forged) message."""
    text = _one_line(str(text).translate({ord(PASSED): None, ord(FAILED): None, ord(RECORDED): None}))
    return text if len(text) <= limit else text[: limit - 3] + "..."

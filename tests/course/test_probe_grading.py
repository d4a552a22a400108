"""Exercise 02 graded by probes and judges: no verdict is computed where the learner's code runs.

The seven ways a learner forged full marks when verdicts were computed in the
kernel, each built as a submission on top of functions that return None, score
what those functions earn (nothing); the honest solution scores full marks and
the unsolved exercise 0. A probe bundle forged from the kit run at home is judged
as what it holds, on the grader's inputs; a second bundle per probe is tampering.
Graded on the pass's backend, in every pass (exercise 02 is NumPy, the kernel is
the backend's).
"""

import base64
import copy
import json
import re

import nbformat
import pytest
from grading import needs_bwrap, run_cli
from nbformat.v4 import new_code_cell

from kerasdl import checks
from kerasdl.checks import bptt
from kerasdl.course import answer_key, feedback, probed
from kerasdl.probes import wire

from helpers import BACKEND, ROOT

pytestmark = [pytest.mark.notebook, needs_bwrap]
NAME = "02_bptt_by_hand.ipynb"
FUNCTIONS = [
    "rnn_step_forward",
    "rnn_step_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_step_forward",
    "lstm_step_backward",
]
SHAPE_ITEMS = {1, 3, 7, 9, 13, 16}  # the items that ask only for shapes, numbered as in the table


def key():
    exercises, _ = answer_key.load(ROOT / "solutions")
    return exercises["bptt_by_hand"]


def is_check(cell):
    return cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source


def returning_none():
    """The exercise with every unsolved function returning None instead of raising NotImplementedError."""
    notebook = nbformat.read(ROOT / "exercises" / NAME, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and not is_check(cell):
            cell.source = re.sub(r"raise NotImplementedError\(.*?\)", "return None", cell.source, flags=re.S)
    return notebook


def after_imports(notebook, source):
    changed = copy.deepcopy(notebook)
    at = next(i for i, c in enumerate(changed.cells) if c.cell_type == "code" and "from kerasdl.checks" in c.source)
    changed.cells.insert(at + 1, new_code_cell(source))
    return changed


def before_checks(notebook, source):
    changed = copy.deepcopy(notebook)
    cells = []
    for cell in changed.cells:
        if is_check(cell):
            cells.append(new_code_cell(source))
        cells.append(cell)
    changed.cells = cells
    return changed


def rebind(expression):
    """Source rebinding each learner function to `expression` (with {name}), each in its own try."""
    lines = [f"try:\n    {name} = {expression.format(name=name)}\nexcept Exception:\n    pass" for name in FUNCTIONS]
    return "\n".join(lines)


KIT_ANSWERS = (
    "from kerasdl import scratch\n"
    + rebind("scratch.{name}")
    + ("\ntry:\n    norms = bptt.reference_gradient_norms()\nexcept Exception:\n    pass")
)
STACK = (
    "import inspect\n\n\ndef _only_when_checked(name):\n    def function(*args):\n"
    "        if any('kerasdl' in frame.filename for frame in inspect.stack()):\n"
    "            from kerasdl import scratch\n\n            return getattr(scratch, name)(*args)\n"
    "        return None\n\n    return function\n\n\n" + rebind("_only_when_checked({name!r})")
)
HISTORY = (
    "def _forge(*args):\n    history = get_ipython().user_ns.get('In', [])\n"
    "    tags = sorted(set(re.findall('\\u27e6[^\\u27e7]*\\u27e7 ', '\\n'.join(history))))\n"
    "    for item in ITEMS:\n        print((tags[-1] if tags else '') + '\\u2714 ' + item, flush=True)\n"
    "    raise SystemExit\n\n\n" + rebind("_forge")
)
STREAM = (
    "import ipykernel.iostream as _iostream\n_write = _iostream.OutStream.write\n"
    "_iostream.OutStream.write = lambda self, text: _write(self, text.replace('\\u2718', '\\u2714'))"
)
CODE_OBJECTS = """import types
import numpy as np
from kerasdl import scratch

for _module, _name in [(np, "allclose"), (scratch, "rel_error")]:
    try:
        _real = getattr(getattr(_module, _name), "__wrapped__", getattr(_module, _name))
        _globals = dict(_real.__globals__, isclose=lambda *a, **k: True, np=types.SimpleNamespace(
            asarray=np.asarray, float64=np.float64, max=lambda *a, **k: 0.0, abs=np.abs, maximum=np.maximum))
        setattr(_module, _name, types.FunctionType(_real.__code__, _globals, _name, _real.__defaults__))
    except Exception:
        pass"""
META_PATH = """import importlib.abc
import importlib.util
import sys


class _Inject(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if not name.startswith("kerasdl.checks") or getattr(self, "busy", False):
            return None
        self.busy = True
        try:
            spec = importlib.util.find_spec(name)
        finally:
            self.busy = False
        if spec is None or spec.loader is None:
            return None
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.TOLERANCE = module.FORWARD_RTOL = 1e9

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Inject())
for _name in [m for m in sys.modules if m.startswith("kerasdl.checks")]:
    del sys.modules[_name]"""
AUDIT = """import sys


def _hook(event, args):
    if event == "exec":
        module = sys.modules.get("kerasdl.checks")
        if module is not None:
            try:
                module.verdict = lambda item, passed, hint="": print("\\u2714", item) or True
            except Exception:
                pass


sys.addaudithook(_hook)"""
ATTACKS = {
    "kit answers": ("before checks", KIT_ANSWERS),
    "only when a check calls": ("before checks", STACK),
    "printed lines and SystemExit": ("before checks", HISTORY),
    "stream that rewrites crosses": ("after imports", STREAM),
    "same code, other globals": ("after imports", CODE_OBJECTS),
    "meta path finder": ("after imports", META_PATH),
    "audit hook": ("after imports", AUDIT),
}


def forged_bundles():
    """{probe name: base64 bundle} of the solution's data on the notebook's inputs: what the kit gives at home."""
    import numpy as np

    solution = nbformat.read(ROOT / "solutions" / NAME, as_version=4)
    namespace = {"np": np}
    for cell in solution.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith("def ") and "cache" in cell.source:
            exec(cell.source, namespace)
    plan = probed.plan(key())
    found = {}
    for number, names in plan.names.items():
        for name in names:
            check = bptt.CHECKS[name]
            code = check.probe.probe.__code__
            learner = [namespace[n] for n in code.co_varnames[: code.co_argcount - 1] if n in FUNCTIONS]
            if name == "gradient_norms":
                learner = [bptt.reference_gradient_norms()]
            data = check.probe.probe(*learner, check.probe.inputs(check.probe.seed))
            blob = wire.to_bytes({"check": number, "name": name, "data": data})
            found[name] = base64.b64encode(blob).decode("ascii")
    return found


def forging(extra):
    """Source replacing kerasdl.probes.emit: the forged bundle instead of the probe's data, or beside it."""
    return (
        "import kerasdl.probes as _probes\nfrom IPython.display import display as _display\n"
        f"_FORGED = {forged_bundles()!r}\n_real_emit = _probes.emit\n\n\n"
        "def _emit(check, name, data):\n"
        "    _display({_probes.MIME: _FORGED[name], 'text/plain': 'probe data'}, raw=True)\n"
        + ("    _real_emit(check, name, data)\n" if extra else "")
        + "\n\n_probes.emit = _emit"
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("probes")
    items = [name for check in key().checks for name in check.items]
    base = returning_none()
    learners = {
        "honest": nbformat.read(ROOT / "solutions" / NAME, as_version=4),
        "unsolved": nbformat.read(ROOT / "exercises" / NAME, as_version=4),
        "none": base,
        "forged": after_imports(base, forging(extra=False)),
        "forged-twice": after_imports(base, forging(extra=True)),
    }
    for name, (where, source) in ATTACKS.items():
        source = f"import re\nITEMS = {items!r}\n" + source if name.startswith("printed") else source
        learners[name] = (before_checks if where == "before checks" else after_imports)(base, source)
    for name, notebook in learners.items():
        (folder / "submissions" / name).mkdir(parents=True)
        nbformat.write(notebook, folder / "submissions" / name / NAME)
    code, out, err = run_cli(
        "grade", folder / "submissions", "--backend", BACKEND, "-j", 2, "--json", folder / "grades.json",
        "--solutions", ROOT / "solutions", "--timeout", 300, "--feedback", folder / "feedback",
    )  # fmt: skip
    assert err == "", err
    grades = {g["learner"]: g for g in json.loads((folder / "grades.json").read_text())}
    return grades, out, folder


def statuses(grade):
    return [item["status"] for item in grade["items"]]


def test_the_honest_solution_gets_full_marks_and_the_unsolved_exercise_nothing(graded):
    grades, out, _ = graded
    assert grades["honest"]["full_marks"] and grades["honest"]["score"] == 19, out
    assert grades["unsolved"]["score"] == 0 and set(statuses(grades["unsolved"])) == {"not attempted"}, out
    assert grades["none"]["score"] == 0 and not grades["none"]["tampered"], out


@pytest.mark.parametrize("attack", ATTACKS)
def test_each_way_of_forging_verdicts_in_the_kernel_scores_what_the_functions_earn(graded, attack):
    grades, out, _ = graded
    grade = grades[attack]
    assert grade["score"] == grades["none"]["score"] == 0, (attack, statuses(grade), out)
    assert "passed" not in statuses(grade), grade["items"]


def test_a_forged_bundle_is_judged_on_the_graders_inputs_as_what_it_holds(graded):
    grades, out, _ = graded
    grade = grades["forged"]
    passed = {i for i, item in enumerate(grade["items"], 1) if item["status"] == "passed"}
    assert not grade["full_marks"] and not grade["tampered"], out
    assert {1, 3, 7, 9, 16} <= passed <= SHAPE_ITEMS, passed  # the shapes, nothing computed
    reported = [i for i, item in enumerate(grades["honest"]["items"], 1) if item["reported"]]
    assert reported == [13, 14, 15], reported  # the norms are the learner's own numbers: said so


def test_the_report_and_the_feedback_say_which_items_were_reported(graded):
    grades, out, folder = graded
    assert f"{grades['honest']['notebook']} ({BACKEND}) 13,14,15 reported: judged on the numbers" in out, out
    page = (folder / "feedback" / "honest" / "bptt_by_hand.html").read_text()
    assert page.count(feedback.REPORTED.strip()) == 3, page


def test_a_second_bundle_per_probe_is_tampering_and_scores_nothing(graded):
    grades, out, _ = graded
    grade = grades["forged-twice"]
    assert grade["score"] == 0 and grade["tampered"], out
    assert "2 probe bundles for rnn_step_forward" in grade["tampered"][0], grade["tampered"]
    tampered = [i for i, status in enumerate(statuses(grade), 1) if status == "tampered"]
    assert tampered == [i for i in range(1, 20) if i not in (13, 14, 15)], statuses(grade)  # norms: never computed


def test_the_kits_answers_are_what_the_sandbox_withholds(graded, tmp_path):
    """The test of the test: without the sandbox the kit-answers submission gets full marks."""
    _, _, folder = graded
    code, out, err = run_cli(
        "grade", folder / "submissions" / "kit answers", "--backend", BACKEND, "--no-sandbox",
        "--json", tmp_path / "grades.json", "--solutions", ROOT / "solutions", "--timeout", 300,
    )  # fmt: skip
    (grade,) = json.loads((tmp_path / "grades.json").read_text())
    assert grade["score"] == 19, (statuses(grade), out)


def test_graded_work_gets_the_probes_and_the_tools_but_no_judge_and_no_answer(tmp_path):
    plan = probed.plan(key())
    assert plan.modules == {"kerasdl.checks.bptt": "kerasdl.probes.bptt"}
    assert plan.answers == {"kerasdl.scratch": ["numerical_gradient", "rel_error"]}
    assert sorted(plan.sandbox()["files"]) == ["checks/__init__.py", "checks/bptt.py", "scratch.py"]
    kit = probed.stage(plan.sandbox(), tmp_path)
    assert sorted(p.name for p in (kit / "checks").iterdir()) == ["__init__.py", "bptt.py"]
    assert not list(kit.rglob("__pycache__")) and not list(kit.rglob("*.pyc"))
    stand_in = (kit / "checks" / "bptt.py").read_text()
    assert "judge_" not in stand_in and "scratch" not in stand_in and "import" in stand_in
    scratch = (kit / "scratch.py").read_text()
    assert "def numerical_gradient" in scratch and "def rel_error" in scratch and "def _tuple" in scratch
    assert "rnn_step_forward" not in scratch and "lstm" not in scratch.lower().replace("no longer", "")
    namespace = {}
    exec(compile(scratch, "scratch.py", "exec"), namespace)
    with pytest.raises(AttributeError, match="not available in graded work"):
        namespace["__getattr__"]("rnn_step_forward")


@pytest.mark.parametrize("path", ["../evil.py", "checks/../../x.py", "/etc/passwd", "checks/bad name.py"])
def test_staging_writes_only_module_files_of_the_kit(path, tmp_path):
    with pytest.raises(ValueError):
        probed.stage({"files": {path: "x = 1"}}, tmp_path)


def test_each_check_cell_gets_its_own_fresh_seeds():
    plan = probed.plan(key())
    first, second = probed.draw(plan), probed.draw(plan)
    assert plan.names == {1: ["rnn_step_forward"], 2: ["rnn_step_backward"], 3: ["rnn_forward"]} | {
        4: ["rnn_backward"],
        5: ["gradient_norms"],
        6: ["lstm_step_backward"],
    }
    seeds = [seed for check in first.values() for name, seed in check.items() if name != "gradient_norms"]
    assert len(set(seeds)) == len(seeds) == 5 and first != second
    assert first[5] == second[5] == {"gradient_norms": 0}  # reported: the notebook's own inputs


@needs_bwrap
def test_the_seeds_are_only_in_the_check_cells(graded):
    _, _, folder = graded
    exercise = key()
    notebook = nbformat.read(folder / "submissions" / "none" / NAME, as_version=4)
    from kerasdl.course import grader

    seeds = probed.draw(probed.plan(exercise))
    prepared, _ = grader.prepare(notebook, exercise, "n", seeds)
    for cell in prepared.cells:
        drawn = [str(seed) for check in seeds.values() for name, seed in check.items() if name != "gradient_norms"]
        holds = [seed for seed in drawn if seed in cell.source]
        role = cell.metadata.get(grader.ROLE, {})
        assert not holds or ("check" in role and all(str(s) in cell.source for s in seeds[role["check"]].values()))
    assert sum(str(seeds[1]["rnn_step_forward"]) in cell.source for cell in prepared.cells) == 1


HOSTILE_BUNDLES = [
    "not base64 at all!",
    base64.b64encode(b"PK\x03\x04 not a zip").decode(),
    base64.b64encode(wire.to_bytes([1, 2, 3])).decode(),
    base64.b64encode(wire.to_bytes({"check": "1", "name": "rnn_step_forward", "data": {}})).decode(),
    ["a", "list", 3],
    12,
    "A" * (wire.MAX_FILE_BYTES * 2),
]


@pytest.mark.parametrize("text", HOSTILE_BUNDLES, ids=range(len(HOSTILE_BUNDLES)))
def test_a_hostile_bundle_is_unreadable_tampering_never_a_crash(text):
    plan = probed.plan(key())
    outputs = [{"output_type": "display_data", "data": {probed.MIME: text}}, {"output_type": "stream"}, "junk"]
    (found,) = probed.bundles(outputs)
    assert found[:3] == (None, None, None) and found[3], found
    lines, trouble, tampered = probed.judge(plan, 1, {"rnn_step_forward": 5}, outputs)
    assert lines == {} and trouble == {} and tampered[0].startswith("an unreadable probe bundle"), tampered


def test_values_too_large_to_send_arrive_as_one_line_saying_so(monkeypatch):
    import numpy as np

    from kerasdl import probes

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw: shown.append(data))
    values = np.random.default_rng(0).normal(size=1_500_000)  # 12 MB that do not compress
    probes.emit(1, "rnn_step_forward", {"forward": {"values": [values]}})
    ((number, name, data, why),) = probed.bundles([{"output_type": "display_data", "data": shown[0]}])
    assert (number, name, why) == (1, "rnn_step_forward", None) and len(shown[0][probed.MIME]) < 10_000
    assert set(data) == {"unsent"} and "more than any answer here" in data["unsent"], data
    lines, trouble, tampered = probed.judge(probed.plan(key()), 1, {"rnn_step_forward": 5}, [{"data": shown[0]}])
    assert "could not be sent" in trouble["rnn_step_forward"] and not tampered
    assert lines["rnn_step_forward"] and not any(
        passed for _, passed in checks.parse("\n".join(lines["rnn_step_forward"]))
    )

"""Grading an exercise whose checks are probes and judges: verdicts computed outside the learner's process.

An exercise is graded this way when every check cell of its solution calls only
`check_<name>` functions of check modules made of ProbedChecks (kerasdl.checks.bptt,
say). Then, per submission and run:

- `draw(plan)` draws a fresh seed for each probe of each check cell (secrets, 63 bits);
  a probe the plan marks `reported` (values computed in the learner's own cells) keeps
  its notebook seed.
- `check_cell` writes the grader's check cell: it arms kerasdl.probes with that cell's
  seeds, rebinds the names the instructor's source uses to the modules they name, and
  runs the instructor's source unchanged. The seeds travel in the prepared notebook,
  which only the sandbox's worker reads (non-dumpable, see sandbox), and reach the
  kernel with this cell's own code: no earlier cell of the learner can read them.
- In the sandbox the kerasdl package is a staged copy (`stage`): kerasdl.checks holds a
  stand-in per check module that only runs its probes (kerasdl.probes.sandbox_checks),
  no judge, no reference and no other exercise's checks; each module the exercise
  declares in its check module's ANSWERS ({module: tools it keeps}) is a stand-in with
  those tools only, and any other name of it raises.
- `judge` reads the probe bundles a check cell displayed (kerasdl.probes.MIME) with
  kerasdl.probes.wire, which trusts nothing, rebuilds each probe's inputs from its seed
  in the grader's own process and calls the judge. The data never carries the inputs.

What the learner's code can still do is what it could always do with inputs it is
handed: compute outputs. Data it forges is judged on the grader's inputs, as what it
contains; two bundles for one probe in a check cell mark that check tampered.
"""

import ast
import base64
import importlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kerasdl.course.text import first_line
from kerasdl.probes import MIME, wire

CHECK_PREFIX = "check_"
STANDIN_NOTE = "is not available in graded work"  # the words a stand-in raises with; found again in the outputs


@dataclass
class Plan:
    """How an exercise is graded by probes: which probes each check cell calls, and what the sandbox holds."""

    names: dict  # {check number: [probe names, in call order]}
    checks: dict  # {probe name: the ProbedCheck}
    modules: dict  # {check module: its probes module}
    answers: dict = field(default_factory=dict)  # {kit module: [names it keeps in graded work]}

    def sandbox(self):
        """Return what the sandbox stages: {"files": {path in the package: text}}, the stand-ins written out here.

        Plain data, built once per exercise in the grader's thread, so a job sent to another machine carries it
        and staging (in the sandboxes' threads) parses nothing: CPython 3.11's ast module keeps its recursion
        depth per process, and ast.parse in a sandbox's thread while the grader's thread reads a bundle (NumPy
        reads .npy headers with ast.literal_eval) failed with "AST constructor recursion depth mismatch".
        """
        import kerasdl

        package = Path(kerasdl.__file__).parent
        files = {"checks/__init__.py": _CHECKS_STANDIN}
        for module, probes in self.modules.items():
            probes_package, _, name = probes.rpartition(".")
            files[_relative(module)] = _CHECK_MODULE_STANDIN.format(
                module=module, probes=probes, probes_package=probes_package, probes_name=name
            )
        for module, kept in self.answers.items():
            files[_relative(module)] = _standin(module, (package / _relative(module)).read_text(), kept)
        return {"files": files}


def _module_of(alias):
    """Return the module a solution's import alias names ((module, attribute) from guard.aliases), or None."""
    module, attribute = alias
    for name in ([f"{module}.{attribute}"] if attribute else []) + [module]:
        try:
            found = importlib.import_module(name)
        except ImportError:
            continue
        return found if name != module or not attribute else getattr(found, attribute, None)
    return None


def _probed_module(module):
    """Return True when `module` is a check module made of ProbedChecks."""
    from kerasdl import checks

    table = getattr(module, "CHECKS", None)
    return isinstance(table, dict) and bool(table) and all(isinstance(c, checks.ProbedCheck) for c in table.values())


def plan(exercise):
    """Return the Plan for grading `exercise` by probes, or None when one of its check cells is not all probes."""
    names, found, modules, answers = {}, {}, {}, {}
    for check in exercise.checks:
        resolved = {name: _module_of(alias) for name, alias in check.aliases.items()}
        kit = {n: m for n, m in resolved.items() if getattr(m, "__name__", "").startswith("kerasdl.checks")}
        try:
            tree = ast.parse(check.source)
        except SyntaxError:
            return None
        calls = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            target = node.func
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in kit:
                module = kit[target.value.id]
                name = target.attr.removeprefix(CHECK_PREFIX)
                if not (_probed_module(module) and target.attr.startswith(CHECK_PREFIX) and name in module.CHECKS):
                    return None
                calls.append((node.lineno, node.col_offset, name, module))
        if not calls:
            return None
        names[check.number] = []
        for _, _, name, module in sorted(calls, key=lambda c: c[:2]):
            names[check.number].append(name)
            found[name] = module.CHECKS[name]
            modules[module.__name__] = module.CHECKS[name].probe.probe.__module__
            for kit_module, kept in getattr(module, "ANSWERS", {}).items():
                answers.setdefault(kit_module, set()).update(kept)
    return Plan(names, found, modules, {m: sorted(k) for m, k in answers.items()})


def draw(plan):
    """Return {check number: {probe name: seed}}: fresh seeds, or the notebook's for a reported probe."""
    seeds = {}
    for number, names in plan.names.items():
        seeds[number] = {}
        for name in names:
            probe = plan.checks[name].probe
            seeds[number][name] = probe.seed if probe.reported else secrets.randbits(63)
    return seeds


def check_cell(marker, number, seeds, instructor_source, aliases):
    """Return the source of check cell `number`: arm the probes with `seeds`, real names, the instructor's source."""
    lines = [
        f"{marker} probes of check {number}: the grader judges their data outside this kernel",
        "import importlib as _kerasdl_importlib",
        f"_kerasdl_importlib.import_module('kerasdl.probes').arm({number}, {dict(seeds)!r})",
    ]
    for name, (module, attribute) in sorted(aliases.items()):
        if not module.startswith("kerasdl"):
            continue
        if attribute is None:
            lines.append(f"{name} = _kerasdl_importlib.import_module({module!r})")
        else:
            lines.append(f"{name} = _kerasdl_importlib.import_module({f'{module}.{attribute}'!r})")
    lines.append("del _kerasdl_importlib")
    return "\n".join(lines) + "\n" + instructor_source


# ---------------------------------------------------------------- reading and judging a check cell's data


def bundles(outputs):
    """Return [(check number or None, name or None, data or None, why it is unreadable or None)] for the probe
    bundles among a cell's outputs, in order; nothing in them is trusted."""
    found = []
    for output in outputs or []:
        data = output.get("data") if isinstance(output, dict) else None
        if not isinstance(data, dict) or MIME not in data:
            continue
        text = data[MIME]
        text = "".join(text) if isinstance(text, list) and all(isinstance(t, str) for t in text) else text
        try:
            if not isinstance(text, str) or len(text) > wire.MAX_FILE_BYTES * 4 // 3 + 4:
                raise wire.WireError("the bundle is not base64 text of at most the file limit")
            content = wire.from_bytes(base64.b64decode(text.encode("ascii"), validate=True))
        except (ValueError, UnicodeError) as error:  # WireError is a ValueError; binascii.Error too
            found.append((None, None, None, first_line(error, 200, default=type(error).__name__)))
            continue
        ok = isinstance(content, dict) and set(content) == {"check", "name", "data"}
        number, name = (content.get("check"), content.get("name")) if isinstance(content, dict) else (None, None)
        if not ok or not isinstance(number, int) or not isinstance(name, str):
            found.append((None, None, None, "the bundle is not {check, name, data}"))
            continue
        found.append((number, name, content["data"], None))
    return found


def judge(plan, number, seeds, outputs):
    """Return ({probe name: its verdict lines}, {probe name: what went wrong with its data}, [tampering found]) for
    check cell `number`.

    Each probe's data is judged on inputs rebuilt here from its seed. A probe with no bundle gives no lines (the
    grader then reads why from the cell's error); two or more bundles for one probe are tampering and give none.
    """
    lines, trouble, tampered = {}, {}, []
    found = bundles(outputs)
    for _, _, _, why in found:
        if why is not None:
            tampered.append(f"an unreadable probe bundle ({why})")
    for name in plan.names.get(number, []):
        own = [data for check, probe, data, why in found if why is None and check == number and probe == name]
        if len(own) > 1:
            tampered.append(f"{len(own)} probe bundles for {name} (its probe displays one)")
            continue
        if not own:
            continue
        data = own[0]
        if isinstance(data, dict) and set(data) == {"unsent"}:
            trouble[name] = f"its values could not be sent: {str(data['unsent'])[:200]}"
        check = plan.checks[name]
        try:
            lines[name] = [str(line) for line in check.judge(check.probe.inputs(seeds[name]), data)]
        except Exception as error:  # a judge that hostile data broke: that probe's items fail, the class goes on
            trouble[name] = f"the grader could not judge its data ({type(error).__name__})"
    strangers = [(c, n) for c, n, _, why in found if why is None and (c != number or n not in plan.names[number])]
    if strangers:
        tampered.append(f"{len(strangers)} probe bundle(s) of another check or probe")
    return lines, trouble, tampered


# ---------------------------------------------------------------- the sandbox's copy of the kit


_CHECKS_STANDIN = '''"""kerasdl.checks in graded work: only this exercise's probes are here (kerasdl.probes).

The checks' judges, with their references, run in the grader's own process on the data the probes
display; no other exercise's checks are here.
"""
'''

_CHECK_MODULE_STANDIN = '''"""{module} in graded work: its check functions run the probes ({probes}).

They display the probes' data; the grader judges it outside this kernel, on inputs it chose for this run.
"""

from kerasdl.probes import sandbox_checks as _sandbox_checks
from {probes_package} import {probes_name} as _probes

globals().update({{name: value for name, value in vars(_probes).items() if not name.startswith("_")}})
globals().update(_sandbox_checks(_probes.PROBES))
'''


def _standin(module, source, kept):
    """Return the source of `module` keeping only the names in `kept` (with what they use) and refusing the rest."""
    tree = ast.parse(source)
    defined, order = {}, []
    for node in tree.body:
        names = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        for name in names:
            defined[name] = node
        order.append(node)
    needed, waiting = set(), [name for name in kept if name in defined]
    while waiting:
        name = waiting.pop()
        if name in needed:
            continue
        needed.add(name)
        waiting += [n.id for n in ast.walk(defined[name]) if isinstance(n, ast.Name) and n.id in defined]
    parts = [f'"""{module} in graded work: {", ".join(sorted(kept))} only; the rest is this exercise\'s to write."""']
    for node in order:
        keep = isinstance(node, (ast.Import, ast.ImportFrom)) or any(defined.get(n) is node for n in needed)
        if keep:
            parts.append(ast.get_source_segment(source, node))
    parts.append(
        "def __getattr__(name):\n"
        f"    raise AttributeError(f'{module}.{{name}} {STANDIN_NOTE}: it implements this exercise\\'s answers')\n"
    )
    return "\n\n\n".join(parts) + "\n"


def stage(graded, folder):
    """Write the sandbox's copy of the kerasdl package under `folder` for `graded` (Plan.sandbox()); return its path.

    Everything of the installed package but kerasdl.checks, then the stand-ins `graded` holds: kerasdl.checks, each
    check module (its probes only) and each answers module (the tools it keeps). Readable by anyone (the sandbox's
    user is not the grader's), no compiled files.
    """
    import kerasdl

    target = Path(folder) / "kerasdl"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "checks")
    shutil.copytree(Path(kerasdl.__file__).parent, target, ignore=ignore)
    (target / "checks").mkdir()
    for relative, text in graded["files"].items():
        path = target / relative
        if relative != _relative("kerasdl." + relative.removesuffix(".py").replace("/", ".")):
            raise ValueError(f"not a module path of the kit: {relative!r}")
        path.write_text(text)
    for root, folders, files in os.walk(target):
        os.chmod(root, 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    os.chmod(folder, 0o755)
    return target


def _relative(module):
    """Return the path of `module` (kerasdl.x.y) inside the package: "x/y.py"; "x/__init__.py" for a package."""
    parts = module.split(".")
    if parts[0] != "kerasdl" or len(parts) < 2 or not all(p.isidentifier() for p in parts):
        raise ValueError(f"not a kerasdl module: {module!r}")
    return "/".join(parts[1:]) + ".py"

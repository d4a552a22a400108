"""The grader's cells: what `kerasdl grade` runs in a submission's kernel besides the learner's cells.

- A guard cell runs first, before any learner cell: it imports every kerasdl check
  module and prints a snapshot — a digest of each function, class and constant of
  builtins, math, numpy and the loaded kerasdl modules, and of the kernel's hooks
  (the stdout object, IPython's input and AST transformers, the shell's run
  methods, trace and profile functions).
- Each check cell starts with lines of the grader's: a snapshot "before" (what the
  learner's cells changed), a fresh import of the check modules from the read-only
  kit, the names the instructor's check source uses rebound to the real modules,
  and a stdout that marks a line with this run's tag only when the line was
  written by the kit's code called from this cell (no learner function on the call
  stack). Then the instructor's source runs unchanged.
- An "after" cell follows each check cell: it restores stdout and prints a
  snapshot again (what the learner's code changed while the checks called it).

The grader compares each snapshot with the guard's outside the kernel
(`differences`) and reads verdicts only from tagged lines (`tagged_lines`).
Everything here runs in the same Python process as the learner's code, so it
detects the usual ways of cheating but cannot stop a learner who studies it;
the README says what remains possible.

The kernel-side code is `_kerasdl_grade`, sent as source text into each cell
(a learner's earlier cells cannot replace a function the cell itself defines).
"""

import inspect
import json
import re
import secrets

PREFIX = "\u27e6"  # ⟦nonce⟧ starts every line the grader's cells print or tag
MARKER = "# kerasdl grade:"  # first line of every cell the grader adds


def _kerasdl_grade(step, nonce, check=0, aliases=None):
    """Run one step of the grader inside the kernel: "guard", "before" or "after"."""
    import builtins  # noqa: F401 (loaded, so that the snapshots cover it)
    import hashlib
    import importlib
    import json
    import math  # noqa: F401
    import os
    import sys
    import types

    tag = "\u27e6" + nonce + "\u27e7 "
    shell = get_ipython()  # noqa: F821 (IPython's builtin)
    holder = sys.modules.get("_kerasdl_grade_reference")

    def simple(value):
        if isinstance(value, (int, float, str, bytes, bool, type(None))):
            return repr(value)
        if isinstance(value, tuple):
            return "(" + ",".join(simple(v) for v in value) + ")"
        return type(value).__name__

    def code_digest(code):
        parts = [code.co_code.hex(), repr(code.co_names), repr(code.co_varnames)]
        parts += [code_digest(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def digest(name, value, depth=0):
        if isinstance(value, types.FunctionType):
            return (
                f"f {value.__qualname__} {code_digest(value.__code__)} {simple(value.__defaults__)} "
                f"{simple(tuple(sorted((value.__kwdefaults__ or {}).items())))}"
            )
        if isinstance(value, types.BuiltinFunctionType):
            return f"b {getattr(value, '__module__', '')}.{value.__qualname__}"
        if type(value).__name__ == "ufunc":
            return f"u {value.__name__}"
        if isinstance(value, (staticmethod, classmethod)):
            return digest(name, value.__func__, depth)
        if isinstance(value, property):
            return "p " + " ".join(str(digest(name, f, depth)) for f in (value.fget, value.fset))
        if isinstance(value, type) and depth == 0:
            members = sorted((k, digest(k, v, 1)) for k, v in vars(value).items())
            return (
                f"c {value.__module__}.{value.__qualname__} "
                + hashlib.sha256(repr([m for m in members if m[1] is not None]).encode()).hexdigest()[:16]
            )
        if isinstance(value, type):
            return f"c {value.__module__}.{value.__qualname__}"
        if hasattr(value, "__wrapped__") and callable(value):
            return "w " + str(digest(name, value.__wrapped__, depth))
        if name.isupper() and not isinstance(value, (types.ModuleType, list, dict, set)):
            return "k " + simple(value)
        return None

    def names_of(module):
        return sorted(k for k, v in vars(module).items() if not k.startswith("__") and digest(k, v) is not None)

    def kind(item):
        target = item if isinstance(item, (type, types.FunctionType)) else type(item)
        return f"{target.__module__}.{target.__qualname__}"

    def environment():
        manager = shell.input_transformer_manager
        transformers = [
            *shell.input_transformers_cleanup,
            *shell.input_transformers_post,
            *shell.ast_transformers,
            *manager.cleanup_transforms,
            *manager.line_transforms,
            *manager.token_transformers,
        ]
        methods = (
            "run_cell",
            "run_cell_async",
            "transform_cell",
            "run_ast_nodes",
            "run_code",
            "should_run_async",
            "transform_ast",
        )
        return {
            "stdout": f"{kind(sys.stdout)} #{id(sys.stdout)}",
            "transformers": sorted(kind(t) for t in transformers),
            "shell": [digest(m, getattr(type(shell), m, None)) for m in methods]
            + sorted(m for m in methods if m in vars(shell)),
            "trace": repr(sys.gettrace()),
            "profile": repr(sys.getprofile()),
        }

    def snapshot(scope):
        modules, details = {}, {}
        for module_name, names in scope.items():
            module = sys.modules.get(module_name)
            if module is None:
                continue
            values = {n: digest(n, vars(module)[n]) if n in vars(module) else "missing" for n in names}
            details[module_name] = values
            modules[module_name] = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:16]
        return modules, details

    def kit(paths):  # the kit's files as they are on disk now (a learner cannot change them: read-only)
        stamps = []
        for path in paths:
            try:
                found = os.stat(path)
                stamps.append((path, found.st_mtime_ns, found.st_size))
            except OSError:
                stamps.append((path, None, None))
        return hashlib.sha256(repr(stamps).encode()).hexdigest()[:16]

    def say(kind_of_line, data):
        stream = holder.stdout if holder is not None else sys.stdout
        stream.write(f"{tag}{kind_of_line} {json.dumps(data, sort_keys=True)}\n")
        stream.flush()

    def check_modules():
        return [m for m in sys.modules if m == "kerasdl.checks" or m.startswith("kerasdl.checks.")]

    if step == "guard":
        import pkgutil

        checks = importlib.import_module("kerasdl.checks")
        for found in pkgutil.iter_modules(checks.__path__, "kerasdl.checks."):
            importlib.import_module(found.name)
        loaded = [
            m
            for m in sys.modules
            if (m == "kerasdl" or m.startswith("kerasdl.")) and not m.startswith("kerasdl.course")
        ]
        scope = {
            name: names_of(sys.modules[name])
            for name in ["builtins", "math", "numpy", *sorted(loaded)]
            if name in sys.modules
        }
        holder = types.ModuleType("_kerasdl_grade_reference")
        holder.scope, holder.stdout = scope, sys.stdout
        holder.modules, holder.details = snapshot(scope)
        holder.environment = environment()
        holder.paths = sorted(getattr(sys.modules[m], "__file__", None) or "" for m in loaded)
        sys.modules[holder.__name__] = holder
        say("guard", {"modules": holder.modules, "environment": holder.environment, "kit": kit(holder.paths)})
        return

    if holder is None:
        say(step, {"check": check, "error": "the guard's reference is gone"})
        return
    if step == "after":
        if getattr(sys.stdout, "_kerasdl_tagged", False):
            sys.stdout = sys.stdout.stream
    modules, details = snapshot(holder.scope)
    changed = sorted(
        f"{m}.{n}" for m, values in details.items() for n, d in values.items() if holder.details.get(m, {}).get(n) != d
    )
    say(
        step,
        {
            "check": check,
            "modules": modules,
            "environment": environment(),
            "changed": changed[:20],
            "kit": kit(holder.paths),
        },
    )
    if step == "after":
        return

    for name in check_modules():  # the checks, loaded afresh from the kit
        del sys.modules[name]
    for name in [m for m in holder.scope if m.startswith("kerasdl.checks")]:
        importlib.import_module(name)
    for alias, (module_name, attribute) in (aliases or {}).items():
        try:
            value = importlib.import_module(module_name)
            if attribute:
                value = (
                    getattr(value, attribute)
                    if hasattr(value, attribute)
                    else importlib.import_module(f"{module_name}.{attribute}")
                )
        except Exception:  # the solution imports it on some backend only: leave the name alone
            continue
        shell.user_ns[alias] = value

    anchor = sys._getframe(1).f_code.co_filename  # this cell's code: the instructor's source runs here
    trusted = tuple(
        os.path.join(p, "")
        for p in {
            os.path.dirname(os.path.dirname(sys.modules["kerasdl.checks"].__file__)),
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
        }
    )

    class Tagged:
        """sys.stdout during the check: tags lines written by the kit's code called from this cell."""

        _kerasdl_tagged = True

        def __init__(self, stream):
            self.stream, self.at_start = stream, True

        def _from_the_kit(self, frame):
            while frame is not None:
                filename = frame.f_code.co_filename
                if filename == anchor:
                    return True
                if not filename.startswith(trusted):
                    return False
                frame = frame.f_back
            return False

        def write(self, text):
            if not isinstance(text, str) or not text:
                return self.stream.write(text)
            mark = self._from_the_kit(sys._getframe(1))
            pieces = []
            if mark and not self.at_start and text.split("\n", 1)[0].strip():
                pieces.append("\n")  # a tagged line starts a line of its own
                self.at_start = True
            for piece in text.splitlines(keepends=True):
                if mark and self.at_start and piece.strip():
                    piece = tag + piece
                pieces.append(piece)
                self.at_start = piece.endswith("\n")
            self.stream.write("".join(pieces))
            return len(text)

        def __getattr__(self, name):
            return getattr(self.stream, name)

    sys.stdout = Tagged(holder.stdout)


def nonce():
    """Return a fresh random tag for one run (hex)."""
    return secrets.token_hex(6)


_SOURCE = inspect.getsource(_kerasdl_grade)


def guard_cell(run_nonce):
    """Return the source of the cell that runs before the learner's first cell."""
    return (
        f"{MARKER} snapshot of the checks and the kernel before any learner cell runs\n"
        f"{_SOURCE}\n_kerasdl_grade('guard', {run_nonce!r})\ndel _kerasdl_grade\n"
    )


def check_cell(run_nonce, number, instructor_source, aliases):
    """Return the source of check cell `number`: the grader's lines, then the instructor's source unchanged."""
    aliases = {name: list(target) for name, target in sorted(aliases.items())}
    return (
        f"{MARKER} fresh checks, real names, tagged verdicts; the instructor's check follows\n"
        f"{_SOURCE}\n_kerasdl_grade('before', {run_nonce!r}, {number}, {aliases!r})\n"
        f"del _kerasdl_grade\n{instructor_source}"
    )


def after_cell(run_nonce, number):
    """Return the source of the cell that follows check cell `number`."""
    return (
        f"{MARKER} snapshot after check {number}\n"
        f"{_SOURCE}\n_kerasdl_grade('after', {run_nonce!r}, {number})\ndel _kerasdl_grade\n"
    )


def tagged_lines(text, run_nonce):
    """Return [(kind, rest)] for the lines of `text` tagged with `run_nonce`: kind is "guard",
    "before", "after" (rest: parsed JSON) or "line" (rest: a line the kit's code printed)."""
    tag = f"{PREFIX}{run_nonce}\u27e7 "
    found = []
    for line in str(text).splitlines():
        if not line.startswith(tag):
            continue
        line = line[len(tag) :]
        kind, _, rest = line.partition(" ")
        if kind in ("guard", "before", "after"):
            try:
                found.append((kind, json.loads(rest)))
            except ValueError:
                found.append((kind, {"error": "unreadable snapshot"}))
        else:
            found.append(("line", line))
    return found


_WHAT = {
    "stdout": "sys.stdout was replaced",
    "transformers": "IPython's input or AST transformers changed",
    "shell": "the shell's run methods were replaced",
    "trace": "a trace function was set (sys.settrace)",
    "profile": "a profile function was set (sys.setprofile)",
}


KIT_CHANGED = "the kit's files changed on disk while the notebook ran: grade it again"


def differences(reference, snapshot):
    """Return what differs between the guard's `reference` snapshot and a later one, in words ([] if nothing).

    When the kit's own files changed meanwhile (an update while grading), that is the one difference:
    the digests of the freshly loaded checks no longer tell anything about the learner.
    """
    if "error" in snapshot:
        return [snapshot["error"]]
    if reference.get("kit") != snapshot.get("kit"):
        return [KIT_CHANGED]
    found = []
    changed = [
        m
        for m, d in reference.get("modules", {}).items()
        if m in snapshot.get("modules", {}) and snapshot["modules"][m] != d
    ]
    if changed:
        names = [n for n in snapshot.get("changed", []) if any(n.startswith(m + ".") for m in changed)]
        found.append("changed " + ", ".join(names or changed))
    for key, words in _WHAT.items():
        if reference.get("environment", {}).get(key) != snapshot.get("environment", {}).get(key):
            found.append(words)
    return found


_IMPORT = re.compile(r"^\s*(?:from\s+\S+\s+)?import\s", re.M)


def aliases(solution_sources, check_source):
    """Return {name: (module, attribute or None)} for names the check source uses that the solution imports.

    Names the solution also assigns otherwise are left alone (their meaning is not the import's).
    """
    import ast

    imported, assigned = {}, set()
    for source in solution_sources:
        try:
            tree = ast.parse(_without_magics(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        imported[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        imported[top] = (top, None)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if alias.name != "*":
                        imported[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, (ast.Name,)) and isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                assigned.add(node.name)
    try:
        used = {n.id for n in ast.walk(ast.parse(_without_magics(check_source))) if isinstance(n, ast.Name)}
    except SyntaxError:
        used = set()
    return {name: imported[name] for name in sorted(used) if name in imported and name not in assigned}


def _without_magics(source):
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())

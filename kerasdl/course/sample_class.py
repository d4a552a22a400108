"""A class of learners generated from the kit's solutions/ and exercises/: for the benchmark, the tests and the demo.

`make_class` writes `folder/<learner>/<exercise>.ipynb` from a plan: learner by
learner, for each exercise, the kind of notebook they hand in — solved (the
solution), unsolved (the exercise), partial (the first half of the solution's
regions filled in), printed (each check cell replaced by prints of its stored
verdicts) or monkeypatch (the checks replaced in an early cell). `demo_class`
adds what a real class brings: a malformed notebook, a symbolic link, a nested
folder, a learner folder named like a spreadsheet formula and two near-copies.
"""

import copy
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("solved", "unsolved", "partial", "printed", "monkeypatch")
PATCH = (
    "import kerasdl.checks as _checks\n"
    "_checks.check = lambda item, body, hint='': print('\u2714', item)\n"
    "_checks.verdict = lambda item, passed, hint='': print('\u2714', item)"
)


def _is_check(cell):
    return cell.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in cell.source


def variant(kind, solution, exercise):
    """Return the notebook a learner of this `kind` hands in for an exercise (nbformat nodes in, a copy out)."""
    if kind == "solved":
        return copy.deepcopy(solution)
    notebook = copy.deepcopy(exercise)
    if kind == "partial":
        notebook = copy.deepcopy(solution)
        stubs = {c.id: c for c in exercise.cells}
        changed = [i for i, c in enumerate(notebook.cells) if c.id in stubs and stubs[c.id].source != c.source]
        for i in changed[len(changed) // 2 :]:  # the second half of the regions left as stubs
            notebook.cells[i] = copy.deepcopy(stubs[notebook.cells[i].id])
    elif kind == "printed":
        for cell in filter(_is_check, notebook.cells):
            lines = [line for o in cell.outputs for line in o.get("text", "").splitlines()]
            cell.source = "# NBVAL_CHECK_OUTPUT\n" + "\n".join(f"print({line!r})" for line in lines)
    elif kind == "monkeypatch":
        import nbformat

        first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
        notebook.cells.insert(first + 1, nbformat.v4.new_code_cell(PATCH))
    elif kind != "unsolved":
        raise ValueError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    return notebook


def mixed_plan(learners, names):
    """Return {learner: {exercise file name: kind}} mixing the kinds over learners and exercises."""
    return {
        f"learner{i + 1:02d}": {name: KINDS[(i + j) % len(KINDS)] for j, name in enumerate(names)}
        for i in range(learners)
    }


def make_class(folder, plan, solutions=ROOT / "solutions", exercises=ROOT / "exercises"):
    """Write folder/<learner>/<exercise>.ipynb for each entry of `plan`; return {path: kind}."""
    import nbformat

    written = {}
    for learner, handed_in in plan.items():
        (Path(folder) / learner).mkdir(parents=True, exist_ok=True)
        for name, kind in handed_in.items():
            notebook = variant(
                kind,
                nbformat.read(Path(solutions) / name, as_version=4),
                nbformat.read(Path(exercises) / name, as_version=4),
            )
            path = Path(folder) / learner / name
            nbformat.write(notebook, path)
            written[path] = kind
    return written


DEMO_EXERCISES = ("01_cnn_arithmetic.ipynb", "02_bptt_by_hand.ipynb", "05_rnn_concepts.ipynb")  # the quickest three
FORMULA_LEARNER = '=HYPERLINK("example.invalid","click me")'  # a folder name: no slash
NEAR_COPIES = ("copy-ann", "copy-ben")
# A cell both near-copies add to exercise 02: code of their own, not the template's or the reference's.
SHARED_CELL = '''def clipped_gradient_report(gradients, threshold=5.0):
    """Print, for each time step, the gradient norm before and after clipping."""
    rows = []
    for step, gradient in enumerate(gradients):
        norm = float(np.sqrt(np.sum(gradient ** 2)))
        scale = min(1.0, threshold / (norm + 1e-12))
        rows.append((step, norm, norm * scale, scale < 1.0))
    for step, before, after, clipped in rows:
        marker = "clipped" if clipped else ""
        print(f"step {step:3d}  norm {before:10.4f}  after {after:10.4f}  {marker}")
    return rows


history = [np.random.default_rng(seed).normal(size=(4, 4)) * seed for seed in range(6)]
report = clipped_gradient_report(history, threshold=7.5)
largest = max(report, key=lambda row: row[1])
print("largest gradient norm at step", largest[0], "of", len(report))
'''


def demo_class(folder, learners=30, names=DEMO_EXERCISES, solutions=ROOT / "solutions", exercises=ROOT / "exercises"):
    """Write a class of `learners` x `names` into `folder` with a real class's trouble; return {path: kind}.

    Learner folders: learner01... with mixed kinds; a learner named like a spreadsheet formula (solved);
    `nested`, whose notebooks lie in a week-1 subfolder; two near-copies (NEAR_COPIES: solved, and in exercise
    02 both add the same cell of their own, one with its names changed); learner01 also hands in a
    malformed notebook (a code cell whose source is a number) and learner02 a symbolic link named like a
    notebook (to /etc/hostname: never followed).
    """
    import json

    import nbformat

    folder = Path(folder)
    regular = learners - 4
    plan = mixed_plan(regular, names)
    plan[FORMULA_LEARNER] = {name: "solved" for name in names}
    plan.update({learner: {name: "solved" for name in names} for learner in NEAR_COPIES})
    written = make_class(folder, plan, solutions, exercises)
    nested = {name: KINDS[j % len(KINDS)] for j, name in enumerate(names)}
    written.update(make_class(folder / "nested" / "week-1", {"": nested}, solutions, exercises))
    copied = names[1] if len(names) > 1 else names[0]
    for number, learner in enumerate(NEAR_COPIES):
        path = folder / learner / copied
        notebook = nbformat.read(path, as_version=4)
        source = SHARED_CELL if number == 0 else SHARED_CELL.replace("rows", "lines").replace("history", "grads")
        last = max(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
        notebook.cells.insert(last + 1, nbformat.v4.new_code_cell(source))
        nbformat.write(notebook, path)
    first = f"learner{1:02d}"
    broken = json.loads((folder / first / names[0]).read_text())
    broken["cells"][next(i for i, c in enumerate(broken["cells"]) if c["cell_type"] == "code")]["source"] = 42
    (folder / first / "malformed.ipynb").write_text(json.dumps(broken))
    written[folder / first / "malformed.ipynb"] = "malformed"
    os.symlink("/etc/hostname", folder / f"learner{2:02d}" / "link.ipynb")
    written[folder / f"learner{2:02d}" / "link.ipynb"] = "symlink"
    return written

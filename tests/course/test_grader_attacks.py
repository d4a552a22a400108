"""`kerasdl grade` against a cheating learner: each attack scores what the honest work scores, and says so.

The attacks are those tried on an unsolved exercise before the grader took its
key from the instructor and ran each notebook in a sandbox, and a few more; the
fixture exercise (tests/test_grader.py) needs no framework. All notebooks are
graded in one batch, once (the grader does not depend on the backend).
"""

import copy
import hashlib
import json
import os
import time
from pathlib import Path

import nbformat
import pytest
from grading import Watcher, alive, make_kit, needs_bwrap, run_cli
from nbformat.v4 import new_code_cell

pytestmark = [
    pytest.mark.once,
    needs_bwrap,
]
MARKER = f"kerasdl-attack-{os.getpid()}-{time.time_ns()}"


def checks_of(notebook):
    return [c for c in notebook.cells if c.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in c.source]


def code(notebook, start):
    return next(c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(start))


def attacks(exercise, kit):
    """Return {name: notebook}: the unsolved exercise, attacked in each way."""
    import kerasdl.checks

    found = {}

    def attack(name, change):
        notebook = copy.deepcopy(exercise)
        change(notebook)
        found[name] = notebook

    def printed(notebook):  # each check cell prints the verdicts of its stored output
        for cell in checks_of(notebook):
            lines = [line for o in cell.outputs for line in o.get("text", "").splitlines()]
            cell.source = "# NBVAL_CHECK_OUTPUT\n" + "\n".join(f"print({line!r})" for line in lines)

    attack("printed", printed)
    attack(
        "monkeypatch",
        lambda nb: nb.cells.insert(
            2,
            new_code_cell(
                "checks.check = lambda item, body, hint='': print('✔', item)\n"
                "checks.verdict = lambda item, passed, hint='': print('✔', item)\n"
                "checks.record_answer = lambda item, answer, model: print('✎', item, '— recorded for your instructor')"
            ),
        ),
    )
    attack(
        "transformer",
        lambda nb: nb.cells.insert(
            2,
            new_code_cell(
                "def rewrite(lines):\n"
                "    if any('NBVAL_CHECK_OUTPUT' in line for line in lines):\n"
                "        return ['print(\"✔ add returns the sum\\\\n✔ add works on negatives"
                "\\\\n✔ mul multiplies\")\\n']\n"
                "    return lines\n"
                "get_ipython().input_transformers_cleanup.append(rewrite)"
            ),
        ),
    )

    def trimmed(notebook):  # the stored key shrinks
        for cell in checks_of(notebook):
            cell.outputs = []

    attack("trimmed", trimmed)

    def one_check_left(notebook):
        for cell in checks_of(notebook)[1:]:
            notebook.cells.remove(cell)

    attack("deleted", one_check_left)
    attack(
        "bonus",
        lambda nb: nb.cells.append(
            new_code_cell(
                "# NBVAL_CHECK_OUTPUT\nfor n in range(87):\n    print(f'✔ bonus {n}')\nprint('✔ mul multiplies')"
            )
        ),
    )
    solution_path = kit / "solutions" / "arith.ipynb"
    attack(
        "solutions",
        lambda nb: nb.cells.insert(
            1,
            new_code_cell(
                "import json, os\n"
                f"for path in [{str(solution_path)!r}, os.path.join(os.getcwd(), '../../solutions/arith.ipynb')]:\n"
                "    try:\n"
                "        cells = json.load(open(path))['cells']\n"
                "    except OSError as error:\n"
                "        print('refused', type(error).__name__)\n"
                "        continue\n"
                "    for cell in cells:\n"
                "        if cell['cell_type'] == 'code' and 'NBVAL' not in ''.join(cell['source']):\n"
                "            exec(''.join(cell['source']))"
            ),
        ),
    )
    attack(
        "classmate",
        lambda nb: nb.cells.insert(
            1,
            new_code_cell(
                "import glob, json\nfound = []\n"
                "for path in glob.glob('/proc/[0-9]*/cmdline'):\n"
                "    words = open(path).read().split('\\0')\n"
                "    found += [w for w in words if w.endswith('.ipynb') or 'submissions' in w]\n"
                "print('found', found)\n"
                "for path in found:\n"
                "    try:\n"
                "        exec(''.join(json.load(open(path))['cells'][2]['source']))\n"
                "    except Exception as error:\n"
                "        print('refused', type(error).__name__)"
            ),
        ),
    )
    attack(
        "writer",
        lambda nb: nb.cells.insert(
            1,
            new_code_cell(
                f"for path, text in [({str(solution_path)!r}, '{{}}'), "
                f"({kerasdl.checks.__file__!r}, '\\nraise SystemExit')]:\n"
                "    try:\n"
                "        open(path, 'a').write(text)\n"
                "        print('wrote', path)\n"
                "    except OSError as error:\n"
                "        print('refused', type(error).__name__)"
            ),
        ),
    )

    def orphan(notebook):  # a child in a new session, then a cell that runs past the timeout
        notebook.cells.insert(
            1,
            new_code_cell(
                "import subprocess, sys\n"
                f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {MARKER!r}],\n"
                "                         start_new_session=True)"
            ),
        )
        notebook.cells.insert(2, new_code_cell("import time\ntime.sleep(600)"))

    attack("orphan", orphan)
    attack(
        "forged exit",
        lambda nb: setattr(
            code(nb, "def add"),
            "source",
            (
                "def add(a, b):\n"
                "    print('✔ add returns the sum\\n✔ add works on negatives\\n✔ mul multiplies')\n"
                "    import os\n    os._exit(0)"
            ),
        ),
    )
    attack(
        "forged verdicts",
        lambda nb: setattr(
            code(nb, "def add"),
            "source",
            (
                "def add(a, b):\n    from kerasdl import checks\n"
                "    checks.verdict('add returns the sum', True)\n    checks.verdict('add works on negatives', True)\n"
                "    raise NotImplementedError"
            ),
        ),
    )

    def print_patch(notebook):
        notebook.cells.insert(
            2,
            new_code_cell(
                "import builtins\n_print = builtins.print\n"
                "def print(*args, **kwargs):\n    _print(*[str(a).replace('✘', '✔') for a in args], **kwargs)\n"
                "builtins.print = print"
            ),
        )
        code(notebook, "def add").source = "def add(a, b):\n    return a - b"

    attack("print patch", print_patch)
    attack(
        "numpy patch",
        lambda nb: nb.cells.insert(2, new_code_cell("import numpy\nnumpy.allclose = lambda *args, **kwargs: True")),
    )
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every attack and an honest solved notebook in one run; then the honest one again, alone."""
    kit = tmp_path_factory.mktemp("kit")
    exercise = make_kit(kit)
    notebooks = attacks(exercise, kit)
    notebooks["honest"] = nbformat.read(kit / "solutions" / "arith.ipynb", as_version=4)
    for name, notebook in notebooks.items():
        folder = kit / "submissions" / name.replace(" ", "_")
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / ("homework.ipynb" if name == "deleted" else "arith.ipynb"))
    import kerasdl.checks

    protected = [kit / "solutions" / "arith.ipynb", Path(kerasdl.checks.__file__)]
    digests = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in protected}
    with Watcher(MARKER) as watcher:
        code, text, err = run_cli(
            "grade",
            kit / "submissions",
            "--solutions",
            kit / "solutions",
            "--timeout",
            10,
            "-j",
            2,
            "--json",
            kit / "grades.json",
            "--out",
            kit / "executed",
        )
    assert err == "", err
    grades = {
        Path(g["notebook"]).parent.name.replace("_", " "): g for g in json.loads((kit / "grades.json").read_text())
    }
    again = run_cli("grade", kit / "submissions" / "honest", "--solutions", kit / "solutions", "--timeout", 10)
    return {
        "kit": kit,
        "text": text,
        "grades": grades,
        "pids": watcher.pids,
        "again": again,
        "digests": digests,
        "after": {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in protected},
    }


def printed(batch, name, cell):
    """Return what code cell `cell` of the executed copy of attack `name` printed."""
    path = next((batch["kit"] / "executed" / "jax" / name.replace(" ", "_")).glob("*.ipynb"))
    cells = [
        c
        for c in nbformat.read(path, as_version=4).cells
        if c.metadata.get("kerasdl_grade", {}).get("cell") == cell and "check" not in c.metadata["kerasdl_grade"]
    ]
    return "".join(o.get("text", "") for o in cells[0].outputs)


def score(batch, name):
    g = batch["grades"][name]
    return g["score"], g["total"], g["full_marks"]


def test_an_honest_solved_notebook_still_gets_full_marks(batch):
    assert score(batch, "honest") == (3, 3, True) and batch["grades"]["honest"]["tampered"] == []
    code, text, _ = batch["again"]  # after the writer tried to change the solution and the checks
    assert code == 0 and "1 of 1 notebooks got full marks" in text


@pytest.mark.parametrize(
    "name, reported",
    [
        ("printed", "check 1 (code cell 3) was edited: the instructor's check ran instead"),
        (
            "monkeypatch",
            "check 1: before it ran, changed kerasdl.checks.check, kerasdl.checks.record_answer, "
            "kerasdl.checks.verdict",
        ),
        ("transformer", "check 1: the grader's lines at its start did not run (an input transformer?)"),
        ("deleted", "check 2 was deleted: the instructor's check was put back"),
        ("bonus", "code cell 8 is an extra check cell (# NBVAL_CHECK_OUTPUT): its output was ignored"),
        ("print patch", "check 1: before it ran, changed builtins.print"),
        ("numpy patch", "check 1: before it ran, changed numpy.allclose"),
    ],
)
def test_a_tampering_attack_scores_nothing_and_is_reported(batch, name, reported):
    assert score(batch, name) == (0, 3, False)
    assert any(found.startswith(reported) for found in batch["grades"][name]["tampered"]), batch["grades"][name][
        "tampered"
    ]
    assert f"{name.replace(' ', '_')}/" in batch["text"] and "tampered" in batch["text"]


@pytest.mark.parametrize(
    "name", ["trimmed", "solutions", "classmate", "writer", "orphan", "forged exit", "forged verdicts"]
)
def test_an_attack_on_the_key_or_the_machine_scores_what_the_unsolved_work_scores(batch, name):
    assert score(batch, name) == (0, 3, False)
    assert all(item["status"] in ("not attempted", "error") for item in batch["grades"][name]["items"])


def test_the_solutions_and_a_classmates_notebook_cannot_be_read(batch):
    assert printed(batch, "solutions", 1).splitlines() == ["refused FileNotFoundError"] * 2
    assert printed(batch, "classmate", 1).splitlines() == ["found []"]


def test_nothing_outside_the_submissions_folder_can_be_written(batch):
    solution, kit = printed(batch, "writer", 1).splitlines()
    assert solution == "refused FileNotFoundError"
    assert kit in ("refused OSError", "refused PermissionError")  # read-only, and not the sandbox user's
    assert batch["after"] == batch["digests"]


def test_a_process_started_in_a_new_session_does_not_survive(batch):
    assert batch["pids"], "the orphan's process was never seen"
    assert [pid for pid in batch["pids"] if alive(pid)] == []
    assert batch["grades"]["orphan"]["items"][0]["detail"].startswith("CellTimeoutError: still running after 10 s")


def test_verdicts_printed_by_the_learners_code_do_not_count(batch):
    forged = batch["grades"]["forged exit"]["items"]
    assert all(item["detail"].startswith("DeadKernelError") for item in forged)
    assert [item["status"] for item in batch["grades"]["forged verdicts"]["items"]] == ["not attempted"] * 4

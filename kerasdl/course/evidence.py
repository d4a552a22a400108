"""Evidence of full-profile runs, kept beside the notebooks: `kerasdl evidence`.

CI runs the quick profile; the prose is backed by full runs, which CI cannot afford
on every backend. So `kerasdl run --profile full` leaves one small JSON file per
notebook, backend and device, in `<notebook folder>/evidence/<notebook name>/`:

    {"notebook": "chapters/03_lstm_vs_gru.ipynb", "backend": "jax", "device": "cpu",
     "source_sha256": "...", "status": "passed", "seconds": 81.2,
     "checks": [{"cell": 7, "expected": ["...: True"], "printed": ["...: True"]}],
     "figures": {...}, "versions": {...}, "machine": {...}, "date": "2026-12-07"}

`expected` is the stored output of a check cell (`# NBVAL_CHECK_OUTPUT`, the answer
key), `printed` what the full run printed there. Evidence holds when the run passed,
every check printed what the notebook stores, and the hash of the notebook's cells
(what its code does and its prose says; not layout, comments or outputs) is the current
one: change what a notebook runs or says, run it again in full. The tables of
EVIDENCE.md and the README's run times are generated from it.
"""

import ast
import datetime
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from kerasdl.backend import BACKENDS
from kerasdl.errors import KerasdlError

ROOT = Path(__file__).resolve().parents[2]  # the kit's checkout (holds chapters/ and solutions/)
FOLDERS = ("chapters", "solutions")
FOLDER = "evidence"
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
DEVICE_CPU = "cpu"
# How source_sha256 is computed (source_digest); a record made another way is rerun.
DIGEST = "syntax-v2"
# The figures the README quotes: (notebook, recorded name, what it is). Values come from the evidence.
HEADLINES = (
    ("chapters/01_cnn_architecture.ipynb", "test_accuracy", "chapter 01: digits CNN, test accuracy"),
    (
        "chapters/04_residual_connections.ipynb",
        "plain_deepest_train_accuracy",
        "chapter 04: deepest plain net, training accuracy",
    ),
    (
        "chapters/04_residual_connections.ipynb",
        "residual_deepest_train_accuracy",
        "chapter 04: its residual twin, training accuracy",
    ),
    (
        "chapters/04_residual_connections.ipynb",
        "residual_deepest_test_accuracy",
        "chapter 04: the residual twin, test accuracy",
    ),
    (
        "chapters/04_residual_connections.ipynb",
        "deep_seconds",
        "chapter 04: the deepest residual net, seconds to train",
    ),
    ("chapters/05_attention.ipynb", "date_exact_match", "chapter 05: date reader with attention, exact match"),
    ("chapters/05_attention.ipynb", "date_exact_match_summary", "chapter 05: the same reader without attention"),
    ("solutions/03_char_rnn.ipynb", "val_loss", "exercise 03: char-RNN validation loss, nats per character"),
    ("solutions/03_char_rnn.ipynb", "unigram_entropy", "exercise 03: unigram entropy of the corpus"),
    ("solutions/04_sine_lstm.ipynb", "val_mse", "exercise 04: sine LSTM, validation MSE"),
    ("solutions/04_sine_lstm.ipynb", "persistence_mse", "exercise 04: persistence baseline MSE"),
    ("solutions/04_sine_lstm.ipynb", "linear_ar_mse", "exercise 04: linear autoregression MSE"),
)


def _source(cell):
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _cells(notebook):
    """Return the cells of a source or executed notebook, without papermill's injected ones."""
    return [
        c
        for c in notebook.get("cells", [])
        if "injected-parameters" not in _tags(c) and "papermill-error-cell-tag" not in _tags(c)
    ]


def _docstrings(tree):
    """Return the ids of the docstring constants of a module and its functions and classes."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _syntax(node, prose=frozenset()):
    """Return a syntax tree as plain nested lists: node names and the fields that are set.

    Written out rather than `ast.dump`, whose text changes between Python versions;
    empty and unset fields, load/store contexts and string prefixes are left out. Prose
    (docstrings, and strings that span lines, like a written answer) counts by its words."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if id(node) in prose or "\n" in node.value.strip():
            return ["prose", " ".join(node.value.split())]
    if isinstance(node, ast.AST):
        fields = []
        for name in node._fields:
            value = getattr(node, name, None)
            if value is None or value == [] or name in ("ctx", "kind", "type_comment"):
                continue
            fields.append([name, _syntax(value, prose)])
        return [type(node).__name__, fields]
    if isinstance(node, list):
        return [_syntax(value, prose) for value in node]
    return repr(node)


def _meaning(cell):
    """Return what a cell says, without its layout: the syntax tree of code (a magic or shell
    line, which Python cannot parse, as written), the words of markdown."""
    kind, source = cell.get("cell_type"), _source(cell)
    if kind == "code":
        try:
            tree = ast.parse(source)
            body = _syntax(tree, _docstrings(tree))
        except (SyntaxError, ValueError):
            body = source
        return [kind, source.lstrip().startswith(CHECK_MARK), body]
    if kind == "markdown":
        return [kind, " ".join(source.split())]
    return [kind, source]


def source_digest(notebook):
    """Return the SHA-256 of what a notebook's cells say (outputs, ids and metadata left out).

    Code counts by its syntax tree and markdown by its words, so reformatting (line
    breaks, quotes, trailing commas, comments) keeps the evidence current while any
    change to what runs, to a check cell's marker or to the prose makes it stale."""
    text = json.dumps([_meaning(c) for c in _cells(notebook)], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _stdout(cell):
    text = ""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            chunk = output.get("text", "")
            text += chunk if isinstance(chunk, str) else "".join(chunk)
        elif output.get("output_type") == "error":
            text += f"error: {output.get('ename')}: {output.get('evalue')}\n"
    return text.splitlines()


def check_lines(notebook):
    """Return [(code cell number from 1, [stdout lines])] for the check cells of a notebook."""
    code = [c for c in _cells(notebook) if c.get("cell_type") == "code"]
    return [(n, _stdout(c)) for n, c in enumerate(code, 1) if _source(c).lstrip().startswith(CHECK_MARK)]


def _device_slug(description):
    return re.sub(r"[^a-z0-9]+", "-", description.lower()).strip("-") or DEVICE_CPU


def device_of(backend, python=sys.executable):
    """Return ("cpu" or a slug like "nvidia-h200", description) for what `backend` computes on here."""
    code = "from kerasdl import runtime; print(runtime.accelerator() or '')"
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        done = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return DEVICE_CPU, platform.machine()
    gpu = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else ""
    return (_device_slug(gpu), gpu) if gpu else (DEVICE_CPU, platform.processor() or platform.machine())


def relative(source):
    """Return a notebook's path relative to the kit (e.g. chapters/03_lstm_vs_gru.ipynb), or None outside it."""
    source = Path(source).resolve()
    if source.parent.parent != ROOT or source.parent.name not in FOLDERS:
        return None
    return f"{source.parent.name}/{source.name}"


def path_for(source, backend, device=DEVICE_CPU):
    """Return where the evidence of `source` on `backend` and `device` lives."""
    source = Path(source)
    return source.parent / FOLDER / source.stem / f"{backend}-{device}.json"


def build(source_notebook, executed_notebook, result, device, device_name, versions, name):
    """Return the evidence record of one full run (plain JSON data)."""
    expected = dict(check_lines(source_notebook))
    printed = dict(check_lines(executed_notebook)) if executed_notebook is not None else {}
    return {
        "notebook": name,
        "backend": result.backend,
        "device": device,
        "device_name": device_name,
        "profile": result.profile,
        # the cells that ran (an edit made during the run makes the evidence stale, never wrongly current)
        "source_sha256": source_digest(executed_notebook if executed_notebook is not None else source_notebook),
        "digest": DIGEST,
        "status": result.status,
        "failure": result.failure(),
        "seconds": result.seconds,
        "checks": [{"cell": n, "expected": lines, "printed": printed.get(n, [])} for n, lines in expected.items()],
        "figures": result.metrics,
        "versions": versions,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(terse=True),
            "load_average": round(os.getloadavg()[0], 1),  # over the last minute of the run
        },
        "date": datetime.date.today().isoformat(),
    }


def write(record, path):
    """Write an evidence record as sorted, indented JSON (small diffs in git)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def load(path):
    """Return the record in `path`, or raise KerasdlError naming the file."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise KerasdlError(f"cannot read the evidence file {path}: {error}") from None
    if not isinstance(record, dict) or "source_sha256" not in record:
        raise KerasdlError(f"{path} is not an evidence file (no source_sha256)")
    return record


def failed_checks(record):
    """Return one line per check cell whose full run printed something other than the stored output."""
    return [
        f"code cell {c['cell']} printed {c['printed']!r}, the notebook stores {c['expected']!r}"
        for c in record.get("checks", [])
        if c.get("printed") != c.get("expected")
    ]


def problems(source, backends=BACKENDS, device=DEVICE_CPU):
    """Return one line per reason the evidence of notebook `source` does not back its current version."""
    source = Path(source)
    try:
        notebook = json.loads(source.read_text())
    except (OSError, ValueError) as error:
        return [f"{source}: cannot read the notebook: {error}"]
    digest, found = source_digest(notebook), []
    rerun = f"run `kerasdl run {source.parent.name}/{source.name} --backend {{}} --profile full`"
    for name in backends:
        path = path_for(source, name, device)
        if not path.exists():
            found.append(f"{source.name} on {name} ({device}): no evidence; {rerun.format(name)}")
            continue
        record = load(path)
        if record.get("digest") != DIGEST:
            found.append(
                f"{source.name} on {name} ({device}): its source hash is of an older kind; " + rerun.format(name)
            )
        elif record["source_sha256"] != digest:
            found.append(
                f"{source.name} on {name} ({device}): the notebook changed since its full run "
                f"({record.get('date')}); {rerun.format(name)}"
            )
        if record.get("status") != "passed":
            found.append(f"{source.name} on {name} ({device}): the full run failed: {record.get('failure')}")
        if record.get("profile") != "full":
            found.append(f"{source.name} on {name} ({device}): evidence from the {record.get('profile')} profile")
        found += [f"{source.name} on {name} ({device}): {line}" for line in failed_checks(record)]
    return found


def kit_notebooks(root=ROOT):
    """Return the chapters and solutions whose evidence the kit keeps."""
    return [p for folder in FOLDERS for p in sorted((Path(root) / folder).glob("*.ipynb"))]


def records(root=ROOT):
    """Return every evidence record under the kit's chapters/ and solutions/, in notebook order."""
    found = []
    for source in kit_notebooks(root):
        folder = source.parent / FOLDER / source.stem
        found += [load(path) for path in sorted(folder.glob("*.json"))]
    return found


def _seconds(value):
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _current(record, root):
    try:
        notebook = json.loads((Path(root) / record["notebook"]).read_text())
    except (OSError, ValueError):
        return False
    return record.get("digest") == DIGEST and source_digest(notebook) == record["source_sha256"]


def _busy(record):
    """Return True when other work kept the machine's cores busy during a run (load above the core count)."""
    machine = record.get("machine", {})
    load = machine.get("load_average")
    return load is None or load > (machine.get("cpus") or 1)


def run_time_table(found, root=ROOT):
    """Return the Markdown table of full-profile seconds per notebook, backend and device."""
    columns = [(name, DEVICE_CPU) for name in BACKENDS]
    columns += sorted({(r["backend"], r["device"]) for r in found if r["device"] != DEVICE_CPU})
    rows, totals = [], {column: 0.0 for column in columns}
    for notebook in dict.fromkeys(r["notebook"] for r in found):
        by_column = {(r["backend"], r["device"]): r for r in found if r["notebook"] == notebook}
        row = [notebook.removesuffix(".ipynb")]
        for column in columns:
            record = by_column.get(column)
            if record is None:
                row.append("–")
                continue
            mark = "" if record["status"] == "passed" and _current(record, root) else " (stale)"
            row.append(_seconds(record["seconds"]) + ("\\*" if _busy(record) else "") + mark)
            totals[column] += record["seconds"]
        rows.append(row)
    header = ["notebook"] + [f"{name} ({device})" for name, device in columns]
    rows.append(["all of them"] + [f"{totals[c] / 60:.1f} min" if totals[c] else "–" for c in columns])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if any(_busy(r) for r in found):
        lines += ["", "\\* the machine was busy with other work during this run (or its load was not recorded)."]
    return "\n".join(lines) + "\n"


def _figure(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def evidence_markdown(found, root=ROOT):
    """Return EVIDENCE.md: per notebook and run, the checks that held and the figures recorded."""
    lines = [
        "# Evidence of the full-profile runs",
        "",
        "Generated by `kerasdl evidence --write` from the files in `chapters/evidence/` and",
        "`solutions/evidence/`, which `kerasdl run --profile full` writes. A run backs the",
        "current notebook when its source hash matches; `make test` fails when one does not, or",
        "when a check printed something other than the notebook's stored answer.",
        "",
        "## Run times (seconds, wall clock, kernel start included)",
        "",
        run_time_table(found, root),
    ]
    for notebook in dict.fromkeys(r["notebook"] for r in found):
        runs = [r for r in found if r["notebook"] == notebook]
        lines += [f"## {notebook}", ""]
        lines += ["| backend | device | status | checks held | current | date | versions |", "|---" * 7 + "|"]
        for r in runs:
            held = sum(c["printed"] == c["expected"] for c in r["checks"])
            versions = ", ".join(f"{k} {v}" for k, v in r["versions"].items() if v)
            lines.append(
                f"| {r['backend']} | {r['device_name'] or r['device']} | {r['status']} | {held}/{len(r['checks'])} | "
                f"{'yes' if _current(r, root) else 'no'} | {r['date']} | {versions} |"
            )
        names = list(dict.fromkeys(k for r in runs for k in r["figures"] if k != "backend"))
        if names:
            lines += ["", "| figure | " + " | ".join(f"{r['backend']} ({r['device']})" for r in runs) + " |"]
            lines.append("|---|" + "---|" * len(runs))
            for key in names:
                cells = [_figure(r["figures"][key]) if key in r["figures"] else "–" for r in runs]
                lines.append(f"| {key} | " + " | ".join(cells) + " |")
        lines.append("")
        lines += [f"- {r['backend']} ({r['device']}): {line}" for r in runs for line in failed_checks(r)]
        if lines[-1] != "":
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def headline_table(found):
    """Return the Markdown table of the README's headline figures, per backend, from the CPU evidence."""
    header = ["figure"] + [f"{name}" for name in BACKENDS]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_key = {(r["notebook"], r["backend"]): r for r in found if r["device"] == DEVICE_CPU}
    for notebook, key, label in HEADLINES:
        cells = []
        for name in BACKENDS:
            figures = by_key.get((notebook, name), {}).get("figures", {})
            cells.append(_figure(figures[key]) if figures.get(key) is not None else "–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _markers(section):
    return (
        f"<!-- {section}: generated by `kerasdl evidence --write` from the evidence files -->",
        f"<!-- end of {section} -->",
    )


def readme_with(readme_text, section, table):
    """Return the README with `table` between the two markers of `section`."""
    begin, end_marker = _markers(section)
    start, end = readme_text.find(begin), readme_text.find(end_marker)
    if start < 0 or end < start:
        raise KerasdlError(f"README.md has no {section} markers: add {begin} and {end_marker}")
    return readme_text[: start + len(begin)] + "\n" + table + readme_text[end:]


def generated(root=ROOT):
    """Return {path: text} of the files generated from the evidence."""
    found = records(root)
    readme = Path(root) / "README.md"
    text = readme_with(readme.read_text(), "run-times", run_time_table(found, root))
    text = readme_with(text, "headline-figures", headline_table(found))
    return {Path(root) / "EVIDENCE.md": evidence_markdown(found, root), readme: text}


def _command(args):
    notebooks = [Path(p).resolve() for p in args.paths] or kit_notebooks()
    found = [line for source in notebooks for line in problems(source)]
    if args.write:
        for path, text in generated().items():
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for line in found:
        print(line)
    print(f"{len(notebooks)} notebooks, {len(found)} problems with their evidence")
    return 1 if found else 0


def add_parser(commands):
    """Add the `evidence` command to the kerasdl command line."""
    p = commands.add_parser(
        "evidence",
        help="check that full-profile evidence backs every chapter and solution; regenerate its tables",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument(
        "paths", nargs="*", metavar="NOTEBOOK", help="notebooks to check (default: every chapter and solution)"
    )
    p.add_argument("--write", action="store_true", help="regenerate EVIDENCE.md and the README's run-time table")
    p.set_defaults(func=_command)
    return p

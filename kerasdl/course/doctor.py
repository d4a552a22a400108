"""`kerasdl doctor`: the environment in one table, with a fix for each problem found."""

import concurrent.futures
import json
import os
import subprocess
import sys

from kerasdl import backend, runtime
from kerasdl.course import kernels
from kerasdl.course.text import first_line
from kerasdl.errors import KerasdlError

OK, PROBLEM, INFO = "ok", "PROBLEM", "info"
_INSTALL_FIX = 'run `make run` (or `pip install -e ".[all]"`) in the kit\'s folder'


def _probe(name, timeout=180):
    """Return runtime.describe() as seen by a fresh Python process on backend `name`."""
    env = dict(os.environ, KERAS_BACKEND=name, TF_CPP_MIN_LOG_LEVEL="3")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kerasdl.runtime", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"importing {name} took over {timeout} s"}
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return {"error": lines[-1] if lines else f"exit code {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def checks():
    """Return a list of (area, item, status, detail, fix) rows describing this environment."""
    rows = []
    versions = runtime.versions()
    python_ok = sys.version_info >= (3, 10)
    rows.append(
        (
            "python",
            sys.executable,
            OK if python_ok else PROBLEM,
            versions["python"],
            "" if python_ok else "use Python 3.10 or newer (3.11 is tested)",
        )
    )
    rows.append(
        (
            "keras",
            "keras",
            OK if versions["keras"] else PROBLEM,
            versions["keras"] or "not installed",
            "" if versions["keras"] else _INSTALL_FIX,
        )
    )

    try:
        name, reason = backend.active()
        backend.check()
        rows.append(("backend", "active", OK, f"{name} ({reason})", ""))
    except KerasdlError as error:
        rows.append(("backend", "active", PROBLEM, str(error), "set KERAS_BACKEND to jax, torch or tensorflow"))
    try:
        rows.append(("profile", "KERASDL_PROFILE", OK, runtime.profile(), ""))
    except KerasdlError as error:
        rows.append(("profile", "KERASDL_PROFILE", PROBLEM, str(error), "unset it or use quick/full"))

    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        probes = dict(zip(backend.BACKENDS, pool.map(_probe, backend.BACKENDS)))
    for name in backend.BACKENDS:
        info = probes[name]
        version = versions.get(name)
        if "error" in info or info.get("error"):
            rows.append(
                (
                    name,
                    "framework",
                    PROBLEM,
                    info.get("error", "?"),
                    f'pip install -e ".[{name}]"' if not version else "see the error; reinstall with `make run`",
                )
            )
            continue
        devices = ", ".join(f"{kind} {desc}" for kind, desc in info["devices"]) or "none"
        rows.append((name, f"{name} {version}", OK, devices, ""))

    for name in backend.BACKENDS:
        try:
            kernel = kernels.require(name)
            rows.append(("kernel", kernel, OK, kernels.DISPLAY_NAMES[name], ""))
        except KerasdlError as error:
            rows.append(
                (
                    "kernel",
                    kernels.kernel_name(name),
                    PROBLEM,
                    str(error).split(":")[0],
                    "run `kerasdl kernels install`",
                )
            )

    rows.extend(_data_rows())
    return rows


def _data_rows():
    from kerasdl import data

    rows = []
    try:
        (x_train, _), (x_test, _) = data.load_digits()
        rows.append(("data", "digits (scikit-learn)", OK, f"{len(x_train) + len(x_test)} images, offline", ""))
    except Exception as error:  # any failure here is a broken install
        rows.append(("data", "digits (scikit-learn)", PROBLEM, first_line(error), _INSTALL_FIX))
    try:
        text = data.load_text()
        rows.append(("data", "Python docs text", OK, f"{len(text):,} characters, offline", ""))
    except Exception as error:
        rows.append(
            (
                "data",
                "Python docs text",
                PROBLEM,
                first_line(error),
                "use a Python with its standard library's pydoc_data, or pass a text file",
            )
        )
    for name in ("mnist", "fashion_mnist", "cifar10"):
        cached = data.is_cached(name)
        rows.append(
            (
                "data",
                name,
                INFO,
                "cached" if cached else "not cached: needs the network once",
                "" if cached else "offline, use kerasdl.data.load_digits()",
            )
        )
    return rows


def _print_table(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(3)]
    for area, item, status, detail, fix in rows:
        mark = {"ok": "✔", "PROBLEM": "✘", "info": "·"}[status]
        line = f"{mark} {area:<{widths[0]}}  {item:<{widths[1]}}  {detail}"
        print(line + (f"\n    fix: {fix}" if fix and status == PROBLEM else (f"  ({fix})" if fix else "")))


def _doctor(args):
    rows = checks()
    if args.json:
        print(json.dumps([dict(zip(["area", "item", "status", "detail", "fix"], r)) for r in rows], indent=1))
    else:
        _print_table(rows)
    problems = [r for r in rows if r[2] == PROBLEM]
    if not args.json:
        print(f"\n{len(problems)} problem(s) found" if problems else "\nall good")
    return 1 if problems else 0


def add_parser(commands):
    parser = commands.add_parser(
        "doctor", help="check Python, keras, the three frameworks, devices, kernels and offline data"
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.set_defaults(func=_doctor)

"""A JupyterLab server on 127.0.0.1 and the few page actions a learner makes in it.

The server runs on a copy of the kit's notebooks with its own Jupyter config, data,
runtime, settings and workspace folders, so the tests neither read nor change the
user's. Every action goes through the page: clicks, the kernel picker, Shift+Enter,
typing into the editor; results are read from the rendered cells.
"""

import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("KERASDL_CHROMIUM", "/usr/bin/chromium"))
# Chromium reaches for Google's services at start; this machine's network is closed, and
# the tests must touch nothing but 127.0.0.1, so those features are off and every other
# host name resolves to nothing.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
# JupyterLab keeps only the cells in view in the page by default; the tests read them all.
TEST_SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}
KIT_DISPLAY_NAMES = ("Keras 3 · JAX (kerasdl)", "Keras 3 · PyTorch (kerasdl)", "Keras 3 · TensorFlow (kerasdl)")
PROMPT = re.compile(r"^\[(\d+)\]:$")


class LabError(AssertionError):
    """Something a learner would see go wrong in JupyterLab, in one message."""


def _die_with_parent():
    """Ask Linux to stop the server if the test process dies without cleaning up."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """`jupyter lab` on 127.0.0.1 with a random port and token, serving a copy of the kit."""

    def __init__(self, folder, jupyter=None):
        self.folder = Path(folder)
        self.kit = self.folder / "kit"
        self.kernels = self.folder / "jupyter-path" / "kernels"  # extra kernelspecs a test may add
        self.log_path = self.folder / "server.log"
        self.jupyter = jupyter or str(Path(sys.prefix) / "bin" / "jupyter")
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout=90):
        """Copy the notebooks, start the server and wait until it answers; return self."""
        for name in ("chapters", "exercises"):
            shutil.copytree(ROOT / name, self.kit / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        self.kernels.mkdir(parents=True)
        settings = self.folder / "settings"
        for name, values in TEST_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERASDL_KERNEL", "JUPYTER_TOKEN")}
        env.update(
            JUPYTER_CONFIG_DIR=str(self.folder / "config"),
            JUPYTER_DATA_DIR=str(self.folder / "data"),
            JUPYTER_RUNTIME_DIR=str(self.folder / "runtime"),
            JUPYTER_PATH=str(self.kernels.parent),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.folder / "workspaces"),
            KERASDL_PROFILE="quick",
            OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),
            TF_CPP_MIN_LOG_LEVEL="3",
            XLA_PYTHON_CLIENT_PREALLOCATE="false",
        )
        command = [
            self.jupyter,
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.kit}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=self.kit,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LabError(f"jupyter lab exited with status {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("status")
                return self
            except OSError:
                time.sleep(0.5)
        raise LabError(f"jupyter lab did not answer on {self.url} within {timeout} s:\n{self.log_tail()}")

    def stop(self):
        """Shut down every kernel, then the server (SIGTERM, then SIGKILL after 20 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            for kernel in self.api("kernels"):
                self.api(f"kernels/{kernel['id']}", method="DELETE")
        except (OSError, ValueError):
            pass
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines=25):
        """Return the last lines the server wrote."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def api(self, path, method="GET"):
        """Return the JSON answer of the server's REST API at /api/`path` (None when empty)."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def link(self, path=""):
        """Return the URL that opens `path` in JupyterLab with a fresh workspace."""
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def add_kernelspec(self, name, spec):
        """Install a kernelspec that only this server sees; return its folder."""
        folder = self.kernels / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kernel.json").write_text(json.dumps(spec))
        return folder

    def kernelspec_problems(self):
        """Return a line for each kernelspec whose program is missing (the learner's picker offers it anyway)."""
        problems = []
        for name, entry in sorted(self.api("kernelspecs")["kernelspecs"].items()):
            program = entry["spec"]["argv"][0]
            if program in ("python", "python3"):  # Jupyter runs its own Python for these
                continue
            if not (Path(program).is_file() if os.path.isabs(program) else shutil.which(program)):
                problems.append(
                    f"kernel {name!r} ({entry['spec']['display_name']!r}) runs {program}, which does not exist: "
                    f"choosing it fails; reinstall it (`kerasdl kernels install`) or remove it "
                    f"(`jupyter kernelspec remove {name}`)"
                )
        return problems


def launch_browser(playwright):
    """Return Debian's headless Chromium driven by Playwright (which cannot fetch a browser of its own)."""
    if not CHROMIUM.exists():
        raise LabError(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    # chromium_sandbox=False (Playwright's default) adds --no-sandbox, which Chromium needs as root.
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, chromium_sandbox=False)


class Notebook:
    """One notebook open in JupyterLab: select, type into and run its cells; read what they show."""

    def __init__(self, lab, page, path, timeout=300):
        self.lab, self.page, self.path, self.timeout = lab, page, path, timeout
        self.cells = json.loads((lab.kit / path).read_text())["cells"]
        page.goto(lab.link(path))
        self.panel = page.locator(".jp-NotebookPanel").filter(has=page.locator(".jp-Notebook")).last
        self.panel.locator(".jp-Cell").first.wait_for(timeout=timeout * 1000)
        self._wait(
            lambda: self.panel.locator(".jp-Notebook-cell").count() == len(self.cells),
            f"{path}: the page never showed all {len(self.cells)} cells",
        )
        self.wait_for_kernel()

    # ------------------------------------------------------------------ finding cells
    def index(self, predicate, start=0):
        """Return the index of the first cell from `start` whose stored source satisfies `predicate`."""
        for index in range(start, len(self.cells)):
            if predicate("".join(self.cells[index]["source"]), self.cells[index]["cell_type"]):
                return index
        raise LabError(f"{self.path}: no cell after {start} matches what the test looks for")

    def cell(self, index):
        return self.panel.locator(".jp-Notebook-cell").nth(index)

    def output(self, index):
        """Return the text the page shows under cell `index`."""
        return "\n".join(self.cell(index).locator(".jp-OutputArea-output").all_inner_texts()).strip()

    def show(self, index):
        """Scroll cell `index` to the middle of the notebook's view (for a screenshot)."""
        self.cell(index).evaluate("cell => cell.scrollIntoView({block: 'center'})")

    # ------------------------------------------------------------------ kernels
    def kernel_label(self):
        return self.panel.locator(".jp-KernelName").inner_text().strip()

    def _session_kernel(self):
        for session in self.lab.api("sessions"):
            if session["path"] == self.path:
                return session["kernel"]
        return None

    def wait_for_kernel(self, display_name=None):
        """Wait until the page shows `display_name` (when given) and the kernel is idle."""
        specs = self.lab.api("kernelspecs")["kernelspecs"]

        def ready():
            self._raise_on_dialog()
            kernel = self._session_kernel()
            if kernel is None or kernel["execution_state"] != "idle":
                return False
            shown = specs.get(kernel["name"], {}).get("spec", {}).get("display_name")
            if display_name and shown != display_name:
                return False
            status = self.panel.locator(".jp-Notebook-ExecutionIndicator").get_attribute("data-status")
            return status == "idle" and self.kernel_label() == shown

        self._wait(
            ready,
            f"{self.path}: the kernel {display_name or ''} never became idle (the page shows {self.kernel_label()!r})",
        )

    def picker_labels(self):
        """Open the kernel picker, return the kernels it offers to start (display names), and cancel it."""
        self.panel.locator(".jp-KernelName jp-button").click()
        dialog = self.page.locator(".jp-Dialog")
        labels = self._start_options(dialog)
        dialog.locator(".jp-mod-reject").click()
        dialog.wait_for(state="detached")
        return labels

    @staticmethod
    def _start_options(dialog):
        return dialog.locator("select optgroup[label^='Start'] option").all_inner_texts()

    def kernel_problems(self):
        """Return one line for each problem a learner would meet in the kernel picker (empty when none)."""
        labels = self.picker_labels()
        problems = []
        specs = self.lab.api("kernelspecs")["kernelspecs"]
        for label in sorted(set(labels)):
            if labels.count(label) > 1:
                names = sorted(name for name, entry in specs.items() if entry["spec"]["display_name"] == label)
                problems.append(
                    f"the kernel picker shows {label!r} {labels.count(label)} times (kernelspecs "
                    f"{', '.join(names)}): a learner cannot tell which is which; remove the extra ones "
                    f"with `jupyter kernelspec remove NAME`"
                )
        for label in KIT_DISPLAY_NAMES:
            if label not in labels:
                problems.append(f"the kernel picker does not offer {label!r}: run `kerasdl kernels install`")
        return problems + self.lab.kernelspec_problems()

    def change_kernel(self, display_name, screenshot=None):
        """Pick `display_name` in Kernel → Change Kernel…, wait until it is idle; save a screenshot of the picker."""
        self._menu("Kernel", "kernelmenu:change")
        dialog = self.page.locator(".jp-Dialog")
        labels = self._start_options(dialog)
        if labels.count(display_name) != 1:
            dialog.locator(".jp-mod-reject").click()
            found = "not at all" if not labels else f"{labels.count(display_name)} times"
            raise LabError(
                f"the kernel picker shows {display_name!r} {found} (it offers {labels}): "
                "a learner cannot pick that backend"
            )
        dialog.locator("select").select_option(label=display_name)
        if screenshot:
            self.page.screenshot(path=screenshot, full_page=True)
        dialog.locator(".jp-mod-accept").click()
        self.wait_for_kernel(display_name)

    def restart_and_clear(self):
        """Kernel → Restart Kernel and Clear Outputs of All Cells…, confirmed; wait until idle."""
        label = self.kernel_label()
        self._menu("Kernel", "kernelmenu:restart-and-clear")
        self.page.locator(".jp-Dialog .jp-mod-accept").click()
        self._wait(lambda: not self.cell_prompts(range(len(self.cells))), "the outputs were not cleared by the restart")
        self.wait_for_kernel(label)

    # ------------------------------------------------------------------ editing and running
    def cell_prompts(self, indices):
        """Return {index: prompt} for the code cells among `indices` that show a prompt with a number or *."""
        shown = self.panel.locator(".jp-Notebook-cell").evaluate_all(
            "cells => cells.map(cell => (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '')"
        )
        prompts = {}
        for index in indices:
            text = shown[index].replace("\xa0", " ").strip()
            if self.cells[index]["cell_type"] == "code" and text not in ("[ ]:", ""):
                prompts[index] = text
        return prompts

    def select(self, index):
        """Select cell `index` in command mode, as a click on its prompt area does."""
        self.cell(index).locator(".jp-InputArea-prompt").click()
        self._wait(
            lambda: (
                "jp-mod-selected" in (self.cell(index).get_attribute("class") or "")
                and self.panel.locator(".jp-Notebook.jp-mod-commandMode").count() == 1
            ),
            f"cell {index} could not be selected",
        )

    def type_into(self, index, text):
        """Replace cell `index`'s source by typing `text` into its editor, then leave edit mode."""
        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+a")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(text)
        shown = editor.locator(".cm-line").evaluate_all("lines => lines.map(line => line.textContent).join('\\n')")
        if shown.rstrip() != text.rstrip():
            raise LabError(f"the editor of cell {index} shows something else than what was typed:\n{shown}")
        self.page.keyboard.press("Escape")

    def run(self, first, last):
        """Run cells first..last with Shift+Enter, as a learner does; wait for each to finish.

        A cell is finished when its prompt shows a new number, so run cells after
        restart_and_clear() or after they ran in the same kernel (a notebook may ship
        with execution counts the new run repeats).

        Raises LabError with the cell's traceback when one fails, and when a cell writes to
        stderr (a learner sees it in red).
        """
        before = self.cell_prompts(range(first, last + 1))
        self.select(first)
        for _ in range(first, last + 1):
            self.page.keyboard.press("Shift+Enter")
        code = [i for i in range(first, last + 1) if self.cells[i]["cell_type"] == "code"]

        def done():
            for index in code:
                self._raise_on_failure(index)
            prompts = self.cell_prompts(code)
            return all(PROMPT.match(prompts.get(i, "")) and prompts[i] != before.get(i) for i in code)

        self._wait(done, f"cells {first}..{last} did not finish (prompts {self.cell_prompts(code)})")
        for index in code:
            self._raise_on_failure(index)

    def _raise_on_failure(self, index):
        cell = self.cell(index)
        for kind in ("error", "stderr"):
            found = cell.locator(f".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.{kind}']")
            if found.count():
                text = found.first.inner_text().strip()
                raise LabError(
                    f"cell {index} shows {'an error' if kind == 'error' else 'stderr'}:\n"
                    + "\n".join(text.splitlines()[-8:])
                )

    # ------------------------------------------------------------------ helpers
    def _menu(self, title, command):
        self.page.locator(".lm-MenuBar-item", has_text=title).first.click()
        self.page.locator(f".lm-Menu-item[data-command='{command}']").click()
        self.page.locator(".jp-Dialog").wait_for()

    def _raise_on_dialog(self):
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            header = dialog.locator(".jp-Dialog-header").inner_text().strip()
            if header not in ("Select Kernel", "Restart Kernel?"):
                body = dialog.locator(".jp-Dialog-body").inner_text().strip()
                raise LabError(f"JupyterLab shows {header!r}: {body[:600]}")

    def _wait(self, condition, message):
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.25)
        raise LabError(f"{message} after {self.timeout} s; server log:\n{self.lab.log_tail(10)}")

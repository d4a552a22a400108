"""`make lab` starts as root and as a normal user; the kit's JupyterLab settings are installed and valid."""

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import ROOT

OVERRIDES = ROOT / "tools" / "lab_overrides.json"
LAB = Path(sys.prefix) / "share" / "jupyter" / "lab"


def lab_command():
    """Return the command line `make lab` would run (make -n prints it without running it)."""
    lines = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return next(line for line in lines.splitlines() if "jupyter lab" in line)


def test_make_lab_allows_root_only_when_run_as_root():
    command = lab_command()
    assert command.startswith(".venv/bin/jupyter lab --notebook-dir=.")
    assert ("--allow-root" in command) == (os.geteuid() == 0)


def test_the_set_up_installed_the_kits_lab_settings():
    installed = LAB / "settings" / "overrides.json"
    assert installed.is_file(), f"{installed} is missing: run `make env`"
    assert json.loads(installed.read_text()) == json.loads(OVERRIDES.read_text()), "run `make env` to update it"


def test_every_setting_names_a_real_plugin_option_and_a_valid_value():
    settings = json.loads(OVERRIDES.read_text())
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    for plugin, values in settings.items():
        package, name = plugin.split(":")
        schema = json.loads((LAB / "schemas" / package / f"{name}.json").read_text())
        for key, value in values.items():
            option = schema["properties"][key]
            allowed = [choice["const"] for choice in option.get("oneOf", [])]
            assert not allowed or value in allowed, f"{plugin} {key}: {value!r} is not one of {allowed}"
            assert {"string": str, "boolean": bool}[option["type"]] is type(value)

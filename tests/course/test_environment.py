"""The three ways to install the kit must agree: pyproject, environment.yml, constraints."""

import re

import tomllib
import yaml

from helpers import ROOT


def requirement_name(line):
    """Return the normalised package name of a requirement like 'jupyter_client>=8.6'."""
    return re.split(r"[<>=!~\[ ;]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return sorted(set(project["dependencies"] + extras["all"] + extras["dev"]))


def conda_pip_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    return sorted(line for line in pip if not line.startswith("-e"))


def differences(first, second):
    """Return the requirements found in only one of two lists (empty when they agree)."""
    return sorted(set(first) ^ set(second))


def test_environment_yml_lists_what_pyproject_lists():
    assert differences(pyproject_requirements(), conda_pip_requirements()) == []


def test_a_disagreement_is_caught():
    conda = conda_pip_requirements()
    assert differences(pyproject_requirements(), conda[:-1]) == [conda[-1]]
    bumped = [line.replace("keras>=3.15", "keras>=3.0") for line in conda]
    assert differences(pyproject_requirements(), bumped) == ["keras>=3.0", "keras>=3.15"]


def test_each_backend_extra_is_part_of_all():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert sorted(extras["jax"] + extras["torch"] + extras["tensorflow"]) == sorted(extras["all"])


def test_constraints_pin_every_direct_dependency_exactly():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[requirement_name(name)] = version
    missing = [r for r in pyproject_requirements() if requirement_name(r) not in pins]
    assert missing == []
    assert pins["torch"] == "2.13.0"  # the CPU wheel the course machines carry

"""What the real Pulumi CLI does with our project files, pinned from its source (github.com/pulumi/pulumi).

`pulumi preview --policy-pack policies` on a fresh checkout: the engine first installs the program's plugins
(pkg/engine/update.go newUpdateSource, step 1: the Python host's GetRequiredPackages calls EnsureVenv, which
creates Pulumi.yaml's virtualenv from requirements.txt), then starts the local pack (step 2), for which it
creates nothing: pulumi-language-python RunPlugin runs `<virtualenv>/bin/python -m pulumi.policy`.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "Pulumi.yaml"
PACK = ROOT / "policies" / "PulumiPolicy.yaml"


def _runtime_options(manifest: Path) -> dict[str, str]:
    return yaml.safe_load(manifest.read_text())["runtime"]["options"]


def _virtualenv(manifest: Path) -> str:
    # sdk/python/toolchain/pip.go resolveVirtualEnvironmentPath: a relative virtualenv is joined to the
    # directory of Pulumi.yaml or PulumiPolicy.yaml (the pack's RootDirectory, analyzer_plugin.go).
    return os.path.normpath(manifest.parent / _runtime_options(manifest)["virtualenv"])


def _requirements(path: Path) -> list[Requirement]:
    """The requirements pip installs from `path`, `-r` includes followed (relative to the including file)."""
    found = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += _requirements(path.parent / line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def _by_name(path: Path) -> dict[str, Requirement]:
    """Each package once, with every bound pip applies to it (a package listed twice gets both)."""
    combined: dict[str, Requirement] = {}
    for requirement in _requirements(path):
        if requirement.name in combined:
            requirement.specifier &= combined[requirement.name].specifier
        combined[requirement.name] = requirement
    return combined


def _floor(requirement: Requirement) -> Version:
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
    assert floors, f"{requirement} has no lower bound"
    return max(floors)


def test_the_local_pack_runs_from_the_virtualenv_the_program_install_creates() -> None:
    assert _virtualenv(PACK) == _virtualenv(PROJECT), (
        f"the pack starts from {_virtualenv(PACK)}, which no CLI command creates for a local pack; "
        f"the program's install creates {_virtualenv(PROJECT)}"
    )


def test_the_program_install_provides_everything_the_pack_needs() -> None:
    program = _by_name(ROOT / "requirements.txt")
    for requirement in _requirements(ROOT / "policies" / "requirements.txt"):
        assert requirement.name in program, f"requirements.txt does not install the pack's {requirement}"
        assert _floor(program[requirement.name]) >= _floor(requirement), program[requirement.name]


def test_that_virtualenv_starts_the_pack() -> None:
    python = Path(_virtualenv(PROJECT)) / "bin" / "python"  # pip.go IsVirtualEnv: <venv>/bin/python
    result = subprocess.run(
        [str(python), "-c", "import pulumi.policy, pulumi_policy, network_guard"],
        cwd=PACK.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("requirements", ["requirements.txt", "policies/requirements.txt"])
def test_sdk_floors_are_the_ones_the_dependencies_declare(requirements: str) -> None:
    """`pulumi>=3.200` was not what gets installed: pulumi-aws 7.51 declares pulumi>=3.231."""
    listed = _by_name(ROOT / requirements)
    for name, requirement in listed.items():
        installed = importlib.metadata.distribution(name)
        tested = Version(installed.version)
        assert requirement.specifier.contains(tested), f"{requirements}: {requirement}, tests run {tested}"
        for declared in map(Requirement, installed.requires or []):
            if declared.name in listed and not declared.marker:
                assert _floor(listed[declared.name]) >= _floor(declared), (
                    f"{requirements}: {listed[declared.name]}, but {name} {tested} declares {declared}"
                )


# What our project files use, and the first CLI release that accepts it.
CLI_FEATURES = {
    # CHANGELOG 3.45.0: "[cli/config] Typing made optional, extended short-hand values to arrays".
    "typed config in Pulumi.yaml": (
        Version("3.45.0"),
        lambda: all("type" in key for key in yaml.safe_load(PROJECT.read_text())["config"].values()),
    ),
    # Before 3.119 the CLI passed each runtime option as a flag to pulumi-language-python, which had no
    # `-toolchain` flag and exited (sdk/python/cmd/pulumi-language-python/main.go, added in #16243).
    "runtime option toolchain": (
        Version("3.119.0"),
        lambda: "toolchain" in _runtime_options(PROJECT) or "toolchain" in _runtime_options(PACK),
    ),
}


def test_readme_states_the_cli_floor_our_files_need() -> None:
    used = {feature: version for feature, (version, uses) in CLI_FEATURES.items() if uses()}
    assert used == {feature: version for feature, (version, _) in CLI_FEATURES.items()}, "a feature is unused"
    floor = max(used.values())
    stated = re.search(r"Pulumi CLI (\d+\.\d+) or later", (ROOT / "README.md").read_text())
    assert stated is not None, "README does not state the minimum Pulumi CLI"
    assert Version(stated.group(1)) == floor, (stated.group(0), used)

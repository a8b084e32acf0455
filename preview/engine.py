"""Run a stack of this project under the SDK's mock engine and record what it registers.

This plays the part of the Pulumi CLI for an offline preview: it reads `Pulumi.yaml` and
`Pulumi.<stack>.yaml` as the CLI does (preview/cli_config.py), hands the program its config as the
language host does (the PULUMI_CONFIG environment variable), runs
`__main__.py` with the mock engine in preview mode, and records every registration with its parent,
dependencies and property dependencies: the same picture the CLI hands to a policy pack.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import reset_options
from pulumi.runtime.sync_await import _sync_await

from preview.cli_config import StackConfigError, load_project, merge_config, read_stack_file
from preview.mocks import AwsMocks
from preview.model import ResourceRecord

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REGION = "us-east-1"
_CONFIG_ENV = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")


@dataclass
class StackRun:
    """What one run of the program registered and exported, or the error it stopped with."""

    stack: str
    project: str
    config: dict[str, str]
    records: list[ResourceRecord] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def resources(self) -> list[ResourceRecord]:
        """The resources a deployment would create: everything but the stack and providers."""
        return [r for r in self.records if r.type != "pulumi:pulumi:Stack" and not _is_provider(r.type)]

    def of_type(self, resource_type: str) -> list[ResourceRecord]:
        return [r for r in self.records if r.type == resource_type]

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {r.urn: r for r in self.records}


def _is_provider(resource_type: str) -> bool:
    return resource_type.startswith("pulumi:providers:")


def shipped_stacks(project_dir: Path = PROJECT_DIR) -> list[str]:
    """The stacks this project ships: one `Pulumi.<stack>.yaml` each."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def load_stack_config(
    stack: str, project_dir: Path = PROJECT_DIR, overrides: Mapping[str, Any] | None = None
) -> tuple[str, dict[str, str]]:
    """The project name and the config the CLI would give the program for `stack` (see preview/cli_config.py).

    `overrides` take full keys and stand in the stack file as if written there; a value of None removes a key.
    Raises StackConfigError, naming the file, wherever the CLI would stop.
    """
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = ", ".join(shipped_stacks(project_dir)) or "none"
        raise StackConfigError(
            f"stack '{stack}': there is no {stack_file.name}; the stacks here are: {known}"
        )
    project = load_project(project_dir / "Pulumi.yaml")
    # Undeclared keys pass, as the CLI passes them since 3.45; the program refuses those in its namespace.
    stack_values = read_stack_file(stack_file, project)
    for key, value in (overrides or {}).items():
        if value is None:
            stack_values.pop(key, None)
        else:
            stack_values[key] = value
    values = merge_config(stack, project, stack_values, stack_file.name)
    return project.name, {key: value.text for key, value in values.items()}


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, keeping each registration as the CLI would show it to an analyzer."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[ResourceRecord] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                properties=json_format.MessageToDict(request.object),
                parent=request.parent,
                dependencies=tuple(request.dependencies),
                property_dependencies={
                    key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()
                },
                provider=request.provider,
                id=response.id,
            )
        )
        return response


def _exported_outputs() -> dict[str, Any]:
    stack = pulumi.runtime.settings.get_root_resource()
    outputs = getattr(stack, "outputs", {}) or {}
    return {
        name: _sync_await(rpc.serialize_property(value, [], None, keep_output_values=False))
        for name, value in outputs.items()
    }


def run_stack(
    stack: str,
    *,
    project_dir: Path = PROJECT_DIR,
    config_overrides: Mapping[str, Any] | None = None,
    preview: bool = True,
) -> StackRun:
    """Run the program for `stack` under mocks and return what it registered.

    `config_overrides` take full keys (`zappa-vpc:pattern`) and win over the stack file; a value of None
    removes a key. A `pulumi.RunError` from the program (how it reports bad settings) becomes
    `StackRun.error`; any other exception is a bug and propagates.
    """
    project_name, config = load_stack_config(stack, project_dir, config_overrides)
    region = config.get("aws:region", DEFAULT_REGION)
    run = StackRun(stack=stack, project=project_name, config=config)

    reset_options(project=project_name, stack=stack, preview=preview)
    monitor = RecordingMonitor(AwsMocks(region=region, preview=preview))
    pulumi.runtime.set_mocks(
        monitor.mocks, project=project_name, stack=stack, preview=preview, monitor=monitor
    )

    program = str(project_dir / "__main__.py")
    added_path = str(project_dir) not in sys.path
    if added_path:
        sys.path.insert(0, str(project_dir))
    # As pulumi-language-python (main.go `constructConfig`): the program finds its config in PULUMI_CONFIG.
    pulumi.runtime.set_all_config({}, [])
    saved_env = {name: os.environ.get(name) for name in _CONFIG_ENV}
    os.environ.update({"PULUMI_CONFIG": json.dumps(config), "PULUMI_CONFIG_SECRET_KEYS": "[]"})
    try:
        _sync_await(
            pulumi.runtime.stack.run_pulumi_func(lambda: runpy.run_path(program, run_name="__main__"))
        )
        run.outputs = _exported_outputs()
    except pulumi.RunError as error:
        run.error = str(error)
    finally:
        if added_path:
            sys.path.remove(str(project_dir))
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    run.records = list(monitor.records)
    return run

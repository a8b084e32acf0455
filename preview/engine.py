"""Run a stack of a Pulumi Python project under the SDK's mock engine and record what it registers.

This plays the part of the Pulumi CLI for an offline preview, for this project or any other: it reads
`Pulumi.yaml` and `Pulumi.<stack>.yaml` as the CLI does (preview/cli_config.py; `main:` here), hands the
program its config as the language host does (the PULUMI_CONFIG environment variable), runs the program
with the mock engine in preview mode, and records every registration with its parent, dependencies and
property dependencies: the same picture the CLI hands to a policy pack.
"""

from __future__ import annotations

import json
import os
import runpy
import site
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import reset_options
from pulumi.runtime.sync_await import _sync_await

from preview.cli_config import StackConfigError, load_project, merge_config, read_stack_file
from preview.mocks import AwsMocks
from preview.model import ResourceRecord

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_REGION = "us-east-1"
_CONFIG_ENV = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")


class ProgramError(Exception):
    """The program raised something other than `pulumi.RunError`; the original is the `__cause__`."""

    def __init__(self, unanswered: Mapping[str, int]) -> None:
        super().__init__("the program failed")
        self.unanswered = dict(unanswered)


@dataclass
class StackRun:
    """What one run of the program registered and exported, or the error it stopped with."""

    stack: str
    project: str
    config: dict[str, str]
    records: list[ResourceRecord] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # Data sources the preview had no answer for (token -> calls): their results were unknown.
    unanswered: dict[str, int] = field(default_factory=dict)

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


@dataclass(frozen=True)
class Program:
    """Where the CLI would find and run a project's program, from its Pulumi.yaml."""

    name: str
    pwd: Path  # the directory the program runs in
    main: Path  # a directory with __main__.py, or a .py file
    virtualenv: Path | None  # runtime option `virtualenv`, resolved against the project directory


def load_program(project_dir: Path = PROJECT_DIR) -> Program:
    """The program of the project in `project_dir`, read as the CLI reads Pulumi.yaml."""
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        raise StackConfigError(f"{project_dir} is not a Pulumi project: it has no Pulumi.yaml")
    project = yaml.safe_load(project_file.read_text()) or {}
    if not isinstance(project, dict) or not project.get("name"):
        raise StackConfigError(f"{project_file}: a Pulumi.yaml needs a `name:`")
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise StackConfigError(
            f"{project_file}: runtime is {runtime_name!r}; the offline preview runs Python programs "
            "(runtime: python) only"
        )
    options = (runtime.get("options") if isinstance(runtime, dict) else None) or {}
    pwd, main = _pwd_main(project_dir, project_file, str(project.get("main") or ""))
    virtualenv = options.get("virtualenv")
    return Program(
        name=str(project["name"]),
        pwd=pwd,
        main=main,
        virtualenv=(project_dir / virtualenv) if virtualenv else None,
    )


def _pwd_main(project_dir: Path, project_file: Path, main: str) -> tuple[Path, Path]:
    # As the CLI resolves `main:` (pkg/engine/project.go, getPwdMain): relative to the project; a
    # directory becomes the working directory, a file runs in its own directory.
    if not main:
        return project_dir, project_dir
    target = project_dir / main
    if target.is_dir():
        return target, target
    if target.is_file():
        return target.parent, target
    raise StackConfigError(f"{project_file}: main: {main} does not exist in {project_dir}")


def _virtualenv_site_packages(virtualenv: Path) -> Path:
    """The site-packages of `virtualenv`, which must be for this Python, since its packages are
    imported into this process."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (virtualenv / "lib" / version / "site-packages", virtualenv / "Lib" / "site-packages"):
        if candidate.is_dir():
            return candidate
    found = sorted(p.parent.name for p in virtualenv.glob("lib/python3*/site-packages"))
    if found:
        raise StackConfigError(
            f"virtualenv {virtualenv} is for {', '.join(found)}; the preview runs on {version}: make the "
            f"virtualenv with {version}, or install the program's requirements into the preview's own"
        )
    raise StackConfigError(f"virtualenv {virtualenv}: no such virtualenv (no lib/{version}/site-packages)")


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

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.aws = mocks
        self.records: list[ResourceRecord] = []
        self.unanswered: dict[str, int] = {}  # data source token -> calls answered "unknown"

    def Invoke(self, request):
        # A data source with no offline answer is wholly unknown, as the engine reports an invoke it
        # declines to serve (ResourceInvokeResponse.unknown): an output-form call gives an unknown Output.
        if request.tok != "pulumi:pulumi:getResource":
            args = json_format.MessageToDict(request.args)
            if self.aws.answer(request.tok, args) is None:
                self.unanswered[request.tok] = self.unanswered.get(request.tok, 0) + 1
                return resource_pb2.ResourceInvokeResponse(unknown=True)
        return super().Invoke(request)

    def RegisterResource(self, request):
        # Resource references become ids (URNs for components) before the mocks or the pack see them.
        properties = _without_references(json_format.MessageToDict(request.object))
        plain = type(request)()
        plain.CopyFrom(request)
        plain.object.Clear()
        plain.object.update(properties)
        request = plain
        response = super().RegisterResource(request)
        self.records.append(
            ResourceRecord(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                properties=properties,
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


_SIG_KEY = rpc._special_sig_key
_RESOURCE_SIG = rpc._special_resource_sig


def _without_references(value: Any) -> Any:
    """A resource passed as an input, as the CLI shows it to an analyzer: a custom resource as its id
    (unknown on a preview), a component as its URN (sdk/go/common/resource/plugin/rpc.go,
    MarshalPropertyValue with KeepResources false, which analyzer_plugin.go uses)."""
    if isinstance(value, dict):
        if value.get(_SIG_KEY) == _RESOURCE_SIG:
            if "id" in value:
                return value["id"] or rpc.UNKNOWN
            return value.get("urn", "")
        return {key: _without_references(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_references(item) for item in value]
    return value


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
    answers: Mapping[str, Mapping[str, Any]] | None = None,
    virtualenv: Path | None = None,
) -> StackRun:
    """Run the program for `stack` under mocks and return what it registered.

    `config_overrides` take full keys (`zappa-vpc:pattern`) and win over the stack file; a value of None
    removes a key. `answers` (data source token -> result) win over the preview's own. The program's own
    packages come from `virtualenv` (default: Pulumi.yaml's), added after the preview's, so the Pulumi
    SDK and provider are the preview's. A `pulumi.RunError` from the program (how it reports bad
    settings) becomes `StackRun.error`; any other exception is raised as the cause of a ProgramError.
    """
    program = load_program(project_dir)
    project_name, config = load_stack_config(stack, project_dir, config_overrides)
    region = config.get("aws:region", DEFAULT_REGION)
    run = StackRun(stack=stack, project=project_name, config=config)
    environment = virtualenv or program.virtualenv
    site_packages = None
    if environment is not None and (virtualenv is not None or environment.exists()):
        site_packages = _virtualenv_site_packages(environment)

    reset_options(project=project_name, stack=stack, preview=preview)
    mocks = AwsMocks(region=region, preview=preview, answers=answers)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project_name, stack=stack, preview=preview, monitor=monitor)

    saved_path, saved_cwd = list(sys.path), os.getcwd()
    # As the CLI's Python host runs it: in its directory, importable from there (pulumi-language-python-exec).
    sys.path.insert(0, str(program.pwd))
    if site_packages is not None and str(site_packages) not in sys.path:
        site.addsitedir(str(site_packages))
    os.chdir(program.pwd)
    # As pulumi-language-python (main.go `constructConfig`): the program finds its config in PULUMI_CONFIG.
    pulumi.runtime.set_all_config({}, [])
    saved_env = {name: os.environ.get(name) for name in _CONFIG_ENV}
    os.environ.update({"PULUMI_CONFIG": json.dumps(config), "PULUMI_CONFIG_SECRET_KEYS": "[]"})
    try:
        _sync_await(
            pulumi.runtime.stack.run_pulumi_func(
                lambda: runpy.run_path(str(program.main), run_name="__main__")
            )
        )
        run.outputs = _exported_outputs()
    except pulumi.RunError as error:
        run.error = str(error)
    except Exception as error:
        raise ProgramError(monitor.unanswered) from error
    finally:
        os.chdir(saved_cwd)
        sys.path[:] = saved_path
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    run.records = list(monitor.records)
    run.unanswered = dict(monitor.unanswered)
    return run

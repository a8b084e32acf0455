"""Run a CrossGuard policy pack the way the Pulumi CLI does and talk to it over gRPC.

The CLI starts a pack through the language host of its runtime (see `pack_command`), reads the port
the pack prints, then calls the Analyzer service: `GetAnalyzerInfo`, `Configure` (the resolved policy
config), `Analyze` for each resource as it is registered and `AnalyzeStack` once at the end. This
client does the same with `ResourceRecord`s.

No engine service is served: a Python analyzer only talks to the engine when PULUMI_PROJECT,
PULUMI_STACK and PULUMI_DRY_RUN are set (and even then its logs go to stderr), so the client clears
them and keeps the pack's stderr for error messages instead.
"""

from __future__ import annotations

import difflib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from preview.model import ResourceRecord

DEFAULT_PACK_DIR = Path(__file__).resolve().parent.parent / "policies"
# Passed where the CLI passes its engine address; nothing connects to it (see the module docstring).
_NO_ENGINE = "127.0.0.1:0"
_ENGINE_SETTINGS = ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_DRY_RUN")
# No credentials from anywhere boto3 looks (environment, files, instance metadata): an offline pack.
_NO_AWS = {
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
_MAX_MESSAGE = 400 * 1024 * 1024  # as the SDK's own server allows: a 50k-resource stack is tens of MB
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]

_LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_LEVELS = {name: value for value, name in _LEVEL_NAMES.items()}
_SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_POLICY_KINDS = {
    analyzer_pb2.POLICY_TYPE_UNKNOWN: "",
    analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
    analyzer_pb2.POLICY_TYPE_STACK: "stack",
}


class PolicyPackError(Exception):
    """The pack could not be started, or failed while answering."""


class PolicyConfigError(ValueError):
    """A policy config names a policy or a level the pack does not have."""


@dataclass(frozen=True)
class PolicyDiagnostic:
    """One violation, as the CLI would print it."""

    policy_name: str
    policy_pack: str
    policy_pack_version: str
    description: str
    message: str
    enforcement_level: str  # advisory | mandatory | remediate | disabled
    severity: str  # low | medium | high | critical, or "" when the policy sets none
    urn: str  # "" for the stack as a whole

    @property
    def mandatory(self) -> bool:
        return self.enforcement_level in ("mandatory", "remediate")


@dataclass(frozen=True)
class PolicyInfo:
    name: str
    description: str
    enforcement_level: str
    severity: str
    kind: str  # resource | stack
    remediation_steps: str
    config_schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AnalyzerInfo:
    name: str
    version: str
    description: str
    policies: tuple[PolicyInfo, ...]

    def policy(self, name: str) -> PolicyInfo:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)


def _struct(properties: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(properties)
    return struct


def analyze_request(record: ResourceRecord) -> analyzer_pb2.AnalyzeRequest:
    """What the CLI sends for one resource as it is registered: its inputs."""
    return analyzer_pb2.AnalyzeRequest(
        type=record.type,
        urn=record.urn,
        name=record.name,
        properties=_struct(record.properties),
        options=analyzer_pb2.AnalyzerResourceOptions(parent=record.parent),
    )


def stack_request(records: Iterable[ResourceRecord]) -> analyzer_pb2.AnalyzeStackRequest:
    """What the CLI sends at the end: every resource with its dependencies.

    The CLI sends a resource's outputs here, and a bridged AWS resource's outputs carry its `id`;
    records hold inputs, so a known id is added to them.
    """
    resources = []
    for record in records:
        properties: Mapping[str, Any] = record.properties
        if record.custom and record.id and "id" not in properties:
            properties = {**properties, "id": record.id}
        resources.append(
            analyzer_pb2.AnalyzerResource(
                type=record.type,
                urn=record.urn,
                name=record.name,
                properties=_struct(properties),
                options=analyzer_pb2.AnalyzerResourceOptions(parent=record.parent),
                parent=record.parent,
                dependencies=record.dependencies,
                propertyDependencies={
                    key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                    for key, urns in record.property_dependencies.items()
                },
            )
        )
    return analyzer_pb2.AnalyzeStackRequest(resources=resources)


def load_policy_config(path: Path | str) -> dict[str, Any]:
    """A `--policy-pack-config` file: policy name (or "all") to a level, or to an object of
    `enforcementLevel` and settings. Read as analyzer/config.go `parsePolicyPackConfig` does."""
    text = Path(path).read_text()
    if not text.strip():
        return {}  # "Gracefully allow empty content."
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyConfigError(
            f"{path}: not valid JSON ({error}); expected an object of policy names"
        ) from None
    if not isinstance(config, dict):
        raise PolicyConfigError(
            f"{path}: expected a JSON object of policy names, got {type(config).__name__}"
        )
    return config


def _level_problem(name: str, entry: Any) -> str | None:
    """analyzer/config.go `parsePolicyPackConfig` and `extractEnforcementLevel`, with their messages."""
    if not isinstance(entry, str | dict):
        return (
            f'parsing "{name}": {json.dumps(entry)} is not a valid value; must be a string or object '
            '(a level, or {"enforcementLevel": ..., setting: value})'
        )
    level = entry if isinstance(entry, str) else entry.get("enforcementLevel")
    prefix = f'parsing enforcement level for "{name}": '
    if isinstance(entry, dict) and "enforcementLevel" in entry and not isinstance(level, str):
        return f"{prefix}{json.dumps(level)} is not a valid enforcement level; must be a string"
    if level is not None and level not in _LEVELS:
        return f'{prefix}"{level}" is not a valid enforcement level; use one of: {", ".join(_LEVELS)}'
    return None


def _json_type(value: Any) -> str:
    # gojsonschema's names; a whole number is an integer even when written 3.0.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "null")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def schema_errors(schema: Mapping[str, Any], value: Any, field_name: str) -> list[str]:
    """gojsonschema's verdict on `value`, in its words (locales.go), for the keywords a policy config schema
    uses: type, enum, minimum/maximum (and exclusive), minLength/maxLength, items, minItems/maxItems."""
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        given = _json_type(value)
        if not (given in kinds or (given == "integer" and "number" in kinds)):
            expected = kinds[0] if len(kinds) == 1 else f"[{','.join(kinds)}]"
            return [f"{field_name}: Invalid type. Expected: {expected}, given: {given}"]
    errors = []
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(json.dumps(item) for item in schema["enum"])
        errors.append(f"{field_name}: {field_name} must be one of the following: {allowed}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        bounds = (
            ("minimum", lambda v, b: v >= b, "Must be greater than or equal to"),
            ("exclusiveMinimum", lambda v, b: v > b, "Must be greater than"),
            ("maximum", lambda v, b: v <= b, "Must be less than or equal to"),
            ("exclusiveMaximum", lambda v, b: v < b, "Must be less than"),
        )
        for keyword, holds, words in bounds:
            bound = schema.get(keyword)
            if isinstance(bound, int | float) and not isinstance(bound, bool) and not holds(value, bound):
                errors.append(f"{field_name}: {words} {_number(bound)}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(
                f"{field_name}: String length must be greater than or equal to {schema['minLength']}"
            )
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{field_name}: String length must be less than or equal to {schema['maxLength']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{field_name}: Array must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{field_name}: Array must have at most {schema['maxItems']} items")
        if isinstance(schema.get("items"), Mapping):
            for index, item in enumerate(value):
                errors += schema_errors(schema["items"], item, f"{field_name}.{index}")
    return errors


def policy_config_problems(info: AnalyzerInfo, config: Mapping[str, Any]) -> list[str]:
    """Every problem with `config` for this pack, as the CLI finds them before the program runs (engine/
    update.go `loadPolicyPlugins`: parse, `ReconcilePolicyPackConfig` with the schema defaults, validate
    each policy against its config schema). Names and settings the pack does not have are refused too,
    though the CLI would silently ignore them: a typo would leave a rule at its default."""
    names = {policy.name: policy for policy in info.policies}
    problems = []
    if "environments" in config:
        problems.append(
            "environments: Pulumi ESC environments can only be opened by the Pulumi CLI; for an offline "
            "preview write their policy settings into the file"
        )
    for name, entry in config.items():
        if name == "environments":
            continue
        if (level := _level_problem(name, entry)) is not None:
            problems.append(level)
            continue
        if name != "all" and name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            problems.append(
                f'"{name}": pack {info.name} has no such policy (the Pulumi CLI would silently ignore it); '
                + (
                    f'did you mean "{close[0]}"?'
                    if close
                    else f"its policies are: {', '.join(sorted(names))}"
                )
            )
    for policy in info.policies:
        entry = config.get(policy.name)
        given = {k: v for k, v in entry.items() if k != "enforcementLevel"} if isinstance(entry, dict) else {}
        for setting in sorted(set(given) - set(policy.config_schema)):
            known = sorted(policy.config_schema)
            close = difflib.get_close_matches(setting, known, n=1)
            problems.append(
                f'"{policy.name}": {setting}: not a setting of this policy (the Pulumi CLI would silently '
                "ignore it); "
                + (
                    f"did you mean {close[0]}?"
                    if close
                    else f"its settings are: {', '.join(known) or 'none'}"
                )
            )
        # analyzer/config.go `validatePolicyPackConfig`: the schema defaults overlaid with the settings given.
        settings = {
            key: schema["default"]
            for key, schema in policy.config_schema.items()
            if isinstance(schema, Mapping) and "default" in schema
        }
        settings.update(given)
        for key in sorted(settings):
            schema = policy.config_schema.get(key)
            if isinstance(schema, Mapping):
                problems += [
                    f"validating policy config: {info.name} {info.version}  {policy.name}: {error}"
                    for error in schema_errors(schema, settings[key], key)
                ]
    return problems


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, resource_urn: str = "") -> list[PolicyDiagnostic]:
    """The response's violations; those of resource policies carry no URN, so, as the CLI does, they are
    given the URN of the resource analyzed."""
    return [
        PolicyDiagnostic(
            policy_name=item.policyName,
            policy_pack=item.policyPackName,
            policy_pack_version=item.policyPackVersion,
            description=item.description,
            message=item.message,
            enforcement_level=_LEVEL_NAMES.get(item.enforcementLevel, str(item.enforcementLevel)),
            severity=_SEVERITY_NAMES.get(item.severity, ""),
            urn=item.urn or resource_urn,
        )
        for item in response.diagnostics
    ]


def pack_command(pack_dir: Path, python: str | None = None) -> list[str]:
    """The command the CLI's language host runs for the pack in `pack_dir`, by PulumiPolicy.yaml's runtime.

    Python (sdk/python/cmd/pulumi-language-python, RunPlugin): `python -u -m pulumi.policy <engine>
    <pack dir>`, with the python of the runtime option `virtualenv` (else `python`, here ours).
    Node.js (sdk/nodejs/cmd/pulumi-language-nodejs, RunPlugin): `node <@pulumi/pulumi/cmd/run-policy-pack
    found from the pack dir> <engine> <pack dir>`.
    """
    manifest_file = pack_dir / "PulumiPolicy.yaml"
    if not manifest_file.is_file():
        raise PolicyPackError(f"{pack_dir} is not a policy pack: it has no PulumiPolicy.yaml")
    manifest = yaml.safe_load(manifest_file.read_text()) or {}
    runtime = manifest.get("runtime") if isinstance(manifest, dict) else None
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    options = (runtime.get("options") if isinstance(runtime, dict) else None) or {}
    if name == "python":
        if python is None:
            virtualenv = options.get("virtualenv")
            venv_python = pack_dir / str(virtualenv) / "bin" / "python" if virtualenv else None
            python = str(venv_python) if venv_python and venv_python.exists() else sys.executable
        return [python, "-u", "-m", "pulumi.policy", _NO_ENGINE, str(pack_dir)]
    if name == "nodejs":
        runner = pack_dir / "node_modules" / "@pulumi" / "pulumi" / "cmd" / "run-policy-pack"
        if not runner.is_dir():
            # The CLI's words for this case (pkg/resource/plugin/analyzer_plugin.go, NewPolicyAnalyzer).
            raise PolicyPackError(
                "it looks like the policy pack's dependencies are not installed; "
                f"try running npm install or yarn install in {pack_dir}"
            )
        node = shutil.which("node")
        if node is None:
            raise PolicyPackError(
                f"the policy pack in {pack_dir} is a Node.js pack, and there is no `node` on PATH"
            )
        return [node, str(runner), _NO_ENGINE, str(pack_dir)]
    raise PolicyPackError(
        f"{manifest_file}: runtime {name!r}; the offline preview runs Python and Node.js (nodejs) packs"
    )


class PolicyPackClient:
    """A running policy pack. Use as a context manager; one process and one channel for its life.

    >>> with PolicyPackClient() as pack:
    ...     diagnostics = pack.analyze_stack(records)
    """

    def __init__(
        self,
        pack_dir: Path | str = DEFAULT_PACK_DIR,
        python: str | None = None,
        startup_timeout: float = 60.0,
        *,
        offline: bool = False,
    ) -> None:
        """`offline`: the pack gets no AWS credentials, so a pack that reads AWS (ours resolves ids it does
        not manage) makes no cloud call and reports what it could not read as a doubt."""
        self.pack_dir = Path(pack_dir).resolve()
        self.python = python
        self.startup_timeout = startup_timeout
        self.offline = offline
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: AnalyzerInfo | None = None
        self._startup_failure: PolicyPackError | None = None  # said again to every later call

    def __enter__(self) -> PolicyPackClient:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the pack and wait until it serves."""
        self.launch()
        self._connect()

    def launch(self) -> None:
        """Start the pack's process without waiting for it, so that its start-up (about a second of
        imports) overlaps other work; the first call waits until it serves."""
        if self._process is not None:
            return
        command = pack_command(self.pack_dir, self.python)
        env = {key: value for key, value in os.environ.items() if key not in _ENGINE_SETTINGS}
        if self.offline:
            env = {key: value for key, value in env.items() if not key.startswith("AWS_")} | _NO_AWS
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (kept open for the life of the pack)
        self._process = subprocess.Popen(
            command,
            cwd=self.pack_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )

    def _connect(self) -> None:
        assert self._process is not None
        try:
            port = self._read_port(self._process)
            self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
            try:
                grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
            except grpc.FutureTimeoutError:
                raise PolicyPackError(
                    f"the policy pack in {self.pack_dir} printed port {port} but did not answer there within "
                    f"{self.startup_timeout:.0f} s{self._stderr_tail()}"
                ) from None
        except PolicyPackError as error:
            self._startup_failure = error
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _read_port(self, process: subprocess.Popen[bytes]) -> int:
        """The first line of stdout that is a number; the rest of stdout is drained so that a pack that
        prints cannot block on a full pipe."""
        lines: queue.Queue[bytes | None] = queue.Queue()

        def drain(stream: IO[bytes]) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        assert process.stdout is not None
        threading.Thread(target=drain, args=(process.stdout,), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=self.startup_timeout)
            except queue.Empty:
                raise PolicyPackError(
                    f"the policy pack in {self.pack_dir} printed no port within "
                    f"{self.startup_timeout:.0f} s{self._stderr_tail()}"
                ) from None
            if line is None:
                process.wait()
                raise PolicyPackError(
                    f"the policy pack in {self.pack_dir} exited with code {process.returncode} "
                    f"before serving{self._stderr_tail()}"
                )
            if line.strip().isdigit():
                return int(line)

    def _stderr_tail(self, limit: int = 4000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return f":\n{text[-limit:]}" if text else ""

    def close(self) -> None:
        """Close the channel and stop the pack (terminate, then kill if it lingers)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _call(self, method: str, request: Any) -> Any:
        if self._stub is None and self._startup_failure is not None:
            raise self._startup_failure
        if self._stub is None and self._process is not None:
            self._connect()
        if self._stub is None:
            raise PolicyPackError("the policy pack is not running: use the client as a context manager")
        try:
            return getattr(self._stub, method)(request)
        except grpc.RpcError as error:
            raise PolicyPackError(
                f"the policy pack failed in {method}: {error.details()}"  # type: ignore[attr-defined]
                f"{self._stderr_tail()}"
            ) from None

    def analyzer_info(self) -> AnalyzerInfo:
        if self._info is None:
            info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
            self._info = AnalyzerInfo(
                name=info.name,
                version=info.version,
                description=info.description,
                policies=tuple(
                    PolicyInfo(
                        name=policy.name,
                        description=policy.description,
                        enforcement_level=_LEVEL_NAMES[policy.enforcementLevel],
                        severity=_SEVERITY_NAMES.get(policy.severity, ""),
                        kind=_POLICY_KINDS.get(policy.policy_type, ""),
                        remediation_steps=policy.remediation_steps,
                        config_schema=json_format.MessageToDict(policy.configSchema.properties),
                    )
                    for policy in info.policies
                ),
            )
        return self._info

    def configure(self, config: Mapping[str, Any]) -> None:
        """Apply a policy config as the CLI does: every policy gets its level (configured, else "all",
        else its default) and its schema defaults overlaid with the configured settings. The settings are
        sent unchecked, so the pack's own handling of bad ones can be tested; the CLI checks them first,
        as the preview does with `policy_config_problems` before the program runs."""
        info = self.analyzer_info()
        names = {policy.name for policy in info.policies}
        unknown = sorted(set(config) - names - {"all"})
        if unknown:
            raise PolicyConfigError(
                f"policy config names {', '.join(unknown)}, which pack {info.name} does not "
                f"have; its policies are: {', '.join(sorted(names))}"
            )
        everything = config.get("all")
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for policy in info.policies:
            entry = config.get(policy.name, {})
            settings = dict(entry) if isinstance(entry, Mapping) else {"enforcementLevel": entry}
            level = settings.pop("enforcementLevel", None) or everything or policy.enforcement_level
            if level not in _LEVELS:
                raise PolicyConfigError(
                    f"policy config of {policy.name}: enforcementLevel {level!r} is not one of "
                    f"{', '.join(_LEVELS)}"
                )
            properties = {
                key: schema["default"]
                for key, schema in policy.config_schema.items()
                if isinstance(schema, Mapping) and "default" in schema
            }
            properties.update(settings)
            request.policyConfig[policy.name].CopyFrom(
                analyzer_pb2.PolicyConfig(enforcementLevel=_LEVELS[level], properties=_struct(properties))
            )
        self._call("Configure", request)

    def configure_from_file(self, path: Path | str) -> None:
        self.configure(load_policy_config(path))

    def analyze(self, resource: ResourceRecord | analyzer_pb2.AnalyzeRequest) -> list[PolicyDiagnostic]:
        """The resource policies' verdict on one resource."""
        request = analyze_request(resource) if isinstance(resource, ResourceRecord) else resource
        return _diagnostics(self._call("Analyze", request), request.urn)

    def analyze_stack(
        self, resources: Iterable[ResourceRecord] | analyzer_pb2.AnalyzeStackRequest
    ) -> list[PolicyDiagnostic]:
        """The stack policies' verdict on the whole stack."""
        request = (
            resources if isinstance(resources, analyzer_pb2.AnalyzeStackRequest) else stack_request(resources)
        )
        return _diagnostics(self._call("AnalyzeStack", request))

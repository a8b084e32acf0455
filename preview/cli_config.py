"""Read `Pulumi.yaml` and `Pulumi.<stack>.yaml` exactly as the Pulumi CLI does, and stop where it stops.

Each rule names the function of pulumi/pulumi (or gopkg.in/yaml.v3, the CLI's YAML library) it mirrors,
and tests/test_cli_config.py pins it. What the program receives is what the CLI would hand the language
host: every key as `namespace:name`, every value a string (structured values as JSON).
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

_PLAIN = "tag:zappa-vpc,2026:plain"  # an untagged plain scalar, resolved below as yaml.v3 does


class StackConfigError(Exception):
    """The project's files cannot be read the way the Pulumi CLI would read them; lists every problem."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        text = self.problems[0] if len(self.problems) == 1 else "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text if len(self.problems) == 1 else "invalid stack configuration:\n" + text)


# --- The YAML dialect: gopkg.in/yaml.v3 resolve.go `resolve`, decoding into `any` ----------------------

_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")  # resolve.go yamlStyleFloat
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_GO_DOT_FLOAT = re.compile(r"\.[0-9]+([eE][-+]?[0-9]+)?")
# resolve.go allowedTimestampFormats: a date, alone, with a zoned "T" time, or with a bare " " time.
_GO_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})"
    r"| (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?)?"
)
_MAP = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
}
_INT64 = (-(2**63), 2**64 - 1)  # ParseInt, then ParseUint for the large positives


def _go_int(text: str) -> int | None:
    # strconv.ParseInt(s, 0, 64): 0x / 0o / 0b prefixes, and a leading 0 means octal (so 0755 is 493).
    if not _GO_INT.fullmatch(text):
        return None
    sign, digits = (-1, text[1:]) if text[0] == "-" else (1, text.lstrip("+"))
    prefix = digits[:2].lower()
    base = {"0x": 16, "0o": 8, "0b": 2}.get(prefix)
    value = sign * (int(digits[2:], base) if base else int(digits, 8 if digits.startswith("0") else 10))
    return value if _INT64[0] <= value <= _INT64[1] else None


def _go_timestamp(text: str) -> datetime.datetime | None:
    match = _GO_TIMESTAMP.fullmatch(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone, *bare = match.groups()
    if hour is None and bare[0] is not None:
        hour, minute, second, fraction = bare
    tz = datetime.UTC
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    try:
        return datetime.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int(float(fraction or 0) * 1_000_000),
            tzinfo=tz,
        )
    except ValueError:
        return None


def go_resolve(text: str) -> Any:
    """What yaml.v3 makes of an untagged plain scalar decoded into `any` (resolve.go `resolve`): YAML 1.2
    booleans only (`yes`, `no`, `on`, `off` stay strings), `_` ignored in numbers, 0777 octal, 1e3 a float,
    dates as timestamps."""
    if text in _MAP:
        return _MAP[text]
    first = text[:1]
    if first == ".":
        return float(text) if _GO_DOT_FLOAT.fullmatch(text) else text
    if first.isdigit() or first in "+-":
        if (stamp := _go_timestamp(text)) is not None:
            return stamp
        plain = text.replace("_", "")
        if (number := _go_int(plain)) is not None:
            return number
        if _GO_FLOAT.fullmatch(plain):
            return float(plain)
    return text


class GoYamlLoader(yaml.SafeLoader):
    """PyYAML's parser with yaml.v3's scalar resolution and its refusal of repeated mapping keys."""

    def resolve(self, kind: type, value: str | None, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return "tag:yaml.org,2002:merge" if value == "<<" else _PLAIN
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # yaml.v3 decode.go `mapping` (uniqueKeys): a key written twice is an error, not "last one wins".
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    first = seen[key_node.value]
                    raise yaml.MarkedYAMLError(
                        problem=f'mapping key "{key_node.value}" already defined at line {first}',
                        problem_mark=key_node.start_mark,
                    )
                seen[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


GoYamlLoader.yaml_implicit_resolvers = {}
GoYamlLoader.add_constructor(_PLAIN, lambda loader, node: go_resolve(loader.construct_scalar(node)))


def read_yaml(path: Path) -> Any:
    """The file as the CLI decodes it; a syntax error names the file and line (no traceback)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # loaders.go readFileStripUTF8BOM
    except OSError as error:
        raise StackConfigError(f"{path.name}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise StackConfigError(f"{path.name}: not UTF-8 text; save it as UTF-8") from None
    try:
        return yaml.load(text, Loader=GoYamlLoader)  # GoYamlLoader is a SafeLoader
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = error.problem or error.context or "not valid YAML"
        raise StackConfigError(
            f"{path.name}{where}: {problem}; the Pulumi CLI stops here too (invalid YAML file): fix the YAML"
        ) from None
    except yaml.YAMLError as error:
        raise StackConfigError(f"{path.name}: not valid YAML ({error}); fix the YAML") from None


# --- Values as the CLI hands them to the program -----------------------------------------------------


def _go_float(value: float) -> str:
    # encoding/json float64: plain decimals from 1e-6 to 1e21, else exponent form (1e+21, 1e-07 -> 1e-7).
    if value == 0:
        return "0"
    if 1e-6 <= abs(value) < 1e21:
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = repr(value).split("e")
    return f"{mantissa}e{exponent[0]}{int(exponent[1:]):02d}".replace("e+0", "e+").replace("e-0", "e-")


def _go_time(value: datetime.datetime) -> str:
    # time.Time.String(), as config/object.go `unmarshalObject` stores a timestamp.
    offset = value.utcoffset() or datetime.timedelta()
    minutes = int(offset.total_seconds()) // 60
    zone = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    name = "UTC" if minutes == 0 else zone
    fraction = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    return f"{value:%Y-%m-%d %H:%M:%S}{fraction} {zone} {name}"


def _json_ready(value: Any, where: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise StackConfigError(f"{where}: {value} has no JSON form; the Pulumi CLI cannot store it; quote it")
    if isinstance(value, datetime.datetime):
        return _go_time(value)
    if isinstance(value, list):
        return [_json_ready(item, where) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_ready(item, where) for key, item in value.items()}
    return value


def _go_json(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, int | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    return "{" + ",".join(f"{_go_json(k)}:{_go_json(v)}" for k, v in sorted(value.items())) + "}"


@dataclass(frozen=True)
class ConfigValue:
    """config/value.go `Value`: the string the program gets, and whether it is JSON (an object)."""

    text: str
    object: bool = False
    secure: bool = False


def _is_secure(value: Any) -> bool:
    # config/object.go `isSecureValue`: a map of exactly one key, `secure`, holding a string.
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("secure"), str)


def _has_secure(value: Any) -> bool:
    if _is_secure(value):
        return True
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(_has_secure(item) for item in items)


def config_value(value: Any, where: str) -> ConfigValue:
    """config/object.go `MarshalString`: scalars as their text (true, 3, 3.5; null as ""), the rest JSON."""
    if _is_secure(value):
        return ConfigValue(value["secure"], secure=True)
    value = _json_ready(value, where)
    if value is None:
        return ConfigValue("")  # loaders.go checkForEmptyConfig: "treated as an empty string"
    if isinstance(value, str):
        return ConfigValue(value)
    if isinstance(value, bool | int | float):
        return ConfigValue(_go_json(value))
    return ConfigValue(_go_json(value), object=True, secure=_has_secure(value))


# --- Pulumi.yaml: workspace/project.go `Project.Validate`, `RewriteShorthandConfigValues` ------------------


@dataclass(frozen=True)
class Declaration:
    """workspace/project.go `ProjectConfigType`."""

    key: str
    type: str | None = None
    items: Mapping[str, Any] | None = None
    default: Any = None
    value: Any = None
    secret: bool = False

    @property
    def type_name(self) -> str:
        # project.go `InferFullTypeName`: array<string>, array<array<integer>>...
        def name(kind: str | None, items: Mapping[str, Any] | None) -> str:
            if items is not None:
                return f"array<{name(items.get('type'), items.get('items'))}>"
            return kind or ""

        return name(self.type, self.items)


@dataclass(frozen=True)
class Project:
    name: str
    config: dict[str, Declaration] = field(default_factory=dict)

    def namespaces(self, key: str) -> bool:
        # project.go `configKeyIsNamespacedByProject`
        return ":" not in key or key.startswith(f"{self.name}:")

    def full_key(self, key: str) -> str:
        # workspace/config.go `parseConfigKey`: an unqualified key takes the project's namespace.
        return key if ":" in key else f"{self.name}:{key}"


def validate_config_value(kind: str | None, items: Mapping[str, Any] | None, value: Any) -> bool:
    """workspace/project.go `ValidateConfigValue`, on the value as the CLI holds it (strings for scalars
    from the stack file, JSON-decoded structures)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int) or (isinstance(value, float) and value == math.trunc(value)):
            return True
        # strconv.Atoi: an optional sign and decimal digits, within int64.
        return (
            isinstance(value, str)
            and bool(re.fullmatch(r"[+-]?[0-9]+", value))
            and -(2**63) <= int(value) < 2**63
        )
    if kind == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if kind == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(validate_config_value(items.get("type"), items.get("items"), item) for item in value)


def load_project(path: Path) -> Project:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise StackConfigError(f"{path.name}: expected project to be an object, was '{type(raw).__name__}'")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise StackConfigError(
            f"could not validate '{path.name}': project is missing a non-empty string 'name' attribute"
        )
    project = Project(name)
    problems = []
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{path.name}: config must be a mapping of keys to declarations")
    for key, entry in config.items():
        if not isinstance(entry, dict):
            # project.go `RewriteShorthandConfigValues`: `key: value` is a default in the project's
            # namespace, a value in another one.
            entry = {"default": entry} if project.namespaces(key) else {"value": entry}
        declaration = Declaration(
            key,
            entry.get("type"),
            entry.get("items"),
            entry.get("default"),
            entry.get("value"),
            bool(entry.get("secret")),
        )
        problem = _declaration_problem(project, declaration)
        if problem:
            problems.append(f"could not unmarshal '{path.name}': {problem}")
        project.config[key] = declaration
    if problems:
        raise StackConfigError(problems)
    return project


def _declaration_problem(project: Project, d: Declaration) -> str | None:
    """project.go `Project.Validate`, for one config declaration."""
    if d.default is not None and d.value is not None:
        return f"project config '{d.key}' cannot have both a 'default' and 'value' attribute"
    if project.namespaces(d.key):
        if d.type == "array" and d.items is None:
            return (
                f"The configuration key '{d.key}' declares an array but does not specify the underlying "
                "type via the 'items' attribute"
            )
        if (
            d.type is not None
            and d.default is not None
            and not validate_config_value(d.type, d.items, d.default)
        ):
            return (
                f"The default value specified for configuration key '{d.key}' is not of the expected type "
                f"'{d.type_name}'"
            )
        return None
    if d.type is not None:
        return f"Configuration key '{d.key}' is not namespaced by the project and should not define a type"
    if d.default is not None:
        return (
            f"Configuration key '{d.key}' is not namespaced by the project and should not define a default "
            "value. Did you mean to use the 'value' attribute instead of 'default'?"
        )
    if d.value is None:
        return f"Configuration key '{d.key}' is namespaced and must provide an attribute 'value'"
    return None


# --- Pulumi.<stack>.yaml and the merge: loaders.go `LoadProjectStackBytes`, workspace/config.go `mergeConfig`


def parse_key(key: str) -> str | None:
    """config/key.go `ParseKey`: `ns:name`, or the old `ns:config:name`; None for anything else."""
    parts = key.split(":")
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config":
        return f"{parts[0]}:{parts[2]}"
    return None


def read_stack_file(path: Path, project: Project) -> dict[str, Any]:
    """The stack file's config, keys namespaced as the CLI does (raw YAML values)."""
    raw = read_yaml(path)
    if raw is None:
        return {}  # an empty stack file is an empty config
    if not isinstance(raw, dict):
        raise StackConfigError(f"{path.name}: expected a mapping with a config: section")
    if raw.get("environment"):
        raise StackConfigError(
            f"{path.name}: environment: imports Pulumi ESC environments, which only the Pulumi CLI can open; "
            "for an offline preview put the values in the config: section of a copy of the stack file"
        )
    config = raw.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{path.name}: config: must be a mapping of keys to values")
    keys: dict[str, Any] = {}
    written: dict[str, str] = {}
    problems = []
    for key, value in config.items():
        if not isinstance(key, str):
            problems.append(f"{path.name}: expected only string keys, got '{key}'; quote the key")
            continue
        # loaders.go `stackConfigNamespacedWithProject`: `natStrategy:` means `zappa-vpc:natStrategy`.
        namespaced = project.full_key(key)
        full = parse_key(namespaced)
        if full is None:
            problems.append(
                f"{path.name}: {key}: could not parse {namespaced} as a configuration key "
                "(configuration keys should be of the form `<namespace>:<name>`); write it as namespace:name"
            )
            continue
        if full in written:
            # Both spellings land on one key of a Go map, so which value wins would be left to chance.
            problems.append(
                f"{path.name}: {written[full]} and {key} are the same setting ({full}); the Pulumi CLI keeps "
                "either one at random: keep one"
            )
            continue
        written[full] = key
        keys[full] = value
    if problems:
        raise StackConfigError(problems)
    return keys


def _type_fix(declaration: Declaration, value: ConfigValue) -> str:
    kind = declaration.type
    if kind == "boolean":
        hint = "write true or false"
        if value.text.lower() in ("yes", "no", "on", "off", "y", "n"):
            hint += " (the CLI reads YAML 1.2, where yes, no, on and off are strings, not booleans)"
        return hint
    if kind == "integer":
        return "write a whole number, such as 3"
    if kind == "string":
        return "write a single value; quote it if it holds YAML syntax"
    if kind == "array":
        items = (declaration.items or {}).get("type")
        if items == "string":
            return "write a list of strings, such as [a, b]; quote items that look like numbers or booleans"
        return f"write a list of {declaration.type_name[len('array<') : -1]} items, such as [...]"
    return f"write a value of type {declaration.type_name}"


def merge_config(
    stack: str, project: Project, stack_values: Mapping[str, Any], stack_file: str
) -> dict[str, ConfigValue]:
    """workspace/config.go `mergeConfig` then `validateStackConfigValues`: declared defaults and values fill
    what the stack leaves out; every declared, typed key in the project's namespace is type-checked (the CLI
    stops at the first, in key order; all are listed here, in that order)."""
    values = {key: config_value(value, f"{stack_file}: {key}") for key, value in stack_values.items()}
    problems = []
    for key in sorted(project.config):
        declaration = project.config[key]
        full = project.full_key(key)
        on_stack = full in values
        if not on_stack:
            given = declaration.default if declaration.default is not None else declaration.value
            if given is not None:
                # config.go `createConfigValue`: strings, ints and bools as text, anything else as JSON.
                values[full] = config_value(given, f"Pulumi.yaml: {key}")
            elif full.startswith(f"{project.name}:"):
                problems.append(
                    f"Stack '{stack}' is missing configuration value '{key}'; set {full} in {stack_file}"
                )
            continue
        value = values[full]
        if declaration.secret and not value.secure:
            problems.append(
                f"{stack_file}: {full}: Stack '{stack}' with configuration key '{key}' must be encrypted "
                f"as it's secret; set it with `pulumi config set --secret {key}`"
            )
        if value.secure:
            continue  # its type is checked once decrypted, which only the CLI can do (refused below)
        if declaration.type is not None and project.namespaces(key):
            content = json.loads(value.text) if value.object else value.text
            if not validate_config_value(declaration.type, declaration.items, content):
                problems.append(
                    f"{stack_file}: {full} = {value.text or '(no value)'}: Stack '{stack}' with "
                    f"configuration key '{key}' must be of type '{declaration.type_name}' (the Pulumi CLI "
                    "stops here); "
                    f"{_type_fix(declaration, value)}"
                )
    for full, value in values.items():
        if value.secure:
            problems.append(
                f"{stack_file}: {full} is an encrypted secret, which only the Pulumi CLI can decrypt; for an "
                "offline preview give a plain stand-in value in a copy of the stack file"
            )
    if problems:
        raise StackConfigError(problems)
    return values

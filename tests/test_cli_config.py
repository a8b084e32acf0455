"""Project and stack files read as the Pulumi CLI reads them (preview/cli_config.py).

Each case pins a rule of pulumi/pulumi or gopkg.in/yaml.v3 named in cli_config.py; where PyYAML (YAML 1.1)
reads the text differently, the case says what PyYAML would have made of it.
"""

from __future__ import annotations

import datetime
import math
import shutil
from pathlib import Path

import pytest

from preview.cli_config import (
    StackConfigError,
    config_value,
    go_resolve,
    load_project,
    merge_config,
    read_stack_file,
    validate_config_value,
)
from preview.engine import PROJECT_DIR, load_stack_config


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),  # PyYAML: True
        ("no", "no"),  # PyYAML: False
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("~", None),
        ("", None),
        ("Null", None),
        ("0777", 511),  # a YAML 1.1 octal, still decoded by yaml.v3
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", 5),
        ("1_000", 1000),
        ("+5", 5),
        ("08", 8.0),  # not an octal, so a float
        ("1e3", 1000.0),  # PyYAML: the string "1e3"
        ("8.0", 8.0),
        ("16.4", 16.4),
        (".5", 0.5),
        ("1:30", "1:30"),  # PyYAML: 90 (sexagesimal)
        ("10.0.0.0/16", "10.0.0.0/16"),
        ("us-east-1a", "us-east-1a"),
        ("2024-01-01", datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)),
        ("2024-01-01T10:00:00", "2024-01-01T10:00:00"),  # a "T" time needs a zone to be a timestamp
    ],
)
def test_plain_scalars_resolve_as_yaml_v3_does(text: str, value: object) -> None:
    assert go_resolve(text) == value and type(go_resolve(text)) is type(value)


def test_yaml_v3_infinities_and_nan() -> None:
    assert (
        go_resolve(".inf") == math.inf and go_resolve("-.Inf") == -math.inf and math.isnan(go_resolve(".nan"))
    )


@pytest.mark.parametrize(
    ("value", "text", "is_object"),
    [
        (True, "true", False),
        (3, "3", False),
        (8.0, "8", False),  # so `databaseEngineVersion: 8.0` reaches the program as "8"
        (16.4, "16.4", False),
        (1e21, "1e+21", False),
        (None, "", False),  # "No value for configuration key ... treated as an empty string"
        ("yes", "yes", False),
        (["a", "b"], '["a","b"]', True),
        ({"b": 1, "a": [True]}, '{"a":[true],"b":1}', True),
        (datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), "2024-01-01 00:00:00 +0000 UTC", False),
    ],
)
def test_values_reach_the_program_as_the_cli_strings_them(value: object, text: str, is_object: bool) -> None:
    result = config_value(value, "here")
    assert (result.text, result.object) == (text, is_object)


@pytest.mark.parametrize(
    ("kind", "items", "value", "valid"),
    [
        ("boolean", None, "true", True),
        ("boolean", None, "yes", False),
        ("boolean", None, "", False),
        ("integer", None, "3", True),
        ("integer", None, "-3", True),
        ("integer", None, "1.5", False),
        ("integer", None, "three", False),
        ("integer", None, 3.0, True),
        ("string", None, "8", True),
        ("string", None, ["a"], False),
        ("array", {"type": "string"}, ["a", "b"], True),
        ("array", {"type": "string"}, ["a", 1.0], False),
        ("array", {"type": "string"}, "a", False),
        ("array", None, ["a"], False),
        ("object", None, {"a": 1}, True),
    ],
)
def test_declared_types_are_checked_as_project_go_does(kind, items, value, valid) -> None:
    assert validate_config_value(kind, items, value) is valid


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of this project's files, to break one at a time."""
    for path in [
        PROJECT_DIR / "Pulumi.yaml",
        PROJECT_DIR / "__main__.py",
        *PROJECT_DIR.glob("Pulumi.*.yaml"),
    ]:
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def write_stack(project: Path, name: str, body: str) -> None:
    (project / f"Pulumi.{name}.yaml").write_text("config:\n  aws:region: us-east-1\n" + body)


def test_a_key_without_namespace_takes_the_projects(project_copy: Path) -> None:
    write_stack(project_copy, "x", "  natStrategy: one-per-az\n  zappa-vpc:config:azCount: 3\n")

    _, config = load_stack_config("x", project_copy)

    assert config["zappa-vpc:natStrategy"] == "one-per-az" and config["zappa-vpc:azCount"] == "3"
    assert "natStrategy" not in config


def test_both_spellings_of_one_key_are_refused(project_copy: Path) -> None:
    write_stack(project_copy, "x", "  natStrategy: single\n  zappa-vpc:natStrategy: none\n")

    with pytest.raises(StackConfigError, match="keeps either one at random") as caught:
        load_stack_config("x", project_copy)
    assert "Pulumi.x.yaml: natStrategy and zappa-vpc:natStrategy are the same setting" in str(caught.value)


def test_a_key_the_cli_cannot_parse_is_refused(project_copy: Path) -> None:
    write_stack(project_copy, "x", "  zappa-vpc:nat:strategy: single\n")

    with pytest.raises(
        StackConfigError, match="could not parse zappa-vpc:nat:strategy as a configuration key"
    ):
        load_stack_config("x", project_copy)


def test_a_key_written_twice_is_a_yaml_error_with_both_lines(project_copy: Path) -> None:
    write_stack(project_copy, "x", "  zappa-vpc:azCount: 2\n  zappa-vpc:azCount: 3\n")

    with pytest.raises(StackConfigError) as caught:
        load_stack_config("x", project_copy)
    assert 'Pulumi.x.yaml line 4: mapping key "zappa-vpc:azCount" already defined at line 3' in str(
        caught.value
    )


def test_declared_defaults_fill_the_config_as_the_cli_passes_them(project_copy: Path) -> None:
    _, config = load_stack_config("dev", project_copy)

    assert config["zappa-vpc:gatewayEndpoints"] == '["s3","dynamodb"]'
    assert config["zappa-vpc:availabilityZones"] == "[]"
    assert config["zappa-vpc:flowLogs"] == "false" and config["zappa-vpc:azSlots"] == "4"


def test_undeclared_keys_pass_through_as_the_cli_passes_them(project_copy: Path) -> None:
    write_stack(project_copy, "x", "  zappa-vpc:natStrategie: single\n")

    _, config = load_stack_config("x", project_copy)

    assert config["zappa-vpc:natStrategie"] == "single"


def test_every_type_mistake_is_listed_with_the_clis_message_and_a_fix(project_copy: Path) -> None:
    write_stack(
        project_copy,
        "x",
        "  zappa-vpc:flowLogs: yes\n  zappa-vpc:azCount: 1.5\n  zappa-vpc:availabilityZones: us-east-1a\n"
        "  zappa-vpc:databaseMultiAz:\n",
    )

    with pytest.raises(StackConfigError) as caught:
        load_stack_config("x", project_copy)

    lines = str(caught.value).splitlines()[1:]
    assert [line.split(" = ")[0] for line in lines] == [
        "  - Pulumi.x.yaml: zappa-vpc:availabilityZones",
        "  - Pulumi.x.yaml: zappa-vpc:azCount",
        "  - Pulumi.x.yaml: zappa-vpc:databaseMultiAz",
        "  - Pulumi.x.yaml: zappa-vpc:flowLogs",
    ], "in the CLI's order: sorted by key"
    text = str(caught.value)
    assert "Stack 'x' with configuration key 'flowLogs' must be of type 'boolean'" in text
    assert "write true or false (the CLI reads YAML 1.2, where yes, no, on and off are strings" in text
    assert "Stack 'x' with configuration key 'availabilityZones' must be of type 'array<string>'" in text
    assert "Stack 'x' with configuration key 'azCount' must be of type 'integer'" in text
    assert "zappa-vpc:databaseMultiAz = (no value):" in text


def test_an_encrypted_value_is_refused_naming_the_file(project_copy: Path) -> None:
    write_stack(project_copy, "x", "  zappa-vpc:vpnCustomerGatewayIp:\n    secure: AAABAF7p3Q==\n")

    with pytest.raises(
        StackConfigError, match=r"Pulumi\.x\.yaml: zappa-vpc:vpnCustomerGatewayIp is an encrypted"
    ):
        load_stack_config("x", project_copy)


def test_a_secret_declaration_needs_an_encrypted_value() -> None:
    project = load_project(PROJECT_DIR / "Pulumi.yaml")
    project.config["vpnCustomerGatewayIp"] = type(project.config["vpnCustomerGatewayIp"])(
        "vpnCustomerGatewayIp", "string", secret=True
    )

    with pytest.raises(
        StackConfigError, match="with configuration key 'vpnCustomerGatewayIp' must be encrypted"
    ):
        merge_config("x", project, {"zappa-vpc:vpnCustomerGatewayIp": "203.0.113.10"}, "Pulumi.x.yaml")


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            "  flowLogs:\n    type: boolean\n    default: yes\n",
            "The default value specified for configuration key 'flowLogs' is not of the expected type "
            "'boolean'",
        ),
        (
            "  zones:\n    type: array\n    default: []\n",
            "The configuration key 'zones' declares an array but does not specify the underlying type",
        ),
        ("  aws:region:\n    type: string\n    value: us-east-1\n", "is not namespaced by the project"),
        ("  pattern:\n    default: single\n    value: single\n", "cannot have both a 'default' and 'value'"),
    ],
)
def test_a_bad_declaration_in_pulumi_yaml_is_refused_as_project_go_does(
    project_copy: Path, declaration: str, message: str
) -> None:
    (project_copy / "Pulumi.yaml").write_text("name: zappa-vpc\nruntime: python\nconfig:\n" + declaration)

    with pytest.raises(StackConfigError, match=message) as caught:
        load_stack_config("dev", project_copy)
    assert "could not unmarshal 'Pulumi.yaml'" in str(caught.value)


def test_a_value_declared_for_another_namespace_is_passed(project_copy: Path) -> None:
    text = (
        (PROJECT_DIR / "Pulumi.yaml")
        .read_text()
        .replace("config:\n", "config:\n  aws:defaultTags: {value: x}\n", 1)
    )
    (project_copy / "Pulumi.yaml").write_text(text)

    _, config = load_stack_config("dev", project_copy)

    assert config["aws:defaultTags"] == "x"


def test_an_empty_stack_file_is_an_empty_config(project_copy: Path) -> None:
    (project_copy / "Pulumi.x.yaml").write_text("")

    assert read_stack_file(project_copy / "Pulumi.x.yaml", load_project(project_copy / "Pulumi.yaml")) == {}


def test_a_file_that_is_not_utf8_is_refused_naming_it(project_copy: Path) -> None:
    (project_copy / "Pulumi.x.yaml").write_bytes(b"config:\n  zappa-vpc:pattern: caf\xe9\n")

    with pytest.raises(StackConfigError, match=r"Pulumi\.x\.yaml: not UTF-8 text"):
        load_stack_config("x", project_copy)

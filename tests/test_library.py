"""zappa-vpc as a library: the public API, args hard to misuse, the examples under the SDK's plain mocks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import zappa_vpc
from tests.access_helpers import EXISTING_SUBNETS, PRIVATE_ROUTE_TABLE, REGION
from tests.access_helpers import run_program as run_mocked
from tests.access_helpers import run_rejected_program as run_rejected
from zappa_vpc.plan.addressing import TierSpec, plan_addresses
from zappa_vpc.plan.args import ACCESS_KEYS, NETWORK_KEYS, AccessArgs, VpcArgs, network_options
from zappa_vpc.plan.options import (
    BastionAccess,
    BastionOptions,
    DatabaseEngine,
    DatabaseOptions,
    InvalidOptionsError,
    Pattern,
)
from zappa_vpc.plan.settings import CONFIG_SCHEMA, SettingsError, parse_settings

ROOT = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).with_name("library_runner.py")
EXISTING_VPC_CONFIG = [
    "existing-vpc:vpcId=vpc-1",
    'existing-vpc:lambdaSubnetIds=["subnet-a", "subnet-b"]',
    'existing-vpc:databaseSubnetIds=["subnet-c", "subnet-d"]',
    'existing-vpc:routeTableIds={"private": "rtb-1"}',
]


def run_program(
    program: Path, *config: str, python: str = sys.executable, answers: dict | None = None, env=None
) -> dict:
    """The program under the SDK's mocks as Pulumi's docs write them (inputs in, nothing from calls)."""
    environment = env if env is not None else {**os.environ, "PYTHONPATH": str(ROOT)}
    environment = {**environment, "MOCK_ANSWERS": json.dumps(answers or {})}
    result = subprocess.run(
        [python, str(RUNNER), str(program), "aws:region=eu-west-1", *config],
        capture_output=True,
        text=True,
        env=environment,
        timeout=240,
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def write_program(tmp_path: Path, source: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: trial\nruntime: python\n")
    program = tmp_path / "__main__.py"
    program.write_text("import pulumi\nfrom zappa_vpc import *\n" + source)
    return program


# The public API


def test_all_is_the_documented_list_and_every_name_imports():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- public-api -->\n```\n(.*?)```", readme, re.DOTALL)
    assert block, "README has no public-api block"
    assert sorted(block.group(1).split()) == sorted(zappa_vpc.__all__)
    for name in zappa_vpc.__all__:
        assert getattr(zappa_vpc, name) is not None, name


def test_our_program_imports_only_the_public_api():
    source = (ROOT / "__main__.py").read_text()
    imported = re.findall(r"^from (zappa_vpc\S*) import", source, re.MULTILINE)
    assert imported == ["zappa_vpc"]
    names = re.search(r"^from zappa_vpc import \((.*?)\)", source, re.MULTILINE | re.DOTALL).group(1)
    assert set(names.replace(",", " ").split()) <= set(zappa_vpc.__all__)


# Args hard to misuse


def test_every_setting_but_the_pattern_is_one_field_with_the_stack_default():
    keys = [key.name for key in CONFIG_SCHEMA]
    assert sorted(NETWORK_KEYS + ACCESS_KEYS) == sorted(k for k in keys if k != "pattern")
    defaults = {key.name: key.default for key in CONFIG_SCHEMA}
    for args in (VpcArgs, AccessArgs):
        for f in fields(args):
            key = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f.name)
            expected = defaults[key]
            assert f.default == (tuple(expected) if isinstance(expected, list) else expected), f.name
            assert f"{f.name} = " in args.__doc__, f"{f.name} is not documented"


def test_the_pattern_is_not_a_field_the_class_is_the_pattern():
    assert "pattern" not in {f.name for f in fields(VpcArgs)}
    assert zappa_vpc.PATTERN_COMPONENTS[Pattern.HYBRID] is zappa_vpc.HybridVpc


def test_choices_accept_their_string_values():
    assert BastionOptions(access="ssh", ssh_allowlist=("203.0.113.0/24",)).access is BastionAccess.SSH
    mysql = DatabaseOptions(engine="mysql")
    assert mysql.engine is DatabaseEngine.MYSQL
    assert mysql.port == 3306


def test_a_bad_choice_is_refused_with_the_stack_configs_reason():
    with pytest.raises(InvalidOptionsError) as library:
        network_options(
            "PublicPrivateVpc",
            Pattern.PUBLIC_PRIVATE,
            VpcArgs(availability_zones=("a", "b"), nat_strategy="x"),
            list,
        )
    with pytest.raises(SettingsError) as stack:
        parse_settings({"natStrategy": "x"}, stack="dev", region="eu-west-1", region_zones=lambda: ["a", "b"])
    (stack_problem,) = stack.value.problems
    assert stack_problem.startswith("zappa-vpc:natStrategy = x: use one of: auto, none, single, one-per-az")
    assert f"nat_strategy = x: {stack_problem.split(': ', 1)[1]}" in str(library.value)
    assert "one of" in str(BastionOptions(access="telnet").problems()[0].reason)


def test_every_mistake_is_reported_together():
    with pytest.raises(InvalidOptionsError) as error:
        network_options(
            "PublicPrivateVpc",
            Pattern.PUBLIC_PRIVATE,
            VpcArgs(availability_zones=("a",), nat_strategy="x", bastion="ssh"),
            list,
        )
    message = str(error.value)
    assert "nat_strategy = x" in message
    assert "az_count = 1" in message  # one zone given: named as the stack names it
    assert "bastion_ssh_allowlist" in message


def test_reordering_the_tiers_moves_no_subnet():
    tiers = [TierSpec("public", 24), TierSpec("private", 20), TierSpec("data", 24)]
    forward = plan_addresses("10.0.0.0/16", tiers, 2)
    backward = plan_addresses("10.0.0.0/16", tiers[::-1], 2)
    for tier in ("public", "private", "data"):
        assert forward.tier(tier) == backward.tier(tier), tier


def test_nothing_registers_on_bad_args(tmp_path):
    program = write_program(
        tmp_path,
        'vpc = PublicPrivateVpc("app", VpcArgs(availability_zones=["a"], nat_strategy="bogus"))\n',
    )
    result = run_program(program)
    assert "nat_strategy = bogus: use one of" in result["error"]
    assert "az_count = 1" in result["error"]
    assert result["types"] == []


def test_string_choices_build_what_they_name(tmp_path):
    program = write_program(
        tmp_path,
        'vpc = PublicPrivateVpc("app", VpcArgs(availability_zones=["a", "b"], nat_strategy="one-per-az"))\n'
        'pulumi.export("nats", vpc.outputs["nat_gateway_ids"])\n',
    )
    result = run_program(program)
    assert "error" not in result, result
    assert "aws:ec2/natGateway:NatGateway" in result["types"]
    assert "nats" in result["outputs"]


# The examples, under the SDK's plain mocks


def test_own_program_example_runs_under_plain_mocks():
    result = run_program(ROOT / "examples" / "own-program" / "__main__.py")
    assert "error" not in result, result
    assert "aws:s3/bucket:Bucket" in result["types"]
    assert "zappa-vpc:network:PublicPrivateVpc" in result["types"]
    assert "aws:rds/instance:Instance" in result["types"]
    assert {"zappa_vpc_config", "zappa_environment", "database_tunnel_command"} <= set(result["outputs"])


def test_existing_vpc_example_adds_only_access_to_the_vpc():
    result = run_program(ROOT / "examples" / "existing-vpc" / "__main__.py", *EXISTING_VPC_CONFIG)
    assert "error" not in result, result
    made_by_us = {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable"}
    assert not made_by_us & set(result["types"])
    assert {"aws:rds/instance:Instance", "aws:ec2/securityGroup:SecurityGroup"} <= set(result["types"])


def test_existing_database_subnets_routed_to_an_internet_gateway_are_refused():
    answers = {
        "aws:ec2/getSubnet:getSubnet": {"availabilityZone": "eu-west-1a", "id": "subnet-x"},
        "aws:ec2/getRouteTable:getRouteTable": {
            "routes": [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}],
            "id": "rtb-1",
        },
    }
    result = run_program(
        ROOT / "examples" / "existing-vpc" / "__main__.py", *EXISTING_VPC_CONFIG, answers=answers
    )
    assert "Internet gateway igw-1" in result["error"]
    assert "at least 2 availability zones" in result["error"]  # every subnet answered in eu-west-1a
    assert result["types"] == []


def test_existing_network_needs_two_lambda_subnets(tmp_path):
    program = write_program(
        tmp_path,
        'ExistingNetwork("n", ExistingNetworkArgs(vpc_id="vpc-1", lambda_subnet_ids=["subnet-a"]))\n',
    )
    result = run_program(program)
    assert "lambda_subnet_ids" in result["error"] and "at least 2" in result["error"]
    assert result["types"] == []


# ServiceAccess on an existing VPC's ids: everything checked before anything registers


def _on_ids(network: dict | None = None, **settings) -> zappa_vpc.ServiceAccessArgs:
    ids = {
        "vpc_id": "vpc-1",
        "lambda_subnet_ids": EXISTING_SUBNETS[:2],
        "route_table_ids": {"private": "rtb-1"},
    }
    return zappa_vpc.ServiceAccessArgs(
        network=zappa_vpc.ExistingNetworkArgs(**(ids | (network or {}))), region=REGION, **settings
    )


def test_service_access_on_ids_builds_its_network_as_its_child():
    access, recorded = run_mocked(
        lambda: zappa_vpc.ServiceAccess("app", _on_ids({"database_subnet_ids": EXISTING_SUBNETS[1:3]})),
        preview=False,
        answers=PRIVATE_ROUTE_TABLE,
    )
    network = recorded.named("app-network")
    assert network.type == "zappa-vpc:network:ExistingNetwork"
    assert network.parent == recorded.named("app").urn
    assert recorded.named("app-network-lambda-sg").properties["vpcId"] == "vpc-1"
    assert {"vpc_id", "lambda_security_group_id", "zappa_vpc_config", "database_host"} <= set(access.outputs)
    assert isinstance(access.network, zappa_vpc.ExistingNetwork)


@pytest.mark.parametrize(
    ("network", "settings", "problems"),
    [
        # A database on a network without database subnets: once ExistingNetwork registered the Lambda's
        # group before this was checked.
        ({}, {"database": "postgres"}, ["database_subnet_ids = []: a database needs subnets; list them"]),
        (
            {"database_subnet_ids": EXISTING_SUBNETS[1:3]},
            {"database": "mariadb"},
            ["database = mariadb: use one of: auto, none, postgres, mysql"],
        ),
        # The network's own problems and the access's, in one error.
        (
            {"lambda_subnet_ids": EXISTING_SUBNETS[:1], "route_table_ids": {}},
            {"database": "mysql", "database_storage_gb": 5},
            [
                f"lambda_subnet_ids = {EXISTING_SUBNETS[:1]!r}: give subnets in at least 2 availability "
                "zones",
                "database_subnet_ids = []: a database needs subnets; list them",
                "route_table_ids = {}: the gateway endpoints (s3, dynamodb) join route tables; list those of "
                "the Lambda's and the database's subnets, or set gateway_endpoints=()",
                "database_storage_gb = 5: gp3 storage is 20 to 65536 GiB",
            ],
        ),
    ],
)
def test_service_access_on_ids_with_a_bad_setting_registers_nothing(network, settings, problems):
    error, recorded = run_rejected(
        lambda: zappa_vpc.ServiceAccess("app", _on_ids(network, **settings)), answers=PRIVATE_ROUTE_TABLE
    )
    assert str(error) == "ServiceAccess: invalid args:\n" + "\n".join(f"  - {p}" for p in problems)
    assert [r.type for r in recorded.records] == ["pulumi:pulumi:Stack"]


def test_service_access_on_an_existing_network_it_did_not_build_keeps_its_checks():
    def program() -> None:
        network = zappa_vpc.ExistingNetwork(
            "shared", zappa_vpc.ExistingNetworkArgs(vpc_id="vpc-1", lambda_subnet_ids=EXISTING_SUBNETS[:2])
        )
        zappa_vpc.ServiceAccess(
            "app",
            zappa_vpc.ServiceAccessArgs(
                network=network, region=REGION, database="postgres", gateway_endpoints=()
            ),
        )

    error, recorded = run_rejected(program, answers=PRIVATE_ROUTE_TABLE)
    assert (
        str(error)
        == "ServiceAccess: invalid args:\n  - database_subnet_ids = []: a database needs subnets; list them"
    )
    # The network the program built registered; ServiceAccess nothing.
    assert "shared-lambda-sg" in {r.name for r in recorded.records}
    assert "app" not in {r.name for r in recorded.records}


# The distribution


def test_wheel_installs_into_a_fresh_virtualenv_and_runs_the_example(tmp_path):
    import shutil
    import tarfile
    import venv
    import zipfile

    source = tmp_path / "checkout"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "out"))
    dist = tmp_path / "dist"
    dist.mkdir()

    def build(kind: str, where: Path) -> Path:
        # In its own process, as a build frontend runs a backend.
        code = f"from setuptools import build_meta; print(build_meta.build_{kind}({str(dist)!r}))"
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=where, capture_output=True, text=True, check=True, timeout=240
        )
        return dist / done.stdout.split()[-1]

    sdist = build("sdist", source)
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
        sdist_files = archive.getnames()
    wheel = build("wheel", tmp_path / sdist.name.removesuffix(".tar.gz"))
    top = {name.split("/")[1] for name in sdist_files if name.count("/") >= 1 and name.split("/")[1]}
    assert top <= {
        "zappa_vpc",
        "zappa_vpc.egg-info",
        "PKG-INFO",
        "README.md",
        "pyproject.toml",
        "setup.cfg",
        "requirements.txt",
        "CHANGELOG.md",
        "MANIFEST.in",
    }, top
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read("zappa_vpc-0.2.0.dist-info/METADATA").decode()
    assert {name.split("/")[0] for name in names} == {"zappa_vpc", "zappa_vpc-0.2.0.dist-info"}
    assert "zappa_vpc/pricing/us-east-1.json" in names
    requires = sorted(re.findall(r"^Requires-Dist: (\S+)", metadata, re.MULTILINE))
    # Exactly the deployed program's requirements (requirements.txt): no test or picture tooling.
    program_requirements = [
        line.strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip()[:1].isalpha()
    ]
    assert requires == sorted(str(Requirement(line)) for line in program_requirements)
    development = (ROOT / "requirements-dev.txt").read_text().splitlines()
    tooling = {Requirement(line).name for line in development if line.strip()[:1].isalpha()}
    assert {"pytest", "matplotlib"} <= tooling and not tooling & {Requirement(r).name for r in requires}

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, system_site_packages=False)
    python = str(env_dir / "bin" / "python")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        timeout=240,
    )
    # pulumi and pulumi-aws from the shared environment, and nothing of this checkout.
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shared = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "pulumi_aws").is_dir())
    # Resolved: the shared environment itself, not this checkout's link to it.
    Path(site, "shared_dependencies.pth").write_text(str(Path(shared).resolve()) + "\n")
    example = tmp_path / "example"
    shutil.copytree(ROOT / "examples" / "own-program", example)
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    where = subprocess.run(
        [
            python,
            "-I",
            "-c",
            "import json, sys, zappa_vpc; print(json.dumps([zappa_vpc.__file__, sys.path]))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=environment,
    ).stdout
    imported_from, search_path = json.loads(where)
    assert imported_from.startswith(site), where
    # Nothing else on the path could supply the package: not this checkout, nor any other copy.
    assert [p for p in search_path if Path(p, "zappa_vpc").exists()] == [site], where
    result = run_program(example / "__main__.py", python=python, env=environment)
    assert "error" not in result, result
    assert "zappa-vpc:network:PublicPrivateVpc" in result["types"]

"""`python -m preview --project DIR STACK` on Pulumi Python programs that are not ours.

Each test writes a small project into a temporary directory outside the repository and runs the
preview's command line on it, with our policy pack, as a user checking their own program would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from preview.engine import PROJECT_DIR
from preview.policy_client import PolicyPackError, pack_command

PREAMBLE = "import json\n\nimport pulumi\nimport pulumi_aws as aws\n\n"

# An internet-facing network with a database anyone can reach and SSH open to the world.
INSECURE = """
vpc = aws.ec2.Vpc("vpc", cidr_block="10.1.0.0/16")
igw = aws.ec2.InternetGateway("igw", vpc_id=vpc.id)
table = aws.ec2.RouteTable("public", vpc_id=vpc.id,
                           routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}])
subnets = []
for index, zone in enumerate(["us-east-1a", "us-east-1b"]):
    subnet = aws.ec2.Subnet(f"public-{zone}", vpc_id=vpc.id, cidr_block=f"10.1.{index}.0/24",
                            availability_zone=zone, map_public_ip_on_launch=True)
    aws.ec2.RouteTableAssociation(f"public-{zone}", subnet_id=subnet.id, route_table_id=table.id)
    subnets.append(subnet)
sg = aws.ec2.SecurityGroup("open", vpc_id=vpc.id, ingress=[
    {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]},
    {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": ["0.0.0.0/0"]},
])
group = aws.rds.SubnetGroup("db", subnet_ids=[s.id for s in subnets])
aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20,
                 db_subnet_group_name=group.name, vpc_security_group_ids=[sg.id],
                 publicly_accessible=True, username="app", manage_master_user_password=True)
"""

# A private, encrypted, multi-AZ database reached only from the app's security group.
SOUND = """
vpc = aws.ec2.Vpc("vpc", cidr_block="10.2.0.0/16")
subnets = [
    aws.ec2.Subnet(f"data-{zone}", vpc_id=vpc.id, cidr_block=f"10.2.{index}.0/24", availability_zone=zone)
    for index, zone in enumerate(["us-east-1a", "us-east-1b"])
]
aws.ec2.DefaultSecurityGroup("default", vpc_id=vpc.id)
aws.ec2.FlowLog("flow", vpc_id=vpc.id, traffic_type="ALL", log_destination_type="s3",
                log_destination="arn:aws:s3:::flow-logs-bucket")
app = aws.ec2.SecurityGroup("app", vpc_id=vpc.id)
db = aws.ec2.SecurityGroup("db", vpc_id=vpc.id, ingress=[
    {"protocol": "tcp", "from_port": 5432, "to_port": 5432, "security_groups": [app.id]},
])
group = aws.rds.SubnetGroup("db", subnet_ids=[s.id for s in subnets])
aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20,
                 db_subnet_group_name=group.name, vpc_security_group_ids=[db.id], multi_az=True,
                 storage_encrypted=True, publicly_accessible=False, username="app",
                 manage_master_user_password=True)
"""


def write_project(directory: Path, program: str, *, main: str = "", config: str = "") -> Path:
    """A Pulumi Python project: Pulumi.yaml, Pulumi.dev.yaml and the program (in `main` if given)."""
    directory.mkdir(parents=True, exist_ok=True)
    main_line = f"main: {main}\n" if main else ""
    (directory / "Pulumi.yaml").write_text(f"name: theirs\nruntime:\n  name: python\n{main_line}")
    (directory / "Pulumi.dev.yaml").write_text(f"config:\n  aws:region: us-east-1\n{config}")
    program_dir = directory / main if main else directory
    program_dir.mkdir(parents=True, exist_ok=True)
    (program_dir / "__main__.py").write_text(PREAMBLE + textwrap.dedent(program))
    return directory


def preview(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The preview's command line, run from the user's directory, not ours."""
    return subprocess.run(
        [sys.executable, "-m", "preview", "--project", str(project), "dev", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def violations(result: subprocess.CompletedProcess[str]) -> set[str]:
    document = json.loads(result.stdout)
    return {v["policy_name"] for pack in document["policies"]["packs"] for v in pack["violations"]}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    assert not tmp_path.is_relative_to(PROJECT_DIR)
    return tmp_path


def test_an_insecure_program_is_blocked_with_the_rules_it_breaks(outside: Path) -> None:
    project = write_project(outside / "insecure", INSECURE)

    result = preview(project, "--json", "--picture", str(outside / "insecure.png"))

    assert result.returncode == 1, result.stderr
    broken = violations(result)
    assert {
        "rds-no-public-access",
        "no-ssh-rdp-from-internet",
        "db-security-group-no-internet-ingress",
    } <= broken
    document = json.loads(result.stdout)
    assert document["policies"]["verdict"] == "blocked"
    assert document["resourceCounts"]["byType"]["aws:rds/instance:Instance"] == 1


def test_a_sound_program_is_allowed_and_drawn(outside: Path) -> None:
    project = write_project(outside / "sound", SOUND + 'aws.s3.Bucket("uploads")\n')
    picture = outside / "sound.png"

    result = preview(project, "--picture", str(picture))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Verdict: allowed by policy" in result.stdout
    assert "Previewing update (dev)" in result.stdout
    assert "any charge of these resource types is left out: aws:s3/bucket:Bucket" in result.stdout
    assert picture.is_file()


def test_a_program_on_the_default_vpc_says_there_is_no_picture(outside: Path) -> None:
    program = """
    vpc = aws.ec2.get_vpc(default=True)
    subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])
    aws.ec2.SecurityGroup("web", vpc_id=vpc.id)
    aws.ec2.Instance("web", ami=aws.ec2.get_ami(most_recent=True, owners=["amazon"]).id,
                     instance_type="t4g.nano", subnet_id=subnets.ids[0])
    """
    project = write_project(outside / "default-vpc", program)
    picture = outside / "default.png"

    result = preview(project, "--picture", str(picture))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Network picture: not drawn: the program creates no VPC or subnet" in result.stdout
    assert not picture.exists()


def test_main_in_pulumi_yaml_names_the_program_directory(outside: Path) -> None:
    project = write_project(outside / "with-main", INSECURE, main="infra")

    result = preview(project, "--json", "--picture", str(outside / "main.png"))

    assert result.returncode == 1, result.stderr
    assert "rds-no-public-access" in violations(result)


def test_an_unanswered_data_source_is_named_and_left_unknown(outside: Path) -> None:
    program = SOUND + textwrap.dedent("""
        s3 = aws.ec2.get_managed_prefix_list_output(name="com.amazonaws.us-east-1.s3")
        aws.ec2.VpcEndpoint("s3", vpc_id=vpc.id, service_name=s3.name)
        pulumi.export("s3Service", s3.name)
    """)
    project = write_project(outside / "unanswered", program)
    token = "aws:ec2/getManagedPrefixList:getManagedPrefixList"

    result = preview(project, "--json", "--picture", str(outside / "unanswered.png"))

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"no answer for the data source(s) {token}" in result.stderr
    document = json.loads(result.stdout)
    assert any(token in item for item in document["notChecked"])
    endpoint = next(r for r in document["resources"] if r["type"] == "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint["inputs"]["serviceName"] == document["unknownValue"]


def test_an_answers_file_answers_a_data_source(outside: Path) -> None:
    program = SOUND + textwrap.dedent("""
        s3 = aws.ec2.get_managed_prefix_list(name="com.amazonaws.us-east-1.s3")
        pulumi.export("s3Service", s3.name)
    """)
    project = write_project(outside / "answered", program)
    answers = outside / "answers.json"
    token = "aws:ec2/getManagedPrefixList:getManagedPrefixList"
    answers.write_text(json.dumps({token: {"name": "com.amazonaws.us-east-1.s3"}}))

    result = preview(project, "--json", "--answers", str(answers), "--picture", str(outside / "a.png"))

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["outputs"]["s3Service"] == "com.amazonaws.us-east-1.s3"
    assert not any(token in item for item in document["notChecked"])


def test_a_program_that_fails_on_an_unknown_result_says_why_without_a_traceback(outside: Path) -> None:
    # The plain form needs its result at once, and the SDK's result type refuses unknown fields.
    program = """
    s3 = aws.ec2.get_managed_prefix_list(name="com.amazonaws.us-east-1.s3")
    aws.ec2.VpcEndpoint("s3", vpc_id="vpc-0123456789abcdef0", service_name=s3.name)
    """
    project = write_project(outside / "fails", program)

    result = preview(project)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"the program stopped at {project / '__main__.py'}:" in result.stderr
    assert (
        "data source(s) aws:ec2/getManagedPrefixList:getManagedPrefixList, which the offline" in result.stderr
    )
    assert "--answers FILE" in result.stderr


def test_resource_objects_as_inputs_reach_the_pack_as_ids(outside: Path) -> None:
    # `vpc_id=vpc` instead of `vpc_id=vpc.id`: the pack must still see which VPC and subnets are linked.
    program = INSECURE.replace("vpc_id=vpc.id", "vpc_id=vpc").replace(
        "subnet_id=subnet.id", "subnet_id=subnet"
    )
    program = program.replace("route_table_id=table.id", "route_table_id=table").replace(
        "security_groups=[app.id]", "security_groups=[app]"
    )
    project = write_project(outside / "objects", program)

    result = preview(project, "--json", "--picture", str(outside / "objects.png"))

    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    unknown = document["unknownValue"]
    subnets = [r for r in document["resources"] if r["type"] == "aws:ec2/subnet:Subnet"]
    assert subnets and all(s["inputs"]["vpcId"] == unknown for s in subnets)
    assert {"rds-no-public-access", "no-ssh-rdp-from-internet"} <= violations(result)


def test_a_project_that_is_not_python_is_refused_with_exit_2(outside: Path) -> None:
    project = write_project(outside / "node", SOUND)
    (project / "Pulumi.yaml").write_text("name: theirs\nruntime: nodejs\n")

    result = preview(project)

    assert result.returncode == 2
    assert (
        "runtime is 'nodejs'; the offline preview runs Python programs (runtime: python) only"
        in result.stderr
    )


def test_a_directory_without_pulumi_yaml_is_a_usage_error(outside: Path) -> None:
    result = preview(outside)

    assert result.returncode == 2
    assert f"--project {outside}: no Pulumi.yaml there" in result.stderr


def test_a_node_pack_without_its_dependencies_gets_the_clis_advice(outside: Path) -> None:
    pack = outside / "node-pack"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: nodejs\n")
    project = write_project(outside / "sound", SOUND)

    result = preview(project, "--policy-pack", str(pack), "--picture", str(outside / "p.png"))

    assert result.returncode == 2
    assert "the policy pack's dependencies are not installed; try running npm install" in result.stderr


def test_a_python_pack_starts_with_its_own_virtualenvs_python(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text(
        "runtime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)

    assert pack_command(tmp_path) == [str(python), "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(tmp_path)]
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: opa\n")
    with pytest.raises(PolicyPackError, match=r"runtime 'opa'; the offline preview runs Python and Node\.js"):
        pack_command(tmp_path)


def test_the_programs_own_packages_come_from_its_virtualenv(outside: Path) -> None:
    program = (
        "import sizing\n\naws.ec2.Vpc('vpc', cidr_block=sizing.CIDR)\npulumi.export('cidr', sizing.CIDR)\n"
    )
    project = write_project(outside / "with-venv", program)
    (project / "Pulumi.yaml").write_text(
        "name: theirs\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n"
    )
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = project / "venv" / "lib" / version / "site-packages"
    site_packages.mkdir(parents=True)
    (site_packages / "sizing.py").write_text("CIDR = '10.9.0.0/16'\n")

    result = preview(project, "--json", "--no-policy", "--picture", str(outside / "v.png"))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["cidr"] == "10.9.0.0/16"
    (site_packages.parent).rename(site_packages.parent.with_name("python3.99"))
    result = preview(project, "--no-policy")
    assert result.returncode == 2
    assert f"virtualenv {project / 'venv'} is for python3.99; the preview runs on {version}" in result.stderr

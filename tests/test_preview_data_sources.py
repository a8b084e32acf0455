"""Data sources answered offline: shaped as pulumi-aws's result types, from the real zone table."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import _types as pulumi_types

from preview.data_sources import DATA_SOURCES, DEFAULT_VPC_CIDR
from preview.engine import run_stack
from preview.model import UNKNOWN
from preview.zones import region_zones


def result_fields(token: str) -> set[str]:
    """The camelCase fields of the data source's result class in the installed pulumi_aws."""
    _, module_path, function = token.split(":")
    module = module_path.split("/")[0]
    namespace = importlib.import_module("pulumi_aws" if module == "index" else f"pulumi_aws.{module}")
    result_class = getattr(namespace, f"{function[0].upper()}{function[1:]}Result")
    return set(pulumi_types.output_type_types(result_class))


def answer(token: str, region: str = "us-east-1", **args: Any) -> dict[str, Any]:
    result = DATA_SOURCES[token](region, args)
    assert result is not None
    return result


@pytest.mark.parametrize("token", sorted(DATA_SOURCES))
def test_every_answer_has_only_fields_of_the_providers_result_type(token: str) -> None:
    sample = {
        "aws:ec2/getInstanceType:getInstanceType": {"instanceType": "t4g.nano"},
        "aws:ssm/getParameter:getParameter": {
            "name": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
        },
    }.get(token, {})
    result = DATA_SOURCES[token]("us-east-1", sample)
    if result is None:  # secrets: unknown offline
        return
    assert set(result) <= result_fields(token), set(result) - result_fields(token)
    assert "id" in result


def test_the_default_vpc_and_its_public_default_subnets_one_per_zone() -> None:
    vpc = answer("aws:ec2/getVpc:getVpc", default=True)
    subnet_ids = answer("aws:ec2/getSubnets:getSubnets", filters=[{"name": "vpc-id", "values": [vpc["id"]]}])[
        "ids"
    ]
    subnets = [answer("aws:ec2/getSubnet:getSubnet", id=subnet_id) for subnet_id in subnet_ids]

    assert vpc["cidrBlock"] == DEFAULT_VPC_CIDR and vpc["default"] is True
    theirs = answer("aws:ec2/getVpc:getVpc", tags={"Name": "main"})
    assert theirs["default"] is False and theirs["id"] != vpc["id"]
    assert [s["availabilityZone"] for s in subnets] == [z.name for z in region_zones("us-east-1")]
    assert all(s["mapPublicIpOnLaunch"] and s["defaultForAz"] and s["vpcId"] == vpc["id"] for s in subnets)
    assert [s["cidrBlock"] for s in subnets[:2]] == ["172.31.0.0/20", "172.31.16.0/20"]
    one = answer(
        "aws:ec2/getSubnet:getSubnet",
        filters=[
            {"name": "availability-zone", "values": ["us-east-1b"]},
            {"name": "default-for-az", "values": ["true"]},
        ],
    )
    assert one["availabilityZone"] == "us-east-1b"
    assert DATA_SOURCES["aws:ec2/getSubnet:getSubnet"]("us-east-1", {"id": "subnet-0mine"}) is None


def test_zones_come_from_the_real_table_and_honour_the_filters() -> None:
    token = "aws:index/getAvailabilityZones:getAvailabilityZones"
    frankfurt = answer(token, region="eu-central-1", state="available")
    assert frankfurt["names"] == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    assert frankfurt["zoneIds"] == ["euc1-az2", "euc1-az3", "euc1-az1"]  # describe-availability-zones
    assert answer(token, region="ap-northeast-1")["names"] == [
        "ap-northeast-1a",
        "ap-northeast-1c",
        "ap-northeast-1d",
    ]
    assert answer(token, excludeNames=["us-east-1a"])["names"][0] == "us-east-1b"
    assert answer(token, excludeZoneIds=["use1-az1"])["zoneIds"][0] == "use1-az2"
    assert answer(token, state="unavailable")["names"] == []
    local_zones = answer(token, filters=[{"name": "zone-type", "values": ["local-zone"]}])
    assert local_zones["names"] == []
    assert answer(token, filters=[{"name": "zone-name", "values": ["us-east-1c"]}])["zoneIds"] == ["use1-az4"]


def test_a_policy_document_is_rendered_as_the_provider_renders_it() -> None:
    document = answer(
        "aws:iam/getPolicyDocument:getPolicyDocument",
        statements=[
            {
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}],
            },
            {
                "sid": "Read",
                "actions": ["s3:GetObject", "s3:ListBucket"],
                "resources": ["arn:aws:s3:::b/*"],
                "conditions": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}],
            },
        ],
    )
    assert json.loads(document["json"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}},
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": "arn:aws:s3:::b/*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
        ],
    }
    assert document["json"].startswith('{\n  "Version": "2012-10-17",\n  "Statement": [')
    assert json.loads(document["minifiedJson"]) == json.loads(document["json"])


def test_account_region_partition_and_image() -> None:
    assert (
        answer("aws:index/getPartition:getPartition", region="cn-north-1")["dnsSuffix"] == "amazonaws.com.cn"
    )
    assert answer("aws:index/getRegion:getRegion", region="eu-west-1")["name"] == "eu-west-1"
    identity = answer("aws:index/getCallerIdentity:getCallerIdentity", region="us-gov-west-1")
    assert identity["arn"].startswith("arn:aws-us-gov:iam::")
    arm = answer("aws:ec2/getAmi:getAmi", filters=[{"name": "architecture", "values": ["arm64"]}])
    assert arm["architecture"] == "arm64" and arm["imageId"].startswith("ami-")


CALLS_EVERY_DATA_SOURCE = """
import pulumi
import pulumi_aws as aws

vpc = aws.ec2.get_vpc(default=True)
subnet_ids = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}]).ids
subnet = aws.ec2.get_subnet(id=subnet_ids[0])
group = aws.ec2.get_security_group(name="default", vpc_id=vpc.id)
table = aws.ec2.get_route_table(vpc_id=vpc.id, filters=[{"name": "association.main", "values": ["true"]}])
tables = aws.ec2.get_route_tables(vpc_id=vpc.id)
ami = aws.ec2.get_ami(most_recent=True, owners=["amazon"], filters=[{"name": "name", "values": ["al2023-*"]}])
offered = aws.ec2.get_instance_type_offerings(
    location_type="availability-zone", filters=[{"name": "instance-type", "values": ["t4g.nano"]}]
)
kind = aws.ec2.get_instance_type(instance_type="t4g.nano")
account = aws.get_caller_identity()
region = aws.get_region()
partition = aws.get_partition()
zones = aws.get_availability_zones(state="available")
policy = aws.iam.get_policy_document(statements=[{"actions": ["s3:GetObject"], "resources": ["*"]}])
secret = aws.secretsmanager.get_secret_output(name="app/db")
aws.ec2.Instance("app", ami=ami.id, instance_type="t4g.nano", subnet_id=subnet.id,
                 vpc_security_group_ids=[group.id])
pulumi.export("answers", {
    "vpc": vpc.cidr_block, "subnets": len(subnet_ids), "public": subnet.map_public_ip_on_launch,
    "route": table.routes[0].gateway_id, "tables": tables.ids, "arch": ami.architecture,
    "offered": offered.locations, "arm": kind.supported_architectures, "account": account.account_id,
    "region": region.region, "partition": partition.partition, "zones": zones.zone_ids,
    "policy": policy.json, "secret": secret.arn,
})
"""


def test_a_program_calling_every_common_data_source_previews(tmp_path: Path) -> None:
    # The plain calls build pulumi-aws's result classes, which check each field's type.
    (tmp_path / "Pulumi.yaml").write_text("name: lookups\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-central-1\n")
    (tmp_path / "__main__.py").write_text(CALLS_EVERY_DATA_SOURCE)

    run = run_stack("dev", project_dir=tmp_path)

    answers = run.outputs["answers"]
    assert answers["vpc"] == DEFAULT_VPC_CIDR and answers["subnets"] == 3 and answers["public"] is True
    assert answers["route"].startswith("igw-") and answers["tables"][0].startswith("rtb-")
    assert answers["zones"] == ["euc1-az2", "euc1-az3", "euc1-az1"]
    assert answers["offered"] == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    assert (answers["arm"], answers["region"], answers["partition"]) == (["arm64"], "eu-central-1", "aws")
    statement = json.loads(answers["policy"])["Statement"]
    assert statement == [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
    assert answers["secret"] == UNKNOWN
    assert run.unanswered == {"aws:secretsmanager/getSecret:getSecret": 1}
    instance = run.of_type("aws:ec2/instance:Instance")[0]
    assert instance.properties["subnetId"].startswith("subnet-")

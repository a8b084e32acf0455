"""Run one component under the SDK mock engine beside a stand-in network, and query what it registered.

The stand-in network registers real (mocked) VPC, subnet, route table and security group resources, so the
component receives Output ids exactly as in a stack, and each record's property dependencies say which of
those resources a property came from, even on a preview where every id is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pulumi
import pulumi_aws as aws
from pulumi.runtime.settings import reset_options
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from preview.data_sources import _default_subnets
from preview.engine import RecordingMonitor
from preview.mocks import AwsMocks
from preview.model import ResourceRecord
from zappa_vpc.plan.options import InvalidOptionsError

PROJECT = "zappa-vpc"
REGION = "eu-west-1"

# An existing VPC for ServiceAccess on ids: the default VPC's subnets of the offline answers (so the AZ
# lookups find them), behind a route table with no Internet gateway route.
EXISTING_SUBNETS = [subnet["id"] for subnet in _default_subnets(REGION)]
PRIVATE_ROUTE_TABLE = {
    "aws:ec2/getRouteTable:getRouteTable": {
        "id": "rtb-private",
        "routes": [{"cidrBlock": "172.31.0.0/16", "gatewayId": "local"}],
    }
}
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")

T = TypeVar("T")


@dataclass
class StandInNetwork:
    """What the lead's network components hand to the access components: ids as Outputs."""

    vpc: aws.ec2.Vpc
    data_subnets: list[aws.ec2.Subnet]
    private_subnets: list[aws.ec2.Subnet]
    route_tables: dict[str, aws.ec2.RouteTable]
    security_groups: dict[str, aws.ec2.SecurityGroup]

    @classmethod
    def build(cls, zones: tuple[str, ...] = ZONES[:2]) -> StandInNetwork:
        vpc = aws.ec2.Vpc(
            "net-vpc", cidr_block="10.0.0.0/16", enable_dns_support=True, enable_dns_hostnames=True
        )

        def subnets(tier: str, offset: int) -> list[aws.ec2.Subnet]:
            return [
                aws.ec2.Subnet(
                    f"net-{tier}-{zone[-1]}",
                    vpc_id=vpc.id,
                    availability_zone=zone,
                    cidr_block=f"10.0.{offset + index}.0/24",
                )
                for index, zone in enumerate(zones)
            ]

        return cls(
            vpc=vpc,
            private_subnets=subnets("private", 0),
            data_subnets=subnets("data", 100),
            route_tables={
                label: aws.ec2.RouteTable(f"net-rt-{label}", vpc_id=vpc.id)
                for label in ("private-a", "private-b", "data")
            },
            security_groups={
                role: aws.ec2.SecurityGroup(f"net-{role}", vpc_id=vpc.id)
                for role in ("lambda", "bastion", "admin")
            },
        )

    def sg_ids(self, *roles: str) -> dict[str, pulumi.Output[str]]:
        return {role: self.security_groups[role].id for role in roles}


@dataclass
class Recorded:
    """Every registration of one program run, with lookups by name and by what a property came from."""

    records: list[ResourceRecord]
    urns_by_name: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.urns_by_name = {record.name: record.urn for record in self.records}

    def named(self, name: str) -> ResourceRecord:
        matches = [record for record in self.records if record.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, found {[r.urn for r in matches]}"
        return matches[0]

    def of_type(self, resource_type: str) -> list[ResourceRecord]:
        return [record for record in self.records if record.type == resource_type]

    def urns(self, *names: str) -> set[str]:
        return {self.urns_by_name[name] for name in names}

    def source_names(self, record: ResourceRecord, prop: str) -> set[str]:
        """Names of the resources the value of `prop` came from."""
        names_by_urn = {urn: name for name, urn in self.urns_by_name.items()}
        return {names_by_urn[urn] for urn in record.property_dependencies.get(prop, ())}

    def rules_of(self, security_group_name: str, rule_type: str) -> list[ResourceRecord]:
        """The standalone rules of `rule_type` attached to the security group named `security_group_name`."""
        return [
            rule
            for rule in self.of_type(rule_type)
            if self.source_names(rule, "securityGroupId") == {security_group_name}
        ]

    def names_outside(self, network: str = "net-") -> list[str]:
        """Resources registered beside the stack and the stand-in network (named `net-...`)."""
        return [
            record.urn
            for record in self.records
            if record.type != "pulumi:pulumi:Stack" and not record.name.startswith(network)
        ]


INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def _mock_engine(preview: bool, answers: dict[str, dict[str, Any]] | None = None) -> RecordingMonitor:
    reset_options(project=PROJECT, stack="test", preview=preview)
    monitor = RecordingMonitor(AwsMocks(region=REGION, preview=preview, answers=answers))
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack="test", preview=preview, monitor=monitor)
    return monitor


def run_program(
    program: Callable[[], T], *, preview: bool = True, answers: dict[str, dict[str, Any]] | None = None
) -> tuple[T, Recorded]:
    """Run `program` under the mock engine (a first preview, or an update with known ids) and record it;
    `answers` (data source token -> result) win over the offline preview's own."""
    monitor = _mock_engine(preview, answers)
    results: list[T] = []
    _sync_await(run_pulumi_func(lambda: results.append(program())))
    return results[0], Recorded(list(monitor.records))


def run_rejected_program(
    program: Callable[[], object], answers: dict[str, dict[str, Any]] | None = None
) -> tuple[InvalidOptionsError, Recorded]:
    """Run `program`, which must raise InvalidOptionsError; return it with what was registered before it."""
    monitor = _mock_engine(preview=True, answers=answers)
    try:
        _sync_await(run_pulumi_func(program))
    except InvalidOptionsError as error:
        return error, Recorded(list(monitor.records))
    raise AssertionError("the program registered its resources instead of rejecting its input")


def resolved(output: pulumi.Output[Any], sink: list[Any]) -> None:
    """Collect an output's value into `sink` once the program has run."""
    output.apply(sink.append)


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (key path, value) in a JSON-like property tree."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")
    else:
        yield path, value

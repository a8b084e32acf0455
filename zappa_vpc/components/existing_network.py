"""Bring your own network: an existing VPC, given by ids, for ServiceAccess to build on.

It registers the Lambda's security group (and its Zappa `vpc_config`) and nothing else in the VPC. The ids
can come from config, a StackReference or a lookup. Where the ids are plain strings, the subnets and their
route tables are looked up (`aws.ec2.get_subnet`, `aws.ec2.get_route_table`) before anything registers, to
check the AZ spread and that no database subnet routes to an Internet gateway; what could not be checked
(ids known only at deploy time, a lookup that found nothing) is said in a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.lambda_network import LambdaNetwork, LambdaNetworkArgs
from zappa_vpc.components.network import AccessTarget
from zappa_vpc.plan.args import AccessArgs, VpcArgs, access_options
from zappa_vpc.plan.options import (
    DatabaseEngine,
    InvalidOptionsError,
    NatStrategy,
    Pattern,
    Problem,
    require_valid,
)
from zappa_vpc.plan.settings import AUTO

# The stack's checks of the access settings run against the one of our patterns that looks like the
# existing network: private Lambda and database subnets, with or without a way to the Internet.
_LIKE = {True: (Pattern.PUBLIC_PRIVATE, NatStrategy.SINGLE), False: (Pattern.ISOLATED, NatStrategy.NONE)}


@dataclass(frozen=True, kw_only=True)
class ExistingNetworkArgs:
    """An existing VPC, by ids.

    vpc_id: the VPC.
    lambda_subnet_ids: the subnets the Lambda runs in, in at least 2 AZs.
    database_subnet_ids: the subnets for the database, in at least 2 AZs, with no route to an Internet
        gateway; none (the default) when there is no database.
    route_table_ids: label -> route table of the Lambda's and the database's subnets; the gateway endpoints
        (S3, DynamoDB) are added to each. Required while ServiceAccess makes gateway endpoints.
    internet_access: whether the Lambda subnets reach the Internet (through a NAT); True by default. Without
        it the Lambda reads the database secret through a `secretsmanager` interface endpoint.
    """

    vpc_id: pulumi.Input[str]
    lambda_subnet_ids: Sequence[pulumi.Input[str]]
    database_subnet_ids: Sequence[pulumi.Input[str]] = ()
    route_table_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    internet_access: bool = True


def _known(values: Sequence[object]) -> list[str] | None:
    """The ids, if every one is a plain string now (not an Output known only at deploy time)."""
    return [v for v in values if isinstance(v, str)] if all(isinstance(v, str) for v in values) else None


class ExistingNetwork(pulumi.ComponentResource):
    """An existing VPC as a base for ServiceAccess: registers the Lambda security group only."""

    def __init__(
        self, name: str, args: ExistingNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self.args = args
        self.unchecked: list[str] = []
        require_valid("ExistingNetwork", self._problems())
        super().__init__("zappa-vpc:network:ExistingNetwork", name, None, opts)
        self.lambda_network = LambdaNetwork(
            f"{name}-lambda",
            LambdaNetworkArgs(args.vpc_id, list(args.lambda_subnet_ids)),
            pulumi.ResourceOptions(parent=self),
        )
        for what in self.unchecked:
            pulumi.log.warn(f"ExistingNetwork {name}: not checked: {what}", self)
        self.outputs: dict[str, pulumi.Input[object]] = {
            "vpc_id": args.vpc_id,
            "lambda_security_group_id": self.lambda_network.security_group.id,
            "zappa_vpc_config": self.lambda_network.vpc_config,
        }
        self.register_outputs(self.outputs)

    def _problems(self) -> list[Problem]:
        args = self.args
        problems = []
        for field_name, ids in (
            ("lambda_subnet_ids", args.lambda_subnet_ids),
            ("database_subnet_ids", args.database_subnet_ids),
        ):
            if field_name == "database_subnet_ids" and not ids:
                continue
            if len(ids) < 2:
                problems.append(
                    Problem(field_name, list(ids), "give subnets in at least 2 availability zones")
                )
                continue
            known = _known(ids)
            if known is None:
                self.unchecked.append(f"{field_name}: ids known only at deploy time (AZ spread, routes)")
                continue
            problems += self._subnet_problems(field_name, known)
        return problems

    def _subnet_problems(self, field_name: str, ids: list[str]) -> list[Problem]:
        zones = [aws.ec2.get_subnet(id=subnet_id).availability_zone for subnet_id in ids]
        problems = []
        if None in zones:
            self.unchecked.append(f"{field_name}: the lookup gave no availability zone")
        elif len(set(zones)) < 2:
            problems.append(
                Problem(
                    field_name,
                    ids,
                    f"all in {zones[0]}: the database and Lambda need subnets in at least 2 "
                    "availability zones; add a subnet in another zone",
                )
            )
        if field_name == "database_subnet_ids":
            for index, subnet_id in enumerate(ids):
                problems += self._route_problems(f"{field_name}[{index}]", subnet_id)
        return problems

    def _route_problems(self, subject: str, subnet_id: str) -> list[Problem]:
        try:
            table = aws.ec2.get_route_table(subnet_id=subnet_id)
        except Exception:
            self.unchecked.append(f"{subject}: no route table associated explicitly with {subnet_id}")
            return []
        if not table.routes:  # every real table has its local route: the lookup told nothing
            self.unchecked.append(f"{subject}: the lookup gave no routes for {subnet_id}")
            return []
        gateways = [r.gateway_id for r in table.routes if (r.gateway_id or "").startswith("igw-")]
        if not gateways:
            return []
        return [
            Problem(
                subject,
                subnet_id,
                f"routes to the Internet gateway {gateways[0]}, so a database there can be made public; "
                "give subnets whose route table has no Internet gateway route",
            )
        ]

    def access_target(self, component: str, args: AccessArgs) -> AccessTarget:
        """What ServiceAccess builds on here, with `args` checked as the stack checks them."""
        own = self.args
        wants_database = args.database != AUTO and args.database != "none"
        problems = []
        if wants_database and not own.database_subnet_ids:
            problems.append(Problem("database_subnet_ids", [], "a database needs subnets; list them"))
        if args.gateway_endpoints and not own.route_table_ids:
            problems.append(
                Problem(
                    "route_table_ids",
                    {},
                    f"the gateway endpoints ({', '.join(args.gateway_endpoints)}) join route tables; list "
                    "those of the Lambda's and the database's subnets, or set gateway_endpoints=()",
                )
            )
        require_valid(component, problems)
        pattern, nat = _LIKE[own.internet_access]
        if args.database == AUTO:
            # As in the stack: a database where there are subnets for it.
            database = DatabaseEngine.POSTGRES.value if own.database_subnet_ids else "none"
            args = replace(args, database=database)
        like = VpcArgs(nat_strategy=nat, bastion="none")
        # The zones were checked from the subnets themselves; the access checks only count them.
        try:
            options = access_options(component, pattern, ("zone-1", "zone-2"), like, args)
        except InvalidOptionsError as error:
            raise InvalidOptionsError(
                str(error).replace(f"the {pattern.value} pattern", "this existing network")
            ) from None
        return AccessTarget(
            options=options,
            vpc_id=own.vpc_id,
            lambda_subnet_ids=list(own.lambda_subnet_ids),
            data_subnet_ids=list(own.database_subnet_ids),
            route_table_ids=dict(own.route_table_ids),
            lambda_security_group_id=self.lambda_network.security_group.id,
        )

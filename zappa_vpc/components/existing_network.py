"""Bring your own network: an existing VPC, given by ids, for ServiceAccess to build on.

ExistingNetwork registers the Lambda's security group (and its Zappa `vpc_config`) and nothing else in the
VPC. The ids can come from config, a StackReference or a lookup. `check_network` and `check_access` check
the network (and ServiceAccess's settings on it) before anything registers: where the ids are plain
strings, the subnets and their route tables are looked up (`aws.ec2.get_subnet`, `aws.ec2.get_route_table`)
to check the AZ spread and that no database subnet routes to an Internet gateway; what could not be checked
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
    ServiceAccessOptions,
    problem_lines,
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


@dataclass(frozen=True)
class NetworkCheck:
    """What checking an existing network found: `problems` refuse it; `unchecked` says what could not be
    checked (ids known only at deploy time, a lookup that told nothing), for a warning."""

    problems: list[Problem]
    unchecked: list[str]


def check_network(args: ExistingNetworkArgs) -> NetworkCheck:
    """The network's own problems: subnet counts, and where the ids are plain strings, the AZ spread and the
    database subnets' routes, looked up (`aws.ec2.get_subnet`, `aws.ec2.get_route_table`). Registers
    nothing."""
    problems: list[Problem] = []
    unchecked: list[str] = []
    # A whole list or map known only at deploy time (one output) cannot be counted or looked up; its items
    # may be outputs.
    wholes = {
        name: getattr(args, name)
        for name in ("lambda_subnet_ids", "database_subnet_ids", "route_table_ids")
        if isinstance(getattr(args, name), pulumi.Output)
    }
    for name in wholes:
        kind = "map of labels to ids" if name == "route_table_ids" else "list of ids"
        problems.append(
            Problem(name, "an output", f"give a {kind} (each id may be an output), to be checked first")
        )
    for field_name, ids in (
        ("lambda_subnet_ids", args.lambda_subnet_ids),
        ("database_subnet_ids", args.database_subnet_ids),
    ):
        if field_name in wholes or (field_name == "database_subnet_ids" and not ids):
            continue
        if len(ids) < 2:
            problems.append(Problem(field_name, list(ids), "give subnets in at least 2 availability zones"))
            continue
        known = _known(ids)
        if known is None:
            unchecked.append(f"{field_name}: ids known only at deploy time (AZ spread, routes)")
            continue
        problems += _subnet_problems(field_name, known, unchecked)
    return NetworkCheck(problems, unchecked)


def _subnet_problems(field_name: str, ids: list[str], unchecked: list[str]) -> list[Problem]:
    zones = [aws.ec2.get_subnet(id=subnet_id).availability_zone for subnet_id in ids]
    problems = []
    if None in zones:
        unchecked.append(f"{field_name}: the lookup gave no availability zone")
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
            problems += _route_problems(f"{field_name}[{index}]", subnet_id, unchecked)
    return problems


def _route_problems(subject: str, subnet_id: str, unchecked: list[str]) -> list[Problem]:
    try:
        table = aws.ec2.get_route_table(subnet_id=subnet_id)
    except Exception:
        unchecked.append(f"{subject}: no route table associated explicitly with {subnet_id}")
        return []
    if not table.routes:  # every real table has its local route: the lookup told nothing
        unchecked.append(f"{subject}: the lookup gave no routes for {subnet_id}")
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


@dataclass(frozen=True)
class AccessCheck:
    """Access settings checked against an existing network: the options when `problems` is empty."""

    options: ServiceAccessOptions | None
    problems: list[str]


def check_access(
    network: ExistingNetworkArgs, args: AccessArgs, component: str = "ServiceAccess"
) -> AccessCheck:
    """`args` (ServiceAccess's settings) checked against the existing network as the stack checks them,
    each problem as its message line. Pure: needs no registered resource and looks nothing up."""
    # check_network refuses a whole list or map given as one output; only whether it is empty is unknown,
    # so every other setting is still checked with it, and all problems come together.
    database_subnets_given = isinstance(network.database_subnet_ids, pulumi.Output) or bool(
        network.database_subnet_ids
    )
    tables_given = isinstance(network.route_table_ids, pulumi.Output) or bool(network.route_table_ids)
    wants_database = args.database != AUTO and args.database != "none"
    problems = []
    if wants_database and not database_subnets_given:
        problems.append(Problem("database_subnet_ids", [], "a database needs subnets; list them"))
    if args.gateway_endpoints and not tables_given:
        problems.append(
            Problem(
                "route_table_ids",
                {},
                f"the gateway endpoints ({', '.join(args.gateway_endpoints)}) join route tables; list "
                "those of the Lambda's and the database's subnets, or set gateway_endpoints=()",
            )
        )
    lines = problem_lines(problems)
    pattern, nat = _LIKE[network.internet_access]
    if args.database == AUTO:
        # As in the stack: a database where there are subnets for it.
        database = DatabaseEngine.POSTGRES.value if database_subnets_given else "none"
        args = replace(args, database=database)
    like = VpcArgs(nat_strategy=nat, bastion="none")
    try:
        # The zones were checked from the subnets themselves; the access checks only count them.
        options = access_options(component, pattern, ("zone-1", "zone-2"), like, args)
    except InvalidOptionsError as error:
        ours = f"the {pattern.value} pattern"
        return AccessCheck(None, lines + [p.replace(ours, "this existing network") for p in error.problems])
    return AccessCheck(None if lines else options, lines)


class ExistingNetwork(pulumi.ComponentResource):
    """An existing VPC as a base for ServiceAccess: registers the Lambda security group only.

    `check`: the result of `check_network(args)` when the caller already made it (ServiceAccess does, before
    it registers anything), so the lookups run once.
    """

    def __init__(
        self,
        name: str,
        args: ExistingNetworkArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        check: NetworkCheck | None = None,
    ) -> None:
        self.args = args
        check = check if check is not None else check_network(args)
        require_valid("ExistingNetwork", check.problems)
        super().__init__("zappa-vpc:network:ExistingNetwork", name, None, opts)
        self.lambda_network = LambdaNetwork(
            f"{name}-lambda",
            LambdaNetworkArgs(args.vpc_id, list(args.lambda_subnet_ids)),
            pulumi.ResourceOptions(parent=self),
        )
        for what in check.unchecked:
            pulumi.log.warn(f"ExistingNetwork {name}: not checked: {what}", self)
        self.outputs: dict[str, pulumi.Input[object]] = {
            "vpc_id": args.vpc_id,
            "lambda_security_group_id": self.lambda_network.security_group.id,
            "zappa_vpc_config": self.lambda_network.vpc_config,
        }
        self.register_outputs(self.outputs)

    def access_target(self, component: str, args: AccessArgs) -> AccessTarget:
        """What ServiceAccess builds on here, with `args` checked as the stack checks them."""
        checked = check_access(self.args, args, component)
        if checked.options is None:
            raise InvalidOptionsError.listing(component, checked.problems, "args")
        return self.target(checked.options)

    def target(self, options: ServiceAccessOptions) -> AccessTarget:
        """What ServiceAccess builds on here, with access `options` already checked (check_access)."""
        own = self.args
        return AccessTarget(
            options=options,
            vpc_id=own.vpc_id,
            lambda_subnet_ids=list(own.lambda_subnet_ids),
            data_subnet_ids=list(own.database_subnet_ids),
            route_table_ids=dict(own.route_table_ids),
            lambda_security_group_id=self.lambda_network.security_group.id,
        )

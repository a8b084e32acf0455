"""The fixed monthly cost of every shipped stack, beside the same stack with awsx `ec2.Vpc`'s defaults.

What is compared: each stack as shipped, and the same stack with only `azCount: 3` and
`natStrategy: one-per-az` changed, which is the layout awsx `ec2.Vpc` builds when given no options (three AZs,
`NatGatewayStrategy.OnePerAz`; terraform-aws-vpc's `one_nat_gateway_per_az` is the same). Bastion, database
and endpoints stay as the stack has them, so the difference is the network design alone. Patterns with no
NAT (isolated, single, internal) have no such counterpart. A second table prices the dev layout's options,
from awsx's defaults down to no NAT at all. Every number comes from `zappa_vpc.plan.costs`, the estimate the
offline preview prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.tables import BenchReport, render_table
from preview.engine import StackRun, run_stack, shipped_stacks
from zappa_vpc.plan.costs import (
    NAT_GATEWAY,
    STATEMENT,
    VPC_ENDPOINT,
    Category,
    CostEstimate,
    estimate_monthly_cost,
)
from zappa_vpc.plan.options import PATTERN_TRAITS, Pattern
from zappa_vpc.plan.prices import PriceTable

AWSX_DEFAULTS = {"zappa-vpc:azCount": 3, "zappa-vpc:natStrategy": "one-per-az"}
SUBNET = "aws:ec2/subnet:Subnet"

# The dev layout's options, most expensive first; each is dev's stack file with these settings changed.
DEV_OPTIONS: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("awsx ec2.Vpc defaults: 3 AZs, a NAT per AZ", AWSX_DEFAULTS),
    ("2 AZs, a NAT per AZ", {"zappa-vpc:natStrategy": "one-per-az"}),
    ("2 AZs, one shared NAT (dev as shipped)", {}),
    (
        "2 AZs, no NAT; Secrets Manager and SQS through interface endpoints",
        {"zappa-vpc:natStrategy": "none", "zappa-vpc:interfaceEndpoints": ["secretsmanager", "sqs"]},
    ),
    (
        "2 AZs, no NAT; Secrets Manager (the database secret) through an interface endpoint",
        {"zappa-vpc:natStrategy": "none", "zappa-vpc:interfaceEndpoints": ["secretsmanager"]},
    ),
)


@dataclass(frozen=True)
class PricedRun:
    """A stack run and its estimate, with the layout facts the tables show."""

    run: StackRun
    estimate: CostEstimate

    @classmethod
    def of(cls, stack: str, prices: PriceTable, overrides: Mapping[str, Any] | None = None) -> PricedRun:
        run = run_stack(stack, config_overrides=overrides)
        if run.error is not None:
            raise RuntimeError(f"stack {stack} with {dict(overrides or {})} does not preview: {run.error}")
        return cls(run, estimate_monthly_cost(run.resources, prices, run.config.get("aws:region")))

    @property
    def pattern(self) -> Pattern:
        return Pattern(self.run.outputs["pattern"])

    @property
    def az_count(self) -> int:
        return len({subnet.properties["availabilityZone"] for subnet in self.run.of_type(SUBNET)})

    @property
    def nat_gateways(self) -> int:
        return len(self.run.of_type(NAT_GATEWAY))

    @property
    def interface_endpoint_azs(self) -> int:
        return sum(
            len(endpoint.properties.get("subnetIds", []))
            for endpoint in self.run.of_type(VPC_ENDPOINT)
            if endpoint.properties.get("vpcEndpointType") == "Interface"
        )

    def usd(self, category: Category | None = None) -> str:
        amount = self.estimate.total_usd if category is None else self.estimate.subtotal(category)
        return f"{amount:.2f}"


def _share(part: PricedRun, whole: PricedRun) -> str:
    return f"{part.estimate.subtotal(Category.NETWORK) / whole.estimate.subtotal(Category.NETWORK):.0%}"


def stack_table(prices: PriceTable) -> str:
    rows = []
    for stack in shipped_stacks():
        shipped = PricedRun.of(stack, prices)
        row = [
            stack,
            shipped.pattern.value,
            str(shipped.az_count),
            str(shipped.nat_gateways),
            shipped.usd(Category.NETWORK),
            shipped.usd(Category.BASTION),
            shipped.usd(Category.DATABASE),
            shipped.usd(),
        ]
        if PATTERN_TRAITS[shipped.pattern].can_use_nat:
            awsx = PricedRun.of(stack, prices, AWSX_DEFAULTS)
            row += [awsx.usd(Category.NETWORK), awsx.usd(), _share(shipped, awsx)]
        else:
            row += ["-", "-", "-"]
        rows.append(row)
    return render_table(
        f"Fixed monthly cost of each shipped stack, {prices.currency}",
        (
            "stack",
            "pattern",
            "AZs",
            "NATs",
            "network",
            "bastion",
            "database",
            "total",
            "awsx defaults: network",
            "total",
            "network vs awsx",
        ),
        rows,
        "llrrrrrrrrr",
    )


def options_table(prices: PriceTable) -> str:
    runs = [(label, PricedRun.of("dev", prices, overrides)) for label, overrides in DEV_OPTIONS]
    awsx = runs[0][1]
    return render_table(
        f"Network options for the dev layout, fixed {prices.currency} per month",
        ("layout", "NATs", "interface endpoint-AZs", "network", "vs awsx defaults"),
        [
            (
                label,
                str(priced.nat_gateways),
                str(priced.interface_endpoint_azs),
                priced.usd(Category.NETWORK),
                _share(priced, awsx),
            )
            for label, priced in runs
        ],
        "lrrrr",
    )


def report(prices: PriceTable) -> BenchReport:
    without_nat = ", ".join(pattern.value for pattern in Pattern if not PATTERN_TRAITS[pattern].can_use_nat)
    notes = (
        f"Prices: {prices.describe()}. {STATEMENT} awsx defaults: the same stack with only azCount 3 and "
        f"natStrategy one-per-az; the patterns {without_nat} have no NAT, so no such counterpart."
    )
    return BenchReport(f"{stack_table(prices)}\n\n{options_table(prices)}\n\n{notes}")

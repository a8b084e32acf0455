"""The fixed monthly cost of a stack's network, bastion and database, from the resources it plans.

Pure Python (no Pulumi import): the input is what the engine is told to create, each resource as its type,
name and camelCase input properties (a preview's `ResourceRecord`s, or what the program itself observed, see
`zappa_vpc/components/cost_output.py`), so the offline preview, the stack output and the benchmarks share one
pricing
logic and none of them re-derives what a pattern creates.

It is an estimate of fixed charges only: data processing and transfer, log ingestion, backups beyond the
free allowance, taxes, free tier and discounts are left out, and listed with their per-GB prices. A price
the table lacks (an instance type, an engine) is a line marked unpriced, never a silent zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal, Protocol

from zappa_vpc.plan.options import DatabaseEngine, extended_support_year, major_version
from zappa_vpc.plan.prices import MULTI_AZ, SINGLE_AZ, PriceTable
from zappa_vpc.plan.unknown import UNKNOWN

NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
ELASTIC_IP = "aws:ec2/eip:Eip"
EC2_INSTANCE = "aws:ec2/instance:Instance"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
VPN_CONNECTION = "aws:ec2/vpnConnection:VpnConnection"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DB_INSTANCE = "aws:rds/instance:Instance"
DB_PROXY = "aws:rds/proxy:Proxy"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
AUTO_SCALING_GROUP = "aws:autoscaling/group:Group"
S3_BUCKET = "aws:s3/bucket:Bucket"

# The Amazon Linux 2023 AMI's root volume when the program does not size it.
DEFAULT_ROOT_VOLUME_GB = 8
DEFAULT_ROOT_VOLUME_TYPE = "gp3"

STATEMENT = (
    "An estimate of fixed monthly charges from list prices. Data processing and transfer charges are "
    "excluded, as are taxes, the free tier and discounts."
)

Per = Literal["hour", "month"]


class Category(StrEnum):
    NETWORK = "network"
    BASTION = "bastion"
    WORKERS = "workers"
    DATABASE = "database"


class PlannedResource(Protocol):
    """What the estimate reads of a resource; `preview.model.ResourceRecord` is one."""

    @property
    def type(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def properties(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class CostLine:
    """One charge: `quantity` units at `unit_price` USD per `per`, for `resources`.

    `unit_price` and `monthly_usd` are None when the price is not known; `note` then says why and what to do.
    """

    category: Category
    item: str
    quantity: float
    unit: str
    unit_price: float | None
    per: Per
    monthly_usd: float | None
    resources: tuple[str, ...]
    note: str = ""

    @property
    def priced(self) -> bool:
        return self.monthly_usd is not None


@dataclass(frozen=True)
class CostEstimate:
    """The line items of a stack, their totals, the usage charges left out, and warnings."""

    lines: tuple[CostLine, ...]
    prices: PriceTable
    excluded: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    def subtotal(self, category: Category) -> float:
        return math.fsum(line.monthly_usd or 0.0 for line in self.lines if line.category is category)

    @property
    def total_usd(self) -> float:
        return math.fsum(line.monthly_usd or 0.0 for line in self.lines)

    @property
    def unpriced(self) -> tuple[CostLine, ...]:
        return tuple(line for line in self.lines if not line.priced)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, amounts rounded to the cent: the `--json` section and the stack output."""
        return {
            "statement": STATEMENT,
            "currency": self.prices.currency,
            "prices": {
                "region": self.prices.region,
                "pricesAsOf": self.prices.prices_as_of.isoformat(),
                "files": list(self.prices.files),
                "hoursPerMonth": self.prices.hours_per_month,
            },
            "totalMonthly": _cents(self.total_usd),
            "subtotals": {category.value: _cents(self.subtotal(category)) for category in Category},
            "complete": not self.unpriced,
            "lines": [
                {
                    "category": line.category.value,
                    "item": line.item,
                    "quantity": line.quantity,
                    "unit": line.unit,
                    "unitPrice": line.unit_price,
                    "per": line.per,
                    "monthly": None if line.monthly_usd is None else _cents(line.monthly_usd),
                    "resources": list(line.resources),
                    "note": line.note,
                }
                for line in self.lines
            ],
            "excluded": list(self.excluded),
            "warnings": list(self.warnings),
        }


def _cents(amount: float) -> float:
    return round(amount, 2)


def estimate_monthly_cost(
    resources: Iterable[PlannedResource], prices: PriceTable, region: str | None = None
) -> CostEstimate:
    """The fixed monthly cost of `resources` at `prices`; `region` is where the stack deploys, if known."""
    planned = list(resources)
    pricer = _Pricer(
        prices,
        [r for r in planned if r.type == DB_INSTANCE],
        {r.properties.get("name"): r for r in planned if r.type == LAUNCH_TEMPLATE},
    )
    lines = [line for resource in planned for line in pricer.lines_for(resource)]
    warnings = []
    if region and region != prices.region:
        warnings.append(
            f"the prices are {prices.region}'s but this stack deploys to {region}; prices differ by region: "
            f"give {region}'s prices in a prices file"
        )
    merged = tuple(_merge_alike(lines))
    unpriced = [line.item for line in merged if not line.priced]
    if unpriced:
        warnings.append(
            f"{len(unpriced)} item(s) have no price, so the total leaves them out: {'; '.join(unpriced)}"
        )
    return CostEstimate(merged, prices, _excluded(planned, prices), tuple(warnings))


def _merge_alike(lines: Iterable[CostLine]) -> list[CostLine]:
    """One line per kind of charge: three NAT gateways are one line of quantity 3."""
    merged: dict[tuple[Any, ...], CostLine] = {}
    for line in lines:
        key = (line.category, line.item, line.unit, line.unit_price, line.per, line.note)
        seen = merged.get(key)
        if seen is None:
            merged[key] = line
            continue
        merged[key] = replace(
            seen,
            quantity=seen.quantity + line.quantity,
            monthly_usd=None
            if seen.monthly_usd is None or line.monthly_usd is None
            else seen.monthly_usd + line.monthly_usd,
            resources=seen.resources + line.resources,
        )
    # By category; in each, what has no price first (it needs attention), then the largest charges. Names
    # sorted, so the order the engine happened to register resources in does not show.
    ordered = sorted(
        merged.values(),
        key=lambda line: (
            list(Category).index(line.category),
            line.priced,
            -(line.monthly_usd or 0.0),
            line.item,
        ),
    )
    return [replace(line, resources=tuple(sorted(line.resources))) for line in ordered]


def _known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Pricer:
    """Turns one planned resource into its cost lines."""

    def __init__(
        self,
        prices: PriceTable,
        database_instances: list[PlannedResource],
        launch_templates: Mapping[Any, PlannedResource],
    ) -> None:
        self.prices = prices
        self.database_instances = database_instances
        self.launch_templates = launch_templates
        self.by_type: dict[str, Callable[[PlannedResource], list[CostLine]]] = {
            NAT_GATEWAY: self.nat_gateway,
            ELASTIC_IP: self.elastic_ip,
            EC2_INSTANCE: self.ec2_instance,
            AUTO_SCALING_GROUP: self.auto_scaling_group,
            VPC_ENDPOINT: self.vpc_endpoint,
            VPN_CONNECTION: self.vpn_connection,
            DB_INSTANCE: self.database_instance,
            DB_PROXY: self.database_proxy,
        }

    def line(
        self,
        category: Category,
        item: str,
        resource: PlannedResource,
        *,
        quantity: float = 1,
        unit: str,
        unit_price: float | None,
        per: Per = "hour",
        note: str = "",
    ) -> CostLine:
        hours = self.prices.hours_per_month if per == "hour" else 1
        monthly = None if unit_price is None else quantity * unit_price * hours
        # Quantities read from the engine are floats (protobuf numbers); one type whatever the source.
        return CostLine(
            category, item, float(quantity), unit, unit_price, per, monthly, (resource.name,), note
        )

    def lines_for(self, resource: PlannedResource) -> list[CostLine]:
        """Its charges; none for what AWS does not bill by the hour or month (subnets, routes, roles...)."""
        price = self.by_type.get(resource.type)
        return price(resource) if price else []

    def public_ipv4(self, category: Category, holder: str, resource: PlannedResource) -> CostLine:
        return self.line(
            category,
            f"Public IPv4 address ({holder})",
            resource,
            unit="address",
            unit_price=self.prices.hourly.public_ipv4_address,
        )

    def secret(self, category: Category, holding: str, resource: PlannedResource) -> CostLine:
        return self.line(
            category,
            f"Secrets Manager secret ({holding})",
            resource,
            unit="secret",
            unit_price=self.prices.monthly.secrets_manager_secret,
            per="month",
        )

    def storage(
        self,
        category: Category,
        item: str,
        resource: PlannedResource,
        *,
        size: Any,
        gb_month: float | None,
        missing_price: str,
        note: str,
    ) -> CostLine:
        """`size` GiB at `gb_month` USD per GiB-month; unpriced, saying why, when either is not known."""
        if gb_month is None:
            note = missing_price
        elif not _is_number(size):
            note = "its size is not known until deployment"
        return self.line(
            category,
            item,
            resource,
            quantity=size if _is_number(size) else 0,
            unit="GiB",
            unit_price=gb_month if _is_number(size) else None,
            per="month",
            note=note,
        )

    def nat_gateway(self, resource: PlannedResource) -> list[CostLine]:
        return [
            self.line(
                Category.NETWORK,
                "NAT gateway",
                resource,
                unit="gateway",
                unit_price=self.prices.hourly.nat_gateway,
            )
        ]

    def elastic_ip(self, resource: PlannedResource) -> list[CostLine]:
        # AWS bills every public IPv4 address, attached or idle.
        return [self.public_ipv4(Category.NETWORK, "Elastic IP", resource)]

    def ec2_instance(self, resource: PlannedResource) -> list[CostLine]:
        properties = resource.properties
        root = properties.get("rootBlockDevice")
        lines = self.instances(Category.BASTION, resource, properties.get("instanceType"), root, 1)
        if properties.get("associatePublicIpAddress") is True:
            lines.append(self.public_ipv4(Category.BASTION, "EC2 instance", resource))
        return lines

    def auto_scaling_group(self, resource: PlannedResource) -> list[CostLine]:
        """Its launch template's instances and root volumes at the group's minimum size: what always runs.
        The template is found by the name the group launches (an id is unknown on a first preview)."""
        properties = resource.properties
        reference = properties.get("launchTemplate")
        name = reference.get("name") if isinstance(reference, Mapping) else None
        template = self.launch_templates.get(name) if _known(name) else None
        size = properties.get("minSize")
        if template is None or not _is_number(size):
            why = "its launch template is not known" if template is None else "its size is not known"
            line = self.line(
                Category.WORKERS,
                "Auto Scaling group instances",
                resource,
                unit="instance",
                unit_price=None,
                note=f"{why} until deployment",
            )
            return [line]
        mappings = template.properties.get("blockDeviceMappings")
        root = (
            next((m.get("ebs") for m in mappings if isinstance(m, Mapping)), None)
            if isinstance(mappings, list)
            else None
        )
        return self.instances(Category.WORKERS, resource, template.properties.get("instanceType"), root, size)

    def instances(
        self, category: Category, resource: PlannedResource, instance_type: Any, root: Any, count: float
    ) -> list[CostLine]:
        """`count` instances of `instance_type`, each with its `root` volume (8 GiB gp3 if unset)."""
        hourly = self.prices.ec2_instance_hourly.get(instance_type) if _known(instance_type) else None
        lines = [
            self.line(
                category,
                f"EC2 instance {instance_type if _known(instance_type) else '(type not known yet)'}",
                resource,
                quantity=count,
                unit="instance",
                unit_price=hourly,
                note=""
                if hourly is not None
                else _missing(instance_type, f'ec2InstanceHourly["{instance_type}"]', "instance type"),
            )
        ]
        root = root if isinstance(root, dict) else {}
        volume_type = root.get("volumeType", DEFAULT_ROOT_VOLUME_TYPE)
        size = root.get("volumeSize", DEFAULT_ROOT_VOLUME_GB)
        lines.append(
            self.storage(
                category,
                f"EBS root volume ({volume_type})",
                resource,
                size=size * count if _is_number(size) else size,
                gb_month=self.prices.ebs_gb_month.get(volume_type) if _known(volume_type) else None,
                missing_price=_missing(volume_type, f'ebsGbMonth["{volume_type}"]', "volume type"),
                note="" if "volumeSize" in root else f"{DEFAULT_ROOT_VOLUME_GB} GiB, the AMI's default size",
            )
        )
        return lines

    def vpc_endpoint(self, resource: PlannedResource) -> list[CostLine]:
        properties = resource.properties
        service = str(properties.get("serviceName", "")).rsplit(".", 1)[-1] or "unknown service"
        kind = properties.get("vpcEndpointType", "Gateway")
        if kind == "Gateway":
            return [
                self.line(
                    Category.NETWORK,
                    f"Gateway endpoint {service}",
                    resource,
                    unit="endpoint",
                    unit_price=0.0,
                )
            ]
        subnets = properties.get("subnetIds")
        if kind != "Interface" or not isinstance(subnets, list):
            reason = (
                f"{kind} endpoints are not in the price table"
                if kind != "Interface"
                else "its subnets (one per AZ) are not known yet"
            )
            return [
                self.line(
                    Category.NETWORK,
                    f"{kind} endpoint {service}",
                    resource,
                    unit="endpoint-AZ",
                    unit_price=None,
                    note=reason,
                )
            ]
        return [
            self.line(
                Category.NETWORK,
                f"Interface endpoint {service}",
                resource,
                quantity=len(subnets),
                unit="endpoint-AZ",
                unit_price=self.prices.hourly.interface_endpoint_per_az,
            )
        ]

    def vpn_connection(self, resource: PlannedResource) -> list[CostLine]:
        lines = [
            self.line(
                Category.NETWORK,
                "Site-to-Site VPN connection",
                resource,
                unit="connection",
                unit_price=self.prices.hourly.vpn_connection,
            )
        ]
        if resource.properties.get("presharedKeyStorage") == "SecretsManager":
            lines.append(self.secret(Category.NETWORK, "VPN tunnel keys", resource))
        return lines

    def database_instance(self, resource: PlannedResource) -> list[CostLine]:
        properties = resource.properties
        engine = properties.get("engine")
        instance_class = properties.get("instanceClass")
        deployment = MULTI_AZ if properties.get("multiAz") is True else SINGLE_AZ
        shown = "Multi-AZ" if deployment == MULTI_AZ else "Single-AZ"
        class_prices = (
            self.prices.rds_instance_classes.get(instance_class) if _known(instance_class) else None
        )
        hourly = (
            (class_prices.hourly.get(engine) or {}).get(deployment)
            if class_prices and _known(engine)
            else None
        )
        lines = [
            self.line(
                Category.DATABASE,
                f"RDS {engine} {instance_class} ({shown})",
                resource,
                unit="instance",
                unit_price=hourly,
                note=""
                if hourly is not None
                else _missing(
                    f"{instance_class} for {engine}",
                    f'rdsInstanceClasses["{instance_class}"].hourly["{engine}"].{deployment}',
                    "instance class",
                ),
            )
        ]
        storage_type = properties.get("storageType")
        ceiling = properties.get("maxAllocatedStorage")
        lines.append(
            self.storage(
                Category.DATABASE,
                f"RDS storage {storage_type} ({shown})",
                resource,
                size=properties.get("allocatedStorage"),
                gb_month=(self.prices.rds_storage_gb_month.get(storage_type) or {}).get(deployment)
                if _known(storage_type)
                else None,
                missing_price="storageType is not set, and the RDS default depends on the engine: set it"
                if storage_type is None
                else _missing(
                    storage_type, f'rdsStorageGbMonth["{storage_type}"].{deployment}', "storage type"
                ),
                note=f"grows to at most {ceiling:g} GiB with storage autoscaling, billed as it grows"
                if _is_number(ceiling) and ceiling
                else "",
            )
        )
        lines += self.extended_support(resource, class_prices, deployment)
        if properties.get("manageMasterUserPassword") is True:
            lines.append(self.secret(Category.DATABASE, "RDS-managed master password", resource))
        if properties.get("publiclyAccessible") is True:
            lines.append(self.public_ipv4(Category.DATABASE, "RDS instance", resource))
        return lines

    def extended_support(
        self, resource: PlannedResource, class_prices: Any, deployment: str
    ) -> list[CostLine]:
        """RDS Extended Support, where the engine major is past RDS standard support on the prices' date:
        per vCPU-hour of the instance and of its Multi-AZ standby (RDS User Guide, "Amazon RDS Extended
        Support charges")."""
        engine, version = resource.properties.get("engine"), resource.properties.get("engineVersion")
        if not (_known(engine) and _known(version)) or engine not in set(DatabaseEngine):
            return []
        engine = DatabaseEngine(engine)
        year = extended_support_year(engine, str(version), self.prices.prices_as_of)
        if year is None:
            return []
        hourly = self.prices.hourly
        rate = (
            hourly.rds_extended_support_per_vcpu_year1_to2
            if year <= 2
            else hourly.rds_extended_support_per_vcpu_year3
        )
        instances = 2 if deployment == MULTI_AZ else 1
        vcpus = class_prices.vcpus * instances if class_prices else None
        band = "years 1-2" if year <= 2 else "year 3"
        return [
            self.line(
                Category.DATABASE,
                f"RDS Extended Support ({engine.value} {major_version(engine, str(version))}, {band})",
                resource,
                quantity=vcpus or 0,
                unit="vCPU",
                unit_price=rate if vcpus is not None else None,
                note=f"past RDS standard support on {self.prices.prices_as_of}; upgrade to stop it"
                if vcpus is not None
                else "bills per vCPU of the instance, whose size the price table does not tell",
            )
        ]

    def database_proxy(self, resource: PlannedResource) -> list[CostLine]:
        """RDS Proxy bills per vCPU of the database it fronts (with a minimum); our stacks have one database.

        The link from a proxy to its database is an id known only after deployment, so with several database
        instances of different sizes the proxy is marked unpriced rather than guessed.
        """
        minimum = self.prices.rds_proxy_minimum_vcpus
        sizes = set()
        for instance in self.database_instances:
            class_prices = self.prices.rds_instance_classes.get(instance.properties.get("instanceClass"))
            sizes.add(class_prices.vcpus if class_prices else None)
        vcpus = max(next(iter(sizes)), minimum) if len(sizes) == 1 and None not in sizes else None
        note = (
            f"the database instance's vCPUs, at least {minimum}"
            if vcpus is not None
            else "bills per vCPU of its database, whose size the price table or the stack does not tell"
        )
        return [
            self.line(
                Category.DATABASE,
                "RDS Proxy",
                resource,
                quantity=vcpus or 0,
                unit="vCPU",
                unit_price=self.prices.hourly.rds_proxy_per_vcpu if vcpus is not None else None,
                note=note,
            )
        ]


def _missing(value: Any, key: str, what: str) -> str:
    if not _known(value):
        return f"the {what} is not known until deployment"
    return f"{value} is not in the price table: add {key} in a prices file (--prices FILE)"


def _excluded(resources: list[PlannedResource], prices: PriceTable) -> tuple[str, ...]:
    """The usage charges this stack will also have, with their per-GB list prices."""
    per_gb = prices.per_gb
    currency = prices.currency
    types = {resource.type for resource in resources}
    interface_endpoints = any(
        r.type == VPC_ENDPOINT and r.properties.get("vpcEndpointType") == "Interface" for r in resources
    )
    excluded = [
        f"data transfer: {per_gb.internet_transfer_out:g} {currency}/GB out to the Internet, "
        f"{per_gb.cross_az_transfer:g} {currency}/GB between availability zones"
    ]
    if NAT_GATEWAY in types:
        excluded.append(f"NAT gateway data processing: {per_gb.nat_gateway_processing:g} {currency}/GB")
    if interface_endpoints:
        excluded.append(
            f"interface endpoint data processing: {per_gb.interface_endpoint_processing:g} {currency}/GB"
        )
    logs = (
        f"CloudWatch Logs ingestion {per_gb.cloud_watch_logs_ingestion:g} {currency}/GB and storage "
        f"{per_gb.cloud_watch_logs_storage_gb_month:g} {currency}/GB-month for as long as they are kept"
    )
    if FLOW_LOG in types:
        excluded.append(f"VPC flow logs: {logs}")
    exported = sorted(
        {
            str(log)
            for r in resources
            if r.type == DB_INSTANCE and isinstance(r.properties.get("enabledCloudwatchLogsExports"), list)
            for log in r.properties["enabledCloudwatchLogsExports"]
        }
    )
    if exported:
        excluded.append(f"RDS log exports ({', '.join(exported)}): {logs}")
    if S3_BUCKET in types:
        excluded.append("S3 storage and requests of the app bucket (per GB-month and per request)")
    if DB_INSTANCE in types:
        excluded.append(
            "RDS backups beyond the free allowance (the allocated storage), and CPU credits above baseline "
            "on burstable (db.t*) classes"
        )
    return tuple(excluded)


def render_cost_text(estimate: CostEstimate) -> str:
    """The estimate as the offline preview prints it."""
    currency = estimate.prices.currency
    subtotals = ", ".join(f"{category} {estimate.subtotal(category):.2f}" for category in Category)
    rows = [
        (
            line.category.value,
            line.item,
            f"{line.quantity:g} {_plural(line.unit, line.quantity)}",
            _unit_price_text(line, currency),
            "?" if line.monthly_usd is None else f"{line.monthly_usd:.2f}",
            line.note,
        )
        for line in estimate.lines
    ]
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(5)]
    text = [
        f"Monthly cost estimate: {estimate.total_usd:.2f} {currency} ({subtotals})",
        f"  {estimate.prices.describe()}",
        f"  {STATEMENT}",
        "",
    ]
    if not rows:
        text.append("  nothing here has a fixed charge")
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=False)]
        note = f"  ({row[5]})" if row[5] else ""
        text.append(f"  {'  '.join(cells)}  {row[4].rjust(widths[4])}{note}")
    text.append("")
    text.append("  Not included (usage-priced):")
    text.extend(f"    - {item}" for item in estimate.excluded)
    text.extend(f"  warning: {warning}" for warning in estimate.warnings)
    return "\n".join(text)


def _plural(unit: str, quantity: float) -> str:
    if quantity == 1 or unit == "GiB":
        return unit
    return f"{unit}es" if unit.endswith("s") else f"{unit}s"


def _unit_price_text(line: CostLine, currency: str) -> str:
    if line.unit_price is None:
        return "no price"
    if line.unit_price == 0:
        return "free"
    return f"x {line.unit_price:g} {currency}/{line.per}"

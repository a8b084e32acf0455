"""The price table the cost estimate reads: one region's list prices, dated, with their sources.

Pure Python. The shipped table is `zappa_vpc/pricing/us-east-1.json`; a user's JSON file of the same shape
overrides
it key by key (`load_prices(override)`), so one price, a missing instance type or a whole other region can be
given without copying the rest. Every problem in the merged table is reported at once, naming the key, the
bad value and what would be valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_PRICES = Path(__file__).resolve().parent.parent / "pricing" / "us-east-1.json"

SINGLE_AZ = "singleAz"
MULTI_AZ = "multiAz"
DEPLOYMENTS = (SINGLE_AZ, MULTI_AZ)

T = TypeVar("T")


def camel_case(snake: str) -> str:
    """`interface_endpoint_per_az` -> `interfaceEndpointPerAz`: Pulumi's engine names and our JSON keys."""
    return re.sub(r"_([a-z0-9])", lambda match: match.group(1).upper(), snake)


class PriceTableError(Exception):
    """The price table (or the override file) has problems; the message lists every one."""

    def __init__(self, files: Sequence[str], problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"price table {' + '.join(files)}:\n" + "\n".join(f"  - {problem}" for problem in self.problems)
        )


@dataclass(frozen=True)
class HourlyPrices:
    """USD per hour of one resource."""

    nat_gateway: float
    public_ipv4_address: float
    interface_endpoint_per_az: float
    vpn_connection: float
    rds_proxy_per_vcpu: float
    # RDS Extended Support, per vCPU: in years 1-2 after the end of standard support, and in year 3.
    rds_extended_support_per_vcpu_year1_to2: float
    rds_extended_support_per_vcpu_year3: float


@dataclass(frozen=True)
class MonthlyPrices:
    """USD per month of one resource."""

    secrets_manager_secret: float


@dataclass(frozen=True)
class PerGbPrices:
    """USD per GB: usage charges the estimate leaves out, quoted so the reader can size them."""

    nat_gateway_processing: float
    interface_endpoint_processing: float
    cross_az_transfer: float
    internet_transfer_out: float
    cloud_watch_logs_ingestion: float
    # Per GB-month kept.
    cloud_watch_logs_storage_gb_month: float


@dataclass(frozen=True)
class RdsClassPrices:
    """One RDS instance class: its vCPUs (RDS Proxy bills per vCPU) and USD per hour by engine and deployment
    (`hourly["postgres"]["multiAz"]`)."""

    vcpus: int
    hourly: Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class PriceTable:
    """List prices of one region, as of a date, and the files they were read from."""

    region: str
    currency: str
    prices_as_of: date
    sources: tuple[str, ...]
    notes: str
    files: tuple[str, ...]
    hours_per_month: float
    hourly: HourlyPrices
    monthly: MonthlyPrices
    per_gb: PerGbPrices
    rds_proxy_minimum_vcpus: int
    ec2_instance_hourly: Mapping[str, float]
    ebs_gb_month: Mapping[str, float]
    rds_instance_classes: Mapping[str, RdsClassPrices]
    rds_storage_gb_month: Mapping[str, Mapping[str, float]]

    def describe(self) -> str:
        """`us-east-1 list prices as of 2026-11-29 (zappa_vpc/pricing/us-east-1.json)`."""
        return f"{self.region} list prices as of {self.prices_as_of} ({' + '.join(self.files)})"


def load_prices(override: Path | None = None, base: Path = DEFAULT_PRICES) -> PriceTable:
    """The shipped table, with `override`'s keys (same shape, any subset) replacing its values."""
    files = [_display_path(base)]
    document = _read_json(base, files)
    if override is not None:
        files.append(_display_path(override))
        document = _merged(document, _read_json(override, files))
    return parse_price_table(document, files)


def parse_price_table(document: Any, files: Sequence[str]) -> PriceTable:
    """Validate a price table document; raises PriceTableError listing every problem."""
    read = _Reader()
    table = read.mapping("", document)
    read.only_keys("", table, {camel_case(f.name) for f in fields(PriceTable)} - {"files"})
    prices = PriceTable(
        region=read.text("region", table.get("region")),
        currency=read.text("currency", table.get("currency")),
        prices_as_of=read.day("pricesAsOf", table.get("pricesAsOf")),
        sources=read.sources("sources", table.get("sources")),
        notes=read.text("notes", table.get("notes")),
        files=tuple(files),
        hours_per_month=read.positive("hoursPerMonth", table.get("hoursPerMonth")),
        hourly=read.section("hourly", table.get("hourly"), HourlyPrices),
        monthly=read.section("monthly", table.get("monthly"), MonthlyPrices),
        per_gb=read.section("perGb", table.get("perGb"), PerGbPrices),
        rds_proxy_minimum_vcpus=read.count("rdsProxyMinimumVcpus", table.get("rdsProxyMinimumVcpus")),
        ec2_instance_hourly=read.named("ec2InstanceHourly", table.get("ec2InstanceHourly"), read.price),
        ebs_gb_month=read.named("ebsGbMonth", table.get("ebsGbMonth"), read.price),
        rds_instance_classes=read.named(
            "rdsInstanceClasses", table.get("rdsInstanceClasses"), read.rds_class
        ),
        rds_storage_gb_month=read.named(
            "rdsStorageGbMonth", table.get("rdsStorageGbMonth"), read.by_deployment
        ),
    )
    if read.problems:
        raise PriceTableError(files, read.problems)
    return prices


def _display_path(path: Path) -> str:
    # Shipped tables by their place in the project; the user's file as they named it.
    try:
        return str(path.resolve().relative_to(DEFAULT_PRICES.parents[2]))
    except ValueError:
        return str(path)


def _read_json(path: Path, files: Sequence[str]) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise PriceTableError(files, [f"{path}: no such file; give the path of a JSON price table"]) from None
    except json.JSONDecodeError as error:
        raise PriceTableError(files, [f"{path}: not valid JSON ({error}); fix the file"]) from None


def _merged(base: Any, override: Any) -> Any:
    """`override` laid over `base`: objects merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merged(base[key], value) if key in base else value
        return merged
    return override


class _Reader:
    """Typed reads of the JSON document, collecting one message per bad value."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, value: object, expected: str) -> None:
        self.problems.append(f"{path or 'the document'} = {json.dumps(value)}: expected {expected}")

    def mapping(self, path: str, value: Any) -> Mapping[str, Any]:
        if isinstance(value, dict):
            return value
        self.fail(path, value, "a JSON object")
        return {}

    def only_keys(self, path: str, value: Mapping[str, Any], allowed: set[str]) -> None:
        for key in sorted(set(value) - allowed):
            known = ", ".join(sorted(allowed))
            self.problems.append(f"{_join(path, key)}: not a price table key; the keys here are {known}")

    def text(self, path: str, value: Any) -> str:
        if isinstance(value, str) and value.strip():
            return value
        self.fail(path, value, "a non-empty string")
        return ""

    def day(self, path: str, value: Any) -> date:
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(path, value, "the date the prices were taken, as YYYY-MM-DD")
        return date.min

    def sources(self, path: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, list) and value and all(str(v).startswith("https://") for v in value):
            return tuple(value)
        self.fail(path, value, "a non-empty list of https:// addresses of the pages the prices come from")
        return ()

    def price(self, path: str, value: Any) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
        self.fail(path, value, "a price in USD: a number, 0 or more")
        return 0.0

    def positive(self, path: str, value: Any) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            return float(value)
        self.fail(path, value, "a number above 0")
        return 1.0

    def count(self, path: str, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        self.fail(path, value, "a whole number, 1 or more")
        return 1

    def section(self, path: str, value: Any, kind: type[T]) -> T:
        """A fixed set of prices: exactly the fields of `kind`, in camelCase."""
        prices = self.mapping(path, value)
        keys = {f.name: camel_case(f.name) for f in fields(kind)}
        self.only_keys(path, prices, set(keys.values()))
        for key in sorted(set(keys.values()) - set(prices)):
            self.problems.append(f"{_join(path, key)}: missing; give its price in USD")
        return kind(**{name: self.price(_join(path, key), prices.get(key, 0)) for name, key in keys.items()})

    def named(self, path: str, value: Any, read_entry: Callable[[str, Any], T]) -> dict[str, T]:
        """An open map (instance type -> price...): any name, each entry read by `read_entry`."""
        entries = self.mapping(path, value)
        return {name: read_entry(f'{path}["{name}"]', entry) for name, entry in entries.items()}

    def by_deployment(self, path: str, value: Any) -> dict[str, float]:
        prices = self.mapping(path, value)
        self.only_keys(path, prices, set(DEPLOYMENTS))
        for key in DEPLOYMENTS:
            if key not in prices:
                self.problems.append(f"{_join(path, key)}: missing; give the {key} price in USD")
        return {key: self.price(_join(path, key), prices[key]) for key in DEPLOYMENTS if key in prices}

    def rds_class(self, path: str, value: Any) -> RdsClassPrices:
        entry = self.mapping(path, value)
        self.only_keys(path, entry, {"vcpus", "hourly"})
        return RdsClassPrices(
            vcpus=self.count(_join(path, "vcpus"), entry.get("vcpus")),
            hourly=self.named(_join(path, "hourly"), entry.get("hourly"), self.by_deployment),
        )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key

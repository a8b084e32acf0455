"""zappa-vpc: secure VPC patterns for a Zappa (AWS Lambda) Django app, as Pulumi components.

The public API is `__all__` (README, "Use it in your own program"); anything else may change without
notice. `zappa_vpc.plan` holds the pure planning logic (no Pulumi import); `zappa_vpc.components` the
ComponentResources. Names are imported on first use, so importing a pure module pulls in no Pulumi.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

# Public name -> the module defining it.
_EXPORTS = {
    # The pattern components (the class is the pattern) and their args.
    "IsolatedVpc": "zappa_vpc.components.network",
    "SingleTierVpc": "zappa_vpc.components.network",
    "PublicPrivateVpc": "zappa_vpc.components.network",
    "HybridVpc": "zappa_vpc.components.network",
    "InternalVpc": "zappa_vpc.components.network",
    "PATTERN_COMPONENTS": "zappa_vpc.components.network",
    "VpcArgs": "zappa_vpc.plan.args",
    # The database, endpoints, Lambda security group and Zappa outputs, on one of ours or an existing VPC
    # (its ids in ExistingNetworkArgs, checked with the access before anything registers).
    "ServiceAccess": "zappa_vpc.components.service_access",
    "ServiceAccessArgs": "zappa_vpc.components.service_access",
    "ExistingNetwork": "zappa_vpc.components.existing_network",
    "ExistingNetworkArgs": "zappa_vpc.components.existing_network",
    # The pieces and their typed args.
    "PrivateDatabase": "zappa_vpc.components.database",
    "PrivateDatabaseArgs": "zappa_vpc.components.database",
    "DatabaseOptions": "zappa_vpc.plan.options",
    "VpcEndpoints": "zappa_vpc.components.endpoints",
    "VpcEndpointsArgs": "zappa_vpc.components.endpoints",
    "EndpointOptions": "zappa_vpc.plan.options",
    "LambdaNetwork": "zappa_vpc.components.lambda_network",
    "LambdaNetworkArgs": "zappa_vpc.components.lambda_network",
    "Bastion": "zappa_vpc.components.bastion",
    "BastionArgs": "zappa_vpc.components.bastion",
    "BastionOptions": "zappa_vpc.plan.options",
    "Workers": "zappa_vpc.components.workers",
    "WorkersArgs": "zappa_vpc.components.workers",
    "WorkerOptions": "zappa_vpc.plan.options",
    "AppBucket": "zappa_vpc.components.app_bucket",
    "AppBucketArgs": "zappa_vpc.components.app_bucket",
    "AppBucketOptions": "zappa_vpc.plan.options",
    # The choices, each also accepted as its string value.
    "Pattern": "zappa_vpc.plan.options",
    "NatStrategy": "zappa_vpc.plan.options",
    "BastionAccess": "zappa_vpc.plan.options",
    "DatabaseEngine": "zappa_vpc.plan.options",
    "InvalidOptionsError": "zappa_vpc.plan.options",
    # A monthly cost estimate of what the program registers (create PlannedResources before any resource).
    "PlannedResources": "zappa_vpc.components.cost_output",
    "load_prices": "zappa_vpc.plan.prices",
    # Our stack config, for programs that want it.
    "CONFIG_SCHEMA": "zappa_vpc.plan.settings",
    "parse_settings": "zappa_vpc.plan.settings",
    "Settings": "zappa_vpc.plan.settings",
    "SettingsError": "zappa_vpc.plan.settings",
    # What parse_settings asks AWS: the region's zones, and where the bastion's instance type is offered.
    "available_zones": "zappa_vpc.components.lookups",
    "instance_type_offer": "zappa_vpc.components.lookups",
    "InstanceTypeOffer": "zappa_vpc.plan.options",
}
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'zappa_vpc' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)

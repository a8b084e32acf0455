"""What a preview records of each registered resource: the shape the policy pack is shown over gRPC.

Pure data (no Pulumi import) so the engine, the policy client, the picture and the benchmarks share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zappa_vpc.plan.unknown import UNKNOWN

__all__ = ["UNKNOWN", "ResourceRecord"]


@dataclass(frozen=True)
class ResourceRecord:
    """One resource registration, as the Pulumi engine would hand it to an analyzer.

    `properties` holds the inputs in the engine's camelCase names, JSON-like values only, with
    `UNKNOWN` wherever a value is not known yet (every id on a first preview).
    `property_dependencies` maps a property name to the URNs its value came from.
    """

    urn: str
    type: str
    name: str
    custom: bool
    properties: dict[str, Any]
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    provider: str = ""
    id: str = ""

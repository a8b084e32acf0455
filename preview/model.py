"""What a preview records of each registered resource: the shape the policy pack is shown over gRPC.

Pure data (no Pulumi import) so the engine, the policy client, the picture and the benchmarks share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# The engine's marker for a value that is unknown during preview (pulumi.runtime.rpc.UNKNOWN).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


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

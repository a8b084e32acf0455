"""Every rule of the pack, in the order the CLI lists them."""

from __future__ import annotations

from . import availability, database, hygiene, instances
from .rules import Rule

PACK_NAME = "vpc-network-guard"
PACK_DESCRIPTION = (
    "Blocks insecure AWS networks at preview time: public databases, single-AZ placements, SSH/RDP from the "
    "internet; follows references through the stack's dependency graph, so it decides on a first preview."
)

RULES: tuple[Rule, ...] = database.RULES + availability.RULES + hygiene.RULES + instances.RULES

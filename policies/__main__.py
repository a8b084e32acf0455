"""The pack's entry point (`python -m pulumi.policy <engine> .` runs it): builds the PolicyPack and
nothing else. Building it starts the analyzer server, so no other module may do so."""

from network_guard import one_pass
from network_guard.catalog import PACK_DESCRIPTION, PACK_NAME, RULES
from network_guard.sdk import to_policy
from pulumi_policy import EnforcementLevel, PolicyPack

one_pass.install()  # convert the stack once per AnalyzeStack, not once per stack rule

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[to_policy(rule) for rule in RULES],
)

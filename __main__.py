"""zappa-vpc: a secure network for a Zappa (AWS Lambda) Django app.

Composes only, through the public API a user's program has (zappa_vpc.__all__): stack config -> validated
settings -> network -> database and endpoints -> exports.
"""

import pulumi

from zappa_vpc import (
    PATTERN_COMPONENTS,
    PlannedResources,
    ServiceAccess,
    ServiceAccessArgs,
    SettingsError,
    VpcArgs,
    available_zones,
    instance_type_offer,
    load_prices,
    parse_settings,
)


def _project_config() -> dict[str, str]:
    """Every key in this project's namespace that the CLI passed, declared or not, so a misspelt key is
    refused instead of ignored (the CLI passes undeclared keys on since 3.45). The language host passes
    them in PULUMI_CONFIG; the automation API and the SDK's mocks through set_all_config."""
    prefix = f"{pulumi.get_project()}:"
    passed = {**pulumi.runtime.get_config_env(), **pulumi.runtime.config.CONFIG.get()}
    return {key[len(prefix) :]: value for key, value in passed.items() if key.startswith(prefix)}


stack = pulumi.get_stack()
try:
    # Every mistake in the stack's config, network and access together, before anything is registered.
    settings = parse_settings(
        _project_config(),
        stack=stack,
        region=pulumi.Config("aws").get("region"),
        region_zones=available_zones,
        instance_type_offer=instance_type_offer,
        deploying=not pulumi.runtime.is_dry_run(),
    )
except SettingsError as error:
    # A user mistake: say what to fix, without a traceback.
    raise pulumi.RunError(str(error)) from None

planned = PlannedResources()  # before the first resource: the cost estimate prices what is registered
network = PATTERN_COMPONENTS[settings.network.pattern](stack, VpcArgs.from_settings(settings))
access = ServiceAccess(f"{stack}-access", ServiceAccessArgs.from_settings(settings, network))

for name, value in {**network.outputs, **access.outputs}.items():
    pulumi.export(name, value)
pulumi.export("monthly_cost_estimate", planned.estimate(load_prices(), settings.region).to_dict())

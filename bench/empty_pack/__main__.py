"""A pack with no rules, for the benchmark's baseline. The SDK refuses a pack without policies, so it
has one resource policy and one stack policy that check nothing: every request is still received and
converted (once, for the one stack policy) exactly as for a real pack."""

from pulumi_policy import PolicyPack, ResourceValidationPolicy, StackValidationPolicy

PolicyPack(
    name="no-rules",
    policies=[
        ResourceValidationPolicy(
            name="no-resource-rule", description="Checks nothing.", validate=lambda *_: None
        ),
        StackValidationPolicy(name="no-stack-rule", description="Checks nothing.", validate=lambda *_: None),
    ],
)

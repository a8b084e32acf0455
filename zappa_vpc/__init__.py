"""zappa-vpc: secure VPC patterns for a Zappa (AWS Lambda) Django app, as Pulumi components.

`zappa_vpc.plan` holds the pure planning logic (addresses, settings, costs: no Pulumi import);
`zappa_vpc.components` holds the ComponentResources that wire AWS resources from a plan.
"""

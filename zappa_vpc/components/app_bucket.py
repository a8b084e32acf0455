"""A private S3 bucket for the app, whose data is reached only through the VPC's S3 gateway endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.naming import stack_scoped
from zappa_vpc.plan.iam import app_bucket_policy
from zappa_vpc.plan.names import S3_BUCKET_NAME, physical_name
from zappa_vpc.plan.options import AppBucketOptions, require_valid

# `-` and the 12-digit account id: bucket names are global, and the stack's hash alone is not unique
# across accounts deploying the same project and stack.
_ACCOUNT_SUFFIX = 13


@dataclass(frozen=True)
class AppBucketArgs:
    """options: the admin roles. endpoint_id: the VPC's S3 gateway endpoint, the only way in for data."""

    options: AppBucketOptions
    endpoint_id: pulumi.Input[str]


class AppBucket(pulumi.ComponentResource):
    """Public access blocked (all four settings), ACLs off, SSE-S3 by default, versioned, TLS only, and data
    access only through `endpoint_id` or by the admin roles. Outputs: `bucket_name`, `bucket_arn`."""

    def __init__(self, name: str, args: AppBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require_valid("AppBucket", args.options.problems())
        super().__init__("zappa-vpc:app_bucket:AppBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stem = physical_name(name, S3_BUCKET_NAME, unique=stack_scoped(name), reserve=_ACCOUNT_SUFFIX)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=aws.get_caller_identity_output().account_id.apply(lambda account: f"{stem}-{account}"),
            opts=child,
        )
        blocked = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, args.endpoint_id).apply(
                lambda values: app_bucket_policy(values[0], values[1], args.options.admin_role_arns)
            ),
            # One change to the bucket at a time: S3 answers concurrent policy and public access block
            # changes with OperationAborted.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[blocked]),
        )
        self.bucket_name = self.bucket.bucket
        self.bucket_arn = self.bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn})

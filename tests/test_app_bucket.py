"""The app bucket: private, encrypted, versioned, TLS only, data only through the VPC's S3 endpoint or by the
named admin roles; its name and endpoint in the Zappa environment, least-privilege permissions for the app."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest

from tests.stack_queries import referenced, the_one
from zappa_vpc.plan.iam import app_bucket_policy
from zappa_vpc.plan.settings import SettingsError, parse_settings

BUCKET_ARN = "arn:aws:s3:::app-bucket"
ENDPOINT = "vpce-0123456789abcdef0"
ADMIN = "arn:aws:iam::123456789012:role/deployer"
BUCKET = {"zappa-vpc:appBucket": True}


def _denied(policy: str, action: str, resource: str, *, tls: bool, vpce: str | None, principal: str) -> bool:
    """Whether an explicit Deny of `policy` matches the request: the operators the policy uses, as IAM
    evaluates them (IAM user guide, "IAM JSON policy elements: Condition operators"); a key absent from
    the request (aws:SourceVpce outside an endpoint) makes StringNotEquals true."""
    context = {"aws:SecureTransport": "true" if tls else "false", "aws:PrincipalArn": principal}
    if vpce is not None:
        context["aws:SourceVpce"] = vpce
    tests = {
        "Bool": lambda key, value: context.get(key) == value,
        "StringNotEquals": lambda key, value: context.get(key) not in _list(value),
        "ArnNotLike": lambda key, value: not any(fnmatchcase(context.get(key, ""), p) for p in _list(value)),
    }
    for statement in json.loads(policy)["Statement"]:
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        if not any(fnmatchcase(action, a) for a in _list(statement["Action"])):
            continue
        if not any(fnmatchcase(resource, r) for r in _list(statement["Resource"])):
            continue
        conditions = statement["Condition"]
        if all(tests[op](key, value) for op, pairs in conditions.items() for key, value in pairs.items()):
            return True
    return False


def _list(value):
    return value if isinstance(value, list) else [value]


OBJECT = f"{BUCKET_ARN}/media/a.jpg"
APP = "arn:aws:iam::123456789012:role/app-lambda"


@pytest.mark.parametrize(
    ("action", "resource", "tls", "vpce", "principal", "denied"),
    [
        ("s3:GetObject", OBJECT, True, ENDPOINT, APP, False),  # the app, through the endpoint
        ("s3:PutObject", OBJECT, True, ENDPOINT, APP, False),
        ("s3:ListBucket", BUCKET_ARN, True, ENDPOINT, APP, False),
        ("s3:GetObject", OBJECT, False, ENDPOINT, APP, True),  # no TLS
        ("s3:GetObject", OBJECT, True, None, APP, True),  # from the Internet
        ("s3:GetObject", OBJECT, True, "vpce-0ther", APP, True),  # through another VPC's endpoint
        ("s3:DeleteObjectVersion", OBJECT, True, None, APP, True),
        ("s3:ListBucketVersions", BUCKET_ARN, True, None, APP, True),
        ("s3:GetObject", OBJECT, True, None, ADMIN, False),  # the escape hatch
        ("s3:GetObject", OBJECT, False, None, ADMIN, True),  # which still needs TLS
        ("s3:PutBucketPolicy", BUCKET_ARN, True, None, APP, False),  # nobody is locked out of the policy
    ],
)
def test_the_policy_denies_non_tls_and_off_endpoint_data_access_but_not_the_admins(
    action, resource, tls, vpce, principal, denied
):
    policy = app_bucket_policy(BUCKET_ARN, ENDPOINT, [ADMIN])
    assert _denied(policy, action, resource, tls=tls, vpce=vpce, principal=principal) is denied


def test_without_admin_roles_every_off_endpoint_data_access_is_denied():
    policy = app_bucket_policy(BUCKET_ARN, ENDPOINT, [])
    assert _denied(policy, "s3:GetObject", OBJECT, tls=True, vpce=None, principal=ADMIN)
    assert not _denied(policy, "s3:GetObject", OBJECT, tls=True, vpce=ENDPOINT, principal=ADMIN)


def test_the_bucket_blocks_public_access_encrypts_and_versions(stack_run):
    run = stack_run("dev", BUCKET)
    assert run.error is None, run.error
    block = the_one(run.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), "block").properties
    assert [
        block[k]
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    ] == [True] * 4
    encryption = the_one(
        run.of_type("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"),
        "sse",
    )
    (rule,) = encryption.properties["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    versioning = the_one(run.of_type("aws:s3/bucketVersioning:BucketVersioning"), "versioning")
    assert versioning.properties["versioningConfiguration"]["status"] == "Enabled"
    ownership = the_one(run.of_type("aws:s3/bucketOwnershipControls:BucketOwnershipControls"), "ownership")
    assert ownership.properties["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    policy = the_one(run.of_type("aws:s3/bucketPolicy:BucketPolicy"), "policy")
    sources = {r.type for r in referenced(run, policy, "policy")}
    assert "aws:ec2/vpcEndpoint:VpcEndpoint" in sources, "the policy names the stack's S3 endpoint"


def test_the_bucket_and_endpoint_reach_zappa_with_least_privilege(stack_run):
    run = stack_run("dev", BUCKET)
    fragment = run.outputs["zappa_settings"]
    environment = fragment["environment_variables"]
    assert environment["APP_BUCKET"] == run.outputs["app_bucket_name"]
    assert "APP_BUCKET_VPCE_ID" in environment and "DATABASE_HOST" in environment
    statements = {s["Sid"]: s for s in fragment["extra_permissions"]}
    assert statements["ZappaVpcAppBucketObjects"]["Action"] == [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
    ]
    assert statements["ZappaVpcAppBucketList"]["Action"] == "s3:ListBucket"
    assert set(statements) == {
        "ZappaVpcReadDatabaseSecret",
        "ZappaVpcAppBucketObjects",
        "ZappaVpcAppBucketList",
    }


def test_the_bucket_name_is_a_valid_global_name_with_the_account(stack_run):
    name = stack_run("dev", BUCKET).outputs["app_bucket_name"]
    assert len(name) <= 63 and name == name.lower() and name.endswith("-123456789012"), name


def _problems(changes: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        parse_settings(
            changes, stack="x", region="us-east-1", region_zones=lambda: ["us-east-1a", "us-east-1b"]
        )
    return caught.value.problems


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"appBucketAdminRoleArns": json.dumps([ADMIN])},
            f'zappa-vpc:appBucketAdminRoleArns = ["{ADMIN}"]: there is no app bucket (zappa-vpc:appBucket: '
            "false); set zappa-vpc:appBucket: true, or remove it",
        ),
        (
            {"appBucket": "true", "appBucketAdminRoleArns": '["deployer"]'},
            "zappa-vpc:appBucketAdminRoleArns[0] = deployer: not an IAM role ARN",
        ),
        (
            {"appBucket": "true", "appBucketAdminRoleArns": json.dumps([ADMIN, ADMIN])},
            f'zappa-vpc:appBucketAdminRoleArns = ["{ADMIN}", "{ADMIN}"]: lists a role twice',
        ),
        (
            {"appBucket": "true", "gatewayEndpoints": '["dynamodb"]'},
            "zappa-vpc:appBucket = true: its data is reached only through the VPC's S3 gateway endpoint; "
            "add 's3' to zappa-vpc:gatewayEndpoints",
        ),
    ],
)
def test_an_app_bucket_setting_mistake_is_named_with_its_fix(changes, message):
    problems = _problems(changes)
    assert any(message in problem for problem in problems), problems

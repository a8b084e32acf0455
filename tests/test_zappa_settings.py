"""The stack's Zappa stage fragment, the command that merges it into zappa_settings.json, and Zappa's own
loader (zappa from PyPI) reading the result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from zappa.cli import ZappaCLI

from preview.engine import shipped_stacks
from preview.tree import render_outputs
from tests.access_helpers import walk
from tests.stack_queries import as_deployed
from zappa_vpc.plan.unknown import UNKNOWN
from zappa_vpc.plan.zappa_settings import PLACEHOLDER_PREFIX, merge_stage
from zappa_vpc.zappa_settings import EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_WRITTEN, main

# Where ids (known only after `pulumi up`) sit in the fragment; everything else is known at preview.
ID_PATHS = {
    "vpc_config.SubnetIds[0]",
    "vpc_config.SubnetIds[1]",
    "vpc_config.SecurityGroupIds[0]",
    "environment_variables.DATABASE_HOST",
    "environment_variables.DATABASE_SECRET_ARN",
    "extra_permissions[0].Resource",
}


def test_preview_shows_the_fragments_keys_with_only_the_ids_unknown(stack_run):
    outputs = stack_run("internal").outputs
    fragment = outputs["zappa_settings"]
    assert list(fragment) == [
        "aws_region",
        "vpc_config",
        "environment_variables",
        "extra_permissions",
        "endpoint_configuration",
        "apigateway_policy",
    ]
    assert {path for path, value in walk(fragment) if value == UNKNOWN} == ID_PATHS
    assert fragment["extra_permissions"][0]["Action"] == "secretsmanager:GetSecretValue"
    for name in ("zappa_vpc_config", "zappa_environment", "zappa_apigateway_policy"):
        assert isinstance(outputs[name], dict), f"{name} is one unknown: {outputs[name]!r}"


def test_preview_tree_prints_the_fragments_structure(stack_run):
    text = render_outputs(stack_run("dev").outputs)
    assert "zappa_settings          : {" in text
    assert (
        "vpc_config: {SubnetIds: [output<string>, output<string>], SecurityGroupIds: [output<string>]}"
        in text
    )
    assert 'DATABASE_ENGINE: "django.db.backends.postgresql"' in text
    assert "zappa_environment       : {" in text and "zappa_vpc_config        : {" in text


def test_a_stack_without_database_or_private_api_gives_the_network_only(stack_run):
    fragment = stack_run("isolated").outputs["zappa_settings"]
    assert set(fragment) == {"aws_region", "vpc_config"}


@pytest.mark.parametrize("stack", shipped_stacks())
def test_every_stacks_fragment_points_at_what_the_stack_built(stack_run, stack):
    run = stack_run(stack, as_deployed(stack), preview=False)
    assert run.error is None, run.error
    outputs = run.outputs
    fragment = outputs["zappa_settings"]
    assert fragment["aws_region"] == run.config.get("aws:region", "us-east-1")
    assert fragment["vpc_config"] == outputs["zappa_vpc_config"]
    assert fragment["vpc_config"]["SecurityGroupIds"] == [outputs["lambda_security_group_id"]]
    if "database_secret_arn" in outputs:
        assert fragment["environment_variables"] == outputs["zappa_environment"]
        assert fragment["environment_variables"]["DATABASE_HOST"] == outputs["database_host"]
        statement = fragment["extra_permissions"][0]
        assert statement["Resource"] == outputs["database_secret_arn"]
    if "app_bucket_name" in outputs:
        assert fragment["environment_variables"]["APP_BUCKET"] == outputs["app_bucket_name"]
        assert fragment["environment_variables"]["APP_BUCKET_VPCE_ID"] == outputs["app_bucket_vpce_id"]
        buckets = [s["Resource"] for s in fragment["extra_permissions"] if s["Sid"].startswith("ZappaVpcApp")]
        assert buckets == [f"{outputs['app_bucket_arn']}/*", outputs["app_bucket_arn"]]
    if "database_secret_arn" not in outputs and "app_bucket_name" not in outputs:
        assert "environment_variables" not in fragment and "extra_permissions" not in fragment
    private_api = "private_api_endpoint_id" in outputs
    assert ("endpoint_configuration" in fragment) == private_api == ("apigateway_policy" in fragment)


# --- the command -------------------------------------------------------------------------------------------


def _deployed_outputs(stack_run, stack: str, tmp_path: Path) -> Path:
    """What `pulumi stack output --json` prints after `pulumi up`: every output, ids known."""
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(stack_run(stack, as_deployed(stack), preview=False).outputs, indent=2))
    return path


USER_STATEMENT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*"}
USER_SETTINGS = {
    "prod": {"app_function": "mysite.wsgi.application", "aws_region": "us-east-1", "s3_bucket": "prod-zips"},
    "dev": {
        "django_settings": "mysite.settings",
        "project_name": "mysite",
        "s3_bucket": "dev-zips",
        "environment_variables": {"DJANGO_DEBUG": "1"},
        "extra_permissions": [USER_STATEMENT],
    },
}


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "zappa_settings.json"
    path.write_text(json.dumps(USER_SETTINGS, indent=4))
    return path


def _merge(settings: Path, *source: str, extra: tuple[str, ...] = ()) -> int:
    return main(["--stage", "dev", *source, "--settings", str(settings), *extra])


def _zappa_reads(settings: Path, stage: str = "dev") -> tuple[ZappaCLI, Any]:
    """Zappa's CLI loading `stage` as `zappa deploy` does, from the settings file's directory."""
    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_credentials = True
    zappa = cli.load_settings(settings.name, session=boto3.Session(region_name="us-east-1"))
    return cli, zappa


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield


def test_deployed_fragment_merged_into_a_stage_is_what_zappa_loads(
    stack_run, tmp_path, settings_file, monkeypatch, aws
):
    outputs_file = _deployed_outputs(stack_run, "internal", tmp_path)
    outputs = json.loads(outputs_file.read_text())
    assert _merge(settings_file, "--from-stack-output", str(outputs_file)) == EXIT_WRITTEN

    written = json.loads(settings_file.read_text())
    assert written["prod"] == USER_SETTINGS["prod"], "another stage was touched"
    monkeypatch.chdir(settings_file.parent)  # Zappa opens `apigateway_policy` from where it runs
    cli, zappa = _zappa_reads(settings_file)

    fragment = outputs["zappa_settings"]
    assert dict(cli.vpc_config) == outputs["zappa_vpc_config"] == fragment["vpc_config"]
    assert cli.aws_region == "us-east-1"
    assert dict(cli.environment_variables) == {"DJANGO_DEBUG": "1", **outputs["zappa_environment"]}
    assert cli.django_settings == "mysite.settings" and cli.stage_config["s3_bucket"] == "dev-zips"
    assert cli.endpoint_configuration == ["PRIVATE"]
    # Zappa read the policy file's contents into the API Gateway resource policy.
    assert json.loads(zappa.apigateway_policy) == outputs["zappa_apigateway_policy"]
    assert [dict(s) for s in zappa.extra_permissions] == [USER_STATEMENT, *fragment["extra_permissions"]]

    # With manage_roles (Zappa's default), Zappa puts the statements into the role it creates.
    zappa.create_iam_roles()
    policy = boto3.client("iam").get_role_policy(RoleName=zappa.role_name, PolicyName="zappa-permissions")
    statements = policy["PolicyDocument"]["Statement"]
    read_secret = [s for s in statements if s.get("Action") == "secretsmanager:GetSecretValue"]
    assert read_secret == fragment["extra_permissions"]
    assert read_secret[0]["Resource"] == outputs["database_secret_arn"]


def test_a_second_run_changes_nothing(stack_run, tmp_path, settings_file, capsys):
    outputs_file = _deployed_outputs(stack_run, "dev", tmp_path)
    assert _merge(settings_file, "--from-stack-output", str(outputs_file)) == EXIT_WRITTEN
    first = settings_file.read_text()
    assert _merge(settings_file, "--from-stack-output", str(outputs_file)) == EXIT_WRITTEN
    assert settings_file.read_text() == first
    assert "already up to date" in capsys.readouterr().out


def test_a_value_the_stack_would_change_is_refused_with_both_values(
    stack_run, tmp_path, settings_file, capsys
):
    outputs_file = _deployed_outputs(stack_run, "dev", tmp_path)
    mine = json.loads(settings_file.read_text())
    mine["dev"]["vpc_config"] = {"SubnetIds": ["subnet-mine"], "SecurityGroupIds": ["sg-mine"]}
    mine["dev"]["aws_region"] = "eu-west-1"
    settings_file.write_text(json.dumps(mine))
    before = settings_file.read_text()

    assert _merge(settings_file, "--from-stack-output", str(outputs_file)) == EXIT_REFUSED
    assert settings_file.read_text() == before, "a refused merge must write nothing"
    errors = capsys.readouterr().err
    stack_subnets = json.loads(outputs_file.read_text())["zappa_vpc_config"]["SubnetIds"]
    assert (
        f'dev.vpc_config.SubnetIds: the file has ["subnet-mine"], the stack gives {json.dumps(stack_subnets)}'
        in errors
    )
    assert 'dev.aws_region: the file has "eu-west-1", the stack gives "us-east-1"' in errors
    assert "--force" in errors

    assert _merge(settings_file, "--from-stack-output", str(outputs_file), extra=("--force",)) == EXIT_WRITTEN
    forced = json.loads(settings_file.read_text())["dev"]
    assert forced["vpc_config"]["SubnetIds"] == stack_subnets
    assert forced["environment_variables"]["DJANGO_DEBUG"] == "1", "--force still keeps what the stack lacks"


def test_preview_placeholders_are_marked_then_replaced_after_deploy(
    stack_run, tmp_path, settings_file, capsys
):
    assert _merge(settings_file, "--from-preview", "internal") == EXIT_WRITTEN
    before_deploy = json.loads(settings_file.read_text())["dev"]
    placeholders = {path for path, value in walk(before_deploy) if str(value).startswith(PLACEHOLDER_PREFIX)}
    # The user's own statement stays first; ours follows it.
    assert placeholders == ID_PATHS - {"extra_permissions[0].Resource"} | {"extra_permissions[1].Resource"}
    assert "rerun with --from-stack-output" in capsys.readouterr().err
    policy_file = settings_file.parent / "apigateway_resource_policy.json"
    assert PLACEHOLDER_PREFIX in policy_file.read_text()

    outputs_file = _deployed_outputs(stack_run, "internal", tmp_path)
    assert _merge(settings_file, "--from-stack-output", str(outputs_file)) == EXIT_WRITTEN, (
        capsys.readouterr()
    )
    after_deploy = json.loads(settings_file.read_text())["dev"]
    assert PLACEHOLDER_PREFIX not in json.dumps(after_deploy) + policy_file.read_text()
    assert after_deploy["extra_permissions"][0] == USER_STATEMENT
    assert len(after_deploy["extra_permissions"]) == 2, "our statement is updated in place, not added again"


def test_a_policy_file_the_user_changed_is_not_overwritten(stack_run, tmp_path, settings_file, capsys):
    outputs_file = _deployed_outputs(stack_run, "internal", tmp_path)
    policy_file = settings_file.parent / "apigateway_resource_policy.json"
    policy_file.write_text('{"Version": "2012-10-17", "Statement": []}')
    assert _merge(settings_file, "--from-stack-output", str(outputs_file)) == EXIT_REFUSED
    assert f"file {policy_file}" in capsys.readouterr().err
    assert json.loads(policy_file.read_text())["Statement"] == []


def test_dry_run_says_what_would_change_and_writes_nothing(stack_run, tmp_path, settings_file, capsys):
    outputs_file = _deployed_outputs(stack_run, "internal", tmp_path)
    before = settings_file.read_text()
    assert (
        _merge(settings_file, "--from-stack-output", str(outputs_file), extra=("--dry-run",)) == EXIT_WRITTEN
    )
    assert "would set dev.vpc_config" in capsys.readouterr().out
    assert settings_file.read_text() == before
    assert not (settings_file.parent / "apigateway_resource_policy.json").exists()


def test_a_new_settings_file_gets_the_stage(stack_run, tmp_path):
    outputs_file = _deployed_outputs(stack_run, "dev", tmp_path)
    settings = tmp_path / "new" / "zappa_settings.json"
    assert _merge(settings, "--from-stack-output", str(outputs_file)) == EXIT_WRITTEN
    assert set(json.loads(settings.read_text())) == {"dev"}


@pytest.mark.parametrize(
    ("outputs", "settings", "message"),
    [
        (None, json.dumps(USER_SETTINGS), "cannot read it"),
        ("not json", json.dumps(USER_SETTINGS), "not valid JSON"),
        (
            json.dumps({"vpc_id": "vpc-1"}),
            json.dumps(USER_SETTINGS),
            "pulumi stack output --json > outputs.json",
        ),
        (
            json.dumps({"zappa_settings": {"environment_variables": {"DATABASE_SECRET_ARN": "[secret]"}}}),
            json.dumps(USER_SETTINGS),
            "zappa_settings.environment_variables.DATABASE_SECRET_ARN shown as [secret]",
        ),
        (json.dumps({"zappa_settings": {}}), "{", "--settings"),
        (json.dumps({"zappa_settings": {}}), "[]", "expected a JSON object of stages"),
        (json.dumps({"zappa_settings": {}}), json.dumps({"dev": "x"}), "stage 'dev' is not a JSON object"),
        (json.dumps({"zappa_settings": {"apigateway_policy": "p.json"}}), "{}", "zappa_apigateway_policy"),
    ],
    ids=[
        "no-file",
        "not-json",
        "no-fragment",
        "blinded-secret",
        "bad-settings",
        "list",
        "stage",
        "no-policy",
    ],
)
def test_bad_input_is_named_and_nothing_is_written(tmp_path, capsys, outputs, settings, message):
    outputs_file = tmp_path / "outputs.json"
    if outputs is not None:
        outputs_file.write_text(outputs)
    settings_file = tmp_path / "zappa_settings.json"
    settings_file.write_text(settings)
    assert _merge(settings_file, "--from-stack-output", str(outputs_file)) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert settings_file.read_text() == settings


def test_yaml_settings_are_refused_with_a_reason(tmp_path, capsys):
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps({"zappa_settings": {}}))
    assert _merge(tmp_path / "zappa_settings.yml", "--from-stack-output", str(outputs_file)) == EXIT_BAD_INPUT
    assert "only JSON settings are written" in capsys.readouterr().err


def test_from_preview_of_an_unknown_stack_is_bad_input(tmp_path, capsys):
    assert _merge(tmp_path / "zappa_settings.json", "--from-preview", "nosuchstack") == EXIT_BAD_INPUT
    assert "there is no Pulumi.nosuchstack.yaml" in capsys.readouterr().err


def test_stdin_is_read_with_a_dash(stack_run, tmp_path, settings_file, monkeypatch):
    outputs_file = _deployed_outputs(stack_run, "dev", tmp_path)
    monkeypatch.setattr("sys.stdin", outputs_file.open())
    assert _merge(settings_file, "--from-stack-output", "-") == EXIT_WRITTEN
    assert "vpc_config" in json.loads(settings_file.read_text())["dev"]


# --- the merge rules ---------------------------------------------------------------------------------------


def test_merge_keeps_the_users_keys_and_statements_and_updates_its_own_by_sid():
    ours = {"Sid": "ZappaVpcReadDatabaseSecret", "Effect": "Allow", "Action": "a", "Resource": "old"}
    current = {"timeout_seconds": 60, "extra_permissions": [USER_STATEMENT, ours]}
    fragment = {"extra_permissions": [{**ours, "Resource": "new"}]}
    refused = merge_stage(current, fragment)
    assert [c.path for c in refused.conflicts] == ["extra_permissions[1].Resource"]
    forced = merge_stage(current, fragment, force=True)
    assert forced.stage == {
        "timeout_seconds": 60,
        "extra_permissions": [USER_STATEMENT, {**ours, "Resource": "new"}],
    }

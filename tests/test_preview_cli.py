"""`python -m preview`: what a newcomer and CI see, and the exit codes CI acts on.

The policy pack is stood in for by a fixed verdict here, so these tests are about the front end; the real
pack judges the real stacks in test_e2e_stacks.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import PIL.Image
import pytest

from preview import __main__ as cli
from preview.engine import PROJECT_DIR, StackRun, run_stack, shipped_stacks
from preview.judge import POLICY_PACK_DIR, pack_version
from preview.policy_client import PolicyDiagnostic
from preview.verdict import PackVerdict

PUBLIC_DB = PolicyDiagnostic(
    policy_name="rds-no-public-access",
    policy_pack="vpc-network-guard",
    policy_pack_version="0.0.1",
    description="Databases are never reachable from the internet.",
    message="Databases are never reachable from the internet.\nSet publiclyAccessible to false.",
    enforcement_level="mandatory",
    severity="critical",
    urn="urn:pulumi:dev::zappa-vpc::aws:rds/instance:Instance::dev-db",
)


class FakeJudge:
    """Returns a fixed verdict and remembers what it was asked."""

    def __init__(self, *diagnostics: PolicyDiagnostic) -> None:
        self.diagnostics = diagnostics
        self.calls: list[tuple[StackRun, Mapping[str, Any] | None]] = []

    def __call__(
        self,
        run: StackRun,
        policy_config: Mapping[str, Any] | None,
        *,
        pack_dir: Path | None = None,
        pack: object = None,
    ) -> list[PackVerdict]:
        self.calls.append((run, policy_config))
        return [PackVerdict("vpc-network-guard", "0.1.0", "policies", self.diagnostics)]


@pytest.fixture
def clean_judge(monkeypatch: pytest.MonkeyPatch) -> FakeJudge:
    judge = FakeJudge()
    monkeypatch.setattr(cli, "judge", judge)
    return judge


def test_the_main_job_prints_tree_verdict_and_limits_and_draws_the_picture(
    clean_judge: FakeJudge, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    picture = tmp_path / "dev.png"

    code = cli.main(["dev", "--picture", str(picture)])

    out = capsys.readouterr().out
    assert code == 0
    assert " +   pulumi:pulumi:Stack" in out
    assert "zappa-vpc:network:PublicPrivateVpc" in out
    assert "Resources:\n    + " in out
    assert "✅ vpc-network-guard@v0.1.0 (local: policies)" in out
    assert "Verdict: allowed by policy" in out
    assert "provider-side validation" in out
    assert f"Network picture: {picture}" in out
    assert picture.read_bytes()[:4] == b"\x89PNG"


def test_a_mandatory_violation_exits_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr(cli, "judge", FakeJudge(PUBLIC_DB))

    code = cli.main(["dev", "--picture-dir", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 1
    assert "- [mandatory]  rds-no-public-access  (aws:rds/instance:Instance: dev-db)" in out
    assert "Verdict: BLOCKED by 1 mandatory policy violation" in out


def test_json_is_one_document_with_every_section(clean_judge: FakeJudge, tmp_path: Path, capsys) -> None:
    code = cli.main(["hybrid", "--json", "--picture-dir", str(tmp_path)])

    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (document["stack"], document["exitCode"]) == ("hybrid", 0)
    resources = {r["urn"]: r for r in document["resources"]}
    vpc = next(r for r in resources.values() if r["type"] == "aws:ec2/vpc:Vpc")
    assert resources[vpc["parent"]]["type"] == "zappa-vpc:network:HybridVpc"
    assert vpc["inputs"]["cidrBlock"] == "10.30.0.0/16"
    assert document["resourceCounts"]["create"] == len(resources)
    assert document["resourceCounts"]["byType"]["aws:ec2/subnet:Subnet"] == 6
    assert document["outputs"]["vpc_id"] == document["unknownValue"], "ids are unknown on a first preview"
    assert document["policies"]["verdict"] == "allowed"
    assert document["notChecked"]
    assert Path(document["picture"]) == tmp_path / "hybrid.png"


def test_no_policy_skips_the_pack(clean_judge: FakeJudge, tmp_path: Path, capsys) -> None:
    code = cli.main(["single", "--no-policy", "--picture-dir", str(tmp_path)])

    assert code == 0
    assert clean_judge.calls == []
    assert "Policies: skipped (--no-policy)" in capsys.readouterr().out


def test_the_policy_config_file_reaches_the_pack(clean_judge: FakeJudge, tmp_path: Path) -> None:
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps({"vpc-flow-logs-enabled": "mandatory"}))

    cli.main(["dev", "--policy-config", str(config_file), "--picture-dir", str(tmp_path)])

    assert clean_judge.calls[0][1] == {"vpc-flow-logs-enabled": "mandatory"}


@pytest.mark.parametrize(
    ("content", "complaint"),
    [(None, "no such file"), ("{not json", "not valid JSON"), ("[1, 2]", "expected a JSON object")],
)
def test_a_bad_policy_config_file_exits_2_and_says_why(
    clean_judge: FakeJudge, tmp_path: Path, capsys, content: str | None, complaint: str
) -> None:
    config_file = tmp_path / "policy-config.json"
    if content is not None:
        config_file.write_text(content)

    code = cli.main(["dev", "--policy-config", str(config_file)])

    err = capsys.readouterr().err
    assert code == 2
    assert f"--policy-config {config_file}: " in err and complaint in err
    assert clean_judge.calls == [], "nothing runs on a bad command line"


def test_an_unknown_stack_exits_2_and_lists_the_real_ones(clean_judge: FakeJudge, capsys) -> None:
    code = cli.main(["staging"])

    err = capsys.readouterr().err
    assert code == 2
    assert "Pulumi.staging.yaml" in err and "dev, hybrid" in err
    assert "Traceback" not in err


def test_a_settings_mistake_exits_2_without_a_traceback(
    clean_judge: FakeJudge, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    monkeypatch.setattr(
        cli,
        "run_stack",
        lambda stack, **options: run_stack(stack, **options, config_overrides={"zappa-vpc:azCount": 1}),
    )

    code = cli.main(["dev", "--picture-dir", str(tmp_path)])

    captured = capsys.readouterr()
    assert code == 2
    assert "azCount" in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "dev.png").exists(), "no picture of a stack that did not run"


@pytest.mark.parametrize(
    "argv", [[], ["dev", "--all"], ["--all", "--picture", "one.png"]], ids=["neither", "both", "one-picture"]
)
def test_a_command_line_that_names_no_single_job_exits_2(
    clean_judge: FakeJudge, argv: list[str], capsys
) -> None:
    assert cli.main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_all_previews_every_shipped_stack_into_the_picture_dir(
    clean_judge: FakeJudge, tmp_path: Path, capsys
) -> None:
    code = cli.main(["--all", "--json", "--picture-dir", str(tmp_path)])

    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [d["stack"] for d in document["stacks"]] == shipped_stacks()
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [f"{stack}.png" for stack in shipped_stacks()]


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[StackRun]]:
    """The CLI pointed at a copy of this project, keeping every run it makes."""
    project = tmp_path / "project"
    project.mkdir()
    for path in [
        PROJECT_DIR / "Pulumi.yaml",
        PROJECT_DIR / "__main__.py",
        *PROJECT_DIR.glob("Pulumi.*.yaml"),
    ]:
        shutil.copy(path, project / path.name)
    runs: list[StackRun] = []

    def run_in_copy(stack: str, **options: Any) -> StackRun:
        runs.append(run_stack(stack, **{**options, "project_dir": project}))
        return runs[-1]

    monkeypatch.setattr(cli, "run_stack", run_in_copy)
    monkeypatch.setattr(cli, "shipped_stacks", lambda *_: shipped_stacks(project))
    return project, runs


BROKEN_STACK_FILES = [
    (
        "  zappa-vpc:flowLogs: yes\n",
        "zappa-vpc:flowLogs = yes",
        "write true or false (the CLI reads YAML 1.2",
    ),
    ("  zappa-vpc:azCount: [3]\n", "zappa-vpc:azCount = [3]", "must be of type 'integer'"),
    ("  zappa-vpc:pattern: single\n   zappa-vpc:azCount: 3\n", "Pulumi.broken.yaml line 4", "fix the YAML"),
    ("  zappa-vpc:azCount: 2\n  azCount: 3\n", "zappa-vpc:azCount and azCount", "keep one"),
    ("  natStrategie: single\n", "zappa-vpc:natStrategie = single", "did you mean zappa-vpc:natStrategy?"),
    (
        "  zappa-vpc:availabilityZones: [eu-west-1a, eu-west-1b]\n",
        "zappa-vpc:availabilityZones[0] = eu-west-1a",
        "not an available zone of us-east-1; use some of: us-east-1a",
    ),
    (
        "  zappa-vpc:availabilityZones: [us-east-1a, us-east-1b]\n  zappa-vpc:azCount: 3\n",
        "zappa-vpc:azCount = 3",
        "remove azCount (the listed zones decide the count), or list as many zones",
    ),
    (
        "  zappa-vpc:database: none\n  zappa-vpc:databaseMultiAz: true\n  zappa-vpc:databaseProxy: true\n",
        "zappa-vpc:databaseProxy = true",
        "set zappa-vpc:database: postgres or mysql, or remove it",
    ),
    (
        "  zappa-vpc:database: mysql\n  zappa-vpc:databaseEngineVersion: 16.4\n",
        "zappa-vpc:databaseEngineVersion = 16.4",
        "is a postgres version, but the engine is mysql",
    ),
    (
        "  zappa-vpc:database: mysql\n  zappa-vpc:databaseEngineVersion: 8.0\n",
        "zappa-vpc:databaseEngineVersion = 8",
        "quote it ('8.0')",
    ),
    (
        "  zappa-vpc:bastion: ssh\n  zappa-vpc:bastionSshAllowlist: [0.0.0.0/1, 128.0.0.0/1]\n",
        "zappa-vpc:bastionSshAllowlist",
        "together these cover 0.0.0.0/0",
    ),
    (
        "  zappa-vpc:vpnCustomerGatewayIp:\n    secure: AAABAF7p3Q==\n",
        "zappa-vpc:vpnCustomerGatewayIp is an encrypted secret",
        "give a plain stand-in value",
    ),
]


@pytest.mark.parametrize(
    ("body", "setting", "fix"), BROKEN_STACK_FILES, ids=[setting for _, setting, _ in BROKEN_STACK_FILES]
)
def test_a_broken_stack_file_exits_2_naming_file_setting_and_fix(
    clean_judge: FakeJudge, project_copy, tmp_path: Path, capsys, body: str, setting: str, fix: str
) -> None:
    project, runs = project_copy
    (project / "Pulumi.broken.yaml").write_text("config:\n  aws:region: us-east-1\n" + body)

    code = cli.main(["broken", "--picture-dir", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 2
    assert "Pulumi.broken.yaml" in err and setting in err and fix in err, err
    assert "Traceback" not in err
    assert all(record.type == "pulumi:pulumi:Stack" for run in runs for record in run.records), (
        "nothing registered"
    )
    assert clean_judge.calls == [] and not (tmp_path / "broken.png").exists()


def test_all_with_one_broken_stack_file_previews_the_others_and_exits_2(
    clean_judge: FakeJudge, project_copy, tmp_path: Path, capsys
) -> None:
    project, _ = project_copy
    (project / "Pulumi.broken.yaml").write_text(
        "config:\n  aws:region: us-east-1\n  zappa-vpc:pattern: [single\n"
    )

    code = cli.main(["--all", "--json", "--picture-dir", str(tmp_path)])

    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code == 2
    codes = {stack["stack"]: stack["exitCode"] for stack in document["stacks"]}
    assert codes == {**dict.fromkeys(shipped_stacks(), 0), "broken": 2}
    broken = next(stack for stack in document["stacks"] if stack["stack"] == "broken")
    assert broken["error"].startswith("Pulumi.broken.yaml line 4: "), broken["error"]
    assert "Traceback" not in captured.err


def test_a_policy_setting_of_the_wrong_type_exits_2_before_the_program_runs(
    clean_judge: FakeJudge, project_copy, tmp_path: Path, capsys
) -> None:
    _, runs = project_copy
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps({"lambda-vpc-multi-az": {"minAvailabilityZones": "three"}}))

    code = cli.main(["dev", "--policy-config", str(config_file)])

    err = capsys.readouterr().err
    assert code == 2
    assert f"--policy-config {config_file}: " in err
    version = pack_version(POLICY_PACK_DIR)
    assert (
        f"validating policy config: vpc-network-guard {version}  lambda-vpc-multi-az: minAvailabilityZones: "
        "Invalid type. Expected: integer, given: string"
    ) in err, "the CLI's message (engine/update.go loadPolicyPlugins, gojsonschema)"
    assert runs == [] and clean_judge.calls == [], "the CLI checks policy config before the program runs"


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        (
            {"lambda-vpc-multiaz": "mandatory"},
            "pack vpc-network-guard has no such policy (the Pulumi CLI would silently ignore it); did you "
            'mean "lambda-vpc-multi-az"?',
        ),
        (
            {"lambda-vpc-multi-az": {"minAvailabilityZone": 3}},
            "minAvailabilityZone: not a setting of this policy (the Pulumi CLI would silently ignore it); "
            "did you mean minAvailabilityZones?",
        ),
        (
            {"lambda-vpc-multi-az": {"minAvailabilityZones": 0}},
            "minAvailabilityZones: Must be greater than or equal to 1",
        ),
        ({"all": "strict"}, 'parsing enforcement level for "all": "strict" is not a valid enforcement level'),
        (
            {"lambda-vpc-multi-az": 3},
            'parsing "lambda-vpc-multi-az": 3 is not a valid value; must be a string or object',
        ),
    ],
)
def test_a_policy_config_the_pack_refuses_exits_2(
    clean_judge: FakeJudge, project_copy, tmp_path: Path, capsys, config: dict[str, Any], complaint: str
) -> None:
    _, runs = project_copy
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps(config))

    code = cli.main(["dev", "--policy-config", str(config_file)])

    err = capsys.readouterr().err
    assert code == 2 and complaint in err, err
    assert runs == []


def test_the_command_line_itself_exits_2_on_a_refused_policy_config_without_a_traceback(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "policy-config.json"
    config_file.write_text(json.dumps({"lambda-vpc-multi-az": {"minAvailabilityZones": "three"}}))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "preview",
            "dev",
            "--policy-config",
            str(config_file),
            "--picture-dir",
            str(tmp_path),
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 2, result.stderr
    assert "minAvailabilityZones: Invalid type. Expected: integer, given: string" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "dev.png").exists(), "the program never ran"


def test_the_command_line_skips_teardown_but_delivers_all_its_output_and_pictures(tmp_path: Path) -> None:
    # `python -m preview` leaves through os._exit (exit_now): the piped JSON document, the exit code and the
    # picture the worker wrote must all be complete by then. Buffered, as stdout to a pipe is by default.
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    result = subprocess.run(
        [sys.executable, "-m", "preview", "dev", "--json", "--picture-dir", str(tmp_path)],
        cwd=PROJECT_DIR,
        env=buffered,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("}\n"), result.stdout[-200:]  # to the last byte
    document = json.loads(result.stdout)
    assert document["exitCode"] == 0 and document["picture"] == str(tmp_path / "dev.png")
    with PIL.Image.open(tmp_path / "dev.png") as picture:
        picture.load()  # raises on a truncated file
    assert "Traceback" not in result.stderr


def test_a_reader_that_stops_early_gets_no_traceback_and_the_verdict_is_still_the_exit_code(
    tmp_path: Path,
) -> None:
    # `--all --json` is several pipe buffers long: the preview is still writing when `head` stops reading.
    process = subprocess.Popen(
        [sys.executable, "-m", "preview", "--all", "--json", "--picture-dir", str(tmp_path)],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(16).startswith(b"{")
    process.stdout.close()
    errors = process.stderr.read().decode()
    assert process.wait(timeout=300) == 0, errors
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors

"""The policy verdict: printed as `pulumi preview --policy-pack` prints it, and the exit code CI relies on."""

from __future__ import annotations

from preview.policy_client import PolicyDiagnostic
from preview.verdict import (
    EXIT_BLOCKED,
    EXIT_CLEAN,
    NOT_CHECKED,
    PackVerdict,
    exit_code,
    policies_json,
    render_not_checked,
    render_policies,
)

DB_URN = "urn:pulumi:dev::zappa-vpc::zappa-vpc:network:PublicPrivateVpc$aws:rds/instance:Instance::dev-db"
PACK = "vpc-network-guard"


def _diagnostic(name: str, level: str, message: str, urn: str = "") -> PolicyDiagnostic:
    return PolicyDiagnostic(name, PACK, "0.0.1", message.splitlines()[0], message, level, "high", urn)


PUBLIC_DB = _diagnostic(
    "rds-no-public-access",
    "mandatory",
    "Databases are never reachable from the internet.\ndev-db is publicly accessible. Set it to false.",
    DB_URN,
)
NO_FLOW_LOGS = _diagnostic("vpc-flow-logs-enabled", "advisory", "Every VPC must have a flow log.")


def _pack(*diagnostics: PolicyDiagnostic) -> PackVerdict:
    return PackVerdict(PACK, "0.1.0", "policies", diagnostics)


def test_a_clean_pack_is_ticked_and_allows_the_change() -> None:
    text = render_policies([_pack()], "zappa-vpc-dev")

    assert text.splitlines() == [
        "Policies:",
        "    ✅ vpc-network-guard@v0.1.0 (local: policies)",
        "",
        "Verdict: allowed by policy (0 advisory warnings)",
    ]
    assert exit_code([_pack()]) == EXIT_CLEAN


def test_a_mandatory_violation_is_printed_with_its_resource_and_blocks() -> None:
    packs = [_pack(NO_FLOW_LOGS, PUBLIC_DB)]
    lines = render_policies(packs, "zappa-vpc-dev").splitlines()

    assert lines[1] == "    ❌ vpc-network-guard@v0.1.0 (local: policies)"
    assert lines[2:5] == [
        "        - [mandatory]  rds-no-public-access  (aws:rds/instance:Instance: dev-db)",
        "          Databases are never reachable from the internet.",
        "          dev-db is publicly accessible. Set it to false.",
    ], "mandatory first, then every line of the message (which starts with the description)"
    assert lines[5] == "        - [advisory]  vpc-flow-logs-enabled  (pulumi:pulumi:Stack: zappa-vpc-dev)", (
        "a stack-wide diagnostic without a URN is about the stack"
    )
    assert lines[-1] == "Verdict: BLOCKED by 1 mandatory policy violation (1 advisory warning)"
    assert exit_code(packs) == EXIT_BLOCKED


def test_advisory_violations_warn_but_let_the_change_through() -> None:
    packs = [_pack(NO_FLOW_LOGS)]

    assert render_policies(packs, "zappa-vpc-dev").splitlines()[1].startswith("    ⚠️ vpc-network-guard")
    assert exit_code(packs) == EXIT_CLEAN


def test_json_gives_the_verdict_counts_and_each_violation() -> None:
    document = policies_json([_pack(PUBLIC_DB, NO_FLOW_LOGS)])

    assert (document["verdict"], document["mandatory"], document["advisory"]) == ("blocked", 1, 1)
    violation = document["packs"][0]["violations"][0]
    assert (violation["policy_name"], violation["enforcement_level"], violation["urn"]) == (
        "rds-no-public-access",
        "mandatory",
        DB_URN,
    )


def test_the_preview_says_what_it_does_not_check() -> None:
    text = render_not_checked()

    assert "provider-side validation" in text
    assert "quotas" in text
    assert len([line for line in text.splitlines() if line.startswith("    - ")]) == len(NOT_CHECKED)

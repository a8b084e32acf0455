"""Ask the policy pack about a stack run the way `pulumi preview --policy-pack policies` does.

The CLI configures the pack, sends `Analyze` for each custom resource as it is registered and
`AnalyzeStack` once at the end; so do we, over the same gRPC protocol, with the run's records.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from preview.engine import PROJECT_DIR, StackRun
from preview.policy_client import PolicyPackClient
from preview.verdict import PackVerdict

POLICY_PACK_DIR = PROJECT_DIR / "policies"


def pack_version(pack_dir: Path) -> str:
    """The version the CLI shows: PulumiPolicy.yaml's, since a Python pack always reports 0.0.1 itself."""
    manifest = yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}
    return str(manifest.get("version", ""))


def judge(
    run: StackRun,
    policy_config: Mapping[str, Any] | None = None,
    *,
    pack_dir: Path = POLICY_PACK_DIR,
    pack: PolicyPackClient | None = None,
) -> list[PackVerdict]:
    """The pack's verdict on `run`. Raises PolicyPackError if the pack cannot run, PolicyConfigError if
    the config names a policy or level the pack does not have.

    `pack` is a client already started (its own directory then replaces `pack_dir`), to judge several
    stacks with one process: each judgement configures it anew, as the CLI configures the pack once per
    preview.
    """
    if pack is None:
        with PolicyPackClient(pack_dir) as own_pack:
            return judge(run, policy_config, pack=own_pack)
    pack_dir = pack.pack_dir
    info = pack.analyzer_info()
    pack.configure(policy_config or {})
    diagnostics = [
        diagnostic
        for record in run.records
        if record.custom and not record.type.startswith("pulumi:providers:")
        for diagnostic in pack.analyze(record)
    ]
    diagnostics += pack.analyze_stack(run.records)
    # Named as one would pass it to `pulumi preview --policy-pack`, from the project directory.
    local_path = str(pack_dir.relative_to(PROJECT_DIR) if pack_dir.is_relative_to(PROJECT_DIR) else pack_dir)
    version = pack_version(pack_dir) or info.version
    return [PackVerdict(info.name, version, local_path, tuple(diagnostics))]

"""Offline preview of a stack: what it builds, whether policy allows it, and a picture of the network.

    python -m preview STACK [--json] [--policy-config FILE] [--prices FILE]
                            [--picture PATH | --picture-dir DIR] [--no-policy]
    python -m preview --all [...]

No Pulumi CLI, account, AWS credentials or network: the program runs under the SDK's mock engine in
preview mode, and the policy pack in `policies/` judges it over the Analyzer protocol, as the CLI would.
The report ends with the stack's fixed monthly cost, estimated from list prices.
Exit codes: 0 allowed, 1 a mandatory policy violation, 2 no verdict (bad settings, a stack or project file
the Pulumi CLI would refuse, a policy config the pack refuses, bad arguments); with --all, the worst.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import replace
from pathlib import Path
from typing import Any

from preview.cli_config import StackConfigError
from preview.engine import PROJECT_DIR, run_stack, shipped_stacks
from preview.judge import POLICY_PACK_DIR, judge, pack_version
from preview.network import describe_network
from preview.picture_worker import PictureWorker
from preview.policy_client import (
    PolicyConfigError,
    PolicyPackClient,
    PolicyPackError,
    load_policy_config,
    policy_config_problems,
)
from preview.report import EXIT_ERROR, StackReport, error_report, preview_report
from zappa_vpc.plan.costs import estimate_monthly_cost
from zappa_vpc.plan.prices import PriceTable, PriceTableError, load_prices

DEFAULT_PICTURE_DIR = PROJECT_DIR / "out"
STACK_SEPARATOR = "\n\n" + "═" * 100 + "\n\n"


class UsageError(Exception):
    """A command-line mistake: the message names the option, the bad value and the fix."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m preview",
        description="Offline `pulumi preview --policy-pack policies` for a stack of this project: the "
        "resource tree, the policy verdict and a picture of the network, without a cloud account.",
        epilog="Exit codes: 0 allowed by policy, 1 a mandatory policy violation, 2 no verdict (bad settings, "
        "unknown stack, bad option).",
    )
    parser.add_argument("stack", nargs="?", help="stack name: the NAME of a Pulumi.NAME.yaml in the project")
    parser.add_argument("--all", action="store_true", help="preview every shipped stack (Pulumi.*.yaml)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument(
        "--policy-config",
        type=Path,
        metavar="FILE",
        help="policy configuration JSON, as for `pulumi preview --policy-pack-config`",
    )
    parser.add_argument("--no-policy", action="store_true", help="skip the policy pack")
    parser.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="JSON prices laid over zappa_vpc/pricing/us-east-1.json (same shape, any subset of its keys)",
    )
    pictures = parser.add_mutually_exclusive_group()
    pictures.add_argument(
        "--picture", type=Path, metavar="PATH", help="write the network picture here (.png/.svg)"
    )
    pictures.add_argument(
        "--picture-dir",
        type=Path,
        metavar="DIR",
        help=f"write STACK.png into DIR (default: {DEFAULT_PICTURE_DIR.relative_to(PROJECT_DIR)}/)",
    )
    return parser


def _stacks(args: argparse.Namespace) -> list[str]:
    if args.all == bool(args.stack):
        raise UsageError("name one stack (e.g. `python -m preview dev`) or pass --all, not both or neither")
    if args.all and args.picture:
        raise UsageError("--picture names one file; with --all use --picture-dir DIR")
    stacks = shipped_stacks() if args.all else [args.stack]
    if not stacks:
        raise UsageError(f"--all: there is no Pulumi.<stack>.yaml in {PROJECT_DIR}")
    return stacks


def _policy_config(path: Path | None, pack: PolicyPackClient | None) -> dict[str, Any] | None:
    """The policy config file, checked against the pack (when there is one) before any program runs, as
    the CLI does."""
    if path is None:
        return None
    try:
        config = load_policy_config(path)
    except FileNotFoundError:
        raise UsageError(f"--policy-config {path}: no such file; give the path of a JSON file") from None
    except PolicyConfigError as error:
        raise UsageError(f"--policy-config {error}") from None
    if pack is not None:
        # engine/update.go `loadPolicyPlugins`: the CLI asks the pack for its policies and schemas, and
        # aborts on a config they refuse before the program runs.
        try:
            info = pack.analyzer_info()
            # analyzer_plugin.go `GetAnalyzerInfo`: PulumiPolicy.yaml's version wins over the pack's own.
            info = replace(info, version=pack_version(POLICY_PACK_DIR) or info.version)
            problems = policy_config_problems(info, config)
        except PolicyPackError as error:
            raise UsageError(f"the policy pack could not start to check --policy-config: {error}") from None
        if problems:
            lines = "".join(f"\n  - {problem}" for problem in problems)
            raise UsageError(f"--policy-config {path}: the policy pack refuses this config:{lines}")
    return config


def _prices(path: Path | None) -> PriceTable:
    try:
        return load_prices(path)
    except PriceTableError as error:
        raise UsageError(f"--prices: {error}") from None


def _picture_path(args: argparse.Namespace, stack: str) -> Path:
    if args.picture:
        return args.picture
    return (args.picture_dir or DEFAULT_PICTURE_DIR) / f"{stack}.png"


def preview_stack(
    stack: str,
    args: argparse.Namespace,
    policy_config: Mapping[str, Any] | None,
    prices: PriceTable,
    *,
    pack: PolicyPackClient | None,
    pictures: PictureWorker,
) -> StackReport:
    """Run one stack, judge it, draw it; a settings mistake becomes an error report, not a traceback.

    The picture is drawn by the worker while the pack judges: the two are independent.
    """
    try:
        run = run_stack(stack)
    except StackConfigError as error:
        return error_report(stack, str(error))
    if run.error is not None:
        # The program refused the settings it read from the stack file (and Pulumi.yaml's defaults).
        return error_report(stack, f"Pulumi.{stack}.yaml: {run.error}")
    pictures.submit(
        describe_network(run.records, stack), _picture_path(args, stack), f"python -m preview {stack}"
    )
    try:
        packs = None if pack is None else judge(run, policy_config, pack=pack)
    except PolicyConfigError as error:
        return error_report(stack, f"--policy-config {args.policy_config}: {error}")
    except PolicyPackError as error:
        return error_report(stack, f"the policy pack could not judge the stack: {error}")
    finally:
        picture = pictures.result()
    cost = estimate_monthly_cost(run.resources, prices, run.config.get("aws:region"))
    return preview_report(run, packs, picture, cost)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    with ExitStack() as running:
        try:
            stacks = _stacks(args)
            prices = _prices(args.prices)
            # The pack starts before the first program runs and serves every stack: its start-up runs
            # on the second core meanwhile (unless a policy config must be checked against it first).
            pack = None
            if not args.no_policy:
                pack = running.enter_context(closing(PolicyPackClient(POLICY_PACK_DIR)))
                pack.launch()
            policy_config = _policy_config(args.policy_config, pack)
        except UsageError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_ERROR
        pictures = running.enter_context(PictureWorker())  # matplotlib's import, on the second core too
        reports = [
            preview_stack(stack, args, policy_config, prices, pack=pack, pictures=pictures)
            for stack in stacks
        ]
    for report in reports:
        if report.exit_code == EXIT_ERROR:
            print(report.text(), file=sys.stderr)
    if args.json:
        documents = [report.json() for report in reports]
        print(json.dumps({"stacks": documents} if args.all else documents[0], indent=2))
    else:
        previews = [report.text() for report in reports if report.exit_code != EXIT_ERROR]
        if previews:
            print(STACK_SEPARATOR.join(previews))
    return max(report.exit_code for report in reports)


if __name__ == "__main__":
    sys.exit(main())

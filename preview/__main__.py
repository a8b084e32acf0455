"""Offline preview of a stack: what it builds, whether policy allows it, and a picture of the network.

    python -m preview [--project DIR] STACK [--json] [--policy-config FILE] [--prices FILE]
                            [--picture PATH | --picture-dir DIR] [--no-policy]
                            [--policy-pack DIR] [--answers FILE] [--venv DIR]
    python -m preview [--project DIR] --all [...]

No Pulumi CLI, account, AWS credentials or network: the program (this project's, or any Pulumi Python
project's with --project) runs under the SDK's mock engine in preview mode, and the policy pack
(`policies/`, or --policy-pack) judges it over the Analyzer protocol, as the CLI would.
The report ends with the stack's fixed monthly cost, estimated from list prices.
Exit codes: 0 allowed, 1 a mandatory policy violation, 2 no verdict (bad settings, a stack or project file
the Pulumi CLI would refuse, a policy config the pack refuses, bad arguments); with --all, the worst.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from contextlib import ExitStack, closing, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from preview.cli_config import StackConfigError
from preview.engine import PROJECT_DIR, ProgramError, StackRun, run_stack, shipped_stacks
from preview.judge import POLICY_PACK_DIR, judge, pack_version
from preview.network import SUBNET, VPC, describe_network
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
        description="Offline `pulumi preview --policy-pack policies` for a stack of this project, or of any "
        "Pulumi Python project (--project): the resource tree, the policy verdict, the cost and a picture of "
        "the network, without a cloud account.",
        epilog="Exit codes: 0 allowed by policy, 1 a mandatory policy violation, 2 no verdict (bad settings, "
        "unknown stack, bad option).",
    )
    parser.add_argument("stack", nargs="?", help="stack name: the NAME of a Pulumi.NAME.yaml in the project")
    parser.add_argument(
        "--project",
        type=Path,
        default=PROJECT_DIR,
        metavar="DIR",
        help="the Pulumi Python project to preview: a directory with Pulumi.yaml (default: this one)",
    )
    parser.add_argument(
        "--venv",
        type=Path,
        metavar="DIR",
        help="a virtualenv holding the program's own requirements (default: Pulumi.yaml's runtime "
        "option virtualenv, if it exists); it must be for the Python the preview runs on",
    )
    parser.add_argument(
        "--answers",
        type=Path,
        metavar="FILE",
        help="JSON object of data-source token to result (camelCase fields), e.g. "
        '{"aws:ec2/getVpc:getVpc": {"id": "vpc-0abc", "cidrBlock": "10.1.0.0/16"}}; wins over the preview\'s',
    )
    parser.add_argument(
        "--policy-pack",
        type=Path,
        default=POLICY_PACK_DIR,
        metavar="DIR",
        help="a policy pack directory (PulumiPolicy.yaml), Python or Node, as for `pulumi preview "
        "--policy-pack` (default: this project's policies/)",
    )
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
    if not (args.project / "Pulumi.yaml").is_file():
        raise UsageError(f"--project {args.project}: no Pulumi.yaml there; give a Pulumi project's directory")
    stacks = shipped_stacks(args.project) if args.all else [args.stack]
    if not stacks:
        raise UsageError(f"--all: there is no Pulumi.<stack>.yaml in {args.project}")
    return stacks


def _answers(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    try:
        answers = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"--answers {path}: no such file; give the path of a JSON file") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"--answers {path}: not valid JSON ({error})") from None
    if not isinstance(answers, dict) or not all(
        isinstance(token, str) and token.count(":") == 2 and isinstance(result, dict)
        for token, result in answers.items()
    ):
        raise UsageError(
            f"--answers {path}: expected an object of data-source token to result object, e.g. "
            '{"aws:ec2/getVpc:getVpc": {"id": "vpc-0abc"}}'
        )
    return answers


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
            info = replace(info, version=pack_version(pack.pack_dir) or info.version)
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


def _program_line(error: BaseException, project: Path) -> str:
    """The line of the program that raised `error`, or "" when none of its frames is in the project."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if Path(f.filename).resolve().is_relative_to(project)
    ]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _unanswered_note(unanswered: Mapping[str, int]) -> str:
    tokens = ", ".join(sorted(unanswered))
    return (
        f"the offline preview has no answer for the data source(s) {tokens}: their results were unknown, "
        "as values known only after deployment are on a first preview; give answers with --answers FILE"
    )


def _program_failure(error: ProgramError, project: Path) -> str:
    """Why the program stopped, at its line, without a traceback."""
    cause = error.__cause__
    assert cause is not None
    line = _program_line(cause, project)
    at = f" at {line}" if line else ""
    if not error.unanswered:
        return f"the program stopped{at} with {type(cause).__name__}: {cause}"
    # A plain call (get_x()) hands the program its result at once, which an unknown result cannot be;
    # only the output form (get_x_output()) can carry it (the SDK's invoke gives None there).
    tokens = ", ".join(sorted(error.unanswered))
    return (
        f"the program stopped{at}: it needed the result of data source(s) {tokens}, which the offline "
        "preview cannot answer: give answers with --answers FILE (JSON: token to result), or call the "
        "output form (get_..._output), whose result can stay unknown"
    )


def _run(stack: str, args: argparse.Namespace) -> StackRun | str:
    """The run of one stack, or the message saying why there is none."""
    try:
        run = run_stack(stack, project_dir=args.project, answers=args.answers_data, virtualenv=args.venv)
    except StackConfigError as error:
        return str(error)
    except ProgramError as error:
        return _program_failure(error, args.project.resolve())
    if run.error is not None:
        # The program refused the settings it read from the stack file (and Pulumi.yaml's defaults).
        return f"Pulumi.{stack}.yaml: {run.error}"
    return run


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
    run = _run(stack, args)
    if isinstance(run, str):
        return error_report(stack, run)
    if run.unanswered:
        print(f"note: {_unanswered_note(run.unanswered)}", file=sys.stderr)
    drawn = bool(run.of_type(VPC) or run.of_type(SUBNET))
    if drawn:
        pictures.submit(
            describe_network(run.records, stack), _picture_path(args, stack), f"python -m preview {stack}"
        )
    picture: Path | str = "not drawn: the program creates no VPC or subnet (it may use existing ones)"
    try:
        packs = None if pack is None else judge(run, policy_config, pack=pack)
    except PolicyConfigError as error:
        return error_report(stack, f"--policy-config {args.policy_config}: {error}")
    except PolicyPackError as error:
        return error_report(stack, f"the policy pack could not judge the stack: {error}")
    finally:
        if drawn:
            picture = pictures.result()
    cost = estimate_monthly_cost(run.resources, prices, run.config.get("aws:region"))
    return preview_report(run, packs, picture, cost)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    with ExitStack() as running:
        try:
            stacks = _stacks(args)
            args.answers_data = _answers(args.answers)
            prices = _prices(args.prices)
            # The pack starts before the first program runs and serves every stack: its start-up runs
            # on the second core meanwhile (unless a policy config must be checked against it first).
            pack = None
            if not args.no_policy:
                pack = running.enter_context(closing(PolicyPackClient(args.policy_pack, offline=True)))
                pack.launch()
            policy_config = _policy_config(args.policy_config, pack)
        except UsageError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_ERROR
        except PolicyPackError as error:
            print(f"error: --policy-pack {args.policy_pack}: {error}", file=sys.stderr)
            return EXIT_ERROR
        pictures = running.enter_context(PictureWorker())  # matplotlib's import, on the second core too
        reports = [
            preview_stack(stack, args, policy_config, prices, pack=pack, pictures=pictures)
            for stack in stacks
        ]
    try:
        _print(reports, args)
    except BrokenPipeError:  # the reader stopped early (`| head`): the verdict is still the exit code
        # As Python's signal docs advise ("Note on SIGPIPE"): what is left goes nowhere, without an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return max(report.exit_code for report in reports)


def _print(reports: Sequence[StackReport], args: argparse.Namespace) -> None:
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


def exit_now(code: int) -> None:
    """Exit with `code` once the output is out, skipping the interpreter's teardown.

    When `main` returns, every picture is written and the pack and the picture worker have stopped (its
    ExitStack); what is left is tearing down the SDK's, gRPC's and pulumi-aws's modules, about 0.2 s on a
    2-core machine that frees nothing the process's exit does not.
    """
    with suppress(BrokenPipeError):  # as in main: the reader stopped early
        sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())

"""`python -m bench` (or `make bench`): the tables of the README's "Cost and benchmarks" section.

    python -m bench [--only preview policy cost] [--prices FILE]

Prints Markdown: the offline preview of each shipped stack (wall time, peak memory) and how it grows with
the AZ count; the policy pack at 1k, 10k and 50k resources beside a pack with no rules; the fixed monthly
cost of each stack beside awsx's default layout. Exits 1 if a growth or policy target is missed, 2 on a bad
option. Never run as tests: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from importlib.metadata import version
from pathlib import Path

from bench import cost_bench, policy_bench, preview_bench
from bench.tables import BenchReport
from zappa_vpc.plan.prices import PriceTable, PriceTableError, load_prices

EXIT_MISSED_TARGET = 1
EXIT_BAD_OPTION = 2


def _policy_report(_: PriceTable) -> BenchReport:
    # The policy helper's benchmark prints its own tables; keep them in this run's order.
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exit_code = policy_bench.main([])
    return BenchReport(printed.getvalue().rstrip(), exit_code == 0)


SECTIONS: dict[str, Callable[[PriceTable], BenchReport]] = {
    "preview": lambda _: preview_bench.report(),
    "policy": _policy_report,
    "cost": cost_bench.report,
}


def _machine() -> str:
    packages = ", ".join(f"{name} {version(name)}" for name in ("pulumi", "pulumi_aws", "pulumi_policy"))
    return f"{date.today()}, Python {platform.python_version()} on {os.cpu_count()} CPUs, {packages}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", choices=list(SECTIONS), default=list(SECTIONS), help="run only these benchmarks"
    )
    parser.add_argument(
        "--prices",
        type=Path,
        metavar="FILE",
        help="JSON prices laid over zappa_vpc/pricing/us-east-1.json (same shape, any subset of its keys)",
    )
    args = parser.parse_args(argv)
    try:
        prices = load_prices(args.prices)
    except PriceTableError as error:
        print(f"error: --prices: {error}", file=sys.stderr)
        return EXIT_BAD_OPTION

    started = time.perf_counter()
    print(f"## Benchmarks\n\n{_machine()}", flush=True)
    missed = []
    for name in args.only:
        report = SECTIONS[name](prices)
        print(f"\n{report.text}", flush=True)
        if not report.targets_met:
            missed.append(name)
    print(f"\n`python -m bench` took {time.perf_counter() - started:.0f} s.")
    if missed:
        print(f"Targets missed: {', '.join(missed)}", file=sys.stderr)
        return EXIT_MISSED_TARGET
    return 0


if __name__ == "__main__":
    sys.exit(main())

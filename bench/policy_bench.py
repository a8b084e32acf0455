"""What the policy pack costs the CLI, beside a pack with no rules, at 1k, 10k and 50k resources.

Both packs run as the CLI runs them (`python -u -m pulumi.policy ADDR .`) and are measured in the same
run on the same requests, built beforehand so that only the packs' work is timed: `Analyze` once per
resource (the mean per call; the packs take turns call by call) and `AnalyzeStack` in rounds over every
size and pack (the best of the rounds; other work on a shared machine only ever adds time, and taking
turns makes it weigh alike on what is compared). The stacks replicate one realistic network cell as a
first preview shows it (every id unknown, links only in property_dependencies); the cell is every shipped
stack's registrations, so the pack is measured on the graphs our patterns make.

Targets: AnalyzeStack grows linearly (10k takes at most 12x 1k), and at 10k the pack takes at most 2x
the no-rule pack on AnalyzeStack and 1.5x on Analyze per resource.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.tables import render_table
from preview.engine import run_stack, shipped_stacks
from preview.model import ResourceRecord
from preview.policy_client import (
    DEFAULT_PACK_DIR,
    PolicyDiagnostic,
    PolicyPackClient,
    analyze_request,
    stack_request,
)

EMPTY_PACK_DIR = Path(__file__).resolve().parent / "empty_pack"
SIZES = (1_000, 10_000, 50_000)
STACK_REPEATS = 7  # AnalyzeStack calls per size and pack (the same at every size: fewer at one would bias)
GROWTH_LIMIT = 12.0  # 10k / 1k on AnalyzeStack
STACK_LIMIT = 2.0  # pack / no-rule pack, AnalyzeStack at 10k
ANALYZE_LIMIT = 1.5  # pack / no-rule pack, Analyze per resource at 10k
# Values of a VPC that other resources hold as ids (besides every resource's own id).
_VPC_ID_OUTPUTS = ("defaultRouteTableId", "mainRouteTableId", "defaultSecurityGroupId")


def network_cell() -> list[ResourceRecord]:
    """Every shipped stack as a first preview records it (every id unknown, links only in
    property_dependencies): the graphs the pack meets in practice, all six patterns."""
    return [
        record
        for stack in shipped_stacks()
        for record in run_stack(stack).records
        if record.type != "pulumi:pulumi:Stack"
    ]


def _shared(record: ResourceRecord) -> bool:
    # The stack and providers exist once, however many copies of the cell there are.
    return record.type == "pulumi:pulumi:Stack" or record.type.startswith("pulumi:providers:")


def _rename(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, dict):
        return {key: _rename(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_rename(item, ids) for item in value]
    return value


def replicate(cell: Sequence[ResourceRecord], count: int) -> list[ResourceRecord]:
    """`count` copies of `cell`, each with its own names, URNs and known ids, linked only within itself."""
    shared = [record for record in cell if _shared(record)]
    copied = [record for record in cell if not _shared(record)]
    records = list(shared)
    for copy in range(count):
        suffix = f"-{copy}"
        urns = {record.urn: record.urn + suffix for record in copied}
        ids = {record.id: record.id + suffix for record in copied if record.id}
        ids |= {
            record.properties[key]: record.properties[key] + suffix
            for record in copied
            for key in _VPC_ID_OUTPUTS
            if isinstance(record.properties.get(key), str)
        }
        for record in copied:
            records.append(
                replace(
                    record,
                    urn=urns[record.urn],
                    name=record.name + suffix,
                    id=ids.get(record.id, ""),
                    parent=urns.get(record.parent, record.parent),
                    properties=_rename(record.properties, ids),
                    dependencies=tuple(urns.get(urn, urn) for urn in record.dependencies),
                    property_dependencies={
                        key: tuple(urns.get(urn, urn) for urn in deps)
                        for key, deps in record.property_dependencies.items()
                    },
                )
            )
    return records


@dataclass(frozen=True)
class Measure:
    analyze_ms: float  # mean per Analyze call
    stack_seconds: float  # best AnalyzeStack
    mandatory: int  # mandatory diagnostics seen (a sanity check: the synthetic stack is secure)


def _timed(call: Callable[[], list[PolicyDiagnostic]]) -> tuple[float, int]:
    """Seconds the call took, and the mandatory diagnostics it returned."""
    start = time.perf_counter()
    diagnostics = call()
    return time.perf_counter() - start, sum(diagnostic.mandatory for diagnostic in diagnostics)


def measure(
    packs: Sequence[PolicyPackClient], stacks: dict[int, list[ResourceRecord]], repeats: int
) -> dict[int, list[Measure]]:
    """Per stack size, one Measure per pack.

    The packs take turns call by call, and AnalyzeStack goes round every size and pack `repeats` times,
    so that load from elsewhere weighs alike on the packs and on the sizes whose times are compared.
    """
    analyze_ms: dict[int, list[float]] = {}
    mandatory: dict[int, list[int]] = {}
    for count, records in stacks.items():
        seconds, mandatory[count] = [0.0] * len(packs), [0] * len(packs)
        for request in [analyze_request(record) for record in records]:
            for position, pack in enumerate(packs):
                elapsed, blocking = _timed(lambda pack=pack, request=request: pack.analyze(request))
                seconds[position] += elapsed
                mandatory[count][position] += blocking
        analyze_ms[count] = [total * 1000 / len(records) for total in seconds]
    requests = {count: stack_request(records) for count, records in stacks.items()}
    best = {count: [float("inf")] * len(packs) for count in stacks}
    for call in range(repeats):
        for count, request in requests.items():
            for position, pack in enumerate(packs):
                elapsed, blocking = _timed(lambda pack=pack, request=request: pack.analyze_stack(request))
                best[count][position] = min(best[count][position], elapsed)
                if call == 0:
                    mandatory[count][position] += blocking
    return {
        count: [Measure(analyze_ms[count][p], best[count][p], mandatory[count][p]) for p in range(len(packs))]
        for count in stacks
    }


@dataclass(frozen=True)
class Check:
    text: str
    passed: bool | None  # None: for information only

    def line(self) -> str:
        return f"- {self.text}" + ("" if self.passed is None else " PASS" if self.passed else " FAIL")


def _ratio_check(text: str, value: float, limit: float) -> Check:
    return Check(f"{text}: {value:.2f}x (limit {limit:.1f}x)", value <= limit)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="approximate resource counts"
    )
    parser.add_argument(
        "--repeats", type=int, default=STACK_REPEATS, help="AnalyzeStack calls per size and pack"
    )
    args = parser.parse_args(argv)

    cell = network_cell()
    per_cell = sum(not _shared(record) for record in cell)
    stacks = {}
    for size in args.sizes:
        records = replicate(cell, max(round(size / per_cell), 1))
        stacks[len(records)] = records
    with (
        PolicyPackClient(EMPTY_PACK_DIR, python=sys.executable) as empty,
        PolicyPackClient(DEFAULT_PACK_DIR, python=sys.executable) as pack,
    ):
        pack_name = pack.analyzer_info().name
        results = {
            count: (baseline, rules)
            for count, (baseline, rules) in measure((empty, pack), stacks, args.repeats).items()
        }

    rows = []
    for count, (baseline, rules) in results.items():
        for name, result in (("no rules", baseline), (pack_name, rules)):
            rows.append(
                [
                    f"{count:,}",
                    name,
                    f"{result.analyze_ms:.3f}",
                    f"{result.stack_seconds:.3f}",
                    str(result.mandatory),
                ]
            )
    print(
        render_table(
            "Policy pack cost",
            ["resources", "pack", "Analyze ms/resource", "AnalyzeStack s", "mandatory"],
            rows,
            "rlrrr",
        )
    )
    checks = targets(results)
    print()
    print("\n".join(["### Targets", "", *(check.line() for check in checks)]))
    return 0 if all(check.passed is not False for check in checks) else 1


def _nearest(counts: Sequence[int], size: int) -> int:
    return min(counts, key=lambda count: abs(count - size))


def targets(results: dict[int, tuple[Measure, Measure]]) -> list[Check]:
    """The brief's targets (growth from 1k to 10k, and the pack against the no-rule pack at 10k); the
    other growths and ratios are printed for information."""
    counts = sorted(results)
    checks = []
    growth_target = (_nearest(counts, 1_000), _nearest(counts, 10_000))
    for small, large in itertools.pairwise(counts):
        scale = large / small
        text = f"AnalyzeStack growth {small:,} -> {large:,} ({scale:.1f}x the resources)"
        growth = results[large][1].stack_seconds / results[small][1].stack_seconds
        if (small, large) == growth_target:
            checks.append(_ratio_check(text, growth, GROWTH_LIMIT * scale / 10))  # 12x for 10x the resources
        else:
            checks.append(Check(f"{text}: {growth:.2f}x", None))
    reference = _nearest(counts, 10_000)
    baseline, rules = results[reference]
    checks.append(
        _ratio_check(
            f"AnalyzeStack at {reference:,}, pack / no rules",
            rules.stack_seconds / baseline.stack_seconds,
            STACK_LIMIT,
        )
    )
    checks.append(
        _ratio_check(
            f"Analyze per resource at {reference:,}, pack / no rules",
            rules.analyze_ms / baseline.analyze_ms,
            ANALYZE_LIMIT,
        )
    )
    ratios = ", ".join(
        f"{results[count][1].stack_seconds / results[count][0].stack_seconds:.2f}x" for count in counts
    )
    checks.append(Check(f"AnalyzeStack pack / no rules at every size: {ratios}", None))
    return checks


if __name__ == "__main__":
    sys.exit(main())

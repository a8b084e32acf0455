"""What the policy pack costs the CLI, beside a pack with no rules, at 1k, 10k and 50k resources.

Both packs run as the CLI runs them (`python -u -m pulumi.policy ADDR .`) and are measured in the same
run on the same requests, built beforehand so only the pack's work is timed: `Analyze` once per resource
(the mean per call) and `AnalyzeStack` once per stack (the best of a few calls; other work on a shared
machine only ever adds time). The stacks replicate one realistic network cell as a first preview shows
it (every id unknown, links only in property_dependencies); `replicate` takes any list of records, so
records from real stacks can be swapped in.

Targets: AnalyzeStack grows linearly (10k takes at most 12x 1k), and at 10k the pack takes at most 2x
the no-rule pack on AnalyzeStack and 1.5x on Analyze per resource.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.tables import render_table
from preview.model import ResourceRecord
from preview.policy_client import DEFAULT_PACK_DIR, PolicyPackClient, analyze_request, stack_request
from tests.policy_helpers import IdMode, StackBuilder, secure_network

EMPTY_PACK_DIR = Path(__file__).resolve().parent / "empty_pack"
SIZES = (1_000, 10_000, 50_000)
STACK_REPEATS = 3
GROWTH_LIMIT = 12.0  # 10k / 1k on AnalyzeStack
STACK_LIMIT = 2.0  # pack / no-rule pack, AnalyzeStack at 10k
ANALYZE_LIMIT = 1.5  # pack / no-rule pack, Analyze per resource at 10k
# Values of a VPC that other resources hold as ids (besides every resource's own id).
_VPC_ID_OUTPUTS = ("defaultRouteTableId", "mainRouteTableId", "defaultSecurityGroupId")


def network_cell() -> list[ResourceRecord]:
    """One VPC over 3 AZs with everything around it (IGW, NAT per AZ, route tables, security groups and
    rules, flow log, DB subnet group, RDS, Lambda in the VPC), as a first preview records it."""
    builder = StackBuilder(project="bench")
    secure_network(builder, "cell", ("us-east-1a", "us-east-1b", "us-east-1c"))
    return builder.records(IdMode.UNKNOWN)


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
        ids |= {record.properties[key]: record.properties[key] + suffix for record in copied
                for key in _VPC_ID_OUTPUTS if isinstance(record.properties.get(key), str)}
        for record in copied:
            records.append(replace(
                record,
                urn=urns[record.urn],
                name=record.name + suffix,
                id=ids.get(record.id, ""),
                parent=urns.get(record.parent, record.parent),
                properties=_rename(record.properties, ids),
                dependencies=tuple(urns.get(urn, urn) for urn in record.dependencies),
                property_dependencies={key: tuple(urns.get(urn, urn) for urn in deps)
                                       for key, deps in record.property_dependencies.items()},
            ))
    return records


@dataclass(frozen=True)
class Measure:
    analyze_ms: float  # mean per Analyze call
    stack_seconds: float  # best AnalyzeStack
    mandatory: int  # mandatory diagnostics seen (a sanity check: the synthetic stack is secure)


def measure(pack: PolicyPackClient, analyze_requests: list[Any], stack: Any, repeats: int) -> Measure:
    mandatory = 0
    start = time.perf_counter()
    for request in analyze_requests:
        mandatory += sum(diagnostic.mandatory for diagnostic in pack.analyze(request))
    analyze_ms = (time.perf_counter() - start) * 1000 / len(analyze_requests)
    stack_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        diagnostics = pack.analyze_stack(stack)
        stack_times.append(time.perf_counter() - start)
    mandatory += sum(diagnostic.mandatory for diagnostic in diagnostics)
    return Measure(analyze_ms, min(stack_times), mandatory)


def _verdict(value: float, limit: float) -> str:
    return f"{value:.2f}x (limit {limit:g}x) {'PASS' if value <= limit else 'FAIL'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="approximate resource counts")
    parser.add_argument("--repeats", type=int, default=STACK_REPEATS, help="AnalyzeStack calls per size and pack")
    args = parser.parse_args(argv)

    cell = network_cell()
    per_cell = sum(not _shared(record) for record in cell)
    results: dict[int, tuple[Measure, Measure]] = {}
    with PolicyPackClient(EMPTY_PACK_DIR, python=sys.executable) as empty, \
            PolicyPackClient(DEFAULT_PACK_DIR, python=sys.executable) as pack:
        pack_name = pack.analyzer_info().name
        for size in args.sizes:
            records = replicate(cell, max(round(size / per_cell), 1))
            analyze_requests = [analyze_request(record) for record in records]
            stack = stack_request(records)
            results[len(records)] = (measure(empty, analyze_requests, stack, args.repeats),
                                     measure(pack, analyze_requests, stack, args.repeats))

    rows = []
    for count, (baseline, rules) in results.items():
        for name, result in (("no rules", baseline), (pack_name, rules)):
            rows.append([f"{count:,}", name, f"{result.analyze_ms:.3f}", f"{result.stack_seconds:.3f}",
                         str(result.mandatory)])
    print(render_table("Policy pack cost", ["resources", "pack", "Analyze ms/resource", "AnalyzeStack s",
                                            "mandatory"], rows, "rlrrr"))
    print()
    print(_checks(results))
    passed = all(line.endswith("PASS") for line in _checks(results).splitlines() if line.startswith("- "))
    return 0 if passed else 1


def _checks(results: dict[int, tuple[Measure, Measure]]) -> str:
    counts = sorted(results)
    lines = ["### Targets", ""]
    for small, large in zip(counts, counts[1:], strict=False):
        growth = results[large][1].stack_seconds / results[small][1].stack_seconds
        scale = large / small
        limit = GROWTH_LIMIT * scale / 10  # 12x for 10x the resources
        lines.append(f"- AnalyzeStack growth {small:,} -> {large:,} ({scale:.0f}x resources): {_verdict(growth, limit)}")
    reference = min(counts, key=lambda count: abs(count - 10_000))
    baseline, rules = results[reference]
    lines.append(f"- AnalyzeStack at {reference:,}, pack / no rules: "
                 f"{_verdict(rules.stack_seconds / baseline.stack_seconds, STACK_LIMIT)}")
    lines.append(f"- Analyze per resource at {reference:,}, pack / no rules: "
                 f"{_verdict(rules.analyze_ms / baseline.analyze_ms, ANALYZE_LIMIT)}")
    stack_ratios = [results[count][1].stack_seconds / results[count][0].stack_seconds for count in counts]
    lines.append(f"- (all sizes) AnalyzeStack pack / no rules: {', '.join(f'{r:.2f}x' for r in stack_ratios)}; "
                 f"median {statistics.median(stack_ratios):.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

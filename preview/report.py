"""The report of one stack's offline preview: an ordered list of sections, each readable and machine-readable.

A section carries the text a person reads and the value `--json` emits under its key, so a new part of
the report (the cost estimate, say) is one more section and appears in both forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preview.engine import StackRun
from preview.model import UNKNOWN
from preview.tree import (
    build_tree,
    count_nodes,
    counts_by_type,
    render_counts,
    render_outputs,
    render_tree,
    resources_json,
)
from preview.verdict import (
    EXIT_CLEAN,
    NOT_CHECKED,
    PackVerdict,
    exit_code,
    policies_json,
    render_not_checked,
    render_policies,
)
from zappa_vpc.plan.costs import CostEstimate, render_cost_text

EXIT_ERROR = 2  # no verdict: bad settings, a stack that does not exist, a policy pack that cannot run
COST_OUTPUT = "monthly_cost_estimate"
# The AWS services whose fixed charges the estimate models (zappa_vpc/plan/costs.py); what other
# programs create elsewhere (S3, Lambda, ElastiCache...) is named as left out, not priced at zero.
_COST_MODELLED_SERVICES = ("ec2", "vpc", "rds", "iam", "cloudwatch", "autoscaling")


def _cost_section(run: StackRun, cost: CostEstimate) -> Section:
    unmodelled = sorted(
        {
            r.type
            for r in run.resources
            if r.custom and r.type.split(":")[1].split("/")[0] not in _COST_MODELLED_SERVICES
        }
    )
    text = render_cost_text(cost)
    if unmodelled:
        text += (
            "\n  Not estimated: the estimate models network, EC2 and RDS charges only; any charge of these "
            f"resource types is left out: {', '.join(unmodelled)}"
        )
    return Section("monthlyCost", text, {**cost.to_dict(), "notModelled": unmodelled})


def _without(outputs: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in outputs.items() if name != key}


@dataclass(frozen=True)
class Section:
    """One part of the report: `text` for the terminal, `data` for `--json` under `key`."""

    key: str
    text: str
    data: Any


@dataclass
class StackReport:
    stack: str
    sections: list[Section] = field(default_factory=list)
    exit_code: int = EXIT_CLEAN

    def text(self) -> str:
        return "\n\n".join(section.text for section in self.sections)

    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = {"stack": self.stack, "exitCode": self.exit_code, "unknownValue": UNKNOWN}
        document.update({section.key: section.data for section in self.sections})
        return document


def error_report(stack: str, message: str) -> StackReport:
    """A stack that produced no preview: the message names the setting and the fix."""
    return StackReport(stack, [Section("error", f"error: {message}", message)], EXIT_ERROR)


def preview_report(
    run: StackRun, packs: Sequence[PackVerdict] | None, picture: Path | str | None, cost: CostEstimate
) -> StackReport:
    """The sections of a successful run, in the order `pulumi preview` prints them, then ours.

    `packs` is None when policies were skipped (`--no-policy`); `picture` is None when none was asked for,
    a sentence when the program's resources give nothing to draw.
    """
    root = build_tree(run.records, f"{run.project}-{run.stack}")
    counts = counts_by_type(run.records)
    total = count_nodes(root)
    header = f"Previewing update ({run.stack}), offline: the SDK's mock engine, no cloud calls\n\n"
    sections = [
        Section("resources", header + render_tree(root), resources_json(run.records)),
        # The cost estimate has a section of its own below; its output would repeat it here.
        Section("outputs", render_outputs(_without(run.outputs, COST_OUTPUT)), run.outputs),
        Section(
            "resourceCounts",
            f"{render_counts(counts)}\n\nResources:\n    + {total} to create",
            {"create": total, "byType": counts},
        ),
        _cost_section(run, cost),
    ]
    if packs is None:
        sections.append(Section("policies", "Policies: skipped (--no-policy)", None))
    else:
        sections.append(Section("policies", render_policies(packs, root.record.name), policies_json(packs)))
    not_checked = list(NOT_CHECKED) + [
        f"data source {token}: the offline preview has no answer for it, so its result was unknown "
        f"({calls} call{'s' if calls != 1 else ''}); give one with --answers FILE"
        for token, calls in sorted(run.unanswered.items())
    ]
    sections.append(Section("notChecked", render_not_checked(not_checked), not_checked))
    if isinstance(picture, Path):
        sections.append(Section("picture", f"Network picture: {picture}", str(picture)))
    elif picture is not None:
        sections.append(Section("picture", f"Network picture: {picture}", None))
    return StackReport(run.stack, sections, exit_code(packs or ()))

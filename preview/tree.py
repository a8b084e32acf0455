"""The resource tree of a preview, printed the way `pulumi preview` prints a first preview.

Children hang under the component that registered them (their `parent` URN); every resource is a
create, because the offline preview has no earlier state to diff against.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from preview.model import UNKNOWN, ResourceRecord

STACK_TYPE = "pulumi:pulumi:Stack"
_PLAN = "create"


@dataclass
class TreeNode:
    """One resource and the resources it is the parent of."""

    record: ResourceRecord
    children: list[TreeNode] = field(default_factory=list)


def is_shown(record: ResourceRecord) -> bool:
    """Whether `pulumi preview` lists the resource: providers are hidden, like the CLI's default ones."""
    return not record.type.startswith("pulumi:providers:")


def build_tree(records: Iterable[ResourceRecord], stack_name: str) -> TreeNode:
    """The stack resource with every shown resource under its parent.

    A resource whose parent was not recorded hangs under the stack, so nothing registered goes missing.
    When the run recorded no stack resource (hand-made records), one named `stack_name` is made up.
    """
    shown = [r for r in records if is_shown(r)]
    stack_record = next((r for r in shown if r.type == STACK_TYPE), None)
    if stack_record is None:
        stack_record = ResourceRecord(
            urn=f"urn:pulumi:{stack_name}::{STACK_TYPE}::{stack_name}",
            type=STACK_TYPE,
            name=stack_name,
            custom=False,
            properties={},
        )
    root = TreeNode(stack_record)
    nodes = {r.urn: TreeNode(r) for r in shown if r is not stack_record}
    nodes[root.record.urn] = root
    for record in shown:
        if record is stack_record:
            continue
        parent = nodes.get(record.parent, root)
        parent.children.append(nodes[record.urn])
    _sort(root)
    return root


def _sort(node: TreeNode) -> None:
    # Components first, then resources by type and name: registration order varies with the SDK's
    # scheduling, and a stable tree is one a reviewer can diff.
    node.children.sort(key=lambda child: (child.record.custom, child.record.type, child.record.name))
    for child in node.children:
        _sort(child)


def display_type(resource_type: str) -> str:
    """The type as the CLI shows it: `aws:ec2/vpc:Vpc` -> `aws:ec2:Vpc` when the module repeats the name."""
    parts = resource_type.split(":")
    if len(parts) != 3 or "/" not in parts[1]:
        return resource_type
    package, module, name = parts
    namespace, _, file_name = module.rpartition("/")
    if file_name != name[:1].lower() + name[1:]:
        return resource_type
    return f"{package}:{namespace}:{name}"


def _rows(node: TreeNode, prefix: str = "", connector: str = "") -> list[tuple[str, str]]:
    rows = [(prefix + connector + display_type(node.record.type), node.record.name)]
    child_prefix = prefix + {"├─ ": "│  ", "└─ ": "   "}.get(connector, "")
    for index, child in enumerate(node.children):
        last = index == len(node.children) - 1
        rows.extend(_rows(child, child_prefix, "└─ " if last else "├─ "))
    return rows


def count_nodes(root: TreeNode) -> int:
    return 1 + sum(count_nodes(child) for child in root.children)


def render_tree(root: TreeNode) -> str:
    """The `Type / Name / Plan` table of a first `pulumi preview`."""
    rows = [("Type", "Name"), *_rows(root)]
    type_width = max(len(type_cell) for type_cell, _ in rows)
    name_width = max(len(name) for _, name in rows)
    lines = [f"     {'Type':<{type_width}}  {'Name':<{name_width}}  Plan"]
    lines += [
        f" +   {type_cell:<{type_width}}  {name:<{name_width}}  {_PLAN}" for type_cell, name in rows[1:]
    ]
    return "\n".join(lines)


def counts_by_type(records: Iterable[ResourceRecord]) -> dict[str, int]:
    """How many resources of each type, most numerous first (the stack and providers left out)."""
    counts = Counter(r.type for r in records if is_shown(r) and r.type != STACK_TYPE)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def render_counts(counts: Mapping[str, int]) -> str:
    if not counts:
        return "Resources by type:\n    (none)"
    width = len(str(max(counts.values())))
    lines = [
        f"    {count:>{width}}  {display_type(resource_type)}" for resource_type, count in counts.items()
    ]
    return "\n".join(["Resources by type:", *lines])


_OUTPUT_LINE_WIDTH = 110


def _items(value: list[Any] | dict[str, Any]) -> list[tuple[str, Any]]:
    return (
        list(value.items()) if isinstance(value, dict) else [(f"[{i}]", item) for i, item in enumerate(value)]
    )


def _inline(value: Any) -> str:
    """A value on one line, as the CLI shows outputs: unknowns as `output<string>`."""
    if value == UNKNOWN:
        return "output<string>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_inline(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(item) for item in value) + "]"
    return json.dumps(value)


def _display_value(value: Any, indent: str, used: int) -> str:
    """One line when it fits after the `used` columns, else one item a line, as the CLI prints structures."""
    inline = _inline(value)
    if used + len(inline) <= _OUTPUT_LINE_WIDTH or not isinstance(value, (list, dict)):
        return inline
    inner = indent + "    "
    lines = []
    for key, item in _items(value):
        head = f"{inner}{key}: "
        lines.append(head + _display_value(item, inner, len(head)))
    brackets = "{}" if isinstance(value, dict) else "[]"
    return "\n".join([brackets[0], *lines, indent + brackets[1]])


def render_outputs(outputs: Mapping[str, Any]) -> str:
    if not outputs:
        return "Outputs:\n    (none)"
    width = max(len(name) for name in outputs)
    heads = {name: f"    {name:<{width}}: " for name in outputs}
    lines = [
        heads[name] + _display_value(value, "    ", len(heads[name]))
        for name, value in sorted(outputs.items())
    ]
    return "\n".join(["Outputs:", *lines])


def resources_json(records: Iterable[ResourceRecord]) -> list[dict[str, Any]]:
    """Every shown resource for `--json`, in registration order, with its inputs and links."""
    return [
        {
            "urn": record.urn,
            "type": record.type,
            "name": record.name,
            "parent": record.parent,
            "custom": record.custom,
            "inputs": record.properties,
            "dependencies": list(record.dependencies),
            "propertyDependencies": {key: list(urns) for key, urns in record.property_dependencies.items()},
        }
        for record in records
        if is_shown(record)
    ]

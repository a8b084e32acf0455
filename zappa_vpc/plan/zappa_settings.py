"""Merging the stack's Zappa stage fragment into a zappa_settings.json stage (pure, no Pulumi import).

The rules a user relies on: nothing already in the file is dropped; a key the stack would change is
reported (where, the value in the file, the stack's value) and left alone unless forced; a placeholder an
earlier run wrote before `pulumi up` is replaced without asking.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from zappa_vpc.plan.unknown import UNKNOWN

# Marks a value not known before `pulumi up`; Zappa would pass it to AWS as is, which rejects it.
PLACEHOLDER_PREFIX = "<zappa-vpc: unknown until pulumi up:"
# What `pulumi stack output --json` prints for a secret output without --show-secrets
# (sdk/go/common/resource/config/crypt.go, BlindingCrypter).
BLINDED_SECRET = "[secret]"


def placeholder(path: str) -> str:
    return f"{PLACEHOLDER_PREFIX} {path}>"


def _leaves(value: Any, path: str = ""):
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def has_placeholder(value: Any) -> bool:
    return any(isinstance(leaf, str) and leaf.startswith(PLACEHOLDER_PREFIX) for _, leaf in _leaves(value))


def blinded_paths(value: Any) -> list[str]:
    """Where `pulumi stack output` hid a secret: the value itself is missing there."""
    return [path for path, leaf in _leaves(value) if leaf == BLINDED_SECRET]


def with_placeholders(value: Any, path: str = "") -> Any:
    """The fragment of an offline preview, each unknown value replaced by a placeholder naming its key."""
    if isinstance(value, Mapping):
        return {key: with_placeholders(item, f"{path}.{key}" if path else key) for key, item in value.items()}
    if isinstance(value, list):
        return [with_placeholders(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return placeholder(path) if value == UNKNOWN else value


@dataclass(frozen=True)
class Conflict:
    """A key whose value in the file the stack would change."""

    path: str
    current: Any
    proposed: Any

    def message(self) -> str:
        return (
            f"{self.path}: the file has {json.dumps(self.current)}, the stack gives "
            f"{json.dumps(self.proposed)}"
        )


@dataclass
class MergeResult:
    stage: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _merge_value(current: Any, proposed: Any, path: str, force: bool, result: MergeResult) -> Any:
    if current == proposed:
        return current
    if isinstance(current, dict) and isinstance(proposed, Mapping):
        return _merge_dict(current, proposed, path, force, result)
    if path.endswith("extra_permissions") and isinstance(current, list) and isinstance(proposed, list):
        return _merge_statements(current, proposed, path, force, result)
    if force or has_placeholder(current):
        result.changed.append(path)
        return proposed
    result.conflicts.append(Conflict(path, current, proposed))
    return current


def _merge_dict(
    current: dict[str, Any], proposed: Mapping[str, Any], path: str, force: bool, result: MergeResult
) -> dict[str, Any]:
    merged = dict(current)  # keys only the user has stay, in their order
    for key, value in proposed.items():
        key_path = _join(path, key)
        if key not in merged:
            merged[key] = value
            result.changed.append(key_path)
        else:
            merged[key] = _merge_value(merged[key], value, key_path, force, result)
    return merged


def _merge_statements(
    current: list[Any], proposed: list[Any], path: str, force: bool, result: MergeResult
) -> list[Any]:
    """The user's own statements stay; ours (found by their Sid) are added or updated in place."""
    merged = list(current)
    for statement in proposed:
        sid = statement.get("Sid") if isinstance(statement, Mapping) else None
        index = next(
            (
                i
                for i, existing in enumerate(merged)
                if isinstance(existing, Mapping) and sid is not None and existing.get("Sid") == sid
            ),
            None,
        )
        if index is None:
            merged.append(statement)
            result.changed.append(f"{path}[{len(merged) - 1}]")
        else:
            merged[index] = _merge_value(merged[index], statement, f"{path}[{index}]", force, result)
    return merged


def merge_stage(
    current: Mapping[str, Any], fragment: Mapping[str, Any], *, force: bool = False
) -> MergeResult:
    """`current` (a stage of zappa_settings.json, possibly empty) with the stack's `fragment` laid over it.

    Dicts merge key by key (your own environment variables stay), `extra_permissions` by statement Sid
    (your own statements stay), anything else is replaced only when forced or when it holds a placeholder.
    On conflicts without `force`, the returned stage keeps the file's values.
    """
    result = MergeResult(stage={})
    result.stage = _merge_dict(dict(current), fragment, "", force, result)
    return result

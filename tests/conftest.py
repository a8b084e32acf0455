"""Shared fixtures: run a shipped stack (optionally with config changes) once per test session."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from preview.engine import StackRun, run_stack

_runs: dict[str, StackRun] = {}


def _run(stack: str, overrides: dict | None = None, preview: bool = True) -> StackRun:
    key = json.dumps([stack, overrides or {}, preview], sort_keys=True)
    if key not in _runs:
        _runs[key] = run_stack(stack, config_overrides=overrides, preview=preview)
    return _runs[key]


@pytest.fixture
def stack_run() -> Callable[..., StackRun]:
    """`stack_run("dev", {"zappa-vpc:azCount": 3}, preview=False)`: the stack's registrations, cached."""
    return _run

"""Run a Pulumi program under the SDK's mocks exactly as Pulumi's unit-testing docs write them: a resource's
state is its inputs, a call answers nothing. Standalone (imports only pulumi), so it also runs in a virtualenv
holding nothing of this checkout.

    python library_runner.py PROGRAM [project:key=JSON-or-text ...]

Prints JSON: the registered resource types and the exported output names; exits 1 on the program's error.
MOCK_ANSWERS (JSON: invoke token -> result) answers chosen lookups, for tests of what they tell.
"""

import json
import os
import pathlib
import re
import runpy
import sys

import pulumi
from pulumi.runtime.sync_await import _sync_await


class MinimalMocks(pulumi.runtime.Mocks):
    def __init__(self, answers: dict[str, dict]) -> None:
        self.types: list[str] = []
        self.answers = answers  # invoke token -> result, for tests of lookups; none by default

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        self.types.append(args.typ)
        return args.name + "_id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return self.answers.get(args.token, {})


def main(program: str, settings: list[str]) -> int:
    pulumi.runtime.set_all_config(dict(setting.split("=", 1) for setting in settings))
    mocks = MinimalMocks(json.loads(os.environ.get("MOCK_ANSWERS", "{}")))
    project_file = pathlib.Path(program).with_name("Pulumi.yaml").read_text()
    project = re.search(r"^name:\s*(\S+)", project_file, re.MULTILINE).group(1)  # type: ignore[union-attr]
    pulumi.runtime.set_mocks(mocks, project=project, stack="test", preview=False)
    try:
        # As the preview engine runs a program: the SDK's own loop, so synchronous invokes work.
        _sync_await(
            pulumi.runtime.stack.run_pulumi_func(lambda: runpy.run_path(program, run_name="__main__"))
        )
    except Exception as error:  # reported to the test, which asserts on it
        print(json.dumps({"error": f"{type(error).__name__}: {error}", "types": mocks.types}))
        return 1
    outputs = getattr(pulumi.runtime.settings.get_root_resource(), "outputs", {}) or {}
    print(json.dumps({"types": sorted(set(mocks.types)), "outputs": sorted(outputs)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))

"""Write the stack's Zappa stage fragment into zappa_settings.json.

    python -m zappa_vpc.zappa_settings --stage dev --from-stack-output outputs.json
    pulumi stack output --json | python -m zappa_vpc.zappa_settings --stage dev --from-stack-output -
    python -m zappa_vpc.zappa_settings --stage dev --from-preview dev     # before `pulumi up`

The stack output `zappa_settings` holds the keys (`aws_region`, `vpc_config`, `environment_variables`,
`extra_permissions`, with a private API `endpoint_configuration` and `apigateway_policy`); the command
merges them into the stage, and writes the `zappa_apigateway_policy` document to the file
`apigateway_policy` names, beside the settings. From the offline preview, ids are placeholders a later run
with --from-stack-output replaces. Nothing in the file is dropped; a value the stack would change is
reported and left alone unless --force.

Exit codes: 0 written (or already up to date), 1 refused: a key would change (nothing written),
2 bad input (unreadable or malformed file, missing output, preview error, bad option).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zappa_vpc.plan.zappa_settings import (
    Conflict,
    blinded_paths,
    has_placeholder,
    merge_stage,
    with_placeholders,
)

EXIT_WRITTEN = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2

FRAGMENT_OUTPUT = "zappa_settings"
POLICY_OUTPUT = "zappa_apigateway_policy"


class InputError(Exception):
    """A mistake in the command's input: the message says which input, what is wrong and the fix."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zappa_vpc.zappa_settings",
        description="Merge the stack's Zappa stage fragment (stack output `zappa_settings`) into a stage of "
        "zappa_settings.json, keeping everything already there.",
        epilog="Exit codes: 0 written or already up to date, 1 refused because a key would change (rerun "
        "with --force to take the stack's values), 2 bad input.",
    )
    parser.add_argument("--stage", required=True, help="the Zappa stage to write, e.g. dev")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from-stack-output",
        metavar="FILE",
        help="the JSON of `pulumi stack output --json` (all outputs), or - to read it from stdin",
    )
    source.add_argument(
        "--from-preview",
        metavar="STACK",
        help="the offline preview of STACK (run from the project checkout); ids become placeholders",
    )
    parser.add_argument(
        "--settings",
        type=Path,
        default=Path("zappa_settings.json"),
        help="the Zappa settings file to update (default: ./zappa_settings.json; created if missing)",
    )
    parser.add_argument(
        "--force", action="store_true", help="take the stack's value for keys it would change"
    )
    parser.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    return parser


def _read_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{source}: not valid JSON ({error})") from None


def outputs_from_stack_output(source: str) -> dict[str, Any]:
    """The outputs `pulumi stack output --json` printed, read from a file or `-` (stdin)."""
    if source == "-":
        text, name = sys.stdin.read(), "--from-stack-output - (stdin)"
    else:
        name = f"--from-stack-output {source}"
        try:
            text = Path(source).read_text()
        except OSError as error:
            raise InputError(f"{name}: cannot read it ({error.strerror})") from None
    outputs = _read_json(text, name)
    if not isinstance(outputs, dict) or FRAGMENT_OUTPUT not in outputs:
        raise InputError(
            f"{name}: expected every output of the stack, with `{FRAGMENT_OUTPUT}`; "
            "write it with `pulumi stack output --json > outputs.json` after `pulumi up`"
        )
    hidden = blinded_paths(
        {name: outputs[name] for name in (FRAGMENT_OUTPUT, POLICY_OUTPUT) if name in outputs}
    )
    if hidden:
        raise InputError(
            f"{name}: {', '.join(hidden)} shown as [secret]; "
            "rerun `pulumi stack output --json --show-secrets`"
        )
    return outputs


def outputs_from_preview(stack: str) -> dict[str, Any]:
    """The outputs of the offline preview of `stack`, unknown ids as marked placeholders."""
    try:
        from preview.engine import StackConfigError, run_stack
    except ImportError:
        raise InputError(
            "--from-preview: the offline preview (`preview/`) is part of the zappa-vpc checkout; run from "
            "there, or use --from-stack-output after `pulumi up`"
        ) from None
    try:
        run = run_stack(stack)
    except StackConfigError as error:
        raise InputError(f"--from-preview {stack}: {error}") from None
    if run.error is not None:
        raise InputError(f"--from-preview {stack}: the stack's settings are refused:\n{run.error}")
    return with_placeholders(run.outputs)


def _read_settings(path: Path) -> dict[str, Any]:
    if path.suffix != ".json":
        raise InputError(
            f"--settings {path}: only JSON settings are written (Zappa also reads .yml/.yaml/.toml, but a "
            "rewrite would lose their comments); convert it or copy `pulumi stack output zappa_settings`"
        )
    if not path.exists():
        return {}
    try:
        text = path.read_text()
    except OSError as error:
        raise InputError(f"--settings {path}: cannot read it ({error.strerror})") from None
    settings = _read_json(text, f"--settings {path}")
    if not isinstance(settings, dict):
        raise InputError(f'--settings {path}: expected a JSON object of stages, like {{"dev": {{...}}}}')
    return settings


def _write_atomically(path: Path, document: Any) -> None:
    # A crash mid-write must not leave a half file where the user's settings were.
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        json.dump(document, handle, indent=4)
        handle.write("\n")
    os.replace(handle.name, path)


def _policy_file(
    stage: dict[str, Any], outputs: dict[str, Any], settings_path: Path, force: bool
) -> tuple[Path | None, Any, list[Conflict]]:
    """The API Gateway policy file Zappa will open, its document, and a conflict if it already differs."""
    name = stage.get("apigateway_policy")
    if POLICY_OUTPUT not in outputs or not isinstance(name, str):
        return None, None, []
    document = outputs[POLICY_OUTPUT]
    if isinstance(document, str):  # a stack from before the document was a structure
        document = _read_json(document, f"output {POLICY_OUTPUT}")
    # Zappa opens the path from the directory it runs in, the one zappa_settings.json is in.
    path = settings_path.parent / name
    if not path.exists():
        return path, document, []
    current = _read_json(path.read_text(), str(path))
    if current == document or force or has_placeholder(current):
        return path, document, []
    return path, document, [Conflict(f"file {path}", current, document)]


def run(args: argparse.Namespace) -> int:
    if args.from_stack_output is not None:
        outputs = outputs_from_stack_output(args.from_stack_output)
    else:
        outputs = outputs_from_preview(args.from_preview)
    fragment = outputs[FRAGMENT_OUTPUT]
    if not isinstance(fragment, dict):
        raise InputError(f"output {FRAGMENT_OUTPUT}: expected an object, got {json.dumps(fragment)}")
    if "apigateway_policy" in fragment and POLICY_OUTPUT not in outputs:
        raise InputError(f"output {POLICY_OUTPUT} is missing: the stage's apigateway_policy needs it")

    settings = _read_settings(args.settings)
    current = settings.get(args.stage, {})
    if not isinstance(current, dict):
        raise InputError(f"--settings {args.settings}: stage {args.stage!r} is not a JSON object")

    result = merge_stage(current, fragment, force=args.force)
    policy_path, policy, policy_conflicts = _policy_file(result.stage, outputs, args.settings, args.force)
    conflicts = result.conflicts + policy_conflicts
    if conflicts:
        for conflict in conflicts:
            print(f"refused: {args.stage}.{conflict.message()}", file=sys.stderr)
        print(
            f"nothing written to {args.settings}: rerun with --force to take the stack's values, or edit the "
            "file",
            file=sys.stderr,
        )
        return EXIT_REFUSED

    changed = [f"{args.stage}.{path}" for path in result.changed]
    if args.dry_run:
        print("\n".join(f"would set {path}" for path in changed) or f"{args.settings} is up to date")
        return EXIT_WRITTEN
    if changed or args.stage not in settings:
        _write_atomically(args.settings, {**settings, args.stage: result.stage})
    if policy_path is not None:
        _write_atomically(policy_path, policy)
    print("\n".join(f"set {path}" for path in changed) or f"{args.settings} was already up to date")
    if has_placeholder(result.stage):
        print(
            "note: placeholders stand for ids known only after `pulumi up`; rerun with "
            "--from-stack-output then, before `zappa deploy`",
            file=sys.stderr,
        )
    return EXIT_WRITTEN


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())

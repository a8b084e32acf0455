"""How long the offline preview takes and how much memory it needs, and how it grows with the AZ count.

Each shipped stack is previewed by the real CLI in fresh processes (`python -m preview STACK --json`), so
the wall time is what a user waits for (interpreter start and imports included) and the peak resident memory
is that process's alone (`os.wait4` reports it per child). The growth table runs the public-private pattern
in this process at 2, 3, 4 and 6 AZs, the best of several runs each after a warm-up (other work on a shared
machine only ever adds time), and checks that both the resource count and the time grow linearly.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from bench.tables import BenchReport, render_table
from preview.engine import PROJECT_DIR, run_stack, shipped_stacks

# The pattern whose growth we measure: prod's settings (NAT per AZ, flow logs, database, endpoints), with
# room planned for 6 AZs so every size is a valid address plan.
CLI_REPEATS = 2
GROWTH_STACK = "prod"
GROWTH_AZ_COUNTS = (2, 3, 4, 6)
GROWTH_AZ_SLOTS = 6
GROWTH_REPEATS = 9
# Time per resource may rise this much from the smallest to the largest size and still count as linear
# (timer noise on a shared 2-core machine is about 10%).
LINEAR_TOLERANCE = 1.25
VERDICTS = {0: "allowed", 1: "blocked (mandatory violation)"}
# The whole preview against the stack's program alone, and --all against the single previews it replaces.
OVERHEAD_ROUNDS = 5
OVERHEAD_LIMIT = 1.3
OVERHEAD_TARGET_STACKS = ("dev", "prod")
ALL_LIMIT = 0.6
# The program alone: what `python -m preview` cannot do without (interpreter, imports, the program run).
_PROGRAM_ONLY = (
    "import sys\nfrom preview.engine import run_stack\nsys.exit(run_stack(sys.argv[1]).error is not None)"
)


@dataclass(frozen=True)
class ProcessMeasure:
    """One CLI run: wall time, peak resident memory, and the stack's verdict or why there is none."""

    wall_seconds: float
    peak_rss_mib: float
    verdict: str
    failed: bool

    def cells(self) -> tuple[str, str, str]:
        if self.failed:
            return ("-", "-", f"failed: {self.verdict}")
        return (f"{self.wall_seconds:.2f}", f"{self.peak_rss_mib:.0f}", self.verdict)


def measure_preview(argv: list[str]) -> ProcessMeasure:
    """Run the preview CLI with `--json` from the project directory; its own peak RSS comes from `wait4`.

    A run counts as a preview only if it printed its JSON document (a crash exits 1 too, like a blocked
    stack, so the exit code alone cannot tell them apart).
    """
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=PROJECT_DIR, stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen so
        stdout.seek(0)
        stderr.seek(0)
        output = stdout.read().decode(errors="replace")
        errors = stderr.read().decode(errors="replace").strip().splitlines()
    peak_mib = usage.ru_maxrss / 1024  # Linux reports KiB
    try:
        exit_code = json.loads(output)["exitCode"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return ProcessMeasure(wall, peak_mib, errors[-1] if errors else f"exit {process.returncode}", True)
    return ProcessMeasure(wall, peak_mib, VERDICTS.get(exit_code, f"exit {exit_code}"), False)


def best_preview(argv: list[str]) -> ProcessMeasure:
    """The faster of a few runs: other work on a shared machine only ever adds time."""
    runs = [measure_preview(argv) for _ in range(CLI_REPEATS)]
    return min(runs, key=lambda run: (run.failed, run.wall_seconds))


def stack_table() -> str:
    rows = []
    with tempfile.TemporaryDirectory() as pictures:
        for stack in shipped_stacks():
            command = [sys.executable, "-m", "preview", stack, "--json", "--picture-dir", pictures]
            without_policy = best_preview([*command, "--no-policy"])
            with_policy = best_preview(command)
            resources = len(run_stack(stack).resources)
            wall, peak, verdict = with_policy.cells()
            if without_policy.failed:
                verdict = f"failed without policies: {without_policy.verdict}"
            rows.append((stack, str(resources), *without_policy.cells()[:2], wall, peak, verdict))
    return render_table(
        f"Offline preview of each shipped stack (`python -m preview STACK --json`, best of {CLI_REPEATS} "
        "fresh processes)",
        (
            "stack",
            "resources",
            "--no-policy: wall s",
            "peak MiB",
            "with policies: wall s",
            "peak MiB",
            "verdict",
        ),
        rows,
        "lrrrrrl",
    )


@dataclass(frozen=True)
class GrowthPoint:
    az_count: int
    resources: int
    seconds: float

    @property
    def ms_per_resource(self) -> float:
        return 1000 * self.seconds / self.resources


def _overrides(az_count: int) -> dict[str, int | str]:
    # Six zones include us-east-1e, which offers no Graviton type, and the workers run in every zone.
    return {
        "zappa-vpc:azCount": az_count,
        "zappa-vpc:azSlots": GROWTH_AZ_SLOTS,
        "zappa-vpc:workerInstanceType": "t3.small",
    }


def _timed_run(az_count: int) -> float:
    # Collect garbage between runs, not during one: a run's time is then the program's own, not whichever
    # run a collection of earlier runs' objects happened to land in.
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run_stack(GROWTH_STACK, config_overrides=_overrides(az_count))
        return time.perf_counter() - start
    finally:
        gc.enable()


def measure_growth() -> list[GrowthPoint]:
    """Best time of each size; the sizes take turns, so a busy moment on the machine hits them all alike."""
    resources = {}
    for az_count in GROWTH_AZ_COUNTS:
        run = run_stack(GROWTH_STACK, config_overrides=_overrides(az_count))  # warm-up, and the count
        if run.error is not None:
            raise RuntimeError(f"{GROWTH_STACK} at {az_count} AZs does not preview: {run.error}")
        resources[az_count] = len(run.resources)
    timings: dict[int, list[float]] = {az_count: [] for az_count in GROWTH_AZ_COUNTS}
    for _ in range(GROWTH_REPEATS):
        for az_count in GROWTH_AZ_COUNTS:
            timings[az_count].append(_timed_run(az_count))
    return [GrowthPoint(n, resources[n], min(timings[n])) for n in GROWTH_AZ_COUNTS]


def growth_verdict(points: list[GrowthPoint]) -> tuple[str, bool]:
    """Linear when every added AZ adds the same number of resources and the time per resource does not rise
    beyond timer noise from the smallest size to the largest."""
    per_az = {
        (later.resources - earlier.resources) / (later.az_count - earlier.az_count)
        for earlier, later in itertools.pairwise(points)
    }
    ratio = points[-1].ms_per_resource / points[0].ms_per_resource
    resources_linear, time_linear = len(per_az) == 1, ratio <= LINEAR_TOLERANCE
    resources = (
        f"resources: +{next(iter(per_az)):g} per AZ at every step (linear)"
        if resources_linear
        else f"resources: NOT linear, per-AZ steps {sorted(per_az)}"
    )
    timing = "linear" if time_linear else f"NOT linear (above {LINEAR_TOLERANCE:g}x)"
    first, last = points[0], points[-1]
    verdict = (
        f"{resources}; time per resource at {last.az_count} AZs is {ratio:.2f}x that at "
        f"{first.az_count} AZs: {timing}"
    )
    return verdict, resources_linear and time_linear


def growth_table() -> BenchReport:
    points = measure_growth()
    table = render_table(
        f"Public-private pattern by AZ count ({GROWTH_STACK} settings, best of {GROWTH_REPEATS} runs)",
        ("AZs", "resources", "preview ms", "ms per resource"),
        [
            (str(p.az_count), str(p.resources), f"{1000 * p.seconds:.0f}", f"{p.ms_per_resource:.2f}")
            for p in points
        ],
        "rrrr",
    )
    verdict, linear = growth_verdict(points)
    return BenchReport(f"{table}\n\n{verdict}", linear)


def _wall_seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def overhead_table() -> BenchReport:
    """Per stack, medians of fresh processes taking turns (so a busy moment hits both alike): the program
    alone, the whole preview, their ratio; then `--all` against the sum of the single previews."""
    stacks = shipped_stacks()
    program: dict[str, list[float]] = {stack: [] for stack in stacks}
    whole: dict[str, list[float]] = {stack: [] for stack in stacks}
    together: list[float] = []
    with tempfile.TemporaryDirectory() as pictures:
        preview = [sys.executable, "-m", "preview", "--json", "--picture-dir", pictures]
        for _ in range(OVERHEAD_ROUNDS):
            for stack in stacks:
                program[stack].append(_wall_seconds([sys.executable, "-c", _PROGRAM_ONLY, stack]))
                whole[stack].append(_wall_seconds([*preview, stack]))
            together.append(_wall_seconds([*preview, "--all"]))
    rows, met = [], True
    for stack in stacks:
        alone, full = statistics.median(program[stack]), statistics.median(whole[stack])
        ratio = full / alone
        target = stack in OVERHEAD_TARGET_STACKS
        met &= not target or ratio <= OVERHEAD_LIMIT
        rows.append(
            (
                stack,
                f"{alone:.2f}",
                f"{full:.2f}",
                f"{ratio:.2f}x",
                f"<= {OVERHEAD_LIMIT:g}x" if target else "",
            )
        )
    singles = sum(statistics.median(whole[stack]) for stack in stacks)
    all_ratio = statistics.median(together) / singles
    met &= all_ratio <= ALL_LIMIT
    table = render_table(
        f"The whole preview against the program alone (medians of {OVERHEAD_ROUNDS} fresh processes each)",
        ("stack", "program alone s", "whole preview s", "ratio", "target"),
        rows,
        "lrrrl",
    )
    summary = (
        f"--all over {len(stacks)} stacks: {statistics.median(together):.2f} s, {all_ratio:.2f}x the sum of "
        f"the single previews ({singles:.2f} s); target <= {ALL_LIMIT:g}x"
    )
    return BenchReport(f"{table}\n\n{summary}", met)


def report() -> BenchReport:
    overhead = overhead_table()
    growth = growth_table()
    return BenchReport(
        f"{overhead.text}\n\n{stack_table()}\n\n{growth.text}", overhead.targets_met and growth.targets_met
    )

"""`--all` judges every stack with one pack process: each stack must get exactly the verdict a pack of its
own gives it, whatever the stacks before it were and whatever policy config they were judged with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from preview.engine import StackRun, shipped_stacks
from preview.judge import POLICY_PACK_DIR, judge
from preview.network import describe_network
from preview.picture_worker import PictureError, PictureWorker
from preview.policy_client import PolicyPackClient, PolicyPackError, load_policy_config

PRODUCTION = load_policy_config(POLICY_PACK_DIR / "prod-policy-config.json")


def test_one_pack_for_every_stack_gives_each_the_verdict_of_a_pack_of_its_own(
    stack_run: Callable[..., StackRun],
) -> None:
    # Production config on every stack blocks some of them, so findings, not only passes, are compared;
    # alternating configs shows that nothing of one configuration stays for the next stack.
    cases = [(stack, config) for stack in shipped_stacks() for config in (PRODUCTION, None)]
    alone = {(stack, config is None): judge(stack_run(stack), config) for stack, config in cases}

    with PolicyPackClient(POLICY_PACK_DIR) as shared:
        together = {
            (stack, config is None): judge(stack_run(stack), config, pack=shared) for stack, config in cases
        }

    assert any(d.mandatory for verdicts in alone.values() for v in verdicts for d in v.diagnostics)
    assert together == alone


def test_a_pack_that_cannot_start_says_why_to_every_stack_that_asks(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('the pack is broken')\n")
    pack = PolicyPackClient(tmp_path)
    pack.launch()
    try:
        for _ in range(2):
            with pytest.raises(
                PolicyPackError, match="exited with code 1 before serving:\nthe pack is broken"
            ):
                pack.analyzer_info()
    finally:
        pack.close()


def test_the_picture_worker_answers_each_picture_in_turn_and_survives_a_failed_one(
    stack_run: Callable[..., StackRun], tmp_path: Path
) -> None:
    view = describe_network(stack_run("dev").records, "dev")
    with PictureWorker() as pictures:
        pictures.submit(view, tmp_path / "one.png", "python -m preview dev")
        pictures.submit(view, tmp_path / "two.svg", "python -m preview dev")
        pictures.submit(view, tmp_path / "three.unknown-format", "python -m preview dev")
        pictures.submit(view, tmp_path / "four.png", "python -m preview dev")

        assert pictures.result() == tmp_path / "one.png"
        assert pictures.result() == tmp_path / "two.svg"
        with pytest.raises(PictureError, match="Traceback"):
            pictures.result()
        assert pictures.result() == tmp_path / "four.png"
    assert (tmp_path / "one.png").stat().st_size > 0 and (tmp_path / "two.svg").stat().st_size > 0

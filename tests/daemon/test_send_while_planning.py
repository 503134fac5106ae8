"""A cycle the retraction guard cannot hold (a first sync: the SIS has no open rows to withdraw)
sends its writes while later batches are still being evaluated, and ends in the rows of a cycle
that planned everything first."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.sandbox_sync import sandbox_district
from tests.daemon.service_support import comparable
from truancy.daemon import pipeline
from truancy.daemon.evaluate import Evaluator
from truancy.daemon.guard import RetractionGuard


def test_the_limit_rules_out_a_hold_only_while_every_open_row_fits_under_it() -> None:
    guard = RetractionGuard()
    assert guard.cannot_hold(0)
    assert guard.cannot_hold(25)
    assert not guard.cannot_hold(26)
    assert not guard.cannot_hold(5_000)
    assert RetractionGuard(allow=True).cannot_hold(5_000)


def test_a_first_sync_writes_to_the_sis_before_its_last_batch_is_evaluated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "EVALUATE_BATCH", 15)
    with sandbox_district(tmp_path / "early", students=60) as district:
        held_when_last_batch_began: list[int] = []
        evaluate = Evaluator.evaluate

        def evaluate_and_look(self: Evaluator, batch: list[str]) -> Any:
            if len(held_when_last_batch_began) == 3:  # the fourth and last batch of 15
                deadline = time.monotonic() + 30
                while not _rows(district) and time.monotonic() < deadline:
                    time.sleep(0.05)
            held_when_last_batch_began.append(_rows(district))
            return evaluate(self, batch)

        monkeypatch.setattr(Evaluator, "evaluate", evaluate_and_look)
        early = district.sync()
        assert len(held_when_last_batch_began) == 4
        assert held_when_last_batch_began[0] == 0
        assert held_when_last_batch_began[3] > 0  # batches already planned were being written
        early_rows = comparable(district.sis_rows())

    monkeypatch.setattr(Evaluator, "evaluate", evaluate)
    with sandbox_district(tmp_path / "planned_first", students=60) as district:
        with monkeypatch.context() as planned_first:  # a guard that could hold: nothing goes before it
            planned_first.setattr(RetractionGuard, "cannot_hold", lambda self, open_rows: False)
            after_planning = district.sync()
        assert comparable(district.sis_rows()) == early_rows
    assert early.writes.as_dict() == after_planning.writes.as_dict()
    assert early.errors == after_planning.errors == []


def _rows(district: Any) -> int:
    return sum(len(rows) for rows in district.sis_rows().values())

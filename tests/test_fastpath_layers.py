"""bench.inprocess (CPU by layer) runs a few real ceremonies through both layers."""

from __future__ import annotations

import pytest

from bench import inprocess


def test_both_layers_run_checked_ceremonies(capsys: pytest.CaptureFixture[str]) -> None:
    inprocess.main(["--ceremonies", "8", "--concurrency", "2", "--users", "4"])
    out = capsys.readouterr().out
    assert "services  :" in out
    assert "asgi C=2  :" in out

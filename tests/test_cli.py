"""`sybilgraph pipeline run` passes its options through to the runner (no server needed:
the runner itself is covered by tests/test_pipeline.py and tests/test_graph_incremental.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines import runner
from pipelines.cli import main


@pytest.fixture
def recorded_runs(monkeypatch) -> list[dict]:
    calls: list[dict] = []

    def fake_run_pipeline(data_dir, output_dir=None, **options):
        calls.append({"data_dir": Path(data_dir), "output_dir": output_dir, **options})
        return runner.PipelineRun("run-1", True, Path(output_dir or "out"), [], [])

    monkeypatch.setattr(runner, "run_pipeline", fake_run_pipeline)
    monkeypatch.setattr(runner, "export_neo4j_environment", lambda: None)
    return calls


@pytest.mark.parametrize("flags, full, refit", [([], False, False), (["--full-graph-load"], True, False),
                                                 (["--refit"], False, True)])
def test_pipeline_run_passes_full_graph_load_and_refit(tmp_path, recorded_runs, flags, full, refit):
    result = CliRunner().invoke(main, ["pipeline", "run", "--data", str(tmp_path), *flags])
    assert result.exit_code == 0, result.output
    assert "pipeline run run-1 succeeded" in result.output
    assert recorded_runs == [{"data_dir": tmp_path, "output_dir": None, "batch_rows": None,
                              "full_graph_load": full, "refit": refit}]


def test_refit_sets_refit_days_to_zero_in_the_run_config(tmp_path):
    resolution = runner.run_config(tmp_path, tmp_path / "out", refit=True)["resources"]["resolution"]["config"]
    assert resolution["refit_days"] == 0.0
    assert "refit_days" not in runner.run_config(tmp_path, tmp_path / "out")["resources"]["resolution"]["config"]


def test_pipeline_run_failure_names_the_failed_steps(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "export_neo4j_environment", lambda: None)
    monkeypatch.setattr(runner, "run_pipeline", lambda *a, **k: runner.PipelineRun(
        "run-2", False, tmp_path, ["neo4j_graph"], ["neo4j_counts_match"]))
    result = CliRunner().invoke(main, ["pipeline", "run", "--data", str(tmp_path)])
    assert result.exit_code != 0
    assert "steps neo4j_graph" in result.output and "neo4j_counts_match" in result.output

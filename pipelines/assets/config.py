"""Run configuration. Every knob an engineer may turn in the Launchpad lives here."""


import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd
from dagster import Config, ConfigurableResource
from pydantic import Field

from pipelines.links import ResolutionConfig
from pipelines.paths import state_dir
from pipelines.results import verified_results


def default_data_dir() -> str:
    """The folder the schedule and sensor watch: ``SYBILGRAPH_DATA_DIR`` or the demo world."""
    return os.environ.get("SYBILGRAPH_DATA_DIR", str(state_dir() / "worlds" / "demo"))


def default_output_dir() -> str:
    return os.environ.get("SYBILGRAPH_OUTPUT_DIR", str(state_dir() / "output"))


def prompt_cache_dir() -> Path:
    """Per-prompt-text signatures kept between runs (results never depend on it)."""
    return state_dir() / "cache"


class IngestConfig(Config):
    data_dir: str = Field(default_factory=default_data_dir, description="Folder of contract tables.")
    # the quarantined-share threshold is the check's own config (checks.QuarantineCheckConfig)


class ResolutionSettings(ConfigurableResource):
    """Resolution knobs and the results folder, one resource for every resolution asset.

    A resource, not per-asset config: candidate pairs, scoring, clustering and the results
    folder must agree (a clustering run at another match probability than the scoring, or a
    results folder other than the one the previous entities are read from, would be wrong),
    and the Launchpad sets them once under ``resources.resolution``.
    """

    output_dir: str = Field(default_factory=default_output_dir, description="Where the results folder is written.")
    use_previous_entities: bool = Field(
        default=True, description="Keep entity ids stable by matching against the previous run's results."
    )
    match_probability: float = Field(
        default=ResolutionConfig.match_probability, description="Posterior at which a scored pair enters clustering."
    )
    cluster_support: float = Field(
        default=ResolutionConfig.cluster_support,
        description="Share of the smaller cluster's link weight that must point at the other to merge.",
    )

    refit_days: float = Field(
        default=7.0,
        description="Re-estimate the Fellegi-Sunter model (EM) when the saved one is older than this many days; "
                    "between refits daily runs score with it, so unchanged pairs keep their scores and the graph "
                    "load rewrites only what changed. 0 re-estimates on every run.",
    )
    parameters_path: str = Field(
        default_factory=lambda: str(state_dir() / "fs_parameters.json"),
        description="Where the last estimated Fellegi-Sunter model is kept.",
    )

    def resolution_config(self) -> ResolutionConfig:
        return replace(ResolutionConfig(), match_probability=self.match_probability, cluster_support=self.cluster_support)

    def previous_account_entities(self, log: Callable[[str], None] | None = None) -> pd.DataFrame | None:
        """The last results folder's memberships, so entity ids survive between runs; None (and
        a line to ``log``) when that folder is not complete (``results.verified_results``)."""
        path = Path(self.output_dir) / "account_entities.csv"
        if not self.use_previous_entities or not path.exists():
            return None
        problem = verified_results(Path(self.output_dir))
        if problem is not None:  # a half-written folder's ids (E41 cut short) must not be reused
            (log or print)(f"previous results not used, entity ids start fresh: {problem}")
            return None
        return pd.read_csv(path, dtype="string")


def default_snapshot_dir() -> str:
    """Where the snapshot of the last complete graph load lives (next to the pipeline state)."""
    return str(state_dir() / "graph_snapshot")


class GraphLoadConfig(Config):
    batch_rows: int = Field(default=10_000, description="Rows per UNWIND batch (one transaction each).")
    incremental: bool = Field(
        default=True,
        description="Write only rows that changed since the last complete load (falls back to a full load "
                    "when the snapshot or the graph's load marker does not match). False forces a full load.",
    )
    snapshot_dir: str = Field(default_factory=default_snapshot_dir,
                              description="Snapshot of the last complete load (keys and row hashes).")

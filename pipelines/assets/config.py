"""Run configuration. Every knob an engineer may turn in the Launchpad lives here."""

from __future__ import annotations

import os

from dagster import Config
from pydantic import Field

from pipelines.paths import state_dir


def default_data_dir() -> str:
    """The folder the schedule and sensor watch: ``SYBILGRAPH_DATA_DIR`` or the demo world."""
    return os.environ.get("SYBILGRAPH_DATA_DIR", str(state_dir() / "worlds" / "demo"))


def default_output_dir() -> str:
    return os.environ.get("SYBILGRAPH_OUTPUT_DIR", str(state_dir() / "output"))


class IngestConfig(Config):
    data_dir: str = Field(default_factory=default_data_dir, description="Folder of contract tables.")
    max_quarantine_share: float = Field(
        default=0.02, description="Blocking check: fail when more than this share of rows is quarantined."
    )


class ResolveConfig(Config):
    output_dir: str = Field(default_factory=default_output_dir, description="Where the results folder is written.")
    use_previous_entities: bool = Field(
        default=True, description="Keep entity ids stable by matching against the previous run's results."
    )
    max_entity_size_without_strong_evidence: int = Field(
        default=500, description="Check: an entity this large must be held together by strong evidence."
    )


class GraphLoadConfig(Config):
    batch_rows: int = Field(default=10_000, description="Rows per UNWIND batch (one transaction each).")

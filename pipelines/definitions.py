"""The Dagster code location: assets, checks, the daily job, schedule, sensor and resources."""

from __future__ import annotations

from dagster import Definitions, load_assets_from_modules

from pipelines.assets import attribution, graph, ingest, report, resolution
from pipelines.assets.automation import daily_schedule, new_data_sensor, sybilgraph_job
from pipelines.assets.checks import CHECKS
from pipelines.assets.config import ResolutionSettings
from pipelines.assets.io_manager import ParquetFrameIOManager
from pipelines.assets.progress_logger import progress_console_logger
from pipelines.paths import private_files
from pipelines.resources import Neo4jResource

# the code location and its run workers write frames, results and Dagster's database: owner-only
private_files()

defs = Definitions(
    assets=load_assets_from_modules([ingest, resolution, graph, attribution, report]),
    asset_checks=CHECKS,
    jobs=[sybilgraph_job],
    schedules=[daily_schedule],
    sensors=[new_data_sensor],
    loggers={"console": progress_console_logger},  # one line per step, not ~700 events
    resources={
        "io_manager": ParquetFrameIOManager(),
        "resolution": ResolutionSettings(),
        # no connection field: run config (which the UI accepts from anyone) cannot redirect it
        "neo4j": Neo4jResource(),
    },
)

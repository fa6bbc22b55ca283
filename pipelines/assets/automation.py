"""The daily job, its schedule, and a sensor that starts a run when new files land."""


import hashlib
import json
from pathlib import Path

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.assets.config import default_data_dir
from pipelines.assets.progress_logger import PROGRESS_LOGGING

DATA_SUFFIXES = (".parquet", ".csv")

sybilgraph_job = define_asset_job(
    "sybilgraph_daily",
    selection=AssetSelection.all(),
    description="The whole pipeline: contract -> normalise -> features -> links -> entities -> Neo4j -> attribution -> reports.",
    tags={"sybilgraph/neo4j-writer": "true"},
    config={"loggers": PROGRESS_LOGGING},  # scheduled and sensor runs print progress, not every event
)

daily_schedule = ScheduleDefinition(
    name="sybilgraph_daily_schedule",
    job=sybilgraph_job,
    cron_schedule="0 4 * * *",
    execution_timezone="UTC",
    description="Every day at 04:00 UTC over the configured data folder (SYBILGRAPH_DATA_DIR).",
    default_status=DefaultScheduleStatus.STOPPED,
)


def data_folder_state(data_dir: Path) -> dict[str, list[int]]:
    """Name -> [size, mtime_ns] of every contract-looking file in the folder."""
    if not data_dir.is_dir():
        return {}
    return {
        p.name: [p.stat().st_size, p.stat().st_mtime_ns]
        for p in sorted(data_dir.iterdir())
        if p.is_file() and p.suffix in DATA_SUFFIXES and not p.name.startswith(".")
    }


def changed_files(previous: dict[str, list[int]], current: dict[str, list[int]]) -> list[str]:
    return sorted(name for name, stat in current.items() if previous.get(name) != stat)


@sensor(
    job=sybilgraph_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Starts the pipeline when files in the data folder are added or change (cursor: sizes and mtimes).",
)
def new_data_sensor(context: SensorEvaluationContext):
    data_dir = Path(default_data_dir())
    current = data_folder_state(data_dir)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = changed_files(previous, current)
    if not changed:
        yield SkipReason(f"no new or changed files in {data_dir}")
        return
    state_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    context.update_cursor(json.dumps(current, sort_keys=True))
    # the run key is the folder's state: the same files never start two runs
    yield RunRequest(run_key=f"data-{state_key}", tags={"sybilgraph/changed_files": ",".join(changed)[:200]})

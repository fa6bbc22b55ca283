"""The daily job, its schedule, and a sensor that starts a run when new files land."""


import hashlib
import json
from dataclasses import dataclass
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
from pipelines.contract import TABLES, table_path

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
    """Name -> [size, mtime_ns] of the file a run would read for each contract table
    (``contract.table_path``: ``NAME.parquet``, else ``NAME.csv``). Other files, such as a
    world's ``truth.csv`` or a CSV shadowed by its table's Parquet, do not start runs."""
    if not data_dir.is_dir():
        return {}
    paths = [path for table in TABLES if (path := table_path(data_dir, table)) is not None]
    return {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in paths}


def changed_files(previous: dict[str, list[int]], current: dict[str, list[int]]) -> list[str]:
    return sorted(name for name, stat in current.items() if previous.get(name) != stat)


def missing_tables(state: dict[str, list[int]]) -> list[str]:
    """Required contract tables with no file in ``state``."""
    present = {Path(name).stem for name in state}
    return [table for table, spec in TABLES.items() if spec.required and table not in present]


@dataclass(frozen=True)
class SensorTick:
    """What one evaluation decided: the next cursor, and a run key or why there is no run."""
    cursor: dict[str, dict[str, list[int]]]
    run_key: str | None
    message: str
    changed: list[str]


def sensor_tick(cursor: dict, current: dict[str, list[int]], data_dir: Path) -> SensorTick:
    """Start a run only on files that have settled: the folder looked the same at the previous
    tick (a copy still in progress changes size or mtime between ticks; a truncated CSV would
    otherwise validate and silently lose its tail), every required table is there, and this
    state has not started a run before.

    ``cursor``: {"seen": the folder at the last tick, "started": the folder of the last run}.
    A cursor of the earlier format (the folder of the last run) counts as both."""
    if cursor and not {"seen", "started"} <= cursor.keys():
        cursor = {"seen": cursor, "started": cursor}
    seen, started = cursor.get("seen", {}), cursor.get("started", {})
    changed = changed_files(started, current)
    if not current:
        return SensorTick({"seen": current, "started": started}, None, f"no contract table files in {data_dir}", [])
    if current == started:
        return SensorTick({"seen": current, "started": started}, None, f"no new or changed files in {data_dir}", [])
    missing = missing_tables(current)
    if missing:
        return SensorTick({"seen": current, "started": started}, None,
                          f"waiting for the required tables {', '.join(missing)} in {data_dir}", changed)
    if current != seen:
        return SensorTick({"seen": current, "started": started}, None,
                          f"{', '.join(changed_files(seen, current)) or 'files removed'} changed since the last "
                          "check; starting a run once the folder stays the same for one interval", changed)
    # the run key is the folder's state: the same files never start two runs
    state_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return SensorTick({"seen": current, "started": current}, f"data-{state_key}",
                      f"{len(changed)} new or changed file(s): {', '.join(changed)}", changed)


@sensor(
    job=sybilgraph_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Starts the pipeline when contract table files in the data folder are added or change, "
                "once they have stayed the same for one interval (cursor: sizes and mtimes; run key: their hash).",
)
def new_data_sensor(context: SensorEvaluationContext):
    data_dir = Path(default_data_dir())
    tick = sensor_tick(json.loads(context.cursor) if context.cursor else {}, data_folder_state(data_dir), data_dir)
    context.update_cursor(json.dumps(tick.cursor, sort_keys=True))
    if tick.run_key is None:
        yield SkipReason(tick.message)
        return
    yield RunRequest(run_key=tick.run_key, tags={"sybilgraph/changed_files": ",".join(tick.changed)[:200]})

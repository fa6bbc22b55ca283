"""Run the Dagster job from the command line, recorded in the project's Dagster instance.

``sybilgraph pipeline run`` and ``sybilgraph demo`` go through here, so a run started from
the shell shows up in the Dagster UI exactly like a scheduled one.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.paths import dagster_home, state_dir

JOB_NAME = "sybilgraph_daily"


@dataclass
class PipelineRun:
    run_id: str
    success: bool
    output_dir: Path
    failed_steps: list[str]
    failed_checks: list[str]
    #: what each failed check lists (its "listed" metadata), by check
    check_details: dict[str, str] = field(default_factory=dict)


DAGSTER_YAML = """\
# Written by sybilgraph on first use. Telemetry off: run metadata stays on this machine.
telemetry:
  enabled: false
"""


def use_project_dagster_home() -> Path:
    """DAGSTER_HOME defaults to a project-local folder so run history survives."""
    os.environ.setdefault("DAGSTER_HOME", str(dagster_home()))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def export_neo4j_environment(start_embedded: bool = True) -> dict[str, str]:
    """Put the Neo4j connection into the environment the Dagster resource reads (NEO4J_*).

    With ``NEO4J_URI`` set nothing starts; otherwise the embedded server is started (or
    found running) and its URI and generated password are exported for this process only.
    """
    from pipelines import neo4j_client, neo4j_server

    browser_url = "(your server's Browser)"
    if not os.environ.get("NEO4J_URI") and start_embedded:
        running = neo4j_server.start(echo=print)
        browser_url = running.browser_url
    settings = neo4j_client.connection_settings()
    os.environ["NEO4J_URI"] = settings.uri
    os.environ["NEO4J_USER"] = settings.user
    os.environ["NEO4J_PASSWORD"] = settings.password
    return {"uri": settings.uri, "user": settings.user, "browser_url": browser_url}


def run_config(data_dir: Path, output_dir: Path, batch_rows: int | None = None,
               full_graph_load: bool = False, refit: bool = False) -> dict[str, Any]:
    """Run config of the daily job. The graph load is incremental unless ``full_graph_load``
    (it falls back to a full load by itself when the graph does not match its snapshot); the
    saved Fellegi-Sunter model is reused unless ``refit`` or older than ``refit_days``."""
    from pipelines.assets.progress_logger import PROGRESS_LOGGING

    ops: dict[str, Any] = {"raw_tables": {"config": {"data_dir": str(data_dir)}}}
    graph_cfg: dict[str, Any] = {}
    if batch_rows:
        graph_cfg["batch_rows"] = batch_rows
    if full_graph_load:
        graph_cfg["incremental"] = False
    if graph_cfg:
        ops["neo4j_graph"] = {"config": graph_cfg}
    resolution: dict[str, Any] = {"output_dir": str(output_dir)}
    if refit:
        resolution["refit_days"] = 0.0
    return {"ops": ops, "resources": {"resolution": {"config": resolution}},
            "loggers": PROGRESS_LOGGING}


#: tags of a run started by ``run_pipeline``: which process ran it, so that a later start can
#: tell a run still going from one whose process was killed
PID_TAG = "sybilgraph/pid"
HOST_TAG = "sybilgraph/host"


def run_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def fail_lost_runs(instance, log=print) -> list[str]:
    """Mark failed the runs of this host still "STARTED" whose process is gone (killed,
    out of memory, machine restarted): they stayed STARTED in the Dagster UI forever. Called
    under the state-folder lock, so no run of this folder is in progress."""
    from dagster import DagsterRunStatus, RunsFilter

    lost = []
    for run in instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])):
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if pid is None or host != socket.gethostname() or (int(pid) != os.getpid() and _process_alive(int(pid))):
            continue
        instance.report_run_failed(run, f"the process that ran it (pid {pid}) is gone: marked failed by the next run; "
                                        "a graph load it left half-done is repaired by the next load")
        lost.append(run.run_id)
        log(f"run {run.run_id} (pid {pid}) was lost; marked failed")
    return lost


def run_pipeline(data_dir: Path, output_dir: Path | None = None, batch_rows: int | None = None,
                 raise_on_error: bool = False, full_graph_load: bool = False, refit: bool = False) -> PipelineRun:
    """Materialise every asset (checks included) over ``data_dir``, in this process.

    Daily runs are incremental: the resolution starts from the previous results (stable entity
    ids) and the graph load writes only what changed since its last complete load.
    A second run from the same state folder waits for the first (they would share its Parquet
    frames); runs from other folders or machines meet at the Neo4j graph lease instead.
    """
    use_project_dagster_home()
    from dagster import DagsterInstance

    from pipelines.assets.io_manager import clear_frame_memo
    from pipelines.definitions import defs
    from pipelines.locking import state_folder_lock

    output_dir = Path(output_dir or state_dir() / "output")
    job = defs.resolve_job_def(JOB_NAME)
    with state_folder_lock(state_dir(), log=print), DagsterInstance.get() as instance:
        fail_lost_runs(instance, log=print)
        try:
            result = job.execute_in_process(
                run_config=run_config(Path(data_dir), output_dir, batch_rows, full_graph_load, refit),
                instance=instance,
                raise_on_error=raise_on_error,
                tags=run_tags(),
            )
        finally:
            clear_frame_memo()  # the run's frames are not needed after it
        failed_steps = [e.step_key for e in result.all_events if e.is_step_failure and e.step_key]
        failed_checks = [
            f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
        ]
        details = {
            f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}":
                str(e.asset_check_evaluation_data.metadata["listed"].value)
            for e in result.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
            and "listed" in e.asset_check_evaluation_data.metadata
        }
        return PipelineRun(result.run_id, result.success, output_dir, failed_steps, failed_checks, details)

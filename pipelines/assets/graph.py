"""Neo4j assets: schema first, then the evidence graph, and the analysts' decisions read back.

Every asset that touches Neo4j sits in the ``neo4j`` pool, so one step at a time writes.
Across runs (CLI, UI, schedule, other machines) the graph lease of :mod:`pipelines.locking`
serialises writers: the load takes it and keeps it for the attribution step, which releases it.
"""

import os
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, MaterializeResult, MetadataValue, Output, asset

from pipelines import attribution, graph, locking, neo4j_client
from pipelines.assets.config import GraphLoadConfig
from pipelines.assets.metadata import frame_metadata, timed
from pipelines.assets.resolution import FEATURE_FRAMES, NORMALIZED_TABLES, normalized_from
from pipelines.resources import Neo4jResource

NEO4J_POOL = "neo4j"


def run_finished(context: AssetExecutionContext):
    """Whether a lease owner (a Dagster run id) is a run of this instance that has ended."""

    def finished(owner: str) -> bool:
        run = context.instance.get_run_by_id(owner)
        return run is not None and run.is_finished

    return finished


def graph_lease(context: AssetExecutionContext, neo4j: Neo4jResource, keep: bool = False):
    """The cross-run graph lease, owned by this run (waits while another run writes)."""
    return locking.graph_write_lock(
        neo4j.driver, context.run.run_id, keep=keep, owner_finished=run_finished(context), log=context.log.info,
        wait_seconds=float(os.environ.get("SYBILGRAPH_LOCK_WAIT_SECONDS", locking.DEFAULT_WAIT_SECONDS)),
    )


@asset(group_name="graph", pool=NEO4J_POOL,
       description="Uniqueness constraints and indexes from graph_schema/constraints (idempotent).")
def neo4j_schema(context: AssetExecutionContext, neo4j: Neo4jResource) -> MaterializeResult:
    with graph_lease(context, neo4j):
        applied = neo4j_client.apply_schema(neo4j.driver)
    return MaterializeResult(metadata={"statements_applied": MetadataValue.int(len(applied))})


@asset(deps=["neo4j_schema"], group_name="graph", pool=NEO4J_POOL,
       description="Analyst decisions (SAME_OPERATOR / NOT_SAME_OPERATOR) read back as must/cannot-link constraints.")
def analyst_decisions(context: AssetExecutionContext, neo4j: Neo4jResource) -> Output:
    decisions = attribution.read_analyst_decisions(neo4j.driver)
    return Output(decisions, metadata=frame_metadata(decisions))


@asset(
    ins={
        **{f"normalized_{n}": AssetIn() for n in NORMALIZED_TABLES},
        **{n: AssetIn() for n in FEATURE_FRAMES},
        "weekly_activity": AssetIn(),
        "merge_links": AssetIn(),
        "account_entities": AssetIn(),
        "entities": AssetIn(),
    },
    deps=["neo4j_schema"],
    group_name="graph",
    pool=NEO4J_POOL,
    description="Accounts, infrastructure, templates, evidence links and entities written to Neo4j: only what changed since the last complete load (incremental), or everything when the graph does not carry that load's marker.",
)
def neo4j_graph(context: AssetExecutionContext, config: GraphLoadConfig, neo4j: Neo4jResource,
                **frames: pd.DataFrame) -> Output:
    row_frames = graph.build_graph_frames(
        normalized_from(frames),
        account_features=frames["account_features"],
        account_templates=frames["account_templates"],
        templates=frames["prompt_templates"],
        ip_hours=frames["ip_hours"],
        weekly_activity=frames["weekly_activity"],
        links=frames["merge_links"],
        account_entities=frames["account_entities"],
        entities=frames["entities"],
    )
    # kept on success: the attribution step of this run re-enters the lease and releases it
    with graph_lease(context, neo4j, keep=True):
        report = graph.load_graph(neo4j.driver, row_frames, batch_rows=config.batch_rows, log=context.log.info,
                                  snapshot_dir=Path(config.snapshot_dir), incremental=config.incremental)
    expected = graph.expected_counts(row_frames)
    summary = pd.DataFrame({"statement": list(report.rows_sent), "rows": list(report.rows_sent.values())})
    return Output(
        pd.DataFrame([{**expected, "load_token": report.load_token}]),
        metadata={
            "rows_sent": MetadataValue.int(report.total_rows),
            "seconds": MetadataValue.float(round(report.seconds, 2)),
            "rows_per_second": MetadataValue.float(float(round(report.total_rows / max(report.seconds, 1e-9)))),
            "batch_rows": MetadataValue.int(config.batch_rows),
            "stale_deleted": MetadataValue.int(report.stale_deleted),
            "load_token": MetadataValue.text(report.load_token),
            "frames_token": MetadataValue.text(report.frames_token),
            "mode": MetadataValue.text(report.mode + (f" ({report.full_reason})" if report.full_reason else "")),
            "rows_by_statement": MetadataValue.md(summary.to_markdown(index=False)),
        },
    )

"""Graph schema asset: constraints and indexes must exist before any MERGE touches Neo4j."""

from __future__ import annotations

from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines import neo4j_client
from pipelines.resources import Neo4jResource


@asset(group_name="graph", pool="neo4j", description="Uniqueness constraints and indexes from graph_schema/constraints.")
def neo4j_schema(context: AssetExecutionContext, neo4j: Neo4jResource) -> MaterializeResult:
    applied = neo4j_client.apply_schema(neo4j.driver)
    return MaterializeResult(metadata={"statements_applied": len(applied), "statements": ", ".join(applied)})

"""Attribution in Cypher: the same statements an analyst runs in the Browser, run by the pipeline."""


import pandas as pd
from dagster import AssetExecutionContext, MetadataValue, Output, asset

from pipelines import attribution
from pipelines.assets.graph import NEO4J_POOL, graph_lease
from pipelines.assets.metadata import frame_metadata, timed
from pipelines.resources import Neo4jResource


@asset(deps=["neo4j_graph"], group_name="attribution", pool=NEO4J_POOL,
       description="(:Entity)-[:ATTRIBUTED_TO {confidence, evidence}]->(:Organization), analyst decisions respected.")
def entity_attributions(context: AssetExecutionContext, neo4j: Neo4jResource) -> Output:
    settings = attribution.AttributionSettings()
    with timed() as took, graph_lease(context, neo4j):  # released here, taken by the load
        attributed = attribution.run_attribution(neo4j.driver, settings=settings, log=context.log.info)
    meta = frame_metadata(attributed, took[0])
    meta["attributed_entities"] = MetadataValue.int(len(attributed))
    if len(attributed):
        meta["by_org"] = MetadataValue.md(
            attributed.groupby("org_id").agg(entities=("entity_id", "size"), accounts=("n_accounts", "sum"))
            .reset_index().to_markdown(index=False)
        )
    meta["settings"] = MetadataValue.json(attribution.settings_as_metadata(settings))
    return Output(attributed, metadata=meta)

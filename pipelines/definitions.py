"""The Dagster code location: assets, checks, schedule, sensor and resources."""

from __future__ import annotations

from dagster import Definitions, EnvVar, load_assets_from_modules

from pipelines.assets import schema
from pipelines.resources import Neo4jResource

defs = Definitions(
    assets=load_assets_from_modules([schema]),
    resources={
        "neo4j": Neo4jResource(
            uri=EnvVar("NEO4J_URI"),
            user=EnvVar("NEO4J_USER"),
            password=EnvVar("NEO4J_PASSWORD"),
        ),
    },
)

"""Dagster resources. Kept apart from the stage modules, which never import Dagster."""

from __future__ import annotations

from typing import Any

import neo4j
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from pipelines.neo4j_client import verify_connectivity_through_auth_lock


class Neo4jResource(ConfigurableResource):
    """One Neo4j driver per run: opened when the run's first step needs it, closed at teardown.

    Credentials arrive through ``EnvVar`` in ``definitions.py``; the launcher commands
    (``sybilgraph pipeline run`` / ``sybilgraph dagster dev``) export them for the embedded
    server, and a user with their own Neo4j sets ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``.
    """

    uri: str
    user: str
    password: str
    database: str = "neo4j"

    _driver: neo4j.Driver | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._driver = neo4j.GraphDatabase.driver(
            self.uri, auth=(self.user, self.password), connection_timeout=10,
            notifications_min_severity="OFF",  # "property does not exist yet" warnings are noise in run logs
        )
        verify_connectivity_through_auth_lock(self._driver)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    @property
    def driver(self) -> neo4j.Driver:
        if self._driver is None:
            raise RuntimeError("Neo4jResource used outside a run (driver not opened)")
        return self._driver

    def session(self, **kwargs: Any) -> neo4j.Session:
        return self.driver.session(database=self.database, **kwargs)

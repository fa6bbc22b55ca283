"""Dagster resources. Kept apart from the stage modules, which never import Dagster."""

from __future__ import annotations

from typing import Any

import neo4j
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from pipelines.neo4j_client import connection_settings, verify_connectivity_through_auth_lock


class Neo4jResource(ConfigurableResource):
    """One Neo4j driver per run: opened when the run's first step needs it, closed at teardown.

    The connection is never run config: the URI, user and password are read inside the run
    worker from the environment (``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``, which the
    launcher commands ``sybilgraph pipeline run`` / ``sybilgraph dagster dev`` export for the
    embedded server) or from the embedded server's own settings
    (``neo4j_client.connection_settings``). The Dagster UI launches runs with any config it is
    sent; a configurable URI beside ``{env: NEO4J_PASSWORD}`` handed the password to whatever
    listener a local user named (issue 27).
    """

    database: str = "neo4j"

    _driver: neo4j.Driver | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        settings = connection_settings()
        self._driver = neo4j.GraphDatabase.driver(
            settings.uri, auth=(settings.user, settings.password), connection_timeout=10,
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

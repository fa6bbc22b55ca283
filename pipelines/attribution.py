"""Stage 7: attribute entities to organizations on the graph, the way an analyst would.

The evidence is gathered by the ``graph_schema/queries/attribution_*.cypher`` statements (an
analyst runs the same ones in the Neo4j Browser): which accounts carry an organization's own
indicators, and which cards, IPs and prompt templates attributed entities share. The rules
that weigh it are ``pipelines.scoring.decide_attributions``, the very function that gives
entities.csv its attribution in ``sybilgraph resolve``: one set of rules, so without analyst
decisions the graph's ``ATTRIBUTED_TO`` equals entities.csv's ``org_id`` and confidence. This
module prepares what Cypher cannot do (fuzzy name matching with rapidfuzz), runs the
statements in order with their parameters, applies the analysts' decisions (CONFIRMED_ORG,
NOT_ORG), writes the result back, and reads results and decisions as frames.

Likelihood (is this entity a campaign?) comes from the pipeline's ``campaign_score`` and is never
used here: attribution answers only "whose is it?", with its own confidence.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np
import pandas as pd
from neo4j import Driver, ManagedTransaction

from pipelines.graph import with_retries
from pipelines.scoring import (  # noqa: F401  (the name matching is part of this module's API)
    HIT_COLUMNS,
    LEGAL_FORM_WORDS,
    MIN_KEY_CHARS,
    NAME_MATCH_COLUMNS,
    USAGE_COLUMNS,
    AttributionResult,
    AttributionSettings,
    comparison_key,
    decide_attributions,
    match_names,
    organization_name_variants,
    similar_billing_names,
    similar_declared_orgs,
)


# ----------------------------------------------------------------------------- Cypher plumbing


def query_text(name: str) -> str:
    """The text of ``graph_schema/queries/<name>.cypher`` (one statement per file)."""
    from pipelines.neo4j_client import load_cypher

    return load_cypher(name, folder="queries")


def run_query(runner: Driver | ManagedTransaction, name: str, database: str | None = None,
              **params: Any) -> list[dict[str, Any]]:
    """Run one named, parameterised statement and return its rows as dicts.

    ``runner`` is a driver (an auto-committed query of its own) or an open transaction
    (``database`` is then the transaction's).
    """
    if isinstance(runner, Driver):
        records, _, _ = runner.execute_query(query_text(name), parameters_=params, database_=database)
        return [record.data() for record in records]
    return runner.run(query_text(name), params).data()


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


# ----------------------------------------------------------------------------- writes


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _rows(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    plain = frame[columns].astype(object).where(frame[columns].notna(), None)
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in plain.to_dict("records")
    ]


def _write_rows(
    driver: Driver | ManagedTransaction, statement: str, frame: pd.DataFrame, columns: list[str], updated_at: datetime,
    database: str | None, batch_rows: int,
) -> int:
    written = 0
    for start in range(0, len(frame), batch_rows):
        batch = _rows(frame.iloc[start:start + batch_rows], columns)
        result = run_query(driver, statement, database=database, rows=batch, updated_at=updated_at)
        written += int(next(iter(result[0].values()))) if result else 0
    return written


def write_similar_billing_names(
    driver: Driver | ManagedTransaction, frame: pd.DataFrame, updated_at: datetime | None = None,
    database: str | None = None, batch_rows: int = 5_000,
) -> int:
    """Write ``(:BillingName)-[:SIMILAR_BILLING_NAME {similarity, matched}]->(:Organization)``."""
    return _write_rows(
        driver, "attribution_write_similar_billing_names", frame, ["name_norm", *NAME_MATCH_COLUMNS],
        updated_at or _now(), database, batch_rows,
    )


def write_declared_org_matches(
    driver: Driver | ManagedTransaction, frame: pd.DataFrame, updated_at: datetime | None = None,
    database: str | None = None, batch_rows: int = 1_000,
) -> int:
    """Write ``(:Account)-[:DECLARED_ORG_MATCHES {similarity, matched}]->(:Organization)``."""
    return _write_rows(
        driver, "attribution_write_declared_org", frame, ["declared_org", *NAME_MATCH_COLUMNS],
        updated_at or _now(), database, batch_rows,
    )


# ----------------------------------------------------------------------------- the run

ATTRIBUTION_COLUMNS = [
    "entity_id", "org_id", "org_name", "confidence", "method", "evidence", "runner_up",
    "n_accounts", "campaign_score", "is_campaign",
]


def run_attribution(
    driver: Driver,
    updated_at: datetime | None = None,
    settings: AttributionSettings | None = None,
    database: str | None = None,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Attribute every entity: the statements an analyst would run, in order, then the result.

    1. IPs inside organizations' CIDRs; billing names and declared organizations resembling
       an organization (rapidfuzz here, written as relationships for Cypher to use);
    2. analyst confirmations (CONFIRMED_ORG) become attributions of confidence 1.0;
    3. the accounts carrying organizations' indicators (``attribution_indicator_hits``) and,
       for the entities the rules attribute with enough confidence, the infrastructure they
       share (``attribution_infra_usage``), weighed by ``scoring.decide_attributions`` with the
       analysts' NOT_ORG rejections -> CANDIDATE_ORG and ATTRIBUTED_TO;
    4. relationships from earlier runs that this run did not re-derive are deleted.
    ``updated_at`` marks everything this run writes (also the run's identity). All steps run
    in one write transaction, retried by the driver on transient errors and by
    :func:`pipelines.graph.with_retries` across a server restart: a failure leaves the
    previous attribution untouched, never half of a new one. Returns ``ATTRIBUTION_COLUMNS``,
    one row per attributed entity.
    """
    settings = settings or AttributionSettings()
    updated_at = updated_at or _now()

    def attribute(tx: ManagedTransaction) -> None:
        _attribute_in(tx, updated_at, settings)

    def attribute_atomically() -> None:
        with driver.session(database=database) as session:
            session.execute_write(attribute)

    with_retries(attribute_atomically, log=log)
    return read_attributions(driver, database=database)


def graph_evidence(tx: Driver | ManagedTransaction, updated_at: datetime,
                   database: str | None = None) -> tuple[pd.DataFrame, pd.Series, int]:
    """(indicator hits as ``HIT_COLUMNS``, accounts per entity, accounts in the graph) from
    ``attribution_indicator_hits``, once this run (``updated_at``) has matched networks and names."""
    rows = run_query(tx, "attribution_indicator_hits", database=database, updated_at=updated_at)
    frame = _frame(rows, [*HIT_COLUMNS, "entity_size", "population"])
    sizes = frame.drop_duplicates("entity_id").set_index("entity_id")["entity_size"].astype("int64")
    population = int(frame["population"].iloc[0]) if len(frame) else 0
    hits = frame[HIT_COLUMNS].astype({"similarity": "float64"})
    return hits, sizes, population


def graph_infrastructure_usage(tx: Driver | ManagedTransaction, sources: pd.DataFrame, settings: AttributionSettings,
                               database: str | None = None) -> pd.DataFrame:
    """``USAGE_COLUMNS`` from ``attribution_infra_usage`` for the source entities."""
    ids = sorted(sources["entity_id"].astype(str).unique())
    rows = run_query(tx, "attribution_infra_usage", database=database, sources=ids,
                     max_value_accounts=settings.max_value_accounts)
    return _frame(rows, USAGE_COLUMNS)


def decide_on_graph(tx: Driver | ManagedTransaction, updated_at: datetime, settings: AttributionSettings,
                    database: str | None = None) -> AttributionResult:
    """``scoring.decide_attributions`` on the graph's evidence and the analysts' decisions, once
    this run (``updated_at``) has matched networks and names: what ``run_attribution`` writes,
    computed without writing it."""
    hits, sizes, population = graph_evidence(tx, updated_at, database)
    decisions = _frame(run_query(tx, "read_org_decisions", database=database), ORG_DECISION_COLUMNS)
    return decide_attributions(
        hits, sizes, population, settings,
        infrastructure=lambda sources: graph_infrastructure_usage(tx, sources, settings, database),
        confirmed=decisions[decisions["kind"] == "confirmed_org"],
        rejected=decisions[decisions["kind"] == "not_org"],
    )


def _attribute_in(tx: ManagedTransaction, updated_at: datetime, settings: AttributionSettings) -> None:
    def run(name: str, **params: Any) -> list[dict[str, Any]]:
        return run_query(tx, name, updated_at=updated_at, **params)

    run("attribution_org_networks")
    organizations = _frame(
        run_query(tx, "attribution_read_organizations"),
        ["org_id", "name", "aliases", "email_domains", "asns", "cidrs", "billing_names"],
    )
    billing_names = _frame(run_query(tx, "attribution_read_billing_names"), ["name_norm", "n_payment_methods"])
    declared = _frame(run_query(tx, "attribution_read_declared_orgs"), ["declared_org", "n_accounts"])
    write_similar_billing_names(
        tx, similar_billing_names(billing_names, organizations, settings.name_similarity), updated_at=updated_at,
    )
    write_declared_org_matches(
        tx, similar_declared_orgs(declared, organizations, settings.name_similarity), updated_at=updated_at,
    )
    run("attribution_clear_candidates")
    run("attribution_confirmed")
    result = decide_on_graph(tx, updated_at, settings)
    _write_rows(tx, "attribution_write_candidates", result.candidates,
                ["entity_id", "org_id", "direct_logodds", "direct_evidence", "infra_logodds", "infra_evidence"],
                updated_at, None, 5_000)
    _write_rows(tx, "attribution_write", result.attributions,
                ["entity_id", "org_id", "confidence", "logodds", "method", "evidence", "runner_up"],
                updated_at, None, 5_000)
    run("attribution_delete_stale")


def read_attributions(driver: Driver, org_id: str | None = None, database: str | None = None) -> pd.DataFrame:
    """Current ``ATTRIBUTED_TO`` relationships as ``ATTRIBUTION_COLUMNS``."""
    rows = run_query(driver, "attribution_results", database=database, org_id=org_id)
    return _frame(rows, ATTRIBUTION_COLUMNS)


def settings_as_metadata(settings: AttributionSettings) -> dict[str, Any]:
    """Plain dict of the settings, for run metadata and reports."""
    return asdict(settings)


# ----------------------------------------------------------------------------- decisions

ACCOUNT_DECISION_KINDS = {"same_operator": "decide_same_operator", "not_same_operator": "decide_not_same_operator"}
ORG_DECISION_KINDS = {"confirmed_org": "decide_confirm_org", "not_org": "decide_not_org"}
ACCOUNT_DECISION_COLUMNS = ["kind", "account_a", "account_b", "analyst", "note", "decided_at"]
ORG_DECISION_COLUMNS = ["kind", "entity_id", "org_id", "analyst", "note", "decided_at"]


def _record_decision(
    driver: Driver, statements: dict[str, str], kind: str, database: str | None, missing: str, **params: Any
) -> dict[str, Any]:
    if kind not in statements:
        raise ValueError(f"decision kind {kind!r} is not one of {sorted(statements)}")
    rows = run_query(driver, statements[kind], database=database, **params)
    if not rows:
        raise LookupError(missing)
    return rows[0]


def record_account_decision(
    driver: Driver, kind: str, account_a: str, account_b: str,
    analyst: str | None = None, note: str | None = None, database: str | None = None,
) -> dict[str, Any]:
    """Record an analyst's same_operator / not_same_operator decision between two accounts."""
    return _record_decision(
        driver, ACCOUNT_DECISION_KINDS, kind, database,
        f"no two distinct accounts {account_a!r} and {account_b!r} in the graph",
        account_a=account_a, account_b=account_b, analyst=analyst, note=note,
    )


def record_org_decision(
    driver: Driver, kind: str, entity_id: str, org_id: str,
    analyst: str | None = None, note: str | None = None, database: str | None = None,
) -> dict[str, Any]:
    """Record an analyst's confirmed_org / not_org decision between an entity and an organization."""
    return _record_decision(
        driver, ORG_DECISION_KINDS, kind, database,
        f"entity {entity_id!r} or organization {org_id!r} is not in the graph",
        entity_id=entity_id, org_id=org_id, analyst=analyst, note=note,
    )


def _read_decisions(driver: Driver, statement: str, columns: list[str], database: str | None) -> pd.DataFrame:
    rows = run_query(driver, statement, database=database)
    for row in rows:
        row["decided_at"] = _to_python_datetime(row.get("decided_at"))
    return _frame(rows, columns)


#: relationships between accounts, entities and organizations that a pipeline step writes or
#: an analyst decision means, as (type, from label, to label); anything else is listed by
#: ``unknown_relationships``
KNOWN_RELATIONSHIPS = (
    ("RESOLVED_TO", "Account", "Entity"), ("LINKED", "Account", "Account"),
    ("DECLARED_ORG_MATCHES", "Account", "Organization"),
    ("CANDIDATE_ORG", "Entity", "Organization"), ("ATTRIBUTED_TO", "Entity", "Organization"),
    ("SAME_OPERATOR", "Account", "Account"), ("NOT_SAME_OPERATOR", "Account", "Account"),
    ("CONFIRMED_ORG", "Entity", "Organization"), ("NOT_ORG", "Entity", "Organization"),
)
UNKNOWN_RELATIONSHIP_COLUMNS = ["type", "from_label", "to_label", "relationships", "examples"]


def unknown_relationships(driver: Driver, database: str | None = None) -> pd.DataFrame:
    """Relationships among accounts, entities and organizations of no known type and direction
    (a mistyped or reversed analyst decision, which nothing reads): type, end labels, how many,
    up to five examples."""
    known = [":".join(t) for t in KNOWN_RELATIONSHIPS]
    return _frame(run_query(driver, "unknown_relationships", database=database, known=known),
                  UNKNOWN_RELATIONSHIP_COLUMNS)


def read_analyst_decisions(driver: Driver, database: str | None = None) -> pd.DataFrame:
    """Account decisions for the resolution core: ``kind`` is ``same_operator`` (must-link) or
    ``not_same_operator`` (cannot-link), with ``account_a < account_b``."""
    return _read_decisions(driver, "read_account_decisions", ACCOUNT_DECISION_COLUMNS, database)


def read_org_decisions(driver: Driver, database: str | None = None) -> pd.DataFrame:
    """Entity-organization decisions: ``kind`` is ``confirmed_org`` or ``not_org``."""
    return _read_decisions(driver, "read_org_decisions", ORG_DECISION_COLUMNS, database)


def _to_python_datetime(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value

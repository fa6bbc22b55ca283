"""Stage 7: attribute entities to organizations, in Cypher, the way an analyst would.

The scoring lives in ``graph_schema/queries/attribution_*.cypher`` so that the pipeline and an
analyst in the Neo4j Browser run exactly the same statements; this module only prepares what
Cypher cannot do (fuzzy name matching with rapidfuzz), runs the statements in order with their
parameters, and reads results and analyst decisions back as frames.

Likelihood (is this entity a campaign?) comes from the pipeline's ``campaign_score`` and is never
used here: attribution answers only "whose is it?", with its own confidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
from neo4j import Driver, ManagedTransaction
from rapidfuzz import fuzz, process

from pipelines.graph import with_retries
from pipelines.normalize import normalize_name

# Corporate-form words carry no identity: "Halcyon Research Ltd" and "Halcyon Research
# Limited" are the same legal name, so they are dropped before comparing.
LEGAL_FORM_WORDS = frozenset(
    "ltd limited inc incorporated llc llp lp plc gmbh mbh ag kg sa sas sarl srl spa bv nv pte pty "
    "co corp corporation company companies kk oy ab as aps kft sro zoo sp holdings group the".split()
)
#: shorter comparison keys match too much by chance ("ai", "lab")
MIN_KEY_CHARS = 4
_CDIST_CHUNK_ROWS = 20_000

NAME_MATCH_COLUMNS = ["org_id", "similarity", "matched"]


@dataclass(frozen=True)
class AttributionSettings:
    """Knobs of the attribution statements; each is passed to Cypher as a parameter.

    The defaults were chosen on hand-made cases and the ``tiny``/``demo`` worlds: a log-odds of
    about 3 is needed from the indicators before an entity is attributed at all.
    """

    #: rapidfuzz ratio (0..1) above which a billing name or declared organization "resembles"
    #: an organization's legal name, alias or name (one typo in a 15-letter name is about 0.93)
    name_similarity: float = 0.86
    #: log-odds weight per organization indicator kind, for an indicator seen only in this entity
    direct_weights: dict[str, float] = field(
        default_factory=lambda: {
            "email_domain": 2.5, "billing_name": 2.5, "asn": 2.0, "cidr": 1.5, "declared_org": 1.5,
        }
    )
    #: log-odds weight per kind of infrastructure shared with an already attributed entity
    infra_weights: dict[str, float] = field(
        default_factory=lambda: {"card": 3.0, "ip": 1.5, "template": 1.5, "user_agent": 0.75}
    )
    #: no single kind of evidence may contribute more than this
    max_kind_logodds: float = 4.0
    #: shared infrastructure as a whole may contribute at most this (it alone gives at most
    #: about 0.95 confidence with the default prior)
    max_infra_logodds: float = 6.0
    #: values used by more accounts than this are generic and never propagate an attribution
    max_value_accounts: int = 200
    #: a shared value propagates only if the attributed entity itself uses it with at least
    #: this many accounts (one account's template matching one stranger's is chance)
    min_source_accounts: dict[str, int] = field(
        default_factory=lambda: {"card": 1, "ip": 2, "template": 2, "user_agent": 2}
    )
    #: only attributions at least this sure propagate to entities sharing their infrastructure
    min_source_confidence: float = 0.8
    #: prior log-odds that an entity belongs to a given organization before any evidence
    prior_logodds: float = -3.0
    #: below this confidence an entity stays unattributed
    min_confidence: float = 0.6
    #: the best organization must beat the runner-up by this many log-odds
    min_margin: float = 1.0


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


# ----------------------------------------------------------------------------- fuzzy names


def comparison_key(values: pd.Series) -> pd.Series:
    """Normalised (lower case, no accents or punctuation, token-sorted) minus legal-form words."""
    normalised = normalize_name(values.astype("string"))
    return normalised.map(
        lambda v: " ".join(t for t in v.split() if t not in LEGAL_FORM_WORDS) if isinstance(v, str) else v
    ).astype("string")


def organization_name_variants(organizations: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """One row per (org_id, raw variant, comparison key) from the given name columns.

    ``name`` is a single value; ``aliases`` and ``billing_names`` are ``;``-separated lists.
    """
    parts = []
    for column in columns:
        if column not in organizations.columns:
            continue
        raw = organizations[column].astype("string").fillna("")
        listed = raw.str.split(";") if column != "name" else raw.map(lambda v: [v])
        parts.append(
            pd.DataFrame({"org_id": organizations["org_id"].astype("string"), "variant": listed})
            .explode("variant")
        )
    if not parts:
        return pd.DataFrame(columns=["org_id", "variant", "key"])
    variants = pd.concat(parts, ignore_index=True)
    variants["variant"] = variants["variant"].astype("string").str.strip()
    variants = variants[variants["variant"].fillna("") != ""].copy()
    variants["key"] = comparison_key(variants["variant"]).to_numpy()
    variants = variants[variants["key"].fillna("").str.len() >= MIN_KEY_CHARS]
    return variants.drop_duplicates(["org_id", "key"]).reset_index(drop=True)


def match_names(values: pd.Series, variants: pd.DataFrame, min_similarity: float) -> pd.DataFrame:
    """Best similarity of each value to each organization whose variants it resembles.

    Returns ``value_index`` (position in ``values``), ``org_id``, ``similarity`` (0..1) and
    ``matched`` (the organization's raw variant). Compared in chunks with ``process.cdist``.
    """
    columns = ["value_index", *NAME_MATCH_COLUMNS]
    keys = comparison_key(values.reset_index(drop=True))
    usable = np.flatnonzero(keys.fillna("").str.len().to_numpy() >= MIN_KEY_CHARS)
    if len(usable) == 0 or variants.empty:
        return pd.DataFrame(columns=columns)
    choices = variants["key"].tolist()
    found = []
    for start in range(0, len(usable), _CDIST_CHUNK_ROWS):
        rows = usable[start:start + _CDIST_CHUNK_ROWS]
        scores = process.cdist(
            keys.iloc[rows].tolist(), choices, scorer=fuzz.ratio,
            score_cutoff=min_similarity * 100.0, dtype=np.float32, workers=1,
        )
        hit_row, hit_col = np.nonzero(scores)
        found.append(
            pd.DataFrame(
                {
                    "value_index": rows[hit_row],
                    "org_id": variants["org_id"].to_numpy()[hit_col],
                    "similarity": scores[hit_row, hit_col].astype(np.float64) / 100.0,
                    "matched": variants["variant"].to_numpy()[hit_col],
                }
            )
        )
    hits = pd.concat(found, ignore_index=True)
    if hits.empty:
        return pd.DataFrame(columns=columns)
    best = hits.sort_values(["value_index", "org_id", "similarity"], ascending=[True, True, False])
    return best.drop_duplicates(["value_index", "org_id"]).reset_index(drop=True)[columns]


def similar_billing_names(
    billing_names_frame: pd.DataFrame, organizations: pd.DataFrame, min_similarity: float = 0.86
) -> pd.DataFrame:
    """Billing names resembling an organization's legal names, aliases or name.

    ``billing_names_frame`` has ``name_norm`` (the graph's BillingName key); ``organizations``
    is the organizations table (raw ``;``-separated lists). Returns ``name_norm, org_id,
    similarity, matched``: the rows of ``SIMILAR_BILLING_NAME``.
    """
    variants = organization_name_variants(organizations, ["billing_names", "aliases", "name"])
    names = billing_names_frame["name_norm"].astype("string").drop_duplicates().reset_index(drop=True)
    hits = match_names(names, variants, min_similarity)
    out = hits.assign(name_norm=names.to_numpy()[hits["value_index"].to_numpy(dtype=np.int64)])
    return out[["name_norm", *NAME_MATCH_COLUMNS]].reset_index(drop=True)


def similar_declared_orgs(
    declared_frame: pd.DataFrame, organizations: pd.DataFrame, min_similarity: float = 0.86
) -> pd.DataFrame:
    """Organizations typed at sign-up (``declared_org``, raw) resembling an organization.

    Returns ``declared_org, org_id, similarity, matched``: the rows of ``DECLARED_ORG_MATCHES``.
    """
    variants = organization_name_variants(organizations, ["name", "aliases", "billing_names"])
    declared = declared_frame["declared_org"].astype("string").drop_duplicates().reset_index(drop=True)
    hits = match_names(declared, variants, min_similarity)
    out = hits.assign(declared_org=declared.to_numpy()[hits["value_index"].to_numpy(dtype=np.int64)])
    return out[["declared_org", *NAME_MATCH_COLUMNS]].reset_index(drop=True)


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
    2. direct indicator scores per (entity, organization) -> CANDIDATE_ORG;
    3. analyst confirmations, then the first attribution from direct indicators;
    4. infrastructure shared with entities attributed in step 3 -> more CANDIDATE_ORG evidence,
       and the final attribution;
    5. relationships from earlier runs that this run did not re-derive are deleted.
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

    scoring = {"max_kind_logodds": settings.max_kind_logodds}
    deciding = {
        "prior_logodds": settings.prior_logodds,
        "min_confidence": settings.min_confidence,
        "min_margin": settings.min_margin,
    }
    run("attribution_clear_candidates")
    run("attribution_direct_candidates", weights=settings.direct_weights, **scoring)
    run("attribution_confirmed")
    run("attribution_write", **deciding)
    run(
        "attribution_infra_candidates", weights=settings.infra_weights,
        max_value_accounts=settings.max_value_accounts, max_infra_logodds=settings.max_infra_logodds,
        min_source_accounts=settings.min_source_accounts,
        min_source_confidence=settings.min_source_confidence, **scoring,
    )
    run("attribution_write", **deciding)
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


def read_analyst_decisions(driver: Driver, database: str | None = None) -> pd.DataFrame:
    """Account decisions for the resolution core: ``kind`` is ``same_operator`` (must-link) or
    ``not_same_operator`` (cannot-link), with ``account_a < account_b``."""
    return _read_decisions(driver, "read_account_decisions", ACCOUNT_DECISION_COLUMNS, database)


def read_org_decisions(driver: Driver, database: str | None = None) -> pd.DataFrame:
    """Entity-organization decisions: ``kind`` is ``confirmed_org`` or ``not_org``."""
    return _read_decisions(driver, "read_org_decisions", ORG_DECISION_COLUMNS, database)


def _to_python_datetime(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value

"""Asset checks. Blocking where a bad result would poison the graph downstream.

The contract-conformance check runs inside `raw_tables` (pipelines/assets/ingest.py), on the
frames it is about to store, instead of reading 1.6M stored exchange rows back in its own step.
"""


import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, AssetIn, Config, asset_check
from pydantic import Field

from pipelines import attribution, graph
from pipelines.resources import Neo4jResource


@asset_check(asset="contract_counts", blocking=True,
             description="Every row read is either accepted or quarantined: nothing silently lost.")
def rows_accounted_for(contract_counts: pd.DataFrame) -> AssetCheckResult:
    lost = contract_counts["rows_read"] - contract_counts["rows_accepted"] - contract_counts["rows_quarantined"]
    bad = contract_counts[lost != 0]
    return AssetCheckResult(
        passed=bad.empty,
        metadata={"rows_read": int(contract_counts["rows_read"].sum()),
                  "tables_unbalanced": ", ".join(bad["table"].astype(str)) or "none"},
    )


class QuarantineCheckConfig(Config):
    max_quarantine_share: float = Field(default=0.02, description="Largest tolerated share of quarantined rows.")


@asset_check(asset="quarantine", blocking=True, additional_ins={"contract_counts": AssetIn()},
             description="The quarantined share of input rows stays under a configurable threshold.")
def quarantine_share_below_threshold(config: QuarantineCheckConfig, quarantine: pd.DataFrame,
                                     contract_counts: pd.DataFrame) -> AssetCheckResult:
    read = int(contract_counts["rows_read"].sum())
    rejected = int(contract_counts["rows_quarantined"].sum())
    share = rejected / read if read else 0.0
    reasons = quarantine["reason"].astype(str).value_counts().head(10) if len(quarantine) else pd.Series(dtype=int)
    return AssetCheckResult(
        passed=share <= config.max_quarantine_share,
        metadata={"quarantined_rows": rejected, "rows_read": read, "quarantined_share": round(share, 6),
                  "threshold": config.max_quarantine_share,
                  "top_reasons": reasons.to_markdown() if len(reasons) else "none"},
    )


@asset_check(asset="account_entities", blocking=True, additional_ins={"normalized_accounts": AssetIn()},
             description="Every input account is in exactly one entity.")
def every_account_in_one_entity(account_entities: pd.DataFrame, normalized_accounts: pd.DataFrame) -> AssetCheckResult:
    ids = normalized_accounts["account_id"].astype(str)
    members = account_entities["account_id"].astype(str)
    missing = int((~ids.isin(members)).sum())
    duplicated = int(members.duplicated().sum())
    unknown = int((~members.isin(ids)).sum())
    return AssetCheckResult(
        passed=missing == 0 and duplicated == 0 and unknown == 0,
        metadata={"accounts": len(ids), "missing": missing, "in_several_entities": duplicated, "unknown": unknown},
    )


class EntitySizeCheckConfig(Config):
    size_cap: int = Field(default=500, description="Entities larger than this need strong evidence.")
    strong_score: float = Field(default=10.0, description="Link score (log2 Bayes factor) that counts as strong.")
    min_strong_share: float = Field(default=0.5, description="Share of a large entity's members that need a strong link.")


@asset_check(asset="entities", blocking=True,
             additional_ins={"merge_links": AssetIn(), "account_entities": AssetIn()},
             description="No entity above the size cap unless most of its members carry a strong link.")
def large_entities_have_strong_evidence(config: EntitySizeCheckConfig, entities: pd.DataFrame,
                                        merge_links: pd.DataFrame, account_entities: pd.DataFrame) -> AssetCheckResult:
    large = entities.loc[entities["n_accounts"] > config.size_cap, "entity_id"].astype(str)
    strong = merge_links.loc[merge_links["score"] >= config.strong_score]
    strong_accounts = pd.Index(pd.concat([strong["account_a"], strong["account_b"]]).astype(str).unique())
    members = account_entities[account_entities["entity_id"].astype(str).isin(large)]
    share = members.assign(strong=members["account_id"].astype(str).isin(strong_accounts)).groupby("entity_id")["strong"].mean()
    weak = share[share < config.min_strong_share]
    return AssetCheckResult(
        passed=weak.empty,
        severity=AssetCheckSeverity.ERROR,
        metadata={"entities_above_cap": len(large), "largest": int(entities["n_accounts"].max()) if len(entities) else 0,
                  "weakly_held": ", ".join(f"{e} ({s:.0%})" for e, s in weak.items()) or "none"},
    )


@asset_check(asset="neo4j_graph", blocking=True,
             description="After the load, Neo4j holds exactly what the frames say: accounts, entities, memberships, links.")
def neo4j_counts_match_frames(neo4j_graph: pd.DataFrame, neo4j: Neo4jResource) -> AssetCheckResult:
    row = neo4j_graph.iloc[0]
    expected = {k: int(v) for k, v in row.items() if k != "load_token"}
    actual = graph.graph_counts(neo4j.driver, load_token=str(row["load_token"]))
    diff = {k: (expected[k], actual.get(k)) for k in expected if expected[k] != actual.get(k)}
    return AssetCheckResult(
        passed=not diff,
        metadata={"expected": expected, "actual": actual,
                  "mismatches": ", ".join(f"{k}: frames {e} vs graph {a}" for k, (e, a) in diff.items()) or "none"},
    )


@asset_check(asset="analyst_decisions", blocking=False,
             description="Every relationship between accounts, entities and organizations is one the pipeline "
                         "writes or a known analyst decision, drawn the right way (a mistyped one is read by nothing).")
def decisions_are_known_relationships(neo4j: Neo4jResource) -> AssetCheckResult:
    unknown = attribution.unknown_relationships(neo4j.driver)
    listed = [f"{r.type} ({r.from_label} -> {r.to_label}): {r.relationships}, e.g. {'; '.join(r.examples)}"
              for r in unknown.itertuples()]
    return AssetCheckResult(
        passed=unknown.empty,
        severity=AssetCheckSeverity.WARN,
        metadata={"unknown_relationships": int(unknown["relationships"].sum()) if len(unknown) else 0,
                  "listed": "\n".join(listed) or "none",
                  "known": ", ".join(f"{t} ({a} -> {b})" for t, a, b in attribution.KNOWN_RELATIONSHIPS)},
    )


CHECKS = [
    rows_accounted_for,
    quarantine_share_below_threshold,
    every_account_in_one_entity,
    large_entities_have_strong_evidence,
    neo4j_counts_match_frames,
    decisions_are_known_relationships,
]

"""Normalised tables, behavioural features, candidate pairs, scored links and entities.

Each asset is a thin call into a stage module; the frames are stored as Parquet by the IO
manager so a failed run resumes from the last good asset.
"""


import re
from collections import Counter

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, AssetOut, Output, multi_asset

from pathlib import Path

from dagster import MetadataValue, asset

from pipelines import features, links, normalize, resolve, scoring
from pipelines.assets.config import ResolutionSettings, prompt_cache_dir
from pipelines.assets.ingest import RAW_TABLES, contract_inputs
from pipelines.assets.metadata import bar_chart_md, frame_metadata, timed
from pipelines.saved_model import score_with_saved_model

NORMALIZED_TABLES = RAW_TABLES
FEATURE_FRAMES = ["account_features", "account_templates", "prompt_templates", "ip_hours"]


def normalized_from(frames: dict[str, pd.DataFrame]) -> normalize.NormalizedTables:
    """Stored ``normalized_*`` frames back into the stage module's bundle."""
    return normalize.NormalizedTables(**{name: frames[f"normalized_{name}"] for name in NORMALIZED_TABLES})


@multi_asset(
    ins={f"raw_{name}": AssetIn() for name in RAW_TABLES},
    outs={f"normalized_{name}": AssetOut(description=f"`{name}` with normalised columns.") for name in NORMALIZED_TABLES},
    group_name="normalize",
)
def normalized_tables(context: AssetExecutionContext, **raw: pd.DataFrame):
    with timed() as took:
        norm = normalize.normalize_inputs(contract_inputs({name: raw[f"raw_{name}"] for name in RAW_TABLES}))
    for name, frame in norm.as_dict().items():
        yield Output(frame, output_name=f"normalized_{name}", metadata=frame_metadata(frame, took[0]))


@multi_asset(
    ins={f"normalized_{name}": AssetIn() for name in NORMALIZED_TABLES},
    outs={
        "account_features": AssetOut(description="One row per account: timing, task mix, tokens, models, client, network mix."),
        "account_templates": AssetOut(description="Exchanges per (account, prompt template)."),
        "prompt_templates": AssetOut(description="Prompt templates found by MinHash/LSH over masked prompts."),
        "ip_hours": AssetOut(description="Distinct (account, IP, hour) from log-ins and API traffic."),
        "weekly_activity": AssetOut(description="Exchanges per account and week by task category (coding, reasoning, tool use, CoT)."),
    },
    group_name="features",
)
def account_fingerprints(context: AssetExecutionContext, **frames: pd.DataFrame):
    # per-prompt signatures persist between runs: the daily run only tokenises new texts
    memo = features.PromptMemo(prompt_cache_dir(), workers=2)
    with timed() as took:
        try:
            feats = features.account_features(normalized_from(frames), memo=memo)
        finally:
            memo.close()
        memo.save()
    outputs = {
        "account_features": feats.accounts,
        "account_templates": feats.account_templates,
        "prompt_templates": feats.templates,
        "ip_hours": feats.ip_hours,
        "weekly_activity": feats.weekly_activity,
    }
    for name, frame in outputs.items():
        meta = frame_metadata(frame, took[0])
        if name == "account_features":
            meta.update(prompts_computed=memo.n_computed, prompts_reused=memo.n_reused)
        yield Output(frame, output_name=name, metadata=meta)


def features_from(frames: dict[str, pd.DataFrame]) -> features.AccountFeatures:
    return features.AccountFeatures(
        accounts=frames["account_features"],
        account_templates=frames["account_templates"],
        templates=frames["prompt_templates"],
        ip_hours=frames["ip_hours"],
    )


_NORM_INS = {f"normalized_{name}": AssetIn() for name in NORMALIZED_TABLES}
_FEATURE_INS = {name: AssetIn() for name in FEATURE_FRAMES}


def _split(frames: dict[str, pd.DataFrame]) -> tuple[normalize.NormalizedTables, features.AccountFeatures]:
    return normalized_from(frames), features_from(frames)


@asset(ins={**_NORM_INS, **_FEATURE_INS}, group_name="links",
       description="Account pairs that share a blocking key (never all pairs).")
def candidate_pairs(context: AssetExecutionContext, resolution: ResolutionSettings, **frames: pd.DataFrame) -> Output:
    norm, feats = _split(frames)
    with timed() as took:
        pairs = links.candidate_pairs(norm, feats, resolution.resolution_config())
    meta = frame_metadata(pairs, took[0])
    if "blockers" in pairs.columns and len(pairs):
        counts = pairs["blockers"].astype(str).str.split(",").explode().value_counts()
        meta["pairs_by_blocker"] = bar_chart_md(counts, "candidate pairs by blocking key", "blocker", log_y=True)
    return Output(pairs, metadata=meta)


@asset(ins={"candidate_pairs": AssetIn(), **_NORM_INS, **_FEATURE_INS}, group_name="links",
       description="Fellegi-Sunter scores with EM-estimated m/u (re-estimated every `refit_days`, reused in between) "
                   "and term-frequency adjustment; evidence per pair.")
def scored_links(context: AssetExecutionContext, resolution: ResolutionSettings, candidate_pairs: pd.DataFrame,
                 **frames: pd.DataFrame) -> Output:
    norm, feats = _split(frames)
    with timed() as took:
        scored, why = score_with_saved_model(
            resolution.parameters_path, resolution.refit_days,
            lambda saved: links.score_pairs(candidate_pairs, norm, feats, resolution.resolution_config(), reuse=saved))
    context.log.info(f"Fellegi-Sunter model {why}")
    meta = frame_metadata(scored, took[0])
    meta["fellegi_sunter_model"] = MetadataValue.text(why)
    params = scored.attrs.pop("parameters", None)
    if params is not None and len(params):
        table = pd.DataFrame(params)  # m and u per evidence kind and level, as estimated by EM
        meta["fellegi_sunter_parameters"] = MetadataValue.md(table.round(4).to_markdown(index=False))
    kinds = evidence_kind_counts(scored)
    if len(kinds):
        meta["evidence_kinds"] = bar_chart_md(kinds, "evidence items by kind", "kind", log_y=True)
    scored.attrs.clear()
    return Output(scored, metadata=meta)


EVIDENCE_KIND = re.compile(r'"kind":\s*"([^"]+)"')


def evidence_kind_counts(scored: pd.DataFrame) -> pd.Series:
    """How often each evidence kind appears across scored pairs (for the UI plot).

    One regex pass over the joined evidence texts: a per-row ``str.findall`` + ``explode``
    cost ~3x the CPU at demo size (0.9M pairs) for a metadata chart.
    """
    if scored.empty:
        return pd.Series(dtype=int)
    counts = Counter(EVIDENCE_KIND.findall("\n".join(scored["evidence"].astype(str).tolist())))
    return pd.Series(counts, dtype="int64").sort_values(ascending=False, kind="stable")


@asset(ins={"scored_links": AssetIn(), "normalized_accounts": AssetIn(), "analyst_decisions": AssetIn()},
       group_name="resolve",
       description="Every account in exactly one entity; ids stable against the previous results folder.")
def account_entities(context: AssetExecutionContext, resolution: ResolutionSettings, scored_links: pd.DataFrame,
                     normalized_accounts: pd.DataFrame, analyst_decisions: pd.DataFrame) -> Output:
    with timed() as took:
        clusters = resolve.cluster_accounts(
            scored_links, normalized_accounts, analyst_decisions if len(analyst_decisions) else None,
            resolution.resolution_config(),
        )
        previous = resolution.previous_account_entities()
        members = resolve.assign_entity_ids(clusters, previous)
    sizes = members.groupby("entity_id").size()
    meta = frame_metadata(members, took[0])
    meta["entities"] = MetadataValue.int(len(sizes))
    meta["largest_entity"] = MetadataValue.int(int(sizes.max()) if len(sizes) else 0)
    meta["analyst_decisions_applied"] = MetadataValue.int(len(analyst_decisions))
    meta["previous_results_used"] = MetadataValue.bool(previous is not None)
    meta["entity_size_histogram"] = bar_chart_md(entity_size_histogram(sizes), "entities by size", "accounts per entity", log_y=True)
    return Output(members, metadata=meta)


def entity_size_histogram(sizes: pd.Series) -> pd.Series:
    bins = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10**9]
    labels = ["1", "2", "3", "4-5", "6-10", "11-20", "21-50", "51-100", "101-200", "201-500", "501-1000", "1001-5000", ">5000"]
    cut = pd.cut(sizes, bins=bins, labels=labels)
    return cut.value_counts().reindex(labels).fillna(0).astype(int)


@asset(ins={"account_entities": AssetIn(), **_NORM_INS, **_FEATURE_INS}, group_name="resolve",
       description="Per entity: size, campaign score and flag, first attribution from organization indicators.")
def entities(context: AssetExecutionContext, account_entities: pd.DataFrame, **frames: pd.DataFrame) -> Output:
    norm, feats = _split(frames)
    with timed() as took:
        scored = scoring.entity_scores(account_entities, norm, feats, norm.organizations)
    meta = frame_metadata(scored, took[0])
    meta["campaign_entities"] = MetadataValue.int(int(scored["is_campaign"].sum()))
    meta["campaign_accounts"] = MetadataValue.int(int(scored.loc[scored["is_campaign"], "n_accounts"].sum()))
    if "campaign_cut" in scored.attrs:
        meta["campaign_score_cut"] = MetadataValue.float(float(scored.attrs["campaign_cut"]))
    scored.attrs.clear()
    return Output(scored, metadata=meta)


@asset(ins={"scored_links": AssetIn(), "account_entities": AssetIn()}, group_name="resolve",
       description="The scored pairs that justified a merge (the contract's links.csv).")
def merge_links(context: AssetExecutionContext, resolution: ResolutionSettings, scored_links: pd.DataFrame,
                account_entities: pd.DataFrame) -> Output:
    out = resolve.links_for_output(scored_links, account_entities, resolution.resolution_config())
    return Output(out, metadata=frame_metadata(out))

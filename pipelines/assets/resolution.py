"""Normalised tables, behavioural features, candidate pairs, scored links and entities.

Each asset is a thin call into a stage module; the frames are stored as Parquet by the IO
manager so a failed run resumes from the last good asset. Blocking, scoring, clustering,
entity ids, entity scores and merge links are one multi-asset (``entity_resolution``) that
runs ``resolve.resolve_accounts``, the chain ``sybilgraph resolve`` runs too: a change to
scoring or clustering reaches both.
"""


import re
from collections import Counter

import pandas as pd
import pyarrow as pa
from dagster import AssetExecutionContext, AssetIn, AssetKey, AssetOut, MetadataValue, Output, multi_asset

from pipelines import features, normalize, resolve
from pipelines.assets.config import ResolutionSettings, prompt_cache_dir
from pipelines.assets.ingest import RAW_TABLES, contract_inputs
from pipelines.assets.metadata import bar_chart_md, frame_metadata, timed

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
        inputs = contract_inputs({name: raw[f"raw_{name}"] for name in RAW_TABLES})
        resolve.sort_accounts(inputs)  # as `sybilgraph resolve` does: results independent of row order
        norm = normalize.normalize_inputs(inputs)
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


@multi_asset(
    ins={**_NORM_INS, **_FEATURE_INS, "analyst_decisions": AssetIn()},
    outs={
        "candidate_pairs": AssetOut(
            group_name="links", description="Account pairs that share a blocking key (never all pairs), with the blockers."),
        "scored_links": AssetOut(
            group_name="links",
            description="Fellegi-Sunter score and match probability per candidate pair, with EM-estimated m/u "
                        "(re-estimated every `refit_days`, reused in between), term-frequency adjustment and the "
                        "comparison level per kind (lvl_<kind>); account codes a, b and ids. Evidence text only "
                        "for the merge links."),
        "account_entities": AssetOut(
            group_name="resolve",
            description="Every account in exactly one entity; ids stable against the previous results folder."),
        "entities": AssetOut(
            group_name="resolve",
            description="Per entity: size, campaign score and flag, first attribution from organization indicators."),
        "merge_links": AssetOut(
            group_name="resolve",
            description="The scored pairs that justified a merge, with their evidence (the contract's links.csv)."),
    },
    # the lineage the chain has inside (what the UI draws), not "every output from every input"
    internal_asset_deps={
        "candidate_pairs": {AssetKey(name) for name in [*_NORM_INS, *_FEATURE_INS]},
        "scored_links": {AssetKey(name) for name in ["candidate_pairs", *_NORM_INS, *_FEATURE_INS]},
        "account_entities": {AssetKey("scored_links"), AssetKey("normalized_accounts"), AssetKey("analyst_decisions")},
        "entities": {AssetKey(name) for name in ["account_entities", *_NORM_INS, *_FEATURE_INS]},
        "merge_links": {AssetKey("scored_links"), AssetKey("account_entities")},
    },
    description="The resolution chain, `resolve.resolve_accounts` (the one `sybilgraph resolve` runs too): "
                "blocking, Fellegi-Sunter scoring, clustering, stable entity ids, entity scores, merge links.",
)
def entity_resolution(context: AssetExecutionContext, resolution: ResolutionSettings, analyst_decisions: pd.DataFrame,
                      **frames: pd.DataFrame):
    norm, feats = _split(frames)
    previous = resolution.previous_account_entities(log=context.log.warning)
    config = resolution.resolution_config()
    res = resolve.resolve_accounts(
        norm, feats, config,
        decisions=analyst_decisions if len(analyst_decisions) else None, previous=previous,
        model_path=resolution.parameters_path, refit_days=resolution.refit_days,
        log=context.log.debug, keep_pairs=True)
    context.log.info(f"Fellegi-Sunter model {res.model}")
    took = res.timings

    pairs = res.candidates
    res.candidates = None
    meta = frame_metadata(pairs, took["candidates"])
    if "blockers" in pairs.columns and len(pairs):
        counts = pairs["blockers"].astype(str).str.split(",").explode().value_counts()
        meta["pairs_by_blocker"] = bar_chart_md(counts, "candidate pairs by blocking key", "blocker", log_y=True)
    pairs.attrs.clear()
    yield Output(pairs, output_name="candidate_pairs", metadata=meta)
    del pairs

    scored = with_account_ids(res.scored, res.codes)
    res.scored = None
    meta = frame_metadata(scored, took["score_pairs"])
    meta["fellegi_sunter_model"] = MetadataValue.text(res.model)
    if len(res.parameters):  # m and u per evidence kind and level, as estimated by EM
        meta["fellegi_sunter_parameters"] = MetadataValue.md(res.parameters.round(4).to_markdown(index=False))
    kinds = evidence_kind_counts(scored, config.match_probability)
    if len(kinds):
        meta["evidence_kinds"] = bar_chart_md(kinds, "evidence items by kind (accepted pairs)", "kind", log_y=True)
    scored.attrs.clear()
    yield Output(scored, output_name="scored_links", metadata=meta)
    del scored

    members = res.account_entities
    sizes = members.groupby("entity_id").size()
    meta = frame_metadata(members, took["cluster"] + took.get("profiles", 0.0) + took["entity_ids"])
    meta["entities"] = MetadataValue.int(len(sizes))
    meta["groups_split_off"] = MetadataValue.int(res.groups_split)
    meta["fragments_attached"] = MetadataValue.int(res.fragments_attached)
    meta["largest_entity"] = MetadataValue.int(int(sizes.max()) if len(sizes) else 0)
    meta["analyst_decisions_applied"] = MetadataValue.int(len(analyst_decisions))
    meta["previous_results_used"] = MetadataValue.bool(previous is not None)
    meta["entity_size_histogram"] = bar_chart_md(entity_size_histogram(sizes), "entities by size", "accounts per entity", log_y=True)
    yield Output(members, output_name="account_entities", metadata=meta)

    scored_entities = res.entities
    meta = frame_metadata(scored_entities, took["entity_scores"])
    meta["campaign_entities"] = MetadataValue.int(int(scored_entities["is_campaign"].sum()))
    meta["campaign_accounts"] = MetadataValue.int(int(scored_entities.loc[scored_entities["is_campaign"], "n_accounts"].sum()))
    if "campaign_cut" in scored_entities.attrs:
        meta["campaign_score_cut"] = MetadataValue.float(float(scored_entities.attrs["campaign_cut"]))
    scored_entities.attrs.clear()
    yield Output(scored_entities, output_name="entities", metadata=meta)

    with timed() as text_took:
        out = res.links_with_evidence()
    res.release_evidence()
    yield Output(out, output_name="merge_links", metadata=frame_metadata(out, took["links"] + text_took[0]))


def with_account_ids(scored: pd.DataFrame, codes: pd.Index) -> pd.DataFrame:
    """The scored pairs with the account ids of their codes a, b in front (account_a, account_b)."""
    ids = pa.array(pd.Index(codes).astype("string").to_numpy(dtype=object), pa.large_string())
    text = {side: pd.array(ids.take(pa.array(scored[code].to_numpy())), dtype="string")
            for side, code in (("account_a", "a"), ("account_b", "b"))}
    out = pd.DataFrame(text, index=scored.index)
    return pd.concat([out, scored], axis=1)


EVIDENCE_KIND = re.compile(r'"kind":\s*"([^"]+)"')


def evidence_kind_counts(scored: pd.DataFrame, match_probability: float | None = None) -> pd.Series:
    """How often each evidence kind appears across the explained pairs (for the UI plot).

    A pair's explanation lists every kind whose comparison level is above 0, so on the lean
    scored frame (lvl_<kind> columns) the count per kind is the number of accepted pairs
    (match probability >= ``match_probability``) with that level above 0: the same numbers the
    evidence text of those pairs would give, without building it. A frame with an evidence
    column (merge links) is counted in its text, in one regex pass over the joined texts (a
    per-row ``str.findall`` + ``explode`` cost ~3x the CPU).
    """
    if scored.empty:
        return pd.Series(dtype=int)
    if "evidence" in scored:
        counts = Counter(EVIDENCE_KIND.findall("\n".join(scored["evidence"].astype(str).tolist())))
        return pd.Series(counts, dtype="int64").sort_values(ascending=False, kind="stable")
    rows = slice(None)
    if match_probability is not None:
        rows = scored["match_probability"].to_numpy() >= match_probability
    counts = {col[len("lvl_"):]: int((scored[col].to_numpy()[rows] > 0).sum()) for col in scored if col.startswith("lvl_")}
    series = pd.Series(counts, dtype="int64")
    return series[series > 0].sort_values(ascending=False, kind="stable")


def entity_size_histogram(sizes: pd.Series) -> pd.Series:
    bins = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10**9]
    labels = ["1", "2", "3", "4-5", "6-10", "11-20", "21-50", "51-100", "101-200", "201-500", "501-1000", "1001-5000", ">5000"]
    cut = pd.cut(sizes, bins=bins, labels=labels)
    return cut.value_counts().reindex(labels).fillna(0).astype(int)

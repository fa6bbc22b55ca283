"""Normalised tables, behavioural features, candidate pairs, scored links and entities.

Each asset is a thin call into a stage module; the frames are stored as Parquet by the IO
manager so a failed run resumes from the last good asset.
"""

from __future__ import annotations

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, AssetOut, Output, multi_asset

from pipelines import features, normalize
from pipelines.assets.ingest import RAW_TABLES, contract_inputs
from pipelines.assets.metadata import frame_metadata, timed

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
    },
    group_name="features",
)
def account_fingerprints(context: AssetExecutionContext, **frames: pd.DataFrame):
    with timed() as took:
        feats = features.account_features(normalized_from(frames))
    outputs = {
        "account_features": feats.accounts,
        "account_templates": feats.account_templates,
        "prompt_templates": feats.templates,
        "ip_hours": feats.ip_hours,
    }
    for name, frame in outputs.items():
        yield Output(frame, output_name=name, metadata=frame_metadata(frame, took[0]))

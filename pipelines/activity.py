"""Exchanges per account and ISO week, split by task category, for dossiers and case files.

Analysts ask "what was this entity doing, and when": the same task flags as the features
stage, computed for each distinct prompt text once and broadcast to its exchanges. Flags
need only tokenising and the vocabulary check (``features.task_flags``), not the signature
hashing; with ``cache_dir`` they come from the prompt memo the resolution run filled.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.features import FLAG_NAMES, TASK_WORDS, PromptMemo, task_flags

TASK_CATEGORIES = list(TASK_WORDS)  # coding, reasoning, tool_use, cot
ACTIVITY_COLUMNS = ["account_id", "week", "n", *[f"n_{c}" for c in TASK_CATEGORIES]]


def _iso_week_monday(ts: pd.Series) -> np.ndarray:
    """Monday of the ISO week as YYYY-MM-DD text, formatted once per distinct week."""
    days = pd.to_datetime(ts, utc=True).dt.as_unit("us").astype("int64").to_numpy() // 86_400_000_000
    monday = days - (days + 3) % 7  # 1970-01-01 was a Thursday
    uniq, inv = np.unique(monday, return_inverse=True)
    text = pd.to_datetime(uniq, unit="D").strftime("%Y-%m-%d").to_numpy(dtype=object)
    return text[inv.ravel()]


def weekly_activity(exchanges: pd.DataFrame, cache_dir: Path | str | None = None) -> pd.DataFrame:
    """One row per (account_id, week): exchanges in total and per task category.

    ``week`` is the Monday of the ISO week as ``YYYY-MM-DD`` text. Tool use also counts
    requests that made tool calls, whatever their text.
    """
    if exchanges.empty:
        return pd.DataFrame({c: pd.Series([], dtype="string" if c in ("account_id", "week") else np.int64) for c in ACTIVITY_COLUMNS})
    prompts = pa.array(exchanges["prompt"], type=pa.large_string())
    if isinstance(prompts, pa.ChunkedArray):  # frames read back from multi-row-group Parquet
        prompts = prompts.combine_chunks()
    encoded = pc.dictionary_encode(prompts)
    if cache_dir is not None:
        memo = PromptMemo(cache_dir)
        packed = memo.lookup(encoded.dictionary)[1]
        memo.save()
    else:
        packed = task_flags(encoded.dictionary)
    indices = np.asarray(encoded.indices.fill_null(-1)).astype(np.int64)
    row_flags = np.where(indices >= 0, packed[np.maximum(indices, 0)] if len(packed) else 0, 0).astype(np.uint8)
    frame = pd.DataFrame({"account_id": exchanges["account_id"].astype("string").to_numpy()})
    frame["week"] = _iso_week_monday(exchanges["ts"])
    frame["n"] = 1
    tool_calls = exchanges["tool_calls"].to_numpy(dtype=np.int64, na_value=0)
    for name in TASK_CATEGORIES:
        flag = (row_flags >> np.uint8(FLAG_NAMES.index(name))) & np.uint8(1) > 0
        if name == "tool_use":
            flag = flag | (tool_calls > 0)
        frame[f"n_{name}"] = flag.astype(np.int64)
    out = frame.groupby(["account_id", "week"], observed=True, sort=True).sum().reset_index()
    return out.astype({"account_id": "string", "week": "string"})

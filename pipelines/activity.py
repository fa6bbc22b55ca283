"""Exchanges per account and ISO week, split by task category, for dossiers and case files.

Analysts ask "what was this entity doing, and when": the same task flags as the features
stage (``prompt_signatures``), computed for each distinct prompt once and broadcast to its exchanges.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.features import TASK_WORDS, prompt_signatures

TASK_CATEGORIES = list(TASK_WORDS)  # coding, reasoning, tool_use, cot
ACTIVITY_COLUMNS = ["account_id", "week", "n", *[f"n_{c}" for c in TASK_CATEGORIES]]


def weekly_activity(exchanges: pd.DataFrame) -> pd.DataFrame:
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
    flags = prompt_signatures(encoded.dictionary).flags
    indices = np.asarray(encoded.indices.fill_null(-1)).astype(np.int64)
    frame = pd.DataFrame({"account_id": exchanges["account_id"].astype("string").to_numpy()})
    ts = pd.to_datetime(exchanges["ts"], utc=True)
    frame["week"] = (ts.dt.normalize() - pd.to_timedelta(ts.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d").to_numpy()
    frame["n"] = 1
    tool_calls = exchanges["tool_calls"].to_numpy(dtype=np.int64, na_value=0)
    for name in TASK_CATEGORIES:
        per_prompt = flags[name]
        flag = np.where(indices >= 0, per_prompt[np.maximum(indices, 0)], False) if len(per_prompt) else np.zeros(len(frame), bool)
        if name == "tool_use":
            flag = flag | (tool_calls > 0)
        frame[f"n_{name}"] = flag.astype(np.int64)
    out = frame.groupby(["account_id", "week"], observed=True, sort=True).sum().reset_index()
    return out.astype({"account_id": "string", "week": "string"})

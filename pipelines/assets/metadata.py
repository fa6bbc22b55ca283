"""Metadata every asset attaches: row counts, a preview, time taken, and small plots."""


import base64
import hashlib
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from dagster import MetadataValue

PREVIEW_ROWS = 5


def frame_metadata(frame: pd.DataFrame, seconds: float | None = None) -> dict[str, object]:
    meta: dict[str, object] = {
        "rows": MetadataValue.int(len(frame)),
        "columns": MetadataValue.int(frame.shape[1]),
        "preview": MetadataValue.md(_preview(frame)),
    }
    if seconds is not None:
        meta["seconds"] = MetadataValue.float(round(seconds, 3))
    return meta


#: text columns a preview shows as they are: identifiers and the pipeline's own vocabulary;
#: every other text (e-mails, phones, names, addresses, IPs, prompts, user agents) is shown as
#: a short hash, so the Dagster UI (no authentication in Dagster OSS) shows no personal data
PLAIN_TEXT_COLUMNS = frozenset({
    "account_a", "account_b", "kind", "table", "column", "reason", "file", "network_type", "event",
    "match_type", "level_name", "method", "decision",
})


def _is_plain(column: str) -> bool:
    return column in PLAIN_TEXT_COLUMNS or column.endswith("_id")


def _masked(values: pd.Series) -> pd.Series:
    """'#' + the first 8 hex digits of blake2b: equal values stay recognisably equal."""
    return values.astype("string").map(
        lambda v: v if pd.isna(v) else "#" + hashlib.blake2b(str(v).encode(), digest_size=4).hexdigest())


def _preview(frame: pd.DataFrame) -> str:
    head = frame.head(PREVIEW_ROWS).copy()
    for col in head.columns:
        if head[col].dtype == object or str(head[col].dtype).startswith(("string", "str")):
            # long prompts and evidence lists would swamp the UI
            head[col] = head[col].astype("string").str.slice(0, 80) if _is_plain(str(col)) else _masked(head[col])
    return head.to_markdown(index=False)


@contextmanager
def timed() -> Iterator[list[float]]:
    """``with timed() as t: ...`` then ``t[0]`` holds the seconds taken."""
    box = [0.0]
    start = time.perf_counter()
    try:
        yield box
    finally:
        box[0] = time.perf_counter() - start


def bar_chart_md(counts: pd.Series, title: str, xlabel: str, log_y: bool = False) -> MetadataValue:
    """A PNG bar chart embedded in Markdown, which the Dagster UI renders inline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.bar([str(i) for i in counts.index], counts.to_numpy(), color="#4C78A8")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if log_y:
        ax.set_yscale("log")
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    # fixed margins (room for rotated labels of ~20 characters): tight_layout drew every
    # chart twice, ~40% of its cost, on every run
    fig.subplots_adjust(left=0.12, right=0.98, top=0.9, bottom=0.34)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return MetadataValue.md(f"![{title}](data:image/png;base64,{encoded})")

"""Stage 8: a case file per campaign entity, for the analyst who has to defend the decision.

Each case holds the accounts, exchanges by task category, a weekly timeline plot, the
strongest evidence with how rare the shared value is, and the attribution with its
confidence and the indicators behind it. Markdown for the repository or a ticket, HTML
(same content) for a browser, PNG for the plot.
"""

from __future__ import annotations

import html
import json
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt

from pipelines.features import FLAG_NAMES as TASK_CATEGORIES

MAX_ACCOUNTS_LISTED = 40
MAX_EVIDENCE_LISTED = 12
MAX_WEEK_LABELS = 30
CASE_COLUMNS = ["entity_id", "markdown", "html", "timeline_png", "n_accounts", "org_id"]


def strongest_evidence(entity_links: pd.DataFrame) -> pd.DataFrame:
    """Evidence items of an entity's links, summed per (kind, value), strongest first.

    ``pairs`` is how many linked pairs of the entity share the value; the weight is
    already rarity-adjusted by the scoring stage, so a value shared platform-wide weighs
    little however many pairs carry it.
    """
    texts = [ev for ev in entity_links["evidence"].astype(str) if ev != "[]"]
    # one json.loads over all the pair lists (C speed) instead of one call and dict per item
    items = list(chain.from_iterable(json.loads("[" + ",".join(texts) + "]"))) if texts else []
    if not items:
        return pd.DataFrame(columns=["kind", "value", "pairs", "total_weight", "weight_per_pair"])
    frame = pd.DataFrame.from_records(items, columns=["kind", "value", "weight"])
    frame["kind"] = frame["kind"].astype(object)
    if not (pd.api.types.is_string_dtype(frame["value"]) and frame["value"].notna().all()):
        frame["value"] = [str(item["value"]) for item in items]  # numbers or nulls among the values
    frame["weight"] = frame["weight"].astype(float)
    out = frame.groupby(["kind", "value"], sort=False)["weight"].agg(pairs="size", total_weight="sum").reset_index()
    out["weight_per_pair"] = out["total_weight"] / out["pairs"]
    return out.sort_values(["total_weight", "kind", "value"], ascending=[False, True, True]).reset_index(drop=True)


def _timeline_png(weekly: pd.DataFrame, created: pd.Series, path: Path, title: str) -> None:
    """Weekly exchanges (bars) with one line per task category (a request may be in several,
    so lines, not stacks) and accounts created per week (dots, right axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    created_weeks = (created.dt.normalize() - pd.to_timedelta(created.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    weeks = sorted(set(weekly["week"].astype(str)) | set(created_weeks))
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    x = np.arange(len(weeks))
    counts = [c for c in weekly.columns if c.startswith("n")]
    per_week = weekly.set_index(weekly["week"].astype(str))[counts].reindex(weeks).fillna(0)
    ax.bar(x, per_week["n"].to_numpy() if len(weekly) else np.zeros(len(weeks)), color="#dddddd", label="all exchanges")
    for cat in TASK_CATEGORIES:
        if len(weekly):
            ax.plot(x, per_week[f"n_{cat}"].to_numpy(), marker="o", markersize=3, label=cat.replace("_", " "))
    # at most ~30 labelled weeks: two years of weekly labels overlap into a black band and
    # cost most of the drawing time
    step = max(1, -(-len(weeks) // MAX_WEEK_LABELS))
    ax.set_xticks(x[::step], weeks[::step], rotation=45, fontsize=7)
    ax.set_ylabel("exchanges per week")
    if len(created):
        ax2 = ax.twinx()
        ax2.plot(x, created_weeks.value_counts().reindex(weeks).fillna(0).to_numpy(), "k^", label="accounts created")
        ax2.set_ylabel("accounts created")
        ax2.legend(fontsize=7, loc="upper right")
    ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    # fixed margins fit the rotated date labels and both axis labels; tight_layout drew the
    # figure twice
    fig.subplots_adjust(left=0.1, right=0.9, top=0.9, bottom=0.25)
    fig.savefig(path)
    plt.close(fig)


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_none_"
    # values come from adversaries: a "|" or newline must not break out of its cell
    safe = frame.astype(object).map(
        lambda v: str(v).replace("|", "\\|").replace("\n", " ") if isinstance(v, str) else v
    )
    return safe.to_markdown(index=False)


def _evidence_items(raw: object) -> list:
    """Attribution evidence arrives as a JSON string or a list (arrays after Parquet)."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return []
    if isinstance(raw, str):
        return json.loads(raw) if raw.startswith("[") else [raw]
    return list(raw)


def case_markdown(
    entity: pd.Series,
    members: pd.DataFrame,
    weekly: pd.DataFrame,
    evidence: pd.DataFrame,
    attribution: pd.Series | None,
    png_name: str,
) -> str:
    totals = weekly[["n", *[f"n_{c}" for c in TASK_CATEGORIES]]].sum() if not weekly.empty else pd.Series(dtype=int)
    lines = [
        f"# Case {entity['entity_id']}",
        "",
        f"- accounts: **{int(entity['n_accounts'])}**",
        f"- exchanges: **{int(totals.get('n', 0))}**",
        f"- campaign score: **{float(entity['campaign_score']):.2f}** (is campaign: {bool(entity['is_campaign'])})",
    ]
    if attribution is not None and pd.notna(attribution.get("org_id")):
        lines.append(
            f"- attributed to **{attribution.get('org_name') or attribution['org_id']}** "
            f"(`{attribution['org_id']}`), confidence **{float(attribution['confidence']):.2f}**"
        )
    else:
        lines.append("- attribution: none above the confidence threshold")
    lines += ["", "## Exchanges by task category", ""]
    if not totals.empty:
        cat = pd.DataFrame(
            {"category": [c.replace("_", " ") for c in TASK_CATEGORIES],
             "exchanges": [int(totals[f"n_{c}"]) for c in TASK_CATEGORIES]}
        )
        cat["share"] = (cat["exchanges"] / max(int(totals["n"]), 1)).round(3)
        lines.append(_markdown_table(cat))
    else:
        lines.append("_no exchanges_")
    lines += ["", "## Timeline", "", f"![weekly exchanges and account creation]({png_name})", ""]
    lines += ["## Strongest evidence", "",
              "Weights are log2 Bayes factors after the rarity adjustment: a value many unrelated "
              "accounts share counts for little.", ""]
    shown = evidence.head(MAX_EVIDENCE_LISTED).copy()
    if not shown.empty:
        shown["total_weight"] = shown["total_weight"].round(2)
        shown["weight_per_pair"] = shown["weight_per_pair"].round(2)
        shown["value"] = shown["value"].str.slice(0, 80)
    lines += [_markdown_table(shown), ""]
    lines += ["## Attribution evidence", ""]
    if attribution is not None and pd.notna(attribution.get("org_id")):
        raw = attribution.get("evidence")
        items = _evidence_items(raw)
        lines += [f"- {item}" if not isinstance(item, dict) else "- " + ", ".join(f"{k}: {v}" for k, v in item.items())
                  for item in items] or ["_none recorded_"]
    else:
        lines.append("_unattributed_")
    listed = members.head(MAX_ACCOUNTS_LISTED)
    lines += ["", f"## Accounts ({len(members)}; first {len(listed)} by creation)", "", _markdown_table(listed), ""]
    return "\n".join(lines)


def _by_entity(frame: pd.DataFrame, column: str) -> dict[object, pd.DataFrame]:
    """Rows per entity id, in their original order."""
    return {eid: part for eid, part in frame.groupby(column, sort=False)}


def write_case_files(
    entities: pd.DataFrame,
    account_entities: pd.DataFrame,
    accounts: pd.DataFrame,
    account_features: pd.DataFrame,
    weekly: pd.DataFrame,
    links: pd.DataFrame,
    attributions: pd.DataFrame,
    out_dir: Path,
) -> pd.DataFrame:
    """Write ``cases/<entity_id>.{md,html,png}`` for every campaign entity; returns an index."""
    out_dir = Path(out_dir) / "cases"
    out_dir.mkdir(parents=True, exist_ok=True)
    # html=False: account fields are attacker-controlled, so raw HTML in them stays text
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    campaigns = entities[entities["is_campaign"].astype(bool)].sort_values("entity_id")
    membership = account_entities.set_index("account_id")["entity_id"]
    acc = accounts[["account_id", "created_at", "email_domain", "declared_org"]].copy()
    acc["entity_id"] = acc["account_id"].map(membership)
    acc = acc.join(account_features.set_index("account_id")[["n_exchanges"]], on="account_id")
    weekly = weekly.assign(entity_id=weekly["account_id"].map(membership))
    links = links.assign(entity_a=links["account_a"].map(membership), entity_b=links["account_b"].map(membership))
    # each table split by campaign entity once, not scanned whole once per case
    in_case = campaigns["entity_id"]
    acc_by = _by_entity(acc[acc["entity_id"].isin(in_case)], "entity_id")
    weekly_by = _by_entity(weekly[weekly["entity_id"].isin(in_case)], "entity_id")
    inside = links[(links["entity_a"] == links["entity_b"]) & links["entity_a"].isin(in_case)]
    links_by = _by_entity(inside, "entity_a")
    attr = attributions.set_index("entity_id") if len(attributions) else pd.DataFrame()
    rows = []
    for _, entity in campaigns.iterrows():  # one case per campaign entity: tens, not millions
        eid = entity["entity_id"]
        members = acc_by.get(eid, acc.iloc[:0]).sort_values(["created_at", "account_id"]).drop(columns=["entity_id"])
        members = members.assign(created_at=members["created_at"].astype(str)).fillna("")
        ew = weekly_by.get(eid, weekly.iloc[:0]).groupby("week", sort=True)[
            ["n", *[f"n_{c}" for c in TASK_CATEGORIES]]].sum().reset_index()
        el = links_by.get(eid, inside.iloc[:0])
        evidence = strongest_evidence(el)
        attribution = attr.loc[eid] if eid in attr.index else None
        png = out_dir / f"{eid}.png"
        _timeline_png(ew, pd.to_datetime(accounts.loc[accounts["account_id"].isin(members["account_id"]), "created_at"], utc=True),
                      png, f"{eid}: weekly exchanges by task")
        md = case_markdown(entity, members, ew, evidence, attribution, png.name)
        md_path = out_dir / f"{eid}.md"
        md_path.write_text(md, encoding="utf-8")
        html_path = out_dir / f"{eid}.html"
        html_path.write_text(
            "<!doctype html><meta charset='utf-8'><title>" + html.escape(f"Case {eid}") + "</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style>\n" + renderer.render(md),
            encoding="utf-8",
        )
        rows.append({"entity_id": eid, "markdown": str(md_path), "html": str(html_path), "timeline_png": str(png),
                     "n_accounts": int(entity["n_accounts"]),
                     "org_id": None if attribution is None else attribution.get("org_id")})
    index = pd.DataFrame(rows, columns=CASE_COLUMNS)
    index.to_csv(out_dir / "index.csv", index=False)
    return index

"""The contract's output folder: account_entities.csv, entities.csv, links.csv (+ quarantine).

Written by the CLI's ``resolve`` (first attribution from indicators) and by the pipeline's
``results_folder`` asset (the graph's attribution, analyst decisions included), so both give
the same files in the same format.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.scoring import ENTITY_COLUMNS  # the contract's entities.csv columns


def apply_attributions(entities: pd.DataFrame, attributions: pd.DataFrame) -> pd.DataFrame:
    """The entities table with the graph's attribution (Cypher, analyst decisions included)
    in place of the first, indicator-only attribution of the resolution stage.

    Entities the graph left unattributed lose the first guess too: the graph saw more
    (shared infrastructure, analyst rejections) and declined.
    """
    out = entities.drop(columns=["org_id", "attribution_confidence"], errors="ignore")
    attr = attributions[["entity_id", "org_id", "confidence"]].rename(columns={"confidence": "attribution_confidence"})
    out = out.merge(attr, on="entity_id", how="left")
    out["org_id"] = out["org_id"].astype("string")
    out["attribution_confidence"] = out["attribution_confidence"].astype(float).fillna(0.0).round(4)
    return out[ENTITY_COLUMNS]


def write_results(
    out_dir: Path,
    account_entities: pd.DataFrame,
    entities: pd.DataFrame,
    links: pd.DataFrame,
    quarantine: pd.DataFrame | None = None,
    counts: pd.DataFrame | None = None,
) -> list[Path]:
    """The contract's output folder: account_entities.csv, entities.csv, links.csv (+ quarantine)."""
    from pipelines import contract

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "account_entities.csv", out_dir / "entities.csv", out_dir / "links.csv"]
    account_entities[["account_id", "entity_id"]].to_csv(paths[0], index=False)
    ent = entities[ENTITY_COLUMNS].copy()
    ent["is_campaign"] = ent["is_campaign"].astype(bool).map({True: "true", False: "false"})
    ent.to_csv(paths[1], index=False)
    links[["account_a", "account_b", "score", "evidence"]].to_csv(paths[2], index=False)
    if quarantine is not None:
        inputs = contract.ContractInputs(tables={}, quarantine=quarantine,
                                         counts=counts if counts is not None else pd.DataFrame(columns=contract.COUNT_COLUMNS))
        paths += list(contract.write_quarantine(inputs, out_dir).values())
    return paths

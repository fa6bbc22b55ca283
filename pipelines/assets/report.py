"""Results folder (the data contract's output) and case files for every campaign entity."""


from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, MetadataValue, Output, asset

from pipelines import report, results
from pipelines.assets.config import ResolutionSettings
from pipelines.assets.metadata import frame_metadata, timed


@asset(ins={"entities": AssetIn(), "entity_attributions": AssetIn(), "account_entities": AssetIn(),
            "merge_links": AssetIn(), "quarantine": AssetIn(), "contract_counts": AssetIn()},
       group_name="report",
       description="account_entities.csv, entities.csv (with the Cypher attribution), links.csv, quarantine.")
def results_folder(context: AssetExecutionContext, resolution: ResolutionSettings, entities: pd.DataFrame,
                   entity_attributions: pd.DataFrame, account_entities: pd.DataFrame, merge_links: pd.DataFrame,
                   quarantine: pd.DataFrame, contract_counts: pd.DataFrame) -> Output:
    final = results.apply_attributions(entities, entity_attributions)
    written = results.write_results(Path(resolution.output_dir), account_entities, final, merge_links, quarantine,
                                    contract_counts, run_id=context.run_id)
    meta = frame_metadata(final)
    meta["output_dir"] = MetadataValue.path(resolution.output_dir)
    meta["files"] = MetadataValue.md("\n".join(f"- `{p}`" for p in written))
    return Output(final, metadata=meta)


@asset(ins={"results_folder": AssetIn(), "account_entities": AssetIn(), "normalized_accounts": AssetIn(),
            "account_features": AssetIn(), "weekly_activity": AssetIn(), "merge_links": AssetIn(),
            "entity_attributions": AssetIn()},
       group_name="report",
       description="A Markdown + HTML case file and a timeline PNG per campaign entity.")
def case_reports(context: AssetExecutionContext, resolution: ResolutionSettings, results_folder: pd.DataFrame,
                 account_entities: pd.DataFrame, normalized_accounts: pd.DataFrame, account_features: pd.DataFrame,
                 weekly_activity: pd.DataFrame, merge_links: pd.DataFrame, entity_attributions: pd.DataFrame) -> Output:
    with timed() as took:
        index = report.write_case_files(results_folder, account_entities, normalized_accounts, account_features,
                                        weekly_activity, merge_links, entity_attributions, Path(resolution.output_dir))
    meta = frame_metadata(index, took[0])
    meta["cases"] = MetadataValue.int(len(index))
    if len(index):
        first = Path(index["markdown"].iloc[0])
        meta["first_case"] = MetadataValue.md(first.read_text(encoding="utf-8")[:20_000])
        meta["cases_dir"] = MetadataValue.path(str(first.parent))
    return Output(index, metadata=meta)

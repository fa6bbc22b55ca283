"""Raw tables: read and validated by the contract module, quarantine counted."""


from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetOut, MetadataValue, Output, multi_asset

from pipelines import contract
from pipelines.assets.config import IngestConfig
from pipelines.assets.metadata import frame_metadata, timed

RAW_TABLES = list(contract.TABLE_ORDER)


@multi_asset(
    outs={
        **{f"raw_{name}": AssetOut(description=f"Accepted rows of `{name}`, typed.") for name in RAW_TABLES},
        "quarantine": AssetOut(description="Rejected input rows with file, row, column and reason."),
        "contract_counts": AssetOut(description="Rows read, accepted and quarantined per table."),
    },
    group_name="ingest",
)
def raw_tables(context: AssetExecutionContext, config: IngestConfig):
    with timed() as took:
        inputs = contract.read_inputs(Path(config.data_dir))
    for name in RAW_TABLES:
        frame = inputs.tables[name]
        yield Output(frame, output_name=f"raw_{name}", metadata=frame_metadata(frame, took[0]))
    counts = inputs.counts
    read, quarantined = int(counts["rows_read"].sum()), int(counts["rows_quarantined"].sum())
    yield Output(
        inputs.quarantine,
        output_name="quarantine",
        metadata={
            **frame_metadata(inputs.quarantine),
            "rows_read": MetadataValue.int(read),
            "rows_quarantined": MetadataValue.int(quarantined),
            "quarantined_share": MetadataValue.float(quarantined / read if read else 0.0),
            "data_dir": MetadataValue.path(config.data_dir),
        },
    )
    yield Output(counts, output_name="contract_counts", metadata=frame_metadata(counts))


def contract_inputs(frames: dict[str, pd.DataFrame]) -> contract.ContractInputs:
    """Rebuild the contract module's bundle from stored frames, for downstream stages."""
    return contract.ContractInputs(tables=frames, quarantine=contract.empty_quarantine())

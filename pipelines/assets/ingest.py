"""Raw tables: read and validated by the contract module, quarantine counted."""


from pathlib import Path

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSpec, AssetExecutionContext, AssetOut, MetadataValue, Output, multi_asset

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
    # Checked here, on the frames being stored: a check of its own read every table back (3 s a run).
    check_specs=[AssetCheckSpec("contract_conformance", asset=f"raw_{name}", blocking=True,
                                description="Accepted rows carry exactly the contract's columns with the agreed types.")
                 for name in RAW_TABLES],
)
def raw_tables(context: AssetExecutionContext, config: IngestConfig):
    with timed() as took:
        inputs = contract.read_inputs(Path(config.data_dir))
    for name in RAW_TABLES:
        frame = inputs.tables[name]
        yield Output(frame, output_name=f"raw_{name}", metadata=frame_metadata(frame, took[0]))
        problems = contract.conformance_problems(name, frame)
        yield AssetCheckResult(
            asset_key=f"raw_{name}", check_name="contract_conformance", passed=not problems,
            metadata={"rows": len(frame), "problems": "; ".join(problems) or "none"},
        )
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

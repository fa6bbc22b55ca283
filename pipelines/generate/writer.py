"""Write a world folder: every contract input table (Parquet or CSV) and ``truth.csv``.

Exchanges and ip_events are streamed chunk by chunk so peak memory stays bounded.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

TABLES = ("accounts", "payment_methods", "ip_events", "exchanges", "networks", "organizations")


def _csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ISO-8601 ``...Z`` strings, as the contract wants in CSV."""
    cols = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col.cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")
        cols.append(col)
    return pa.table(cols, names=table.column_names)


class TableWriter:
    """Appends record batches to ``NAME.parquet`` or ``NAME.csv``."""

    def __init__(self, out: Path, name: str, fmt: str, schema: pa.Schema) -> None:
        self.fmt = fmt
        self.path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")
        else:
            self._writer = pacsv.CSVWriter(self.path, _csv_ready(schema.empty_table()).schema)

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            self._writer.write_table(table, row_group_size=256_000)
        else:
            self._writer.write_table(_csv_ready(table))

    def close(self) -> None:
        self._writer.close()


def write_table(out: Path, name: str, fmt: str, table: pa.Table) -> Path:
    w = TableWriter(out, name, fmt, table.schema)
    w.write(table)
    w.close()
    return w.path


def write_truth(out: Path, truth: pa.Table) -> Path:
    path = out / "truth.csv"
    pacsv.write_csv(truth, path)
    return path


def remove_stale(out: Path) -> None:
    """Drop tables of another format left in ``out`` (Parquet would win over fresh CSV)."""
    for name in TABLES:
        for ext in ("parquet", "csv"):
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    (out / "truth.csv").unlink(missing_ok=True)

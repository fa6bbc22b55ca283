"""Parquet IO manager: every intermediate frame is a Parquet file in a project-local folder.

Parquet rather than pickles so a failed run resumes from the last good asset with files any
tool can open, and so frames survive a Python or pandas upgrade.
"""


import os
from pathlib import Path

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext

from pipelines.paths import state_dir


class ParquetFrameIOManager(ConfigurableIOManager):
    """Stores each asset output (a DataFrame) at ``<base_dir>/<asset key path>.parquet``.

    Without ``base_dir`` the folder is ``<state dir>/frames``, decided when the run starts so
    ``SYBILGRAPH_HOME`` set after import still counts.
    """

    base_dir: str | None = None

    def _path(self, context: InputContext | OutputContext) -> Path:
        key = context.asset_key.path if context.has_asset_key else [context.step_key, context.name]
        base = Path(self.base_dir) if self.base_dir else state_dir() / "frames"
        return base.joinpath(*key).with_suffix(".parquet")

    def handle_output(self, context: OutputContext, obj: pd.DataFrame | None) -> None:
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{context.asset_key}: expected a DataFrame, got {type(obj).__name__}")
        path = self._path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        # write-then-rename: a crash never leaves a half-written frame for the next run to read
        tmp = path.with_suffix(".parquet.tmp")
        obj.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        context.add_output_metadata({"parquet_path": str(path), "parquet_bytes": path.stat().st_size})

    def load_input(self, context: InputContext) -> pd.DataFrame:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(f"{context.asset_key}: no stored frame at {path}; materialise it first")
        return pd.read_parquet(path)

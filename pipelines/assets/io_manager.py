"""Parquet IO manager: every intermediate frame is a Parquet file in a project-local folder.

Parquet rather than pickles so a failed run resumes from the last good asset with files any
tool can open, and so frames survive a Python or pandas upgrade.

Within one process the frames written and read are also kept in memory (bounded, least
recently used out first): a daily run executes every step in one process, and without this the
~700 MB exchanges frame was decoded from Parquet again by each of its consumers. Every
consumer gets exactly what Parquet gives (dtypes, index, ``attrs``): a frame read is kept as
read, and a frame written is kept as pandas converts the Arrow table it writes back to pandas
(``as_read_back``: the conversion ``read_parquet`` does after decoding; equal to the Parquet
read, values and dtypes, for all 24 frames of a demo daily run). A memory hit is only used
while the file on disk is exactly the one it came from (same size and modification time), so
a frame replaced by another process or run is read again; pandas' copy-on-write keeps a
consumer's changes out of the kept frame.
"""


import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import pyarrow as pa
from dagster import ConfigurableIOManager, InputContext, OutputContext

from pipelines.paths import state_dir

try:  # pandas' Arrow -> pandas step of read_parquet (private; without it written frames are not kept)
    from pandas.io._util import arrow_table_to_pandas
except ImportError:  # pragma: no cover - another pandas
    arrow_table_to_pandas = None

FRAME_CACHE_ENV = "SYBILGRAPH_FRAME_CACHE_MB"
DEFAULT_FRAME_CACHE_MB = 1536


class FrameMemo:
    """Frames by Parquet path, valid while that file's (size, mtime) is unchanged."""

    def __init__(self) -> None:
        self._frames: OrderedDict[Path, tuple[tuple[int, int], pd.DataFrame, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def budget_bytes() -> int:
        return int(float(os.environ.get(FRAME_CACHE_ENV, DEFAULT_FRAME_CACHE_MB)) * 1024 * 1024)

    @staticmethod
    def _signature(path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return stat.st_size, stat.st_mtime_ns

    def get(self, path: Path) -> pd.DataFrame | None:
        signature = self._signature(path)
        with self._lock:
            entry = self._frames.get(path)
            if entry is None or signature is None or entry[0] != signature:
                self._frames.pop(path, None)
                self.misses += 1
                return None
            self._frames.move_to_end(path)
            self.hits += 1
            return entry[1].copy(deep=False)  # copy-on-write: the kept frame stays as stored

    def put(self, path: Path, frame: pd.DataFrame) -> None:
        budget = self.budget_bytes()
        # Arrow-backed columns report their buffers; object columns only their pointers (cheap)
        size = int(frame.memory_usage(index=True, deep=False).sum())
        signature = self._signature(path)
        with self._lock:
            self._frames.pop(path, None)
            if signature is None or size > budget:
                return
            self._frames[path] = (signature, frame.copy(deep=False), size)
            while sum(entry[2] for entry in self._frames.values()) > budget:
                self._frames.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()


FRAMES = FrameMemo()


def as_read_back(frame: pd.DataFrame) -> pd.DataFrame | None:
    """What ``pd.read_parquet`` gives for ``frame`` written with ``to_parquet(index=False)``,
    without the file: the table ``to_parquet`` builds, converted the way ``read_parquet``
    converts the table it decodes (None with a pandas that lacks that step)."""
    if arrow_table_to_pandas is None:
        return None
    out = arrow_table_to_pandas(pa.Table.from_pandas(frame, preserve_index=False))
    if frame.attrs:  # to_parquet stores them as JSON, read_parquet restores them
        out.attrs = json.loads(json.dumps(frame.attrs))
    return out


def clear_frame_memo() -> None:
    """Drop the frames kept in memory (the runner calls this when a run ends)."""
    FRAMES.clear()


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
        # no conversion for a frame the memory budget could not hold anyway
        if int(obj.memory_usage(index=True, deep=False).sum()) <= FrameMemo.budget_bytes():
            kept = as_read_back(obj)
            if kept is not None:
                FRAMES.put(path, kept)  # the next step in this process skips decoding the file
        context.add_output_metadata({"parquet_path": str(path), "parquet_bytes": path.stat().st_size})

    def load_input(self, context: InputContext) -> pd.DataFrame:
        path = self._path(context)
        if not path.exists():
            raise FileNotFoundError(f"{context.asset_key}: no stored frame at {path}; materialise it first")
        kept = FRAMES.get(path)
        if kept is not None:
            return kept
        frame = pd.read_parquet(path)
        FRAMES.put(path, frame)
        return frame

"""The IO manager's in-memory frames: a hit gives what Parquet gives, never a stale or shared frame."""

from __future__ import annotations

import os

import pandas as pd
from dagster import build_input_context, build_output_context

from pipelines.assets.io_manager import FRAME_CACHE_ENV, FrameMemo, ParquetFrameIOManager, as_read_back


def store(tmp_path, frame: pd.DataFrame, name: str = "frame") -> tuple[ParquetFrameIOManager, object]:
    manager = ParquetFrameIOManager(base_dir=str(tmp_path))
    manager.handle_output(build_output_context(asset_key=name), frame)
    return manager, build_input_context(asset_key=name)


def test_reads_come_from_memory_and_equal_the_parquet_frame(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("pipelines.assets.io_manager.FRAMES", memo := FrameMemo())
    # a non-default index and a Python-object column: the written object differs from what Parquet gives back
    frame = pd.DataFrame({"a": [3, 1, 2], "s": ["x", None, "z"]}, index=[7, 8, 9])
    manager, context = store(tmp_path, frame)
    first = manager.load_input(context)  # kept when written
    second = manager.load_input(context)
    assert (memo.misses, memo.hits) == (0, 2)
    pd.testing.assert_frame_equal(second, pd.read_parquet(tmp_path / "frame.parquet"))
    assert list(second.index) == [0, 1, 2]  # as Parquet gives it, not the written object's index
    first.loc[0, "a"] = 100  # a consumer changing its frame ...
    first["new"] = 1
    third = manager.load_input(context)
    assert third["a"].tolist() == [3, 1, 2] and "new" not in third.columns  # ... changes nobody else's


def test_a_rewritten_file_is_read_again(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("pipelines.assets.io_manager.FRAMES", memo := FrameMemo())
    manager, context = store(tmp_path, pd.DataFrame({"a": [1, 2]}))
    assert manager.load_input(context)["a"].tolist() == [1, 2]
    path = tmp_path / "frame.parquet"
    pd.DataFrame({"a": [5, 6, 7]}).to_parquet(path, index=False)  # another process replaces it
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert manager.load_input(context)["a"].tolist() == [5, 6, 7]
    assert (memo.hits, memo.misses) == (1, 1)


def test_the_memory_budget_evicts_least_recently_used(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("pipelines.assets.io_manager.FRAMES", memo := FrameMemo())
    monkeypatch.setenv(FRAME_CACHE_ENV, str(1.5 * 8 * 100_000 / 1024 / 1024))  # room for one frame of 100k int64
    big = pd.DataFrame({"a": range(100_000)})
    manager, first = store(tmp_path, big, "first")
    _, second = store(tmp_path, big, "second")
    manager.load_input(first)
    manager.load_input(second)  # pushes "first" out
    manager.load_input(second)
    manager.load_input(first)
    assert (memo.misses, memo.hits) == (3, 1)


def test_a_written_frame_is_kept_exactly_as_parquet_gives_it_back(tmp_path) -> None:
    """The types the stages write (Arrow and Python strings, categoricals, nullable integers,
    UTC timestamps, lists, maps as JSON text, attrs): the frame kept in memory equals the file read."""
    frame = pd.DataFrame(
        {
            "arrow_text": pd.array(["a", None, "c"], dtype="string[pyarrow]"),
            "python_text": pd.array(["a", "b", None], dtype="string[python]"),
            "objects": ["x", None, "z"],
            "category": pd.Categorical(["u", "v", "u"]),
            "small_codes": pd.Series([1, 2, 3], dtype="int8"),
            "nullable": pd.array([1, None, 3], dtype="Int64"),
            "ts": pd.to_datetime(["2026-02-01T00:00:00Z", None, "2026-02-03T12:00:00Z"], utc=True),
            "flag": [True, False, True],
            "score": [0.5, float("nan"), 1.5],
            "kinds": [["payment"], [], ["ip", "name"]],
        },
        index=[5, 6, 7],
    )
    frame.attrs = {"parameters": {"m": [0.9, 0.1]}}
    path = tmp_path / "frame.parquet"
    frame.to_parquet(path, index=False)
    back = pd.read_parquet(path)
    kept = as_read_back(frame)
    pd.testing.assert_frame_equal(kept, back, check_exact=True)
    assert kept.dtypes.equals(back.dtypes) and kept.attrs == back.attrs

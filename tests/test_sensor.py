"""The new-files sensor (issue 5): a run starts once per settled state of the data folder's
contract tables, never on a copy still in progress, never twice for the same files."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dagster import build_sensor_context

from pipelines.assets.automation import data_folder_state, new_data_sensor, sensor_tick
from pipelines.contract import TABLES

REQUIRED = [name for name, spec in TABLES.items() if spec.required]


def land(folder: Path, name: str, text: str = "x\n", mtime_ns: int = 1_700_000_000_000_000_000) -> None:
    path = folder / name
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))


def tick(folder: Path, cursor: dict):
    return sensor_tick(cursor, data_folder_state(folder), folder)


def test_a_run_starts_once_the_required_tables_have_landed_and_stayed_the_same(tmp_path) -> None:
    land(tmp_path, "accounts.parquet")
    first = tick(tmp_path, {})
    assert first.run_key is None and "waiting for the required tables" in first.message
    for name in REQUIRED[1:]:
        land(tmp_path, f"{name}.csv")
    arrived = tick(tmp_path, first.cursor)
    assert arrived.run_key is None and "changed since the last check" in arrived.message
    settled = tick(tmp_path, arrived.cursor)
    assert settled.run_key is not None and settled.run_key.startswith("data-")
    assert sorted(settled.changed) == sorted(["accounts.parquet"] + [f"{n}.csv" for n in REQUIRED[1:]])
    again = tick(tmp_path, settled.cursor)
    assert again.run_key is None and "no new or changed files" in again.message


def test_a_file_still_growing_starts_no_run_until_it_stops(tmp_path) -> None:
    for name in REQUIRED:
        land(tmp_path, f"{name}.parquet")
    cursor = tick(tmp_path, {}).cursor
    first = tick(tmp_path, cursor)
    assert first.run_key is not None
    land(tmp_path, "exchanges.parquet", "x\ny\n", mtime_ns=1_700_000_000_000_000_001)  # a copy in progress
    growing = tick(tmp_path, first.cursor)
    assert growing.run_key is None and "exchanges.parquet changed since the last check" in growing.message
    land(tmp_path, "exchanges.parquet", "x\ny\nz\n", mtime_ns=1_700_000_000_000_000_002)
    still = tick(tmp_path, growing.cursor)
    assert still.run_key is None
    done = tick(tmp_path, still.cursor)
    assert done.run_key not in (None, first.run_key) and done.changed == ["exchanges.parquet"]


def test_files_outside_the_contract_never_start_a_run(tmp_path) -> None:
    for name in REQUIRED:
        land(tmp_path, f"{name}.parquet")
    cursor = tick(tmp_path, tick(tmp_path, {}).cursor).cursor
    land(tmp_path, "truth.csv")
    land(tmp_path, ".accounts.parquet.partial")
    land(tmp_path, "accounts.csv")  # the run reads accounts.parquet (contract.table_path)
    assert set(data_folder_state(tmp_path)) == {f"{name}.parquet" for name in REQUIRED}
    assert tick(tmp_path, tick(tmp_path, cursor).cursor).run_key is None


def test_the_same_files_give_the_same_run_key_and_an_old_cursor_still_reads(tmp_path) -> None:
    for name in REQUIRED:
        land(tmp_path, f"{name}.parquet")
    state = data_folder_state(tmp_path)
    key = tick(tmp_path, {"seen": state, "started": {}}).run_key
    assert key == tick(tmp_path, {"seen": state, "started": {"accounts.parquet": [0, 0]}}).run_key
    # the first sensor's cursor was the folder of the last run: nothing new, no run
    assert tick(tmp_path, state).run_key is None


def test_the_dagster_sensor_keeps_its_cursor_between_ticks(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SYBILGRAPH_DATA_DIR", str(tmp_path))
    for name in REQUIRED:
        land(tmp_path, f"{name}.parquet")
    cursor = None
    results = []
    for _ in range(3):
        data = new_data_sensor.evaluate_tick(build_sensor_context(cursor=cursor))
        cursor = data.cursor
        results.append(data)
    assert [len(r.run_requests or []) for r in results] == [0, 1, 0]
    request = results[1].run_requests[0]
    assert request.run_key.startswith("data-")
    assert request.tags["sybilgraph/changed_files"] == ",".join(sorted(f"{n}.parquet" for n in REQUIRED))
    assert "changed since the last check" in results[0].skip_message
    assert json.loads(cursor)["started"] == data_folder_state(tmp_path)

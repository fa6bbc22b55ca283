"""Two pipeline runs at once never interleave their Neo4j writes (issue 7, concurrency).

The graph lease of ``pipelines.locking`` is tested directly (exclusive, re-entrant, clear
timeout, stale holders taken over), then with two real ``sybilgraph pipeline run`` processes
over two different worlds against the session's Neo4j.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from pipelines import locking
from pipelines.generate import generate_world
from reliability_helpers import child_env, graph_frames_token, loaded_frames_token, start_pipeline, wipe_graph

pytestmark = pytest.mark.neo4j


def lock_name(request: pytest.FixtureRequest) -> str:
    return "test_" + request.node.name


def test_lease_is_exclusive_reentrant_and_times_out_naming_the_holder(neo4j_server, request) -> None:
    driver, name = neo4j_server.driver, lock_name(request)
    first = locking.acquire(driver, "run-A", name=name, wait_seconds=0)
    assert first.owner == "run-A" and first.pid == os.getpid()
    assert locking.acquire(driver, "run-A", name=name, wait_seconds=0).owner == "run-A"  # re-entrant
    with pytest.raises(locking.GraphLockTimeout) as error:
        locking.acquire(driver, "run-B", name=name, wait_seconds=0.5, poll_seconds=0.1)
    assert "run-A" in str(error.value) and f"pid {os.getpid()}" in str(error.value)
    assert not locking.release(driver, "run-B", name=name)  # only the owner frees it
    assert locking.holder(driver, name).owner == "run-A"
    assert locking.release(driver, "run-A", name=name)
    assert locking.holder(driver, name) is None
    assert locking.acquire(driver, "run-B", name=name, wait_seconds=0).owner == "run-B"
    locking.release(driver, "run-B", name=name)


def test_context_manager_releases_on_error_and_parks_with_keep(neo4j_server, request) -> None:
    driver, name = neo4j_server.driver, lock_name(request)
    with pytest.raises(ValueError):
        with locking.graph_write_lock(driver, "run-A", name=name, wait_seconds=0):
            raise ValueError("load failed")
    assert locking.holder(driver, name) is None
    with locking.graph_write_lock(driver, "run-A", name=name, wait_seconds=0, keep=True):
        pass
    parked = locking.holder(driver, name)
    assert parked.owner == "run-A" and parked.pid is None  # kept for the run's next step
    with pytest.raises(locking.GraphLockTimeout):
        locking.acquire(driver, "run-B", name=name, wait_seconds=0)
    with locking.graph_write_lock(driver, "run-A", name=name, wait_seconds=0):
        pass  # the next step re-enters and releases
    assert locking.holder(driver, name) is None


def test_stale_holders_are_taken_over(neo4j_server, request) -> None:
    driver, name = neo4j_server.driver, lock_name(request)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    # a holder on this host whose process died (SIGKILL mid-load) is stale at once
    driver.execute_query(locking.load_cypher("lock_acquire", locking.FOLDER), name=name, owner="dead-run",
                         host=locking.socket.gethostname(), pid=gone.pid, lease_seconds=3600)
    assert locking.holder(driver, name).owner == "dead-run"
    assert locking.acquire(driver, "run-B", name=name, wait_seconds=0).owner == "run-B"
    # an expired lease is free even when its holder still runs
    locking.release(driver, "run-B", name=name)
    locking.acquire(driver, "run-C", name=name, lease_seconds=1, wait_seconds=0)
    time.sleep(1.5)
    assert locking.acquire(driver, "run-D", name=name, wait_seconds=0).owner == "run-D"
    # a holder the caller knows has finished (a failed Dagster run) is stale too
    assert locking.acquire(driver, "run-E", name=name, wait_seconds=0,
                           owner_finished=lambda owner: owner == "run-D").owner == "run-E"
    locking.release(driver, "run-E", name=name)


def test_state_folder_lock_waits_for_the_other_process(tmp_path) -> None:
    script = (
        "import sys, time; from pathlib import Path; from pipelines import locking\n"
        "with locking.state_folder_lock(Path(sys.argv[1])):\n"
        "    print('locked', flush=True); time.sleep(3)\n"
        "print('released', flush=True); time.sleep(3)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(locking.GraphLockTimeout) as error:
            with locking.state_folder_lock(tmp_path, wait_seconds=0.5, poll_seconds=0.1):
                pass
        assert f"pid {child.pid}" in str(error.value)
        messages: list[str] = []
        with locking.state_folder_lock(tmp_path, wait_seconds=30, poll_seconds=0.2, log=messages.append):
            assert child.stdout.readline().strip() == "released"  # the other process is out
        assert messages and "waiting for another pipeline run" in messages[0]
    finally:
        child.kill()
        child.wait()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


def grown_copy(world: Path, into: Path, n_accounts: int = 150) -> None:
    """The same accounts with a day of extra exchanges for some of them: a different load
    (other frames, so another frames token on the load marker) over the same account set, as
    when a manual run and the scheduled one see the data folder before and after a drop."""
    shutil.copytree(world, into)
    exchanges = pd.read_parquet(world / "exchanges.parquet")
    chosen = exchanges["account_id"].drop_duplicates().head(n_accounts)
    extra = exchanges[exchanges["account_id"].isin(chosen)].copy()
    extra["exchange_id"] = "day2_" + extra["exchange_id"].astype(str)
    extra["ts"] = pd.to_datetime(extra["ts"], utc=True) + pd.Timedelta(days=1)
    pd.concat([exchanges, extra], ignore_index=True).to_parquet(into / "exchanges.parquet", index=False)


@pytest.mark.slow
def test_two_runs_started_at_once_do_not_interleave(neo4j_server, tmp_path) -> None:
    """Both runs wait on a lease the test holds, then race: one writes, the other waits for it."""
    driver = neo4j_server.driver
    wipe_graph(driver)
    worlds = {21: tmp_path / "world21", 22: tmp_path / "world22"}
    generate_world("tiny", 21, worlds[21])
    grown_copy(worlds[21], worlds[22])
    locking.acquire(driver, "test-holder", wait_seconds=0)
    children, logs = {}, {}
    try:
        for seed, world in worlds.items():
            home = tmp_path / f"home{seed}"
            logs[seed] = tmp_path / f"run{seed}.log"
            children[seed] = start_pipeline(world, home / "output", child_env(home, neo4j_server), logs[seed])
        _wait_for(lambda: all("waiting for run test-holder" in p.read_text(errors="replace") for p in logs.values()),
                  timeout=600, what="both runs to wait for the test's lease")
        assert all(c.poll() is None for c in children.values())
        locking.release(driver, "test-holder")
        for child in children.values():
            child.wait(timeout=900)
    finally:
        locking.release(driver, "test-holder")
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    texts = {seed: p.read_text(errors="replace") for seed, p in logs.items()}
    for seed, child in children.items():
        assert child.returncode == 0, texts[seed][-3000:]
    run_ids = {seed: re.search(r"pipeline run (\S+) succeeded", text).group(1) for seed, text in texts.items()}
    a, b = run_ids.values()
    assert f"waiting for run {a}" in texts[22] or f"waiting for run {b}" in texts[21], \
        "one run must have waited for the other's lease"
    assert locking.holder(driver) is None  # released at the end of each run

    # the graph is exactly one run's load, never a mixture: its load marker names the frames of
    # one run (each run's snapshot holds the content hash of the frames it loaded), and the
    # memberships in it are that run's results
    with driver.session() as session:
        accounts = set(session.run("MATCH (a:Account) RETURN a.account_id AS id").value("id"))
        loaded = pd.DataFrame(session.run("MATCH (a:Account)-[:RESOLVED_TO]->(e:Entity) "
                                          "RETURN a.account_id AS account_id, e.entity_id AS entity_id").data())
    assert accounts == set(pd.read_parquet(worlds[21] / "accounts.parquet")["account_id"])
    marker_token = graph_frames_token(driver)
    tokens = {seed: loaded_frames_token(tmp_path / f"home{seed}") for seed in worlds}
    assert tokens[21] != tokens[22]  # two different loads
    winner = [seed for seed, token in tokens.items() if token == marker_token]
    assert len(winner) == 1, f"the graph's marker {marker_token} is neither run's load"
    loaded = loaded.sort_values("account_id").reset_index(drop=True)
    assert len(loaded) == len(accounts)
    members = pd.read_csv(tmp_path / f"home{winner[0]}" / "output" / "account_entities.csv", dtype=str)
    members = members[["account_id", "entity_id"]].sort_values("account_id").reset_index(drop=True)
    assert loaded.equals(members), "memberships in Neo4j must be the results of the run whose load the marker names"

"""Mutual exclusion for pipeline runs: a lease on the Neo4j graph and a lock on the state folder.

Why a lease in Neo4j: runs start from the CLI, the Dagster UI, the schedule or another
machine, and the one thing they all share is the database. Two loads interleaving would mix
two runs' data (each load's clean-up deletes what the other just wrote), so the graph load
and the attribution that reads it hold ``(:PipelineLock {name: 'graph_writer'})``:

* taken atomically (unique constraint on ``name``; the acquiring statement write-locks the
  node before it reads the holder), owned by the Dagster run id, re-entrant for that owner;
* a lease: ``expires_at`` is extended by a heartbeat thread while a step holds it, so a
  crashed holder frees it after ``lease_seconds`` at the latest;
* a holder on this host whose process is gone (SIGKILL, OOM) is stale at once, and so is a
  holder the caller knows has finished (``owner_finished``, e.g. a failed Dagster run);
* a second run waits (logging who holds the lease) up to ``wait_seconds``, then fails with
  :class:`GraphLockTimeout` naming the holder.

The state-folder lock (``fcntl.flock``) keeps two runs launched from the same project folder
from sharing the Parquet frames and results folders; the kernel frees it when the process
dies, so it never goes stale.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from neo4j import Driver
from neo4j.exceptions import (ClientError, ConnectionAcquisitionTimeoutError, ServiceUnavailable, SessionExpired,
                              TransientError)

from pipelines.neo4j_client import load_cypher
# alive and not a zombie (a SIGKILLed child not yet reaped counts as dead)
from pipelines.neo4j_server import _process_alive as process_alive

GRAPH_LOCK = "graph_writer"
DEFAULT_LEASE_SECONDS = 600
DEFAULT_WAIT_SECONDS = 3600
FOLDER = "locking"


class GraphLockTimeout(RuntimeError):
    """Another run kept the graph lease for longer than we were willing to wait."""


class GraphLockLost(RuntimeError):
    """Our lease expired and another run took it while we were still writing."""


@dataclass(frozen=True)
class LockHolder:
    owner: str | None
    host: str | None
    pid: int | None
    acquired_at: str | None
    expires_at: str | None

    def describe(self) -> str:
        where = f"pid {self.pid} on {self.host}" if self.pid else f"host {self.host}, between steps"
        return f"run {self.owner} ({where}) since {self.acquired_at}, lease until {self.expires_at}"


def _run(driver: Driver, statement: str, database: str | None = None, **params: Any) -> list[dict]:
    records, _, _ = driver.execute_query(load_cypher(statement, FOLDER), database_=database, **params)
    return [r.data() for r in records]


def ensure_lock_schema(driver: Driver, database: str | None = None) -> None:
    """The unique constraint that makes MERGE of the lock node atomic (idempotent)."""
    try:
        _run(driver, "lock_constraint", database)
    except ClientError as exc:  # two runs creating it at the same instant: the other one won
        if "EquivalentSchemaRule" not in (exc.code or "") and "already exists" not in str(exc):
            raise


def holder(driver: Driver, name: str = GRAPH_LOCK, database: str | None = None) -> LockHolder | None:
    """Who holds the lease now (None when nobody does)."""
    rows = _run(driver, "lock_holder", database, name=name)
    if not rows or rows[0]["owner"] is None:
        return None
    return LockHolder(**rows[0])


def _stale(current: LockHolder, owner_finished: Callable[[str], bool] | None) -> bool:
    if current.host == socket.gethostname() and current.pid and not process_alive(current.pid):
        return True
    return bool(owner_finished and current.owner and owner_finished(current.owner))


def acquire(
    driver: Driver,
    owner: str,
    *,
    name: str = GRAPH_LOCK,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = 2.0,
    owner_finished: Callable[[str], bool] | None = None,
    log: Callable[[str], None] | None = None,
    database: str | None = None,
) -> LockHolder:
    """Take the lease for ``owner``, waiting while another live run holds it."""
    ensure_lock_schema(driver, database)
    deadline = time.monotonic() + wait_seconds
    announced: str | None = None
    params = {"name": name, "owner": owner, "host": socket.gethostname(), "pid": os.getpid(),
              "lease_seconds": int(lease_seconds)}
    while True:
        try:
            row = _run(driver, "lock_acquire", database, **params)[0]
        except (ServiceUnavailable, SessionExpired, TransientError, ConnectionAcquisitionTimeoutError) as exc:
            # a busy or restarting server must not end a run that is only waiting its turn
            if time.monotonic() >= deadline:
                raise
            if log:
                log(f"graph lock: Neo4j did not answer ({exc.__class__.__name__}); trying again")
            time.sleep(poll_seconds)
            continue
        current = LockHolder(**{k: row[k] for k in ("owner", "host", "pid", "acquired_at", "expires_at")})
        if row["acquired"]:
            if log:
                log(f"graph lock: held by run {owner}")
            return current
        if _stale(current, owner_finished):
            if log:
                log(f"graph lock: taking over from stale holder {current.describe()}")
            _run(driver, "lock_release", database, name=name, owner=current.owner, pid=current.pid)
            continue
        if time.monotonic() >= deadline:
            raise GraphLockTimeout(
                f"the Neo4j graph is being written by another pipeline {current.describe()}; "
                f"gave up after waiting {wait_seconds:.0f} s. Run again when it has finished."
            )
        if log and announced != current.owner:
            log(f"graph lock: waiting for {current.describe()}")
            announced = current.owner
        time.sleep(poll_seconds)


def refresh(driver: Driver, owner: str, *, name: str = GRAPH_LOCK, lease_seconds: int = DEFAULT_LEASE_SECONDS,
            pid: int | None = None, database: str | None = None) -> bool:
    """Extend the lease; False when it is no longer ours. ``pid=None`` parks it between steps."""
    rows = _run(driver, "lock_refresh", database, name=name, owner=owner, lease_seconds=int(lease_seconds), pid=pid)
    return bool(rows and rows[0]["refreshed"])


def release(driver: Driver, owner: str, *, name: str = GRAPH_LOCK, database: str | None = None) -> bool:
    """Free the lease if ``owner`` holds it; True when it did."""
    rows = _run(driver, "lock_release", database, name=name, owner=owner, pid=None)
    return bool(rows and rows[0]["released"])


@contextmanager
def graph_write_lock(
    driver: Driver,
    owner: str,
    *,
    keep: bool = False,
    name: str = GRAPH_LOCK,
    lease_seconds: int = DEFAULT_LEASE_SECONDS,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    owner_finished: Callable[[str], bool] | None = None,
    log: Callable[[str], None] | None = None,
    database: str | None = None,
) -> Iterator[LockHolder]:
    """Hold the lease for the ``with`` body, heartbeat included.

    On an exception the lease is released. On success it is released too, unless ``keep``:
    then it stays with ``owner`` (parked, no pid) for the run's next Neo4j step, which
    re-enters it and releases it at the end.
    """
    taken = acquire(driver, owner, name=name, lease_seconds=lease_seconds, wait_seconds=wait_seconds,
                    owner_finished=owner_finished, log=log, database=database)
    stop = threading.Event()
    lost = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(max(lease_seconds / 3, 0.5)):
            try:
                if not refresh(driver, owner, name=name, lease_seconds=lease_seconds, pid=os.getpid(),
                               database=database):
                    lost.set()
                    return
            except Exception:  # a restart of Neo4j: the next beat tries again
                continue

    beat = threading.Thread(target=heartbeat, name=f"lease-{name}", daemon=True)
    beat.start()
    try:
        yield taken
    except BaseException:
        stop.set()
        beat.join()
        try:
            release(driver, owner, name=name, database=database)
        except Exception:  # unreachable server: the lease expires on its own
            pass
        raise
    stop.set()
    beat.join()
    if lost.is_set():
        raise GraphLockLost(f"the graph lease of run {owner} expired and was taken by another run while it wrote")
    if keep:
        refresh(driver, owner, name=name, lease_seconds=lease_seconds, pid=None, database=database)
    else:
        release(driver, owner, name=name, database=database)


@contextmanager
def state_folder_lock(folder: Path, *, wait_seconds: float = DEFAULT_WAIT_SECONDS, poll_seconds: float = 1.0,
                      log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Exclusive ``flock`` on ``<folder>/pipeline.lock`` for one run's frames and results."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pipeline.lock"
    deadline = time.monotonic() + wait_seconds
    handle: TextIO = open(path, "a+")
    try:
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                other = handle.read().strip() or "another process"
                if time.monotonic() >= deadline:
                    raise GraphLockTimeout(
                        f"another pipeline run ({other}) is using {folder}; gave up after {wait_seconds:.0f} s"
                    ) from None
                if log and not announced:
                    log(f"waiting for another pipeline run ({other}) using {folder}")
                    announced = True
                time.sleep(poll_seconds)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing drops the flock

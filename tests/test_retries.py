"""The load's retry policy (issue 7, "fails with a clear message"): no server needed.

The ridden-out branch (Neo4j restarted mid-load) runs on a real server in
``test_crash_safety.py``; here the server never comes back.
"""

from __future__ import annotations

import pytest
from neo4j.exceptions import ClientError, ServiceUnavailable

from pipelines import graph


@pytest.fixture()
def slept(monkeypatch) -> list[float]:
    delays: list[float] = []
    monkeypatch.setattr(graph.time, "sleep", delays.append)
    return delays


def test_a_server_that_never_comes_back_fails_clearly_after_backing_off(slept) -> None:
    calls, logged = [], []

    def unreachable():
        calls.append(1)
        raise ServiceUnavailable("Couldn't connect to 127.0.0.1:7687")

    with pytest.raises(RuntimeError, match="Neo4j unreachable after 8 attempts .*safe to run again"):
        graph.with_retries(unreachable, log=logged.append)
    assert len(calls) == 8
    assert slept == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]  # exponential, capped
    assert len(logged) == 7 and "attempt 2/8" in logged[0]


def test_a_server_that_returns_is_ridden_out(slept) -> None:
    outcomes = iter([ServiceUnavailable("down"), ServiceUnavailable("down"), "loaded"])

    def flaky():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert graph.with_retries(flaky) == "loaded"
    assert slept == [1.0, 2.0]


def test_errors_in_the_statement_are_not_retried(slept) -> None:
    def wrong():
        raise ClientError("syntax error")

    with pytest.raises(ClientError):
        graph.with_retries(wrong)
    assert slept == []


def test_one_load_shares_one_retry_budget(slept) -> None:
    """Issue 27 (5): with the JVM killed mid-load each queued batch restarted its own 8
    retries and the run still retried 15 minutes later. Inside one load the waits of every
    batch add up to at most the budget, then every batch fails at once."""
    def unreachable():
        raise ServiceUnavailable("Couldn't connect to 127.0.0.1:7687")

    with graph.retry_budget(20.0) as budget:
        with pytest.raises(RuntimeError, match="retry budget .*safe to run again"):
            graph.with_retries(unreachable)           # waits 1 + 2 + 4 + 8 = 15 s, then 16 > 20 - 15
        waited = sum(slept)
        with pytest.raises(RuntimeError, match="retry budget"):
            graph.with_retries(unreachable)           # the next batch: 1 + 2 fits (18), 4 does not
    assert waited == 15.0 and sum(slept) == 18.0 and budget.waited == 18.0
    assert graph._budget is None
    # outside a load the per-call policy alone applies
    slept.clear()
    with pytest.raises(RuntimeError, match="after 8 attempts"):
        graph.with_retries(unreachable)
    assert sum(slept) == 91.0


def test_a_run_whose_process_died_is_marked_failed_by_the_next_start() -> None:
    """Issue 27 (5): a killed run stayed "STARTED" in Dagster forever. A run of this host whose
    process is gone is marked failed; one whose process lives, or of another host, is left."""
    import os
    import socket
    import subprocess

    from dagster import DagsterEvent, DagsterEventType, DagsterInstance, DagsterRunStatus, job, op

    from pipelines.runner import HOST_TAG, PID_TAG, fail_lost_runs

    @op
    def noop() -> None:
        pass

    @job
    def tiny() -> None:
        noop()

    dead = subprocess.Popen(["true"])
    dead.wait()
    with DagsterInstance.ephemeral() as instance:
        runs = {}
        for name, pid, host in (("lost", dead.pid, socket.gethostname()), ("alive", os.getppid(), socket.gethostname()),
                                ("elsewhere", dead.pid, "another-host")):
            run = instance.create_run_for_job(tiny, tags={PID_TAG: str(pid), HOST_TAG: host})
            instance.report_dagster_event(DagsterEvent(DagsterEventType.RUN_START.value, job_name="tiny"), run.run_id)
            runs[name] = run.run_id
        assert fail_lost_runs(instance, log=lambda _line: None) == [runs["lost"]]
        status = {name: instance.get_run_by_id(run_id).status for name, run_id in runs.items()}
    assert status == {"lost": DagsterRunStatus.FAILURE, "alive": DagsterRunStatus.STARTED,
                      "elsewhere": DagsterRunStatus.STARTED}

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

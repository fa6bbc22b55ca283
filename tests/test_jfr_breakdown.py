"""bench/jfr_breakdown.breakdown: reads `jfr print` output (here from a stand-in `jfr` that
prints canned events in the JDK tool's format) into shares of the server's samples."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SAMPLES = """\
jdk.ExecutionSample {
  startTime = 20:45:58.651
  sampledThread = "neo4j.BoltWorker-3 [bolt-12]" (javaThreadId = 55)
  state = "STATE_RUNNABLE"
  stackTrace = [
    org.neo4j.internal.recordstorage.RecordStorageEngine.createCommands(Collection, ReadableTransactionState) line: 283
    org.neo4j.kernel.impl.api.KernelTransactionImplementation.commit(KernelTransaction$KernelTransactionMonitor) line: 590
  ]
}

jdk.ExecutionSample {
  startTime = 20:45:58.671
  sampledThread = "neo4j.BoltWorker-4" (javaThreadId = 56)
  state = "STATE_RUNNABLE"
  stackTrace = [
    org.neo4j.cypher.operations.FunctionInvocation.apply(AnyValue[]) line: 12
    org.neo4j.cypher.internal.runtime.CypherExecutableQuery.execute(QueryContext) line: 40
  ]
}

jdk.ExecutionSample {
  startTime = 20:45:58.691
  sampledThread = "neo4j.BoltWorker-4" (javaThreadId = 56)
  state = "STATE_RUNNABLE"
  stackTrace = [
    org.neo4j.kernel.impl.api.KernelTransactionImplementation.commitTime() line: 7
  ]
}

jdk.ExecutionSample {
  startTime = 20:45:58.711
  sampledThread = "neo4j.StorageMaintenance-7" (javaThreadId = 75)
  state = "STATE_RUNNABLE"
  stackTrace = [
    org.neo4j.internal.id.indexed.IndexedIdGenerator.feedDirectlyToCache(long, int, IdRangeMarker) line: 621
  ]
}
"""

PARKS = """\
jdk.ThreadPark {
  startTime = 20:46:00.295
  duration = 200 ms
  eventThread = "neo4j.BoltWorker-4" (javaThreadId = 25)
  stackTrace = [
    jdk.internal.misc.Unsafe.park(boolean, long)
    org.neo4j.bolt.protocol.common.connection.AtomicSchedulingConnection.doExecuteJobs() line: 201
  ]
}

jdk.ThreadPark {
  startTime = 20:46:01.295
  duration = 1.5 s
  eventThread = "neo4j.BoltWorker-5" (javaThreadId = 26)
  stackTrace = [
    jdk.internal.misc.Unsafe.park(boolean, long)
    org.neo4j.bolt.protocol.common.connection.AtomicSchedulingConnection.doExecuteJobs() line: 201
  ]
}

jdk.ThreadPark {
  startTime = 20:46:02.295
  duration = 9 s
  eventThread = "neo4j.BoltWorker-6" (javaThreadId = 27)
  stackTrace = [
    jdk.internal.misc.Unsafe.park(boolean, long)
    java.util.concurrent.ThreadPoolExecutor.getTask() line: 1062
  ]
}
"""


@pytest.fixture(scope="module")
def jfr_breakdown(load_bench_module):
    return load_bench_module("jfr_breakdown")


@pytest.fixture()
def fake_jfr(tmp_path: Path) -> str:
    """A `jfr` that answers `jfr print --events E ...` with the canned events of E."""
    (tmp_path / "jdk.ExecutionSample.txt").write_text(SAMPLES)
    (tmp_path / "jdk.ThreadPark.txt").write_text(PARKS)
    tool = tmp_path / "jfr"
    tool.write_text(f"#!{sys.executable}\nimport sys\nevent = sys.argv[sys.argv.index('--events') + 1]\n"
                    f"print(open({str(tmp_path)!r} + '/' + event + '.txt').read())\n")
    tool.chmod(0o755)
    return str(tool)


def test_samples_count_in_every_part_on_their_stack(jfr_breakdown, fake_jfr: str, tmp_path: Path) -> None:
    result = jfr_breakdown.breakdown(tmp_path / "load.jfr", jfr=fake_jfr)
    assert result["samples"] == 4
    assert result["threads"] == {"neo4j.BoltWorker": 3, "neo4j.StorageMaintenance": 1}
    parts = result["parts"]
    # the first sample sits in commit and, inside it, in recording commands
    assert parts["commit"] == 25.0 and parts["  record commands from the transaction state"] == 25.0
    # nested parts overlap: the second sample counts in both
    assert parts["statement execution"] == 25.0 and parts["  function calls (id(), datetime())"] == 25.0
    # commitTime() is not commit(): a method whose name only extends a part's does not count
    assert parts["  apply to the store"] == 0.0 and parts["lock manager"] == 0.0
    assert set(parts) == {name for name, _ in jfr_breakdown.PARTS}


def test_only_bolt_workers_waiting_for_their_client_count_as_waiting(jfr_breakdown, fake_jfr: str,
                                                                    tmp_path: Path) -> None:
    result = jfr_breakdown.breakdown(tmp_path / "load.jfr", jfr=fake_jfr)
    assert result["bolt_workers_waiting_for_client_s"] == 1.7  # 200 ms + 1.5 s; the idle pool thread's 9 s is not
    assert "1.7 s" in jfr_breakdown.text(result)

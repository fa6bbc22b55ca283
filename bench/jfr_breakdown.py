"""Where a Neo4j server's CPU went, from a Java Flight Recorder file (`jfr`, shipped with the JDK).

    .venv/bin/python bench/jfr_breakdown.py bench/results/load_warm.jfr

Counts the execution samples (`jdk.ExecutionSample`) whose stack passes through each part of
the write path (a sample counts in every part on its stack, so nested parts overlap), and the
time Bolt workers sat parked waiting for their client. `bench_load.py --jfr` records one more
warm load this way (after a thrown-away recorded one); docs/benchmarks.md (Neo4j load:
findings and history) reads the result.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

# part -> a method on the stack (class.method, as `jfr print` writes it); indented = inside the one above
PARTS = [
    ("commit", "KernelTransactionImplementation.commit"),
    ("  record commands from the transaction state", "RecordStorageEngine.createCommands"),
    ("  apply to the store", "InternalTransactionCommitProcess.applyToStore"),
    ("  append to the transaction log", "InternalTransactionCommitProcess.appendToLog"),
    ("statement execution", "CypherExecutableQuery.execute"),
    ("  plans with an Eager operator", "EagerSlottedPipe.internalCreateResults"),
    ("  function calls (id(), datetime())", "FunctionInvocation.apply"),
    ("Bolt parameter decoding", "PackstreamValueReader.readValue"),
    ("lock manager", r"ForsetiClient\.(?:acquireShared|acquireExclusive|releaseAllLocks)"),
    ("uniqueness checks at commit", "Operations.validateNoExistingNodeWithExactValues"),
]


def jfr_tool(java: str | None = None) -> str:
    """The `jfr` next to the `java` Neo4j runs on (neo4j_server.find_java)."""
    if java is None:
        from pipelines import neo4j_server
        java = neo4j_server.find_java()
    return str(Path(java).resolve().parent / "jfr")


def _events(jfr: str, path: Path, event: str) -> list[str]:
    out = subprocess.run([jfr, "print", "--events", event, "--stack-depth", "96", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return out.split(f"{event} {{")[1:]


def breakdown(path: Path, jfr: str | None = None) -> dict:
    """Share of execution samples per part (``PARTS``), samples per thread kind, and seconds Bolt
    workers were parked waiting for their client's next message (in parks of >= 10 ms)."""
    jfr = jfr or jfr_tool()
    samples = _events(jfr, path, "jdk.ExecutionSample")
    threads: Counter = Counter()
    parts: Counter = Counter()
    patterns = [(name, p if "\\" in p else re.escape(p)) for name, p in PARTS]
    for event in samples:
        thread = re.search(r'sampledThread = "([^"\[]*)', event)
        threads[re.sub(r"[-0-9]+\s*$", "", thread.group(1).strip()) if thread else "?"] += 1
        stack = event.split("stackTrace = [", 1)[-1]
        for name, pattern in patterns:
            if re.search(pattern + r"\(", stack):  # the method itself, not one whose name extends it
                parts[name] += 1
    waiting = 0.0
    for event in _events(jfr, path, "jdk.ThreadPark"):
        if "BoltWorker" in event and "AtomicSchedulingConnection.doExecuteJobs" in event:
            took = re.search(r"duration = ([0-9.]+) (ms|s)\b", event)
            if took:
                waiting += float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)
    n = max(len(samples), 1)
    return {"samples": len(samples), "threads": dict(threads.most_common(6)),
            "parts": {name: round(100 * parts[name] / n, 1) for name, _ in PARTS},
            "bolt_workers_waiting_for_client_s": round(waiting, 1)}


def text(result: dict) -> str:
    lines = [f"{result['samples']:,} execution samples; by thread: "
             + ", ".join(f"{k} {v:,}" for k, v in result["threads"].items())]
    lines += [f"{share:5.1f}%  {name}" for name, share in result["parts"].items()]
    lines.append(f"Bolt workers parked waiting for their client (parks >= 10 ms): "
                 f"{result['bolt_workers_waiting_for_client_s']} s")
    return "\n".join(lines)


if __name__ == "__main__":
    print(text(breakdown(Path(sys.argv[1]))))

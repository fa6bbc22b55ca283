"""The README's main command: the whole product on a generated world, on the embedded Neo4j."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from pipelines.paths import state_dir


def world_dir(preset: str, seed: int) -> Path:
    return state_dir() / "worlds" / f"{preset}-{seed}"


def ensure_world(preset: str, seed: int, echo: Callable[[str], None]) -> Path:
    """Generate the world once; later demos reuse it (same preset and seed, same content)."""
    from pipelines.generate import generate_world

    folder = world_dir(preset, seed)
    if (folder / "truth.csv").exists():
        echo(f"reusing the {preset} world in {folder}")
        return folder
    echo(f"generating the {preset} world (seed {seed}) into {folder} ...")
    generate_world(preset, seed, folder)
    return folder


def top_campaigns(limit: int = 10) -> pd.DataFrame:
    """The Browser's top-campaigns query, run through the same statement file."""
    from pipelines import attribution, neo4j_client

    with neo4j_client.open_driver() as driver:
        rows = attribution.run_query(driver, "top_campaigns", limit=limit, min_campaign_score=1.1)
    return pd.DataFrame(rows)


def run_demo(preset: str = "demo", seed: int = 0, top: int = 10, echo: Callable[[str], None] = print) -> None:
    from pipelines import evaluate
    from pipelines.runner import export_neo4j_environment, run_pipeline

    started = time.perf_counter()
    # The JVM starts (and, the first time, Maven fetches) while Python generates the world.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        neo4j_up = pool.submit(export_neo4j_environment)
        data_dir = ensure_world(preset, seed, echo)
        info = neo4j_up.result()
    echo(f"Neo4j is up at {info['uri']}")
    output_dir = state_dir() / "output" / f"{preset}-{seed}"
    echo("running the pipeline (contract -> features -> links -> entities -> Neo4j -> attribution -> reports) ...")
    run = run_pipeline(data_dir, output_dir)
    if not run.success:
        raise SystemExit(
            f"pipeline run {run.run_id} failed at {', '.join(run.failed_steps) or '?'}; "
            f"failed checks: {', '.join(run.failed_checks) or 'none'}. Open the Dagster UI (make dagster) for details."
        )
    campaigns = top_campaigns(top)
    echo("")
    echo(f"Top {len(campaigns)} campaigns by exchanges:")
    echo(campaigns.to_string(index=False) if len(campaigns) else "(none flagged)")
    report = evaluate.evaluate(output_dir, data_dir / "truth.csv")
    echo("")
    echo("Against the generator's ground truth:")
    for line in evaluate.summary_lines(report)[:6]:
        echo("  " + line)
    echo("")
    echo(f"Results folder: {output_dir} (case files in {output_dir / 'cases'})")
    echo(f"Neo4j Browser:  {info['browser_url']}  (user {info['user']}; `.venv/bin/sybilgraph neo4j status` names the password file)")
    echo("Dagster UI:     make dagster  -> http://127.0.0.1:3000")
    echo(f"Done in {time.perf_counter() - started:.0f} s.")

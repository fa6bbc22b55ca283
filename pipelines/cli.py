"""The ``sybilgraph`` command. Each subcommand is a thin shell over a stage module.

Sections are owned by the module they call; keep imports inside the commands so
``sybilgraph --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Resolve API accounts into operators and attribute distillation campaigns."""
    from pipelines.paths import private_files

    private_files()  # results, frames, caches and the state folder: owner-only


# --- neo4j: embedded server (pipelines.neo4j_server) -----------------------------------


@main.group("neo4j")
def neo4j_group() -> None:
    """The embedded Neo4j Community server (fetched with Maven on first start).

    With NEO4J_URI set these commands start nothing and talk to that server instead.
    """


_instance_option = click.option(
    "--instance-dir", type=click.Path(file_okay=False), default=None,
    help="Instance folder (conf, data, logs); default .sybilgraph/neo4j/instance "
         "or SYBILGRAPH_NEO4J_INSTANCE.")


def _neo4j_call(function, *args, **kwargs):
    """Run a neo4j_server/neo4j_client function; their errors become one clean CLI message."""
    from pipelines.neo4j_client import Neo4jConnectionError
    from pipelines.neo4j_server import Neo4jServerError

    try:
        return function(*args, **kwargs)
    except (Neo4jServerError, Neo4jConnectionError) as exc:
        raise click.ClickException(str(exc)) from None


def _echo_external(action: str) -> bool:
    """With NEO4J_URI set: say so, check the connection, and tell the caller to do nothing."""
    import os

    from pipelines import neo4j_client

    uri = os.environ.get("NEO4J_URI")
    if not uri:
        return False
    settings = _neo4j_call(neo4j_client.connection_settings)
    with _neo4j_call(neo4j_client.open_driver, settings) as driver:
        version = neo4j_client.server_version(driver)
    click.echo(f"NEO4J_URI is set, so nothing {action} here. Neo4j {version} at {uri} "
               f"answers for user '{settings.user}'.")
    return True


@neo4j_group.command("start")
@_instance_option
@click.option("--bolt-port", type=int, default=None, help="Default 7687 or SYBILGRAPH_NEO4J_BOLT_PORT.")
@click.option("--http-port", type=int, default=None, help="Default 7474 or SYBILGRAPH_NEO4J_HTTP_PORT.")
@click.option("--heap", default=None, help="JVM heap, e.g. 2g (default SYBILGRAPH_NEO4J_HEAP, else 4g with 16 GiB of RAM or more, else 2g).")
@click.option("--pagecache", default=None,
              help="Page cache, e.g. 2g (default 2g or SYBILGRAPH_NEO4J_PAGECACHE).")
@click.option("--timeout", type=float, default=None,
              help="Seconds to wait for Bolt (default 240 or SYBILGRAPH_NEO4J_START_TIMEOUT).")
def neo4j_start(instance_dir: str | None, bolt_port: int | None, http_port: int | None,
                heap: str | None, pagecache: str | None, timeout: float | None) -> None:
    """Fetch (first time only) and start Neo4j in the background; print its URLs."""
    from pipelines import neo4j_server

    if _echo_external("is started"):
        return
    settings = _neo4j_call(neo4j_server.server_settings, instance_dir, bolt_port, http_port, heap, pagecache)
    running = _neo4j_call(neo4j_server.start, settings, timeout=timeout, echo=click.echo)
    for line in neo4j_server.format_status(neo4j_server.status(running)):
        click.echo(line)


@neo4j_group.command("stop")
@_instance_option
@click.option("--timeout", type=float, default=60, show_default=True,
              help="Seconds to wait after SIGTERM before SIGKILL.")
def neo4j_stop(instance_dir: str | None, timeout: float) -> None:
    """Stop the embedded Neo4j (clean shutdown, killed only after the timeout)."""
    from pipelines import neo4j_server

    if _echo_external("is stopped"):
        return
    settings = _neo4j_call(neo4j_server.server_settings, instance_dir)
    neo4j_server.stop(settings, timeout=timeout, echo=click.echo)


@neo4j_group.command("status")
@_instance_option
def neo4j_status(instance_dir: str | None) -> None:
    """Version, Bolt and Browser URLs, pid, store size and where the password is kept."""
    from pipelines import neo4j_server

    if _echo_external("runs"):
        return
    settings = _neo4j_call(neo4j_server.server_settings, instance_dir)
    for line in neo4j_server.format_status(neo4j_server.status(settings)):
        click.echo(line)


@neo4j_group.command("logs")
@_instance_option
@click.option("-n", "--lines", type=int, default=40, show_default=True)
@click.option("--debug", is_flag=True, help="Tail debug.log instead of neo4j.log.")
def neo4j_logs(instance_dir: str | None, lines: int, debug: bool) -> None:
    """Print the end of the server log."""
    from pipelines import neo4j_server

    settings = _neo4j_call(neo4j_server.server_settings, instance_dir)
    click.echo(neo4j_server.log_tail(settings, lines=lines, debug=debug))


# --- schema (pipelines.neo4j_client) ------------------------------------------------------


@main.group("schema")
def schema_group() -> None:
    """The graph schema in graph_schema/constraints (uniqueness constraints and indexes)."""


@schema_group.command("apply")
@_instance_option
def schema_apply(instance_dir: str | None) -> None:
    """Create every constraint and index, IF NOT EXISTS (safe to repeat)."""
    from pipelines import neo4j_client, neo4j_server

    server = _neo4j_call(neo4j_server.server_settings, instance_dir)
    settings = _neo4j_call(neo4j_client.connection_settings, server)
    with _neo4j_call(neo4j_client.open_driver, settings) as driver:
        applied = neo4j_client.apply_schema(driver)
    click.echo(f"Applied {len(applied)} schema statements at {settings.uri}.")


# --- generate (pipelines.generate) -------------------------------------------------------



@main.command()
@click.option("--preset", type=click.Choice(["tiny", "demo", "seed"]), default="demo",
              show_default=True, help="World size: tiny (tests), demo (README), seed (real scale).")
@click.option("--seed", "seed", type=int, default=0, show_default=True,
              help="Random seed; the same preset and seed give the same content.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the input tables and truth.csv into.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet",
              show_default=True)
def generate(preset: str, seed: int, out: Path, fmt: str) -> None:
    """Write a synthetic platform world with planted campaigns and its ground truth."""
    from pipelines.generate import generate_world

    s = generate_world(preset, seed, out, fmt)
    click.echo(
        f"{preset} world (seed {seed}) in {s.out}: {s.n_accounts} accounts "
        f"({s.n_campaign_accounts} campaign), {s.n_payment_methods} payment methods, "
        f"{s.n_exchanges} exchanges, {s.n_ip_events} ip_events"
    )


# --- resolve / evaluate (pipelines.resolve, pipelines.evaluate) --------------------------


@main.command("resolve")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Input folder of contract tables.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Results folder (account_entities.csv, entities.csv, links.csv).")
@click.option("--previous", "previous", default=None, type=click.Path(exists=True),
              help="A previous results folder: entities keeping most members keep their ids.")
@click.option("--decisions", "decisions", default=None, type=click.Path(exists=True, dir_okay=False),
              help="CSV kind,account_a,account_b (kind: same_operator | not_same_operator).")
@click.option("--cache", "cache_dir", default=None, type=click.Path(file_okay=False),
              help="Prompt-signature cache folder (default: <state dir>/cache); results never depend on it.")
@click.option("--no-cache", "no_cache", is_flag=True, default=False, help="Sign every prompt afresh, keep no cache.")
@click.option("--model", "model_path", default=None, type=click.Path(dir_okay=False),
              help="Fellegi-Sunter model file: reused while younger than --refit-days (unchanged pairs keep "
                   "their scores from run to run), else estimated and written there. Default: estimate every run.")
@click.option("--refit-days", "refit_days", type=float, default=7.0, show_default=True,
              help="Age at which the --model file is re-estimated (0: every run).")
def resolve_command(data_dir: str, out_dir: str, previous: str | None, decisions: str | None,
                    cache_dir: str | None, no_cache: bool, model_path: str | None, refit_days: float) -> None:
    """Resolve accounts into entities (operators) and score campaigns."""
    from pipelines.contract import ContractError
    from pipelines.paths import state_dir
    from pipelines.resolve import run_resolution

    cache = None if no_cache else (cache_dir or state_dir() / "cache")
    try:
        result = run_resolution(data_dir, out_dir, previous=previous, decisions=decisions, cache_dir=cache,
                                log=lambda line: click.echo(line, err=True), model_path=model_path,
                                refit_days=refit_days)
    except (ContractError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    ents = result.entities
    click.echo(
        f"{len(result.account_entities)} accounts -> {len(ents)} entities "
        f"({int(ents['is_campaign'].sum())} campaign entities, "
        f"{int(ents.loc[ents['is_campaign'], 'n_accounts'].sum())} campaign accounts), "
        f"{len(result.links)} links; results in {result.out_dir}"
    )
    click.echo("timings (s): " + ", ".join(f"{k} {v}" for k, v in result.timings.items()))
    click.echo(f"prompt texts: {result.prompts_computed} signed, {result.prompts_reused} from the memo/cache")
    click.echo(f"Fellegi-Sunter model: {result.model}")


# --- validate / evaluate (pipelines.contract, pipelines.evaluate) ---


@main.command("validate")
@click.option("--data", "data_dir", required=True, type=click.Path(path_type=Path),
              help="Input folder of contract tables (Parquet or CSV).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Write quarantine.csv and contract_counts.csv here.")
@click.option("--show", default=20, show_default=True, help="Quarantine rows to print.")
def validate_command(data_dir: Path, out_dir: Path | None, show: int) -> None:
    """Check an input folder against the data contract and report quarantined rows."""
    from pipelines.contract import ContractError, read_inputs, write_quarantine

    try:
        inputs = read_inputs(data_dir)
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(inputs.counts.to_string(index=False))
    if len(inputs.quarantine):
        click.echo(f"\n{len(inputs.quarantine)} quarantined row(s); first {min(show, len(inputs.quarantine))}:")
        click.echo(inputs.quarantine.head(show).to_string(index=False))
    if out_dir is not None:
        paths = write_quarantine(inputs, out_dir)
        click.echo(f"\nwrote {paths['quarantine']} and {paths['counts']}")


@main.command("evaluate")
@click.option("--results", "results_dir", required=True, type=click.Path(path_type=Path),
              help="Results folder (account_entities.csv, entities.csv).")
@click.option("--truth", "truth_csv", required=True, type=click.Path(path_type=Path),
              help="truth.csv written by the generator.")
@click.option("--allow-missing", is_flag=True,
              help="Count truth accounts absent from the results (e.g. quarantined) instead of failing.")
def evaluate_command(results_dir: Path, truth_csv: Path, allow_missing: bool) -> None:
    """Score results against truth; prints a summary and writes evaluation.json beside the results."""
    from pipelines.evaluate import EvaluationError, evaluate, summary_lines, write_evaluation

    try:
        report = evaluate(results_dir, truth_csv, allow_missing=allow_missing)
    except EvaluationError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in summary_lines(report):
        click.echo(line)
    click.echo(f"wrote {write_evaluation(report, results_dir)}")


# --- pipeline / demo / dagster dev (pipelines.definitions) ------------------------------


@main.group("pipeline")
def pipeline_group() -> None:
    """The Dagster job from the shell (recorded in the project's Dagster instance)."""


def _run_and_report(data_dir: Path, output_dir: Path | None, batch_rows: int | None,
                    full_graph_load: bool = False, refit: bool = False) -> "object":
    from pipelines.runner import export_neo4j_environment, run_pipeline

    export_neo4j_environment()
    run = run_pipeline(data_dir, output_dir, batch_rows=batch_rows, full_graph_load=full_graph_load, refit=refit)
    if not run.success:
        raise click.ClickException(
            f"pipeline run {run.run_id} failed: steps {', '.join(run.failed_steps) or '-'}; "
            f"failed checks {', '.join(run.failed_checks) or '-'} (see the Dagster UI: make dagster)"
        )
    click.echo(f"pipeline run {run.run_id} succeeded; results in {run.output_dir}")
    if run.failed_checks:
        click.echo("non-blocking checks failed: " + ", ".join(run.failed_checks))
        for check, listed in run.check_details.items():
            click.echo(f"{check}:\n  " + listed.replace("\n", "\n  "))
    return run


@pipeline_group.command("run")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Input folder of contract tables.")
@click.option("--out", "output_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Results folder (default .sybilgraph/output).")
@click.option("--batch-rows", default=None, type=int, help="Rows per UNWIND batch for the Neo4j load.")
@click.option("--full-graph-load", is_flag=True, default=False,
              help="Wipe the derived graph and load every row, instead of writing only what changed since "
                   "the last load (use after editing the graph by hand or restoring a backup).")
@click.option("--refit", is_flag=True, default=False,
              help="Re-estimate the Fellegi-Sunter model now instead of reusing the saved one "
                   "(daily runs reuse it for `refit_days`, 7 by default).")
def pipeline_run(data_dir: Path, output_dir: Path | None, batch_rows: int | None, full_graph_load: bool,
                 refit: bool) -> None:
    """Materialise every asset over DATA, with asset checks, into Neo4j and the results folder."""
    _run_and_report(data_dir, output_dir, batch_rows, full_graph_load, refit)


@main.command("demo")
@click.option("--preset", type=click.Choice(["tiny", "demo"]), default="demo", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--top", type=int, default=10, show_default=True, help="Campaigns to print.")
def demo_command(preset: str, seed: int, top: int) -> None:
    """Neo4j up, a demo world generated, the whole pipeline run, the top campaigns printed."""
    from pipelines import demo

    demo.run_demo(preset=preset, seed=seed, top=top, echo=click.echo)


def other_logged_in_users() -> list[str]:
    """Other user names `who` lists (empty when there is no `who` or nobody else)."""
    import getpass
    import subprocess

    try:
        listing = subprocess.run(["who"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    me = getpass.getuser()
    return sorted({line.split()[0] for line in listing.splitlines() if line.split() and line.split()[0] != me})


@main.command("dagster-dev")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address of the Dagster UI.")
@click.option("--port", default=3000, show_default=True, type=int)
def dagster_dev(host: str, port: int) -> None:
    """Start `dagster dev -w workspace.yaml` against the embedded (or NEO4J_URI) Neo4j."""
    import os

    from pipelines.paths import PROJECT_ROOT
    from pipelines.runner import export_neo4j_environment, use_project_dagster_home

    use_project_dagster_home()
    others = other_logged_in_users()
    if others:
        click.echo(f"warning: {', '.join(others)} also logged in here. The Dagster UI has no authentication: "
                   "anyone on this machine can launch runs and read run logs. On a shared host put it "
                   "behind an authenticating proxy (docs/deploy.md).", err=True)
    info = export_neo4j_environment()
    click.echo(f"Neo4j at {info['uri']}; Dagster UI on http://{host}:{port}")
    dagster = Path(__import__("sys").executable).with_name("dagster")
    os.chdir(PROJECT_ROOT)
    os.execv(str(dagster), [str(dagster), "dev", "-w", "workspace.yaml", "-h", host, "-p", str(port)])


# --- attribution / analyst decisions / Browser guide (pipelines.attribution, pipelines.browser_guide)


def _open_graph_driver():
    from pipelines import neo4j_client

    settings = _neo4j_call(neo4j_client.connection_settings)
    return settings, _neo4j_call(neo4j_client.open_driver, settings)


@main.command("attribute")
@click.option("--top", default=20, show_default=True, help="Attributed entities to print.")
def attribute_command(top: int) -> None:
    """Run the Cypher attribution on the current graph (what the pipeline's asset runs)."""
    from pipelines import attribution

    settings, driver = _open_graph_driver()
    with driver:
        result = attribution.run_attribution(driver)
    click.echo(f"{len(result)} entities attributed at {settings.uri}")
    if len(result):
        shown = result.sort_values(["n_accounts", "confidence"], ascending=False).head(top)
        click.echo(shown[["entity_id", "org_id", "confidence", "method", "n_accounts", "is_campaign"]].to_string(index=False))


@main.command("decide")
@click.argument("kind", type=click.Choice(["same_operator", "not_same_operator", "confirmed_org", "not_org"]))
@click.argument("first")
@click.argument("second")
@click.option("--analyst", default=None, help="Who decided (stored on the decision).")
@click.option("--note", default=None, help="Why (stored on the decision).")
def decide_command(kind: str, first: str, second: str, analyst: str | None, note: str | None) -> None:
    """Record an analyst decision: same_operator/not_same_operator ACCOUNT ACCOUNT, or
    confirmed_org/not_org ENTITY ORG. The next run honours it; the pipeline never deletes it."""
    from pipelines import attribution

    _, driver = _open_graph_driver()
    with driver:
        try:
            if kind in attribution.ACCOUNT_DECISION_KINDS:
                row = attribution.record_account_decision(driver, kind, first, second, analyst, note)
            else:
                row = attribution.record_org_decision(driver, kind, first, second, analyst, note)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"recorded {row['decision']}: {first} -> {second}")


@main.group("guide")
def guide_group() -> None:
    """The analyst's Neo4j Browser guide (graph_schema/guide/sybilgraph.html)."""


@guide_group.command("write")
def guide_write() -> None:
    """Regenerate the guide from graph_schema/queries (run after changing a query)."""
    from pipelines import browser_guide

    click.echo(f"wrote {browser_guide.write_guide()}")


@guide_group.command("serve")
@click.option("--port", default=7480, show_default=True, type=int, help="Loopback port for the guide.")
def guide_serve(port: int) -> None:
    """Serve the guide on localhost until Ctrl-C, and print what to type in the Browser."""
    import time

    from pipelines import browser_guide, neo4j_server

    server = browser_guide.start_guide_server(port)
    if not neo4j_server.external_uri():
        click.echo(f"Neo4j Browser: {neo4j_server.running_settings(neo4j_server.server_settings()).browser_url}")
    click.echo(f"In the Browser, run:  {browser_guide.play_command(port)}")
    click.echo("Serving the guide; Ctrl-C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()

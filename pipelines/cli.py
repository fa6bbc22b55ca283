"""The ``sybilgraph`` command. Each subcommand is a thin shell over a stage module.

Sections are owned by the module they call; keep imports inside the commands so
``sybilgraph --help`` stays fast.
"""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Resolve API accounts into operators and attribute distillation campaigns."""


# --- neo4j: embedded server (pipelines.neo4j_server) -----------------------------------


# --- schema (pipelines.neo4j_client) ------------------------------------------------------


# --- generate (pipelines.generate) -------------------------------------------------------

from pathlib import Path  # noqa: E402  (this section needs it at import time for click)


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
def resolve_command(data_dir: str, out_dir: str, previous: str | None, decisions: str | None) -> None:
    """Resolve accounts into entities (operators) and score campaigns."""
    from pipelines.contract import ContractError
    from pipelines.resolve import run_resolution

    try:
        result = run_resolution(data_dir, out_dir, previous=previous, decisions=decisions)
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


# --- validate / evaluate (pipelines.contract, pipelines.evaluate) ---

from pathlib import Path  # noqa: E402  (kept in this section so other sections stay untouched)

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
def evaluate_command(results_dir: Path, truth_csv: Path) -> None:
    """Score results against truth; prints a summary and writes evaluation.json beside the results."""
    from pipelines.evaluate import EvaluationError, evaluate, summary_lines, write_evaluation

    try:
        report = evaluate(results_dir, truth_csv)
    except EvaluationError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in summary_lines(report):
        click.echo(line)
    click.echo(f"wrote {write_evaluation(report, results_dir)}")


# --- pipeline / demo / dagster dev (pipelines.definitions) ------------------------------


if __name__ == "__main__":
    main()

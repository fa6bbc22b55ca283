"""Synthetic platform world: planted distillation campaigns, benign look-alikes and ground truth.

``generate_world(preset, seed, out)`` writes every input table of the data contract plus
``truth.csv`` (with an extra ``kind`` column naming the population segment). Same preset and
seed give the same content. See ``docs/world.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .activity import EXCHANGES_SCHEMA, account_chunks, activity, signup_events
from .assemble import World, assemble
from .presets import PRESETS, preset_params
from .world import WorldParams
from .writer import TableWriter, remove_stale, write_table, write_truth

__all__ = [
    "PRESETS", "GenerationSummary", "World", "assemble", "generate_world", "preset_params", "write_world"
]


@dataclass(frozen=True)
class GenerationSummary:
    out: Path
    n_accounts: int
    n_payment_methods: int
    n_exchanges: int
    n_ip_events: int
    n_campaign_accounts: int


def write_world(
    params: WorldParams, seed: int, out: Path, fmt: str = "parquet", progress: bool | None = None
) -> GenerationSummary:
    """Generate ``params`` with ``seed`` into ``out``; exchanges are streamed in chunks."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, not {fmt!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale(out)
    world = assemble(params, seed)
    P = world.profiles
    for name in ("accounts", "payment_methods", "networks", "organizations"):
        write_table(out, name, fmt, getattr(world, name))
    write_truth(out, world.truth)

    signups = signup_events(P)
    ex_writer = TableWriter(out, "exchanges", fmt, EXCHANGES_SCHEMA)
    ev_writer = TableWriter(out, "ip_events", fmt, signups.schema)
    ev_writer.write(signups)
    n_ex, n_ev = 0, signups.num_rows
    chunks = len(account_chunks(P.n_ex, params.chunk_exchanges))
    bar = tqdm(
        total=int(P.n_ex.sum()), unit="exch", unit_scale=True, desc=f"generate {params.preset}",
        disable=(chunks < 3) if progress is None else not progress,
    )
    for exchanges, events in activity(seed, P, params):
        ex_writer.write(exchanges)
        ev_writer.write(events)
        n_ex += exchanges.num_rows
        n_ev += events.num_rows
        bar.update(exchanges.num_rows)
    bar.close()
    ex_writer.close()
    ev_writer.close()
    return GenerationSummary(
        out=out,
        n_accounts=world.accounts.num_rows,
        n_payment_methods=world.payment_methods.num_rows,
        n_exchanges=n_ex,
        n_ip_events=n_ev,
        n_campaign_accounts=int(sum(world.truth["is_campaign"].to_pylist())),
    )


def generate_world(
    preset: str, seed: int, out: Path, fmt: str = "parquet", progress: bool | None = None
) -> GenerationSummary:
    """Generate one of the named presets (``tiny``, ``demo``, ``seed``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    return write_world(preset_params(preset), seed, out, fmt, progress)

"""End to end on the generator's `tiny` world: generate, resolve, evaluate against truth.

Floors sit a little below what the resolver measures on tiny (pairwise F1 ~0.98, campaign
precision/recall ~0.99, no look-alike false merges), so a real regression fails the test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.evaluate import evaluate
from pipelines.generate import generate_world
from pipelines.resolve import run_resolution


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    data = root / "data"
    generate_world("tiny", 7, data)
    first = run_resolution(data, root / "out")
    return data, root, first


def test_tiny_world_meets_quality_floors(tiny_run) -> None:
    data, root, result = tiny_run
    report = evaluate(root / "out", data / "truth.csv")
    assert report["pairwise"]["f1"] >= 0.93
    assert report["campaign_accounts"]["precision"] >= 0.95
    assert report["campaign_accounts"]["recall"] >= 0.95
    for kind in ("university", "vpn", "hackathon"):
        merges = report["false_merges_by_kind"].get(kind)
        if merges:
            assert merges["rate"] <= 0.005, (kind, merges)


def test_outputs_follow_the_contract(tiny_run) -> None:
    data, root, result = tiny_run
    accounts = pd.read_parquet(data / "accounts.parquet", columns=["account_id"])
    ae = pd.read_csv(root / "out" / "account_entities.csv", dtype=str)
    assert sorted(ae["account_id"]) == sorted(accounts["account_id"])
    ent = pd.read_csv(root / "out" / "entities.csv", dtype={"entity_id": str, "org_id": str, "is_campaign": str})
    assert list(ent.columns) == ["entity_id", "n_accounts", "org_id", "attribution_confidence", "campaign_score", "is_campaign"]
    assert set(ent["is_campaign"]) <= {"true", "false"}
    assert ent["campaign_score"].between(0, 1).all() and ent["attribution_confidence"].between(0, 1).all()
    assert ent.set_index("entity_id")["n_accounts"].equals(ae.groupby("entity_id").size().reindex(ent["entity_id"]).rename("n_accounts"))
    links = pd.read_csv(root / "out" / "links.csv", dtype={"account_a": str, "account_b": str})
    assert list(links.columns) == ["account_a", "account_b", "score", "evidence"]
    assert len(links) > 0 and links["evidence"].str.startswith("[").all()


def test_rerun_with_previous_keeps_entity_ids(tiny_run) -> None:
    data, root, first = tiny_run
    lines: list[str] = []
    second = run_resolution(data, root / "out2", previous=root / "out", log=lines.append)
    a = first.account_entities.set_index("account_id")["entity_id"]
    b = second.account_entities.set_index("account_id")["entity_id"]
    assert (a.sort_index() == b.sort_index()).all()
    # one progress line per stage as it finishes, naming its memory (what a dying seed run needs)
    assert [line.split()[1] for line in lines] == list(second.timings)
    assert all(line.startswith("resolve: ") and "GB" in line for line in lines)


def _read_outputs(folder) -> dict[str, str]:
    return {name: (folder / name).read_text() for name in
            ("account_entities.csv", "entities.csv", "links.csv", "quarantine.csv", "contract_counts.csv")}


def test_prompt_cache_never_changes_results(tiny_run, tmp_path) -> None:
    """A cold cache, a warm cache and a warm cache over a grown world all give the uncached output."""
    data, root, first = tiny_run
    cache = tmp_path / "cache"
    cold = run_resolution(data, tmp_path / "cold", cache_dir=cache)
    warm = run_resolution(data, tmp_path / "warm", cache_dir=cache)
    assert cold.prompts_computed > 0
    assert warm.prompts_computed == 0 and warm.prompts_reused == cold.prompts_computed
    expected = _read_outputs(root / "out")
    assert _read_outputs(tmp_path / "cold") == expected
    assert _read_outputs(tmp_path / "warm") == expected
    # the cache was filled from half of the exchanges: the rest are new texts, results the same
    half = tmp_path / "half"
    half.mkdir()
    for f in data.iterdir():
        if f.name == "exchanges.parquet":
            ex = pd.read_parquet(f)
            ex.iloc[: len(ex) // 2].to_parquet(half / f.name, index=False)
        else:
            (half / f.name).write_bytes(f.read_bytes())
    grown_cache = tmp_path / "grown_cache"
    run_resolution(half, tmp_path / "half_out", cache_dir=grown_cache)
    grown = run_resolution(data, tmp_path / "grown", cache_dir=grown_cache)
    assert grown.prompts_reused > 0 and grown.prompts_computed > 0
    assert _read_outputs(tmp_path / "grown") == expected


def test_small_batches_give_the_same_results(tiny_run, tmp_path) -> None:
    """Streaming exchanges and ip_events in many small batches equals the default batches."""
    data, root, first = tiny_run
    run_resolution(data, tmp_path / "small", batch_rows=997)
    assert _read_outputs(tmp_path / "small") == _read_outputs(root / "out")


def test_links_by_code_equal_the_text_path(tiny_run, monkeypatch) -> None:
    """The resolution chain (``resolve_accounts``, for the CLI and the Dagster assets) scores
    without text and explains only the written links (integer codes, evidence in chunks);
    ``score_pairs`` gives every accepted pair its text. Both must give the same clusters and
    the same links, evidence text included, whatever the chunk."""
    from pipelines import contract, entity_profiles, links, resolve
    from pipelines.features import account_features
    from pipelines.normalize import normalize_inputs

    data, root, first = tiny_run
    inputs = contract.read_inputs(data)
    inputs.tables["accounts"] = inputs.tables["accounts"].sort_values("account_id", kind="stable").reset_index(drop=True)
    norm = normalize_inputs(inputs)
    feats = account_features(norm)
    config = links.ResolutionConfig()
    cands = links.candidate_pairs(norm, feats, config)
    text = links.score_pairs(cands, norm, feats, config)
    lean, evidence = links.score_candidates(cands[["a", "b"]], norm, feats, config)
    assert text["score"].equals(lean["score"]) and text["match_probability"].equals(lean["match_probability"])
    codes = links._account_codes(norm)
    clusters = resolve.cluster_accounts(text, norm.accounts, None, config)
    pd.testing.assert_frame_equal(clusters, resolve.cluster_accounts(lean, norm.accounts, None, config, codes=codes))
    # the chain's group evidence after clustering (entity_profiles), then the ids
    clusters["cluster"] = entity_profiles.split_foreign_groups(clusters, norm, feats).labels
    attachment = entity_profiles.attach_fragments(clusters, norm, feats)
    members = resolve.assign_entity_ids(clusters.assign(cluster=attachment.labels))
    expected = resolve.links_for_output(text, members, config)
    assert len(expected) > 100
    monkeypatch.setattr(links.evidence_text, "EVIDENCE_CHUNK", 37)  # many chunks, each spanning the whole pair range
    got = resolve.links_for_output(lean, members, config, evidence=evidence, codes=codes)
    pd.testing.assert_frame_equal(expected, got, check_exact=True)
    chain = resolve.resolve_accounts(norm, feats, config)
    pd.testing.assert_frame_equal(chain.account_entities, members)
    # the pair links, then one profile link per attached fragment
    chain_links = chain.links_with_evidence()
    pd.testing.assert_frame_equal(chain_links.iloc[:len(expected)].astype(object), expected.astype(object), check_exact=True)
    profile = attachment.links()
    assert len(chain_links) == len(expected) + len(profile)
    tail = chain_links.iloc[len(expected):].reset_index(drop=True)
    assert tail["evidence"].astype(str).tolist() == profile["evidence"].astype(str).tolist()
    assert tail["account_a"].astype(str).tolist() == profile["account_a"].astype(str).tolist()
    assert chain.n_candidates == len(cands) and chain.candidates is None and chain.scored is None


def test_links_written_in_small_chunks_are_the_same_bytes(tiny_run, tmp_path, monkeypatch) -> None:
    """run_resolution builds the links' evidence text while writing links.csv, chunk by chunk."""
    from pipelines import results

    data, root, first = tiny_run
    monkeypatch.setattr(results, "LINK_CHUNK", 53)
    small = run_resolution(data, tmp_path / "chunks")
    assert len(small.links) > 3 * 53 and "evidence" not in small.links
    assert _read_outputs(tmp_path / "chunks") == _read_outputs(root / "out")


def test_resolve_with_a_model_file_estimates_once_then_reuses_it(tiny_run, tmp_path) -> None:
    """`sybilgraph resolve --model`: the first run fits and keeps the model, the next scores with
    it (same results: the same world), `--refit-days 0` fits again."""
    from click.testing import CliRunner

    from pipelines.cli import main

    data, root, first = tiny_run
    model = tmp_path / "fs_parameters.json"
    runner = CliRunner()
    outputs = []
    for n, extra in enumerate(([], [], ["--refit-days", "0"])):
        out = tmp_path / f"out{n}"
        result = runner.invoke(main, ["resolve", "--data", str(data), "--out", str(out), "--no-cache",
                                      "--model", str(model), *extra])
        assert result.exit_code == 0, result.output
        outputs.append((result.stdout, _read_outputs(out)))
    assert "Fellegi-Sunter model: estimated (no saved model)" in outputs[0][0]
    assert "Fellegi-Sunter model: reused (fitted " in outputs[1][0]
    assert "Fellegi-Sunter model: re-estimated (refit_days = 0)" in outputs[2][0]
    assert outputs[0][1] == outputs[1][1] == outputs[2][1] == _read_outputs(root / "out")


def test_pipeline_assets_run_the_cli_chain(tiny_run, tmp_path, monkeypatch) -> None:
    """The Dagster assets from the raw tables to the merge links (one multi-asset over
    ``resolve_accounts``) give the very files ``sybilgraph resolve`` writes; the asset checks on
    them pass. The analyst decisions, read from Neo4j in the pipeline, are an empty stand-in."""
    from dagster import DagsterInstance, asset, load_assets_from_modules, materialize

    from pipelines import results
    from pipelines.assets import checks, ingest, resolution
    from pipelines.assets.config import ResolutionSettings
    from pipelines.assets.io_manager import ParquetFrameIOManager, clear_frame_memo

    data, root, first = tiny_run
    monkeypatch.setenv("SYBILGRAPH_HOME", str(tmp_path / "home"))

    @asset(name="analyst_decisions")
    def no_decisions() -> pd.DataFrame:
        return pd.DataFrame({c: pd.array([], dtype="string") for c in ("kind", "account_a", "account_b")})

    frames = tmp_path / "frames"
    try:
        result = materialize(
            [*load_assets_from_modules([ingest, resolution]), no_decisions,
             checks.every_account_in_one_entity, checks.large_entities_have_strong_evidence],
            resources={"io_manager": ParquetFrameIOManager(base_dir=str(frames)),
                       "resolution": ResolutionSettings(output_dir=str(tmp_path / "output"),
                                                        parameters_path=str(tmp_path / "fs.json"))},
            run_config={"ops": {"raw_tables": {"config": {"data_dir": str(data)}}}},
            instance=DagsterInstance.ephemeral(), raise_on_error=True)
    finally:
        clear_frame_memo()
    assert all(e.passed for e in result.get_asset_check_evaluations())
    meta = {m.materialization.asset_key.to_user_string(): m.materialization.metadata
            for m in result.get_asset_materialization_events()}
    assert {"pairs_by_blocker"} <= meta["candidate_pairs"].keys()
    assert {"fellegi_sunter_model", "fellegi_sunter_parameters", "evidence_kinds"} <= meta["scored_links"].keys()
    assert {"entities", "entity_size_histogram", "previous_results_used"} <= meta["account_entities"].keys()
    assert {"campaign_entities", "campaign_accounts"} <= meta["entities"].keys()
    scored = pd.read_parquet(frames / "scored_links.parquet")
    assert {"account_a", "account_b", "a", "b", "score", "match_probability"} <= set(scored.columns)
    assert "evidence" not in scored
    results.write_results(tmp_path / "asset_out", *(pd.read_parquet(frames / f"{name}.parquet")
                                                    for name in ("account_entities", "entities", "merge_links")))
    for name in ("account_entities.csv", "entities.csv", "links.csv"):
        assert (tmp_path / "asset_out" / name).read_bytes() == (root / "out" / name).read_bytes(), name

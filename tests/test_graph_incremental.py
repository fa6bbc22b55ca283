"""Incremental graph loads (issue 5) against the real Neo4j on a ``tiny`` world cut into two days.

The reference is always a full load of the same frames into an empty database; an incremental
load must leave the very same graph (counts and a hash of every node and relationship with its
properties), write less, and fall back to a full load whenever the graph does not carry the
marker of the snapshot it would diff against.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines import contract, features, graph, links, neo4j_client, normalize, resolve
from pipelines.generate import generate_world
from reliability_helpers import content_differences, graph_content, wipe_graph
from test_soak import day_cutoffs, write_day

pytestmark = [pytest.mark.neo4j]

SEED = 5


def stage_frames(data_dir: Path, previous: pd.DataFrame | None) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The load's row frames for one day's drop (the stage modules, as the assets run them),
    and the memberships (passed to the next day so entity ids stay stable)."""
    inputs = contract.read_inputs(data_dir)
    resolve.sort_accounts(inputs)
    norm = normalize.normalize_inputs(inputs)
    feats = features.account_features(norm)
    res = resolve.resolve_accounts(norm, feats, links.ResolutionConfig(), previous=previous)
    frames = graph.build_graph_frames(
        norm, account_features=feats.accounts, account_templates=feats.account_templates,
        templates=feats.templates, ip_hours=feats.ip_hours, weekly_activity=feats.weekly_activity,
        links=res.links_with_evidence(), account_entities=res.account_entities, entities=res.entities,
    )
    return frames, res.account_entities


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> list[dict[str, pd.DataFrame]]:
    """Row frames of day 3 and day 4 of a five-day cut (day 4 adds accounts and exchanges)."""
    root = tmp_path_factory.mktemp("incremental")
    world = root / "world"
    generate_world("tiny", SEED, world)
    cutoffs = day_cutoffs(world)
    out, previous = [], None
    for day, cutoff in enumerate(cutoffs[2:4]):
        drop = root / f"day{day}"
        write_day(world, drop, cutoff)
        frames, previous = stage_frames(drop, previous)
        out.append(frames)
    return out


def load(driver, frames, snapshot: Path | None, **kw) -> graph.LoadReport:
    return graph.load_graph(driver, frames, batch_rows=500, snapshot_dir=snapshot, **kw)


def full_reference(driver, frames) -> tuple[dict[str, int], list[str]]:
    """The graph a full load of ``frames`` into an empty database gives."""
    wipe_graph(driver)
    report = load(driver, frames, None)
    assert report.mode == "full"
    return graph_content(driver)


def assert_same_graph(actual, reference) -> None:
    counts, lines = actual
    ref_counts, ref_lines = reference
    assert counts == ref_counts
    diff = content_differences(lines, ref_lines)
    assert diff == [], "\n".join(diff)


@pytest.fixture()
def fresh(neo4j_server):
    wipe_graph(neo4j_server.driver)
    neo4j_client.apply_schema(neo4j_server.driver)
    return neo4j_server.driver


def test_next_day_incremental_equals_full_load_and_writes_less(fresh, days, tmp_path):
    day1, day2 = days
    snap = tmp_path / "snap"
    first = load(fresh, day1, snap)
    assert first.mode == "full" and first.full_reason == "no snapshot of an earlier load"
    second = load(fresh, day2, snap)
    assert second.mode == "incremental", second.full_reason
    incremental = graph_content(fresh)
    full_rows = sum(len(f) for f in day2.values())
    assert 0 < second.total_rows < 0.8 * full_rows
    again = load(fresh, day2, snap)  # same frames again: nothing is written
    assert again.mode == "unchanged" and again.total_rows == 0 and again.stale_deleted == 0
    assert_same_graph(graph_content(fresh), incremental)
    assert_same_graph(incremental, full_reference(fresh, day2))


def test_merges_on_shared_end_nodes_run_in_one_session(fresh, days, tmp_path, monkeypatch):
    """Changed USED_TEMPLATE / USED_CLIENT rows are MERGEd in one session (two deadlocked on a
    popular template in every daily load); LINKED merges keep two sessions."""
    day1, day2 = days
    snap = tmp_path / "snap"
    load(fresh, day1, snap)
    sessions: dict[str, int] = {}
    real = graph.run_batched

    def recording(driver, statement, rows, *, workers=1, **kw):
        sessions[statement] = workers
        return real(driver, statement, rows, workers=workers, **kw)

    monkeypatch.setattr(graph, "run_batched", recording)
    assert load(fresh, day2, snap).mode == "incremental"
    merged = {name: n for name, n in sessions.items() if name in graph.RELATIONSHIP_STATEMENTS}
    assert {"account_used_template", "links"} <= merged.keys(), sessions
    assert merged["account_used_template"] == 1 and merged.get("account_used_client", 1) == 1
    assert merged["links"] == graph.DEFAULT_WORKERS
    assert sessions["full/account_used_template"] == graph.DEFAULT_WORKERS  # new rows: CREATE, two sessions


def mutated(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Day-2 frames with an account gone (and everything about it), a membership moved, links
    dropped, an IP moved to another subnet, a payment method on another card, a property changed."""
    out = {name: frame.copy() for name, frame in frames.items()}
    gone = str(out["accounts"]["account_id"].iloc[0])
    for name, frame in out.items():
        for column in ("account_id", "account_a", "account_b"):
            if column in frame.columns:
                frame = frame[frame[column].astype(str) != gone]
        out[name] = frame.reset_index(drop=True)
    members = out["resolved_to"]
    entity_ids = members["entity_id"].astype(str).unique()
    members.loc[0, "entity_id"] = next(e for e in entity_ids if e != str(members.loc[0, "entity_id"]))
    out["links"] = out["links"].iloc[3:].reset_index(drop=True)
    ips, subnets = out["ips"], out["networks"]["subnet"].astype(str)
    ips.loc[0, "subnet"] = next(s for s in subnets if s != str(ips.loc[0, "subnet"]))
    pm, cards = out["payment_methods"], out["cards"]["card_fingerprint"].astype(str)
    first_card = str(pm.loc[0, "card_fingerprint"])
    pm.loc[0, "card_fingerprint"] = next(c for c in cards if c != first_card)
    out["prompt_templates"].loc[0, "n_exchanges"] = int(out["prompt_templates"].loc[0, "n_exchanges"]) + 1000
    return out


def test_changed_and_deleted_rows_are_replaced_not_accumulated(fresh, days, tmp_path):
    day1, day2 = days
    changed = mutated(day2)
    snap = tmp_path / "snap"
    load(fresh, day2, snap)
    report = load(fresh, changed, snap)
    assert report.mode == "incremental", report.full_reason
    assert report.stale_deleted > 0
    incremental = graph_content(fresh)
    with fresh.session() as session:
        moved = changed["resolved_to"].iloc[0]
        entities = session.run("MATCH (:Account {account_id: $a})-[:RESOLVED_TO]->(e) RETURN e.entity_id AS e",
                               a=str(moved["account_id"])).value("e")
    assert entities == [str(moved["entity_id"])]
    assert_same_graph(incremental, full_reference(fresh, changed))
    # and back to yesterday's frames (the account returns, everything moves back)
    load(fresh, changed, snap)
    back = load(fresh, day1, snap)
    assert back.mode == "incremental"
    assert_same_graph(graph_content(fresh), full_reference(fresh, day1))


def test_full_load_when_the_graph_marker_does_not_match(fresh, days, tmp_path, monkeypatch):
    day1, day2 = days
    snap = tmp_path / "snap"
    load(fresh, day1, snap)
    # someone edits the graph by hand: the marker still matches, so make it not match
    with fresh.session() as session:
        session.run("MATCH (a:Account) WITH a LIMIT 3 DETACH DELETE a").consume()
        session.run("MATCH (m:GraphLoad) SET m.frames_token = 'edited'").consume()
    report = load(fresh, day2, snap)
    assert report.mode == "full" and "marker" in report.full_reason
    assert_same_graph(graph_content(fresh), full_reference(fresh, day2))

    # a wiped graph (no marker at all) with the snapshot still there
    load(fresh, day1, snap)
    wipe_graph(fresh)
    report = load(fresh, day2, snap)
    assert report.mode == "full" and report.full_reason == "the graph carries no load marker"

    # another load format (a changed statement) never diffs against an old snapshot
    monkeypatch.setattr(graph, "FORMAT_VERSION", "test-other")
    report = load(fresh, day1, snap)
    assert report.mode == "full" and report.full_reason.startswith("load format changed")
    assert report.load_token.startswith("vtest-other-")

    # an interrupted load leaves a "loading:" marker: the next load is a full one
    monkeypatch.undo()
    load(fresh, day1, snap)
    with fresh.session() as session:
        session.run("MATCH (m:GraphLoad) SET m.frames_token = 'loading:' + m.frames_token").consume()
    assert load(fresh, day2, snap).mode == "full"


def test_analyst_decisions_survive_incremental_and_full_loads(fresh, days, tmp_path):
    day1, day2 = days
    snap = tmp_path / "snap"
    load(fresh, day2, snap)
    a, b = (str(x) for x in day2["accounts"]["account_id"].iloc[:2])
    entity = str(day2["resolved_to"]["entity_id"].iloc[0])
    org = str(day2["organizations"]["org_id"].iloc[0])
    fresh.execute_query(neo4j_client.load_cypher("decide_same_operator", folder="queries"),
                        account_a=a, account_b=b, analyst="t", note="n")
    fresh.execute_query(neo4j_client.load_cypher("decide_not_org", folder="queries"),
                        entity_id=entity, org_id=org, analyst="t", note="n")
    without_a = {name: frame for name, frame in mutated(day2).items()}
    assert a not in set(without_a["accounts"]["account_id"].astype(str))
    for frames, incremental in ((without_a, True), (day1, True), (day2, False), (without_a, False)):
        report = load(fresh, frames, snap, incremental=incremental)
        assert report.mode == ("incremental" if incremental else "full")
        counts, _ = graph_content(fresh)
        assert counts.get("SAME_OPERATOR") == 1 and counts.get("NOT_ORG") == 1
        # the pipeline's blocking check: a kept account is not counted as one of the load's
        assert graph.graph_counts(fresh, report.load_token) == graph.expected_counts(frames)


def test_mistyped_decisions_are_listed_and_survive_every_load(fresh, days, tmp_path):
    """Issue 27 (7): SAME_OPERATR, same_operator and a CONFIRMED_ORG drawn from the
    organization to the entity were ignored silently, and a full reload deleted them."""
    from pipelines import attribution

    day1, day2 = days
    snap = tmp_path / "snap"
    load(fresh, day2, snap)
    a, b, c = (str(x) for x in day2["accounts"]["account_id"].iloc[:3])
    entity = str(day2["resolved_to"]["entity_id"].iloc[0])
    org = str(day2["organizations"]["org_id"].iloc[0])
    for rel in ("SAME_OPERATR", "same_operator"):
        fresh.execute_query(f"MATCH (x:Account {{account_id: $a}}), (y:Account {{account_id: $b}}) CREATE (x)-[:{rel}]->(y)",
                            a=a, b=b if rel == "SAME_OPERATR" else c)
    fresh.execute_query("MATCH (o:Organization {org_id: $o}), (e:Entity {entity_id: $e}) CREATE (o)-[:CONFIRMED_ORG]->(e)",
                        o=org, e=entity)
    listed = attribution.unknown_relationships(fresh)
    assert sorted(zip(listed["type"], listed["from_label"], listed["to_label"])) == [
        ("CONFIRMED_ORG", "Organization", "Entity"), ("SAME_OPERATR", "Account", "Account"),
        ("same_operator", "Account", "Account")]
    assert f"{a} -> {b}" in listed.set_index("type").loc["SAME_OPERATR", "examples"]
    without_a = mutated(day2)
    assert a not in set(without_a["accounts"]["account_id"].astype(str))
    for frames, incremental in ((without_a, True), (day2, False), (without_a, False)):
        report = load(fresh, frames, snap, incremental=incremental)
        counts, _ = graph_content(fresh)
        assert counts.get("SAME_OPERATR") == 1 and counts.get("same_operator") == 1
        assert counts.get("CONFIRMED_ORG") == 1
        assert graph.graph_counts(fresh, report.load_token) == graph.expected_counts(frames)
    assert len(attribution.unknown_relationships(fresh)) == 3

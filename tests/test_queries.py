"""Every shipped query in ``graph_schema/queries/``: documented, parses, and returns rows.

Queries are run the way an analyst runs them in the Browser: the parameters are the
``:param name => value`` lines of the file's own header (evaluated by Neo4j), overridden only
by ids that exist in the hand-made graph.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import handmade_graph
from pipelines.attribution import KNOWN_RELATIONSHIPS
from pipelines import attribution
from pipelines.paths import GRAPH_SCHEMA_DIR

QUERY_DIR = GRAPH_SCHEMA_DIR / "queries"
#: the attribution steps run as one run, identified by this instant
RUN_AT = datetime(2026, 2, 10, tzinfo=timezone.utc)
QUERY_FILES = sorted(QUERY_DIR.glob("*.cypher"))
PARAM_LINE = re.compile(r"^//\s+:param (\w+) => (.+)$", re.MULTILINE)

#: stands for the rows the attribution rules decide from this run's evidence (computed when
#: the write steps are reached, as run_attribution does)
DECIDED = object()

# Run in this order (attribution steps first, then decisions, then the reading queries), each
# with the overrides that point it at the hand-made graph.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("attribution_org_networks", {}),
    ("attribution_read_organizations", {}),
    ("attribution_read_billing_names", {}),
    ("attribution_read_declared_orgs", {}),
    ("attribution_write_similar_billing_names", {"rows": [
        {"name_norm": "halcyon ltd reserch", "org_id": "org-halcyon", "similarity": 0.97, "matched": "Halcyon Research Ltd"}]}),
    ("attribution_write_declared_org", {"rows": [
        {"declared_org": "Acme Widgets", "org_id": "org-acme", "similarity": 1.0, "matched": "Acme Widgets"}]}),
    ("attribution_clear_candidates", {}),
    ("attribution_confirmed", {}),
    ("attribution_indicator_hits", {}),
    ("attribution_infra_usage", {}),
    ("attribution_write_candidates", {"rows": DECIDED}),
    ("attribution_write", {"rows": DECIDED}),
    ("attribution_delete_stale", {}),
    ("attribution_results", {}),
    ("decide_same_operator", {"account_a": "acc-c10", "account_b": "acc-f0"}),
    ("decide_not_same_operator", {"account_a": "acc-a0", "account_b": "acc-a1"}),
    ("decide_confirm_org", {"entity_id": "ent-solo", "org_id": "org-quillon"}),
    ("decide_not_org", {"entity_id": "ent-s01", "org_id": "org-northfield"}),
    ("read_account_decisions", {}),
    ("read_org_decisions", {}),
    # LINKED left out of the known list, so the hand-made graph's links are "unknown"
    ("unknown_relationships", {"known": [":".join(t) for t in KNOWN_RELATIONSHIPS if t[0] != "LINKED"]}),
    ("top_campaigns", {}),
    ("entity_dossier", {"entity_id": "ent-camp"}),
    ("entity_activity_by_week", {"entity_id": "ent-camp"}),
    ("entity_graph", {"entity_id": "ent-camp"}),
    ("why_same_entity", {"account_a": "acc-c10", "account_b": "acc-c21"}),
    ("shared_infrastructure", {"entity_a": "ent-camp", "entity_b": "ent-frag"}),
    ("account_bursts", {}),
    ("indicator_points_to", {"value": "192.0.2.10"}),
]


def _text(path: Path) -> str:
    return path.read_text()


def _statement(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def test_every_query_file_has_a_case_here() -> None:
    assert {p.stem for p in QUERY_FILES} == {name for name, _ in CASES}


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_query_header_documents_purpose_and_every_parameter(path: Path) -> None:
    text = _text(path)
    header = [line for line in text.splitlines() if line.startswith("//")]
    assert len(header) >= 2, f"{path.name}: header comment must say what the query is for"
    assert any("Parameters:" in line for line in header), f"{path.name}: no 'Parameters:' line"
    used = set(re.findall(r"\$(\w+)", _statement(text)))
    documented = {name for name, _ in PARAM_LINE.findall(text)}
    assert used == documented, f"{path.name}: parameters used {sorted(used)} vs ':param' lines {sorted(documented)}"
    without_strings = re.sub(r"'[^']*'", "''", _statement(text))
    assert ";" not in without_strings, f"{path.name}: one statement per file"


def _header_params(driver, text: str) -> dict[str, Any]:
    """Evaluate the header's ``:param`` values the way the Browser does (server-side)."""
    params = {}
    for name, expression in PARAM_LINE.findall(text):
        records, _, _ = driver.execute_query(f"RETURN {expression} AS value")
        params[name] = records[0]["value"]
    return params


@pytest.fixture(scope="module")
def query_results(neo4j_driver) -> dict[str, list[dict[str, Any]]]:
    """Run every case in order on the hand-made graph; results keyed by query name."""
    handmade_graph.build_graph(neo4j_driver)
    attribution.run_attribution(neo4j_driver)  # so the candidate / attribution steps have inputs
    results: dict[str, list[dict[str, Any]]] = {}
    decided: dict[str, list[dict[str, Any]]] = {}
    for name, overrides in CASES:
        text = _text(QUERY_DIR / f"{name}.cypher")
        if any(value is DECIDED for value in overrides.values()) and not decided:
            result = attribution.decide_on_graph(neo4j_driver, RUN_AT, attribution.AttributionSettings())
            decided["attribution_write_candidates"] = attribution._rows(result.candidates, list(result.candidates.columns))
            decided["attribution_write"] = attribution._rows(result.attributions, list(result.attributions.columns))
        overrides = {k: (decided[name] if v is DECIDED else v) for k, v in overrides.items()}
        params = {**_header_params(neo4j_driver, text), **overrides}
        if "updated_at" in params:
            params["updated_at"] = RUN_AT
        records, _, _ = neo4j_driver.execute_query(text, parameters_=params)
        results[name] = [r.data() for r in records]
    return results


@pytest.mark.neo4j
@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_query_parses(neo4j_driver, path: Path) -> None:
    text = _text(path)
    summary = neo4j_driver.execute_query("EXPLAIN " + text, parameters_=_header_params(neo4j_driver, text)).summary
    assert summary.plan is not None


@pytest.mark.neo4j
@pytest.mark.parametrize("name", sorted({n for n, _ in CASES}))
def test_query_returns_rows(query_results, name: str) -> None:
    assert query_results[name], f"{name} returned no rows on the hand-made graph"


@pytest.mark.neo4j
def test_attribution_steps_did_work(query_results) -> None:
    assert query_results["attribution_org_networks"][0]["addresses_in_org_networks"] >= 2
    assert len(query_results["attribution_indicator_hits"]) >= 5
    assert {r["entity_id"] for r in query_results["attribution_infra_usage"]} >= {"ent-camp", "ent-frag"}
    assert query_results["attribution_write_candidates"][0]["candidates"] >= 5
    attributed = {r["entity_id"]: r["org_id"] for r in query_results["attribution_results"]}
    assert attributed["ent-camp"] == "org-halcyon" and attributed["ent-frag"] == "org-halcyon"


@pytest.mark.neo4j
def test_investigation_queries_answer_the_question(query_results) -> None:
    top = query_results["top_campaigns"]
    assert [r["entity"] for r in top] == ["ent-camp", "ent-frag"]
    assert top[0]["org_id"] == "org-halcyon" and top[0]["attribution_confidence"] >= 0.9

    dossier = query_results["entity_dossier"][0]
    assert dossier["n_accounts"] == 40 and dossier["attributed_org"] == "org-halcyon"
    assert any(c.startswith("card-camp: 10 accounts here") for c in dossier["cards"])
    assert any("192.0.2.0/24 datacenter" in n for n in dossier["networks"])

    weeks = query_results["entity_activity_by_week"]
    assert [w["week"] for w in weeks] == handmade_graph.WEEKS
    assert all(w["active_accounts"] == 40 and w["coding"] > w["tool_use"] for w in weeks)

    hops = query_results["why_same_entity"]
    assert [(h["from_account"], h["to_account"]) for h in hops] == [("acc-c10", "acc-c11"), ("acc-c11", "acc-c21")]
    assert any(v.startswith("card card-camp (11") for v in hops[0]["shared_values"])
    assert all(h["same_entity"] for h in hops)

    shared = {(r["kind"], r["value"]) for r in query_results["shared_infrastructure"]}
    assert ("card", "card-camp") in shared and ("template", "tpl-camp [reasoning]") in shared

    bursts = query_results["account_bursts"]
    assert bursts[0]["created"] == 40 and bursts[0]["entities"] == 1
    assert bursts[1]["created"] == 30 and bursts[1]["entities"] == 30  # students: many people

    points = query_results["indicator_points_to"]
    assert {r["org_id"] for r in points} == {"org-halcyon"}

    assert ("same_operator", "acc-c10", "acc-f0") in {
        (r["kind"], r["account_a"], r["account_b"]) for r in query_results["read_account_decisions"]
    }


@pytest.mark.neo4j
def test_indicator_points_to_listed_domain_and_org_network(neo4j_driver, query_results) -> None:
    text = _text(QUERY_DIR / "indicator_points_to.cypher")
    for value, via in [("halcyon-research.example", "listed email domain"), ("198.51.100.7", "organization network")]:
        records, _, _ = neo4j_driver.execute_query(text, value=value)
        assert any(r["org_id"] == "org-halcyon" and via in r["via"] for r in records), value


# ----------------------------------------------------------------------------- the Browser guide


def test_guide_is_generated_from_the_current_queries() -> None:
    from pipelines import browser_guide

    assert browser_guide.GUIDE_FILE.read_text() == browser_guide.guide_html(), (
        "graph_schema/guide/sybilgraph.html is stale: run `sybilgraph guide write`"
    )


def test_guide_shows_every_investigation_and_decision_query() -> None:
    from pipelines import browser_guide

    shown = {name for slide in browser_guide.SLIDES for name in slide.queries}
    wanted = {p.stem for p in QUERY_FILES if not p.stem.startswith("attribution_")}
    assert wanted <= shown, f"queries missing from the guide: {sorted(wanted - shown)}"
    html = browser_guide.guide_html()
    assert html.count("<slide") == len(browser_guide.SLIDES)
    # integer parameters as ':param x => 20' (evaluated by Cypher), never ':params {...}' (floats)
    assert ":param limit =&gt; 20" in html and ":params {" not in html


def test_guide_server_answers_the_browser_preflight_and_serves_the_guide() -> None:
    import http.client
    import socket

    from pipelines import browser_guide

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = browser_guide.start_guide_server(port)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("OPTIONS", "/sybilgraph.html", headers={
            "Origin": "http://127.0.0.1:7474", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "cache-control,pragma"})
        preflight = conn.getresponse()
        preflight.read()
        assert preflight.status == 204
        assert preflight.getheader("Access-Control-Allow-Origin") == "*"
        assert preflight.getheader("Access-Control-Allow-Headers") == "*"
        conn.request("GET", "/sybilgraph.html")
        page = conn.getresponse()
        assert page.status == 200 and page.getheader("Access-Control-Allow-Origin") == "*"
        assert b"<slide" in page.read()
    finally:
        server.shutdown()
    assert browser_guide.play_command(port) == f":play http://localhost:{port}/sybilgraph.html"

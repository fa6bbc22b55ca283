"""Attribution: fuzzy legal names (pure), and the graph attribution on a real Neo4j.

The graph is the hand-made one in ``handmade_graph.py``, loaded with the real load statements.
The rules themselves are tested without a server in ``test_attribution_rules.py``; that the
graph's attribution equals entities.csv's on a generated world, in ``test_attribution_graph.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

import handmade_graph
from pipelines import attribution

ORGS = pd.DataFrame(handmade_graph.ORGANIZATIONS)


# ----------------------------------------------------------------------------- pure


def test_comparison_key_drops_legal_forms_and_sorts_tokens() -> None:
    keys = attribution.comparison_key(pd.Series(["Halcyon Research Ltd.", "RESEARCH HALCYON limited", None]))
    assert keys.iloc[0] == keys.iloc[1] == "halcyon research"
    assert pd.isna(keys.iloc[2])


def test_similar_billing_names_finds_typos_and_legal_form_variants_only() -> None:
    names = pd.DataFrame({"name_norm": [
        "halcyon ltd reserch",          # typo of the legal name
        "halcyon limited research",     # another legal form
        "ai halcyon",                   # alias
        "dunmore trading co",           # a shell company: must not match
        "j smith",                      # a person
        "halcyon",                      # a bare word: too little to be the legal name
    ]})
    found = attribution.similar_billing_names(names, ORGS, min_similarity=0.86)
    by_name = found.set_index("name_norm")
    assert set(by_name.index) == {"halcyon ltd reserch", "halcyon limited research", "ai halcyon"}
    assert (by_name["org_id"] == "org-halcyon").all()
    assert by_name.loc["halcyon limited research", "similarity"] == 1.0
    assert 0.86 <= by_name.loc["halcyon ltd reserch", "similarity"] < 1.0
    assert by_name.loc["halcyon ltd reserch", "matched"] == "Halcyon Research Ltd"


def test_similar_billing_names_keeps_one_row_per_name_and_org() -> None:
    names = pd.DataFrame({"name_norm": ["quillon systems", "quillon systems"]})
    found = attribution.similar_billing_names(names, ORGS)
    assert len(found) == 1 and found.iloc[0]["org_id"] == "org-quillon"


def test_similar_billing_names_empty_inputs() -> None:
    empty = attribution.similar_billing_names(pd.DataFrame({"name_norm": pd.Series([], dtype="string")}), ORGS)
    assert list(empty.columns) == ["name_norm", "org_id", "similarity", "matched"] and empty.empty
    no_orgs = attribution.similar_billing_names(pd.DataFrame({"name_norm": ["acme widgets"]}), ORGS.iloc[0:0])
    assert no_orgs.empty


def test_similar_declared_orgs_matches_names_and_aliases() -> None:
    declared = pd.DataFrame({"declared_org": ["Acme Widgets", "northfield university", "HalcyonLabs", "Freelance"]})
    found = attribution.similar_declared_orgs(declared, ORGS).set_index("declared_org")["org_id"].to_dict()
    assert found == {"Acme Widgets": "org-acme", "northfield university": "org-northfield", "HalcyonLabs": "org-halcyon"}


# ----------------------------------------------------------------------------- on Neo4j


@pytest.fixture()
def graph(neo4j_driver):
    """A freshly loaded hand-made graph for each test (tests change it)."""
    handmade_graph.build_graph(neo4j_driver)
    return neo4j_driver


def _attributed(frame: pd.DataFrame) -> dict[str, str]:
    return frame.set_index("entity_id")["org_id"].to_dict()


def _candidates(driver, entity_id: str) -> dict[str, float]:
    records, _, _ = driver.execute_query(
        "MATCH (:Entity {entity_id: $e})-[c:CANDIDATE_ORG]->(o) RETURN o.org_id AS org, c.direct_logodds AS d",
        e=entity_id,
    )
    return {r["org"]: r["d"] for r in records}


@pytest.mark.neo4j
def test_attribution_picks_the_right_organizations(graph) -> None:
    result = attribution.run_attribution(graph)
    assert list(result.columns) == attribution.ATTRIBUTION_COLUMNS
    attributed = _attributed(result)
    assert attributed["ent-camp"] == "org-halcyon"
    assert attributed["ent-lab"] == "org-northfield"
    assert attributed["ent-acme"] == "org-acme"
    assert attributed["ent-quill"] == "org-quillon"
    # the fragment has no indicator of its own: the campaign's card and rented addresses carry it
    assert attributed["ent-frag"] == "org-halcyon"
    frag = result.set_index("entity_id").loc["ent-frag"]
    assert "infrastructure" in frag["method"] and any("card-camp" in e for e in frag["evidence"])
    # each student's one account carries the university's own domain and network: a member
    # of a 30-strong community, attributed to it, less surely than the research group
    students = result[result["entity_id"].str.startswith("ent-s") & (result["entity_id"] != "ent-solo")]
    assert set(students["org_id"]) == {"org-northfield"}
    by_entity = result.set_index("entity_id")
    assert students["confidence"].max() < by_entity.loc["ent-lab", "confidence"]
    # an individual has no indicator; the population's ordinary people neither
    assert "ent-solo" not in attributed and not any(e.startswith("ent-p") for e in attributed)
    assert result["confidence"].between(0.5, 1.0).all()


@pytest.mark.neo4j
def test_rare_lab_leak_outweighs_more_common_university_accounts(graph) -> None:
    attribution.run_attribution(graph)
    camp = _candidates(graph, "ent-camp")
    # four accounts on the university domain (shared with 36 others), one on the lab's own
    assert camp["org-halcyon"] > camp["org-northfield"] + 3.0
    records, _, _ = graph.execute_query(
        "MATCH (:Entity {entity_id: 'ent-camp'})-[r:ATTRIBUTED_TO]->() RETURN r.evidence AS ev, r.runner_up AS ru"
    )
    evidence = " | ".join(records[0]["ev"])
    assert "halcyon-research.example: 1 of the 1 accounts" in evidence
    assert "similarity" in evidence  # the billing-name typo matched fuzzily
    assert records[0]["ru"].startswith("org-northfield")


@pytest.mark.neo4j
def test_analyst_decisions_are_respected_and_survive_reruns(graph) -> None:
    attribution.record_org_decision(graph, "not_org", "ent-camp", "org-halcyon", analyst="ana", note="test")
    attribution.record_org_decision(graph, "confirmed_org", "ent-solo", "org-quillon", analyst="ana")
    for _ in range(2):
        attributed = _attributed(attribution.run_attribution(graph))
        assert attributed.get("ent-camp") != "org-halcyon"
        # the indicators still point there (the analyst sees what they overrode), yet no attribution
        assert "org-halcyon" in _candidates(graph, "ent-camp")
        assert attributed["ent-solo"] == "org-quillon"
    solo = attribution.read_attributions(graph).set_index("entity_id").loc["ent-solo"]
    assert solo["confidence"] == 1.0 and solo["method"] == "analyst"
    assert solo["evidence"][0].startswith("analyst: CONFIRMED_ORG by ana")
    decisions = attribution.read_org_decisions(graph)
    assert sorted(zip(decisions["kind"], decisions["entity_id"], decisions["org_id"])) == [
        ("confirmed_org", "ent-solo", "org-quillon"), ("not_org", "ent-camp", "org-halcyon"),
    ]
    # changing one's mind replaces the earlier decision instead of contradicting it
    attribution.record_org_decision(graph, "confirmed_org", "ent-camp", "org-halcyon", analyst="ana")
    decisions = attribution.read_org_decisions(graph)
    assert ("not_org", "ent-camp") not in set(zip(decisions["kind"], decisions["entity_id"]))
    assert _attributed(attribution.run_attribution(graph))["ent-camp"] == "org-halcyon"


@pytest.mark.neo4j
def test_stale_attributions_are_replaced_not_accumulated(graph) -> None:
    first = datetime(2026, 2, 1, tzinfo=timezone.utc)
    attribution.run_attribution(graph, updated_at=first)
    # Acme's indicators disappear (accounts closed their payment methods, domain unlisted)
    graph.execute_query(
        "MATCH (o:Organization {org_id: 'org-acme'}) "
        "SET o.billing_names = null, o.name = 'Zed', o.email_domains = null "
        "WITH o MATCH (o)-[u:USES_DOMAIN]->() DELETE u"
    )
    second = first + timedelta(days=1)
    result = attribution.run_attribution(graph, updated_at=second)
    assert "ent-acme" not in _attributed(result)
    records, _, _ = graph.execute_query(
        "MATCH ()-[r:ATTRIBUTED_TO|SIMILAR_BILLING_NAME|IN_ORG_NETWORK|DECLARED_ORG_MATCHES|CANDIDATE_ORG]->() "
        "RETURN DISTINCT r.updated_at AS at"
    )
    assert [r["at"].to_native() for r in records] == [second]
    records, _, _ = graph.execute_query(
        "MATCH (e:Entity) RETURN max(COUNT { (e)-[:ATTRIBUTED_TO]->() }) AS most_per_entity"
    )
    assert records[0]["most_per_entity"] == 1
    records, _, _ = graph.execute_query("MATCH ()-[r]->() WHERE r.updated_at = $t RETURN count(r) AS n", t=first)
    assert records[0]["n"] == 0


def _attribution_state(driver) -> list[tuple]:
    records, _, _ = driver.execute_query(
        "MATCH (s)-[r:ATTRIBUTED_TO|CANDIDATE_ORG|SIMILAR_BILLING_NAME|DECLARED_ORG_MATCHES|IN_ORG_NETWORK]->(o) "
        "RETURN elementId(s) AS s, type(r) AS t, elementId(o) AS o, r.updated_at AS at ORDER BY s, t, o"
    )
    return [tuple(r.values()) for r in records]


@pytest.mark.neo4j
def test_a_failed_attribution_leaves_the_previous_one_untouched(graph, monkeypatch) -> None:
    """All steps share one transaction: a failure half-way writes nothing (no half attribution)."""
    attribution.run_attribution(graph, updated_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
    before = _attribution_state(graph)
    assert any(t == "ATTRIBUTED_TO" for _, t, _, _ in before)
    real_text = attribution.query_text

    def failing_after_the_first_write(name: str) -> str:
        # by then the candidates are cleared and the confirmed attributions rewritten
        return "RETURN 1 / 0 AS boom" if name == "attribution_infra_usage" else real_text(name)

    monkeypatch.setattr(attribution, "query_text", failing_after_the_first_write)
    with pytest.raises(Exception, match="(?i)division by zero|/ by zero"):
        attribution.run_attribution(graph, updated_at=datetime(2026, 2, 2, tzinfo=timezone.utc))
    assert _attribution_state(graph) == before


@pytest.mark.neo4j
def test_account_decisions_read_back_for_resolution(graph) -> None:
    attribution.record_account_decision(graph, "same_operator", "acc-f0", "acc-c10", analyst="ana", note="card")
    attribution.record_account_decision(graph, "not_same_operator", "acc-a1", "acc-a0", analyst="ana")
    decisions = attribution.read_analyst_decisions(graph)
    assert list(decisions.columns) == attribution.ACCOUNT_DECISION_COLUMNS
    assert sorted(zip(decisions["kind"], decisions["account_a"], decisions["account_b"])) == [
        ("not_same_operator", "acc-a0", "acc-a1"), ("same_operator", "acc-c10", "acc-f0"),
    ]
    assert isinstance(decisions["decided_at"].iloc[0], datetime)
    # the analyst changes their mind: the pair is split now, and only that decision remains
    attribution.record_account_decision(graph, "not_same_operator", "acc-c10", "acc-f0", analyst="bo")
    decisions = attribution.read_analyst_decisions(graph)
    assert sorted(zip(decisions["kind"], decisions["account_a"])) == [
        ("not_same_operator", "acc-a0"), ("not_same_operator", "acc-c10"),
    ]
    # a load or attribution run never removes decisions
    attribution.run_attribution(graph)
    assert len(attribution.read_analyst_decisions(graph)) == 2
    with pytest.raises(LookupError):
        attribution.record_account_decision(graph, "same_operator", "acc-c10", "no-such-account")
    with pytest.raises(ValueError):
        attribution.record_account_decision(graph, "maybe", "acc-c10", "acc-f0")

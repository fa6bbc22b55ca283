"""The graph schema: constraint files, the Cypher loader, and idempotent `schema apply`."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import Neo4jServer

from pipelines import neo4j_client
from pipelines.cli import main
from pipelines.paths import GRAPH_SCHEMA_DIR

# The graph model's node keys (graph_schema/README.md); the loader MERGEs on exactly these.
NODE_KEYS = {
    ("Account", "account_id"), ("PaymentMethod", "payment_method_id"), ("Card", "fingerprint"),
    ("CardBin", "bin"), ("BillingName", "name_norm"), ("EmailDomain", "domain"), ("IP", "address"),
    ("Subnet", "cidr"), ("ASN", "asn"), ("UserAgent", "ua"), ("PromptTemplate", "template_id"),
    ("Entity", "entity_id"), ("Organization", "org_id"), ("PipelineRun", "run_id"),
}
RANGE_INDEXES = {("Account", "created_at"), ("Entity", "is_campaign"), ("Entity", "campaign_score")}


def test_every_schema_file_is_one_idempotent_statement_named_like_its_file() -> None:
    statements = neo4j_client.schema_statements()
    assert len(statements) == len(NODE_KEYS) + len(RANGE_INDEXES)
    for name, text in statements:
        assert ";" not in text, name
        assert re.match(rf"CREATE (CONSTRAINT|INDEX) {name} IF NOT EXISTS\b", text), name


def test_load_cypher_finds_files_by_folder_or_unique_name() -> None:
    text = neo4j_client.load_cypher("account_account_id_unique", folder="constraints")
    assert text == neo4j_client.load_cypher("constraints/account_account_id_unique")
    assert text == neo4j_client.load_cypher("account_account_id_unique")
    with pytest.raises(FileNotFoundError, match="no Cypher file"):
        neo4j_client.load_cypher("no_such_statement", folder="constraints")
    with pytest.raises(FileNotFoundError, match="exactly one"):
        neo4j_client.load_cypher("no_such_statement")


def test_readme_documents_every_label_and_relationship_type() -> None:
    readme = (GRAPH_SCHEMA_DIR / "README.md").read_text()
    assert "```mermaid" in readme
    for label, key in NODE_KEYS:
        assert f"{label}" in readme and key in readme, label
    for rel in ("HAS_PAYMENT_METHOD", "USES_CARD", "HAS_BIN", "BILLED_TO", "HAS_EMAIL_DOMAIN",
                "USED_IP", "IN_SUBNET", "IN_ASN", "USED_CLIENT", "USED_TEMPLATE", "LINKED",
                "RESOLVED_TO", "ATTRIBUTED_TO", "OWNS_ASN", "USES_DOMAIN", "SIMILAR_BILLING_NAME",
                "SAME_OPERATOR", "NOT_SAME_OPERATOR", "CONFIRMED_ORG", "NOT_ORG"):
        assert f":{rel}" in readme, rel


def _schema_snapshot(server: Neo4jServer) -> tuple[list[dict], list[dict]]:
    constraints, _, _ = server.driver.execute_query(
        "SHOW CONSTRAINTS YIELD id, name, type, entityType, labelsOrTypes, properties, ownedIndex "
        "RETURN * ORDER BY name")
    indexes, _, _ = server.driver.execute_query(
        "SHOW INDEXES YIELD id, name, state, type, entityType, labelsOrTypes, properties, owningConstraint "
        "RETURN * ORDER BY name")
    return [r.data() for r in constraints], [r.data() for r in indexes]


@pytest.mark.neo4j
def test_schema_apply_twice_leaves_the_same_constraints(neo4j_server: Neo4jServer) -> None:
    applied = neo4j_client.apply_schema(neo4j_server.driver)
    assert len(applied) == len(NODE_KEYS) + len(RANGE_INDEXES)
    constraints, indexes = _schema_snapshot(neo4j_server)

    env = {"NEO4J_URI": neo4j_server.uri, "NEO4J_USER": neo4j_server.user,
           "NEO4J_PASSWORD": neo4j_server.password}
    result = CliRunner().invoke(main, ["schema", "apply"], env=env)
    assert result.exit_code == 0, result.output
    assert f"Applied {len(applied)} schema statements" in result.output

    assert _schema_snapshot(neo4j_server) == (constraints, indexes)
    uniques = {(c["labelsOrTypes"][0], c["properties"][0]) for c in constraints
               if c["type"] == "UNIQUENESS"}
    assert NODE_KEYS <= uniques
    ranges = {(i["labelsOrTypes"][0], i["properties"][0]) for i in indexes
              if i["type"] == "RANGE" and i["owningConstraint"] is None}
    assert RANGE_INDEXES <= ranges
    assert all(i["state"] == "ONLINE" for i in indexes)


@pytest.mark.neo4j
def test_uniqueness_constraint_is_enforced(empty_neo4j: Neo4jServer) -> None:
    neo4j_client.apply_schema(empty_neo4j.driver)
    empty_neo4j.driver.execute_query("CREATE (:Account {account_id: 'acc-1'})")
    from neo4j.exceptions import ConstraintError

    with pytest.raises(ConstraintError):
        empty_neo4j.driver.execute_query("CREATE (:Account {account_id: 'acc-1'})")


def test_the_pipelines_relationship_types_are_spelt_the_same_everywhere() -> None:
    """A node holding any relationship the pipeline does not write is kept by every load
    (issue 27: a full reload deleted mistyped decisions). The list lives in graph.py and is
    spelt out in two load statements; every type a load or attribution statement writes is on
    it, and no analyst decision type is."""
    import re

    from pipelines.attribution import KNOWN_RELATIONSHIPS
    from pipelines.graph import PIPELINE_RELATIONSHIPS
    from pipelines.neo4j_client import cypher_path

    schema = cypher_path("wipe_nodes", folder="load").parent.parent
    for name in ("load/wipe_nodes.cypher", "load/delete/accounts.cypher"):
        text = (schema / name).read_text()
        lists = re.findall(r"NOT type\(r\) IN \[([^\]]*)\]", text)
        assert len(lists) == 1, name
        assert tuple(re.findall(r"'([A-Z_]+)'", lists[0])) == PIPELINE_RELATIONSHIPS, name
    written = set()
    for path in list((schema / "load").rglob("*.cypher")) + list((schema / "queries").glob("attribution_*.cypher")):
        written |= set(re.findall(r"(?:CREATE|MERGE) \([a-z]*\)-\[[a-z]*:([A-Z_]+)", path.read_text()))
    assert written <= set(PIPELINE_RELATIONSHIPS)
    decisions = {"SAME_OPERATOR", "NOT_SAME_OPERATOR", "CONFIRMED_ORG", "NOT_ORG"}
    assert not decisions & set(PIPELINE_RELATIONSHIPS)
    assert {t for t, _, _ in KNOWN_RELATIONSHIPS} <= set(PIPELINE_RELATIONSHIPS) | decisions

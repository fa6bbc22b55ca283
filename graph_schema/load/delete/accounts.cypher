// An account no longer in the frames (quarantined today, removed) leaves the graph, unless
// an analyst decided about it (or wrote anything else the pipeline does not): then the node
// stays, without its derived relationships and without load_token (it is no longer part of
// the load's accounts).
UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i]} AS row
MATCH (n:Account {account_id: row.account_id})
// decided: any relationship the pipeline does not write (graph.PIPELINE_RELATIONSHIPS), a
// mistyped decision included
WITH n, EXISTS { (n)-[r]-() WHERE NOT type(r) IN ['OWNS_ASN', 'USES_DOMAIN', 'IN_ASN', 'IN_SUBNET', 'USED_IP', 'HAS_EMAIL_DOMAIN', 'HAS_PAYMENT_METHOD', 'USES_CARD', 'HAS_BIN', 'BILLED_TO', 'USED_CLIENT', 'USED_TEMPLATE', 'RESOLVED_TO', 'LINKED', 'ATTRIBUTED_TO', 'CANDIDATE_ORG', 'IN_ORG_NETWORK', 'SIMILAR_BILLING_NAME', 'DECLARED_ORG_MATCHES'] } AS decided
FOREACH (_ IN CASE WHEN decided THEN [1] ELSE [] END | REMOVE n.load_token)
WITH n, decided
WHERE NOT decided
DETACH DELETE n

// Full load, after wipe_relationships: no derived relationship exists, so CREATE without the
// MERGE's existence check (rows are unique per key). Otherwise the same as ../account_email_domain.cypher.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (d:EmailDomain {domain: row.domain})
CREATE (a)-[r:HAS_EMAIL_DOMAIN]->(d)
SET r.load_token = $load_token

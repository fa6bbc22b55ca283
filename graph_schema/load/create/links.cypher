// Full load, after wipe_relationships: no derived relationship exists, so CREATE without the
// MERGE's existence check (rows are unique per key). Otherwise the same as ../links.cypher.
// Scored evidence between two accounts, stored once per pair (account_a < account_b).
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_a})
MATCH (b:Account {account_id: row.account_b})
CREATE (a)-[r:LINKED]->(b)
SET r.score = row.score, r.evidence = row.evidence, r.kinds = row.kinds, r.load_token = $load_token

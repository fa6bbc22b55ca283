// Full load only (see full/account_used_template.cypher): scored evidence between two accounts,
// once per pair (account_a < account_b).
UNWIND $rows AS row
MATCH (a) WHERE id(a) = row.a
MATCH (b) WHERE id(b) = row.b
CREATE (a)-[r:LINKED]->(b)
SET r.score = row.score, r.evidence = row.evidence, r.kinds = row.kinds, r.load_token = $load_token

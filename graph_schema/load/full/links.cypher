// Full load only (see full/account_used_template.cypher): scored evidence between two accounts,
// once per pair (account_a < account_b).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i], score: $rows.score[i], evidence: $rows.evidence[i], kinds: $rows.kinds[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (b) WHERE id(b) = row.b
CREATE (a)-[r:LINKED]->(b)
SET r.score = row.score, r.evidence = row.evidence, r.kinds = row.kinds

// Incremental load: MERGE between ends named by internal node id (see account_used_template.cypher).
// Scored evidence between two accounts, stored once per pair (account_a < account_b).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i], score: $rows.score[i], evidence: $rows.evidence[i], kinds: $rows.kinds[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (b) WHERE id(b) = row.b
MERGE (a)-[r:LINKED]->(b)
SET r.score = row.score, r.evidence = row.evidence, r.kinds = row.kinds

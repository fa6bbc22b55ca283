// Incremental load: MERGE between ends named by internal node id (see account_used_template.cypher).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (d) WHERE id(d) = row.b
MERGE (a)-[:HAS_EMAIL_DOMAIN]->(d)

// Full load only (see full/account_used_template.cypher).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (d) WHERE id(d) = row.b
CREATE (a)-[:HAS_EMAIL_DOMAIN]->(d)

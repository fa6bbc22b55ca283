// Full load only (see full/account_used_template.cypher).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], b: $rows.b[i]} AS row
MATCH (a) WHERE id(a) = row.a
MATCH (e) WHERE id(e) = row.b
CREATE (a)-[:RESOLVED_TO]->(e)

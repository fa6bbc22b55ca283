// Full load only (see full/account_used_template.cypher).
UNWIND $rows AS row
MATCH (a) WHERE id(a) = row.a
MATCH (d) WHERE id(d) = row.b
CREATE (a)-[r:HAS_EMAIL_DOMAIN]->(d)
SET r.load_token = $load_token

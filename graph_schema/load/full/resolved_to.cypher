// Full load only (see full/account_used_template.cypher).
UNWIND $rows AS row
MATCH (a) WHERE id(a) = row.a
MATCH (e) WHERE id(e) = row.b
CREATE (a)-[r:RESOLVED_TO]->(e)
SET r.load_token = $load_token

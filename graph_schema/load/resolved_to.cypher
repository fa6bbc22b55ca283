UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (e:Entity {entity_id: row.entity_id})
MERGE (a)-[r:RESOLVED_TO]->(e)
SET r.load_token = $load_token

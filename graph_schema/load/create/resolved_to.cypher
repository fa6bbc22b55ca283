// Full load, after wipe_relationships: no derived relationship exists, so CREATE without the
// MERGE's existence check (rows are unique per key). Otherwise the same as ../resolved_to.cypher.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (e:Entity {entity_id: row.entity_id})
CREATE (a)-[r:RESOLVED_TO]->(e)
SET r.load_token = $load_token

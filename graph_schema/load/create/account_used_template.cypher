// Full load, after wipe_relationships: no derived relationship exists, so CREATE without the
// MERGE's existence check (rows are unique per key). Otherwise the same as ../account_used_template.cypher.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (t:PromptTemplate {template_id: row.template_id})
CREATE (a)-[r:USED_TEMPLATE]->(t)
SET r.n = row.n, r.load_token = $load_token

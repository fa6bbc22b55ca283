UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (t:PromptTemplate {template_id: row.template_id})
MERGE (a)-[r:USED_TEMPLATE]->(t)
SET r.n = row.n, r.load_token = $load_token

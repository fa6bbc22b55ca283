UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (t:PromptTemplate {template_id: row.template_id})
SET t.example = row.example, t.task = row.task, t.n_accounts = row.n_accounts
MERGE (a)-[r:USED_TEMPLATE]->(t)
SET r.first_seen = row.first_seen, r.last_seen = row.last_seen, r.n = row.n,
    r.load_token = $load_token

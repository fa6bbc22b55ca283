UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (ua:UserAgent {ua: row.ua})
MERGE (a)-[r:USED_CLIENT]->(ua)
SET r.first_seen = row.first_seen, r.last_seen = row.last_seen, r.n = row.n, r.load_token = $load_token

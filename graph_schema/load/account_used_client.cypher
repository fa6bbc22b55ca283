UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (ua:UserAgent {ua: row.ua})
SET ua.family = row.family, ua.version = row.version, ua.n_accounts = row.n_accounts
MERGE (a)-[r:USED_CLIENT]->(ua)
SET r.first_seen = row.first_seen, r.last_seen = row.last_seen, r.n = row.n,
    r.load_token = $load_token

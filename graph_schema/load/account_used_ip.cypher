// Address usage keeps first/last seen and volume: the same IP in the same hour is strong,
// the same IP weeks apart is weak, and analysts need to see which.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (ip:IP {address: row.ip})
MERGE (a)-[r:USED_IP]->(ip)
SET r.first_seen = row.first_seen, r.last_seen = row.last_seen, r.n_events = row.n_events,
    r.load_token = $load_token

// Scored evidence between two accounts, stored once per pair (account_a < account_b).
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_a})
MATCH (b:Account {account_id: row.account_b})
MERGE (a)-[r:LINKED]->(b)
SET r.score = row.score, r.evidence = row.evidence, r.kinds = row.kinds, r.load_token = $load_token

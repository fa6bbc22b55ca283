UNWIND $rows AS row
MATCH (:Account {account_id: row.account_a})-[r:LINKED]->(:Account {account_id: row.account_b})
DELETE r

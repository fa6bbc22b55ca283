UNWIND $rows AS row
MATCH (:Account {account_id: row.account_id})-[r:USED_IP]->(:IP {address: row.ip})
DELETE r

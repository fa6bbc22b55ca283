UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i], ip: $rows.ip[i]} AS row
MATCH (:Account {account_id: row.account_id})-[r:USED_IP]->(:IP {address: row.ip})
DELETE r

UNWIND range(0, size($rows.account_a) - 1) AS i
WITH {account_a: $rows.account_a[i], account_b: $rows.account_b[i]} AS row
MATCH (:Account {account_id: row.account_a})-[r:LINKED]->(:Account {account_id: row.account_b})
DELETE r

UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i], ua: $rows.ua[i]} AS row
MATCH (:Account {account_id: row.account_id})-[r:USED_CLIENT]->(:UserAgent {ua: row.ua})
DELETE r

UNWIND $rows AS row
MATCH (:Account {account_id: row.account_id})-[r:USED_CLIENT]->(:UserAgent {ua: row.ua})
DELETE r

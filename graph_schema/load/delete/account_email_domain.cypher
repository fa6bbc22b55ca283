UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i], domain: $rows.domain[i]} AS row
MATCH (:Account {account_id: row.account_id})-[r:HAS_EMAIL_DOMAIN]->(:EmailDomain {domain: row.domain})
DELETE r

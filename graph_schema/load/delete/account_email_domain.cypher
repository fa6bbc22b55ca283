UNWIND $rows AS row
MATCH (:Account {account_id: row.account_id})-[r:HAS_EMAIL_DOMAIN]->(:EmailDomain {domain: row.domain})
DELETE r

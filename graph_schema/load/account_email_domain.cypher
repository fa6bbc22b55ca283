UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MATCH (d:EmailDomain {domain: row.domain})
MERGE (a)-[r:HAS_EMAIL_DOMAIN]->(d)
SET r.load_token = $load_token

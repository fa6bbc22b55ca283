UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (d:EmailDomain {domain: row.domain})
SET d.n_accounts = row.n_accounts, d.is_freemail = row.is_freemail, d.is_disposable = row.is_disposable
MERGE (a)-[r:HAS_EMAIL_DOMAIN]->(d)
SET r.load_token = $load_token

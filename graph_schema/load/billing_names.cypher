UNWIND $rows AS row
MERGE (n:BillingName {name_norm: row.billing_name_norm})
SET n.n_accounts = row.n_accounts

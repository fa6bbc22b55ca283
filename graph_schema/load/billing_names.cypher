UNWIND range(0, size($rows.billing_name_norm) - 1) AS i
WITH {billing_name_norm: $rows.billing_name_norm[i], n_accounts: $rows.n_accounts[i]} AS row
MERGE (n:BillingName {name_norm: row.billing_name_norm})
SET n.n_accounts = row.n_accounts

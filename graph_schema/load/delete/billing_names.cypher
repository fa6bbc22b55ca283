UNWIND $rows AS row
MATCH (n:BillingName {name_norm: row.billing_name_norm})
DETACH DELETE n

UNWIND range(0, size($rows.billing_name_norm) - 1) AS i
WITH {billing_name_norm: $rows.billing_name_norm[i]} AS row
MATCH (n:BillingName {name_norm: row.billing_name_norm})
DETACH DELETE n

UNWIND range(0, size($rows.payment_method_id) - 1) AS i
WITH {payment_method_id: $rows.payment_method_id[i]} AS row
MATCH (n:PaymentMethod {payment_method_id: row.payment_method_id})
DETACH DELETE n

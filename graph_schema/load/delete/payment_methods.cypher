UNWIND $rows AS row
MATCH (n:PaymentMethod {payment_method_id: row.payment_method_id})
DETACH DELETE n

// Before a changed payment-method row is written again: its account, card, BIN and billing
// name links go (the row may name others).
UNWIND range(0, size($rows.payment_method_id) - 1) AS i
WITH {payment_method_id: $rows.payment_method_id[i]} AS row
MATCH (pm:PaymentMethod {payment_method_id: row.payment_method_id})-[r:HAS_PAYMENT_METHOD|USES_CARD|HAS_BIN|BILLED_TO]-()
DELETE r

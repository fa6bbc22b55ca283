// Before a changed payment-method row is written again: its account, card, BIN and billing
// name links go (the row may name others).
UNWIND $rows AS row
MATCH (pm:PaymentMethod {payment_method_id: row.payment_method_id})-[r:HAS_PAYMENT_METHOD|USES_CARD|HAS_BIN|BILLED_TO]-()
DELETE r

// A payment method hangs off its account; card, BIN and billing name are shared nodes, so a
// value's degree is its rarity. Only fingerprint, BIN and last4 are stored: never a card number.
UNWIND $rows AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (pm:PaymentMethod {payment_method_id: row.payment_method_id})
SET pm += row.props
MERGE (a)-[r:HAS_PAYMENT_METHOD]->(pm)
SET r.load_token = $load_token
FOREACH (fp IN CASE WHEN row.card_fingerprint IS NULL THEN [] ELSE [row.card_fingerprint] END |
  MERGE (c:Card {fingerprint: fp})
  MERGE (pm)-[:USES_CARD]->(c))
FOREACH (b IN CASE WHEN row.card_bin IS NULL THEN [] ELSE [row.card_bin] END |
  MERGE (cb:CardBin {bin: b})
  MERGE (pm)-[:HAS_BIN]->(cb))
FOREACH (bn IN CASE WHEN row.billing_name_norm IS NULL THEN [] ELSE [row.billing_name_norm] END |
  MERGE (n:BillingName {name_norm: bn})
  MERGE (pm)-[:BILLED_TO]->(n))

// A payment method hangs off its account and points at its card, BIN and billing name.
UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i], payment_method_id: $rows.payment_method_id[i], props: $rows.props[i], added_at_us: $rows.added_at_us[i], card_fingerprint: $rows.card_fingerprint[i], card_bin: $rows.card_bin[i], billing_name_norm: $rows.billing_name_norm[i]} AS row
MATCH (a:Account {account_id: row.account_id})
MERGE (pm:PaymentMethod {payment_method_id: row.payment_method_id})
SET pm += row.props, pm.load_token = $load_token,
    pm.added_at = CASE WHEN row.added_at_us IS NULL THEN null ELSE datetime({epochSeconds: row.added_at_us / 1000000, nanosecond: row.added_at_us % 1000000 * 1000, timezone: 'UTC'}) END
MERGE (a)-[:HAS_PAYMENT_METHOD]->(pm)
WITH pm, row
OPTIONAL MATCH (c:Card {fingerprint: row.card_fingerprint})
OPTIONAL MATCH (b:CardBin {bin: row.card_bin})
OPTIONAL MATCH (n:BillingName {name_norm: row.billing_name_norm})
FOREACH (x IN CASE WHEN c IS NULL THEN [] ELSE [c] END | MERGE (pm)-[:USES_CARD]->(x))
FOREACH (x IN CASE WHEN b IS NULL THEN [] ELSE [b] END | MERGE (pm)-[:HAS_BIN]->(x))
FOREACH (x IN CASE WHEN n IS NULL THEN [] ELSE [n] END | MERGE (pm)-[:BILLED_TO]->(x))

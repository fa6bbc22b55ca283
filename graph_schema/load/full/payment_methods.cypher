// Full load only (see full/account_used_template.cypher): the wipe removed every payment method,
// so each is CREATEd with its HAS_PAYMENT_METHOD edge; its account, card, BIN and billing name
// are named by internal id (a null id matches nothing, like the MERGE statement's OPTIONAL MATCH).
UNWIND range(0, size($rows.a) - 1) AS i
WITH {a: $rows.a[i], card: $rows.card[i], bin: $rows.bin[i], name: $rows.name[i], payment_method_id: $rows.payment_method_id[i], props: $rows.props[i], added_at_us: $rows.added_at_us[i]} AS row
MATCH (a) WHERE id(a) = row.a
OPTIONAL MATCH (c) WHERE id(c) = row.card
OPTIONAL MATCH (b) WHERE id(b) = row.bin
OPTIONAL MATCH (n) WHERE id(n) = row.name
CREATE (a)-[:HAS_PAYMENT_METHOD]->(pm:PaymentMethod {payment_method_id: row.payment_method_id})
SET pm += row.props, pm.load_token = $load_token,
    pm.added_at = CASE WHEN row.added_at_us IS NULL THEN null ELSE datetime({epochSeconds: row.added_at_us / 1000000, nanosecond: row.added_at_us % 1000000 * 1000, timezone: 'UTC'}) END
FOREACH (x IN CASE WHEN c IS NULL THEN [] ELSE [c] END | CREATE (pm)-[:USES_CARD]->(x))
FOREACH (x IN CASE WHEN b IS NULL THEN [] ELSE [b] END | CREATE (pm)-[:HAS_BIN]->(x))
FOREACH (x IN CASE WHEN n IS NULL THEN [] ELSE [n] END | CREATE (pm)-[:BILLED_TO]->(x))

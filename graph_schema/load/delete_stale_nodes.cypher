// Accounts and payment methods an earlier load wrote and this one did not (an account whose
// row is quarantined today, a payment method removed) leave the graph, so the graph always
// equals the latest frames. An account an analyst decided about is kept, without its derived
// relationships (already removed as stale): the decision must survive.
MATCH (n)
WHERE (n:Account OR n:PaymentMethod) AND n.load_token IS NOT NULL AND n.load_token <> $load_token
  AND NOT (n)-[:SAME_OPERATOR|NOT_SAME_OPERATOR]-()
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS

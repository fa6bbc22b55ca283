// Relationships derived by an earlier load and not re-derived by this one are stale: a
// membership or evidence that changed must be replaced, not accumulated. Analyst decisions
// (SAME_OPERATOR, NOT_SAME_OPERATOR, CONFIRMED_ORG, NOT_ORG) carry no load_token: never touched.
MATCH ()-[r:RESOLVED_TO|LINKED|USED_IP|USED_CLIENT|USED_TEMPLATE|HAS_EMAIL_DOMAIN|HAS_PAYMENT_METHOD]->()
WHERE r.load_token IS NOT NULL AND r.load_token <> $load_token
CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS

// Analysts' account-level decisions, as must-link (same_operator) and cannot-link
// (not_same_operator) constraints for the resolution core.
// Parameters: none
MATCH (x:Account)-[d:SAME_OPERATOR|NOT_SAME_OPERATOR]->(y:Account)
RETURN CASE type(d) WHEN 'SAME_OPERATOR' THEN 'same_operator' ELSE 'not_same_operator' END AS kind,
       x.account_id AS account_a, y.account_id AS account_b,
       d.analyst AS analyst, d.note AS note, d.decided_at AS decided_at
ORDER BY kind, account_a, account_b

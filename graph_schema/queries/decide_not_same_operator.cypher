// Analyst decision: accounts A and B are NOT run by the same operator (a cannot-link for the
// next resolution run: they end up in different entities). Replaces an earlier SAME_OPERATOR
// between the same two accounts (the analyst changed their mind); never deleted by the pipeline.
// Parameters: $account_a, $account_b, $analyst, $note
//   :param account_a => 'acc-000001'
//   :param account_b => 'acc-000002'
//   :param analyst => 'jdoe'
//   :param note => 'flatmates sharing a card, separate people'
MATCH (x:Account {account_id: CASE WHEN $account_a < $account_b THEN $account_a ELSE $account_b END})
MATCH (y:Account {account_id: CASE WHEN $account_a < $account_b THEN $account_b ELSE $account_a END})
WHERE x <> y
OPTIONAL MATCH (x)-[contradiction:SAME_OPERATOR]-(y)
DELETE contradiction
MERGE (x)-[d:NOT_SAME_OPERATOR]->(y)
SET d.analyst = $analyst, d.note = $note, d.decided_at = datetime()
RETURN x.account_id AS account_a, y.account_id AS account_b, type(d) AS decision, d.decided_at AS decided_at

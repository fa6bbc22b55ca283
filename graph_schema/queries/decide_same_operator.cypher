// Analyst decision: accounts A and B are run by the same operator (a must-link for the next
// resolution run). Stored once per pair, lower account id first; never deleted by the pipeline.
// Parameters: $account_a, $account_b, $analyst, $note
//   :param account_a => 'acc-000001'
//   :param account_b => 'acc-000002'
//   :param analyst => 'jdoe'
//   :param note => 'same card and same template, confirmed by billing contact'
MATCH (x:Account {account_id: CASE WHEN $account_a < $account_b THEN $account_a ELSE $account_b END})
MATCH (y:Account {account_id: CASE WHEN $account_a < $account_b THEN $account_b ELSE $account_a END})
WHERE x <> y
OPTIONAL MATCH (x)-[contradiction:NOT_SAME_OPERATOR]-(y)
DELETE contradiction
MERGE (x)-[d:SAME_OPERATOR]->(y)
SET d.analyst = $analyst, d.note = $note, d.decided_at = datetime()
RETURN x.account_id AS account_a, y.account_id AS account_b, type(d) AS decision, d.decided_at AS decided_at

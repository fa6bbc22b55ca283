// An account no longer in the frames (quarantined today, removed) leaves the graph, unless
// an analyst decided about it: then the node stays, without its derived relationships and
// without load_token (it is no longer part of the load's accounts).
UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i]} AS row
MATCH (n:Account {account_id: row.account_id})
WITH n, EXISTS { (n)-[:SAME_OPERATOR|NOT_SAME_OPERATOR]-() } AS decided
FOREACH (_ IN CASE WHEN decided THEN [1] ELSE [] END | REMOVE n.load_token)
WITH n, decided
WHERE NOT decided
DETACH DELETE n

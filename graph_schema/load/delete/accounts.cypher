// An account no longer in the frames (quarantined today, removed) leaves the graph, unless
// an analyst decided about it: then the node stays (its derived relationships are gone).
UNWIND $rows AS row
MATCH (n:Account {account_id: row.account_id})
WHERE NOT (n)-[:SAME_OPERATOR|NOT_SAME_OPERATOR]-()
DETACH DELETE n

// A membership that changed is replaced, not accumulated: the old one goes here.
UNWIND range(0, size($rows.account_id) - 1) AS i
WITH {account_id: $rows.account_id[i], entity_id: $rows.entity_id[i]} AS row
MATCH (:Account {account_id: row.account_id})-[r:RESOLVED_TO]->(:Entity {entity_id: row.entity_id})
DELETE r

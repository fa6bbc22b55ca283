// A membership that changed is replaced, not accumulated: the old one goes here.
UNWIND $rows AS row
MATCH (:Account {account_id: row.account_id})-[r:RESOLVED_TO]->(:Entity {entity_id: row.entity_id})
DELETE r

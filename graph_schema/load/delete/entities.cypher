// An entity no longer derived leaves the graph, unless an analyst decision hangs on it.
UNWIND $rows AS row
MATCH (n:Entity {entity_id: row.entity_id})
WHERE NOT (n)-[:CONFIRMED_ORG|NOT_ORG]->()
DETACH DELETE n

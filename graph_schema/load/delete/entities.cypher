// An entity no longer derived leaves the graph, unless an analyst decision hangs on it.
UNWIND range(0, size($rows.entity_id) - 1) AS i
WITH {entity_id: $rows.entity_id[i]} AS row
MATCH (n:Entity {entity_id: row.entity_id})
WHERE NOT (n)-[:CONFIRMED_ORG|NOT_ORG]->()
DETACH DELETE n

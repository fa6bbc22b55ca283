UNWIND range(0, size($rows.entity_id) - 1) AS i
WITH {entity_id: $rows.entity_id[i], props: $rows.props[i]} AS row
MERGE (e:Entity {entity_id: row.entity_id})
SET e += row.props

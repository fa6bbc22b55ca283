UNWIND $rows AS row
MERGE (e:Entity {entity_id: row.entity_id})
SET e += row.props

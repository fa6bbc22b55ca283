// Organizations gone from the reference table; one an analyst decision points at is kept.
UNWIND $rows AS row
MATCH (n:Organization {org_id: row.org_id})
WHERE NOT (n)<-[:CONFIRMED_ORG|NOT_ORG]-()
DETACH DELETE n

// Organizations gone from the reference table; one an analyst decision points at is kept.
UNWIND range(0, size($rows.org_id) - 1) AS i
WITH {org_id: $rows.org_id[i]} AS row
MATCH (n:Organization {org_id: row.org_id})
WHERE NOT (n)<-[:CONFIRMED_ORG|NOT_ORG]-()
DETACH DELETE n

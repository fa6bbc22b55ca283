UNWIND range(0, size($rows.org_id) - 1) AS i
WITH {org_id: $rows.org_id[i], domain: $rows.domain[i]} AS row
MATCH (o:Organization {org_id: row.org_id})
MERGE (d:EmailDomain {domain: row.domain})
MERGE (o)-[:USES_DOMAIN]->(d)

UNWIND $rows AS row
MATCH (o:Organization {org_id: row.org_id})
MERGE (d:EmailDomain {domain: row.domain})
MERGE (o)-[:USES_DOMAIN]->(d)

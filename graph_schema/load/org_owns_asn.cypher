UNWIND $rows AS row
MATCH (o:Organization {org_id: row.org_id})
MERGE (n:ASN {asn: row.asn})
SET n.as_name = coalesce(row.as_name, n.as_name)
MERGE (o)-[:OWNS_ASN]->(n)

UNWIND $rows AS row
MATCH (o:Organization {org_id: row.org_id})
MERGE (n:ASN {asn: row.asn})
MERGE (o)-[:OWNS_ASN]->(n)

UNWIND range(0, size($rows.org_id) - 1) AS i
WITH {org_id: $rows.org_id[i], asn: $rows.asn[i], as_name: $rows.as_name[i]} AS row
MATCH (o:Organization {org_id: row.org_id})
MERGE (n:ASN {asn: row.asn})
SET n.as_name = coalesce(row.as_name, n.as_name)
MERGE (o)-[:OWNS_ASN]->(n)

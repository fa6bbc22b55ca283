// Subnets and ASNs seen in the logs, with the reference data's network type.
UNWIND range(0, size($rows.subnet) - 1) AS i
WITH {subnet: $rows.subnet[i], network_type: $rows.network_type[i], asn: $rows.asn[i], as_name: $rows.as_name[i]} AS row
MERGE (s:Subnet {cidr: row.subnet})
SET s.network_type = row.network_type
FOREACH (asn IN CASE WHEN row.asn IS NULL THEN [] ELSE [row.asn] END |
  MERGE (n:ASN {asn: asn})
  SET n.as_name = row.as_name
  MERGE (s)-[:IN_ASN]->(n))

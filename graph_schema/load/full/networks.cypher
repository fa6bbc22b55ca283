// Full load only (see full/account_used_template.cypher): the wipe removed every Subnet, so
// each is CREATEd; its ASN (made by full/asns) is named by internal id (null: no ASN).
UNWIND range(0, size($rows.subnet) - 1) AS i
WITH {subnet: $rows.subnet[i], network_type: $rows.network_type[i], asn: $rows.asn[i]} AS row
CREATE (s:Subnet {cidr: row.subnet})
SET s.network_type = row.network_type
WITH s, row
WHERE row.asn IS NOT NULL
MATCH (n) WHERE id(n) = row.asn
CREATE (s)-[:IN_ASN]->(n)

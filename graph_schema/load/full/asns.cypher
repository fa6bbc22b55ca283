// Full load only, before full/networks: the ASNs the subnets name, one row per ASN (the last
// subnet row's AS name, what networks.cypher's per-row MERGE leaves). MERGE, not CREATE:
// org_owns_asn may already have made the node. A few dozen rows instead of a MERGE per subnet.
UNWIND range(0, size($rows.asn) - 1) AS i
WITH {asn: $rows.asn[i], as_name: $rows.as_name[i]} AS row
MERGE (n:ASN {asn: row.asn})
SET n.as_name = row.as_name

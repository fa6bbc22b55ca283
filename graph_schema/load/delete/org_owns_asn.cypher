UNWIND range(0, size($rows.org_id) - 1) AS i
WITH {org_id: $rows.org_id[i], asn: $rows.asn[i]} AS row
MATCH (:Organization {org_id: row.org_id})-[r:OWNS_ASN]->(:ASN {asn: row.asn})
DELETE r

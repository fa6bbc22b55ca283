UNWIND $rows AS row
MATCH (:Organization {org_id: row.org_id})-[r:OWNS_ASN]->(:ASN {asn: row.asn})
DELETE r

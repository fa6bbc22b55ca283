UNWIND range(0, size($rows.org_id) - 1) AS i
WITH {org_id: $rows.org_id[i], domain: $rows.domain[i]} AS row
MATCH (:Organization {org_id: row.org_id})-[r:USES_DOMAIN]->(:EmailDomain {domain: row.domain})
DELETE r

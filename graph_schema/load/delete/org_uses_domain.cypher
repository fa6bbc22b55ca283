UNWIND $rows AS row
MATCH (:Organization {org_id: row.org_id})-[r:USES_DOMAIN]->(:EmailDomain {domain: row.domain})
DELETE r

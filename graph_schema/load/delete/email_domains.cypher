UNWIND $rows AS row
MATCH (n:EmailDomain {domain: row.domain})
DETACH DELETE n

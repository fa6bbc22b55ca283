UNWIND range(0, size($rows.domain) - 1) AS i
WITH {domain: $rows.domain[i]} AS row
MATCH (n:EmailDomain {domain: row.domain})
DETACH DELETE n

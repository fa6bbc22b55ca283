UNWIND $rows AS row
MATCH (n:UserAgent {ua: row.ua})
DETACH DELETE n

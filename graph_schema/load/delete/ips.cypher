UNWIND $rows AS row
MATCH (n:IP {address: row.ip})
DETACH DELETE n
